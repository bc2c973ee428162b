"""Zone (room) temperature rules of the code de l'énergie, R.241-26 to R.241-30.

Every mean is time-weighted over valid samples; a week is a local Monday-Sunday week in the
calendar's timezone; consecutive breaching weeks make one finding.

* ZONE_OCCUPIED_ABOVE_19: mean temperature over the occupied instants of a week above
  ``occupied_max_c + tolerance_k``. R.241-26 caps an *average*: a week lets a warm afternoon
  balance a cold Monday morning, as the text intends, yet a room kept at 21 °C is caught.
* ZONE_UNOCCUPIED_ABOVE_16: mean over the instants of a week that lie in unoccupied runs
  shorter than ``closed_min_h`` and at least ``unoccupied_min_h`` long (nights, short
  closures), above ``unoccupied_max_c + tolerance_k``.
* ZONE_CLOSED_ABOVE_8: one finding per unoccupied run of ``closed_min_h`` or more (run length
  on the occupancy flag, so weekend + holiday + declared closure join) whose mean is above
  ``closed_max_c + tolerance_k``.
  Both unoccupied rules leave out ``transition_h`` after closing (a room cools slowly whatever
  the heating does) and before opening (preheat).
* COOLING_BELOW_26: mean temperature weighted by ``cooling_on`` over a week, with at least
  ``min_event_h`` hours of cooling, below ``cooling_min_c - tolerance_k``: the cooling
  setpoint is under 26 °C (an instant test would flag every thermostat cycle at 26 °C).
* SIMULTANEOUS_HEAT_COOL: at least ``min_event_h`` hours in a week where heating and cooling
  both run (overlap of the two shares on each step).

The three heating rules judge heating, not warmth: with ``heating_on``, a period where heating
ran less than ``min_heating_share`` of its hours is not reported (sun, weather, inertia);
without it only the heating season (``settings.heating_season``) is judged and the score is
lowered, with a warning.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from sobriete.analytics.calendar import occupancy
from sobriete.analytics.diagnostics.base import (
    HOURS_PER_YEAR,
    check_utc_index,
    fmt_dec,
    fmt_num,
    waste,
)
from sobriete.analytics.diagnostics.settings import DETECTOR_VERSIONS, DiagnosticSettings
from sobriete.domain.findings import Evidence, Finding, FindingKind, Waste
from sobriete.domain.portfolio import Building, HeatingSystem, Zone

DETECTOR = "zones"
_HOURS_SCALE_H = 10.0  # judged hours at which the hours part of the score reaches 63 %
_EXCESS_SCALE_K = 0.5  # K beyond the tolerance at which the excess part reaches 63 %
_NO_HEATING_STATE = 0.7  # score factor: warmth without heating data may not be heating
_CARRIER = {HeatingSystem.GAS_BOILER: "gas", HeatingSystem.OIL_BOILER: "heating_oil",
            HeatingSystem.DISTRICT_HEAT: "heat", HeatingSystem.HEAT_PUMP: "electricity",
            HeatingSystem.ELECTRIC_RESISTANCE: "electricity", HeatingSystem.WOOD_BOILER: "wood"}
_MOIS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
         "octobre", "novembre", "décembre")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")


@dataclass(frozen=True)
class ZoneSeries:
    """One zone of one building. ``temp_zone_c``: zone air temperature [°C], UTC index, any
    regular step up to one hour, NaN where missing. ``heating_on`` / ``cooling_on``: 0-1 per
    step (state or share of the step; pass a power as ``power_w > 0``). ``closures``: declared
    closures, inclusive local dates. ``annual_heating_kwh`` [kWh/year]: the building's heating
    consumption, with ``heating_carrier`` (gas, electricity, heat ...; default from the
    building's heating system), used to put a kWh figure on overheating."""

    building: Building
    zone: Zone
    temp_zone_c: pd.Series
    heating_on: pd.Series | None = None
    cooling_on: pd.Series | None = None
    closures: tuple[tuple[date, date], ...] = ()
    annual_heating_kwh: float | None = None
    heating_carrier: str | None = None

    def __post_init__(self) -> None:
        check_utc_index("temp_zone_c", self.temp_zone_c)
        for name in ("heating_on", "cooling_on"):
            s = getattr(self, name)
            if s is None:
                continue
            check_utc_index(name, s)
            v = s.to_numpy(dtype=float)
            if np.any((v < 0) | (v > 1)):
                raise ValueError(f"{name} must be a 0-1 state or share of the step; "
                                 "pass a power as (power > 0)")
        if self.annual_heating_kwh is not None and self.annual_heating_kwh < 0:
            raise ValueError("annual_heating_kwh must be >= 0")

    @property
    def carrier(self) -> str:
        return self.heating_carrier or _CARRIER.get(self.building.heating_system, "unknown")


def _hen(h: float) -> str:
    return f"{h:.1f}" if h < 10 else f"{h:.0f}"


def _hfr(h: float) -> str:
    return fmt_dec(h) if h < 10 else f"{h:.0f}"


def _span(a: date, b: date) -> tuple[str, str]:
    """French and English date span, e.g. 'du 4 au 8 mars 2024' / 'from 4 to 8 March 2024'."""
    def d(x: date) -> str:
        return "1er" if x.day == 1 else str(x.day)
    ma, mb, ea, eb = _MOIS[a.month - 1], _MOIS[b.month - 1], _MONTHS[a.month - 1], \
        _MONTHS[b.month - 1]
    if a == b:
        return f"le {d(a)} {ma} {a.year}", f"on {a.day} {ea} {a.year}"
    if (a.year, a.month) == (b.year, b.month):
        return f"du {d(a)} au {d(b)} {mb} {b.year}", f"from {a.day} to {b.day} {eb} {b.year}"
    if a.year == b.year:
        return (f"du {d(a)} {ma} au {d(b)} {mb} {b.year}",
                f"from {a.day} {ea} to {b.day} {eb} {b.year}")
    return (f"du {d(a)} {ma} {a.year} au {d(b)} {mb} {b.year}",
            f"from {a.day} {ea} {a.year} to {b.day} {eb} {b.year}")


def _season_hours(start_mmdd: str, end_mmdd: str) -> float:
    a = date(2001, int(start_mmdd[:2]), int(start_mmdd[3:]))
    b = date(2001, int(end_mmdd[:2]), int(end_mmdd[3:]))
    return 24.0 * (((b - a).days % 365) + 1)


def _frame(series: ZoneSeries, settings: DiagnosticSettings
           ) -> tuple[pd.DataFrame, float, tuple[str, ...]]:
    """Regular grid at the median step: temperature, heating/cooling shares, occupancy, the
    unoccupied run each instant belongs to, local week, heating season."""
    t = series.temp_zone_c.astype(float)
    step = pd.Series(t.index).diff().median()
    if step > pd.Timedelta(hours=1):
        raise ValueError(f"zone temperatures need a step of one hour or less, got {step}")
    origin = t.index[0]
    # Resampling puts gaps on the grid as NaN, so a run of unoccupied time is measured on the
    # calendar, never across silently missing instants.
    temp = t.resample(step, origin=origin).mean()
    idx = temp.index

    def on_grid(s: pd.Series | None) -> np.ndarray:
        if s is None:
            return np.full(len(idx), np.nan)
        return s.astype(float).resample(step, origin=origin).mean().reindex(idx).to_numpy()

    cal = series.building.occupancy()
    occ = occupancy(cal, idx, list(series.closures))
    step_h = step / pd.Timedelta(hours=1)
    flag = occ.occupied
    run = np.cumsum(np.r_[True, flag[1:] != flag[:-1]]) - 1
    first = np.flatnonzero(np.r_[True, flag[1:] != flag[:-1]])
    size = np.diff(np.r_[first, len(flag)])
    pos = np.arange(len(flag)) - first[run]
    local = idx.tz_convert(cal.timezone)
    md = local.month * 100 + local.day
    hs = settings.heating_season
    a, b = int(hs.season_start_mmdd.replace("-", "")), int(hs.season_end_mmdd.replace("-", ""))
    season = (md >= a) | (md <= b) if a > b else (md >= a) & (md <= b)
    wall = local.tz_localize(None).normalize()
    tv = temp.to_numpy()
    f = pd.DataFrame({
        "temp": tv, "heat": on_grid(series.heating_on), "cool": on_grid(series.cooling_on),
        "occ": flag, "run": run, "run_h": size[run] * step_h, "since_h": pos * step_h,
        "until_h": (size[run] - pos) * step_h,
        "week": wall - pd.to_timedelta(local.day_of_week, unit="D"),
        "season": np.asarray(season, bool),
        "w": np.where(np.isfinite(tv), step_h, 0.0),
    }, index=idx)
    return f, step_h, occ.warnings


def _sums(f: pd.DataFrame, mask: np.ndarray, key: str, weight: np.ndarray | None = None
          ) -> pd.DataFrame:
    """Per ``key``: hours, temperature × hours, heating hours among hours with a known heating
    state, first and last instant, points."""
    w = f["w"].to_numpy() * (1.0 if weight is None else weight)
    heat = f["heat"].to_numpy()
    known = np.isfinite(heat)
    d = pd.DataFrame({"key": f[key].to_numpy(), "hours": w,
                      "tw": np.nan_to_num(f["temp"].to_numpy()) * w,
                      "hw": np.where(known, np.nan_to_num(heat) * w, 0.0),
                      "hk": np.where(known, w, 0.0), "ts": f.index,
                      "run_h": f["run_h"].to_numpy()})[mask]
    return d.groupby("key").agg(hours=("hours", "sum"), tw=("tw", "sum"), hw=("hw", "sum"),
                                hk=("hk", "sum"), first=("ts", "min"), last=("ts", "max"),
                                n=("hours", "size"), run_h=("run_h", "max"))


def _episodes(g: pd.DataFrame, breach: pd.Series) -> list[pd.DataFrame]:
    """Breaching periods (weeks, closures) that follow each other make one episode: a new one
    starts after a judged compliant period or a gap of more than 8 days (a holiday without
    occupied hours, a summer without heating), so one fault is one finding, not one a week."""
    if not breach.any():
        return []
    gap = g["first"] - g["last"].shift()
    new = ~breach.shift(fill_value=False).astype(bool) | (gap > pd.Timedelta(days=8))
    ep = new.cumsum()[breach]
    return [e for _, e in g[breach].groupby(ep.to_numpy())]


def _score(hours: float, beyond_k: float | None) -> float:
    s = 1.0 - np.exp(-hours / _HOURS_SCALE_H)
    if beyond_k is not None:
        s *= 1.0 - np.exp(-max(beyond_k, 0.0) / _EXCESS_SCALE_K)
    return float(s)


def _r(x: float) -> float | None:
    return None if not np.isfinite(x) else round(float(x), 3)


class _Zone:
    """One diagnosis: the series, its grid and the settings every rule shares."""

    def __init__(self, series: ZoneSeries, settings: DiagnosticSettings):
        self.s, self.cfg, self.z = series, settings, settings.zones
        self.f, self.step_h, cal_warnings = _frame(series, settings)
        self.name = series.zone.name or series.zone.code
        self.heating_known = series.heating_on is not None
        hs = settings.heating_season
        self.season_h = _season_hours(hs.season_start_mmdd, hs.season_end_mmdd)
        self.warnings = list(cal_warnings)
        heat = self.f["heat"].to_numpy()
        gaps = float(np.isnan(heat).mean()) if self.heating_known else 0.0
        if gaps > 0.05:
            self.warnings.append(f"heating state missing for {gaps:.0%} of the steps: heating "
                                 "rules judge the known part only")

    def finding(self, kind: FindingKind, e: pd.DataFrame, score: float, values: dict,
                reference: dict, parameters: dict, wst: Waste | None, fr: str, en: str,
                actions: tuple[str, ...], warnings: list[str]) -> Finding:
        first, last = e["first"].min(), e["last"].max()
        ev = Evidence(series_key=self.s.zone.code, quantity="temp_zone_c",
                      data_start_utc=first.to_pydatetime(), data_end_utc=last.to_pydatetime(),
                      n_points=int(e["n"].sum()), values=values, reference=reference,
                      parameters={"tolerance_k": self.z.tolerance_k,
                                  "step_h": self.step_h, **parameters},
                      plot="zone_temperature")
        end = last + pd.Timedelta(hours=self.step_h)
        return Finding(building_code=self.s.building.code, kind=kind,
                       start_utc=first.to_pydatetime(), end_utc=end.to_pydatetime(),
                       score=float(np.clip(score, 0.0, 1.0)), detector=DETECTOR,
                       detector_version=DETECTOR_VERSIONS[DETECTOR], evidence=ev, waste=wst,
                       message_fr=fr, message_en=en, actions=actions,
                       warnings=tuple(dict.fromkeys(self.warnings + warnings)))

    def span(self, e: pd.DataFrame) -> tuple[str, str]:
        tz = self.s.building.occupancy().timezone
        return _span(e["first"].min().tz_convert(tz).date(), e["last"].max().tz_convert(tz).date())

    def waste(self, excess_k: float, hours: float, share: float | None, span_h: float
              ) -> tuple[Waste | None, list[str]]:
        """Rule of thumb: heating_pct_per_k × excess [K] × hours concerned / heating-season
        hours, of the building's annual heating (scaled by the zone's share of its floor
        area). ``share``: part of the hours of the judged weeks the rule concerns, which
        recurs over the season; None (closures): not extrapolated, only divided by the number
        of seasons the episode's ``span_h`` [judged-calendar hours] covers."""
        s, b = self.s, self.s.building
        if s.annual_heating_kwh is None:
            return None, ["no annual heating kWh given for the building: waste not estimated"]
        warns = []
        if s.zone.floor_area_m2 and b.floor_area_m2:
            zone_share = min(s.zone.floor_area_m2 / b.floor_area_m2, 1.0)
        else:
            zone_share = 1.0
            warns.append("zone or building floor area unknown: waste assumes the whole "
                         "building is heated like this zone")
        rate = s.annual_heating_kwh * self.z.heating_pct_per_k * excess_k * zone_share
        observed = rate * hours / self.season_h
        method = (f"{self.z.heating_pct_per_k:.0%} of annual heating per K × {excess_k:.2f} K × "
                  f"{hours:.0f} h / {self.season_h:.0f} h of heating season × zone share "
                  f"{zone_share:.2f}")
        if share is None:
            # base.waste annualises over 8760 h: these calendar hours make it observed / seasons
            seasons = max(span_h, self.season_h) / self.season_h
            w = waste(s.carrier, observed, seasons * HOURS_PER_YEAR,
                      rel_halfwidth=self.cfg.interval_ratio,
                      method=method + f"; per year: these closures over {seasons:.1f} season(s)")
        else:
            # base.waste annualises over 8760 h; these hours recur over the heating season only
            # and at ``share`` of its hours, so it gets the calendar hours that makes that so.
            w = waste(s.carrier, observed,
                      hours * HOURS_PER_YEAR / (self.season_h * share),
                      rel_halfwidth=self.cfg.interval_ratio,
                      method=method + f"; per year: the same {share:.0%} of every season hour")
        return w, warns

    def heating_rule(self, kind: FindingKind) -> list[Finding]:
        f, z = self.f, self.z
        valid = np.isfinite(f["temp"].to_numpy())
        season = f["season"].to_numpy()
        eligible = valid & (True if self.heating_known else season)
        occ = f["occ"].to_numpy()
        mid = ((f["since_h"] >= z.transition_h)
               & (f["until_h"] - self.step_h >= z.transition_h)).to_numpy()
        run_h = f["run_h"].to_numpy()
        if kind is FindingKind.ZONE_OCCUPIED_ABOVE_19:
            mask, key, limit, rule = eligible & occ, "week", z.occupied_max_c, "R.241-26"
        elif kind is FindingKind.ZONE_UNOCCUPIED_ABOVE_16:
            mask = (eligible & ~occ & mid & (run_h < z.closed_min_h)
                    & (run_h >= z.unoccupied_min_h))
            key, limit, rule = "week", z.unoccupied_max_c, "R.241-27"
        else:
            mask = eligible & ~occ & mid & (run_h >= z.closed_min_h)
            key, limit, rule = "run", z.closed_max_c, "R.241-27"
        g = _sums(f, mask, key)
        g = g[g["hours"] >= z.min_period_h]
        breach = g["tw"] / g["hours"] > limit + z.tolerance_k
        if self.heating_known:
            breach &= (g["hw"] / g["hk"]).fillna(0.0) >= z.min_heating_share
        by_week = key == "week"
        all_h = f["w"][eligible].groupby(f[key][eligible]).sum() if by_week else None
        out = []
        for e in _episodes(g, breach):
            hours = float(e["hours"].sum())
            mean = float(e["tw"].sum()) / hours
            excess = mean - limit
            share = hours / float(all_h.reindex(e.index).sum()) if all_h is not None else None
            first, last = e["first"].min(), e["last"].max()
            # seasons covered by the episode, counted in heating-season hours of the data
            span_h = float(f["w"][season & (f.index >= first) & (f.index <= last)].sum())
            wst, warns = self.waste(excess, hours, share, span_h)
            heat_share = float(e["hw"].sum()) / float(e["hk"].sum()) if e["hk"].sum() else np.nan
            score = _score(hours, excess - z.tolerance_k)
            if not self.heating_known:
                score *= _NO_HEATING_STATE
                warns.append("heating state unknown: judged in the heating season only; the "
                             "zone may be warm without heating (sun, mild weather, inertia)")
            values = {"mean_temp_c": _r(mean), "excess_k": _r(excess), "judged_h": _r(hours),
                      "heating_share": _r(heat_share)}
            params = {"transition_h": z.transition_h, "min_period_h": z.min_period_h,
                      "heating_pct_per_k": z.heating_pct_per_k,
                      "min_heating_share": z.min_heating_share}
            fr_span, en_span = self.span(e)
            pct = f"{100 * z.heating_pct_per_k:.0f}"
            fr_w = f", soit environ {fmt_num(wst.kwh_per_year.value)} kWh/an" if wst else ""
            en_w = f", about {wst.kwh_per_year.value:,.0f} kWh/year here" if wst else ""
            if by_week:
                values.update(weeks=len(e), max_week_mean_c=_r((e["tw"] / e["hours"]).max()),
                              concerned_share=_r(share))
            if kind is FindingKind.ZONE_OCCUPIED_ABOVE_19:
                fr = (f"{self.name} : {fmt_dec(mean)} °C en moyenne pendant l'occupation "
                      f"{fr_span} (règle : {limit:g} °C) ; chaque degré en trop coûte "
                      f"environ {pct} % du chauffage{fr_w}.")
                en = (f"{self.name}: {mean:.1f} °C on average during occupied hours {en_span} "
                      f"(rule: {limit:g} °C); each extra degree costs about {pct} % of "
                      f"heating{en_w}.")
                actions = ("setpoint_19", "thermostatic_valves", "bacs_class_b")
            elif kind is FindingKind.ZONE_UNOCCUPIED_ABOVE_16:
                params.update(closed_min_h=z.closed_min_h, unoccupied_min_h=z.unoccupied_min_h)
                fr = (f"{self.name} : {fmt_dec(mean)} °C en moyenne la nuit et hors occupation "
                      f"{fr_span} ({hours:.0f} h, règle : {limit:g} °C) ; un réduit de nuit à "
                      f"{limit:g} °C économise environ {pct} % du chauffage par degré{fr_w}.")
                en = (f"{self.name}: {mean:.1f} °C on average at night and outside occupied "
                      f"hours {en_span} ({hours:.0f} h, rule: {limit:g} °C); a night setback "
                      f"to {limit:g} °C saves about {pct} % of heating per degree{en_w}.")
                actions = ("night_setback", "schedule_fix", "bacs_class_b")
            else:
                n, longest = len(e), float(e["run_h"].max())
                values.update(closures=n, longest_closure_h=_r(longest))
                params["closed_min_h"] = z.closed_min_h
                what_fr = (f"une fermeture de {longest:.0f} h" if n == 1 else
                           f"{n} fermetures de {z.closed_min_h:g} h ou plus (la plus longue : "
                           f"{longest:.0f} h)")
                what_en = (f"a {longest:.0f} h closure" if n == 1 else
                           f"{n} closures of {z.closed_min_h:g} h or more (longest "
                           f"{longest:.0f} h)")
                fr = (f"{self.name} : {fmt_dec(mean)} °C en moyenne pendant {what_fr} {fr_span} "
                      f"(règle : hors gel, {limit:g} °C, au-delà de {z.closed_min_h:g} h) ; "
                      f"passer le chauffage en mode hors gel{fr_w}.")
                en = (f"{self.name}: {mean:.1f} °C on average during {what_en} {en_span} "
                      f"(rule: frost protection, {limit:g} °C, beyond {z.closed_min_h:g} h); "
                      f"switch the heating to frost protection{en_w}.")
                actions = ("holiday_mode", "schedule_fix", "bacs_class_b")
            out.append(self.finding(kind, e, score, values,
                                    {"limit_c": limit, "rule": rule}, params, wst, fr, en,
                                    actions, warns))
        return out

    def cooling_rule(self) -> list[Finding]:
        if self.s.cooling_on is None:
            return []
        f, z = self.f, self.z
        cool = np.nan_to_num(f["cool"].to_numpy())
        mask = np.isfinite(f["temp"].to_numpy()) & (cool > 0)
        g = _sums(f, mask, "week", weight=cool)
        g = g[g["hours"] >= z.min_event_h]
        limit = z.cooling_min_c
        out = []
        for e in _episodes(g, g["tw"] / g["hours"] < limit - z.tolerance_k):
            hours = float(e["hours"].sum())
            mean = float(e["tw"].sum()) / hours
            fr_span, en_span = self.span(e)
            fr = (f"{self.name} : climatisation en marche {hours:.0f} h {fr_span} à "
                  f"{fmt_dec(mean)} °C en moyenne (règle : pas de froid sous {limit:g} °C) ; "
                  f"relever la consigne de froid à {limit:g} °C.")
            en = (f"{self.name}: cooling ran {hours:.0f} h {en_span} at {mean:.1f} °C on average "
                  f"(rule: no cooling below {limit:g} °C); raise the cooling setpoint to "
                  f"{limit:g} °C.")
            out.append(self.finding(
                FindingKind.COOLING_BELOW_26, e, _score(hours, limit - mean - z.tolerance_k),
                {"mean_temp_while_cooling_c": _r(mean), "deficit_k": _r(limit - mean),
                 "cooling_h": _r(hours), "weeks": len(e)},
                {"limit_c": limit, "rule": "R.241-30"}, {"min_event_h": z.min_event_h},
                None, fr, en, ("schedule_fix", "bacs_class_b"),
                ["no cooling energy given: waste not estimated"]))
        return out

    def simultaneous_rule(self) -> list[Finding]:
        if self.s.heating_on is None or self.s.cooling_on is None:
            return []
        f, z = self.f, self.z
        heat, cool = (np.nan_to_num(f[c].to_numpy()) for c in ("heat", "cool"))
        overlap = np.minimum(heat, cool)
        # The overlap is a fault of the controls whether or not the temperature was logged.
        g = _sums(f.assign(w=self.step_h), overlap > 0, "week", weight=overlap)
        g = g[g["hours"] >= z.min_event_h]
        out = []
        for e in _episodes(g, pd.Series(True, index=g.index)):
            hours = float(e["hours"].sum())
            weeks = f["week"].isin(e.index).to_numpy()
            heat_h = float(heat[weeks].sum() * self.step_h)
            fr_span, en_span = self.span(e)
            fr = (f"{self.name} : chauffage et climatisation en marche en même temps pendant "
                  f"{_hfr(hours)} h {fr_span} ; interverrouiller les deux ou corriger les "
                  "programmations.")
            en = (f"{self.name}: heating and cooling ran at the same time for {_hen(hours)} h "
                  f"{en_span}; interlock them or fix the schedules.")
            out.append(self.finding(
                FindingKind.SIMULTANEOUS_HEAT_COOL, e, _score(hours, None),
                {"overlap_h": _r(hours), "heating_h": _r(heat_h),
                 "overlap_share_of_heating": _r(hours / heat_h if heat_h else np.nan),
                 "weeks": len(e)},
                {"overlap_max_h": 0.0}, {"min_event_h": z.min_event_h}, None, fr, en,
                ("schedule_fix", "bacs_class_b"),
                ["energy of each system unknown: waste not estimated"]))
        return out


def diagnose_zone(series: ZoneSeries, settings: DiagnosticSettings | None = None
                  ) -> list[Finding]:
    """Every zone temperature rule on ``series`` (see the module docstring for the rules),
    findings sorted by start then kind."""
    cfg = settings or DiagnosticSettings()
    if series.temp_zone_c.notna().sum() < 2:
        return []
    z = _Zone(series, cfg)
    out = [x for k in (FindingKind.ZONE_OCCUPIED_ABOVE_19, FindingKind.ZONE_UNOCCUPIED_ABOVE_16,
                       FindingKind.ZONE_CLOSED_ABOVE_8) for x in z.heating_rule(k)]
    out += z.cooling_rule() + z.simultaneous_rule()
    return sorted(out, key=lambda f: (f.start_utc, f.kind.value))
