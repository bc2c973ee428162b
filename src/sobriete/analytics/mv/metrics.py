"""Goodness-of-fit measures, ASHRAE Guideline 14 definitions."""

from __future__ import annotations

import numpy as np

from sobriete.analytics.mv.base import FitMetrics


def _clean(y, yhat) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype=float)
    yhat = np.asarray(yhat, dtype=float)
    ok = np.isfinite(y) & np.isfinite(yhat)
    return y[ok], yhat[ok]


def cvrmse(y, yhat, p: int = 0) -> float:
    """Coefficient of variation of the RMSE: sqrt(sum(e²)/(n-p)) / mean(y)."""
    y, yhat = _clean(y, yhat)
    n = len(y)
    if n <= p or n == 0 or y.mean() == 0:
        return float("nan")
    return float(np.sqrt(np.sum((y - yhat) ** 2) / (n - p)) / y.mean())


def nmbe(y, yhat, p: int = 0) -> float:
    """Normalised mean bias error: sum(y - ŷ) / ((n-p) mean(y)); positive = under-prediction."""
    y, yhat = _clean(y, yhat)
    n = len(y)
    if n <= p or n == 0 or y.mean() == 0:
        return float("nan")
    return float(np.sum(y - yhat) / ((n - p) * y.mean()))


def pnrmse(y, yhat, q: float = 0.95) -> float:
    """RMSE normalised by the inter-quantile range of y (robust to near-zero means)."""
    y, yhat = _clean(y, yhat)
    if len(y) == 0:
        return float("nan")
    spread = np.quantile(y, q) - np.quantile(y, 1 - q)
    return float(np.sqrt(np.mean((y - yhat) ** 2)) / spread) if spread > 0 else float("nan")


def lag1_autocorrelation(residuals) -> float:
    """Lag-1 autocorrelation of residuals in time order (NaN gaps break pairs)."""
    e = np.asarray(residuals, dtype=float)
    a, b = e[:-1], e[1:]
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3:
        return 0.0
    a, b = a[ok] - np.nanmean(e), b[ok] - np.nanmean(e)
    den = np.nansum((e[np.isfinite(e)] - np.nanmean(e)) ** 2)
    return float(np.sum(a * b) / den) if den > 0 else 0.0


def fit_metrics(y, yhat, p: int) -> FitMetrics:
    y_arr = np.asarray(y, dtype=float)
    yc, yhc = _clean(y, yhat)
    ss_tot = float(np.sum((yc - yc.mean()) ** 2)) if len(yc) else 0.0
    r2 = 1.0 - float(np.sum((yc - yhc) ** 2)) / ss_tot if ss_tot > 0 else float("nan")
    return FitMetrics(
        n=len(yc), p=p, cvrmse=cvrmse(yc, yhc, p), nmbe=nmbe(yc, yhc, p), r2=r2,
        rho_lag1=lag1_autocorrelation(y_arr - np.asarray(yhat, dtype=float)),
        mean_y=float(yc.mean()) if len(yc) else float("nan"),
    )
