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
(RSS summed over groups, every fitted parameter and balance point counted). The
``calendar_kwh`` component is a group's intercept minus its reference group's (occupied /
weekday of the same season): a holiday's lower base shows as a negative calendar part.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar, Self

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


class ChangePointModel(BaselineModel):
    """Daily change-point baseline; ``fit`` on a daily frame (``mv.data.daily_input``)."""

    name: ClassVar[str] = "changepoint_daily"
    version: ClassVar[str] = "1"
    frequency: ClassVar[str] = "daily"

    def __init__(self, settings: ChangePointSettings | None = None):
        self.settings = settings or ChangePointSettings()
        self.split = "none"
        self.mode = "separate"
        self.groups: dict[str, dict[str, Any]] = {}
        self.fit_result = None

    # ---- fitting ---------------------------------------------------------------------------
    def _grids(self) -> tuple[np.ndarray, np.ndarray]:
        s = self.settings
        return (cps.grid(s.heating_bp_min_c, s.heating_bp_max_c, s.bp_step_c),
                cps.grid(s.cooling_bp_min_c, s.cooling_bp_max_c, s.bp_step_c))

    def _variant(self, y, t, labels, mode):
        """(bic, rss, k, {label: params}) of one split/mode, or None if a group is too small."""
        s = self.settings
        names, cls, counts = np.unique(labels, return_inverse=True, return_counts=True)
        if len(names) > 1 and counts.min() < s.min_group_days:
            return None
        hg, cg = self._grids()
        n = len(y)

        def feature_of(tt):
            return lambda g, sign: np.maximum(0.0, sign * (g[None, :] - tt[:, None]))

        if mode == "offset" or len(names) == 1:
            fits = cps.search(y, np.ones(n), cls, len(names), feature_of(t), hg, cg,
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
                              feature_of(t[rows]), hg, cg, s.min_active_days, s.refine)
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
        warnings = []
        self.split, self.mode, self.groups = "none", "separate", {}
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
            best = None
            seen: list[np.ndarray] = []
            for split in s.splits:
                labels = day_groups(d, split)
                codes = pd.factorize(labels)[0]
                if any(np.array_equal(codes, x) for x in seen):
                    continue  # same grouping under another name (no day_type, say)
                seen.append(codes)
                for mode in (("separate",) if split == "none" else s.modes):
                    v = self._variant(y, t, labels, mode)
                    if v is not None and (best is None or v[0] < best[0] - 1e-9):
                        best = (*v, split, mode)
            _, _, k, self.groups, self.split, self.mode = best
        yhat = self.predict(d)[PREDICTED].to_numpy()
        metrics = fit_metrics(y, yhat, k) if len(y) else None
        warnings += fit_quality_warnings(metrics, "daily", s.cvrmse_max, s.nmbe_max,
                                         s.cvrmse_disqualify, pnrmse(y, yhat),
                                         s.pnrmse_disqualify)
        params = {"split": self.split, "mode": self.mode, "groups": self.groups}
        self.fit_result = cps.new_result(self, d, params, metrics, warnings,
                                     time.perf_counter() - t0)
        return self.fit_result

    # ---- prediction ------------------------------------------------------------------------
    def predict(self, data: pd.DataFrame) -> pd.DataFrame:
        if not self.groups:
            raise RuntimeError("predict before fit: fit the model or load it with from_json")
        t = data[TEMP].to_numpy(dtype=float)
        labels = day_groups(data, self.split)
        out = np.full((len(data), 4), np.nan)
        for label in np.unique(labels):
            rows = labels == label
            p = self.groups.get(str(label))
            if p is None:
                continue  # a group the baseline never saw: no honest prediction
            ref = self.groups.get(_REFERENCE.get(str(label), str(label)), p)
            heat, cool = cps.evaluate(p, t[rows])
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
                "split": self.split, "mode": self.mode, "groups": self.groups,
                "fit_result": cps.fit_result_to_json(self.fit_result)}

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Self:
        if doc.get("model") != cls.name:
            raise ValueError(f"not a {cls.name} document: model={doc.get('model')!r}")
        m = cls(ChangePointSettings(**doc["settings"]))
        m.split, m.mode = doc["split"], doc["mode"]
        m.groups = {k: dict(v) for k, v in doc["groups"].items()}
        m.fit_result = cps.fit_result_from_json(doc.get("fit_result"))
        return m
