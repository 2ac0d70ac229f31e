"""Bulk compliance scoring: esr.score_compliance against the same computation in polars and pandas.

    python bindings/python/benches/bench_bulk.py                  # all three, each in its own process
    python bindings/python/benches/bench_bulk.py --engine esr     # one engine (prints one JSON line)

The workforce (workforce.py) is generated once and cached as Arrow IPC. Each engine loads it
into its own frames before timing; the timed part is the whole computation from those frames
to a result table with one row per assignment (assignment_id, person_id, required, green, amber,
red, percent): for esr, pyarrow Tables in and a pyarrow Table out. The driver prints each
engine's median, the ratios, and checks the three agree exactly on the totals of green, amber
and red.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))
import workforce  # noqa: E402

# The last Amber day, as the core computes it: as_of plus the window's months, clamped to the
# month's end (2026-11-23 + 3 months = 2027-02-23).
LAST_AMBER = dt.date(2027, 2, 23)
# Any date after the window stands for "never expires" in the frame libraries.
NEVER = dt.date(2200, 1, 1)


def run_esr(t: dict[str, Any]) -> tuple[Callable[[], Any], Callable[[Any], tuple[int, int, int]]]:
    import esr
    import pyarrow.compute as pc

    a, r, h = t["assignments"], t["requirements"], t["holdings"]

    def go() -> Any:
        return esr.score_compliance(a, r, h, workforce.AS_OF, amber_months=workforce.AMBER_MONTHS)

    def totals(out: Any) -> tuple[int, int, int]:
        return tuple(pc.sum(out.column(c)).as_py() for c in ("green", "amber", "red"))  # type: ignore[return-value]

    return go, totals


def run_polars(t: dict[str, Any]) -> tuple[Callable[[], Any], Callable[[Any], tuple[int, int, int]]]:
    import polars as pl

    a, r, h = (pl.from_arrow(t[n]) for n in workforce.TABLES)

    def go() -> Any:
        latest = (
            h.with_columns(pl.col("expiry").fill_null(NEVER))
            .group_by("person_id", "competency_id")
            .agg(pl.col("expiry").max())
        )
        rows = (
            a.join(r.unique(), on="position_id", how="inner")
            .join(latest, on=["person_id", "competency_id"], how="left")
            .with_columns(
                green=(pl.col("expiry") > LAST_AMBER).fill_null(False),
                amber=pl.col("expiry").is_between(workforce.AS_OF, LAST_AMBER).fill_null(False),
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
        )

    def totals(out: Any) -> tuple[int, int, int]:
        return tuple(int(out[c].sum()) for c in ("green", "amber", "red"))  # type: ignore[return-value]

    return go, totals


def run_pandas(t: dict[str, Any]) -> tuple[Callable[[], Any], Callable[[Any], tuple[int, int, int]]]:
    import pandas as pd

    # Dates as pandas' own datetime64 (NaT for never), as a pandas user would hold them.
    a, r = t["assignments"].to_pandas(), t["requirements"].to_pandas()
    h = t["holdings"].to_pandas(date_as_object=False)
    as_of, last_amber, never = (pd.Timestamp(d) for d in (workforce.AS_OF, LAST_AMBER, NEVER))

    def go() -> Any:
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

    def totals(out: Any) -> tuple[int, int, int]:
        return tuple(int(out[c].sum()) for c in ("green", "amber", "red"))  # type: ignore[return-value]

    return go, totals


ENGINES = {"esr": run_esr, "polars": run_polars, "pandas": run_pandas}
REPEATS = {"esr": 7, "polars": 3, "pandas": 3}


def one(engine: str, repeats: int) -> None:
    t0 = time.perf_counter()
    tables = workforce.load()
    load_s = time.perf_counter() - t0
    go, totals = ENGINES[engine](tables)
    times = []
    out = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = go()
        times.append(time.perf_counter() - t0)
        del out
    out = go()
    g, am, rd = totals(out)
    print(
        json.dumps(
            {
                "engine": engine,
                "median_s": statistics.median(times),
                "times_s": times,
                "rows": len(out),
                "holdings": tables["holdings"].num_rows,
                "assignments": tables["assignments"].num_rows,
                "green": g,
                "amber": am,
                "red": rd,
                "load_s": load_s,
            }
        )
    )


def driver(engines: list[str], repeats: int | None) -> int:
    workforce.load()  # generate the cache once, outside every engine's process
    results = {}
    for e in engines:
        cmd = [sys.executable, __file__, "--engine", e]
        if repeats:
            cmd += ["--repeats", str(repeats)]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            print(done.stderr, file=sys.stderr)
            return 1
        results[e] = json.loads(done.stdout.strip().splitlines()[-1])
        r = results[e]
        print(
            f"{e:>7}: median {r['median_s'] * 1000:9.1f} ms over {len(r['times_s'])} runs"
            f"  (green {r['green']}, amber {r['amber']}, red {r['red']}; {r['rows']} rows)"
        )
    first = next(iter(results.values()))
    print(f"workforce: {first['assignments']} assignments, {first['holdings']} holdings")
    if "esr" in results:
        for e, r in results.items():
            if e != "esr":
                print(f"esr is {r['median_s'] / results['esr']['median_s']:.1f}x faster than {e}")
    sums = {e: (r["green"], r["amber"], r["red"]) for e, r in results.items()}
    if len(set(sums.values())) != 1:
        print(f"DISAGREE on the totals of green, amber and red: {sums}")
        return 1
    print("all engines agree on the totals of green, amber and red")
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--engine", choices=sorted(ENGINES))
    p.add_argument("--repeats", type=int)
    args = p.parse_args()
    if args.engine:
        one(args.engine, args.repeats or REPEATS[args.engine])
        return 0
    return driver(list(ENGINES), args.repeats)


if __name__ == "__main__":
    sys.exit(main())
