"""The NHS-scale workforce the bulk benchmark scores, generated once with numpy and cached.

Shaped like `examples/src/workforce.rs` (`generate_workforce` with `WorkforceSpec::nhs`):
1.4 million people, one position per 70 people; each position requires each of the ten Core
Skills subjects (ids 1000-1009) with probability 0.92 and 0 to 4 of 30 role competences (ids
2000-2029); each person has one assignment, and one in seven a second; each person holds each
Core Skills subject with probability 0.93 and 1 to 4 role competences; 3% of holdings never
expire (null), the rest expire from 120 days before `AROUND` to 980 days after, and one in three
of those also has an older record expiring one to three years earlier. About 1.6 million
assignments and 20 million holdings, grouped by person as an export is.

The same seed gives the same tables (numpy's PCG64). They are written once as Arrow IPC files
(one record batch each) under the cache directory, so each run and each engine loads the same
data.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import numpy as np
import pyarrow as pa

AROUND = dt.date(2026, 11, 23)
AS_OF = AROUND
AMBER_MONTHS = 3
SEED = 2026
PEOPLE = int(os.environ.get("ESR_BENCH_PEOPLE", "1400000"))
PEOPLE_PER_POSITION = 70
CSTF_BASE, ROLE_BASE, ROLE_COMPETENCES = 1_000, 2_000, 30
POSITION_BASE, ASSIGNMENT_BASE = 500_000, 10_000_000

TABLES = ("assignments", "requirements", "holdings")


def cache_dir() -> Path:
    default = Path(__file__).resolve().parents[3] / "target" / "bench-cache"
    return Path(os.environ.get("ESR_BENCH_CACHE", default))


def generate(people: int = PEOPLE, seed: int = SEED) -> dict[str, pa.Table]:
    rng = np.random.default_rng(seed)
    positions = max(people // PEOPLE_PER_POSITION, 1)

    # Requirements.
    cstf = rng.random((positions, 10)) < 0.92
    rp, rc = np.nonzero(cstf)
    rc = rc + CSTF_BASE
    n_role = rng.integers(0, 5, positions)
    role_p = np.repeat(np.arange(positions), n_role)
    role_c = ROLE_BASE + rng.integers(0, ROLE_COMPETENCES, role_p.size)
    req_p = np.concatenate([rp, role_p])
    order = np.argsort(req_p, kind="stable")
    requirements = pa.table(
        {
            "position_id": pa.array((POSITION_BASE + req_p[order]).astype(np.int64)),
            "competency_id": pa.array(np.concatenate([rc, role_c])[order].astype(np.int64)),
        }
    )

    # Assignments: one each, one in seven a second.
    person = np.arange(1, people + 1, dtype=np.int64)
    second = rng.integers(0, 7, people) == 0
    a_person = np.concatenate([person, person[second]])
    order = np.argsort(a_person, kind="stable")
    a_person = a_person[order]
    a_position = (POSITION_BASE + rng.integers(0, positions, a_person.size))[order].astype(np.int64)
    assignments = pa.table(
        {
            "assignment_id": pa.array(np.arange(a_person.size, dtype=np.int64) + ASSIGNMENT_BASE),
            "person_id": pa.array(a_person),
            "position_id": pa.array(a_position),
        }
    )

    # Holdings: current records, then older ones, grouped by person.
    held = rng.random((people, 10)) < 0.93
    hp, hc = np.nonzero(held)
    hp, hc = hp + 1, hc + CSTF_BASE
    n_role = rng.integers(1, 5, people)
    role_p = np.repeat(person, n_role)
    role_c = ROLE_BASE + rng.integers(0, ROLE_COMPETENCES, role_p.size)
    cur_p = np.concatenate([hp, role_p]).astype(np.int64)
    cur_c = np.concatenate([hc, role_c]).astype(np.int64)
    around = (AROUND - dt.date(1970, 1, 1)).days
    never = rng.random(cur_p.size) < 0.03
    cur_e = (around - 120 + rng.integers(0, 1_100, cur_p.size)).astype(np.int32)
    older = (~never) & (rng.integers(0, 3, cur_p.size) == 0)
    old_e = (cur_e[older] - 365 - rng.integers(0, 730, int(older.sum()))).astype(np.int32)
    all_p = np.concatenate([cur_p, cur_p[older]])
    all_c = np.concatenate([cur_c, cur_c[older]])
    all_e = np.concatenate([cur_e, old_e])
    all_null = np.concatenate([never, np.zeros(old_e.size, dtype=bool)])
    order = np.argsort(all_p, kind="stable")
    holdings = pa.table(
        {
            "person_id": pa.array(all_p[order]),
            "competency_id": pa.array(all_c[order]),
            "expiry": pa.array(all_e[order], pa.date32(), mask=all_null[order]),
        }
    )
    return {"assignments": assignments, "requirements": requirements, "holdings": holdings}


def load() -> dict[str, pa.Table]:
    """The cached tables (generating and writing them on the first call), read into memory."""
    d = cache_dir() / f"workforce-{PEOPLE}-{SEED}"
    if not all((d / f"{t}.arrow").exists() for t in TABLES):
        d.mkdir(parents=True, exist_ok=True)
        for name, table in generate().items():
            tmp = d / f"{name}.arrow.tmp"
            with pa.OSFile(str(tmp), "wb") as f, pa.ipc.new_file(f, table.schema) as w:
                w.write_table(table, max_chunksize=table.num_rows or None)
            tmp.replace(d / f"{name}.arrow")
    out = {}
    for t in TABLES:
        with pa.OSFile(str(d / f"{t}.arrow")) as f:
            out[t] = pa.ipc.open_file(f).read_all()
    return out
