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


def test_other_parquet_codecs_are_refused_with_what_to_do(tmp_path: Path) -> None:
    paths = []
    for name, t in zip(("a", "r", "h"), tables()):
        p = tmp_path / f"{name}.parquet"
        pq.write_table(t, p, compression="zstd")
        paths.append(p)
    with pytest.raises(esr.BulkInputError, match="compression='snappy'"):
        esr.score_files(*paths, AS_OF)
