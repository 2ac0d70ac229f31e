"""workforce.py's tables written once as Parquet (and Arrow IPC) files, as an analyst has them.

Parquet as pyarrow writes it by default (snappy, row groups of up to 1 Mi rows, so the 20.7
million holdings are 20 row groups and pq.read_table gives chunked columns); Arrow IPC files
in record batches of 1 Mi rows. Under target/bench-cache/workforce-<people>-<seed>/.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
import workforce  # noqa: E402

ROW_GROUP = 1 << 20


def paths(kind: str = "parquet") -> dict[str, Path]:
    """The three files of `kind` ("parquet" or "arrows", Arrow IPC in batches), written once."""
    d = workforce.cache_dir() / f"workforce-{workforce.PEOPLE}-{workforce.SEED}"
    ext = {"parquet": "parquet", "arrows": "batches.arrow"}[kind]
    out = {t: d / f"{t}.{ext}" for t in workforce.TABLES}
    if all(p.exists() for p in out.values()):
        return out
    import pyarrow as pa

    tables = workforce.load()
    for name, table in tables.items():
        tmp = out[name].with_suffix(".tmp")
        if kind == "parquet":
            pq.write_table(table, tmp, row_group_size=ROW_GROUP)
        else:
            with pa.OSFile(str(tmp), "wb") as f, pa.ipc.new_file(f, table.schema) as w:
                w.write_table(table, max_chunksize=ROW_GROUP)
        tmp.replace(out[name])
    return out


if __name__ == "__main__":
    for kind in ("parquet", "arrows"):
        for t, p in paths(kind).items():
            print(t, p, p.stat().st_size)
