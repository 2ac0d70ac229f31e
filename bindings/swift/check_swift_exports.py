#!/usr/bin/env python3
"""Check that the XCTests call every function and method the generated bindings export.

The uniffi Python suite of esr-ffi fails when an export goes uncalled (its conftest wraps each
one and counts). Swift has no such hook, so this reads the two sides instead:

- the exports, from the generated `esr_ffi.swift` (uniffi's layout): the methods of each
  object's `<Object>Protocol`, each object's `public static func` and `public convenience
  init`, the top-level `public func`s (not uniffi's `FfiConverter…`/`uniffi…` helpers), and
  the methods of each foreign trait (a `public protocol` the app implements, such as
  `SmsGateway`);
- the calls, from the tests, parsed with the tree-sitter Swift grammar (so comments and
  strings never count): a method counts when called after a dot (`service.logOut(`), a static
  method when called on its type (`EsrService.forTesting(`), a constructor as `EsrService(`, a
  function by its name (`maskMobileNumber(`), and a foreign trait's method when a test class
  adopting the trait implements it.

Two objects may share a method name (`username()` of `EsrSession` and of `EmailMessage`); one
call then counts for both, since a parser cannot tell the receiver's type. It is not a type
checker.

Usage:
    check_swift_exports.py GENERATED.swift TESTS_DIR...   fail listing each export never called
    check_swift_exports.py --self-test                     prove that an uncalled export fails
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path

import tree_sitter_swift
from tree_sitter import Language, Node, Parser

from check_swift_syntax import prepare

_PROTOCOL = re.compile(r"^public protocol (\w+)\s*:")
_CLASS = re.compile(r"^open class (\w+)\s*:")
_FUNC = re.compile(r"^\s+func (\w+)\s*\(")
_STATIC = re.compile(r"^\s*public static func (\w+)\s*\(")
_INIT = re.compile(r"^\s*public convenience init\s*\(")
_TOP_FUNC = re.compile(r"^public func (\w+)\s*\(")
_VALUE_TYPE = re.compile(r"^(?:public )?(?:enum|struct) (\w+)")
_TOP_DECL = re.compile(
    r"^(public |open |fileprivate |private |internal )?"
    r"(struct|enum|class|protocol|extension|func|let|var|typealias)\b"
)


def exports(generated: str) -> dict[str, str]:
    """What the bindings export: `Name` -> how it must be used, for each export.

    The kinds are "method" (after a dot), "static" (on the type), "init" (the type called),
    "function" (by its name) and "implemented" (a foreign trait's method a test implements)."""
    found: dict[str, str] = {}
    block: tuple[str, str] | None = None  # ("protocol" | "class", name)
    # uniffi writes the methods of an enum or record (`EsrError.message()`) at column 0 inside
    # its `public enum`/`public struct`: such a `public func` is a method of that type.
    owner: str | None = None

    def top_func(name: str) -> None:
        if owner is not None:
            found[f"{owner}.{name}"] = "method"
        else:
            found[name] = "function"

    for line in generated.splitlines():
        if not _TOP_FUNC.match(line) and _TOP_DECL.match(line):
            m = _VALUE_TYPE.match(line)
            owner = m.group(1) if m else None
        if block is None:
            if m := _PROTOCOL.match(line):
                block = ("protocol", m.group(1))
            elif m := _CLASS.match(line):
                block = ("class", m.group(1))
            elif (m := _TOP_FUNC.match(line)) and not m.group(1).startswith(
                ("FfiConverter", "uniffi")
            ):
                top_func(m.group(1))
            continue
        kind, name = block
        # A protocol ends at its brace; uniffi closes method bodies at column 0 inside a class,
        # so a class ends only where the next top-level declaration starts.
        if (kind == "protocol" and line.startswith("}")) or (
            kind == "class" and _TOP_DECL.match(line)
        ):
            block = None
            if kind == "class":
                m = _PROTOCOL.match(line) or _CLASS.match(line)
                if m:
                    block = ("protocol" if line.startswith("public") else "class", m.group(1))
                elif (m := _TOP_FUNC.match(line)) and not m.group(1).startswith(
                    ("FfiConverter", "uniffi")
                ):
                    owner = None
                    top_func(m.group(1))
            continue
        if kind == "protocol" and (m := _FUNC.match(line)):
            if name.endswith("Protocol"):
                found[f"{name.removesuffix('Protocol')}.{m.group(1)}"] = "method"
            else:
                found[f"{name}.{m.group(1)}"] = "implemented"
        elif kind == "class" and (m := _STATIC.match(line)):
            found[f"{name}.{m.group(1)}"] = "static"
        elif kind == "class" and _INIT.match(line):
            found[f"{name}.init"] = "init"
    # uniffi's wrappers of a foreign trait (`SmsGatewayImpl`) are classes too, with nothing to
    # call; their protocol's methods are listed as "implemented" above.
    return {
        k: v
        for k, v in found.items()
        if not (v in ("static", "init") and k.split(".")[0].endswith("Impl"))
    }


def _nodes(root: Node) -> Iterator[Node]:
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.children))


def _text(node: Node | None) -> str:
    return node.text.decode("utf-8") if node is not None and node.text else ""


def _last_suffix_name(nav: Node) -> str:
    suffixes = [c for c in nav.children if c.type == "navigation_suffix"]
    if not suffixes:
        return ""
    names = [c for c in suffixes[-1].children if c.type == "simple_identifier"]
    return _text(names[-1]) if names else ""


def uses(sources: dict[str, str]) -> tuple[set[str], set[tuple[str, str]], set[str], set[str]]:
    """From the tests: names called after a dot, (type, name) pairs called on a type name,
    names called bare, and `Trait.method` for each method a class adopting a trait declares."""
    parser = Parser(Language(tree_sitter_swift.language()))
    after_dot: set[str] = set()
    on_type: set[tuple[str, str]] = set()
    bare: set[str] = set()
    implemented: set[str] = set()
    for source in sources.values():
        text, _, _ = prepare(source)
        root = parser.parse(text.encode("utf-8")).root_node
        for n in _nodes(root):
            if n.type == "call_expression" and n.children:
                callee = n.children[0]
                if callee.type == "navigation_expression":
                    name = _last_suffix_name(callee)
                    after_dot.add(name)
                    target = callee.children[0]
                    if target.type in ("simple_identifier", "type_identifier", "user_type"):
                        on_type.add((_text(target), name))
                elif callee.type == "simple_identifier":
                    bare.add(_text(callee))
            elif n.type == "class_declaration":
                adopted = {
                    _text(c).strip()
                    for c in n.children
                    if c.type == "inheritance_specifier"
                }
                body = next((c for c in n.children if c.type == "class_body"), None)
                if body is None:
                    continue
                for member in body.children:
                    if member.type == "function_declaration":
                        fname = next(
                            (_text(c) for c in member.children if c.type == "simple_identifier"),
                            "",
                        )
                        implemented |= {f"{trait}.{fname}" for trait in adopted}
    return after_dot, on_type, bare, implemented


def uncalled(generated: str, sources: dict[str, str]) -> list[str]:
    """Each export the tests never use, with what would count as a use."""
    after_dot, on_type, bare, implemented = uses(sources)
    missing = []
    for export, kind in sorted(exports(generated).items()):
        owner, _, name = export.rpartition(".")
        if kind == "method" and name not in after_dot:
            missing.append(f"{export}: never called (as `.{name}(`)")
        elif kind == "static" and (owner, name) not in on_type:
            missing.append(f"{export}: never called (as `{owner}.{name}(`)")
        elif kind == "init" and owner not in bare:
            missing.append(f"{export}: never called (as `{owner}(`)")
        elif kind == "function" and name not in bare and ("Esr", name) not in on_type:
            missing.append(f"{export}: never called (as `{name}(`)")
        elif kind == "implemented" and export not in implemented:
            missing.append(f"{export}: no test class adopting {owner} implements it")
    return missing


def check(generated: Path, paths: list[Path]) -> int:
    files = sorted(f for p in paths for f in (p.rglob("*.swift") if p.is_dir() else [p]))
    sources = {str(f): f.read_text(encoding="utf-8") for f in files}
    api = exports(generated.read_text(encoding="utf-8"))
    missing = uncalled(generated.read_text(encoding="utf-8"), sources)
    for m in missing:
        print(m)
    if missing:
        print(
            f"check_swift_exports: {len(missing)} of {len(api)} exports of {generated} are never"
            f" used by the {len(files)} test files; add an XCTest that calls each"
        )
        return 1
    print(f"every one of the {len(api)} exports is used by the {len(files)} test files")
    return 0


_SELF_TEST_API = """\
public protocol ThingProtocol: AnyObject, Sendable {
    func poke(times: UInt32)
    func name() -> String
}
open class Thing: ThingProtocol, @unchecked Sendable {
public convenience init(label: String) {
}
    public static func make() -> Thing {
    }
    public func poke(times: UInt32) {
    }
}
public protocol Gateway: AnyObject, Sendable {
    func send(text: String) throws
}
open class GatewayImpl: Gateway, @unchecked Sendable {
    public func send(text: String) throws {
    }
}
public func FfiConverterTypeThing_lift(_ handle: UInt64) throws -> Thing {
}
public func greet(name: String) -> String {
}
"""

_SELF_TEST_OK = """\
final class G: Gateway { func send(text: String) throws {} }
func testAll() {
    let a = Thing(label: "a")
    let b = Thing.make()
    a.poke(times: 1)
    _ = b.name()
    _ = greet(name: "x")
}
"""

# Each case: what to change in _SELF_TEST_OK, and the export then reported.
_SELF_TEST_CASES = [
    ("a method never called", "a.poke(times: 1)", "", "Thing.poke"),
    ("a method named only in a comment", "_ = b.name()", "// b.name()", "Thing.name"),
    ("a method named only in a string", "_ = b.name()", 'print("b.name()")', "Thing.name"),
    ("a method referenced, not called", "_ = b.name()", "_ = b.name", "Thing.name"),
    ("a static method never called", "let b = Thing.make()", "let b = a", "Thing.make"),
    ("a constructor never called", 'let a = Thing(label: "a")', "let a = Thing.make()",
     "Thing.init"),
    ("a function never called", '_ = greet(name: "x")', "", "greet"),
    ("a foreign trait left unimplemented", "func send(text: String) throws {}", "",
     "Gateway.send"),
]


def self_test() -> int:
    api = exports(_SELF_TEST_API)
    expected = {
        "Thing.poke": "method", "Thing.name": "method", "Thing.make": "static",
        "Thing.init": "init", "Gateway.send": "implemented", "greet": "function",
    }
    failures = 0
    if api != expected:
        print(f"  FAIL   exports read as {api}, expected {expected}")
        failures += 1
    if missing := uncalled(_SELF_TEST_API, {"ok.swift": _SELF_TEST_OK}):
        print(f"  FAIL   complete tests reported: {missing}")
        failures += 1
    else:
        print("  ok     tests calling every export pass")
    for what, old, new, export in _SELF_TEST_CASES:
        assert old in _SELF_TEST_OK, old
        missing = uncalled(_SELF_TEST_API, {"bad.swift": _SELF_TEST_OK.replace(old, new)})
        reported = [m.split(":")[0] for m in missing]
        if reported == [export]:
            print(f"  ok     reports {what}: {missing[0]}")
        else:
            print(f"  FAIL   {what}: reported {reported}, expected [{export!r}]")
            failures += 1
    # The real layout: the generated bindings must yield exports of every kind.
    generated = Path(__file__).with_name("Sources") / "Esr" / "esr_ffi.swift"
    if generated.exists():
        kinds = set(exports(generated.read_text(encoding="utf-8")).values())
        if kinds >= {"method", "static", "init", "function", "implemented"}:
            print(f"  ok     {generated.name}: exports of every kind found")
        else:
            print(f"  FAIL   {generated.name}: only {sorted(kinds)} found (uniffi's layout changed?)")
            failures += 1
    if failures:
        print(f"check_swift_exports self-test: {failures} failure(s)")
        return 1
    print("check_swift_exports self-test passed")
    return 0


def main(argv: list[str]) -> int:
    if argv == ["--self-test"]:
        return self_test()
    if len(argv) < 2 or any(a.startswith("-") for a in argv):
        print(__doc__, file=sys.stderr)
        return 2
    return check(Path(argv[0]), [Path(a) for a in argv[1:]])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
