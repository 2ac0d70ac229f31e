"""Scoring with text keys against integer keys, and DuckDB and polars doing the same
join-and-count on the text tables, side by side in one run (issue 20).

The workforce is workforce.py's (1.4 million staff, about 20 million holdings;
ESR_BENCH_PEOPLE=200000 makes a smaller one); its ids are turned into text as ESR writes them
(bench_text_keys.as_text) before timing. Timed, median of --repeats, from tables in memory to a
table of one row per assignment (assignment_id, person_id, required, green, amber, red,
percent):

  esr int      esr.score_compliance on the integer tables
  esr text     esr.score_compliance on the text tables
  esr detail   esr.compliance_detail on the text tables (one row per assignment and competence)
  polars text  bench_bulk.py's polars query on the text tables
  duckdb text  the same query in DuckDB's SQL over the Arrow tables
  polars detail, duckdb detail
               the detail rows (assignment_id, person_id, competency_id, status, expiry,
               days_left) by the same rules, in polars and in DuckDB, on the text tables

Every engine's totals of green, amber and red are checked against esr's (the detail rows'
statuses counted).

    ESR_BENCH_PEOPLE=200000 target/test-venv/bin/python bindings/python/benches/bench_score_engines.py
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_bulk  # noqa: E402
import workforce  # noqa: E402
from bench_text_keys import as_text  # noqa: E402

import esr  # noqa: E402


def duckdb_query(a: pa.Table, r: pa.Table, h: pa.Table) -> Callable[[], Any]:
    import duckdb

    con = duckdb.connect()
    con.register("a", a)
    con.register("r", r)
    con.register("h", h)
    sql = f"""
        WITH latest AS (
            SELECT person_id, competency_id, max(coalesce(expiry, DATE '{bench_bulk.NEVER}')) AS expiry
            FROM h GROUP BY person_id, competency_id),
        req AS (SELECT DISTINCT position_id, competency_id FROM r),
        rows AS (
            SELECT a.assignment_id, l.expiry
            FROM a JOIN req ON req.position_id = a.position_id
            LEFT JOIN latest l ON l.person_id = a.person_id AND l.competency_id = req.competency_id),
        counts AS (
            SELECT assignment_id, count(*) AS required,
                   count_if(expiry > DATE '{bench_bulk.LAST_AMBER}') AS green,
                   count_if(expiry BETWEEN DATE '{workforce.AS_OF}' AND DATE '{bench_bulk.LAST_AMBER}') AS amber
            FROM rows GROUP BY assignment_id)
        SELECT a.assignment_id, a.person_id,
               coalesce(required, 0) AS required, coalesce(green, 0) AS green, coalesce(amber, 0) AS amber,
               coalesce(required - green - amber, 0) AS red,
               CASE WHEN required > 0 THEN (green + amber) * 100.0 / required END AS percent
        FROM a LEFT JOIN counts USING (assignment_id)
    """
    return lambda: con.sql(sql).to_arrow_table()


def polars_detail(a: pa.Table, r: pa.Table, h: pa.Table) -> Callable[[], Any]:
    import polars as pl

    a, r, h = (pl.from_arrow(x) for x in (a, r, h))  # type: ignore[assignment]

    def go() -> Any:
        latest = (
            h.with_columns(pl.col("expiry").fill_null(bench_bulk.NEVER))  # type: ignore[attr-defined]
            .group_by("person_id", "competency_id")
            .agg(pl.col("expiry").max())
        )
        expiry = pl.when(pl.col("expiry") != bench_bulk.NEVER).then(pl.col("expiry"))
        return (
            a.select("assignment_id", "person_id", "position_id")  # type: ignore[attr-defined]
            .join(r.unique(), on="position_id", how="inner", maintain_order="left")  # type: ignore[attr-defined]
            .join(latest, on=["person_id", "competency_id"], how="left", maintain_order="left")
            .select(
                "assignment_id",
                "person_id",
                "competency_id",
                status=pl.when(pl.col("expiry") > bench_bulk.LAST_AMBER)
                .then(pl.lit("Green"))
                .when(pl.col("expiry") >= workforce.AS_OF)
                .then(pl.lit("Amber"))
                .otherwise(pl.lit("Red"))
                .cast(pl.Categorical),
                expiry=expiry,
                days_left=(expiry - pl.lit(workforce.AS_OF)).dt.total_days().cast(pl.Int32),
            )
        )

    return go


def duckdb_detail(a: pa.Table, r: pa.Table, h: pa.Table) -> Callable[[], Any]:
    import duckdb

    con = duckdb.connect()
    con.register("a", a)
    con.register("r", r)
    con.register("h", h)
    sql = f"""
        WITH latest AS (
            SELECT person_id, competency_id, max(coalesce(expiry, DATE '{bench_bulk.NEVER}')) AS expiry
            FROM h GROUP BY person_id, competency_id),
        req AS (SELECT DISTINCT position_id, competency_id FROM r),
        rows AS (
            SELECT a.assignment_id, a.person_id, req.competency_id,
                   nullif(l.expiry, DATE '{bench_bulk.NEVER}') AS expiry,
                   CASE WHEN l.expiry > DATE '{bench_bulk.LAST_AMBER}' THEN 'Green'
                        WHEN l.expiry >= DATE '{workforce.AS_OF}' THEN 'Amber'
                        ELSE 'Red' END AS status
            FROM a JOIN req ON req.position_id = a.position_id
            LEFT JOIN latest l ON l.person_id = a.person_id AND l.competency_id = req.competency_id)
        SELECT assignment_id, person_id, competency_id, status, expiry,
               (expiry - DATE '{workforce.AS_OF}')::INTEGER AS days_left
        FROM rows
    """
    return lambda: con.sql(sql).to_arrow_table()


def totals(out: Any) -> tuple[int, int, int]:
    t = out if isinstance(out, pa.Table) else out.to_arrow()
    if "status" in t.column_names:  # detail rows: count the statuses
        status = pc.cast(t.column("status"), pa.string())
        return tuple(int(pc.sum(pc.equal(status, s)).as_py() or 0) for s in ("Green", "Amber", "Red"))  # type: ignore[return-value]
    return tuple(int(pc.sum(t.column(c)).as_py()) for c in ("green", "amber", "red"))  # type: ignore[return-value]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    t = workforce.load()
    ints = (t["assignments"], t["requirements"], t["holdings"])
    texts = tuple(as_text(x).combine_chunks() for x in ints)
    print(f"{ints[0].num_rows:,} assignments, {ints[2].num_rows:,} holdings")
    polars_go, _ = bench_bulk.run_polars(dict(zip(workforce.TABLES, texts)))
    engines: dict[str, Callable[[], Any]] = {
        "esr int": lambda: esr.score_compliance(*ints, workforce.AS_OF, workforce.AMBER_MONTHS),
        "esr text": lambda: esr.score_compliance(*texts, workforce.AS_OF, workforce.AMBER_MONTHS),
        "esr detail": lambda: esr.compliance_detail(*texts, workforce.AS_OF, workforce.AMBER_MONTHS),
        "polars text": polars_go,
        "duckdb text": duckdb_query(*texts),
        "polars detail": polars_detail(*texts),
        "duckdb detail": duckdb_detail(*texts),
    }
    times: dict[str, list[float]] = {e: [] for e in engines}
    sums: dict[str, tuple[int, int, int]] = {}
    rows: dict[str, int] = {}
    for _ in range(args.repeats):
        for name, go in engines.items():
            t0 = time.perf_counter()
            out = go()
            times[name].append(time.perf_counter() - t0)
            print(f"  {name}: {times[name][-1]:.2f} s", file=sys.stderr, flush=True)
            rows[name] = len(out)
            sums[name] = totals(out)
            del out
    base = statistics.median(times["esr text"])
    print(f"{'engine':>13} {'median ms':>10} {'vs esr text':>12}  rows")
    for name in engines:
        med = statistics.median(times[name])
        print(f"{name:>13} {med * 1000:10.0f} {med / base:11.1f}x  {rows[name]:,}")
    if len(set(sums.values())) != 1:
        print(f"DISAGREE on the totals of green, amber and red: {sums}")
        return 1
    print(f"all agree on the totals (green, amber, red) = {sums['esr int']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
