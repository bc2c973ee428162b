"""Daily change-point baseline (°C native): intercept, heating, cooling or both, balance points
found by grid search (``cp_search``), day-group and season variants chosen by BIC.

Variants (``split`` x ``mode``):

- split: ``none``; ``weekday_weekend`` (local day of week); ``occupancy`` (``day_type``
  workday vs weekend / holidays / closures, day of week where the type is missing);
  ``season`` (heating season October-May vs summer); ``season_occupancy``.
- mode: ``separate`` (each group its own form, slopes and balance points) or ``offset``
  (one temperature response, one intercept per group: few parameters, suits public
  buildings whose holidays and weekends mostly shift the base load).

Each group's form is the BIC-best of the four; variants compete on the BIC of the whole fit
(RSS summed over groups, every fitted parameter and balance point counted).

Temperature feature (``temperature_features``): ``mean`` takes a day's degree-days from its
mean temperature, ``max(0, tb - T_mean)``; ``daily_cycle`` from a sinusoidal day around that
mean with the half range ``(Tmax - Tmin) / 2`` (``cp_search.cycle_degrees``), i.e. the mean
of the day's degree-hours if its temperature were a sine: a mild day with a cold night still
heats. Loads driven by hourly temperatures (little thermal mass, electric heating and
cooling) follow the second; a heavy building smoothing the day follows the first. All
variants are searched with the first feature listed; the others are then tried on the
winning split and mode and kept when their BIC, charged ``feature_cost`` more parameters
for the choice, is lower (then counted in the fit's p). ``daily_cycle`` needs
``temp_min_c`` and ``temp_max_c`` on every fitted day, and to predict (a day without them
is not predicted; a frame without the columns is refused). The
``calendar_kwh`` component is a group's intercept minus its reference group's (occupied /
weekday of the same season): a holiday's lower base shows as a negative calendar part.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar, Literal, Self

import numpy as np
import pandas as pd
from pydantic import Field

from sobriete.analytics.calendar import DayType
from sobriete.analytics.mv import cp_search as cps
from sobriete.analytics.mv.base import COMPONENTS, ENERGY, PREDICTED, TEMP, BaselineModel
from sobriete.analytics.mv.metrics import fit_metrics, pnrmse
from sobriete.analytics.mv.sufficiency import _w, fit_quality_warnings
from sobriete.domain.mv import WarningLevel

SPLITS = ("none", "weekday_weekend", "occupancy", "season", "season_occupancy")
HEATING_SEASON_MONTHS = (10, 11, 12, 1, 2, 3, 4, 5)
_REFERENCE = {"weekend": "weekday", "unoccupied": "occupied",
              "heating_unoccupied": "heating_occupied", "summer_unoccupied": "summer_occupied"}


class ChangePointSettings(cps.SearchSettings):
    min_active_days: int = Field(10, ge=1, le=200, description="[days] a heating or cooling "
                                 "term needs this many days with a positive degree feature")
    min_group_days: int = Field(20, ge=2, le=200, description="[days] smallest day group "
                                "allowed its own parameters (else the variant is skipped)")
    splits: tuple[str, ...] = Field(SPLITS, description="[-] day-group splits to try")
    modes: tuple[str, ...] = Field(("separate", "offset"), description="[-] group modes")
    bic_penalty: float = Field(1.0, ge=0.1, le=10, description="[-] multiplies BIC's log(n) "
                               "per parameter; above 1 favours simpler models")
    cvrmse_max: float = Field(0.25, gt=0, le=10, description="[-] daily CV(RMSE) above which "
                              "a warning is raised (project choice, see sufficiency)")
    nmbe_max: float = Field(0.005, gt=0, le=1, description="[-] |NMBE| above which a warning "
                            "is raised")
    cvrmse_disqualify: float = Field(1.0, gt=0, description="[-] CV(RMSE) which, with "
                                     "PNRMSE above its limit, disqualifies the fit")
    pnrmse_disqualify: float = Field(1.6, gt=0, description="[-] PNRMSE limit (see above)")
    temperature_features: tuple[Literal["mean", "daily_cycle"], ...] = Field(
        ("mean", "daily_cycle"), min_length=1, description="[-] degree features tried, see "
        "the module docstring; the first one selects the split and mode")
    feature_cost: int = Field(1, ge=0, le=10, description="[parameters] BIC parameters "
                                "charged to a feature other than the first (its choice is "
                                "fitted too), so that it needs clear support")


def _occupied(frame: pd.DataFrame) -> np.ndarray:
    dow = (frame["local_dow"].to_numpy(dtype=float) if "local_dow" in frame
           else np.asarray(frame.index.day_of_week, dtype=float))
    by_dow = dow < 5
    if "day_type" not in frame:
        return by_dow
    dt = frame["day_type"].to_numpy(dtype=object)
    known = pd.notna(dt)
    return np.where(known, dt == DayType.WORKDAY.value, by_dow)


def day_groups(frame: pd.DataFrame, split: str) -> np.ndarray:
    """The group label of every row of a daily frame under ``split``."""
    n = len(frame)
    if split == "none":
        return np.full(n, "all", dtype=object)
    if split == "weekday_weekend":
        dow = (frame["local_dow"].to_numpy(dtype=float) if "local_dow" in frame
               else np.asarray(frame.index.day_of_week, dtype=float))
        return np.where(dow < 5, "weekday", "weekend").astype(object)
    if split == "occupancy":
        return np.where(_occupied(frame), "occupied", "unoccupied").astype(object)
    heating = np.isin(np.asarray(frame.index.month), HEATING_SEASON_MONTHS)
    if split == "season":
        return np.where(heating, "heating", "summer").astype(object)
    if split == "season_occupancy":
        occ = _occupied(frame)
        return np.where(heating, np.where(occ, "heating_occupied", "heating_unoccupied"),
                        np.where(occ, "summer_occupied", "summer_unoccupied")).astype(object)
    raise ValueError(f"unknown split {split!r}; expected one of {SPLITS}")


def _half_range(frame: pd.DataFrame) -> np.ndarray | None:
    """(Tmax - Tmin) / 2 [°C] per row, or None without those columns."""
    if "temp_min_c" not in frame or "temp_max_c" not in frame:
        return None
    lo = frame["temp_min_c"].to_numpy(dtype=float)
    hi = frame["temp_max_c"].to_numpy(dtype=float)
    return np.abs(hi - lo) / 2  # a swapped pair is a data error, not a negative range


def _amp_for(feature: str, amp: np.ndarray | None) -> np.ndarray | None:
    return amp if feature == "daily_cycle" else None


class ChangePointModel(BaselineModel):
    """Daily change-point baseline; ``fit`` on a daily frame (``mv.data.daily_input``)."""

    name: ClassVar[str] = "changepoint_daily"
    version: ClassVar[str] = "1"
    frequency: ClassVar[str] = "daily"

    def __init__(self, settings: ChangePointSettings | None = None):
        self.settings = settings or ChangePointSettings()
        self.split = "none"
        self.mode = "separate"
        self.feature = "mean"
        self.groups: dict[str, dict[str, Any]] = {}
        self.fit_result = None

    # ---- fitting ---------------------------------------------------------------------------
    def _variant(self, y, t, amp, labels, mode):
        """(bic, rss, k, {label: params}) of one split/mode, or None if a group is too small.
        ``amp`` is the half daily range for the ``daily_cycle`` feature, None for ``mean``."""
        s = self.settings
        names, cls, counts = np.unique(labels, return_inverse=True, return_counts=True)
        if len(names) > 1 and counts.min() < s.min_group_days:
            return None
        hg, cg = s.grids()
        n = len(y)

        def feature_of(tt, aa):
            if aa is None:
                return lambda g, sign: np.maximum(0.0, sign * (g[None, :] - tt[:, None]))
            return lambda g, sign: cps.cycle_degrees(sign * (g[None, :] - tt[:, None]),
                                                     aa[:, None])

        if mode == "offset" or len(names) == 1:
            fits = cps.search(y, np.ones(n), cls, len(names), feature_of(t, amp), hg, cg,
                              s.min_active_days, s.refine)
            best = cps.choose(fits, n, s.bic_penalty)
            params = {str(nm): best.params(i) for i, nm in enumerate(names)}
            return cps.bic(best.rss, n, best.k, s.bic_penalty), best.rss, best.k, params
        rss = 0.0
        k = 0
        params = {}
        for i, nm in enumerate(names):
            rows = cls == i
            fits = cps.search(y[rows], np.ones(rows.sum()), np.zeros(rows.sum(), int), 1,
                              feature_of(t[rows], None if amp is None else amp[rows]), hg, cg,
                              s.min_active_days, s.refine)
            best = cps.choose(fits, int(rows.sum()), s.bic_penalty)
            rss += best.rss
            k += best.k
            params[str(nm)] = best.params(0)
        return cps.bic(rss, n, k, s.bic_penalty), rss, k, params

    def fit(self, data: pd.DataFrame) -> Any:
        t0 = time.perf_counter()
        s = self.settings
        y_all = data[ENERGY].to_numpy(dtype=float)
        t_all = data[TEMP].to_numpy(dtype=float)
        ok = np.isfinite(y_all) & np.isfinite(t_all)
        d, y, t = data[ok], y_all[ok], t_all[ok]
        amp = _half_range(d)
        features = [f for f in s.temperature_features
                    if f == "mean" or (amp is not None and np.isfinite(amp).all())]
        warnings = []
        self.split, self.mode, self.groups, self.feature = "none", "separate", {}, "mean"
        if len(y) < 2 * s.min_active_days:
            warnings.append(_w("too_few_days_to_fit", WarningLevel.DISQUALIFICATION,
                               f"{len(y)} jour(s) exploitables : modèle constant seulement.",
                               f"{len(y)} usable day(s): a constant model only.",
                               n_days=int(len(y))))
            mean = float(np.mean(y)) if len(y) else float("nan")
            self.groups = {"all": {"form": "intercept", "intercept": mean, "heating_slope": 0.0,
                                   "heating_bp": None, "cooling_slope": 0.0, "cooling_bp": None}}
            k = 1
        else:
            if not features:  # daily_cycle alone, without Tmin/Tmax on every day
                features = ["mean"]
                warnings.append(_w("temperature_feature_unavailable", WarningLevel.INFO,
                                   "Tmin/Tmax manquants : degrés-jours de la moyenne.",
                                   "Tmin/Tmax missing: degree-days of the daily mean.",
                                   requested=",".join(s.temperature_features)))
            first = features[0]
            best = None
            seen: list[np.ndarray] = []
            for split in s.splits:
                labels = day_groups(d, split)
                codes = pd.factorize(labels)[0]
                if any(np.array_equal(codes, x) for x in seen):
                    continue  # same grouping under another name (no day_type, say)
                seen.append(codes)
                for mode in (("separate",) if split == "none" else s.modes):
                    v = self._variant(y, t, _amp_for(first, amp), labels, mode)
                    if v is not None and (best is None or v[0] < best[0] - 1e-9):
                        best = (*v, split, mode, first)
            if best is None:  # every split asked for has a group too small: one group
                warnings.append(_w(
                    "day_groups_too_small", WarningLevel.INFO,
                    f"Groupes de jours trop petits (moins de {s.min_group_days} jours) pour "
                    f"{', '.join(s.splits)} : un seul groupe.",
                    f"Day groups too small (under {s.min_group_days} days) for "
                    f"{', '.join(s.splits)}: one group.", splits=",".join(s.splits)))
                v = self._variant(y, t, _amp_for(first, amp), day_groups(d, "none"),
                                  "separate")
                best = (*v, "none", "separate", first)
            labels = day_groups(d, best[4])
            for feature in features[1:]:
                v = self._variant(y, t, _amp_for(feature, amp), labels, best[5])
                if v is None:
                    continue
                k_alt = v[2] + s.feature_cost
                b_alt = cps.bic(v[1], len(y), k_alt, s.bic_penalty)
                if b_alt < best[0] - 1e-9:
                    best = (b_alt, v[1], k_alt, v[3], best[4], best[5], feature)
            _, _, k, self.groups, self.split, self.mode, self.feature = best
        yhat = self.predict(d)[PREDICTED].to_numpy()
        metrics = fit_metrics(y, yhat, k) if len(y) else None
        warnings += fit_quality_warnings(metrics, "daily", s.cvrmse_max, s.nmbe_max,
                                         s.cvrmse_disqualify, pnrmse(y, yhat),
                                         s.pnrmse_disqualify)
        params = {"split": self.split, "mode": self.mode,
                  "temperature_feature": self.feature, "groups": self.groups}
        self.fit_result = cps.new_result(self, d, params, metrics, warnings,
                                     time.perf_counter() - t0)
        return self.fit_result

    # ---- prediction ------------------------------------------------------------------------
    def predict(self, data: pd.DataFrame) -> pd.DataFrame:
        if not self.groups:
            raise RuntimeError("predict before fit: fit the model or load it with from_json")
        t = data[TEMP].to_numpy(dtype=float)
        amp = None
        if self.feature == "daily_cycle":
            amp = _half_range(data)
            if amp is None:
                raise ValueError("this fit uses the daily_cycle temperature feature: predict "
                                 "on a frame with temp_min_c and temp_max_c")
            t = np.where(np.isfinite(amp), t, np.nan)  # no range, no prediction
        labels = day_groups(data, self.split)
        out = np.full((len(data), 4), np.nan)
        for label in np.unique(labels):
            rows = labels == label
            p = self.groups.get(str(label))
            if p is None:
                continue  # a group the baseline never saw: no honest prediction
            ref = self.groups.get(_REFERENCE.get(str(label), str(label)), p)
            heat, cool = cps.evaluate(p, t[rows], None if amp is None else amp[rows])
            base = np.where(np.isfinite(t[rows]), ref["intercept"], np.nan)
            out[rows] = np.column_stack([base, heat, cool, base * 0 + p["intercept"]
                                         - ref["intercept"]])
        frame = pd.DataFrame(out, index=data.index, columns=list(COMPONENTS))
        frame.insert(0, PREDICTED, frame.sum(axis=1, min_count=4))
        return frame

    # ---- persistence -----------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {"model": self.name, "version": self.version,
                "settings": self.settings.model_dump(mode="json"),
                "split": self.split, "mode": self.mode,
                "temperature_feature": self.feature, "groups": self.groups,
                "fit_result": cps.fit_result_to_json(self.fit_result)}

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Self:
        if doc.get("model") != cls.name:
            raise ValueError(f"not a {cls.name} document: model={doc.get('model')!r}")
        m = cls(ChangePointSettings(**doc["settings"]))
        m.split, m.mode = doc["split"], doc["mode"]
        m.feature = doc.get("temperature_feature", "mean")  # documents before the choice
        m.groups = {k: dict(v) for k, v in doc["groups"].items()}
        m.fit_result = cps.fit_result_from_json(doc.get("fit_result"))
        return m
