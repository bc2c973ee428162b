"""The frugality ledger: what each job of the platform itself cost to compute.

Every job (import, quality check, later fits and plans) runs inside ``measured(...)``, which
records wall time, CPU time (this process and its finished children, so process pools count),
peak resident memory (sampled), and an energy estimate in Wh with its CO2. Energy comes from
the CPU package counter (Intel RAPL, ``/sys/class/powercap``) when it can be read, else from
CPU-seconds and memory with the stated assumptions of ``domain.factors`` — the method used is
stored with every row, so a number never travels without how it was obtained.
"""

from __future__ import annotations

import json
import os
import resource
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import psutil
from sqlalchemy import select

from sobriete.domain.factors import CO2_KG_PER_KWH, COMPUTE_W_PER_CORE, COMPUTE_W_PER_GB_RAM
from sobriete.services.store import Store
from sobriete.services.store.schema import job_footprint

RAPL = Path("/sys/class/powercap/intel-rapl:0/energy_uj")
SAMPLE_S = 0.02


@dataclass
class Footprint:
    job: str
    started_at: datetime
    wall_s: float = 0.0
    cpu_s: float = 0.0
    peak_rss_mb: float = 0.0
    energy_wh: float = 0.0
    co2_g: float = 0.0
    method: str = ""
    details: dict = field(default_factory=dict)


class _PeakSampler(threading.Thread):
    """Samples the RSS of this process and its children: ru_maxrss is lifetime-wide."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.proc = psutil.Process()
        self.peak = 0
        self._halt = threading.Event()

    def _rss(self) -> int:
        total = self.proc.memory_info().rss
        for child in self.proc.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.Error:
                pass
        return total

    def run(self) -> None:
        while not self._halt.is_set():
            self.peak = max(self.peak, self._rss())
            self._halt.wait(SAMPLE_S)

    def stop(self) -> int:
        self._halt.set()
        self.join()
        return max(self.peak, self._rss())


def _cpu_seconds() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _rapl_uj() -> int | None:
    try:
        return int(RAPL.read_text())
    except (OSError, ValueError):
        return None


def estimate_energy_wh(cpu_s: float, wall_s: float, peak_rss_mb: float) -> tuple[float, str]:
    cpu_wh = cpu_s * COMPUTE_W_PER_CORE.value / 3600
    ram_wh = wall_s * peak_rss_mb / 1024 * COMPUTE_W_PER_GB_RAM.value / 3600
    method = (
        f"estimate: cpu_s x {COMPUTE_W_PER_CORE.value:g} W/core + wall_s x peak GB x "
        f"{COMPUTE_W_PER_GB_RAM.value:g} W/GB (assumptions, domain.factors)"
    )
    return cpu_wh + ram_wh, method


@contextmanager
def measured(job: str, store: Store | None = None, **details) -> Iterator[Footprint]:
    """Measure the enclosed block; save it to ``store`` (own transaction) when given.

    The row is written even when the block fails (with ``details.failed``): a failed job
    also spent energy.
    """
    fp = Footprint(job=job, started_at=datetime.now(UTC), details=dict(details))
    sampler = _PeakSampler()
    sampler.start()
    wall0, cpu0, rapl0 = time.perf_counter(), _cpu_seconds(), _rapl_uj()
    try:
        yield fp
    except BaseException as exc:
        fp.details["failed"] = type(exc).__name__
        raise
    finally:
        fp.wall_s = time.perf_counter() - wall0
        fp.cpu_s = _cpu_seconds() - cpu0
        fp.peak_rss_mb = sampler.stop() / 2**20
        rapl1 = _rapl_uj()
        if rapl0 is not None and rapl1 is not None and rapl1 >= rapl0:
            fp.energy_wh = (rapl1 - rapl0) / 3.6e9
            fp.method = "measured: RAPL CPU package counter (whole package, shared with others)"
        else:
            fp.energy_wh, fp.method = estimate_energy_wh(fp.cpu_s, fp.wall_s, fp.peak_rss_mb)
        factor = CO2_KG_PER_KWH["electricity"]
        fp.co2_g = fp.energy_wh / 1000 * factor.value * 1000
        fp.method += f"; CO2 with {factor.value} kgCO2e/kWh ({factor.source})"
        fp.details.setdefault("pid", os.getpid())
        if store is not None:
            save(store, fp)


def save(store: Store, fp: Footprint) -> None:
    row = asdict(fp)
    row["details_json"] = json.dumps(row.pop("details"), default=str)
    with store.engine.begin() as conn:
        conn.execute(job_footprint.insert().values(**row))


def ledger(store: Store) -> pd.DataFrame:
    """Every recorded job, oldest first."""
    with store.read() as conn:
        rows = conn.execute(select(job_footprint).order_by(job_footprint.c.id)).mappings().all()
    return pd.DataFrame([dict(r) for r in rows])
