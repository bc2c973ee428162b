"""Change-point search shared by the daily and billing models: for every candidate balance
point the least-squares problem is solved in closed form, all candidates at once.

Model, per row i of class g (a day group sharing the temperature response):

    y_i = a_g + bh * h_i(tb_h) + bc * c_i(tb_c)

where h and c are heating/cooling degree features [°C] (a day's ``max(0, tb - T)``, or a
billing period's mean of it, or ``cycle_degrees``: the mean over a sinusoidal day between
Tmin and Tmax). Intercepts per class are removed by weighted within-class
centring (Frisch-Waugh), so a candidate costs two dot products and a 2x2 solve; every grid
point is one column of a matrix product. Slopes must be positive: a candidate whose best
slope is not is invalid, and the simpler form without that term stands.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from sobriete.analytics.mv.base import FitResult

FORMS = ("intercept", "heating", "cooling", "heating_cooling")
# (grid, sign) -> (n_rows, n_candidates) degree feature: sign +1 heating, -1 cooling.
Feature = Callable[[np.ndarray, int], np.ndarray]
_AMP_EPS = 1e-9  # [°C] below this half-range a day is taken as constant


def cycle_degrees(d: np.ndarray, amp: np.ndarray) -> np.ndarray:
    """Mean of ``max(0, d + amp * sin θ)`` over a day's cycle θ in [0, 2π) [°C].

    ``d`` is the signed distance ``tb - T_mean`` (heating) or ``T_mean - tb`` (cooling) and
    ``amp`` the half daily range ``(Tmax - Tmin) / 2``, broadcast against each other. With
    u = d / amp: ``amp * (u (π/2 + asin u) + sqrt(1 - u²)) / π`` for |u| < 1, ``d`` above,
    0 below; continuous, and ``max(0, d)`` when amp = 0. It is the degree-hour mean of a day
    whose temperature swings as a sine around its mean, so that a day whose mean is above the
    heating balance point still counts its cold night.
    """
    a = np.maximum(amp, _AMP_EPS)
    u = d / a
    v = np.clip(u, -1.0, 1.0)
    inner = a * (v * (np.pi / 2 + np.arcsin(v)) + np.sqrt(1.0 - v * v)) / np.pi
    out = np.where(u >= 1.0, d, np.where(u <= -1.0, 0.0, inner))
    return np.where(amp > _AMP_EPS, out, np.maximum(0.0, d))


class SearchSettings(BaseModel):
    """Balance-point search ranges, shared by the daily and the billing models."""

    model_config = ConfigDict(frozen=True)

    heating_bp_min_c: float = Field(8.0, ge=-20, le=35, description="[°C] lowest heating "
                                    "balance point searched")
    heating_bp_max_c: float = Field(24.0, ge=-20, le=35, description="[°C] highest heating "
                                    "balance point searched")
    cooling_bp_min_c: float = Field(15.0, ge=-20, le=40, description="[°C] lowest cooling "
                                    "balance point searched")
    cooling_bp_max_c: float = Field(30.0, ge=-20, le=40, description="[°C] highest cooling "
                                    "balance point searched")
    bp_step_c: float = Field(0.5, gt=0.05, le=5, description="[°C] coarse grid step; the best "
                             "point is then refined on a grid 5 times finer")
    refine: bool = Field(True, description="[-] refine balance points below the grid step")

    def grids(self) -> tuple[np.ndarray, np.ndarray]:
        """The coarse heating and cooling balance-point grids [°C]."""
        return (grid(self.heating_bp_min_c, self.heating_bp_max_c, self.bp_step_c),
                grid(self.cooling_bp_min_c, self.cooling_bp_max_c, self.bp_step_c))


@dataclass
class TermFit:
    """Best parameters of one form on one set of rows."""

    form: str
    intercepts: np.ndarray  # one per class
    heating_slope: float = 0.0  # [kWh/°C per row unit]
    heating_bp: float | None = None  # [°C]
    cooling_slope: float = 0.0
    cooling_bp: float | None = None
    rss: float = float("inf")  # weighted residual sum of squares
    k: int = 0  # fitted parameters, balance points included

    def params(self, cls: int = 0) -> dict[str, float | str | None]:
        return {"form": self.form, "intercept": float(self.intercepts[cls]),
                "heating_slope": float(self.heating_slope), "heating_bp": self.heating_bp,
                "cooling_slope": float(self.cooling_slope), "cooling_bp": self.cooling_bp}


def grid(lo: float, hi: float, step: float) -> np.ndarray:
    n = int(np.floor((hi - lo) / step + 1e-9)) + 1
    return lo + step * np.arange(n)


def bic(rss: float, n: int, k: int, penalty: float = 1.0) -> float:
    """Bayesian information criterion for Gaussian errors; ``penalty`` scales log(n)."""
    return float(n * np.log(max(rss, 1e-300) / n) + penalty * k * np.log(n))


class _Centred:
    """Weighted within-class centring of y and of any feature matrix."""

    def __init__(self, y: np.ndarray, w: np.ndarray, cls: np.ndarray, n_cls: int):
        self.w, self.cls = w, cls
        self.onehot = np.zeros((len(y), n_cls))
        self.onehot[np.arange(len(y)), cls] = 1.0
        self.wsum = self.onehot.T @ w
        self.y_mean = self.means(y[:, None])[:, 0]
        self.y = y - self.y_mean[cls]
        self.syy = float(np.sum(w * self.y**2))

    def means(self, m: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return (self.onehot.T @ (self.w[:, None] * m)) / self.wsum[:, None]

    def centre(self, m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mu = self.means(m)
        return m - mu[self.cls], mu


def _one_term(z: _Centred, feat: np.ndarray, min_active: int):
    f, mu = z.centre(feat)
    wf = z.w[:, None] * f
    sff = np.sum(wf * f, axis=0)
    sfy = wf.T @ z.y
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = sfy / sff
    rss = z.syy - slope * sfy
    ok = (sff > 1e-12) & (slope > 0) & ((feat > 0).sum(axis=0) >= min_active)
    return np.where(ok, rss, np.inf), slope, mu


def _fit_one(z: _Centred, feature: Feature, g: np.ndarray, sign: int, min_active: int):
    rss, slope, mu = _one_term(z, feature(g, sign), min_active)
    j = int(np.argmin(rss))
    return rss[j], slope[j], g[j], mu[:, j]


def _fit_two(z: _Centred, feature: Feature, gh: np.ndarray, gc: np.ndarray, min_active: int):
    fh, fc = feature(gh, 1), feature(gc, -1)
    h, mh = z.centre(fh)
    c, mc = z.centre(fc)
    wh, wc = z.w[:, None] * h, z.w[:, None] * c
    shh, scc = np.sum(wh * h, axis=0), np.sum(wc * c, axis=0)
    shy, scy = wh.T @ z.y, wc.T @ z.y
    shc = wh.T @ c  # (K, J)
    det = shh[:, None] * scc[None, :] - shc**2
    with np.errstate(invalid="ignore", divide="ignore"):
        bh = (scc[None, :] * shy[:, None] - shc * scy[None, :]) / det
        bc = (shh[:, None] * scy[None, :] - shc * shy[:, None]) / det
    rss = z.syy - bh * shy[:, None] - bc * scy[None, :]
    act_h = (fh > 0).sum(axis=0) >= min_active
    act_c = (fc > 0).sum(axis=0) >= min_active
    ok = ((det > 1e-9 * np.outer(shh, scc)) & (bh > 0) & (bc > 0)
          & (gc[None, :] >= gh[:, None]) & act_h[:, None] & act_c[None, :])
    rss = np.where(ok, rss, np.inf)
    i, j = np.unravel_index(int(np.argmin(rss)), rss.shape)
    return rss[i, j], bh[i, j], bc[i, j], gh[i], gc[j], mh[:, i], mc[:, j]


def _local(best: float, step: float, lo: float, hi: float, refine: bool) -> np.ndarray:
    if not refine:
        return np.array([best])
    g = best + (step / 5) * np.arange(-5, 6)
    return g[(g >= lo - 1e-9) & (g <= hi + 1e-9)]


def search(y: np.ndarray, w: np.ndarray, cls: np.ndarray, n_cls: int, feature: Feature,
           h_grid: np.ndarray, c_grid: np.ndarray, min_active: int,
           refine: bool = True) -> dict[str, TermFit]:
    """Best fit of each form (those with a valid candidate), on rows with weights ``w``.

    Coarse grids first, then a grid five times finer within one step of the best point.
    """
    z = _Centred(y, w, cls, n_cls)
    out = {"intercept": TermFit("intercept", z.y_mean, rss=z.syy, k=n_cls)}
    step_h = float(h_grid[1] - h_grid[0]) if len(h_grid) > 1 else 0.0
    step_c = float(c_grid[1] - c_grid[0]) if len(c_grid) > 1 else 0.0
    for form, sign, g, step in (("heating", 1, h_grid, step_h), ("cooling", -1, c_grid, step_c)):
        if len(g) == 0:
            continue
        rss, slope, bp, mu = _fit_one(z, feature, g, sign, min_active)
        if np.isfinite(rss) and step > 0:
            rss, slope, bp, mu = _fit_one(
                z, feature, _local(bp, step, g[0], g[-1], refine), sign, min_active)
        if np.isfinite(rss):
            t = TermFit(form, z.y_mean - slope * mu, rss=float(rss), k=n_cls + 2)
            if sign > 0:
                t.heating_slope, t.heating_bp = float(slope), float(bp)
            else:
                t.cooling_slope, t.cooling_bp = float(slope), float(bp)
            out[form] = t
    if len(h_grid) and len(c_grid):
        best = _fit_two(z, feature, h_grid, c_grid, min_active)
        if np.isfinite(best[0]) and refine:
            lh = _local(best[3], step_h, h_grid[0], h_grid[-1], True)
            lc = _local(best[4], step_c, c_grid[0], c_grid[-1], True)
            fine = _fit_two(z, feature, lh, lc, min_active)
            best = fine if fine[0] <= best[0] else best
        rss, bh, bc, tbh, tbc, mh, mc = best
        if np.isfinite(rss):
            out["heating_cooling"] = TermFit(
                "heating_cooling", z.y_mean - bh * mh - bc * mc, float(bh), float(tbh),
                float(bc), float(tbc), float(rss), n_cls + 4)
    return out


def choose(fits: dict[str, TermFit], n: int, penalty: float = 1.0) -> TermFit:
    """The form with the lowest BIC (ties go to the simpler form, listed first). A form needs
    two rows per parameter: BIC alone lets 5 parameters chase 7 bimonthly bills."""
    allowed = [fits[f] for f in FORMS if f in fits and (f == "intercept" or fits[f].k <= n / 2)]
    return min(allowed, key=lambda t: bic(t.rss, n, t.k, penalty))


def evaluate(params: dict, t: np.ndarray, amp: np.ndarray | None = None,
             ) -> tuple[np.ndarray, np.ndarray]:
    """Heating and cooling parts [kWh per row unit] of one parameter set at temperatures ``t``
    (any shape; the last axis may be days to average over). With ``amp`` (the half daily
    range, same shape) the degree feature is ``cycle_degrees`` instead of ``max(0, ...)``."""
    heat = np.zeros_like(t, dtype=float)
    cool = np.zeros_like(t, dtype=float)

    def deg(d):
        return np.maximum(0.0, d) if amp is None else cycle_degrees(d, amp)

    if params.get("heating_bp") is not None:
        heat = params["heating_slope"] * deg(params["heating_bp"] - t)
    if params.get("cooling_bp") is not None:
        cool = params["cooling_slope"] * deg(t - params["cooling_bp"])
    return heat, cool


# ---- fit results as plain JSON (shared by the daily and billing models) --------------------

def new_result(model, rows, params: dict, metrics, warnings, seconds: float) -> FitResult:
    first = rows.index.min() if len(rows) else None
    last = rows.index.max() if len(rows) else None
    return FitResult(model=model.name, version=model.version, frequency=model.frequency,
                     period_start=first.isoformat() if first is not None else "",
                     period_end=last.isoformat() if last is not None else "",
                     params=params, metrics=metrics, warnings=list(warnings),
                     fit_seconds=float(seconds))


def fit_result_to_json(r: FitResult | None) -> dict | None:
    return None if r is None else r.to_json()


def fit_result_from_json(doc: dict | None) -> FitResult | None:
    return None if doc is None else FitResult.from_json(doc)
