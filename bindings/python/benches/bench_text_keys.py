"""Scoring with text keys against integer keys on the same NHS-scale workforce (workforce.py:
1.4 million staff, about 20 million holdings), and the detail rows.

Every id column is turned into text as ESR writes it (assignment 10000001 -> "10000001-1",
people and positions as their digits, competences as names) with pyarrow, once, before timing;
then esr.score_compliance and esr.compliance_detail are timed on the integer tables and on the
text ones (best of --repeats), each answer checked against the other.

    target/test-venv/bin/python bindings/python/benches/bench_text_keys.py [--repeats 3]

ESR_BENCH_PEOPLE=200000 makes a smaller workforce.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

import esr
from workforce import AMBER_MONTHS, AS_OF, load


def as_text(t: pa.Table) -> pa.Table:
    cols = {}
    for name in t.column_names:
        col = t.column(name)
        if name == "expiry":
            cols[name] = col
        elif name == "assignment_id":
            cols[name] = pc.binary_join_element_wise(pc.cast(col, pa.string()), pa.scalar("-1"), "")
        elif name == "competency_id":
            cols[name] = pc.binary_join_element_wise(pa.scalar("NHS|CSTF|Subject "), pc.cast(col, pa.string()), pa.scalar("|"), "")
        else:
            cols[name] = pc.cast(col, pa.string())
    return pa.table(cols)


def best(f: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - start)
    return min(times), out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    t = load()
    ints = (t["assignments"], t["requirements"], t["holdings"])
    start = time.perf_counter()
    texts = tuple(as_text(x).combine_chunks() for x in ints)
    print(f"{ints[0].num_rows:,} assignments, {ints[2].num_rows:,} holdings; text tables made in {time.perf_counter() - start:.1f} s")
    results = {}
    for label, tables in (("integer keys", ints), ("text keys", texts)):
        s, scores = best(lambda: esr.score_compliance(*tables, AS_OF, AMBER_MONTHS), args.repeats)
        d, detail = best(lambda: esr.compliance_detail(*tables, AS_OF, AMBER_MONTHS), args.repeats)
        results[label] = (scores, detail)
        print(f"{label:>13}: score_compliance {s * 1000:8.0f} ms   compliance_detail {d * 1000:8.0f} ms ({detail.num_rows:,} rows)")
    (si, di), (st, dt_) = results["integer keys"], results["text keys"]
    for col in ("required", "green", "amber", "red"):
        assert si.column(col).equals(st.column(col)), col
    assert di.column("status").to_pylist()[:1000] == dt_.column("status").to_pylist()[:1000]
    assert di.num_rows == dt_.num_rows
    print("integer and text keys agree")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
