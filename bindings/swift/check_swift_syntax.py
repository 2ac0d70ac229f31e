#!/usr/bin/env python3
"""Parse Swift files with the tree-sitter Swift grammar and fail on any syntax error.

`scripts/check-swift` runs this over every `.swift` file of the Swift package (the
uniffi-generated sources, both Package.swift files and the XCTests) and the README's Swift
examples, which no compiler sees: it needs no Swift toolchain and fails in seconds, before
`scripts/test-swift` compiles the package.

The grammar does not understand one construct that uniffi emits around its declarations:

    #if swift(>=5.8)
        @_documentation(visibility: private)
    #endif

Exactly those three-line blocks are blanked (not deleted, so line numbers stay those of the
file) before parsing; any other conditional compilation block is parsed as written.

Nor does it understand the empty tuple `()` as an expression, which uniffi writes in the
callback-interface code of a foreign trait method returning nothing:

    let writeReturn = { () }

Exactly that line (whole, up to indentation) is parsed as `let writeReturn = { Void() }`, the
same closure spelled as the grammar knows it. Every other line is parsed as written.

Usage:
    check_swift_syntax.py FILE_OR_DIR...   check every .swift file (directories recursively)
    check_swift_syntax.py --self-test      prove the checker rejects broken Swift

Exits 0 when every file parses, 1 on any ERROR or MISSING node (printed as file:line:col), 2 on
a usage error.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import tree_sitter_swift
from tree_sitter import Language, Node, Parser

UNIFFI_WRAPPER = ("#if swift(>=5.8)", "@_documentation(visibility: private)", "#endif")
UNIFFI_VOID_RETURN = "let writeReturn = { () }"
UNIFFI_VOID_RETURN_PARSED_AS = "let writeReturn = { Void() }"


@dataclass(frozen=True)
class Problem:
    """One syntax error: 1-based line and column, and what tree-sitter found there."""

    line: int
    column: int
    what: str


def blank_uniffi_wrappers(source: str) -> tuple[str, int]:
    """Blank exactly uniffi's `#if swift(>=5.8)` / `@_documentation` / `#endif` blocks.

    Returns the new text (same number of lines) and how many blocks were blanked.
    """
    lines = source.split("\n")
    blanked = 0
    i = 0
    while i + 2 < len(lines):
        if tuple(line.strip() for line in lines[i : i + 3]) == UNIFFI_WRAPPER:
            lines[i] = lines[i + 1] = lines[i + 2] = ""
            blanked += 1
            i += 3
        else:
            i += 1
    return "\n".join(lines), blanked


def rewrite_uniffi_void_returns(source: str) -> tuple[str, int]:
    """Respells exactly uniffi's `let writeReturn = { () }` lines as `{ Void() }`.

    Returns the new text (same lines otherwise) and how many lines were respelled.
    """
    lines = source.split("\n")
    rewritten = 0
    for i, line in enumerate(lines):
        if line.strip() == UNIFFI_VOID_RETURN:
            indent = line[: len(line) - len(line.lstrip())]
            lines[i] = indent + UNIFFI_VOID_RETURN_PARSED_AS
            rewritten += 1
    return "\n".join(lines), rewritten


def prepare(source: str) -> tuple[str, int, int]:
    """The text the grammar parses: uniffi's wrappers blanked and its `{ () }` respelled."""
    text, blanked = blank_uniffi_wrappers(source)
    text, rewritten = rewrite_uniffi_void_returns(text)
    return text, blanked, rewritten


def _parser() -> Parser:
    return Parser(Language(tree_sitter_swift.language()))


def problems_in(source: str, parser: Parser | None = None) -> list[Problem]:
    """Every ERROR and MISSING node of `source` once `prepare`d."""
    text, _, _ = prepare(source)
    tree = (parser or _parser()).parse(text.encode("utf-8"))
    found: list[Problem] = []
    stack: list[Node] = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            row, col = node.start_point
            if node.is_missing:
                what = f"missing {node.type!r}"
            else:
                snippet = node.text.decode("utf-8", "replace") if node.text else ""
                snippet = snippet.splitlines()[0][:60] if snippet else ""
                what = f"syntax error near {snippet!r}"
            found.append(Problem(row + 1, col + 1, what))
        if node.has_error:
            stack.extend(reversed(node.children))
    found.sort(key=lambda p: (p.line, p.column))
    return found


def swift_files(paths: list[str]) -> list[Path]:
    """The .swift files named, and those under the directories named, in a stable order."""
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files.extend(
                sorted(
                    f
                    for f in p.rglob("*.swift")
                    if not any(part in (".build", ".swiftpm") for part in f.parts)
                )
            )
        elif p.is_file():
            files.append(p)
        else:
            raise FileNotFoundError(f"{p}: no such file or directory")
    return files


def check(paths: list[str]) -> int:
    """Checks the files; prints one line per problem and a summary. Returns the exit code."""
    try:
        files = swift_files(paths)
    except FileNotFoundError as e:
        print(f"check_swift_syntax: {e}", file=sys.stderr)
        return 2
    if not files:
        print("check_swift_syntax: no .swift files found in " + " ".join(paths), file=sys.stderr)
        return 2
    parser = _parser()
    failed = 0
    for f in files:
        source = f.read_text(encoding="utf-8")
        found = problems_in(source, parser)
        for p in found:
            print(f"{f}:{p.line}:{p.column}: {p.what}")
        failed += bool(found)
        _, blanked, rewritten = prepare(source)
        notes = []
        if blanked:
            notes.append(f"{blanked} uniffi #if swift(>=5.8) blocks blanked")
        if rewritten:
            notes.append(f"{rewritten} uniffi '{{ () }}' closures read as '{{ Void() }}'")
        note = f" ({'; '.join(notes)})" if notes else ""
        status = "FAILED" if found else "ok"
        print(f"  {status:6} {f}{note}")
    if failed:
        print(f"check_swift_syntax: {failed} of {len(files)} Swift files have syntax errors")
        return 1
    print(f"check_swift_syntax: {len(files)} Swift files parse")
    return 0


# Each broken snippet must be rejected, at the line given (None: any line).
BROKEN: list[tuple[str, str, int | None]] = [
    ("unclosed brace", "func f() {\n    let x = 1\n", None),
    ("missing parameter list end", "func f(a: Int {\n    return\n}\n", 1),
    ("doubled operator", "let x = = 3\n", 1),
    ("return type without a type", "func f() -> { }\n", 1),
    ("unclosed array type", "var a: [Int = []\n", 1),
    ("stray token", "struct S {\n    var a: Int\n    ]\n}\n", 3),
    (
        "error after a blanked uniffi block keeps its line number",
        (
            "public struct S {\n#if swift(>=5.8)\n    @_documentation(visibility: private)\n"
            "#endif\n    public func ok() {}\n    public func broken( {}\n}\n"
        ),
        6,
    ),
    ("an empty tuple other than uniffi's writeReturn line", "let w = { () }\n", 1),
]

# Each valid snippet must be accepted.
VALID: list[tuple[str, str]] = [
    (
        "uniffi's documentation wrapper",
        (
            "public struct FfiConverterString {\n#if swift(>=5.8)\n"
            "    @_documentation(visibility: private)\n#endif\n"
            "    public static func lift(_ v: Int) throws -> String { String(v) }\n}\n"
        ),
    ),
    (
        "uniffi's Void callback return",
        "func f() {\n    let writeReturn = { () }\n    call(writeReturn: writeReturn)\n}\n",
    ),
    (
        "a small XCTest",
        (
            "import XCTest\nfinal class T: XCTestCase {\n"
            "    func testA() throws { XCTAssertEqual(1 + 1, 2) }\n}\n"
        ),
    ),
]


def self_test() -> int:
    """Proves the checker fails on broken Swift and passes on valid Swift."""
    parser = _parser()
    bad = 0
    for name, source, line in BROKEN:
        found = problems_in(source, parser)
        ok = bool(found) and (line is None or any(p.line == line for p in found))
        where = ", ".join(f"{p.line}:{p.column} {p.what}" for p in found) or "nothing"
        print(f"  {'ok' if ok else 'FAILED':6} rejects {name}: found {where}")
        bad += not ok
    for name, source in VALID:
        found = problems_in(source, parser)
        print(f"  {'ok' if not found else 'FAILED':6} accepts {name}")
        bad += bool(found)
    text, blanked = blank_uniffi_wrappers(VALID[0][1])
    if blanked != 1 or text.count("\n") != VALID[0][1].count("\n"):
        print("  FAILED blanking keeps the line count and blanks exactly one block")
        bad += 1
    other = "#if swift(>=5.8)\n    @_documentation(visibility: public)\n#endif\n"
    if blank_uniffi_wrappers(other) != (other, 0):
        print("  FAILED a block other than uniffi's exact wrapper is left as written")
        bad += 1
    if bad:
        print(f"check_swift_syntax self-test: {bad} case(s) failed")
        return 1
    print(f"check_swift_syntax self-test: {len(BROKEN) + len(VALID)} cases behave")
    return 0


def main(argv: list[str]) -> int:
    """Command-line entry point."""
    if argv == ["--self-test"]:
        return self_test()
    if not argv or any(a.startswith("-") for a in argv):
        print(__doc__, file=sys.stderr)
        return 2
    return check(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
