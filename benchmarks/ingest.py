"""Ingestion benchmark: rows/s parsed and stored (SQLite and PostgreSQL), peak memory.

Generates N rows (default 10 M) in two real formats — the generic long meter CSV and the
Enedis R63 flat CSV — parses them with the product's readers, then stores the frame with the
product's bulk path. The peer in the same run is the obvious hand-rolled way, pandas
``read_csv`` + ``to_datetime`` for parsing and ``DataFrame.to_sql`` for storing (on a 1 M-row
slice, since it is slow), reported as a ratio so machine noise cancels out.

    python -m benchmarks.ingest --rows 10000000 [--pg postgresql://postgres@127.0.0.1/postgres]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
from sqlalchemy import create_engine

from sobriete.io.enedis import read_enedis
from sobriete.io.meter_csv import read_meter_csv
from sobriete.services.footprint import measured
from sobriete.services.store import open_store, write_readings

RESULTS = Path(__file__).with_name("results")
STEP_S = 1800


def _timestamps(n_per_meter: int, offset: bool) -> np.ndarray:
    start = np.datetime64("2020-01-01T00:00:00")
    ts = start + np.arange(n_per_meter) * np.timedelta64(STEP_S, "s")
    text = np.datetime_as_string(ts, unit="s").astype(object)
    return text + "+00:00" if offset else text


def generate_long_csv(path: Path, rows: int, meters: int) -> None:
    per = rows // meters
    ts = _timestamps(per, offset=True)
    rng = np.random.default_rng(42)
    with path.open("w", encoding="utf-8") as f:
        f.write("meter;timestamp;value\n")
        for m in range(meters):
            vals = np.round(rng.gamma(2.0, 1.5, per), 3).astype(str).astype(object)
            f.write("\n".join(f"M{m:05d};" + ts + ";" + vals))
            f.write("\n")


def generate_r63(path: Path, rows: int, meters: int) -> None:
    per = rows // meters
    ts = _timestamps(per, offset=True)
    rng = np.random.default_rng(7)
    with path.open("w", encoding="utf-8") as f:
        f.write("Identifiant PRM;Date de debut;Date de fin;Grandeur physique;Grandeur metier;"
                "Etape metier;Unite;Horodate;Valeur;Nature;Pas\n")
        for m in range(meters):
            prefix = f"3000000{m:07d};01/01/2020;31/12/2099;EA;CONS;BRUT;W;"
            vals = rng.integers(0, 20000, per).astype(str).astype(object)
            f.write("\n".join(prefix + ts + ";" + vals + ";B;PT30M"))
            f.write("\n")


def timed(label: str, fn, rows: int) -> dict:
    with measured(f"bench:{label}") as fp:
        result = fn()
    return {"label": label, "rows": rows, "wall_s": fp.wall_s, "cpu_s": fp.cpu_s,
            "rows_per_s": rows / fp.wall_s, "peak_rss_mb": fp.peak_rss_mb,
            "_result": result}


def _peer_parse(path: Path) -> pd.DataFrame:
    df = pd.read_csv(path, sep=";")
    df["start_utc"] = pd.to_datetime(df["timestamp"], utc=True)
    return df


def _fresh_pg(admin_url: str) -> tuple[str, callable]:
    name = f"sobriete_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url.replace("postgresql://", "postgresql+psycopg://"),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with admin.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

    return admin_url.rsplit("/", 1)[0] + "/" + name, drop


def store_runs(frame: pd.DataFrame, url: str, engine_label: str, peer_rows: int) -> list[dict]:
    store = open_store(url)
    n = len(frame)
    out = []

    def write(f: pd.DataFrame, import_id: int):
        with store.engine.begin() as conn:
            return write_readings(conn, f, import_id)

    out.append(timed(f"store {engine_label} (new rows)", lambda: write(frame, 1), n))
    out.append(timed(f"store {engine_label} (re-import, unchanged)", lambda: write(frame, 2), n))
    peer = frame.iloc[:peer_rows].copy()
    peer["start_s"] = peer["start_utc"].astype("int64") // 10**9
    peer = peer.drop(columns=["start_utc"])
    out.append(timed(
        f"peer to_sql {engine_label}",
        lambda: peer.to_sql("peer_reading", store.engine, index=False, chunksize=50_000),
        peer_rows))
    store.close()
    return out


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--meters", type=int, default=200)
    ap.add_argument("--peer-rows", type=int, default=1_000_000)
    ap.add_argument("--pg", default=os.environ.get(
        "SOBRIETE_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres"))
    ap.add_argument("--no-pg", action="store_true")
    args = ap.parse_args(argv)
    runs: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        tmpd = Path(tmp)
        long_csv, r63 = tmpd / "long.csv", tmpd / "r63.csv"
        t0 = time.perf_counter()
        generate_long_csv(long_csv, args.rows, args.meters)
        generate_r63(r63, args.rows, args.meters)
        print(f"generated 2 x {args.rows:,} rows in {time.perf_counter() - t0:.1f} s")
        runs.append(timed("parse generic long CSV", lambda: read_meter_csv(long_csv), args.rows))
        parsed = runs[-1].pop("_result")
        runs.append(timed("parse Enedis R63 CSV", lambda: read_enedis(r63), args.rows))
        runs.append(timed("peer parse pandas read_csv+to_datetime",
                          lambda: _peer_parse(long_csv), args.rows))
    frame = parsed.frame
    del parsed
    runs += store_runs(frame, f"sqlite:///{tmpd}.sqlite", "SQLite", args.peer_rows)
    Path(f"{tmpd}.sqlite").unlink(missing_ok=True)
    for suffix in ("-wal", "-shm"):
        Path(f"{tmpd}.sqlite{suffix}").unlink(missing_ok=True)
    if not args.no_pg:
        url, drop = _fresh_pg(args.pg)
        try:
            runs += store_runs(frame, url, "PostgreSQL", args.peer_rows)
        finally:
            drop()
    for r in runs:
        r.pop("_result", None)
    report = {
        "benchmark": "ingest",
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "python": platform.python_version(),
                    "memory_gb": round(psutil.virtual_memory().total / 2**30, 1)},
        "rows": args.rows, "meters": args.meters, "runs": runs,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "ingest.json").write_text(json.dumps(report, indent=2))
    print(markdown(report))
    return report


def markdown(report: dict) -> str:
    lines = ["| run | rows | wall s | rows/s | peak MB |", "| --- | ---: | ---: | ---: | ---: |"]
    for r in report["runs"]:
        lines.append(f"| {r['label']} | {r['rows']:,} | {r['wall_s']:.2f} | "
                     f"{r['rows_per_s']:,.0f} | {r['peak_rss_mb']:,.0f} |")
    by = {r["label"]: r["rows_per_s"] for r in report["runs"]}
    peer_parse = by.get("peer parse pandas read_csv+to_datetime")
    if peer_parse:
        lines.append(f"\nparse speed vs pandas peer: "
                     f"{by['parse generic long CSV'] / peer_parse:.2f}x")
    for eng in ("SQLite", "PostgreSQL"):
        if f"peer to_sql {eng}" in by:
            lines.append(f"store speed vs to_sql on {eng}: "
                         f"{by[f'store {eng} (new rows)'] / by[f'peer to_sql {eng}']:.1f}x")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
