"""What a workforce analyst does with ESR exports (issue 20): text keys as ESR writes them,
exports as Excel saves them, detail rows, their own DataFrame library back, and one meaning per
argument type."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import esr
from test_bulk import AS_OF, EXPECTED, tables
from test_service import VPD, World, build, competence

TEXT_TYPES = [pa.string(), pa.large_string(), pa.string_view(), pa.dictionary(pa.int32(), pa.string())]


def as_text(t: pa.Table, type_: pa.DataType = pa.string()) -> pa.Table:
    """Every id column of `t` as text of `type_`, as ESR writes ids (assignment 100 -> '100-1')."""
    out = t
    for i, name in enumerate(t.column_names):
        if name == "expiry":
            continue
        suffix = "-1" if name == "assignment_id" else ""
        col = pa.array([f"{v}{suffix}" for v in t.column(name).to_pylist()]).cast(type_)
        out = out.set_column(i, name, col)
    return out


@pytest.mark.parametrize("type_", TEXT_TYPES, ids=str)
def test_text_keys_in_every_column_score_as_integers_do(type_: pa.DataType) -> None:
    a, r, h = (as_text(t, type_) for t in tables())
    got = esr.score_compliance(a, r, h, AS_OF)
    want = {**EXPECTED, "assignment_id": [f"{i}-1" for i in EXPECTED["assignment_id"]],
            "person_id": [str(p) for p in EXPECTED["person_id"]]}
    assert got.to_pydict() == want
    # The assignment and person columns come back as given.
    assert got.schema.field("assignment_id").type == type_


def test_text_keys_are_matched_exactly() -> None:
    a, r, h = (as_text(t) for t in tables())
    # "1 " and "01" are other people than "1": ids are not trimmed or parsed.
    for other in ("1 ", "01"):
        h2 = h.set_column(0, "person_id", pa.array([other if p == "1" else p for p in h.column("person_id").to_pylist()]))
        assert esr.score_compliance(a, r, h2, AS_OF).column("red").to_pylist()[:2] == [3, 1]


def test_text_and_integer_keys_mix_across_keys_but_not_within_one() -> None:
    a, r, h = tables()
    ta, tr, th = (as_text(t) for t in tables())
    # Text assignment and position ids, integer people and competencies: fine.
    mixed_a = a.set_column(0, "assignment_id", ta.column("assignment_id")).set_column(2, "position_id", ta.column("position_id"))
    mixed_r = r.set_column(0, "position_id", tr.column("position_id"))
    got = esr.score_compliance(mixed_a, mixed_r, h, AS_OF)
    assert got.column("green").to_pylist() == EXPECTED["green"]
    for args, match in [
        ((ta, r, th), r"assignments table's column position_id holds text \(Utf8\) but the requirements table's column position_id holds integers \(Int64\)"),
        ((ta, tr, h), r"assignments table's column person_id holds text \(Utf8\) but the holdings table's column person_id holds integers"),
        ((a, r, pl.from_arrow(th).with_columns(pl.col("person_id").cast(pl.Int64))), r"requirements table's column competency_id holds integers \(Int64\) but the holdings table's column competency_id holds text"),
    ]:
        with pytest.raises(esr.BulkInputError, match=match):
            esr.score_compliance(*args, AS_OF)


def test_text_keys_from_polars_and_pandas() -> None:
    a, r, h = (as_text(t) for t in tables())
    want = esr.score_compliance(a, r, h, AS_OF)
    got = esr.score_compliance(pl.from_arrow(a), pl.from_arrow(r), pl.from_arrow(h), AS_OF)
    assert isinstance(got, pl.DataFrame)
    assert got.to_dict(as_series=False) == want.to_pydict()
    ap, rp, hp = a.to_pandas(), r.to_pandas(), h.to_pandas()
    ap["person_id"] = ap["person_id"].astype("category")
    got = esr.score_compliance(ap, rp, hp, AS_OF)
    assert isinstance(got, pd.DataFrame)
    assert got["percent"].tolist()[:4] == want.column("percent").to_pylist()[:4]


def test_large_text_keys_agree_with_integer_keys() -> None:
    rng = np.random.default_rng(20)
    n, people, comps = 50_000, 20_000, 30
    a = pa.table({"assignment_id": np.arange(people), "person_id": np.arange(people), "position_id": np.arange(people) % 50})
    r = pa.table({"position_id": np.repeat(np.arange(50), 8), "competency_id": rng.integers(0, comps, 400)})
    expiry = (np.datetime64("2026-11-23") + rng.integers(-200, 400, n).astype("timedelta64[D]"))
    h = pa.table({"person_id": rng.integers(0, people, n), "competency_id": rng.integers(0, comps, n), "expiry": pa.array(expiry, pa.date32())})
    want = esr.score_compliance(a, r, h, AS_OF, threads=1)
    text = [as_text(t, pa.large_string()) for t in (a, r, h)]
    got = esr.score_compliance(*text, AS_OF, threads=2)
    assert got.drop_columns(["assignment_id", "person_id"]).equals(want.drop_columns(["assignment_id", "person_id"]))


# Detail rows


def test_detail_rows_by_hand() -> None:
    d = esr.compliance_detail(*tables(), AS_OF)
    assert isinstance(d, pa.Table)
    assert d.column_names == ["assignment_id", "person_id", "competency_id", "essential", "status", "expiry", "days_left", "need", "red_reason"]
    rows = [(x["assignment_id"], x["competency_id"], x["status"], x["days_left"]) for x in d.to_pylist()]
    assert rows == [
        (100, 7, "Green", 93), (100, 8, "Amber", 92), (100, 9, "Green", None),
        (101, 7, "Green", 93),
        (102, 7, "Amber", 0), (102, 8, "Red", -1), (102, 9, "Green", 4787),
        (103, 7, "Red", None), (103, 8, "Red", None), (103, 9, "Red", None),
    ]
    assert d.column("expiry").to_pylist()[1] == dt.date(2027, 2, 23)
    assert d.column("person_id").to_pylist()[:4] == [1, 1, 1, 1]
    assert d.schema.field("expiry").type == pa.date32()


def test_detail_rows_sum_to_the_counts() -> None:
    a, r, h = tables()
    for args in [(a, r, h), tuple(as_text(t) for t in (a, r, h))]:
        scores = esr.score_compliance(*args, AS_OF, output="polars")
        detail = esr.compliance_detail(*args, AS_OF, output="polars")
        sums = (
            detail.group_by("assignment_id")
            .agg(required=pl.len(), **{s.lower(): (pl.col("status") == s).sum() for s in ("Green", "Amber", "Red")})
        )
        joined = scores.join(sums, on="assignment_id", how="left", suffix="_d").fill_null(0)
        for c in ("required", "green", "amber", "red"):
            assert joined[c].cast(pl.Int64).to_list() == joined[f"{c}_d"].cast(pl.Int64).to_list()


def test_held_not_required_gives_blue_rows() -> None:
    d = esr.compliance_detail(*tables(), AS_OF, held_not_required=True, output="pandas")
    assert isinstance(d, pd.DataFrame)
    blue = d[d["status"] == "Blue"]
    # Person 1 holds 8 and 9, which position 11 does not require; person 3 holds 42, required
    # nowhere; person 4 holds 7, which position 99 does not require.
    assert sorted(zip(blue["assignment_id"], blue["competency_id"])) == [(101, 8), (101, 9), (103, 42), (104, 7)]
    assert not blue["essential"].any()
    red = d[d["status"] == "Red"]
    assert sorted(set(red["assignment_id"])) == [102, 103]


def test_who_is_red_in_what_with_text_names() -> None:
    a, r, h = (as_text(t) for t in tables())
    d = esr.compliance_detail(pl.from_arrow(a).lazy(), r, h, AS_OF)
    assert isinstance(d, pl.DataFrame)
    red = d.filter(pl.col("status") == "Red").select("person_id", "competency_id").rows()
    assert red == [("2", "8"), ("3", "7"), ("3", "8"), ("3", "9")]


# Your library back


def test_each_library_gets_its_own_back_and_output_chooses() -> None:
    a, r, h = tables()
    assert isinstance(esr.score_compliance(a, r, h, AS_OF), pa.Table)
    assert isinstance(esr.score_compliance(pl.from_arrow(a), r, h, AS_OF), pl.DataFrame)
    assert isinstance(esr.score_compliance(pl.from_arrow(a).lazy(), r, h, AS_OF), pl.DataFrame)
    assert isinstance(esr.score_compliance(a.to_pandas(), r, h, AS_OF), pd.DataFrame)
    # The first table that is polars or pandas decides.
    assert isinstance(esr.score_compliance(a, r.to_pandas(), pl.from_arrow(h), AS_OF), pd.DataFrame)
    for output, kind in [("pyarrow", pa.Table), ("pandas", pd.DataFrame), ("polars", pl.DataFrame)]:
        assert isinstance(esr.score_compliance(pl.from_arrow(a), r, h, AS_OF, output=output), kind)
        assert isinstance(esr.compliance_detail(a.to_pandas(), r, h, AS_OF, output=output), kind)
        assert isinstance(esr.read_competence_csv(export_bytes(), vpd=VPD, output=output), kind)
    with pytest.raises(esr.InvalidInputError, match='output is "excel"'):
        esr.score_compliance(a, r, h, AS_OF, output="excel")


def test_lazy_frames_are_collected() -> None:
    lazy = [pl.from_arrow(t).lazy() for t in tables()]
    got = esr.score_compliance(*lazy, AS_OF)
    assert got.to_dict(as_series=False) == EXPECTED


@pytest.mark.parametrize(
    "as_of",
    [AS_OF, dt.datetime(2026, 11, 23, 23, 59), pd.Timestamp("2026-11-23 08:00"),
     np.datetime64("2026-11-23"), np.datetime64("2026-11-23T17:00:00.123456789"),
     dt.datetime(2026, 11, 23, 1, tzinfo=dt.timezone.utc)],
    ids=repr,
)
def test_as_of_takes_dates_datetimes_timestamps_and_datetime64(as_of: Any) -> None:
    assert esr.score_compliance(*tables(), as_of).to_pydict() == EXPECTED


def test_as_of_that_is_not_a_date() -> None:
    for nat in (pd.NaT, np.datetime64("NaT")):
        with pytest.raises(esr.InvalidInputError, match="NaT"):
            esr.score_compliance(*tables(), nat)
    for wrong in ("2026-11-23", 20261123, None):
        with pytest.raises(TypeError, match="argument 'as_of'"):
            esr.score_compliance(*tables(), wrong)


def test_threads() -> None:
    one = esr.score_compliance(*tables(), AS_OF, threads=1)
    assert esr.score_compliance(*tables(), AS_OF, threads=8).equals(one)
    assert esr.compliance_detail(*tables(), AS_OF, threads=1).equals(esr.compliance_detail(*tables(), AS_OF, threads=3))
    with pytest.raises(esr.InvalidInputError, match="threads is 0"):
        esr.score_compliance(*tables(), AS_OF, threads=0)
    with pytest.raises(TypeError, match="threads"):
        esr.score_compliance(*tables(), AS_OF, threads="2")  # type: ignore[arg-type]


# Exports as Excel saves them

HEAD = "Employee Number,Full Name,Competency Name,Expiry Date,VPD\r\n"


def export_bytes(encoding: str = "utf-8") -> bytes:
    text = (
        HEAD
        + "20000001,Renée Ó Súilleabháin,NHS|CSTF|Fire Safety – 1 Year|,30-Nov-2028,297\r\n"
        + "20000002,Zoë Brontë,NHS|CSTF|Fire Safety – 1 Year|,01-Dec-2026,297\r\n"
        + "20000003,Siân Williams,NHS|CSTF|Fire Safety – 1 Year|,,297\r\n"
    )
    return text.encode(encoding)


@pytest.mark.parametrize(
    ("data", "used"),
    [(export_bytes("cp1252"), "windows-1252"), (export_bytes("utf-8"), "utf-8"), (export_bytes("utf-8-sig"), "utf-8-sig")],
    ids=["cp1252", "utf-8", "utf-8-sig"],
)
def test_exports_in_utf8_or_cp1252_read_the_same(data: bytes, used: str, tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(data)
    t = esr.read_competence_csv(path, vpd=VPD)
    assert t.num_rows == 3  # no row refused, none skipped
    assert t.column("competency_id").to_pylist() == ["NHS|CSTF|Fire Safety – 1 Year|"] * 3
    assert t.schema.metadata == {b"encoding": used.encode()}
    assert esr.read_competence_csv(io.BytesIO(data), vpd=VPD, output="pandas").attrs["encoding"] == used


def test_a_named_encoding() -> None:
    data = export_bytes("cp1252")
    for name in ("cp1252", "latin-1", "windows-1252", "ISO-8859-1"):
        t = esr.read_competence_csv(data, vpd=VPD, encoding=name)
        assert t.schema.metadata == {b"encoding": b"windows-1252"}
        assert t.column("competency_id")[0].as_py() == "NHS|CSTF|Fire Safety – 1 Year|"
    # UTF-8 named, over cp1252 bytes: the dash is malformed and reads as U+FFFD, a new name.
    t = esr.read_competence_csv(data, vpd=VPD, encoding="utf-8")
    assert t.column("competency_id")[0].as_py() == "NHS|CSTF|Fire Safety \ufffd 1 Year|"
    with pytest.raises(esr.InvalidInputError, match='"ebcdic" is not an encoding'):
        esr.read_competence_csv(data, vpd=VPD, encoding="ebcdic")


@pytest.fixture
def w() -> World:
    return build()


def test_import_competences_reads_cp1252_and_says_so(w: World, tmp_path: Path) -> None:
    fire = competence(w, "Fire Safety - 1 Year")
    e = w.cat.employee_number
    text = HEAD + f"{e},Catherine Ní Bhriain,{fire},30-Nov-2028,297\r\n"
    path = tmp_path / "export.csv"
    path.write_bytes(text.encode("cp1252"))
    summary = w.esr.import_competences("learning", VPD, str(path))
    assert (summary.imported, summary.skipped, summary.encoding) == (1, [], "windows-1252")
    summary = w.esr.import_competences("learning", VPD, text.encode("utf-8-sig"))
    assert summary.encoding == "utf-8-sig"
    summary = w.esr.import_competences("learning", VPD, text.encode("cp1252"), encoding="cp1252")
    assert summary.encoding == "windows-1252"
    with pytest.raises(esr.InvalidInputError, match="encoding"):
        w.esr.import_competences("learning", VPD, text.encode(), encoding="klingon")


# One meaning per argument type


def test_a_str_is_a_path_everywhere(w: World, tmp_path: Path) -> None:
    fire = competence(w, "Fire Safety - 1 Year")
    path = tmp_path / "export.csv"
    path.write_bytes((HEAD + f"{w.cat.employee_number},Cat,{fire},30-Nov-2028,297\r\n").encode())
    assert w.esr.import_competences("learning", VPD, str(path)).imported == 1
    assert esr.read_competence_csv(str(path), vpd=VPD).num_rows == 1
    with pytest.raises(FileNotFoundError, match="cannot open"):
        w.esr.import_competences("learning", VPD, str(tmp_path / "missing.csv"))
    for wrong in (1, 2.5, None, ["export.csv"], io.StringIO("x")):
        with pytest.raises(TypeError, match="argument 'csv'"):
            w.esr.import_competences("learning", VPD, wrong)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="argument 'source'"):
            esr.read_competence_csv(wrong, vpd=VPD)  # type: ignore[arg-type]
