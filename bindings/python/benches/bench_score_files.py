"""Scoring from the analyst's files (issue 24): every engine reads the same three Parquet files
and scores them, each in its own fresh process, side by side in one run, identical totals
checked.

The workforce is workforce.py's (ESR_BENCH_PEOPLE=1400000: 1.4 M staff, 1.61 M assignments,
20.7 M holdings; 200000 for the small one), written once as Parquet by parquet_files.py
(snappy, row groups of 1 Mi rows). Engines, each timed end to end from the files on disk (page
cache warm: the floor is read first) to a table of one row per assignment:

  esr files        esr.score_files on the three paths (read and scored in Rust)
  esr read_table   pq.read_table of the needed columns, then esr.score_compliance
  polars bitset    polars lazy, written with esr's method: expired records filtered in the
                   scan, one bit per required competence, OR per person, popcounts
  polars joins     polars lazy, the idiomatic joins and group-bys (bench_bulk.py's query)
  duckdb           DuckDB SQL over read_parquet, expired records filtered in the scan
  pandas           pd.read_parquet and merges (skipped with --no-pandas)
  floor            reading the needed columns' bytes (their column chunks) from the page cache

For each: the engine's own wall time, and from /usr/bin/time -v the process's wall time, user
and system CPU, peak RSS and page faults (importing the libraries included).

    ESR_BENCH_PEOPLE=1400000 target/test-venv/bin/python bindings/python/benches/bench_score_files.py

With --csv the holdings are an ESR competence export instead (CSV: Employee Number, Competency
Name as ESR writes it, Expiry Date as "30-Nov-2028" or empty, VPD; written once by
csv_files()), the requirements' competency_id the competence names and the assignments'
person_id the employee numbers, and the engines are:

  esr csv one pass  esr.score_files(..., "export.csv", vpd="297"): the export read in blocks and
                    each block counted as it is read, no record kept
  esr read_csv      esr.read_competence_csv, then esr.score_compliance
  polars csv        pl.scan_csv (typed columns), the trust's VPD kept, the date parsed, then the
                    bit-set method above
  duckdb csv        DuckDB read_csv (typed columns) and the SQL above, the date parsed with
                    strptime

    ESR_BENCH_PEOPLE=200000 target/test-venv/bin/python bindings/python/benches/bench_score_files.py --csv
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_bulk  # noqa: E402
import parquet_files  # noqa: E402
import workforce  # noqa: E402

COLS = {
    "assignments": ["assignment_id", "person_id", "position_id"],
    "requirements": ["position_id", "competency_id"],
    "holdings": ["person_id", "competency_id", "expiry"],
}
AS_OF, LAST_AMBER, NEVER = workforce.AS_OF, bench_bulk.LAST_AMBER, bench_bulk.NEVER


def totals_of(out: Any) -> tuple[int, int, int]:
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(out, pa.Table):
        return tuple(int(pc.sum(out.column(c)).as_py()) for c in ("green", "amber", "red"))  # type: ignore[return-value]
    return tuple(int(out[c].sum()) for c in ("green", "amber", "red"))  # type: ignore[return-value]


def esr_files(p: dict[str, Path]) -> Any:
    import esr

    return esr.score_files(p["assignments"], p["requirements"], p["holdings"], AS_OF)


def esr_read_table(p: dict[str, Path]) -> Any:
    import pyarrow.parquet as pq

    import esr

    t = {k: pq.read_table(v, columns=COLS[k]) for k, v in p.items()}
    return esr.score_compliance(t["assignments"], t["requirements"], t["holdings"], AS_OF)


def polars_bitset(p: dict[str, Path]) -> Any:
    import polars as pl

    return bitset(pl.scan_parquet(p["assignments"]), pl.scan_parquet(p["requirements"]), pl.scan_parquet(p["holdings"]))


def bitset(assignments: Any, requirements: Any, holdings: Any) -> Any:
    import polars as pl

    req = requirements.unique()
    comps = req.select("competency_id").unique().sort("competency_id").collect()
    if comps.height > 64:
        raise SystemExit("the bit-set query handles up to 64 required competences")
    bits = comps.with_columns(bit=pl.Series([1 << i for i in range(comps.height)], dtype=pl.UInt64)).lazy()
    need = req.join(bits, on="competency_id").group_by("position_id").agg(need=pl.col("bit").sum())
    held = (
        holdings.filter(pl.col("expiry").is_null() | (pl.col("expiry") >= AS_OF))
        .join(bits, on="competency_id")
        .group_by("person_id")
        .agg(
            valid=pl.col("bit").bitwise_or(),
            green=pl.col("bit").filter(pl.col("expiry").is_null() | (pl.col("expiry") > LAST_AMBER)).bitwise_or(),
        )
    )
    out = (
        assignments.join(need, on="position_id", how="left", maintain_order="left")
        .join(held, on="person_id", how="left", maintain_order="left")
        .with_columns(pl.col("need", "valid", "green").fill_null(0))
        .select(
            "assignment_id",
            "person_id",
            required=pl.col("need").bitwise_count_ones(),
            green=(pl.col("need") & pl.col("green")).bitwise_count_ones(),
            valid=(pl.col("need") & pl.col("valid")).bitwise_count_ones(),
        )
        .with_columns(amber=pl.col("valid") - pl.col("green"), red=pl.col("required") - pl.col("valid"))
        .with_columns(
            percent=pl.when(pl.col("required") > 0).then(pl.col("valid").cast(pl.Float64) * 100.0 / pl.col("required"))
        )
        .drop("valid")
    )
    return out.collect()


def polars_joins(p: dict[str, Path]) -> Any:
    import polars as pl

    a, r, h = (pl.scan_parquet(p[n]) for n in workforce.TABLES)
    latest = (
        h.with_columns(pl.col("expiry").fill_null(NEVER)).group_by("person_id", "competency_id").agg(pl.col("expiry").max())
    )
    rows = (
        a.join(r.unique(), on="position_id", how="inner")
        .join(latest, on=["person_id", "competency_id"], how="left")
        .with_columns(
            green=(pl.col("expiry") > LAST_AMBER).fill_null(False),
            amber=pl.col("expiry").is_between(AS_OF, LAST_AMBER).fill_null(False),
        )
    )
    counts = rows.group_by("assignment_id").agg(
        required=pl.len().cast(pl.UInt32),
        green=pl.col("green").sum().cast(pl.UInt32),
        amber=pl.col("amber").sum().cast(pl.UInt32),
    )
    return (
        a.select("assignment_id", "person_id")
        .join(counts, on="assignment_id", how="left", maintain_order="left")
        .with_columns(pl.col("required", "green", "amber").fill_null(0))
        .with_columns(red=pl.col("required") - pl.col("green") - pl.col("amber"))
        .with_columns(
            percent=pl.when(pl.col("required") > 0).then(
                (pl.col("green") + pl.col("amber")).cast(pl.Float64) * 100.0 / pl.col("required")
            )
        )
        .collect()
    )


def duckdb_sql(p: dict[str, Path]) -> Any:
    a, r, h = (f"read_parquet('{p[n]}')" for n in workforce.TABLES)
    return duckdb_query(a, r, h)


def duckdb_query(a: str, r: str, h: str) -> Any:
    import duckdb

    sql = f"""
        WITH latest AS (
            SELECT person_id, competency_id, max(coalesce(expiry, DATE '{NEVER}')) AS expiry
            FROM {h} WHERE expiry IS NULL OR expiry >= DATE '{AS_OF}'
            GROUP BY person_id, competency_id),
        req AS (SELECT DISTINCT position_id, competency_id FROM {r}),
        rows AS (
            SELECT a.assignment_id, l.expiry
            FROM {a} a JOIN req ON req.position_id = a.position_id
            LEFT JOIN latest l ON l.person_id = a.person_id AND l.competency_id = req.competency_id),
        counts AS (
            SELECT assignment_id, count(*) AS required,
                   -- DuckDB 2.0's count_if gives NULL when no row of a group matches.
                   coalesce(count_if(expiry > DATE '{LAST_AMBER}'), 0) AS green,
                   coalesce(count_if(expiry BETWEEN DATE '{AS_OF}' AND DATE '{LAST_AMBER}'), 0) AS amber
            FROM rows GROUP BY assignment_id)
        SELECT a.assignment_id, a.person_id,
               coalesce(required, 0) AS required, coalesce(green, 0) AS green, coalesce(amber, 0) AS amber,
               coalesce(required - green - amber, 0) AS red,
               CASE WHEN required > 0 THEN (green + amber) * 100.0 / required END AS percent
        FROM {a} a LEFT JOIN counts USING (assignment_id)
    """
    return duckdb.sql(sql).to_arrow_table()


def pandas_merges(p: dict[str, Path]) -> Any:
    import pandas as pd

    a, r, h = (pd.read_parquet(p[n], columns=COLS[n]) for n in workforce.TABLES)
    h["expiry"] = pd.to_datetime(h["expiry"])
    as_of, last_amber, never = (pd.Timestamp(d) for d in (AS_OF, LAST_AMBER, NEVER))
    latest = (
        h.assign(expiry=h["expiry"].fillna(never))
        .groupby(["person_id", "competency_id"], sort=False, as_index=False)["expiry"]
        .max()
    )
    rows = a.merge(r.drop_duplicates(), on="position_id", how="inner").merge(
        latest, on=["person_id", "competency_id"], how="left"
    )
    rows["green"] = rows["expiry"] > last_amber
    rows["amber"] = (rows["expiry"] >= as_of) & ~rows["green"]
    counts = rows.groupby("assignment_id", sort=False).agg(
        required=("competency_id", "size"), green=("green", "sum"), amber=("amber", "sum")
    )
    out = a[["assignment_id", "person_id"]].merge(counts, on="assignment_id", how="left")
    out[["required", "green", "amber"]] = out[["required", "green", "amber"]].fillna(0).astype("uint32")
    out["red"] = out["required"] - out["green"] - out["amber"]
    out["percent"] = ((out["green"] + out["amber"]) * 100.0 / out["required"]).where(out["required"] > 0)
    return out


def floor(p: dict[str, Path]) -> Any:
    """Reads the byte ranges of the needed columns' chunks: what any engine must at least read."""
    import pyarrow.parquet as pq

    total = 0
    for name, path in p.items():
        meta = pq.ParquetFile(path).metadata
        ranges = []
        for g in range(meta.num_row_groups):
            rg = meta.row_group(g)
            for c in range(rg.num_columns):
                col = rg.column(c)
                if col.path_in_schema in COLS[name]:
                    start = col.dictionary_page_offset or col.data_page_offset
                    ranges.append((start, col.total_compressed_size))
        fd = os.open(path, os.O_RDONLY)
        try:
            for start, size in ranges:
                total += len(os.pread(fd, size, start))
        finally:
            os.close(fd)
    return total


EMPLOYEE_BASE = 20_000_000  # ESR employee numbers are 6 to 12 digits
VPD = "297"


def competence_name(c: Any) -> Any:
    """A polars expression: the competence name ESR writes for competency id `c`."""
    import polars as pl

    return pl.format("NHS|CSTF|Topic {} - 3 Years|", c)


def csv_files() -> dict[str, Path]:
    """workforce.py's tables as an ESR export has them, written once: the holdings as the
    competence export (CSV), the requirements naming competences, the assignments' person_id
    the employee numbers."""
    import polars as pl

    src = parquet_files.paths("parquet")
    d = src["holdings"].parent
    out = {"assignments": d / "assignments.emp.parquet", "requirements": d / "requirements.names.parquet", "holdings": d / "export.csv"}
    if all(p.exists() for p in out.values()):
        return out
    pl.read_parquet(src["assignments"]).with_columns(pl.col("person_id") + EMPLOYEE_BASE).write_parquet(out["assignments"], compression="snappy")
    pl.read_parquet(src["requirements"]).with_columns(competency_id=competence_name(pl.col("competency_id"))).write_parquet(
        out["requirements"], compression="snappy"
    )
    tmp = out["holdings"].with_suffix(".tmp")
    pl.read_parquet(src["holdings"]).select(
        **{
            "Employee Number": pl.col("person_id") + EMPLOYEE_BASE,
            "Competency Name": competence_name(pl.col("competency_id")),
            "Expiry Date": pl.col("expiry").dt.strftime("%d-%b-%Y"),
            "VPD": pl.lit(VPD),
        }
    ).write_csv(tmp, null_value="")
    tmp.replace(out["holdings"])
    return out


def esr_csv_one_pass(p: dict[str, Path]) -> Any:
    import esr

    return esr.score_files(p["assignments"], p["requirements"], p["holdings"], AS_OF, vpd=VPD)


def esr_read_csv(p: dict[str, Path]) -> Any:
    import pyarrow.parquet as pq

    import esr

    a = pq.read_table(p["assignments"], columns=COLS["assignments"])
    r = pq.read_table(p["requirements"], columns=COLS["requirements"])
    return esr.score_compliance(a, r, esr.read_competence_csv(p["holdings"], VPD), AS_OF)


def polars_csv(p: dict[str, Path]) -> Any:
    import polars as pl

    h = (
        pl.scan_csv(
            p["holdings"],
            schema={"Employee Number": pl.Int64, "Competency Name": pl.String, "Expiry Date": pl.String, "VPD": pl.String},
        )
        .filter(pl.col("VPD") == VPD)
        .select(
            person_id=pl.col("Employee Number"),
            competency_id=pl.col("Competency Name"),
            expiry=pl.col("Expiry Date").str.to_date("%d-%b-%Y"),
        )
    )
    return bitset(pl.scan_parquet(p["assignments"]), pl.scan_parquet(p["requirements"]), h)


def duckdb_csv(p: dict[str, Path]) -> Any:
    cols = "{'Employee Number': 'BIGINT', 'Competency Name': 'VARCHAR', 'Expiry Date': 'VARCHAR', 'VPD': 'VARCHAR'}"
    h = f"""(SELECT "Employee Number" AS person_id, "Competency Name" AS competency_id,
                    strptime("Expiry Date", '%d-%b-%Y')::DATE AS expiry
             FROM read_csv('{p["holdings"]}', header = true, columns = {cols}) WHERE VPD = '{VPD}')"""
    return duckdb_query(f"read_parquet('{p['assignments']}')", f"read_parquet('{p['requirements']}')", h)


def csv_floor(p: dict[str, Path]) -> Any:
    """Reads the export's bytes (page cache) and the other two files' needed columns."""
    total = floor({k: v for k, v in p.items() if k != "holdings"})
    with open(p["holdings"], "rb") as f:
        while chunk := f.read(1 << 20):
            total += len(chunk)
    return total


CSV_ENGINES = {
    "esr csv one pass": esr_csv_one_pass,
    "esr read_csv": esr_read_csv,
    "polars csv": polars_csv,
    "duckdb csv": duckdb_csv,
    "floor": csv_floor,
}

ENGINES = {
    "esr files": esr_files,
    "esr read_table": esr_read_table,
    "polars bitset": polars_bitset,
    "polars joins": polars_joins,
    "duckdb": duckdb_sql,
    "pandas": pandas_merges,
    "floor": floor,
}


def one(engine: str, csv: bool) -> None:
    p = csv_files() if csv else parquet_files.paths("parquet")
    t0 = time.perf_counter()
    c0 = time.process_time()
    out = (CSV_ENGINES if csv else ENGINES)[engine](p)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    totals = (0, 0, 0) if engine == "floor" else totals_of(out)
    print(json.dumps({"engine": engine, "s": wall, "cpu_s": cpu, "totals": totals, "bytes": out if engine == "floor" else None}))


def time_v(stderr: str) -> dict[str, float]:
    pick = {
        "wall": r"Elapsed \(wall clock\) time.*: (.*)",
        "user": r"User time \(seconds\): (.*)",
        "sys": r"System time \(seconds\): (.*)",
        "rss_kb": r"Maximum resident set size \(kbytes\): (.*)",
        "minor": r"Minor \(reclaiming a frame\) page faults: (.*)",
        "major": r"Major \(requiring I/O\) page faults: (.*)",
    }
    out: dict[str, float] = {}
    for k, rx in pick.items():
        m = re.search(rx, stderr)
        if not m:
            continue
        v = m.group(1).strip()
        if k == "wall":
            parts = [float(x) for x in v.split(":")]
            out[k] = sum(x * 60**i for i, x in enumerate(reversed(parts)))
        else:
            out[k] = float(v)
    return out


def driver(engines: list[str], rounds: int, csv: bool = False) -> int:
    # Written once, outside the timed processes.
    if csv:
        csv_files()
    else:
        parquet_files.paths("parquet")
    with open("/proc/loadavg") as f:
        print("load average before:", f.read().split()[:3])
    results: dict[str, list[dict[str, Any]]] = {e: [] for e in engines}
    for _ in range(rounds):
        for e in engines:  # interleaved, so load drifts hit every engine alike
            cmd = ["/usr/bin/time", "-v", sys.executable, __file__, "--engine", e] + (["--csv"] if csv else [])
            done = subprocess.run(cmd, capture_output=True, text=True)
            if done.returncode != 0:
                print(f"{e} failed:\n{done.stderr[-2000:]}")
                return 1
            r = json.loads(done.stdout.strip().splitlines()[-1])
            r.update(time_v(done.stderr))
            results[e].append(r)
    with open("/proc/loadavg") as f:
        print("load average after:", f.read().split()[:3])
    print(f"people={workforce.PEOPLE}; median of {rounds} fresh processes per engine")
    print(f"{'engine':16} {'scored s':>9} {'cpu s':>7} {'proc wall':>9} {'user':>6} {'sys':>6} {'peak RSS MB':>11} {'faults':>8}")
    med = {}
    for e, rs in results.items():
        def m(k: str) -> float:
            v = sorted(r.get(k, 0.0) for r in rs)
            return v[len(v) // 2]
        med[e] = m("s")
        print(
            f"{e:16} {m('s'):9.3f} {m('cpu_s'):7.2f} {m('wall'):9.2f} {m('user'):6.2f} {m('sys'):6.2f} "
            f"{m('rss_kb') / 1024:11.0f} {m('minor') + m('major'):8.0f}"
        )
    base = "esr csv one pass" if csv else "esr files"
    if base in med:
        for e in engines:
            if e not in (base, "floor"):
                print(f"{e} / {base}: {med[e] / med[base]:.2f}x")
    want = None
    for e, rs in results.items():
        if e == "floor":
            continue
        for r in rs:
            if want is None:
                want = tuple(r["totals"])
            elif tuple(r["totals"]) != want:
                print(f"TOTALS DIFFER: {e} {r['totals']} != {want}")
                return 1
    print("totals (green, amber, red) agree:", want)
    return 0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--engine", choices=sorted(set(ENGINES) | set(CSV_ENGINES)))
    ap.add_argument("--csv", action="store_true", help="holdings from an ESR competence export (CSV)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-pandas", action="store_true")
    ap.add_argument("--only", nargs="*")
    args = ap.parse_args()
    if args.engine:
        one(args.engine, args.csv)
        return 0
    if args.csv:
        return driver(args.only or list(CSV_ENGINES), args.rounds, csv=True)
    engines = args.only or [e for e in ENGINES if not (args.no_pandas and e == "pandas")]
    return driver(engines, args.rounds)


if __name__ == "__main__":
    sys.exit(main())
