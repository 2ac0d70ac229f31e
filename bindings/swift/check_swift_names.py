#!/usr/bin/env python3
"""Check that hand-written Swift calls only names the generated bindings (or Swift) have.

A rename in esr-ffi (a method, an argument label, a record field, an enum case) breaks the
XCTests and also the README's Swift examples, which no compiler sees. This check reports each
such use in seconds, with no Swift toolchain, before scripts/test-swift compiles the package:
it parses the generated `esr_ffi.swift` and the hand-written files with the tree-sitter Swift
grammar and fails on any name the hand-written files use as a member (`service.logOut`,
`.wrongCode`), a call (`parseUsername(`), an argument label (`session:`) or a type
(`EsrActor`) that is neither

- anywhere in the generated file,
- declared in the hand-written files themselves (their functions, types, properties,
  parameters and bound variables), nor
- one of the Swift, Foundation and XCTest names listed in SWIFT_NAMES below (extend the list
  when a test starts using another standard name).

It is not a type checker: a name that exists but is used on the wrong type passes.

Usage:
    check_swift_names.py GENERATED.swift FILE_OR_DIR...   check the hand-written files
    check_swift_names.py --self-test                       prove that a renamed call fails
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import tree_sitter_swift
from tree_sitter import Language, Node, Parser

from check_swift_syntax import prepare

# Standard names the hand-written Swift may use: the standard library, Foundation, Dispatch
# and XCTest. Only what the package's tests and Package.swift use; extend as needed.
SWIFT_NAMES = frozenset(
    """
    Any AnyObject Bool Character Data Date Double Error Int Int32 Int64 Never Optional Self
    Sendable Set StaticString String Substring UInt UInt8 UInt16 UInt32 UInt64 Void
    allSatisfy append contains count describing first filter format hasSuffix hasPrefix
    isEmpty isNumber last lowercased map reduce reversed separator sorted split uppercased
    utf8 description localizedDescription init self
    FileManager UUID uuidString default temporaryDirectory appendingPathComponent path
    createDirectory removeItem at withIntermediateDirectories withThrowingTaskGroup addTask
    url for in userDomainMask applicationSupportDirectory appropriateFor create
    addingTimeInterval timeIntervalSince1970 repeating
    NSLock lock unlock DispatchQueue concurrentPerform iterations
    Result success failure withTaskGroup addTask compactMap isMultiple min max reflecting
    distantPast distantFuture
    XCTestCase XCTAssert XCTAssertEqual XCTAssertNotEqual XCTAssertTrue XCTAssertFalse
    XCTAssertNil XCTAssertNotNil XCTAssertGreaterThan XCTAssertLessThan XCTAssertThrowsError XCTAssertNoThrow XCTFail XCTUnwrap
    setUp setUpWithError tearDown tearDownWithError file line filePath
    Package PackageDescription platforms iOS macOS v12 v15 products library targets
    binaryTarget target testTarget name path dependencies linkerSettings linkedFramework
    Target LinkerSetting systemLibrary linkedLibrary url checksum
    """.split()  # noqa: SIM905 (a word list reads better than a list of quoted strings)
)

# Where a name is declared rather than used.
DECLARING_PARENTS = frozenset(
    {
        "class_declaration",
        "protocol_declaration",
        "function_declaration",
        "parameter",
        "pattern",
        "lambda_parameter",
        "enum_entry",
        "typealias_declaration",
        "for_statement",
        "catch_block",
        "tuple_type_item",
        "value_binding_pattern",
    }
)


def _parser() -> Parser:
    return Parser(Language(tree_sitter_swift.language()))


def _nodes(root: Node) -> Iterator[Node]:
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.children))


def _text(node: Node) -> str:
    return node.text.decode("utf-8") if node.text else ""


def _tree(source: str, parser: Parser) -> Node:
    text, _, _ = prepare(source)
    return parser.parse(text.encode("utf-8")).root_node


def names_in(source: str, parser: Parser) -> set[str]:
    """Every identifier of a Swift file (the generated API: declarations, labels, cases)."""
    return {
        _text(n)
        for n in _nodes(_tree(source, parser))
        if n.type in ("simple_identifier", "type_identifier")
    }


def _is_member(node: Node) -> bool:
    """Whether a declaring name declares a member (not a local, a closure or loop variable)."""
    parent = node.parent
    if parent is None:
        return False
    if parent.type in ("pattern", "value_binding_pattern"):
        decl = parent.parent
        # A stored or computed property of a type, not a local `let`/`var`.
        return (
            decl is not None
            and decl.type == "property_declaration"
            and decl.parent is not None
            and decl.parent.type in ("class_body", "enum_class_body", "protocol_body")
        )
    return parent.type not in ("lambda_parameter", "for_statement", "catch_block")


def declared_in(root: Node) -> tuple[set[str], set[str]]:
    """The names a hand-written file declares: all of them, and those that are members
    (functions, types, properties, parameter labels, tuple labels), which alone may follow a
    dot or stand as an argument label."""
    declared, members = set(), set()
    for n in _nodes(root):
        if (
            n.type in ("simple_identifier", "type_identifier")
            and n.parent is not None
            and n.parent.type in DECLARING_PARENTS
        ):
            declared.add(_text(n))
            if _is_member(n):
                members.add(_text(n))
    return declared, members


def used_in(root: Node) -> list[tuple[Node, str, bool]]:
    """The names a hand-written file takes from elsewhere: where, the name, and whether it is
    used as a member (after a dot, or as an argument label)."""
    used = []
    for n in _nodes(root):
        parent = n.parent
        if parent is None:
            continue
        if n.type == "type_identifier" and parent.type not in DECLARING_PARENTS:
            used.append((n, _text(n), False))
        elif n.type == "simple_identifier":
            previous = n.prev_sibling
            if parent.type in ("navigation_suffix", "value_argument_label") or (
                previous is not None and previous.type == "."
            ):
                used.append((n, _text(n), True))
            elif parent.type == "call_expression" and n == parent.children[0]:
                used.append((n, _text(n), False))
    return used


def unknown_names(api: set[str], sources: dict[str, str], parser: Parser) -> list[str]:
    """`file:line:col: name` for each name used but known nowhere."""
    trees = {path: _tree(src, parser) for path, src in sources.items()}
    declared: set[str] = set()
    members: set[str] = set()
    for tree in trees.values():
        d, m = declared_in(tree)
        declared |= d
        members |= m
    known = api | declared | SWIFT_NAMES
    known_members = api | members | SWIFT_NAMES
    problems = []
    for path, tree in trees.items():
        for node, name, as_member in used_in(tree):
            if name not in (known_members if as_member else known):
                row, col = node.start_point
                problems.append(
                    f"{path}:{row + 1}:{col + 1}: '{name}' is not in the generated bindings"
                    " (renamed in esr-ffi?) nor a standard name this check knows"
                )
    return problems


def check(generated: str, paths: list[str]) -> int:
    """Checks every .swift file under `paths` except the generated one."""
    parser = _parser()
    gen = Path(generated)
    api = names_in(gen.read_text(encoding="utf-8"), parser)
    files: list[Path] = []
    for p in map(Path, paths):
        found = sorted(p.rglob("*.swift")) if p.is_dir() else [p]
        files.extend(
            f
            for f in found
            if f.resolve() != gen.resolve() and not {".build", ".swiftpm"} & set(f.parts)
        )
    sources = {str(f): f.read_text(encoding="utf-8") for f in files}
    problems = unknown_names(api, sources, parser)
    for problem in problems:
        print(problem)
    if problems:
        print(
            f"check_swift_names: {len(problems)} unknown name(s) in {len(files)} files; fix the"
            " Swift to match the regenerated bindings (or, for a standard Swift name, add it to"
            " SWIFT_NAMES in bindings/swift/check_swift_names.py)"
        )
        return 1
    print(f"check_swift_names: {len(files)} hand-written Swift files use only known names")
    return 0


API = """
public func parseUsername(text: String) throws -> UsernameParts { fatalError() }
public struct UsernameParts { public var username: String }
public enum VerifyStatus { case approved case wrongCode }
open class EsrService { open func logOut(session: EsrSession) throws {} }
"""

GOOD = """
import XCTest
final class T: XCTestCase {
    func testA() throws {
        let parts = try parseUsername(text: "x")
        XCTAssertEqual(parts.username, "X")
        let status: VerifyStatus = .wrongCode
        XCTAssertNotEqual(status, .approved)
        func helper(service: EsrService, session: EsrSession) throws {
            try service.logOut(session: session)
        }
    }
}
"""

# Each must be reported, naming this identifier.
BAD = [
    ("a renamed function", GOOD.replace("parseUsername(", "parseUserName("), "parseUserName"),
    ("a renamed argument label", GOOD.replace("(text:", "(input:"), "input"),
    ("a renamed field", GOOD.replace("parts.username", "parts.userName"), "userName"),
    ("a renamed enum case", GOOD.replace(".wrongCode", ".wrong"), "wrong"),
    (
        "a renamed type",
        GOOD.replace(": VerifyStatus", ": VerificationStatus"),
        "VerificationStatus",
    ),
    ("a renamed method", GOOD.replace("service.logOut(", "service.logout("), "logout"),
    (
        "a renamed field that a local variable happens to share",
        GOOD.replace("parts.username", "parts.userName").replace(
            "let parts", "let userName = 1\n        let parts"
        ),
        "userName",
    ),
]


def self_test() -> int:
    """Proves the check passes matching Swift and reports each kind of rename."""
    parser = _parser()
    api = names_in(API, parser)
    bad = 0
    found = unknown_names(api, {"good.swift": GOOD}, parser)
    print(f"  {'ok' if not found else 'FAILED':6} accepts Swift that matches the API {found}")
    bad += bool(found)
    for what, source, name in BAD:
        found = unknown_names(api, {"bad.swift": source}, parser)
        ok = any(f"'{name}'" in p for p in found)
        print(f"  {'ok' if ok else 'FAILED':6} reports {what}: {found[0] if found else 'nothing'}")
        bad += not ok
    if bad:
        print(f"check_swift_names self-test: {bad} case(s) failed")
        return 1
    print(f"check_swift_names self-test: {len(BAD) + 1} cases behave")
    return 0


def main(argv: list[str]) -> int:
    """Command-line entry point."""
    if argv == ["--self-test"]:
        return self_test()
    if len(argv) < 2 or any(a.startswith("-") for a in argv):
        print(__doc__, file=sys.stderr)
        return 2
    return check(argv[0], argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
