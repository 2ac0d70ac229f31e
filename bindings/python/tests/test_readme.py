"""The README's analyst example runs as written, on files shaped as it says (issue 20: the
snippet used to stop with a NameError)."""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[3] / "README.md"
MARKER = "<!-- analyst example: bindings/python/tests/test_readme.py runs this block -->"

# The export as Excel saves it (cp1252: the names' accents and the en dash are single bytes).
EXPORT = (
    "Employee Number,Full Name,Competency Name,Expiry Date,Achieved Date,VPD\r\n"
    "20000001,Renée Ó Súilleabháin,NHS|CSTF|Fire Safety - 1 Year|,30-Nov-2027,30-Nov-2026,297\r\n"
    "20000001,Renée Ó Súilleabháin,NHS|CSTF|Moving and Handling – 2 Years|,01-Jan-2027,01-Jan-2025,297\r\n"
    "20000002,Zoë Brontë,NHS|CSTF|Fire Safety - 1 Year|,01-Oct-2026,01-Oct-2025,297\r\n"
)
ASSIGNMENTS = "assignment_id,person_id,position_id\n20000001-1,20000001,297|Staff Nurse|Ward 5|\n20000002-1,20000002,297|Staff Nurse|Ward 5|\n20000002-2,20000002,297|Porter|Estates|\n"
REQUIREMENTS = (
    "position_id,competency_id\n"
    "297|Staff Nurse|Ward 5|,NHS|CSTF|Fire Safety - 1 Year|\n"
    "297|Staff Nurse|Ward 5|,NHS|CSTF|Moving and Handling – 2 Years|\n"
    "297|Porter|Estates|,NHS|CSTF|Moving and Handling – 2 Years|\n"
)


def analyst_block() -> str:
    text = README.read_text(encoding="utf-8")
    assert MARKER in text, "the README lost its analyst example marker"
    after = text[text.index(MARKER) + len(MARKER):]
    m = re.match(r"\s*```python\n(.*?)```", after, re.S)
    assert m, "the marker must be followed by a ```python block"
    return m.group(1)


def test_the_readme_analyst_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "competences.csv").write_bytes(EXPORT.encode("cp1252"))
    (tmp_path / "assignments.csv").write_text(ASSIGNMENTS, encoding="utf-8")
    (tmp_path / "requirements.csv").write_text(REQUIREMENTS, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    namespace: dict[str, object] = {"__name__": "__readme__"}
    with contextlib.redirect_stdout(out):
        exec(compile(analyst_block(), str(README), "exec"), namespace)  # noqa: S102
    printed = out.getvalue()
    assert "b'windows-1252'" in printed
    import polars as pl

    scores = namespace["scores"]
    assert isinstance(scores, pl.DataFrame)
    got = {r["assignment_id"]: (r["green"], r["amber"], r["red"]) for r in scores.to_dicts()}
    # 20000001: Fire Green, M&H Amber (1 Jan 2027); 20000002: Fire expired, M&H not held.
    assert got == {"20000001-1": (1, 1, 0), "20000002-1": (0, 0, 2), "20000002-2": (0, 0, 1)}
    red = namespace["red"]
    assert isinstance(red, pl.DataFrame) and red.height == 3
    assert os.getcwd() == str(tmp_path)
