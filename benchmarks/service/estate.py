"""The synthetic estate of the service benchmark: N buildings in 130 communes of 11
territories, stored through the product's own paths.

- the registry is a CSV in the documented registry format, imported with
  ``import_file(..., "registry")``; coordinates fall inside the Paris metropolis bounding box;
- the energy is one daily electricity meter per building over 2018-2019 (a long meter CSV
  imported with ``import_file(..., "meter-csv")``): a base load plus a heating part driven by
  the real Paris-Orly SYNOP temperatures (imported too, so degree-days are real), with a 2019
  change drawn per building so the status mix has alerts, watches and OKs;
- ``building_status`` is computed by ``services.portfolio_status.refresh`` (the daily
  analysis' own code), after the findings are stored so their count is in it;
- findings are synthetic (detector ``benchmark-synthetic``) but valid documents, stored with
  ``save_findings`` under one ``diagnosis_run``; tracked actions go through ``save_status``;
- accounts: a portfolio admin, a territory energy manager and a commune energy manager, each
  with a bearer token.

Nothing here is meant to look like a real commune: codes and names say they are synthetic.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from sobriete.advice.catalogue import CATALOGUE
from sobriete.domain.access import Grant, Role, Scope
from sobriete.domain.findings import Evidence, Finding, FindingKind, Quantity, Waste
from sobriete.services import portfolio_status
from sobriete.services.accounts import create_account, issue_token
from sobriete.services.imports import import_file
from sobriete.services.store import Store
from sobriete.services.store import schema as S
from sobriete.services.store.actions import save_status
from sobriete.services.store.findings import save_findings

N_TERRITORIES = 11
N_COMMUNES = 130
STATION = "07149-paris-orly"
SYNOP = Path("/work/shared/data/france/meteofrance_synop_paris_orly_3h_2015_2019.csv.gz")
# Paris metropolis, roughly (WGS84): every building's marker lands on the map's area.
LAT = (48.72, 49.00)
LON = (2.17, 2.60)
YEARS = ("2018-01-01", "2020-01-01")  # two years: the refresh's trend needs N-1
# activity -> (share of buildings, yearly kWh/m2 on electricity, heating share)
ACTIVITIES = {
    "school": (0.34, 95.0, 0.35), "nursery": (0.10, 140.0, 0.40), "gym": (0.10, 80.0, 0.30),
    "town_hall": (0.06, 120.0, 0.30), "office": (0.10, 130.0, 0.30),
    "library": (0.08, 110.0, 0.30), "culture": (0.12, 90.0, 0.35), "pool": (0.03, 350.0, 0.20),
    "health": (0.04, 160.0, 0.30), "other": (0.03, 70.0, 0.30),
}
PASSWORD = "banc-d-essai-sobriete"  # noqa: S105 - throwaway accounts of a throwaway database


@dataclass
class Estate:
    n_buildings: int
    communes: list[str]
    territories: list[str]
    commune: str  # the commune manager's commune
    territory: str  # the territory manager's territory
    building: str  # a building of that commune (for /batiments/{code})
    tokens: dict[str, str]  # role label -> bearer token
    logins: dict[str, str]
    password: str
    timings_s: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    status_source: str = "portfolio_status.refresh"

    def to_json(self) -> dict:
        return asdict(self)


def _geography(rng: np.random.Generator):
    """11 territories, 130 communes (10 to 14 each), each commune a small cluster on the map."""
    sizes = np.full(N_TERRITORIES, N_COMMUNES // N_TERRITORIES)
    sizes[: N_COMMUNES - sizes.sum()] += 1
    communes = []
    n = 0
    for t, size in enumerate(sizes, start=1):
        for _ in range(size):
            n += 1
            communes.append({
                "territory_code": f"T{t:02d}", "territory_name": f"Territoire synthétique {t}",
                "commune_insee": f"9Z{n:03d}", "commune_name": f"Commune synthétique {n}",
                "lat": rng.uniform(LAT[0] + 0.01, LAT[1] - 0.01),
                "lon": rng.uniform(LON[0] + 0.01, LON[1] - 0.01),
            })
    return communes


def registry_frame(n: int, seed: int = 5) -> pd.DataFrame:
    """One row per building (its one electricity meter), in the registry's columns."""
    rng = np.random.default_rng(seed)
    communes = _geography(rng)
    acts = list(ACTIVITIES)
    shares = np.array([ACTIVITIES[a][0] for a in acts])
    activity = rng.choice(acts, size=n, p=shares / shares.sum())
    # Communes of very unequal size, as in the metropolis (Paris-like ones own hundreds).
    weights = rng.pareto(1.2, N_COMMUNES) + 1
    which = rng.choice(N_COMMUNES, size=n, p=weights / weights.sum())
    first = min(n, N_COMMUNES)
    which[:first] = rng.permutation(N_COMMUNES)[:first]  # each commune a building, if n allows
    area = np.round(np.exp(rng.normal(np.log(1500), 0.6, n)).clip(150, 20_000), 1)
    rows = []
    for i in range(n):
        c = communes[which[i]]
        code = f"B{i + 1:05d}"
        rows.append({
            "portfolio_code": "BENCH", "portfolio_name": "Banc d'essai du service (synthétique)",
            "territory_code": c["territory_code"], "territory_name": c["territory_name"],
            "commune_insee": c["commune_insee"], "commune_name": c["commune_name"],
            "site_code": f"S{i + 1:05d}", "site_name": f"Site {i + 1}",
            "building_code": code, "building_name": f"{activity[i]} {i + 1}",
            "activity": activity[i], "floor_area_m2": area[i], "heating_system":
            "electric_resistance", "climate_zone": "H1", "school_zone": "C",
            "meter_code": f"{code}-elec", "meter_kind": "electricity", "meter_step_min": 1440,
            "weather_station": STATION,
            "latitude": round(float(np.clip(c["lat"] + rng.normal(0, 0.01), *LAT)), 5),
            "longitude": round(float(np.clip(c["lon"] + rng.normal(0, 0.014), *LON)), 5),
        })
    return pd.DataFrame(rows)


def _daily_temperature() -> pd.Series:
    """Daily mean air temperature at Paris-Orly (UTC days) from the real SYNOP file."""
    from sobriete.io import weather

    frame = weather.read_synop(SYNOP, station=STATION).frame["temp_air_c"]
    return frame.resample("1D").mean().interpolate().loc[YEARS[0]:"2019-12-31"]


def readings_frame(reg: pd.DataFrame, seed: int = 5) -> pd.DataFrame:
    """Daily kWh of every building's meter over 2018-2019, in the long meter CSV's columns.

    3 % of meters have no reading (status no_data), 5 % lose 15 % of their days (coverage
    watch). 2019 against 2018: most buildings a little lower, 15 % up 5 %, 15 % up 12 %."""
    rng = np.random.default_rng(seed + 1)
    temp = _daily_temperature()
    days = temp.index
    hdd = np.clip(18.0 - temp.to_numpy(), 0, None)
    hdd_share = hdd / hdd.mean()
    weekday = days.day_of_week.to_numpy()
    in_2019 = (days.year == 2019).astype(float)
    n = len(reg)
    change = rng.choice([0.98, 1.05, 1.12], size=n, p=[0.70, 0.15, 0.15])
    change = change + rng.normal(0, 0.01, n)
    parts = []
    for i, b in enumerate(reg.itertuples(index=False)):
        r = rng.random()
        if r < 0.03:
            continue
        _, kwh_m2, heat = ACTIVITIES[b.activity]
        per_day = kwh_m2 * b.floor_area_m2 / 365.0
        shape = (1 - heat) + heat * hdd_share
        if b.activity in ("school", "nursery", "office", "town_hall"):
            shape = shape * np.where(weekday >= 5, 0.55, 1.15)
        kwh = per_day * shape * (1 + in_2019 * (change[i] - 1))
        kwh = kwh * rng.lognormal(0, 0.06, len(days))
        keep = np.ones(len(days), bool) if r >= 0.08 else rng.random(len(days)) > 0.15
        parts.append(pd.DataFrame({"meter": b.meter_code, "timestamp": days[keep],
                                   "value": np.round(kwh[keep], 2)}))
    return pd.concat(parts, ignore_index=True)


def _finding(code: str, meter: str, kind: FindingKind, start: datetime, days: int,
             kwh: float, rng: np.random.Generator) -> Finding:
    end = start + pd.Timedelta(days=days).to_pytimedelta()
    eur = kwh * 0.20
    return Finding(
        building_code=code, kind=kind, start_utc=start, end_utc=end,
        score=float(np.round(rng.uniform(0.5, 0.99), 2)), detector="benchmark-synthetic",
        detector_version="1",
        evidence=Evidence(series_key=meter, quantity="energy_kwh", data_start_utc=start,
                          data_end_utc=end, n_points=days,
                          values={"kwh_observed": round(kwh * days / 365, 1)},
                          parameters={"synthetic": True}),
        waste=Waste(carrier="electricity", kwh_observed=round(kwh * days / 365, 1),
                    kwh_per_year=Quantity(value=kwh, low=0.7 * kwh, high=1.3 * kwh,
                                          unit="kWh"),
                    eur_per_year=Quantity(value=eur, low=0.7 * eur, high=1.3 * eur,
                                          unit="EUR"),
                    factors={"price_eur_per_kwh": 0.20, "source": "benchmark"},
                    method="synthetic finding of the load benchmark"),
        message_fr="Constat synthétique du banc d'essai de charge.",
        message_en="Synthetic finding of the load benchmark.",
        actions=tuple(a for a, s in CATALOGUE.items() if kind in s.addresses)[:2],
    )


KINDS = (FindingKind.OUT_OF_HOURS, FindingKind.WEEKEND_USE, FindingKind.BASE_LOAD_HIGH,
         FindingKind.NO_SETBACK, FindingKind.HOLIDAY_USE, FindingKind.DRIFT)


def store_findings(store: Store, reg: pd.DataFrame, share: float = 0.12,
                   seed: int = 5) -> tuple[int, int]:
    """1-3 findings on ``share`` of the buildings, and a tracked action on half of those;
    returns (findings, tracked actions)."""
    rng = np.random.default_rng(seed + 2)
    chosen = reg.sample(frac=share, random_state=seed)
    now = datetime.now(UTC)
    n_f = n_a = 0
    with store.engine.begin() as conn:
        ids = dict(conn.execute(S.building.select().with_only_columns(
            S.building.c.code, S.building.c.id)).all())
        run_id = conn.execute(S.diagnosis_run.insert().values(
            started_at=now, finished_at=now, status="done",
            settings_json=json.dumps({"benchmark": "synthetic findings"}),
            n_series=len(chosen), n_failed=0, n_findings=0)).inserted_primary_key[0]
        for b in chosen.itertuples(index=False):
            found = []
            for kind in rng.choice(KINDS, size=int(rng.integers(1, 4)), replace=False):
                start = datetime(2019, int(rng.integers(1, 11)), 1, tzinfo=UTC)
                kwh = float(np.round(rng.uniform(0.02, 0.15) * b.floor_area_m2 * 100, 0))
                found.append(_finding(b.building_code, b.meter_code, FindingKind(kind), start,
                                      int(rng.integers(7, 60)), kwh, rng))
            n_f += save_findings(conn, run_id, ids[b.building_code], {b.meter_code}, found).new
            if rng.random() < 0.5 and found[0].actions:
                status = str(rng.choice(["to_do", "in_progress", "done"]))
                save_status(conn, b.building_code, found[0].actions[0], status,
                            done_date=date(2019, 11, 1) if status == "done" else None,
                            note="banc d'essai", estimated=None)
                n_a += 1
        conn.execute(S.diagnosis_run.update().where(S.diagnosis_run.c.id == run_id)
                     .values(n_findings=n_f))
    return n_f, n_a


def _accounts(store: Store, territory: str, commune: str) -> tuple[dict, dict]:
    spec = {
        "admin": ("bench-admin", Grant(Role.ADMIN, Scope("portfolio", "BENCH"))),
        "territory": ("bench-territoire", Grant(Role.ENERGY_MANAGER, Scope("territory",
                                                                            territory))),
        "commune": ("bench-commune", Grant(Role.ENERGY_MANAGER, Scope("commune", commune))),
    }
    tokens, logins = {}, {}
    for label, (login, grant) in spec.items():
        aid = create_account(store, login, PASSWORD, f"Banc d'essai ({label})", [grant])
        tokens[label] = issue_token(store, aid, "benchmark", ttl_days=1)
        logins[label] = login
    return tokens, logins


def build(store: Store, n: int, workdir: Path, *, log=print) -> Estate:
    """Generate and store the estate of ``n`` buildings; files are written in ``workdir``."""
    workdir.mkdir(parents=True, exist_ok=True)
    t: dict[str, float] = {}
    t0 = time.perf_counter()
    reg = registry_frame(n)
    reg_csv = workdir / "registre.csv"
    reg.to_csv(reg_csv, sep=";", index=False)
    import_file(store, reg_csv, "registry")
    t["registry_s"] = time.perf_counter() - t0
    log(f"registre : {n} bâtiments importés en {t['registry_s']:.1f} s")

    t0 = time.perf_counter()
    import_file(store, SYNOP, "synop", station=STATION)
    readings = readings_frame(reg)
    meter_csv = workdir / "releves.csv"
    readings.assign(timestamp=readings["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%S+00:00")
                    ).to_csv(meter_csv, sep=";", index=False)
    import_file(store, meter_csv, "meter-csv")
    t["readings_s"] = time.perf_counter() - t0
    log(f"relevés : {len(readings):,} valeurs journalières importées en {t['readings_s']:.1f} s")

    t0 = time.perf_counter()
    n_f, n_a = store_findings(store, reg)
    t["findings_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    counts = portfolio_status.refresh(store)
    t["status_refresh_s"] = time.perf_counter() - t0
    log(f"building_status : {counts.buildings} lignes en {t['status_refresh_s']:.1f} s "
        f"({counts.by_status})")

    if store.dialect == "postgresql":
        # What autovacuum does some time after a bulk load: without it the planner has no
        # statistics and an index-only scan reads the heap (the admin's list ran at 58 % of
        # the throughput it has once analysed).
        t0 = time.perf_counter()
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
        t["vacuum_analyze_s"] = time.perf_counter() - t0

    by_commune = reg.groupby("commune_insee").size().sort_values()
    # The commune manager's commune: a mid-sized one (the median commune has a few dozen).
    commune = str(by_commune.index[len(by_commune) // 2])
    territory = str(reg.loc[reg.commune_insee == commune, "territory_code"].iloc[0])
    building = str(reg.loc[reg.commune_insee == commune, "building_code"].iloc[0])
    tokens, logins = _accounts(store, territory, commune)
    return Estate(
        n_buildings=n, communes=sorted(reg.commune_insee.unique()),
        territories=sorted(reg.territory_code.unique()), commune=commune, territory=territory,
        building=building, tokens=tokens, logins=logins, password=PASSWORD, timings_s=t,
        counts={"readings": len(readings), "findings": n_f, "tracked_actions": n_a,
                "commune_buildings": int(by_commune[commune]),
                "territory_buildings": int((reg.territory_code == territory).sum()),
                **{f"status_{k}": v for k, v in counts.by_status.items()}},
    )
