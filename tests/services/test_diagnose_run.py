"""The diagnosis use case on real Cambridge data: default window, findings stored once per
key, harmless re-runs, findings no longer seen kept, dismissals kept, typed errors."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from sobriete.domain.errors import SobrieteError
from sobriete.domain.findings import FindingKind
from sobriete.services import diagnose_run as D
from sobriete.services.diagnose_run import UnknownBuildingError, UnknownMeterError, diagnose
from sobriete.services.imports import import_file
from sobriete.services.store import write_readings
from sobriete.services.store.findings import (
    UnknownFindingError,
    get_finding,
    load_findings,
    set_finding_status,
)


def _rows(store) -> list[tuple]:
    with store.engine.connect() as c:
        return c.exec_driver_sql(
            "SELECT key, first_run_id, last_run_id, seen_last, status, doc_json FROM finding"
            " ORDER BY key").all()


def test_diagnosing_twice_stores_the_same_findings_once(b0_store):
    store = b0_store
    first = diagnose(store)
    # Default window: the last 12 full months of data; 2018 is the reference history.
    assert first.windows == {"b0": (date(2019, 1, 1), date(2020, 1, 1))}
    assert first.findings and first.new == len({f.key for f in first.findings})
    before = _rows(store)
    second = diagnose(store)
    after = _rows(store)
    assert {f.key for f in second.findings} == {f.key for f in first.findings}
    assert (second.new, second.not_seen) == (0, 0)
    assert len(after) == len(before) == len({r[0] for r in after})  # nothing duplicated
    # Same documents; only the run that last saw them moved on.
    assert [(r[0], r[1], r[5]) for r in after] == [(r[0], r[1], r[5]) for r in before]
    assert {r[2] for r in after} == {second.run_id}
    with store.engine.connect() as c:
        runs = c.exec_driver_sql("SELECT status FROM diagnosis_run ORDER BY id").scalars().all()
        jobs = c.exec_driver_sql(
            "SELECT COUNT(*) FROM job_footprint WHERE job = 'diagnosis'").scalar()
        eur = [f.finding.waste.eur_per_year.value for f in load_findings(c)
               if f.finding.waste and f.finding.waste.eur_per_year]
    assert runs == ["done", "done"] and jobs == 2
    assert eur and eur == sorted(eur, reverse=True)  # ranked by EUR of waste


def test_findings_not_seen_again_are_kept_and_dismissals_stay(b0_store, monkeypatch):
    store = b0_store
    first = diagnose(store, meters=["b0-elec"])
    assert len(first.findings) >= 2
    dropped, dismissed = first.findings[0], first.findings[1]
    with store.engine.begin() as c:
        assert set_finding_status(c, dismissed.key[:8], "dismissed").status == "dismissed"
    real = D.diagnose_meter
    monkeypatch.setattr(D, "diagnose_meter",
                        lambda series, s: [f for f in real(series, s) if f.key != dropped.key])
    second = diagnose(store, meters=["b0-elec"])
    assert second.not_seen == 1
    with store.engine.connect() as c:
        current = {f.key for f in load_findings(c)}
        everything = {f.key: f for f in load_findings(c, include_not_seen=True,
                                                         include_dismissed=True)}
        assert get_finding(c, dismissed.key).status == "dismissed"
    assert dropped.key not in current and not everything[dropped.key].seen_last
    assert dismissed.key not in current and everything[dismissed.key].seen_last
    assert len(everything) == len(first.findings)


def test_window_history_and_closures_reach_the_detectors(b0_sqlite, monkeypatch):
    seen = []
    monkeypatch.setattr(D, "diagnose_meter", lambda series, s: seen.append(series) or [])
    closure = (date(2019, 8, 1), date(2019, 8, 20))
    diagnose(b0_sqlite, start=date(2019, 3, 1), closures={"b0": [closure]})
    (elec,) = [x for x in seen if x.series_key == "b0-elec"]
    assert str(elec.analysis_start) == "2019-02-28 23:00:00+00:00"  # local midnight, UTC
    assert len(elec.reference(365)) == 365 * 24  # the reference year before the window
    assert str(elec.energy_kwh.index[-1]) == "2019-12-31 23:00:00+00:00"  # up to the data
    assert elec.closures == (closure,)


def test_bad_input_is_a_typed_error(b0_sqlite):
    store = b0_sqlite
    with pytest.raises(UnknownBuildingError, match="'zz'.*b0"):
        diagnose(store, building="zz")
    with pytest.raises(UnknownMeterError, match="nope"):
        diagnose(store, meters=["nope"])
    with pytest.raises(SobrieteError, match="end after it starts"):
        diagnose(store, start=date(2019, 6, 1), end=date(2019, 1, 1))
    with store.engine.connect() as c, pytest.raises(UnknownFindingError, match="too short"):
        get_finding(c, "abc")
    with store.engine.connect() as c, pytest.raises(UnknownFindingError, match="no stored"):
        get_finding(c, "0123456789")
    with store.engine.begin() as c, pytest.raises(SobrieteError, match="status 'gone'"):
        set_finding_status(c, "0123456789", "gone")


def test_a_meter_without_data_fails_alone(b0_sqlite):
    store = b0_sqlite
    before = {f.key for f in diagnose(store, meters=["b0-elec"]).findings}
    # A window without data: the meter fails with the reason, its findings stay as they were.
    empty = diagnose(store, start=date(2030, 1, 1), meters=["b0-elec"])
    assert empty.n_failed == 1 and "no reading" in empty.errors["b0-elec"]
    with store.engine.connect() as c:
        assert {f.key for f in load_findings(c)} == before


def test_zone_temperatures_are_diagnosed_with_the_meters(b0_sqlite, b0_real, tmp_path):
    """A zone sensor declared in the registry: its rooms kept at 22 °C in winter break the
    19 °C rule (R.241-26); the finding is stored once like the meters' ones."""
    store = b0_sqlite
    line = (b0_real / "registry.csv").read_text(encoding="utf-8").splitlines()[1].split(";")
    line[15:22] = ["", "", "", "", "b0-z1", "b0-z1-t", "temperature"]
    registry = tmp_path / "zone.csv"
    header = (b0_real / "registry.csv").read_text(encoding="utf-8").splitlines()[0]
    registry.write_text(f"{header}\n{';'.join(line)}\n", encoding="utf-8")
    import_file(store, registry, "registry")
    idx = pd.date_range("2019-01-07", "2019-03-04", freq="h", tz="UTC", inclusive="left")
    frame = pd.DataFrame({"series_key": "b0-z1-t", "quantity": "temp_zone_c",
                          "start_utc": idx, "duration_s": 0, "value": 22.0})
    with store.engine.begin() as c:
        write_readings(c, frame, import_id=0, kind="sensor")
    first = diagnose(store, building="b0")
    zone = [f for f in first.findings if f.evidence.series_key == "b0-z1"]
    assert zone and {f.kind for f in zone} >= {FindingKind.ZONE_OCCUPIED_ABOVE_19}
    assert "b0-z1" not in first.errors
    second = diagnose(store, building="b0")
    assert second.new == 0 and {f.key for f in second.findings} == {f.key for f in first.findings}
