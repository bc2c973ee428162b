"""Billing baseline for gas and heat meters read monthly or bimonthly.

Each period's energy per day is regressed on the period's mean heating/cooling degree feature
per day, ``mean_d max(0, tb - T_d)``, with balance points searched by ``cp_search`` (the
daily model's machinery) and rows weighted by their number of days, as CalTRACK does.
The input frame (``billing_input``) carries, besides the columns of ``mv.base``, a
``temps_c`` column: the array of the period's daily mean temperatures [°C], which the search
needs because a period's degree-days depend on the balance point.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from sobriete.analytics.mv import cp_search as cps
from sobriete.analytics.mv.base import COMPONENTS, ENERGY, PREDICTED, TEMP, BaselineModel
from sobriete.analytics.mv.metrics import fit_metrics
from sobriete.analytics.mv.sufficiency import _w, fit_quality_warnings
from sobriete.domain import columns as C
from sobriete.domain.mv import MVWarning, WarningLevel

TEMPS = "temps_c"


class BillingInputSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    min_period_days: int = Field(25, ge=1, description="[days] shorter periods get a warning")
    max_monthly_days: int = Field(35, ge=1, description="[days] longest monthly period")
    max_bimonthly_days: int = Field(70, ge=1, description="[days] longest bimonthly period")
    min_temp_share: float = Field(0.9, ge=0, le=1, description="[-] share of a period's days "
                                  "with a temperature for the period to be usable")


def _daily_temp(daily_temps: pd.Series | pd.DataFrame) -> pd.Series:
    s = daily_temps[TEMP] if isinstance(daily_temps, pd.DataFrame) else daily_temps
    s = s.astype(float)
    s.index = pd.DatetimeIndex(s.index).normalize()
    return s[~s.index.duplicated()]


def billing_input(readings: pd.DataFrame, daily_temps: pd.Series | pd.DataFrame,
                  timezone: str = "Europe/Paris",
                  settings: BillingInputSettings | None = None,
                  ) -> tuple[pd.DataFrame, list[MVWarning]]:
    """Billing frame from one series' period readings (long frame: ``start_utc``,
    ``duration_s``, ``value`` [kWh]) and daily mean temperatures [°C] indexed by local date.

    Periods are local dates [start, end). Degree-days ``hdd_18``/``cdd_18`` use daily means.
    """
    s = settings or BillingInputSettings()
    r = readings.sort_values(C.START_UTC)
    start = pd.DatetimeIndex(r[C.START_UTC]).tz_convert(timezone)
    end = start + pd.to_timedelta(r[C.DURATION_S].to_numpy(), unit="s")
    start = start.tz_localize(None).normalize()
    end = end.tz_localize(None).normalize()
    n_days = np.asarray((end - start).days)
    temps = _daily_temp(daily_temps)
    arrays, means, hdd, cdd = [], [], [], []
    short_temp = 0
    for a, n in zip(start, n_days, strict=True):
        days = temps.reindex(pd.date_range(a, periods=max(int(n), 0), freq="D")).to_numpy()
        ok = np.isfinite(days)
        usable = n > 0 and ok.sum() >= s.min_temp_share * n
        short_temp += int(n > 0 and not usable)
        arrays.append(days)
        means.append(float(days[ok].mean()) if usable else np.nan)
        # Missing days are filled at the period's mean degree-day rate.
        hdd.append(float(np.maximum(0, 18 - days[ok]).mean() * n) if usable else np.nan)
        cdd.append(float(np.maximum(0, days[ok] - 18).mean() * n) if usable else np.nan)
    frame = pd.DataFrame({"period_end": end, "n_days": n_days,
                          ENERGY: r[C.VALUE].to_numpy(dtype=float), TEMP: means,
                          "hdd_18": hdd, "cdd_18": cdd}, index=pd.Index(start, name="start"))
    frame[TEMPS] = pd.Series(arrays, index=frame.index, dtype=object)
    frame.loc[frame["n_days"] <= 0, ENERGY] = np.nan
    return frame, _period_warnings(frame, s, short_temp)


def _period_warnings(frame: pd.DataFrame, s: BillingInputSettings, short_temp: int):
    W = WarningLevel.WARNING
    n = frame["n_days"].to_numpy()
    valid = n[n > 0]
    longest = s.max_bimonthly_days if len(valid) and np.median(valid) > 45 else s.max_monthly_days
    out = []
    for code, mask, fr, en in (
        ("billing_period_short", (n > 0) & (n < s.min_period_days),
         f"de moins de {s.min_period_days} jours", f"shorter than {s.min_period_days} days"),
        ("billing_period_long", n > longest,
         f"de plus de {longest} jours", f"longer than {longest} days"),
        ("billing_period_empty", n <= 0, "vide(s) ou à rebours", "empty or reversed"),
    ):
        if mask.any():
            first = ", ".join(d.date().isoformat() for d in frame.index[mask][:5])
            out.append(_w(code, W, f"{int(mask.sum())} période(s) de facturation {fr} ({first}).",
                          f"{int(mask.sum())} billing period(s) {en} ({first}).",
                          n_periods=int(mask.sum()), limit_days=int(
                              s.min_period_days if code.endswith("short") else longest),
                          first_starts=first))
    gaps = (frame.index[1:] != pd.DatetimeIndex(frame["period_end"])[:-1]).sum()
    if gaps:
        out.append(_w("billing_periods_not_contiguous", W,
                      f"{int(gaps)} trou(s) ou chevauchement(s) entre périodes successives.",
                      f"{int(gaps)} gap(s) or overlap(s) between successive periods.",
                      n_breaks=int(gaps)))
    if short_temp:
        out.append(_w("billing_period_missing_temperature", W,
                      f"{short_temp} période(s) sans température sur au moins "
                      f"{1 - s.min_temp_share:.0%} des jours : ignorée(s).",
                      f"{short_temp} period(s) missing temperature on more than "
                      f"{1 - s.min_temp_share:.0%} of days: ignored.", n_periods=short_temp))
    return out


class BillingSettings(cps.SearchSettings):
    min_active_periods: int = Field(2, ge=1, le=24, description="[periods] a heating or "
                                    "cooling term needs this many periods with degree-days")
    min_periods: int = Field(6, ge=2, le=60, description="[periods] below this only a "
                             "constant model is fitted (and disqualified)")
    bic_penalty: float = Field(1.0, ge=0.1, le=10, description="[-] multiplies BIC's log(n)")
    cvrmse_max: float = Field(0.15, gt=0, le=10, description="[-] ASHRAE Guideline 14 "
                              "monthly CV(RMSE) threshold")
    nmbe_max: float = Field(0.05, gt=0, le=1, description="[-] ASHRAE Guideline 14 monthly "
                            "|NMBE| threshold")


def _period_temps(data: pd.DataFrame) -> list[np.ndarray]:
    if TEMPS in data:
        return [np.asarray(a, dtype=float) for a in data[TEMPS]]
    # Without daily temperatures the whole period sits at its mean: an approximation that
    # understates degree-days when the balance point is close to the mean temperature.
    return [np.full(max(int(n), 1), t) for n, t in zip(data["n_days"], data[TEMP], strict=True)]


class BillingModel(BaselineModel):
    """Monthly/bimonthly change-point baseline on a billing frame (``billing_input``)."""

    name: ClassVar[str] = "changepoint_billing"
    version: ClassVar[str] = "1"
    frequency: ClassVar[str] = "billing"

    def __init__(self, settings: BillingSettings | None = None):
        self.settings = settings or BillingSettings()
        self.params: dict[str, Any] = {}
        self.fit_result = None

    def fit(self, data: pd.DataFrame) -> Any:
        t0 = time.perf_counter()
        s = self.settings
        n_days = data["n_days"].to_numpy(dtype=float)
        energy = data[ENERGY].to_numpy(dtype=float)
        all_temps = [t[np.isfinite(t)] for t in _period_temps(data)]
        ok = (np.isfinite(energy) & (n_days > 0) & np.isfinite(data[TEMP].to_numpy(dtype=float))
              & np.array([len(t) > 0 for t in all_temps], dtype=bool))
        d = data[ok]
        y, w = energy[ok] / n_days[ok], n_days[ok]
        temps = [t for t, keep in zip(all_temps, ok, strict=True) if keep]
        warnings: list[MVWarning] = []
        if len(y) < s.min_periods:
            warnings.append(_w("too_few_periods_to_fit", WarningLevel.DISQUALIFICATION,
                               f"{len(y)} période(s) exploitable(s) : modèle constant seulement.",
                               f"{len(y)} usable period(s): a constant model only.",
                               n_periods=int(len(y))))
            mean = float(np.sum(y * w) / np.sum(w)) if len(y) else float("nan")
            best = cps.TermFit("intercept", np.array([mean]), k=1)
        else:
            flat = np.concatenate(temps)
            owner = np.repeat(np.arange(len(temps)), [len(t) for t in temps])
            avg = np.zeros((len(temps), len(flat)))
            avg[owner, np.arange(len(flat))] = 1.0 / np.array([len(t) for t in temps])[owner]

            def feature(g: np.ndarray, sign: int) -> np.ndarray:
                return avg @ np.maximum(0.0, sign * (g[None, :] - flat[:, None]))

            fits = cps.search(y, w, np.zeros(len(y), int), 1, feature, *s.grids(),
                              s.min_active_periods, s.refine)
            best = cps.choose(fits, len(y), s.bic_penalty)
        self.params = best.params(0)
        pred = self.predict(d)[PREDICTED].to_numpy() if len(d) else np.array([])
        metrics = fit_metrics(energy[ok], pred, best.k) if len(d) else None
        warnings += fit_quality_warnings(metrics, "billing", s.cvrmse_max, s.nmbe_max)
        self.fit_result = cps.new_result(self, d, dict(self.params), metrics, warnings,
                                         time.perf_counter() - t0)
        return self.fit_result

    def predict(self, data: pd.DataFrame) -> pd.DataFrame:
        if not self.params:
            raise RuntimeError("predict before fit: fit the model or load it with from_json")
        n_days = data["n_days"].to_numpy(dtype=float)
        heat = np.full(len(data), np.nan)
        cool = np.full(len(data), np.nan)
        for i, t in enumerate(_period_temps(data)):
            t = t[np.isfinite(t)]
            if len(t):
                h, c = cps.evaluate(self.params, t)
                heat[i], cool[i] = h.mean() * n_days[i], c.mean() * n_days[i]
        base = self.params["intercept"] * np.where(np.isfinite(heat), n_days, np.nan)
        frame = pd.DataFrame(np.column_stack([base, heat, cool, base * 0.0]),
                             index=data.index, columns=list(COMPONENTS))
        frame.insert(0, PREDICTED, frame.sum(axis=1, min_count=4))
        return frame

    def to_json(self) -> dict[str, Any]:
        return {"model": self.name, "version": self.version,
                "settings": self.settings.model_dump(mode="json"), "params": self.params,
                "fit_result": cps.fit_result_to_json(self.fit_result)}

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Self:
        if doc.get("model") != cls.name:
            raise ValueError(f"not a {cls.name} document: model={doc.get('model')!r}")
        m = cls(BillingSettings(**doc["settings"]))
        m.params = dict(doc["params"])
        m.fit_result = cps.fit_result_from_json(doc.get("fit_result"))
        return m
