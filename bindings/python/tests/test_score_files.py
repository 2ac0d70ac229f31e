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
