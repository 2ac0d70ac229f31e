"""esr.score_files: scoring straight from Parquet and Arrow IPC files (issue 24), checked
against esr.score_compliance and esr.compliance_detail on the same tables."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest

import esr
from test_analysts import as_text
from test_bulk import AS_OF, EXPECTED, tables


def write(tabs: tuple[pa.Table, ...], d: Path, kind: str, chunk: int = 3) -> list[Path]:
    paths = []
    for name, t in zip(("assignments", "requirements", "holdings"), tabs):
        p = d / f"{name}.{kind}"
        if kind == "parquet":
            pq.write_table(t, p, row_group_size=chunk)
        else:
            feather.write_feather(t, p, compression="uncompressed", chunksize=chunk)
        paths.append(p)
    return paths


def random_tables(n: int, seed: int = 7) -> tuple[pa.Table, pa.Table, pa.Table]:
    rng = np.random.default_rng(seed)
    people = np.arange(n)
    a = pa.table(
        {
            "assignment_id": np.arange(n + n // 5) + 10_000,
            "person_id": np.concatenate([people, people[: n // 5]]),
            "position_id": rng.integers(0, 40, n + n // 5),
        }
    )
    r = pa.table({"position_id": rng.integers(0, 40, 300), "competency_id": rng.integers(0, 90, 300)})
    k = n * 12
    base = (AS_OF - dt.date(1970, 1, 1)).days
    h = pa.table(
        {
            "person_id": np.sort(rng.integers(0, n + 10, k)),
            "competency_id": rng.integers(0, 100, k).astype(np.int32),
            "expiry": pa.array(
                (base - 400 + rng.integers(0, 900, k)).astype(np.int32),
                pa.date32(),
                mask=rng.random(k) < 0.05,
            ),
        }
    )
    return a, r, h


@pytest.mark.parametrize("kind", ["parquet", "arrow"])
def test_a_hand_checked_case_from_files(kind: str, tmp_path: Path) -> None:
    paths = write(tables(), tmp_path, kind)
    out = esr.score_files(*paths, AS_OF)
    assert isinstance(out, pa.Table)
    assert out.to_pydict() == EXPECTED
    assert esr.score_files(*map(str, paths), AS_OF).to_pydict() == EXPECTED


@pytest.mark.parametrize("kind", ["parquet", "arrow"])
def test_files_score_as_the_tables_do(kind: str, tmp_path: Path) -> None:
    tabs = random_tables(3_000)
    paths = write(tabs, tmp_path, kind, chunk=5_000)
    want = esr.score_compliance(*tabs, AS_OF)
    for threads in (1, 2, None):
        assert esr.score_files(*paths, AS_OF, threads=threads).equals(want)
    for blue in (False, True):
        want_d = esr.compliance_detail(*tabs, AS_OF, held_not_required=blue)
        got_d = esr.score_files(*paths, AS_OF, detail=True, held_not_required=blue)
        assert got_d.equals(want_d)


def test_text_ids_from_files(tmp_path: Path) -> None:
    tabs = tuple(as_text(t) for t in tables())
    paths = write(tabs, tmp_path, "parquet")
    assert esr.score_files(*paths, AS_OF).equals(esr.score_compliance(*tabs, AS_OF))
    got = esr.score_files(*paths, AS_OF, detail=True)
    assert got.equals(esr.compliance_detail(*tabs, AS_OF))


def test_datasets_and_output_libraries(tmp_path: Path) -> None:
    paths = write(tables(), tmp_path, "parquet")
    out = esr.score_files(*(ds.dataset(p) for p in paths), AS_OF, output="polars")
    assert out.to_dict(as_series=False) == EXPECTED


def test_bad_files_are_refused(tmp_path: Path) -> None:
    paths = write(tables(), tmp_path, "parquet")
    other = tmp_path / "x.csv"
    other.write_text("a,b\n1,2\n")
    with pytest.raises(esr.BulkInputError, match="neither a Parquet file"):
        esr.score_files(paths[0], paths[1], other, AS_OF)
    with pytest.raises(esr.BulkInputError, match="has no column person_id"):
        esr.score_files(paths[0], paths[1], paths[1], AS_OF)
    with pytest.raises(OSError):
        esr.score_files(paths[0], paths[1], tmp_path / "missing.parquet", AS_OF)
    with pytest.raises(TypeError, match="argument 'holdings'"):
        esr.score_files(paths[0], paths[1], 42, AS_OF)


@pytest.mark.parametrize("codec", ["zstd", "none"])
def test_polars_default_codec_reads_as_snappy_does(tmp_path: Path, codec: str) -> None:
    # polars writes zstd unless told: an analyst's polars files must score as they are.
    paths = []
    for name, t in zip(("a", "r", "h"), tables()):
        p = tmp_path / f"{name}.parquet"
        pq.write_table(t, p, compression=codec)
        paths.append(p)
    (tmp_path / "snappy").mkdir()
    snappy = write(tables(), tmp_path / "snappy", "parquet")
    assert esr.score_files(*paths, AS_OF).equals(esr.score_files(*snappy, AS_OF))


def test_other_parquet_codecs_are_refused_with_what_to_do(tmp_path: Path) -> None:
    paths = []
    for name, t in zip(("a", "r", "h"), tables()):
        p = tmp_path / f"{name}.parquet"
        pq.write_table(t, p, compression="brotli")
        paths.append(p)
    with pytest.raises(esr.BulkInputError, match="compression='snappy' or 'zstd'"):
        esr.score_files(*paths, AS_OF)


def write_export(path: Path, people: np.ndarray, names: list[str], expiry: np.ndarray, bad_line: bool = False) -> None:
    """An ESR competence export (CSV) of the given records; an empty expiry never expires."""
    epoch = dt.date(1970, 1, 1)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("Employee Number,Competency Name,Expiry Date,VPD\n")
        for i, (p, n, e) in enumerate(zip(people, names, expiry)):
            text = "" if e < 0 else (epoch + dt.timedelta(days=int(e))).strftime("%d-%b-%Y")
            if bad_line and i == 5:
                f.write(f"{p},Fire Safety,{text},297\n")
            f.write(f"{p},{n},{text},297\n")


@pytest.mark.parametrize("threads", [1, 2, None])
def test_a_competence_export_scores_in_one_pass(tmp_path: Path, threads: int | None) -> None:
    rng = np.random.default_rng(11)
    n = 40_000  # about 5 MB of CSV: many blocks
    a, r, _ = random_tables(n)
    a = a.set_column(1, "person_id", pa.array(a.column("person_id").to_numpy() + 20_000_000))
    topic = lambda c: f"NHS|CSTF|Topic {c} - 1 Year|"  # noqa: E731
    r = r.set_column(1, "competency_id", pa.array([topic(c) for c in r.column("competency_id").to_pylist()]))
    k = n * 3
    people = rng.integers(0, n + 10, k) + 20_000_000
    names = [topic(c) for c in rng.integers(0, 100, k)]
    base = (AS_OF - dt.date(1970, 1, 1)).days
    expiry = base - 400 + rng.integers(0, 900, k)
    expiry[rng.random(k) < 0.05] = -1
    export = tmp_path / "export.csv"
    write_export(export, people, names, expiry)
    pq.write_table(a, tmp_path / "a.parquet", row_group_size=7_000)
    pq.write_table(r, tmp_path / "r.parquet")
    want = esr.score_compliance(a, r, esr.read_competence_csv(export, vpd="297"), AS_OF)
    got = esr.score_files(tmp_path / "a.parquet", tmp_path / "r.parquet", str(export), AS_OF, vpd="297", threads=threads)
    assert got.equals(want)
    assert sum(got.column("green").to_pylist()) > 0 and sum(got.column("red").to_pylist()) > 0
    pl = esr.score_files(tmp_path / "a.parquet", tmp_path / "r.parquet", export, AS_OF, vpd="297", output="polars")
    assert pl.equals(esr.score_compliance(a, r, esr.read_competence_csv(export, vpd="297"), AS_OF, output="polars"))


def test_a_competence_export_refusals(tmp_path: Path) -> None:
    a, r, _ = random_tables(50)
    a = a.set_column(1, "person_id", pa.array(a.column("person_id").to_numpy() + 20_000_000))
    pq.write_table(a, tmp_path / "a.parquet")
    pq.write_table(r, tmp_path / "r.parquet")
    export = tmp_path / "export.csv"
    write_export(export, np.arange(10) + 20_000_000, ["NHS|CSTF|Topic 1 - 1 Year|"] * 10, np.full(10, -1), bad_line=True)
    rt = pa.table({"position_id": [1], "competency_id": ["NHS|CSTF|Topic 1 - 1 Year|"]})
    pq.write_table(rt, tmp_path / "rt.parquet")
    # A bad row refuses the export, naming its line, as read_competence_csv does.
    with pytest.raises(esr.BulkInputError, match="line 7"):
        esr.score_files(tmp_path / "a.parquet", tmp_path / "rt.parquet", export, AS_OF, vpd="297")
    # Integer competency ids cannot match the export's names.
    with pytest.raises(esr.BulkInputError, match="competency_id"):
        esr.score_files(tmp_path / "a.parquet", tmp_path / "r.parquet", export, AS_OF, vpd="297")
    with pytest.raises(esr.InvalidInputError, match="detail"):
        esr.score_files(tmp_path / "a.parquet", tmp_path / "rt.parquet", export, AS_OF, vpd="297", detail=True)
    with pytest.raises(esr.InvalidInputError, match="vpd"):
        esr.score_files(tmp_path / "a.parquet", tmp_path / "rt.parquet", export, AS_OF, encoding="cp1252")
    with pytest.raises(FileNotFoundError):
        esr.score_files(tmp_path / "a.parquet", tmp_path / "rt.parquet", tmp_path / "nope.csv", AS_OF, vpd="297")


# ----- the full rules (issue 25's one truth) through score_files ------------------------------


def rule_columns_tables() -> tuple[pa.Table, pa.Table, pa.Table]:
    """Integer ids; the requirements carry essential and min_level, the holdings a level."""
    a = pa.table({"assignment_id": [1, 2, 3], "person_id": [10, 20, 30], "position_id": [100, 100, 200]})
    r = pa.table(
        {
            "position_id": [100, 100, 200],
            "competency_id": [5, 6, 5],
            "essential": [True, False, True],
            "min_level": pa.array([2, 0, 0], pa.int8()),
        }
    )
    later = dt.date(2030, 1, 1)
    h = pa.table(
        {
            "person_id": [10, 20, 30, 20],
            "competency_id": [5, 5, 5, 6],
            "expiry": pa.array([later, later, later, dt.date(2020, 1, 1)], pa.date32()),
            "level": pa.array([1, 3, 0, 1], pa.int8()),
        }
    )
    return a, r, h


@pytest.mark.parametrize("kind", ["parquet", "arrow"])
def test_rule_columns_in_the_files_score_as_the_tables_do(kind: str, tmp_path: Path) -> None:
    # Before, score_files read only the key columns: the desirable row counted as required and
    # the minimum level was ignored, so the same files scored differently from the tables.
    tabs = rule_columns_tables()
    paths = write(tabs, tmp_path, kind)
    want = esr.score_compliance(*tabs, AS_OF)
    got = esr.score_files(*paths, AS_OF)
    assert got.equals(want), (got.to_pydict(), want.to_pydict())
    # Person 10's level 1 is below the minimum 2: Red; the desirable 6 is not required.
    assert got.column("required").to_pylist() == [1, 1, 1]
    assert got.column("red").to_pylist() == [1, 0, 0]
    for blue in (False, True):
        want_d = esr.compliance_detail(*tabs, AS_OF, held_not_required=blue)
        got_d = esr.score_files(*paths, AS_OF, detail=True, held_not_required=blue)
        assert got_d.equals(want_d)
    assert "below the minimum level" in got_d.column("red_reason").to_pylist()


def test_rule_tables_as_files_or_tables_score_as_score_compliance(tmp_path: Path) -> None:
    from test_bulk_rules import AS_OF as RULES_AS_OF
    from test_bulk_rules import tables as rules_tables

    a, r, h, ou, ur, jr, eq = rules_tables()
    paths = write((a, r, h), tmp_path, "parquet")
    names = ("org_units", "org_unit_requirements", "job_requirements", "equivalences")
    rule_tabs = dict(zip(names, (ou, ur, jr, eq)))
    rule_paths = {}
    for name, t in rule_tabs.items():
        pq.write_table(t, tmp_path / f"{name}.parquet")
        rule_paths[name] = tmp_path / f"{name}.parquet"
    want = esr.score_compliance(a, r, h, RULES_AS_OF, **rule_tabs)
    want_d = esr.compliance_detail(a, r, h, RULES_AS_OF, held_not_required=True, **rule_tabs)
    for given in (rule_tabs, rule_paths, {k: str(v) for k, v in rule_paths.items()}):
        assert esr.score_files(*paths, RULES_AS_OF, **given).equals(want)
        assert esr.score_files(*paths, RULES_AS_OF, detail=True, held_not_required=True, **given).equals(want_d)
    # A pandas frame and a dataset over one file are taken too.
    mixed = {"org_units": ou.to_pandas(), "equivalences": ds.dataset(rule_paths["equivalences"])}
    assert esr.score_files(*paths, RULES_AS_OF, **mixed).equals(esr.score_compliance(a, r, h, RULES_AS_OF, org_units=ou, equivalences=eq))
    # The full rules change the answer here: the position-only scores differ.
    assert not esr.score_compliance(a.select([0, 1, 2]), r.select([0, 1]), h.select([0, 1, 2]), RULES_AS_OF).equals(want)


def test_rule_tables_that_cannot_be_read_are_refused(tmp_path: Path) -> None:
    paths = write(rule_columns_tables(), tmp_path, "parquet")
    with pytest.raises(FileNotFoundError, match="equivalences"):
        esr.score_files(*paths, AS_OF, equivalences=tmp_path / "nope.parquet")
    pq.write_table(pa.table({"competency_id": [1]}), tmp_path / "eq.parquet")
    with pytest.raises(esr.BulkInputError, match="satisfies_competency_id"):
        esr.score_files(*paths, AS_OF, equivalences=tmp_path / "eq.parquet")


def test_a_competence_export_with_rules_scores_as_its_table_does(tmp_path: Path) -> None:
    fire, adults1, adults3 = "NHS|CSTF|Fire Safety - 1 Year|", "NHS|CSTF|Adults L1 - 3 Years|", "NHS|CSTF|Adults L3 - 3 Years|"
    a = pa.table({"assignment_id": [1, 2], "person_id": [20_000_001, 20_000_002], "position_id": [7, 7]})
    r = pa.table(
        {
            "position_id": [7, 7],
            "competency_id": [fire, adults1],
            "essential": [True, True],
            "min_level": ["0 - Not Assessed", "1 - Assessed"],
        }
    )
    export = tmp_path / "export.csv"
    export.write_text(
        "Employee Number,Competency Name,Expiry Date,Competence Level,VPD\n"
        f"20000001,{fire},01-Jan-2030,0 - Not Assessed,297\n"
        f"20000001,{adults3},01-Jan-2030,1 - Assessed,297\n"
        f"20000002,{adults1},01-Jan-2030,0 - Not Assessed,297\n",
        encoding="utf-8",
    )
    eq = pa.table({"competency_id": [adults3], "satisfies_competency_id": [adults1]})
    pq.write_table(a, tmp_path / "a.parquet")
    pq.write_table(r, tmp_path / "r.parquet")
    for kw in ({}, {"equivalences": eq}):
        want = esr.score_compliance(a, r, esr.read_competence_csv(export, vpd="297"), AS_OF, **kw)
        got = esr.score_files(tmp_path / "a.parquet", tmp_path / "r.parquet", export, AS_OF, vpd="297", **kw)
        assert got.equals(want), (got.to_pydict(), want.to_pydict())
        dataset = ds.dataset(export, format="csv")
        assert esr.score_files(tmp_path / "a.parquet", tmp_path / "r.parquet", dataset, AS_OF, vpd="297", **kw).equals(want)
    # Person 1's Adults L1 comes through L3 only by equivalence; person 2 has no Fire and an
    # Adults L1 below its minimum.
    assert got.column("red").to_pylist() == [0, 2]
    assert esr.score_files(tmp_path / "a.parquet", tmp_path / "r.parquet", export, AS_OF, vpd="297").column("red").to_pylist() == [1, 2]
