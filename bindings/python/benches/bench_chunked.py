"""A warm esr.score_compliance on tables read from Parquet (chunked columns, one chunk per row
group) against the same tables combined into one chunk each (issue 24): the chunks are scored
where they lie, so both should take the same time, and the Rust core's own time on these
files is `cargo bench -p esr-benches --bench compliance -- files` (benches/benches/compliance.rs).

    ESR_BENCH_PEOPLE=1400000 target/test-venv/bin/python bindings/python/benches/bench_chunked.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
import parquet_files  # noqa: E402
import workforce  # noqa: E402

import esr  # noqa: E402


def main() -> None:
    files = parquet_files.paths("parquet")
    t = {k: pq.read_table(p) for k, p in files.items()}
    combined = {k: v.combine_chunks() for k, v in t.items()}
    print("chunks per column:", {k: v.column(0).num_chunks for k, v in t.items()})
    for label, tabs in (("chunked (pq.read_table)", t), ("one chunk", combined)):
        times = []
        for _ in range(7):
            t0 = time.perf_counter()
            s = esr.score_compliance(
                tabs["assignments"], tabs["requirements"], tabs["holdings"], workforce.AS_OF
            )
            times.append(time.perf_counter() - t0)
        green = s.column("green").to_numpy().sum()
        print(f"{label:26} median {statistics.median(times) * 1000:7.1f} ms  min {min(times) * 1000:7.1f} ms  green={green}")


if __name__ == "__main__":
    main()
