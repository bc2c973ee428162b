"""The frugality ledger measures real work and keeps failed jobs too."""

import numpy as np
import pytest

from sobriete.services.footprint import estimate_energy_wh, ledger, measured
from sobriete.services.store import open_store


def test_measured_records_cpu_memory_energy(sqlite_url):
    store = open_store(sqlite_url)
    with measured("unit-test", store, what="matrix") as fp:
        a = np.random.default_rng(0).random((800, 800))
        for _ in range(5):
            a = a @ a / 800
        big = np.ones(30_000_000)  # 240 MB: the sampled peak must see it
        del big
    jobs = ledger(store)
    assert list(jobs.job) == ["unit-test"]
    row = jobs.iloc[0]
    assert row.cpu_s > 0 and row.wall_s > 0
    assert row.peak_rss_mb > 200
    assert row.energy_wh > 0 and row.co2_g > 0
    assert "kgCO2e/kWh" in row.method
    assert fp.energy_wh == pytest.approx(row.energy_wh)


def test_a_failed_job_is_recorded(sqlite_url):
    store = open_store(sqlite_url)
    with pytest.raises(ZeroDivisionError), measured("failing", store):
        _ = 1 / 0
    assert '"failed": "ZeroDivisionError"' in ledger(store).iloc[0].details_json


def test_energy_estimate_scales_with_cpu_time():
    one, _ = estimate_energy_wh(cpu_s=10, wall_s=10, peak_rss_mb=100)
    two, method = estimate_energy_wh(cpu_s=20, wall_s=10, peak_rss_mb=100)
    assert two > one > 0 and "W/core" in method
