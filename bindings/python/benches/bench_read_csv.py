"""Reading an ESR competence export: esr.read_competence_csv against polars and DuckDB, side by
side in one run (issue 20).

A synthetic export (Employee Number, Full Name, Competency Name, Expiry Date as ESR writes it,
"30-Nov-2028", VPD; one in ten expiry dates empty) of about --mb megabytes is generated into a
temporary file, read once to warm the page cache, then each reader is timed --repeats times in
turn (rounds interleaved) and the median reported as MB/s of the file, with the median CPU time
the process spent (all threads; on a shared machine wall time also counts waiting for a CPU).
Each produces the same table, checked by row count, totals and the rows per competence name:

  esr      esr.read_competence_csv(path, vpd) -> pyarrow Table (person_id int64, competency_id
           dictionary<int32, string>, expiry date32; rows of other VPDs refused), timed as
           returned (the check decodes the names after the timing)
  polars   pl.read_csv(path) with every column as text, then what an analyst does next: keep the
           trust's VPD, Employee Number as an integer, trim the competence name, parse the date
           with "%d-%b-%Y"
  duckdb   read_csv(path, all_varchar) and the same in SQL, as an Arrow table

    target/test-venv/bin/python bindings/python/benches/bench_read_csv.py [--mb 1000] [--repeats 3]

The generated file is deleted at the end (--keep keeps it and prints its path).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

VPD = "297"
HEADER = "Employee Number,Full Name,Competency Name,Expiry Date,VPD\n"
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
GIVEN = ["Renée", "Zoë", "Siân", "Tom", "Aisha", "Oluwaseun", "Mary", "Chen", "Priya", "Gareth", "Niamh", "Jan"]
FAMILY = ["Ó Súilleabháin", "Brontë", "Williams", "Jones", "Khan", "Adeyemi", "Smith", "Li", "Patel", "Evans"]
SUBJECTS = [
    "Fire Safety - 1 Year", "Equality, Diversity and Human Rights - 3 Years", "Health, Safety and Welfare - 3 Years",
    "Infection Prevention and Control - Level 1 - 3 Years", "Infection Prevention and Control - Level 2 - 1 Year",
    "Information Governance and Data Security - 1 Year", "Moving and Handling - Level 1 - 3 Years",
    "Moving and Handling - Level 2 - 2 Years", "Preventing Radicalisation - Level 1 - No Specified Renewal",
    "Resuscitation - Level 1 - 1 Year", "Resuscitation - Level 2 - Adult Basic Life Support - 1 Year",
    "Safeguarding Adults - Level 1 - 3 Years", "Safeguarding Children - Level 2 - 3 Years",
    "Conflict Resolution - 3 Years", "Oliver McGowan Tier 1 - No Specified Renewal",
]


def generate(path: Path, mb: float, seed: int = 20) -> int:
    """Write about `mb` MB of export to `path`; the number of rows."""
    rng = np.random.default_rng(seed)
    first = dt.date(2023, 1, 1)
    days = [first + dt.timedelta(days=i) for i in range(2500)]
    date_text = pa.array([f"{d.day:02d}-{MONTHS[d.month - 1]}-{d.year}" for d in days] + [""])
    names = pa.array([f'"{g} {f}"' if "," in f else f"{g} {f}" for g in GIVEN for f in FAMILY])
    subjects = pa.array([f'"NHS|CSTF|{s}|"' if "," in s else f"NHS|CSTF|{s}|" for s in SUBJECTS])
    target = int(mb * 1e6)
    rows = 0
    chunk = 500_000
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write(HEADER)
        written = len(HEADER)
        person = 20_000_000
        while written < target:
            n = chunk
            # About 12 records a person, people in order as ESR exports them.
            per = rng.integers(6, 18, n // 6 + 1)
            people = np.repeat(np.arange(person, person + per.size), per)[:n]
            person = int(people[-1]) + 1
            date_idx = rng.integers(0, len(days), n)
            date_idx[rng.random(n) < 0.1] = len(days)  # empty: never expires
            cols = [
                pc.cast(pa.array(people), pa.string()),
                names.take(pa.array(people % len(names))),
                subjects.take(pa.array(rng.integers(0, len(SUBJECTS), n))),
                date_text.take(pa.array(date_idx)),
            ]
            lines = pc.binary_join_element_wise(*cols, pa.scalar(VPD), ",")
            text = "\n".join(lines.to_pylist()) + "\n"
            data = text.encode("utf-8")
            if written + len(data) > target:
                # Cut at a line end near the target.
                cut = data.rfind(b"\n", 0, max(target - written, 1)) + 1
                data = data[:cut] if cut > 0 else data
            f.write(data.decode("utf-8"))
            written += len(data)
            rows += data.count(b"\n")
    return rows


def read_esr(path: Path) -> Any:
    import esr

    return esr.read_competence_csv(path, VPD)


def read_polars(path: Path) -> Any:
    import polars as pl

    df = pl.read_csv(path, infer_schema=False)  # every column as text, as ESR's ids are
    return df.filter(pl.col("VPD") == VPD).select(
        person_id=pl.col("Employee Number").str.strip_chars().cast(pl.Int64),
        competency_id=pl.col("Competency Name").str.strip_chars(),
        expiry=pl.col("Expiry Date").str.strip_chars().replace("", None).str.strptime(pl.Date, "%d-%b-%Y"),
    )


def read_duckdb(path: Path) -> Any:
    import duckdb

    sql = f"""
        SELECT trim("Employee Number")::BIGINT AS person_id,
               trim("Competency Name") AS competency_id,
               strptime(nullif(trim("Expiry Date"), ''), '%d-%b-%Y')::DATE AS expiry
        FROM read_csv('{path}', header = true, all_varchar = true)
        WHERE VPD = '{VPD}'
    """
    with duckdb.connect() as con:
        return con.sql(sql).to_arrow_table()


READERS: dict[str, Callable[[Path], Any]] = {"esr": read_esr, "polars": read_polars, "duckdb": read_duckdb}


def summary(out: Any) -> tuple[int, int, int, tuple[tuple[str, int], ...]]:
    """Rows, the sum of person_id, empty expiry dates, and how many rows hold each competence
    (esr's dictionary column and the peers' text compared as text; outside the timing)."""
    t = out if isinstance(out, pa.Table) else out.to_arrow()
    names = t.column("competency_id").cast(pa.string())
    counts = pc.value_counts(names).to_pylist()
    return (
        t.num_rows,
        int(pc.sum(t.column("person_id")).as_py()),
        t.column("expiry").null_count,
        tuple(sorted((c["values"], c["counts"]) for c in counts)),
    )


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mb", type=float, default=1000.0, help="size of the generated export (default 1000 MB)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--readers", default=",".join(READERS), help="comma-separated: esr,polars,duckdb")
    p.add_argument("--keep", action="store_true", help="keep the generated file")
    p.add_argument("--dir", default=None, help="where to write the export (default: the system's temp dir)")
    args = p.parse_args()
    readers = args.readers.split(",")
    fd, name = tempfile.mkstemp(prefix="esr-export-", suffix=".csv", dir=args.dir)
    os.close(fd)
    path = Path(name)
    try:
        t0 = time.perf_counter()
        rows = generate(path, args.mb)
        size = path.stat().st_size
        print(f"export: {size / 1e6:,.0f} MB, {rows:,} rows, generated in {time.perf_counter() - t0:.1f} s ({path})")
        with path.open("rb") as f:  # into the page cache: every reader reads from memory
            while f.read(1 << 24):
                pass
        times: dict[str, list[float]] = {r: [] for r in readers}
        cpu: dict[str, list[float]] = {r: [] for r in readers}
        results: dict[str, tuple[int, int, int]] = {}
        for _ in range(args.repeats):
            for r in readers:
                t0, c0 = time.perf_counter(), time.process_time()
                out = READERS[r](path)
                times[r].append(time.perf_counter() - t0)
                cpu[r].append(time.process_time() - c0)
                results[r] = summary(out)
                del out
        print(f"{'reader':>8} {'median s':>9} {'MB/s':>8} {'CPU s':>7}  runs (s)")
        for r in readers:
            med = statistics.median(times[r])
            runs = ", ".join(f"{t:.2f}" for t in times[r])
            print(f"{r:>8} {med:9.2f} {size / 1e6 / med:8.0f} {statistics.median(cpu[r]):7.2f}  {runs}")
        if "esr" in times:
            for r in readers:
                if r != "esr":
                    print(f"esr is {statistics.median(times[r]) / statistics.median(times['esr']):.2f}x {r}'s speed")
        if len(set(results.values())) != 1:
            print(f"DISAGREE (rows, sum of person_id, empty expiry, rows per name): {results}")
            return 1
        first = results[readers[0]]
        print(f"all readers agree: {first[0]:,} rows, {first[2]:,} with no expiry, {len(first[3])} names")
        return 0
    finally:
        if args.keep:
            print(f"kept {path}")
        else:
            path.unlink(missing_ok=True)


if __name__ == "__main__":
    sys.exit(main())
