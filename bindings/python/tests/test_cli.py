"""The command line (issue 20): `python -m esr score` and `esr report` end to end on small files
written here, their errors and exit codes, and the report rendered in headless Chromium."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

import esr
from esr import cli

VPD = "297"
AS_OF = "2026-11-23"
FIRE = "NHS|CSTF|Fire Safety - 1 Year|"
MOVING = "NHS|CSTF|Moving and Handling - Level 1 - 2 Years|"

# As of 2026-11-23 with the 3-month Amber window (to 2027-02-23); the end of next month is
# 2026-12-31 (its window runs to 2027-03-31).
EXPORT = (
    "Employee Number,Full Name,Competency Name,Expiry Date,VPD\r\n"
    f"20000001,Renée Ó Súilleabháin,{FIRE},30-Nov-2028,297\r\n"  # Green
    f"20000001,Renée Ó Súilleabháin,{MOVING},15-Mar-2027,297\r\n"  # Green, Amber by 31 Dec
    f"20000002,Zoë Brontë,{FIRE},01-Dec-2026,297\r\n"  # Amber, Red by 31 Dec
    f"20000003,Siân Williams,{FIRE},01-Jan-2026,297\r\n"  # Red
    f"20000004,Tom Jones,{FIRE},30-Nov-2028,297\r\n"  # Green
)  # 20000002 holds no Moving and Handling: Red
STAFF = (
    "assignment_id,person_id,position_id,org_unit,name\n"
    "20000001-1,20000001,N01,Ward 1,Renée Ó Súilleabháin\n"
    "20000002-1,20000002,N01,Ward 1,Zoë Brontë\n"
    "20000003-1,20000003,P07,Estates,Siân Williams\n"
    "20000004-1,20000004,P07,Estates,Tom Jones\n"
)
REQUIREMENTS = {"position_id": ["N01", "N01", "P07"], "competency_id": [FIRE, MOVING, FIRE]}


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    export = tmp_path / "competences.csv"
    export.write_bytes(EXPORT.encode("cp1252"))  # as Excel saves it
    staff = tmp_path / "staff.csv"
    staff.write_text(STAFF, encoding="utf-8")
    req_parquet = tmp_path / "requirements.parquet"
    pq.write_table(pa.table(REQUIREMENTS), req_parquet)
    req_csv = tmp_path / "requirements.csv"
    pacsv.write_csv(pa.table(REQUIREMENTS), req_csv)
    staff_parquet = tmp_path / "staff.parquet"
    pq.write_table(pacsv.read_csv(staff, convert_options=pacsv.ConvertOptions(column_types={"position_id": pa.string()})), staff_parquet)
    return {"export": export, "staff": staff, "staff_parquet": staff_parquet, "req": req_parquet, "req_csv": req_csv, "dir": tmp_path}


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "esr", *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=120
    )


def inputs(f: dict[str, Path], staff: str = "staff", req: str = "req") -> list[str | Path]:
    return ["--export", f["export"], "--assignments", f[staff], "--requirements", f[req], "--vpd", VPD, "--as-of", AS_OF]


# ----- score -----------------------------------------------------------------------------


@pytest.mark.parametrize(("staff", "req", "scores_name", "detail_name"), [
    ("staff", "req", "scores.parquet", "detail.csv"),
    ("staff_parquet", "req_csv", "scores.csv", "detail.parquet"),
])
def test_score_writes_scores_and_detail(files: dict[str, Path], staff: str, req: str, scores_name: str, detail_name: str) -> None:
    out, det = files["dir"] / scores_name, files["dir"] / detail_name
    p = run("score", *inputs(files, staff, req), "--scores", out, "--detail", det)
    assert p.returncode == 0, p.stderr
    assert "4 assignments scored as of 2026-11-23: 66.7% in date" in p.stdout

    def read(path: Path) -> pa.Table:
        if path.suffix == ".csv":
            return pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(column_types={"assignment_id": pa.string()}))
        return pq.read_table(path)

    scores = read(out).to_pydict()
    assert scores["assignment_id"] == ["20000001-1", "20000002-1", "20000003-1", "20000004-1"]
    assert scores["person_id"] == [20000001, 20000002, 20000003, 20000004]
    assert (scores["required"], scores["green"], scores["amber"], scores["red"]) == ([2, 2, 1, 1], [2, 0, 0, 1], [0, 1, 0, 0], [0, 1, 1, 0])
    detail = read(det)
    rows = {(r["assignment_id"], r["competency_id"]): r["status"] for r in detail.to_pylist()}
    assert rows == {
        ("20000001-1", FIRE): "Green", ("20000001-1", MOVING): "Green",
        ("20000002-1", FIRE): "Amber", ("20000002-1", MOVING): "Red",
        ("20000003-1", FIRE): "Red", ("20000004-1", FIRE): "Green",
    }


def test_score_agrees_with_the_library(files: dict[str, Path]) -> None:
    out = files["dir"] / "scores.parquet"
    assert run("score", *inputs(files), "--scores", out, "--amber-months", "1", "--threads", "1").returncode == 0
    holdings = esr.read_competence_csv(files["export"], VPD)
    staff = pacsv.read_csv(files["staff"], convert_options=pacsv.ConvertOptions(column_types={"position_id": pa.string()}))
    want = esr.score_compliance(staff.select(["assignment_id", "person_id", "position_id"]), pa.table(REQUIREMENTS),
                                holdings, dt.date(2026, 11, 23), 1)
    got = pq.read_table(out)
    assert got.column("percent").to_pylist() == want.column("percent").to_pylist()
    assert got.equals(want)


def test_progress_on_stderr(files: dict[str, Path]) -> None:
    p = run("score", *inputs(files), "--scores", files["dir"] / "s.parquet", "--progress")
    assert p.returncode == 0, p.stderr
    assert re.search(r"reading competences\.csv: .* \(100%\), .* MB/s in \d+\.\d s", p.stderr), p.stderr
    quiet = run("score", *inputs(files), "--scores", files["dir"] / "s.parquet", "--no-progress")
    assert quiet.stderr == ""


def test_console_script_and_version() -> None:
    script = Path(sys.executable).parent / ("esr.exe" if os.name == "nt" else "esr")
    assert script.exists(), "the wheel installs an `esr` console script ([project.scripts])"
    p = subprocess.run([script, "--version"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and p.stdout.strip() == f"esr {esr.__version__}"
    assert subprocess.run([script, "score", "--help"], capture_output=True, text=True, timeout=60).stdout.count("--export") >= 1


# ----- errors ----------------------------------------------------------------------------


def test_a_missing_file_is_named(files: dict[str, Path]) -> None:
    args = inputs(files)
    args[3] = files["dir"] / "nowhere.csv"
    p = run("score", *args, "--scores", files["dir"] / "s.parquet")
    assert p.returncode == cli.EXIT_INPUT
    assert "cannot read the assignments table" in p.stderr and "nowhere.csv: no such file" in p.stderr
    args = inputs(files)
    args[1] = files["dir"] / "no-export.csv"
    p = run("score", *args, "--scores", files["dir"] / "s.parquet")
    assert p.returncode == cli.EXIT_INPUT and "cannot read the export" in p.stderr and "no-export.csv" in p.stderr


def test_a_missing_column_is_named_with_the_file(files: dict[str, Path]) -> None:
    files["staff"].write_text(STAFF.replace("position_id", "post"), encoding="utf-8")
    p = run("score", *inputs(files), "--scores", files["dir"] / "s.parquet")
    assert p.returncode == cli.EXIT_INPUT
    assert f"the assignments table {files['staff']} has no column position_id" in p.stderr
    assert "it has: assignment_id, person_id, post, org_unit, name" in p.stderr
    p = run("report", *inputs(files), "--org-unit-column", "ward", "--html", files["dir"] / "r.html")
    assert p.returncode == cli.EXIT_INPUT


def test_a_wrong_value_is_named_with_the_file_and_column(files: dict[str, Path]) -> None:
    files["staff"].write_text(STAFF.replace(",20000003,", ",SW3,"), encoding="utf-8")
    p = run("score", *inputs(files), "--scores", files["dir"] / "s.parquet")
    assert p.returncode == cli.EXIT_INPUT
    assert f"the assignments table {files['staff']}: column person_id" in p.stderr and "SW3" in p.stderr
    files["staff"].write_text(STAFF.replace(",20000003,P07", ",20000003,"), encoding="utf-8")
    p = run("score", *inputs(files), "--scores", files["dir"] / "s.parquet")
    assert p.returncode == cli.EXIT_INPUT and "column position_id has 1 empty values" in p.stderr


def test_an_export_of_another_trust_is_refused_naming_the_export(files: dict[str, Path]) -> None:
    args = inputs(files)
    args[7] = "999"
    p = run("score", *args, "--scores", files["dir"] / "s.parquet")
    assert p.returncode == cli.EXIT_INPUT
    assert f"the export {files['export']}" in p.stderr
    assert "Traceback" not in p.stderr


def test_usage_errors_exit_2(files: dict[str, Path]) -> None:
    for extra, message in [
        ([], "give --scores FILE, --detail FILE or both"),
        (["--scores", "out.xlsx"], "must end in .parquet or .csv"),
        (["--scores", "s.csv", "--as-of", "23/11/2026"], "is not a date"),
        (["--scores", "s.csv", "--threads", "0"], "is not a whole number"),
    ]:
        args = inputs(files)
        if "--as-of" in extra:
            args = args[:-2]
        p = run("score", *args, *extra, cwd=files["dir"])
        assert p.returncode == cli.EXIT_USAGE, (extra, p.stderr)
        assert message in p.stderr
    assert run().returncode == cli.EXIT_USAGE
    p = run("report", *inputs(files), "--html", files["dir"] / "r.html", "--target", "120")
    assert p.returncode == cli.EXIT_USAGE and "not a percentage" in p.stderr


def test_report_without_matplotlib_says_how_to_install_it(files: dict[str, Path], monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib raises ImportError
    code = cli.main(["report", *map(str, inputs(files)), "--html", str(files["dir"] / "r.html")])
    assert code == cli.EXIT_MISSING_DEPENDENCY
    assert "pip install 'esr[report]'" in capsys.readouterr().err
    assert not (files["dir"] / "r.html").exists()


def test_end_of_next_month() -> None:
    for day, want in [((2026, 11, 23), (2026, 12, 31)), ((2026, 12, 1), (2027, 1, 31)), ((2026, 1, 31), (2026, 2, 28)),
                      ((2027, 12, 31), (2028, 1, 31)), ((2028, 1, 15), (2028, 2, 29))]:
        assert cli.end_of_next_month(dt.date(*day)) == dt.date(*want)


# ----- the report ------------------------------------------------------------------------


def make_report(files: dict[str, Path]) -> tuple[Path, str]:
    report = files["dir"] / "report.html"
    p = run("report", *inputs(files), "--html", report, "--title", "Example Trust: compliance")
    assert p.returncode == 0, p.stderr
    assert "66.7% in date as of 2026-11-23 (target 90%)" in p.stdout
    return report, report.read_text(encoding="utf-8")


def test_report_is_self_contained(files: dict[str, Path]) -> None:
    _, page = make_report(files)
    # Nothing to fetch: no scripts, style sheets, images or fonts by URL (the SVG namespace
    # and its xlink are names, not requests).
    assert not re.search(r"<script|<link|<img|<iframe|@import|@font-face|url\((?!#)", page, re.I)
    urls = set(re.findall(r"https?://[^\s\"')<>]+", page))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink", "http://purl.org/dc/elements/1.1/",
                    "http://creativecommons.org/ns#", "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
                    "http://purl.org/dc/dcmitype/StillImage", "https://matplotlib.org/"}, urls
    assert page.count("<svg") == 1


def section(dom: str, element_id: str) -> str:
    start = dom.index(f'id="{element_id}"')
    end = dom.index("</table>", start) if "<table" in dom[start - 10:start] else dom.index("</", start)
    return dom[start:end]


@pytest.fixture(scope="module")
def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail("chromium is not installed (scripts/test installs Debian's chromium before pytest)")
    return path


def chromium_run(chromium: str, *args: str) -> subprocess.CompletedProcess[bytes]:
    with tempfile.TemporaryDirectory(prefix="esr-chromium-") as profile:
        return subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}", *args],
            capture_output=True, timeout=180,
        )


def test_report_renders_in_chromium_with_the_expected_figures(files: dict[str, Path], chromium: str) -> None:
    report, _ = make_report(files)
    p = chromium_run(chromium, "--dump-dom", report.as_uri())
    assert p.returncode == 0, p.stderr.decode(errors="replace")[-2000:]
    dom = p.stdout.decode("utf-8")
    assert "<h1>Example Trust: compliance</h1>" in dom
    assert section(dom, "trust-percent").endswith(">66.7%")
    by_subject = section(dom, "by-subject")
    assert re.search(r"Moving and Handling.*?>50\.0%<", by_subject) and re.search(r"Fire Safety.*?>75\.0%<", by_subject)
    by_org = section(dom, "by-org-unit")
    assert re.search(r"Estates</td>.*?>50\.0%<", by_org) and re.search(r"Ward 1</td>.*?>75\.0%<", by_org)
    red = section(dom, "red-list")
    assert "Zoë Brontë" in red and "Siân Williams" in red and "Renée" not in red and "Tom Jones" not in red
    assert "none held" in red and "2026-01-01" in red
    amber = section(dom, "amber-list")
    assert "Zoë Brontë" in amber and "Siân" not in amber
    turning = section(dom, "turning-list")
    assert "Renée Ó Súilleabháin" in turning and "Zoë Brontë" in turning and "Tom Jones" not in turning
    assert "Turning Amber or Red by 2026-12-31" in dom
    assert "<svg" in section(dom, "subject-chart") or "<svg" in dom[dom.index('id="subject-chart"'):][:400]


def test_report_screenshot_is_not_blank(files: dict[str, Path], chromium: str) -> None:
    from PIL import Image

    report, _ = make_report(files)
    png = files["dir"] / "report.png"
    p = chromium_run(chromium, f"--screenshot={png}", "--window-size=1200,1600", "--hide-scrollbars", report.as_uri())
    assert p.returncode == 0 and png.exists(), p.stderr.decode(errors="replace")[-2000:]
    with Image.open(png) as image:
        rgb = image.convert("RGB")
        assert rgb.size == (1200, 1600)
        colours = rgb.getcolors(maxcolors=1 << 20) or []
        # Text, the green and red bars and the tiles: many colours, and a fair part not white.
        assert len(colours) > 50, len(colours)
        white = sum(n for n, c in colours if c == (255, 255, 255))
        assert white < 0.97 * 1200 * 1600
        # The chart's bars: NHS green and red pixels are both there.
        assert any(abs(c[0] - 0x00) < 12 and abs(c[1] - 0x7F) < 12 and abs(c[2] - 0x3B) < 12 for _, c in colours)
        assert any(abs(c[0] - 0xD5) < 12 and abs(c[1] - 0x28) < 12 and abs(c[2] - 0x1B) < 12 for _, c in colours)


def test_score_applies_the_requirements_rule_columns(files: dict[str, Path]) -> None:
    # A desirable requirement and a minimum level change what is scored; the command once kept
    # only position_id and competency_id, so it counted the desirable row as required.
    rules = dict(REQUIREMENTS, essential=[True, False, True], min_level=["0 - Not Assessed"] * 3)
    req = files["dir"] / "requirements_rules.csv"
    pacsv.write_csv(pa.table(rules), req)
    out = files["dir"] / "scores.parquet"
    args = inputs(files)
    args[args.index("--requirements") + 1] = req
    p = run("score", *args, "--scores", out)
    assert p.returncode == 0, p.stderr
    holdings = esr.read_competence_csv(files["export"], VPD)
    staff = pacsv.read_csv(files["staff"], convert_options=pacsv.ConvertOptions(column_types={"position_id": pa.string()}))
    want = esr.score_compliance(staff.select(["assignment_id", "person_id", "position_id"]), pa.table(rules),
                                holdings, dt.date(2026, 11, 23))
    got = pq.read_table(out)
    assert got.equals(want)
    # Moving and Handling is desirable now: each N01 assignment requires one competence.
    assert got.column("required").to_pylist() == [1, 1, 1, 1]
