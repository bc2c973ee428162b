"""Edge cases of the overlap rule: interval lengths, overlaps, sub-second stamps, signals."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from sobriete.domain.errors import IntervalOverlapError
from sobriete.services.imports import import_file
from sobriete.services.store import open_store, write_readings
from sobriete.services.store.readings import read_series


def _frame(starts, duration_s, values, key="m1", quantity="energy_kwh"):
    return pd.DataFrame({
        "series_key": key, "quantity": quantity,
        "start_utc": pd.to_datetime(starts, utc=True), "duration_s": duration_s,
        "value": values,
    })


def test_a_changed_interval_length_is_a_revision(any_store_url):
    store = open_store(any_store_url)
    starts = ["2024-01-10T00:00Z", "2024-01-10T01:00Z"]
    with store.engine.begin() as c:
        write_readings(c, _frame(starts, 1800, [1.0, 1.0]), import_id=1)
    with store.engine.begin() as c:
        counts = write_readings(c, _frame(starts, 3600, [1.0, 1.0]), import_id=2)
    with store.engine.connect() as c:
        stored = read_series(c, "m1", "energy_kwh")
        rev = c.exec_driver_sql(
            "SELECT old_duration_s, new_duration_s FROM reading_revision").all()
    store.close()
    assert (counts.rows_revised, counts.rows_unchanged) == (2, 0)
    assert stored.duration_s.tolist() == [3600, 3600]
    assert [tuple(r) for r in rev] == [(1800, 3600), (1800, 3600)]


def test_intervals_overlapping_stored_ones_of_another_length_are_refused(any_store_url):
    store = open_store(any_store_url)
    with store.engine.begin() as c:
        write_readings(c, _frame(["2024-01-10T00:00Z", "2024-01-10T00:30Z"], 1800, [1.0, 2.0]),
                       import_id=1)
    hourly_over_half_hours = _frame(["2024-01-09T23:00Z", "2024-01-10T00:00Z"], 3600, [5, 3])
    with pytest.raises(IntervalOverlapError, match="2024-01-10T00:00:00"), \
            store.engine.begin() as c:
        write_readings(c, hourly_over_half_hours, import_id=2)
    shifted = _frame(["2024-01-10T00:15Z"], 1800, [1.0])  # straddles two stored intervals
    with pytest.raises(IntervalOverlapError), store.engine.begin() as c:
        write_readings(c, shifted, import_id=3)
    with store.engine.connect() as c:
        stored = read_series(c, "m1", "energy_kwh")
    store.close()
    assert stored.value.tolist() == [1.0, 2.0]  # untouched


def test_samples_within_one_second_are_one_reading(sqlite_url):
    store = open_store(sqlite_url)
    f = _frame(["2024-01-10T12:00:00.200Z", "2024-01-10T12:00:00.700Z"], 0, [20.5, 20.6],
               quantity="temp_zone_c")
    with store.engine.begin() as c:
        counts = write_readings(c, f, import_id=1)
    store.close()
    assert counts.rows_new == 1


def _ecowatt(tmp_path, level: int):
    doc = {"signals": [{
        "GenerationFichier": "2023-01-10T00:00:00+01:00", "jour": "2023-01-10T00:00:00+01:00",
        "dvalue": level, "message": "Situation normale.",
        "values": [{"pas": h, "hvalue": 1} for h in range(24)],
    }]}
    path = tmp_path / f"ecowatt_{level}.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_ecowatt_reimport_is_a_no_op_and_a_change_is_a_revision(any_store_url, tmp_path):
    store = open_store(any_store_url)
    first = import_file(store, _ecowatt(tmp_path, 1), "ecowatt")
    again = import_file(store, _ecowatt(tmp_path, 1), "ecowatt")
    changed = import_file(store, _ecowatt(tmp_path, 2), "ecowatt")
    store.close()
    assert first.counts.rows_new == 1
    assert (again.counts.rows_unchanged, again.counts.rows_revised) == (1, 0)
    assert changed.counts.rows_revised == 1


def test_an_overlapping_import_is_rejected_and_logged(sqlite_url, tmp_path):
    half = tmp_path / "half.csv"
    half.write_text("meter;timestamp;value\nM;2024-01-10T00:00:00Z;1\nM;2024-01-10T00:30:00Z;2\n"
                    "M;2024-01-10T01:00:00Z;3\n", encoding="utf-8")
    hourly = tmp_path / "hourly.csv"
    hourly.write_text("meter;timestamp;value\nM;2024-01-10T00:00:00Z;3\n"
                      "M;2024-01-10T01:00:00Z;3\n", encoding="utf-8")
    store = open_store(sqlite_url)
    import_file(store, half, "meter-csv")
    with pytest.raises(IntervalOverlapError):
        import_file(store, hourly, "meter-csv")
    with store.engine.connect() as c:
        statuses = [r[0] for r in c.exec_driver_sql("SELECT status FROM import_batch")]
        n = c.exec_driver_sql("SELECT count(*) FROM reading").scalar_one()
    store.close()
    assert statuses == ["ok", "rejected"] and n == 3
