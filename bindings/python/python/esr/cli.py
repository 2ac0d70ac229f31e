"""esr's command line (issue 20): score an ESR competence export against a staff table and a
requirements table, and write a compliance report a workforce team can open or print.

    python -m esr score  --export competences.csv --assignments staff.csv \\
        --requirements requirements.parquet --vpd 297 --scores scores.parquet --detail detail.csv
    python -m esr report --export competences.csv --assignments staff.csv \\
        --requirements requirements.csv --vpd 297 --html report.html

Exit codes: 0 done; 1 an input is wrong (a file missing or unreadable, a column missing or of
the wrong kind; the message names the file and the column); 2 the command line is wrong; 3 the
report needs matplotlib, which is not installed (``pip install 'esr[report]'``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import io
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
import pyarrow.compute as pc  # type: ignore[import-untyped, unused-ignore]
import pyarrow.csv as pacsv  # type: ignore[import-untyped, unused-ignore]
import pyarrow.parquet as pq  # type: ignore[import-untyped, unused-ignore]

from esr._esr import BulkInputError, EsrError, compliance_detail, read_competence_csv, score_compliance

EXIT_OK = 0
EXIT_INPUT = 1
EXIT_USAGE = 2
EXIT_MISSING_DEPENDENCY = 3

# The columns each table must have; the export's come from read_competence_csv.
ASSIGNMENT_COLUMNS = ("assignment_id", "person_id", "position_id")
REQUIREMENT_COLUMNS = ("position_id", "competency_id")
# Optional columns of the requirements table that change what is scored (score_compliance's
# rules): kept when the table has them, so the command scores as the library does.
REQUIREMENT_RULE_COLUMNS = ("essential", "min_level")
DEFAULT_TARGET = 90.0
DEFAULT_LIST_LIMIT = 1000
PROGRESS_EVERY_SECONDS = 0.5


class InputProblem(Exception):
    """An input the command cannot use; the message names the file and the column."""


@dataclass
class Inputs:
    export: Path
    assignments_path: Path
    requirements_path: Path
    holdings: Any  # pyarrow.Table: person_id, competency_id, expiry
    assignments: Any  # pyarrow.Table: the id columns, and the org unit and name when given
    requirements: Any  # pyarrow.Table: position_id, competency_id
    org_column: str | None
    name_column: str | None
    encoding: str
    amber_months: int


# ----- progress ------------------------------------------------------------------------


class ProgressReader:
    """A binary file read by read_competence_csv (in 64 KiB chunks) that writes how far it has
    got to `stream`: one line rewritten in place on a terminal, a line every few seconds
    otherwise."""

    def __init__(self, raw: IO[bytes], total: int, label: str, stream: IO[str]) -> None:
        self._raw = raw
        self._total = total
        self._label = label
        self._stream = stream
        self._tty = stream.isatty()
        self._done = 0
        self._start = time.monotonic()
        self._last = self._start
        self._every = PROGRESS_EVERY_SECONDS if self._tty else 5.0
        self._finished = False

    def read(self, n: int = -1, /) -> bytes:
        chunk = self._raw.read(n)
        self._done += len(chunk)
        now = time.monotonic()
        if not chunk:
            self.finish()
        elif now - self._last >= self._every:
            self._last = now
            self._show(now)
        return chunk

    def _line(self, now: float) -> str:
        mb = self._done / 1e6
        elapsed = max(now - self._start, 1e-9)
        percent = 100.0 * self._done / self._total if self._total else 100.0
        return (
            f"reading {self._label}: {mb:,.1f} of {self._total / 1e6:,.1f} MB ({percent:.0f}%), "
            f"{mb / elapsed:,.0f} MB/s"
        )

    def _show(self, now: float) -> None:
        if self._tty:
            self._stream.write("\r" + self._line(now))
        else:
            self._stream.write(self._line(now) + "\n")
        self._stream.flush()

    def finish(self) -> None:
        if self._finished:
            return
        self._finished = True
        now = time.monotonic()
        line = self._line(now) + f" in {now - self._start:.1f} s"
        self._stream.write(("\r" if self._tty else "") + line + "\n")
        self._stream.flush()


# ----- reading ---------------------------------------------------------------------------


def _read_export(path: Path, vpd: str, encoding: str | None, skip_bad_rows: bool, progress: bool) -> Any:
    try:
        size = path.stat().st_size
        with path.open("rb") as raw:
            source: Any = ProgressReader(raw, size, path.name, sys.stderr) if progress else raw
            table = read_competence_csv(source, vpd, skip_bad_rows=skip_bad_rows, encoding=encoding, output="pyarrow")
            if progress:
                source.finish()
    except OSError as e:
        raise InputProblem(f"cannot read the export {path}: {e.strerror or e}") from None
    except EsrError as e:
        raise InputProblem(f"the export {path}: {e}") from None
    return table


def _read_table(path: Path, role: str, required: Sequence[str], text: Sequence[str]) -> Any:
    """A CSV or Parquet file as a pyarrow Table; CSV id columns are read as text, so leading
    zeros and ESR's "20000001-1" survive."""
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            table = pq.read_table(path)
        else:
            names = _csv_header(path)
            types = {c: pa.string() for c in text if c in names}
            # An empty id is missing (null), not the id "".
            options = pacsv.ConvertOptions(column_types=types, strings_can_be_null=True)
            table = pacsv.read_csv(path, convert_options=options)
    except OSError as e:
        if isinstance(e, FileNotFoundError) or not path.exists():
            raise InputProblem(f"cannot read the {role} table {path}: no such file") from None
        raise InputProblem(f"cannot read the {role} table {path}: {e}") from None
    except (pa.ArrowInvalid, UnicodeDecodeError) as e:
        raise InputProblem(f"cannot read the {role} table {path}: {e}") from None
    missing = [c for c in required if c not in table.column_names]
    if missing:
        raise InputProblem(
            f"the {role} table {path} has no column {', '.join(missing)} "
            f"(it has: {', '.join(table.column_names) or 'no columns'})"
        )
    return table


def _csv_header(path: Path) -> list[str]:
    with path.open("rb") as f:
        first = f.readline().decode("utf-8-sig", errors="replace")
    return [c.strip().strip('"') for c in first.rstrip("\r\n").split(",")]


def _plain(table: Any, column: str, path: Path, role: str, want: str) -> Any:
    """`column` of `table` as int64 ("integer"), string ("text") or as it is if it is either
    ("key"), with an error naming the file and column when it cannot be."""
    col = table.column(column)
    t = col.type
    if pa.types.is_dictionary(t):
        col = col.cast(t.value_type)
        t = col.type
    is_text = pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)
    is_int = pa.types.is_integer(t)
    if col.null_count:
        raise InputProblem(f"the {role} table {path}: column {column} has {col.null_count:,} empty values")
    try:
        if want == "integer" and not is_int:
            if not is_text:
                raise InputProblem(f"the {role} table {path}: column {column} holds {t}, not employee numbers")
            col = pc.cast(pc.utf8_trim_whitespace(col), pa.int64())
        elif want == "text" or (want == "key" and not is_int):
            if not (is_text or is_int):
                raise InputProblem(f"the {role} table {path}: column {column} holds {t}, not ids")
            col = col.cast(pa.string())
        elif is_int:
            col = col.cast(pa.int64())
    except pa.ArrowInvalid as e:
        raise InputProblem(f"the {role} table {path}: column {column}: {e}") from None
    return table.set_column(table.column_names.index(column), column, col)


def load_inputs(args: argparse.Namespace) -> Inputs:
    export, apath, rpath = Path(args.export), Path(args.assignments), Path(args.requirements)
    org = args.org_unit_column
    name = args.name_column
    text = ["assignment_id", "person_id", "position_id", "competency_id"]
    assignments = _read_table(apath, "assignments", ASSIGNMENT_COLUMNS, text + [c for c in (org, name) if c])
    requirements = _read_table(rpath, "requirements", REQUIREMENT_COLUMNS, text)
    for given, option, default in ((org, "--org-unit-column", "org_unit"), (name, "--name-column", "name")):
        if given is not None and given not in assignments.column_names:
            raise InputProblem(
                f"the assignments table {apath} has no column {given} ({option}; "
                f"it has: {', '.join(assignments.column_names)})"
            )
    if org is None and "org_unit" in assignments.column_names:
        org = "org_unit"
    if name is None and "name" in assignments.column_names:
        name = "name"
    keep = list(ASSIGNMENT_COLUMNS) + [c for c in (org, name) if c and c not in ASSIGNMENT_COLUMNS]
    assignments = assignments.select(keep)
    assignments = _plain(assignments, "assignment_id", apath, "assignments", "key")
    # The export's Employee Number is read as an integer: the staff table's must match.
    assignments = _plain(assignments, "person_id", apath, "assignments", "integer")
    assignments = _plain(assignments, "position_id", apath, "assignments", "text")
    for extra in (org, name):
        if extra:
            assignments = assignments.set_column(
                assignments.column_names.index(extra), extra, pc.cast(assignments.column(extra), pa.string())
            )
    rules = [c for c in REQUIREMENT_RULE_COLUMNS if c in requirements.column_names]
    requirements = requirements.select(list(REQUIREMENT_COLUMNS) + rules)
    requirements = _plain(requirements, "position_id", rpath, "requirements", "text")
    requirements = _plain(requirements, "competency_id", rpath, "requirements", "text")
    progress = args.progress if args.progress is not None else sys.stderr.isatty()
    holdings = _read_export(export, args.vpd, args.encoding, args.skip_bad_rows, progress)
    encoding = (holdings.schema.metadata or {}).get(b"encoding", b"").decode()
    return Inputs(export, apath, rpath, holdings, assignments, requirements, org, name, encoding, args.amber_months)


def _score(inputs: Inputs, as_of: dt.date, args: argparse.Namespace, detail_too: bool) -> tuple[Any, Any]:
    ids = (inputs.assignments.select(list(ASSIGNMENT_COLUMNS)), inputs.requirements, inputs.holdings)
    try:
        scores = score_compliance(*ids, as_of, args.amber_months, output="pyarrow", threads=args.threads)
        detail = None
        if detail_too:
            detail = compliance_detail(
                *ids, as_of, args.amber_months, held_not_required=getattr(args, "held_not_required", False),
                output="pyarrow", threads=args.threads,
            )
    except BulkInputError as e:
        raise InputProblem(
            f"{e}\n  (the assignments table is {inputs.assignments_path}, the requirements table "
            f"{inputs.requirements_path}, the holdings table the export {inputs.export})"
        ) from None
    return scores, detail


# ----- writing ---------------------------------------------------------------------------


def _check_output(path: str | None, option: str) -> None:
    if path is not None and Path(path).suffix.lower() not in (".parquet", ".pq", ".csv"):
        raise UsageProblem(f"{option} {path}: the file name must end in .parquet or .csv")


class UsageProblem(Exception):
    """The command line is wrong (exit code 2)."""


def write_table(table: Any, path: Path) -> None:
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            pq.write_table(table, path)
        else:
            pacsv.write_csv(table, path)
    except OSError as e:
        raise InputProblem(f"cannot write {path}: {e.strerror or e}") from None


# ----- the report ------------------------------------------------------------------------


def end_of_next_month(day: dt.date) -> dt.date:
    year, month = (day.year, day.month + 2) if day.month <= 10 else (day.year + 1, day.month - 10)
    return dt.date(year, month, 1) - dt.timedelta(days=1)


def _percent(ok: int, required: int) -> float | None:
    return 100.0 * ok / required if required else None


def _fmt(p: float | None) -> str:
    return "–" if p is None else f"{p:.1f}%"


def subject_figures(detail: Any) -> list[dict[str, Any]]:
    """Per competence: required, Green, Amber, Red and the percentage in date."""
    t = detail.filter(pc.field("status") != "Blue").select(["competency_id", "status"])
    t = t.append_column("green", pc.cast(pc.equal(t.column("status"), "Green"), pa.int64()))
    t = t.append_column("amber", pc.cast(pc.equal(t.column("status"), "Amber"), pa.int64()))
    t = t.append_column("red", pc.cast(pc.equal(t.column("status"), "Red"), pa.int64()))
    g = t.group_by("competency_id").aggregate([("status", "count"), ("green", "sum"), ("amber", "sum"), ("red", "sum")])
    rows = []
    for r in g.to_pylist():
        required = r["status_count"]
        rows.append({
            "subject": str(r["competency_id"]), "required": required, "green": r["green_sum"],
            "amber": r["amber_sum"], "red": r["red_sum"],
            "percent": _percent(r["green_sum"] + r["amber_sum"], required),
        })
    rows.sort(key=lambda r: (r["percent"] if r["percent"] is not None else 101.0, r["subject"]))
    return rows


def org_figures(scores: Any, assignments: Any, org: str) -> list[dict[str, Any]]:
    t = scores.select(["assignment_id", "required", "green", "amber", "red"]).join(
        _key_like(assignments.select(["assignment_id", org]), scores), keys="assignment_id", join_type="left outer"
    )
    t = t.set_column(t.column_names.index(org), org, pc.fill_null(t.column(org), "(none)"))
    g = t.group_by(org).aggregate(
        [("assignment_id", "count"), ("required", "sum"), ("green", "sum"), ("amber", "sum"), ("red", "sum")]
    )
    rows = []
    for r in g.to_pylist():
        rows.append({
            "org": r[org], "assignments": r["assignment_id_count"], "required": r["required_sum"],
            "green": r["green_sum"], "amber": r["amber_sum"], "red": r["red_sum"],
            "percent": _percent(r["green_sum"] + r["amber_sum"], r["required_sum"]),
        })
    rows.sort(key=lambda r: (r["percent"] if r["percent"] is not None else 101.0, r["org"]))
    return rows


def _key_like(right: Any, left: Any, key: str = "assignment_id") -> Any:
    """`right` with its `key` column of `left`'s type (the results hold large strings)."""
    want = left.schema.field(key).type
    col = right.column(key)
    if col.type == want:
        return right
    return right.set_column(right.column_names.index(key), key, col.cast(want))


def _with_people(rows: Any, inputs: Inputs) -> Any:
    cols = ["assignment_id"] + [c for c in (inputs.name_column, inputs.org_column) if c]
    if len(cols) == 1:
        return rows
    return rows.join(_key_like(inputs.assignments.select(cols), rows), keys="assignment_id", join_type="left outer")


def status_list(detail: Any, inputs: Inputs, status: str) -> Any:
    rows = detail.filter(pc.field("status") == status)
    rows = _with_people(rows, inputs)
    return rows.sort_by([("expiry", "ascending"), ("competency_id", "ascending")])


def turning(detail: Any, future: Any, inputs: Inputs) -> Any:
    """Rows in date now (Green or Amber) that are worse by the end of next month."""
    keys = ["assignment_id", "competency_id"]
    fut = future.select(keys + ["status"]).rename_columns(keys + ["then"])
    now = detail.filter(pc.field("status") != "Blue").select(keys + ["person_id", "status", "expiry", "days_left"])
    j = now.join(fut, keys=keys, join_type="inner")
    worse = pc.or_(
        pc.and_(pc.equal(j.column("status"), "Green"), pc.is_in(j.column("then"), pa.array(["Amber", "Red"]))),
        pc.and_(pc.equal(j.column("status"), "Amber"), pc.equal(j.column("then"), "Red")),
    )
    rows = _with_people(j.filter(worse), inputs)
    return rows.sort_by([("expiry", "ascending"), ("competency_id", "ascending")])


def subject_chart_svg(subjects: list[dict[str, Any]], target: float) -> str:
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["svg.fonttype"] = "path"  # text as outlines: no font needed to view
    matplotlib.rcParams["svg.hashsalt"] = "esr"
    import matplotlib.pyplot as plt

    shown = [s for s in subjects if s["percent"] is not None]
    height = max(2.0, 0.34 * len(shown) + 1.1)
    fig, ax = plt.subplots(figsize=(9.0, height))
    try:
        labels = [s["subject"] if len(s["subject"]) <= 48 else s["subject"][:47] + "…" for s in shown]
        values = [s["percent"] for s in shown]
        colours = ["#007f3b" if v >= target else "#d5281b" for v in values]
        bars = ax.barh(range(len(shown)), values, color=colours, height=0.7)
        ax.bar_label(bars, labels=[f"{v:.1f}%" for v in values], padding=3, fontsize=8)
        ax.set_yticks(range(len(shown)), labels=labels, fontsize=8)
        ax.invert_yaxis()
        ax.axvline(target, color="#212b32", linestyle="--", linewidth=1.2)
        ax.text(target, -0.75, f" target {target:g}%", fontsize=8, va="bottom", ha="left", color="#212b32")
        ax.set_xlim(0, 112)
        ax.set_xlabel("in date (Green or Amber), % of required")
        ax.spines[["top", "right"]].set_visible(False)
        buf = io.StringIO()
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    finally:
        plt.close(fig)
    svg = buf.getvalue()
    return svg[svg.index("<svg"):]


CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Arial, sans-serif; color: #212b32;
       margin: 2rem auto; max-width: 1100px; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
.meta { color: #4c6272; margin-top: 0; }
.headline { display: flex; gap: 1rem; flex-wrap: wrap; }
.tile { border: 1px solid #d8dde0; border-radius: 6px; padding: 0.8rem 1.2rem; min-width: 9rem; }
.tile .n { font-size: 2rem; font-weight: 700; }
.below { color: #d5281b; } .met { color: #007f3b; }
table { border-collapse: collapse; width: 100%; font-size: 0.85rem; }
th, td { border-bottom: 1px solid #d8dde0; padding: 0.25rem 0.5rem; text-align: left; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.Red { color: #d5281b; font-weight: 600; } .Amber { color: #8a5a00; font-weight: 600; }
.Green { color: #007f3b; }
.chart svg { max-width: 100%; height: auto; }
.note { color: #4c6272; font-size: 0.85rem; }
@media print { body { margin: 0; max-width: none; } h2 { break-after: avoid; }
               tr { break-inside: avoid; } .chart { break-inside: avoid; } }
"""


def _table_html(table_id: str, head: Sequence[tuple[str, bool]], rows: Sequence[Sequence[str]],
                classes: Sequence[str] | None = None) -> str:
    out = [f'<table id="{table_id}"><thead><tr>']
    out += [f'<th{" class=num" if num else ""}>{html.escape(h)}</th>' for h, num in head]
    out.append("</tr></thead><tbody>")
    for i, row in enumerate(rows):
        cls = f' class="{classes[i]}"' if classes else ""
        out.append(f"<tr{cls}>")
        out += [f'<td{" class=num" if num else ""}>{html.escape(v)}</td>' for v, (_, num) in zip(row, head)]
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _people_table(table_id: str, rows: Any, inputs: Inputs, limit: int, then: bool = False) -> str:
    n = rows.num_rows
    if n == 0:
        return f'<p id="{table_id}" class="note">None.</p>'
    head: list[tuple[str, bool]] = []
    if inputs.name_column:
        head.append(("Name", False))
    head += [("Assignment", False), ("Employee number", False)]
    if inputs.org_column:
        head.append(("Organisation unit", False))
    head += [("Competence", False), ("Expiry", False), ("Days left", True)]
    if then:
        head.append(("By then", False))
    body = []
    for r in rows.slice(0, limit).to_pylist():
        row = []
        if inputs.name_column:
            row.append(str(r.get(inputs.name_column) or ""))
        row += [str(r["assignment_id"]), str(r["person_id"])]
        if inputs.org_column:
            row.append(str(r.get(inputs.org_column) or ""))
        expiry = r["expiry"]
        row += [str(r["competency_id"]), expiry.isoformat() if expiry else "none held",
                "" if r["days_left"] is None else f"{r['days_left']:,}"]
        if then:
            row.append(str(r["then"]))
        body.append(row)
    more = f'<p class="note">…and {n - limit:,} more (all are in the detail rows of <code>esr score --detail</code>).</p>' if n > limit else ""
    return _table_html(table_id, head, body) + more


def _decoded(table: Any) -> Any:
    """`table` with its dictionary columns (competency_id in the results) as plain ones."""
    for i, field in enumerate(table.schema):
        if pa.types.is_dictionary(field.type):
            table = table.set_column(i, field.name, table.column(i).cast(field.type.value_type))
    return table


def render_report(inputs: Inputs, scores: Any, detail: Any, future: Any, as_of: dt.date, then: dt.date,
                  target: float, title: str, limit: int) -> str:
    detail, future = _decoded(detail), _decoded(future)
    required = pc.sum(scores.column("required")).as_py() or 0
    green = pc.sum(scores.column("green")).as_py() or 0
    amber = pc.sum(scores.column("amber")).as_py() or 0
    red = pc.sum(scores.column("red")).as_py() or 0
    percent = _percent(green + amber, required)
    met = percent is not None and percent >= target
    subjects = subject_figures(detail)
    reds = status_list(detail, inputs, "Red")
    ambers = status_list(detail, inputs, "Amber")
    turn = turning(detail, future, inputs)
    e = html.escape
    parts = [
        "<!DOCTYPE html>", '<html lang="en-GB"><head><meta charset="utf-8">',
        f"<title>{e(title)}</title>", '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<style>{CSS}</style></head><body>",
        f"<h1>{e(title)}</h1>",
        f'<p class="meta">As of {as_of.isoformat()}; export {e(inputs.export.name)} '
        f"({inputs.holdings.num_rows:,} records, {e(inputs.encoding)}); {scores.num_rows:,} assignments; "
        f"Amber: in date but expiring within {inputs.amber_months} months.</p>",
        '<section class="headline">',
        f'<div class="tile"><div>Trust-wide in date</div><div id="trust-percent" class="n {"met" if met else "below"}">'
        f"{_fmt(percent)}</div><div>target {target:g}% – {'met' if met else 'not met'}</div></div>",
        f'<div class="tile"><div>Required</div><div class="n" id="required">{required:,}</div></div>',
        f'<div class="tile"><div class="Green">Green</div><div class="n" id="green">{green:,}</div></div>',
        f'<div class="tile"><div class="Amber">Amber</div><div class="n" id="amber">{amber:,}</div></div>',
        f'<div class="tile"><div class="Red">Red</div><div class="n" id="red">{red:,}</div></div>',
        "</section>",
        "<h2>By subject against the target</h2>",
    ]
    if subjects:
        parts.append(f'<div class="chart" id="subject-chart">{subject_chart_svg(subjects, target)}</div>')
        parts.append(_table_html(
            "by-subject",
            [("Competence", False), ("Required", True), ("Green", True), ("Amber", True), ("Red", True), ("In date", True)],
            [[s["subject"], f"{s['required']:,}", f"{s['green']:,}", f"{s['amber']:,}", f"{s['red']:,}", _fmt(s["percent"])]
             for s in subjects],
            ["below" if (s["percent"] or 0) < target else "met" for s in subjects],
        ))
    else:
        parts.append('<p class="note">No competence is required of anyone.</p>')
    if inputs.org_column:
        orgs = org_figures(scores, inputs.assignments, inputs.org_column)
        parts.append("<h2>By organisation unit</h2>")
        parts.append(_table_html(
            "by-org-unit",
            [("Organisation unit", False), ("Assignments", True), ("Required", True), ("Green", True),
             ("Amber", True), ("Red", True), ("In date", True)],
            [[o["org"], f"{o['assignments']:,}", f"{o['required']:,}", f"{o['green']:,}", f"{o['amber']:,}",
              f"{o['red']:,}", _fmt(o["percent"])] for o in orgs],
            ["below" if (o["percent"] or 0) < target else "met" for o in orgs],
        ))
    parts += [
        f'<h2>Red: expired or never held ({reds.num_rows:,})</h2>', _people_table("red-list", reds, inputs, limit),
        f'<h2>Amber: expiring soon ({ambers.num_rows:,})</h2>', _people_table("amber-list", ambers, inputs, limit),
        f'<h2>Turning Amber or Red by {then.isoformat()}, the end of next month ({turn.num_rows:,})</h2>',
        _people_table("turning-list", turn, inputs, limit, then=True),
        f'<p class="note">Made by esr {e(_version())} from {e(inputs.assignments_path.name)} and '
        f"{e(inputs.requirements_path.name)}. In date = Green or Amber, of the essential competences each "
        "assignment's position requires.</p>",
        "</body></html>",
    ]
    return "\n".join(parts)


def _version() -> str:
    from esr._esr import __version__

    return __version__


# ----- the commands ----------------------------------------------------------------------


def _as_of(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _positive(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 1 or more")
    return n


def _target(text: str) -> float:
    try:
        v = float(text.rstrip("%"))
    except ValueError:
        v = -1.0
    if not 0 <= v <= 100:
        raise argparse.ArgumentTypeError(f"{text!r} is not a percentage from 0 to 100")
    return v


def _inputs_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("inputs")
    g.add_argument("--export", required=True, metavar="CSV",
                   help="ESR competence export (Employee Number, Competency Name, Expiry Date, VPD); UTF-8 or cp1252")
    g.add_argument("--assignments", required=True, metavar="FILE",
                   help="staff table, CSV or Parquet: assignment_id, person_id (employee number), position_id")
    g.add_argument("--requirements", required=True, metavar="FILE",
                   help="requirements table, CSV or Parquet: position_id, competency_id (the competence name), "
                        "and optionally essential (true/false; desirable rows are not counted) and min_level "
                        "(a rank or ESR's '1 - Assessed')")
    g.add_argument("--vpd", required=True, help="the trust's VPD code; the export's rows for other VPDs are refused")
    g.add_argument("--encoding", default=None, help="the export's encoding (default: UTF-8, else cp1252)")
    g.add_argument("--skip-bad-rows", action="store_true", help="skip the export's bad rows instead of refusing it")
    g.add_argument("--org-unit-column", metavar="COLUMN", default=None,
                   help="the assignments table's organisation unit column (default: org_unit if there is one)")
    g.add_argument("--name-column", metavar="COLUMN", default=None,
                   help="the assignments table's name column, for the lists (default: name if there is one)")
    s = p.add_argument_group("scoring")
    s.add_argument("--as-of", type=_as_of, default=None, metavar="YYYY-MM-DD", help="the day to score on (default: today)")
    s.add_argument("--amber-months", type=_positive, default=3, metavar="N", help="the Amber window (default: 3 months)")
    s.add_argument("--threads", type=_positive, default=None, metavar="N", help="threads to use (default: all cores)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="show how far the export's import has got on stderr (default: when stderr is a terminal)")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="esr", description="Score ESR competence exports and report compliance.",
        epilog="Exit codes: 0 done, 1 an input is wrong, 2 the command line is wrong, "
               "3 matplotlib is missing (pip install 'esr[report]').",
    )
    p.add_argument("--version", action="version", version=f"esr {_version()}")
    sub = p.add_subparsers(dest="command", required=True, metavar="{score,report}")
    score = sub.add_parser("score", help="counts per assignment and detail rows, as Parquet or CSV")
    _inputs_arguments(score)
    o = score.add_argument_group("outputs (at least one; .parquet or .csv)")
    o.add_argument("--scores", metavar="FILE", help="one row per assignment: required, green, amber, red, percent")
    o.add_argument("--detail", metavar="FILE", help="one row per assignment and competence: status, expiry, days_left")
    o.add_argument("--held-not-required", action="store_true", help="add Blue detail rows (held, not required)")
    report = sub.add_parser("report", help="a self-contained HTML compliance report")
    _inputs_arguments(report)
    r = report.add_argument_group("report")
    r.add_argument("--html", required=True, metavar="FILE", help="where to write the report")
    r.add_argument("--target", type=_target, default=DEFAULT_TARGET, metavar="PERCENT", help="the target (default: 90)")
    r.add_argument("--title", default="Statutory and mandatory training compliance", help="the report's title")
    r.add_argument("--list-limit", type=_positive, default=DEFAULT_LIST_LIMIT, metavar="N",
                   help=f"at most N rows in each list (default: {DEFAULT_LIST_LIMIT})")
    return p


def run_score(args: argparse.Namespace) -> int:
    if args.scores is None and args.detail is None:
        raise UsageProblem("score: give --scores FILE, --detail FILE or both")
    _check_output(args.scores, "--scores")
    _check_output(args.detail, "--detail")
    as_of = args.as_of or dt.date.today()
    inputs = load_inputs(args)
    scores, detail = _score(inputs, as_of, args, args.detail is not None)
    if args.scores:
        write_table(scores, Path(args.scores))
    if detail is not None:
        write_table(detail, Path(args.detail))
    required = pc.sum(scores.column("required")).as_py() or 0
    ok = (pc.sum(scores.column("green")).as_py() or 0) + (pc.sum(scores.column("amber")).as_py() or 0)
    wrote = ", ".join(f"{p} ({t.num_rows:,} rows)" for p, t in ((args.scores, scores), (args.detail, detail)) if p)
    print(f"{scores.num_rows:,} assignments scored as of {as_of.isoformat()}: {_fmt(_percent(ok, required))} "
          f"in date; wrote {wrote}")
    return EXIT_OK


def run_report(args: argparse.Namespace) -> int:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("esr: error: the report needs matplotlib, which is not installed: "
              "pip install 'esr[report]'  (or: pip install matplotlib)", file=sys.stderr)
        return EXIT_MISSING_DEPENDENCY
    as_of = args.as_of or dt.date.today()
    then = end_of_next_month(as_of)
    inputs = load_inputs(args)
    scores, detail = _score(inputs, as_of, args, True)
    _, future = _score(inputs, then, args, True)
    page = render_report(inputs, scores, detail, future, as_of, then, args.target, args.title, args.list_limit)
    out = Path(args.html)
    try:
        out.write_text(page, encoding="utf-8")
    except OSError as e:
        raise InputProblem(f"cannot write {out}: {e.strerror or e}") from None
    required = pc.sum(scores.column("required")).as_py() or 0
    ok = (pc.sum(scores.column("green")).as_py() or 0) + (pc.sum(scores.column("amber")).as_py() or 0)
    print(f"wrote {out}: {_fmt(_percent(ok, required))} in date as of {as_of.isoformat()} (target {args.target:g}%)")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "score":
            return run_score(args)
        return run_report(args)
    except UsageProblem as e:
        parser.print_usage(sys.stderr)
        print(f"esr: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except InputProblem as e:
        print(f"esr: error: {e}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("esr: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
