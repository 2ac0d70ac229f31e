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

    req = pl.scan_parquet(p["requirements"]).unique()
    comps = req.select("competency_id").unique().sort("competency_id").collect()
    if comps.height > 64:
        raise SystemExit("the bit-set query handles up to 64 required competences")
    bits = comps.with_columns(bit=pl.Series([1 << i for i in range(comps.height)], dtype=pl.UInt64)).lazy()
    need = req.join(bits, on="competency_id").group_by("position_id").agg(need=pl.col("bit").sum())
    held = (
        pl.scan_parquet(p["holdings"])
        .filter(pl.col("expiry").is_null() | (pl.col("expiry") >= AS_OF))
        .join(bits, on="competency_id")
        .group_by("person_id")
        .agg(
            valid=pl.col("bit").bitwise_or(),
            green=pl.col("bit").filter(pl.col("expiry").is_null() | (pl.col("expiry") > LAST_AMBER)).bitwise_or(),
        )
    )
    out = (
        pl.scan_parquet(p["assignments"])
        .join(need, on="position_id", how="left", maintain_order="left")
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
    import duckdb

    a, r, h = (f"read_parquet('{p[n]}')" for n in workforce.TABLES)
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


ENGINES = {
    "esr files": esr_files,
    "esr read_table": esr_read_table,
    "polars bitset": polars_bitset,
    "polars joins": polars_joins,
    "duckdb": duckdb_sql,
    "pandas": pandas_merges,
    "floor": floor,
}


def one(engine: str) -> None:
    p = parquet_files.paths("parquet")
    t0 = time.perf_counter()
    c0 = time.process_time()
    out = ENGINES[engine](p)
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


def driver(engines: list[str], rounds: int) -> int:
    parquet_files.paths("parquet")  # written once, outside the timed processes
    with open("/proc/loadavg") as f:
        print("load average before:", f.read().split()[:3])
    results: dict[str, list[dict[str, Any]]] = {e: [] for e in engines}
    for _ in range(rounds):
        for e in engines:  # interleaved, so load drifts hit every engine alike
            cmd = ["/usr/bin/time", "-v", sys.executable, __file__, "--engine", e]
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
    base = "esr files"
    if base in med:
        for e in engines:
            if e not in (base, "floor"):
                print(f"{e} / esr files: {med[e] / med[base]:.2f}x")
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
    ap.add_argument("--engine", choices=list(ENGINES))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-pandas", action="store_true")
    ap.add_argument("--only", nargs="*")
    args = ap.parse_args()
    if args.engine:
        one(args.engine)
        return 0
    engines = args.only or [e for e in ENGINES if not (args.no_pandas and e == "pandas")]
    return driver(engines, args.rounds)


if __name__ == "__main__":
    sys.exit(main())
