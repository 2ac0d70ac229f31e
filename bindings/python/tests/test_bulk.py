"""esr.score_compliance over pyarrow, polars and pandas tables, and esr.read_competence_csv."""

import datetime as dt
import io
from pathlib import Path

import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pytest

import esr

AS_OF = dt.date(2026, 11, 23)
# With the ESR window of 3 months, the last Amber day is 2027-02-23: an expiry on it is Amber,
# the day after is Green; an expiry the day before as_of is Red, on as_of itself Amber.
LAST_AMBER = dt.date(2027, 2, 23)


def tables() -> tuple[pa.Table, pa.Table, pa.Table]:
    assignments = pa.table(
        {
            "assignment_id": [100, 101, 102, 103, 104],
            "person_id": [1, 1, 2, 3, 4],
            "position_id": [10, 11, 10, 10, 99],
        }
    )
    requirements = pa.table(
        {
            "position_id": [10, 10, 10, 10, 11],
            "competency_id": [7, 8, 9, 9, 7],
        }
    )
    day = dt.timedelta(days=1)
    holdings = pa.table(
        {
            "person_id": [1, 1, 1, 1, 2, 2, 2, 3, 4],
            "competency_id": [7, 8, 8, 9, 7, 8, 9, 42, 7],
            "expiry": pa.array(
                [
                    LAST_AMBER + day,  # Green: the day after the window
                    AS_OF - day,  # expired yesterday ...
                    LAST_AMBER,  # ... but a later record is Amber, on the window's last day
                    None,  # never expires: Green
                    AS_OF,  # Amber: valid through today
                    AS_OF - day,  # Red: expired yesterday
                    dt.date(2040, 1, 1),  # Green
                    None,  # not required anywhere
                    AS_OF,  # person 4's position requires nothing
                ],
                pa.date32(),
            ),
        }
    )
    return assignments, requirements, holdings


EXPECTED = {
    "assignment_id": [100, 101, 102, 103, 104],
    "person_id": [1, 1, 2, 3, 4],
    "required": [3, 1, 3, 3, 0],
    "green": [2, 1, 1, 0, 0],
    "amber": [1, 0, 1, 0, 0],
    "red": [0, 0, 1, 3, 0],
    "percent": [100.0, 100.0, 200.0 / 3.0, 0.0, None],
}


def test_a_hand_checked_case() -> None:
    out = esr.score_compliance(*tables(), AS_OF)
    assert isinstance(out, pa.Table)
    assert out.column_names == list(EXPECTED)
    assert out.to_pydict() == EXPECTED
    assert out.schema.field("percent").type == pa.float64()
    assert out.schema.field("green").type == pa.uint32()


def test_the_amber_window_moves_the_boundary() -> None:
    # With a window of 0 months only an expiry on as_of itself (its last valid day) is Amber:
    # the record expiring on the 3-month window's last day is Green.
    out = esr.score_compliance(*tables(), AS_OF, amber_months=0).to_pydict()
    assert out["amber"] == [0, 0, 1, 0, 0]
    assert out["green"] == [3, 1, 1, 0, 0]
    assert out["red"] == EXPECTED["red"]


def test_pyarrow_polars_and_pandas_agree() -> None:
    a, r, h = tables()
    want = esr.score_compliance(a, r, h, AS_OF)
    polars = pl.from_arrow(a), pl.from_arrow(r), pl.from_arrow(h)
    pandas = a.to_pandas(), r.to_pandas(), h.to_pandas()
    assert esr.score_compliance(*polars, AS_OF, output="pyarrow").equals(want)
    assert esr.score_compliance(*pandas, AS_OF, output="pyarrow").equals(want)
    # Each answers in its own library.
    from_polars = esr.score_compliance(*polars, AS_OF)
    assert isinstance(from_polars, pl.DataFrame) and from_polars.to_dict(as_series=False) == EXPECTED
    from_pandas = esr.score_compliance(*pandas, AS_OF)
    assert isinstance(from_pandas, pd.DataFrame)
    pd.testing.assert_frame_equal(from_pandas, want.to_pandas())
    # pandas' own datetime64 expiry (NaT: never expires) and polars' Datetime give the same.
    hp = h.to_pandas()
    hp["expiry"] = pd.to_datetime(hp["expiry"])
    assert hp["expiry"].dtype.kind == "M"
    assert esr.score_compliance(a.to_pandas(), r.to_pandas(), hp, AS_OF, output="pyarrow").equals(want)
    hl = pl.from_arrow(h).with_columns(pl.col("expiry").cast(pl.Datetime("ms")))
    assert esr.score_compliance(a, r, hl, AS_OF, output="pyarrow").equals(want)


def test_chunked_and_narrow_ids_give_the_same() -> None:
    a, r, h = tables()
    want = esr.score_compliance(a, r, h, AS_OF)
    chunked = pa.concat_tables([h.slice(0, 4), h.slice(4)])
    assert chunked.column("expiry").num_chunks == 2
    narrow = a.cast(pa.schema([(n, pa.int32()) for n in a.column_names]))
    got = esr.score_compliance(narrow, r, chunked, AS_OF)
    assert got.drop_columns(["assignment_id", "person_id"]).equals(
        want.drop_columns(["assignment_id", "person_id"])
    )
    # The assignment ids come back as given.
    assert got.schema.field("assignment_id").type == pa.int32()
    assert got.column("assignment_id").to_pylist() == EXPECTED["assignment_id"]
    # All int32, or all uint32: the same counts.
    for t in (pa.int32(), pa.uint32()):
        cast = [x.cast(pa.schema([(n, t if n != "expiry" else pa.date32()) for n in x.column_names])) for x in (a, r, h)]
        assert esr.score_compliance(*cast, AS_OF).to_pydict()["green"] == EXPECTED["green"]


def test_text_competency_ids() -> None:
    a, r, h = tables()
    names = {7: "NHS|CSTF|Fire Safety - 1 Year|", 8: "NHS|CSTF|Infection Prevention|", 9: "x", 42: "y"}

    def named(t: pa.Table) -> pa.Table:
        col = pa.array([names[c] for c in t.column("competency_id").to_pylist()])
        return t.set_column(t.column_names.index("competency_id"), "competency_id", col)

    got = esr.score_compliance(a, named(r), named(h), AS_OF)
    assert got.to_pydict() == EXPECTED
    # Dictionary-encoded (pandas category, polars Categorical) too.
    hp = named(h).to_pandas()
    hp["competency_id"] = hp["competency_id"].astype("category")
    assert esr.score_compliance(a, named(r), hp, AS_OF, output="pyarrow").to_pydict() == EXPECTED
    hl = pl.from_arrow(named(h))
    assert esr.score_compliance(a, pl.from_arrow(named(r)), hl, AS_OF, output="pyarrow").to_pydict() == EXPECTED
    hl = hl.with_columns(pl.col("competency_id").cast(pl.Categorical))
    assert esr.score_compliance(a, named(r), hl, AS_OF, output="pyarrow").to_pydict() == EXPECTED
    with pytest.raises(esr.BulkInputError, match=r"requirements table's column competency_id holds text \(Utf8\) but the holdings table's column competency_id holds integers"):
        esr.score_compliance(a, named(r), h, AS_OF)


def refused(match: str, a: object = None, r: object = None, h: object = None) -> None:
    ta, tr, th = tables()
    with pytest.raises(esr.BulkInputError, match=match):
        esr.score_compliance(ta if a is None else a, tr if r is None else r, th if h is None else h, AS_OF)


def test_a_missing_column_is_refused_naming_table_and_column() -> None:
    a, r, h = tables()
    refused("the holdings table has no column expiry", h=h.drop_columns(["expiry"]))
    refused("the assignments table has no column position_id", a=a.drop_columns(["position_id"]))
    refused("the requirements table has no column competency_id", r=r.rename_columns(["position_id", "competence"]))


def test_wrong_types_are_refused_naming_table_and_column() -> None:
    a, r, h = tables()
    refused(
        "the assignments table's column person_id is Float64",
        a=a.set_column(1, "person_id", pa.array([1.0, 1, 2, 3, 4])),
    )
    refused(
        r"the assignments table's column person_id holds integers \(Int64\) but the holdings table's column person_id holds text \(Utf8\)",
        h=h.set_column(0, "person_id", pa.array(["1"] * h.num_rows)),
    )
    refused("the assignments table's column position_id is Boolean, but ids must be integers or text",
            a=a.set_column(2, "position_id", pa.array([True] * a.num_rows)))
    refused("the holdings table's column expiry is Int64", h=h.set_column(2, "expiry", pa.array([1] * h.num_rows)))
    refused(
        "the holdings table's column expiry is a timestamp with time zone",
        h=h.set_column(2, "expiry", h.column("expiry").cast(pa.timestamp("s", tz="Europe/London"))),
    )
    refused("the requirements table is a dict", r={"position_id": [1]})


def test_dates_given_as_strings_are_refused() -> None:
    _, _, h = tables()
    text = h.set_column(2, "expiry", pa.array(["2027-01-01"] * h.num_rows))
    refused("the holdings table's column expiry holds strings", h=text)
    refused("the holdings table's column expiry holds strings", h=pl.from_arrow(text))
    refused("the holdings table's column expiry holds strings", h=text.to_pandas())


def test_null_keys_are_refused() -> None:
    a, r, h = tables()
    refused(
        r"the holdings table's column competency_id has 1 null value\(s\), the first at row 2",
        h=h.set_column(1, "competency_id", pa.array([7, 8, None, 9, 7, 8, 9, 42, 7])),
    )
    # pandas turns missing ids into floats: the message says what to do.
    ap = a.to_pandas()
    ap.loc[2, "assignment_id"] = None
    refused("the assignments table's column assignment_id is Float64.*astype", a=ap)
    refused(
        "the requirements table's column position_id has 1 null",
        r=pl.from_arrow(r).with_columns(pl.when(pl.col("competency_id") == 9).then(None).otherwise(pl.col("position_id")).alias("position_id").cast(pl.Int64)).head(3),
    )


def test_bad_arguments() -> None:
    with pytest.raises(TypeError, match="as_of must be a datetime.date"):
        esr.score_compliance(*tables(), "2026-11-23")  # type: ignore[arg-type]
    with pytest.raises(esr.InvalidInputError, match="amber_months"):
        esr.score_compliance(*tables(), AS_OF, amber_months=-1)
    with pytest.raises(esr.InvalidInputError, match="120"):
        esr.score_compliance(*tables(), AS_OF, amber_months=121)


def test_empty_tables() -> None:
    a, r, h = tables()
    out = esr.score_compliance(a.slice(0, 0), r.slice(0, 0), h.slice(0, 0), AS_OF)
    assert out.num_rows == 0
    assert out.column_names == list(EXPECTED)
    out = esr.score_compliance(a, r.slice(0, 0), h.slice(0, 0), AS_OF)
    assert out.column("required").to_pylist() == [0] * 5
    assert out.column("percent").null_count == 5


EXPORT = """\
Employee Number,Competency Name,Expiry Date,Achieved Date,VPD,Notes
20000001,NHS(CSTF)Fire Safety - 1 Year,24-Feb-2027,24-Feb-2026,297,ok
20000001,NHS|CSTF|Infection Prevention and Control - Level 1 - 3 Years|,,01-Jan-2024,297,
20000002,NHS|CSTF|Fire Safety - 1 Year|,22-Nov-2026,22-Nov-2025,297,
20000002,NHS|CSTF|Fire Safety - 1 Year|,23-Feb-2027,23-Feb-2026,297,newer
"""


def test_csv_to_scores_in_two_calls(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text(EXPORT)
    holdings = esr.read_competence_csv(path, vpd="297")
    assert holdings.column_names[:3] == ["person_id", "competency_id", "expiry"]
    assert holdings.column("person_id").to_pylist() == [20000001, 20000001, 20000002, 20000002]
    assert holdings.column("competency_id")[0].as_py() == "NHS|CSTF|Fire Safety - 1 Year|"
    assert holdings.column("expiry").to_pylist()[:2] == [dt.date(2027, 2, 24), None]
    assert holdings.column("line").to_pylist() == [2, 3, 4, 5]
    assert holdings.schema.field("expiry").type == pa.date32()
    # The same from the file's bytes.
    assert esr.read_competence_csv(path.read_bytes(), vpd="297").equals(holdings)

    fire, ipc = "NHS|CSTF|Fire Safety - 1 Year|", "NHS|CSTF|Infection Prevention and Control - Level 1 - 3 Years|"
    assignments = pa.table({"assignment_id": [1, 2], "person_id": [20000001, 20000002], "position_id": [5, 5]})
    requirements = pa.table({"position_id": [5, 5], "competency_id": [fire, ipc]})
    out = esr.score_compliance(assignments, requirements, holdings, AS_OF).to_pydict()
    assert out["green"] == [2, 0]
    assert out["amber"] == [0, 1]  # the newer record, on the window's last day
    assert out["red"] == [0, 1]  # IPC not held
    assert out["percent"] == [100.0, 50.0]


def test_csv_names_and_levels_come_as_dictionary_columns(tmp_path: Path) -> None:
    # Over 4 MiB, so the export is read in blocks on several threads and the blocks'
    # dictionaries are merged: the keys must still point at each row's own text.
    names = [f"NHS|CSTF|Course {i} - {i % 3 + 1} Years|" for i in range(15)]
    levels = ["", "1 - Assessed", "2 - Competent"]
    rows = [
        f"{20000001 + i % 5000},{names[(i * 7) % 15]},{'' if i % 11 == 0 else '24-Feb-2027'},"
        f"01-Jan-2024,297,{levels[i % 3]}"
        for i in range(120_000)
    ]
    data = ("Employee Number,Competency Name,Expiry Date,Achieved Date,VPD,Competence Level\n" + "\n".join(rows) + "\n").encode()
    assert len(data) > 4 << 20
    path = tmp_path / "export.csv"
    path.write_bytes(data)
    t = esr.read_competence_csv(path, vpd="297")
    for column in ("competency_id", "level"):
        assert t.schema.field(column).type == pa.dictionary(pa.int32(), pa.string())
    assert t.column("competency_id").to_pylist() == [names[(i * 7) % 15] for i in range(120_000)]
    read_as = {"": "0 - Not Assessed"}  # no level reads as level 0
    assert t.column("level").to_pylist() == [read_as.get(levels[i % 3], levels[i % 3]) for i in range(120_000)]
    plain = t.set_column(1, "competency_id", t.column("competency_id").cast(pa.string()))
    plain = plain.set_column(4, "level", pc.cast(plain.column("level"), pa.string()))
    assert plain.schema.field("level").type == pa.string()
    # Each name once, in the order rows first use it, whichever way the file is read (a file
    # object without a size reads record by record on one thread).
    assert t.column("competency_id").chunk(0).dictionary.to_pylist() == [names[(i * 7) % 15] for i in range(15)]
    assert esr.read_competence_csv(data, vpd="297").equals(t)
    assert esr.read_competence_csv(io.BufferedReader(io.BytesIO(data)), vpd="297").equals(t)

    # score_compliance and compliance_detail take the dictionary columns as they are.
    assignments = pa.table({"assignment_id": list(range(5000)), "person_id": [20000001 + p for p in range(5000)], "position_id": [p % 4 for p in range(5000)]})
    requirements = pa.table({"position_id": [p for p in range(4) for _ in range(5)], "competency_id": [names[(p * 5 + c) % 15] for p in range(4) for c in range(5)]})
    assert esr.score_compliance(assignments, requirements, t, AS_OF).equals(esr.score_compliance(assignments, requirements, plain, AS_OF))
    assert esr.compliance_detail(assignments, requirements, t, AS_OF).equals(esr.compliance_detail(assignments, requirements, plain, AS_OF))
    totals = esr.score_compliance(assignments, requirements, t, AS_OF)
    assert sum(totals.column("green").to_pylist()) > 0 and sum(totals.column("red").to_pylist()) > 0

    # pandas and polars get Categorical columns, with the same values.
    small = esr.read_competence_csv(EXPORT.encode(), vpd="297", output="pandas")
    assert isinstance(small["competency_id"].dtype, pd.CategoricalDtype)
    assert small["competency_id"].astype(str).tolist()[2] == "NHS|CSTF|Fire Safety - 1 Year|"
    frame = esr.read_competence_csv(path, vpd="297", output="polars")
    assert frame.schema["competency_id"] == pl.Categorical and frame.schema["level"] == pl.Categorical
    assert frame["level"].cast(pl.String).to_list() == plain.column("level").to_pylist()


def test_csv_errors_name_the_line(tmp_path: Path) -> None:
    bad = EXPORT + "20000003,NHS|CSTF|Fire Safety - 1 Year|,31-Nov-2027,,297,\n"
    with pytest.raises(esr.BulkInputError, match="line 6: Expiry Date"):
        esr.read_competence_csv(bad.encode(), vpd="297")
    with pytest.warns(UserWarning, match="skipped 1 bad row.*line 6"):
        t = esr.read_competence_csv(bad.encode(), vpd="297", skip_bad_rows=True)
    assert t.num_rows == 4
    with pytest.raises(esr.BulkInputError, match="line 2: VPD"):
        esr.read_competence_csv(EXPORT.encode(), vpd="298")
    with pytest.raises(esr.BulkInputError, match="line 1: the header has no Expiry Date"):
        esr.read_competence_csv(b"Employee Number,Competency Name\n1,2\n", vpd="297")
    with pytest.raises(esr.InvalidInputError):
        esr.read_competence_csv(EXPORT.encode(), vpd="29")
    with pytest.raises(OSError, match="cannot open"):
        esr.read_competence_csv(tmp_path / "missing.csv", vpd="297")


class OnlyArray:
    """An Arrow producer offering only __arrow_c_array__ (a struct array: one record batch)."""

    def __init__(self, table: pa.Table) -> None:
        self.batch = table.combine_chunks().to_batches()[0]

    def __arrow_c_array__(self, requested_schema: object = None) -> object:
        return self.batch.__arrow_c_array__(requested_schema)


def test_producers_of_a_single_array_are_read() -> None:
    a, r, h = tables()
    assert not hasattr(OnlyArray(a), "__arrow_c_stream__")
    got = esr.score_compliance(OnlyArray(a), OnlyArray(r), OnlyArray(h), AS_OF)
    assert got.to_pydict() == EXPECTED


def test_ids_beyond_int64_are_refused() -> None:
    a, _, _ = tables()
    big = a.set_column(0, "assignment_id", pa.array([2**63, 1, 2, 3, 4], pa.uint64()))
    refused(r"the assignments table's column assignment_id at row 0 is 9223372036854775808, too large", a=big)
    # uint64 ids that fit are taken.
    fits = a.set_column(0, "assignment_id", pa.array(EXPECTED["assignment_id"], pa.uint64()))
    assert esr.score_compliance(fits, tables()[1], tables()[2], AS_OF).column("red").to_pylist() == EXPECTED["red"]
