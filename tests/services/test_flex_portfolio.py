"""Portfolio capacity and fair dispatch from the store (`services.flex_portfolio`), on both
engines: real Cambridge b0 (gas-heated: 0 kW electric heating to shed), and a small estate of
electrically heated buildings whose loads have a known heating slope on real Bedford weather.
Re-dispatching an event id replaces it; a failed write leaves nothing; the burden history
moves the next request to the buildings not asked before."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from alembic import command
from sqlalchemy import func, inspect, select
from sqlalchemy.exc import IntegrityError

from sobriete.analytics.calendar import occupancy
from sobriete.domain.portfolio import ActivityCategory, default_calendar
from sobriete.services import flex_portfolio
from sobriete.services.flex_portfolio import (
    DispatchError,
    Scope,
    ScopeError,
    dispatch_event,
    portfolio_capacity,
)
from sobriete.services.flex_run import NaiveTimeError
from sobriete.services.footprint import ledger
from sobriete.services.imports import import_file
from sobriete.services.store import Store, open_store
from sobriete.services.store import flex as store_flex
from sobriete.services.store import schema as S
from sobriete.services.store.engine import _alembic_config
from sobriete.services.store.flex import load_event

from .conftest import BEDFORD, WIDE

TZ = "Europe/Paris"
START = pd.Timestamp("2019-01-22 09:00", tz=TZ)  # Tuesday, term time, ~2 °C at Bedford
END = pd.Timestamp("2019-01-22 12:00", tz=TZ)
HEADER = ("portfolio_code;portfolio_name;territory_code;territory_name;commune_insee;"
          "commune_name;site_code;site_name;building_code;building_name;activity;floor_area_m2;"
          "heating_system;climate_zone;school_zone;meter_code;meter_kind;meter_step_min;"
          "subscribed_power_kva;zone_code;sensor_code;sensor_kind;weather_station")
# building, commune, activity, heating, occupied slope kW/K (balance 14 °C)
ESTATE = [("ECOLE-A", "A", "school", "electric_resistance", 2.0),
          ("GYM-A", "A", "gym", "electric_resistance", 1.5),
          ("ECOLE-B", "B", "school", "heat_pump", 1.0),
          ("MAIRIE-B", "B", "town_hall", "gas_boiler", 0.0)]


def _registry(folder: Path) -> Path:
    lines = [HEADER]
    for code, commune, act, heat, _ in ESTATE:
        lines.append(f"P;Portefeuille;T;Territoire;{commune};Commune {commune};S-{code};Site;"
                     f"{code};Bâtiment {code};{act};1000;{heat};H1;Zone C;{code}-elec;"
                     f"electricity;10;;;;;bedford")
    lines.append("P;Portefeuille;T;Territoire;B;Commune B;S-GARAGE;Site;GARAGE-B;Garage;other;"
                 "200;unknown;H1;Zone C;;;;;;;;bedford")
    path = folder / "registry.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def estate_files(shared_data: Path, tmp_path_factory) -> Path:
    """Registry, 10-min electricity of the four buildings, Bedford weather, 2018-07 to
    2019-02. Each load: a base profile + slope x max(0, 14 - T) in occupation, half of it
    (balance 10 °C) outside, + noise."""
    folder = tmp_path_factory.mktemp("flex_estate")
    _registry(folder)
    w = pd.read_csv(shared_data / "cambridge/weather_bedford_hourly.csv.gz",
                    parse_dates=["timestamp_utc"])
    w = w[(w["timestamp_utc"] >= "2018-06-30") & (w["timestamp_utc"] < "2019-02-02")]
    w.to_csv(folder / "weather.csv", index=False)
    t_h = pd.Series(w["air_temperature_c"].to_numpy(),
                    index=pd.DatetimeIndex(w["timestamp_utc"]).tz_localize("UTC"))
    idx = pd.date_range("2018-07-01", "2019-02-01", freq="10min", tz="UTC", inclusive="left")
    t = t_h.reindex(t_h.index.union(idx)).interpolate("time").reindex(idx).to_numpy()
    rng = np.random.default_rng(7)
    out = {"timestamp_utc": idx.strftime("%Y-%m-%d %H:%M:%S")}
    for code, _c, act, _h, slope in ESTATE:
        occ = occupancy(default_calendar(ActivityCategory(act)), idx).occupied
        kw = (np.where(occ, 10.0, 3.0) + np.where(occ, slope * np.maximum(0, 14 - t),
                                                  slope / 2 * np.maximum(0, 10 - t))
              + rng.normal(0, 1.0, len(idx)))
        out[f"{code}-elec"] = np.round(np.maximum(kw, 0.1) / 6, 5)  # kWh per 10 min
    pd.DataFrame(out).to_csv(folder / "elec.csv", index=False)
    return folder


def _load(url: str, folder: Path) -> Store:
    store = open_store(url)
    import_file(store, folder / "registry.csv", "registry")
    import_file(store, folder / "elec.csv", "meter-csv", **WIDE)
    import_file(store, folder / "weather.csv", "weather-csv", **BEDFORD)
    return store


@pytest.fixture
def estate(any_store_url, estate_files) -> Store:
    return _load(any_store_url, estate_files)


@pytest.fixture
def estate_sqlite(sqlite_url, estate_files) -> Store:
    return _load(sqlite_url, estate_files)


def test_capacity_per_building_commune_and_portfolio(estate_sqlite):
    rep = portfolio_capacity(estate_sqlite, START, END)
    caps = {c.building_code: c for c in rep.capacities}
    assert list(caps) == ["ECOLE-A", "GYM-A", "ECOLE-B", "GARAGE-B", "MAIRIE-B"]
    for code, _c, _a, _h, slope in ESTATE[:3]:
        c = caps[code]
        assert c.method == "meter-only" and c.shed_kw > 0, c.explanation_en
        fitted = c.provenance["fit"]["occupied"]["slope_kw_per_k"]
        assert fitted == pytest.approx(slope, rel=0.08), code
        assert c.provenance["max_drop_k"] <= 1 + 1e-9
        assert c.provenance["meters"] == [f"{code}-elec"]
        assert c.provenance["outdoor"] == "observed (bedford)"
    assert caps["GYM-A"].provenance["time_constant_h"] == 8.0  # light: less than its heat
    assert caps["GYM-A"].shed_kw < caps["GYM-A"].provenance["heating_kw"]
    assert caps["MAIRIE-B"].shed_kw == 0
    assert "not_electric_heating" in [w.code for w in caps["MAIRIE-B"].warnings]
    assert [w.code for w in caps["GARAGE-B"].warnings] == ["no_electricity_meter"]
    a, b = rep.by_commune["A"], rep.by_commune["B"]
    assert a.shed_kw == pytest.approx(caps["ECOLE-A"].shed_kw + caps["GYM-A"].shed_kw)
    assert b.n_buildings == 3
    assert rep.total.shed_kw == pytest.approx(a.shed_kw + b.shed_kw)
    only_b = portfolio_capacity(estate_sqlite, START, END, scope=Scope(commune="B"))
    assert [c.building_code for c in only_b.capacities] == ["ECOLE-B", "GARAGE-B", "MAIRIE-B"]
    assert only_b.total.shed_kw == pytest.approx(b.shed_kw)


def test_future_window_needs_a_forecast(estate_sqlite):
    a = pd.Timestamp("2019-03-12 09:00", tz=TZ)  # after the stored weather, term time
    b = a + pd.Timedelta(hours=2)
    rep = portfolio_capacity(estate_sqlite, a, b, scope=Scope(building="ECOLE-A"))
    (c,) = rep.capacities
    assert c.shed_kw == 0 and c.warnings[-1].code == "not_computed"
    assert "--temp-ext" in c.warnings[-1].message_en
    rep = portfolio_capacity(estate_sqlite, a, b, scope=Scope(building="ECOLE-A"),
                             forecast_temp_c=0.0)
    (c,) = rep.capacities
    assert c.shed_kw > 0 and c.provenance["outdoor"] == "forecast 0.0 °C given"
    # 14 K below the balance point: the heating is 2 kW/K x 14 K
    assert c.provenance["heating_kw"] == pytest.approx(28.0, rel=0.08)


def test_typed_errors(estate_sqlite):
    with pytest.raises(NaiveTimeError):
        portfolio_capacity(estate_sqlite, pd.Timestamp("2019-01-22 09:00"), END)
    with pytest.raises(ScopeError, match="unknown commune 'Z'"):
        portfolio_capacity(estate_sqlite, START, END, scope=Scope(commune="Z"))
    with pytest.raises(DispatchError, match="> 0 kW"):
        dispatch_event(estate_sqlite, "E", START, END, -5)
    with pytest.raises(DispatchError, match="event id"):
        dispatch_event(estate_sqlite, "", START, END, 5)


def _count(store: Store, table) -> int:
    with store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_dispatch_is_fair_stored_and_idempotent(estate):
    # First event: only commune A is asked.
    e1 = dispatch_event(estate, "EW-2019-01-22", START, END, 10.0, scope=Scope(commune="A"))
    assert e1.dispatch.served_kw == pytest.approx(10.0) and e1.dispatch.unmet_kw == 0
    assert {a.building_code for a in e1.allocations} == {"ECOLE-A", "GYM-A"}
    assert not e1.replaced and not e1.dry_run
    for a in e1.allocations:
        assert a.allocated_kw <= a.capacity_kw + 1e-9
        assert a.discomfort_kh <= a.capacity_kw and 0 <= a.share <= 1
    rows = _count(estate, S.flex_allocation)
    again = dispatch_event(estate, "EW-2019-01-22", START, END, 10.0, scope=Scope(commune="A"))
    assert again.replaced
    assert again.dispatch.allocation_kw == pytest.approx(e1.dispatch.allocation_kw)
    assert _count(estate, S.flex_event) == 1 and _count(estate, S.flex_allocation) == rows
    # A week later, the whole portfolio: commune B was not asked, so it sheds first.
    a2, b2 = START + pd.Timedelta(days=7), END + pd.Timedelta(days=7)
    e2 = dispatch_event(estate, "EW-2019-01-29", a2, b2, 2.0)
    alloc = e2.dispatch.allocation_kw
    assert e2.history_records == 2
    assert alloc["ECOLE-B"] == pytest.approx(2.0)
    assert alloc["ECOLE-A"] == 0 and alloc["GYM-A"] == 0
    assert e2.dispatch.jain_after > e2.dispatch.jain_before
    # Unmet kW said plainly when the request exceeds the capacity.
    big = dispatch_event(estate, "EW-BIG", a2, b2, 1000.0, dry_run=True)
    assert big.dispatch.unmet_kw == pytest.approx(1000.0 - big.capacity.total.shed_kw)
    assert "non couverts" in big.dispatch.explanation_fr
    assert load_event(estate.engine.connect(), "EW-BIG") is None  # dry run: nothing stored
    stored = load_event(estate.engine.connect(), "EW-2019-01-29")
    assert stored.request_kw == 2.0 and stored.jain_after == pytest.approx(e2.dispatch.jain_after)
    assert {a.building_code for a in stored.allocations} == set(alloc)
    assert (ledger(estate)["job"] == "flex_dispatch").sum() == 4


def test_failed_write_leaves_nothing(estate_sqlite, monkeypatch):
    dispatch_event(estate_sqlite, "E1", START, END, 5.0)
    before = load_event(estate_sqlite.engine.connect(), "E1")

    def broken(conn, codes):
        raise RuntimeError("disk full")

    monkeypatch.setattr(store_flex, "_building_ids", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        dispatch_event(estate_sqlite, "E1", START, END, 9.0)  # replace, fails midway
    with pytest.raises(RuntimeError, match="disk full"):
        dispatch_event(estate_sqlite, "E2", START, END, 9.0)  # new, fails midway
    after = load_event(estate_sqlite.engine.connect(), "E1")
    assert after.request_kw == 5.0 and after.allocations == before.allocations
    assert load_event(estate_sqlite.engine.connect(), "E2") is None


def test_gas_heated_real_building_has_no_electric_heating_to_shed(b0_store):
    rep = portfolio_capacity(b0_store, pd.Timestamp("2019-11-14 08:00", tz=TZ),
                             pd.Timestamp("2019-11-14 10:00", tz=TZ))
    (c,) = rep.capacities
    assert c.building_code == "b0" and c.shed_kw == 0
    codes = [w.code for w in c.warnings]
    assert "not_electric_heating" in codes
    # the fit itself ran on the real meter: its period and slope are in the provenance
    assert c.provenance["fit"]["n_days"] >= 360
    assert c.provenance["meters"] == ["b0-elec"]
    d = dispatch_event(b0_store, "B0", rep.window_start_utc, rep.window_end_utc, 5.0)
    assert d.dispatch.unmet_kw == pytest.approx(5.0) and d.allocations == []


def test_migration_0006_upgrades_and_downgrades(any_store_url):
    store = open_store(any_store_url)
    cfg = _alembic_config(store.engine.url.render_as_string(hide_password=False))
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0005")
    with store.engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
    assert "flex_event" not in tables and "flex_allocation" not in tables
    store.close()
    store = open_store(any_store_url)
    with store.engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
    assert {"flex_event", "flex_allocation"} <= tables
    store.close()


def test_two_meters_of_a_building_are_summed(estate_sqlite, estate_files, tmp_path):
    """A second electricity meter on ECOLE-A (a flat 6 kW: lights of an annex) adds to the
    base load, not to the heating: same slope, same shed, both meters in the provenance."""
    before = portfolio_capacity(estate_sqlite, START, END, scope=Scope(building="ECOLE-A"))
    lines = (estate_files / "registry.csv").read_text(encoding="utf-8").splitlines()
    extra = next(x for x in lines if ";ECOLE-A;" in x).replace("ECOLE-A-elec", "ECOLE-A-annexe")
    (tmp_path / "registry.csv").write_text("\n".join([lines[0], extra]) + "\n",
                                           encoding="utf-8")
    import_file(estate_sqlite, tmp_path / "registry.csv", "registry")
    idx = pd.date_range("2018-07-01", "2019-02-01", freq="10min", tz="UTC", inclusive="left")
    pd.DataFrame({"timestamp_utc": idx.strftime("%Y-%m-%d %H:%M:%S"),
                  "ECOLE-A-annexe": 1.0}).to_csv(tmp_path / "annexe.csv", index=False)
    import_file(estate_sqlite, tmp_path / "annexe.csv", "meter-csv", **WIDE)
    after = portfolio_capacity(estate_sqlite, START, END, scope=Scope(building="ECOLE-A"))
    (b,), (a,) = before.capacities, after.capacities
    assert a.provenance["meters"] == ["ECOLE-A-annexe", "ECOLE-A-elec"]
    assert a.shed_kw == pytest.approx(b.shed_kw, rel=1e-6)
    assert a.baseline_kw == pytest.approx(b.baseline_kw + 6.0, rel=1e-3)


def test_a_concurrent_write_of_the_same_new_id_is_a_typed_error(estate_sqlite, monkeypatch):
    def raced(conn, event, allocations):
        raise IntegrityError("INSERT INTO flex_event", {}, Exception("UNIQUE constraint"))

    monkeypatch.setattr(flex_portfolio, "save_event", raced)
    with pytest.raises(DispatchError, match="written by another dispatch at the same time"):
        dispatch_event(estate_sqlite, "E-RACE", START, END, 5.0)
    assert load_event(estate_sqlite.engine.connect(), "E-RACE") is None
