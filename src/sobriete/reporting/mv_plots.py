"""Measurement & verification plots: actual vs baseline, CUSUM, energy signature, components.

Pure functions: frames in, PNG bytes out (and the file at ``path`` when given). Labels are
French by default, English with ``lang="en"``. Every figure is titled with the meter and the
plotted period, and says in a small footer where its numbers come from: the model and its
version, its fit period and quality, the confidence level of any band. Pass that evidence as
``source``: a ``SavingsResult``, a ``FitResult``, a fitted ``BaselineModel``, a ``Provenance``
or a plain string.

Time: figures are drawn on local wall-clock time. Naive indexes (the daily model frames, local
dates) are used as they are; aware ones (hourly frames, UTC) are converted to ``tz``
(Europe/Paris by default) first, and so are aware event bounds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no screen on servers; must precede pyplot

import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from sobriete.analytics.mv import uncertainty as U  # noqa: E402
from sobriete.analytics.mv.base import (  # noqa: E402
    COMPONENTS,
    ENERGY,
    PREDICTED,
    BaselineModel,
    FitResult,
)
from sobriete.analytics.mv.events import NonRoutineEvent  # noqa: E402
from sobriete.analytics.mv.savings import SavingsResult  # noqa: E402
from sobriete.reporting._plot_common import (  # noqa: E402
    C_ACTUAL,
    C_BASELINE,
    C_CHANGE,
    C_EVENT,
    C_OTHER,
    C_OTHER_LINE,
    C_OVER,
    C_SAVINGS,
    C_WORKDAY,
    C_WORKDAY_LINE,
    LOCAL_TZ,
    footer,
    save_png,
)
from sobriete.reporting._plot_common import DateFormatter as _DateFormatter  # noqa: E402, F401 (old name, used by tests)
from sobriete.reporting._plot_common import date_axis as _date_axis  # noqa: E402
from sobriete.reporting._plot_common import day_label as _day  # noqa: E402
from sobriete.reporting._plot_common import kwh_axis as _kwh_axis  # noqa: E402
from sobriete.reporting._plot_common import legend_below as _legend_below  # noqa: E402
from sobriete.reporting._plot_common import num as _num  # noqa: E402
from sobriete.reporting._plot_common import suptitle as _title  # noqa: E402
from sobriete.reporting._plot_common import to_local as _local  # noqa: E402
from sobriete.reporting._plot_common import to_local_ts as _local_ts  # noqa: E402
from sobriete.reporting.i18n import t  # noqa: E402

__all__ = ["Provenance", "point_band", "baseline_vs_actual_png", "cusum_png",
           "energy_signature_png", "components_png"]

# A plotted day or week needs at least this share of its rows with both a reading and a
# prediction (as ``mv.data`` for days); partly covered bins are scaled up to the full bin.
MIN_BIN_COVERAGE = 0.5
# Above this many days, ``freq="auto"`` plots weeks instead of days.
WEEKLY_ABOVE_DAYS = 800
MAX_CHANGE_LABELS = 6  # CUSUM changes labelled with their date (the largest ones); all marked

C_COMPONENTS = {"base_kwh": "#999999", "heating_kwh": "#D55E00", "cooling_kwh": "#56B4E9",
                "calendar_kwh": "#CC79A7"}


def _t(key: str, lang: str) -> str:
    return t(f"mv_{key}", lang)  # the figures' labels are the "mv_" keys of reporting.i18n


# ---- where the numbers come from -------------------------------------------------------------

@dataclass(frozen=True)
class Provenance:
    """What a figure's footer says about its numbers."""

    model: str = ""
    version: str = ""
    fit_start: str | None = None
    fit_end: str | None = None
    n: int | None = None  # points the model was fitted on
    cvrmse: float | None = None
    confidence: float | None = None  # of the band / the savings interval, if any
    disqualified: bool = False
    note: str = ""

    @classmethod
    def of(cls, source: Any) -> Provenance | None:
        """From a ``SavingsResult``, ``FitResult``, fitted ``BaselineModel``, string or None."""
        if source is None or isinstance(source, Provenance):
            return source
        if isinstance(source, str):
            return cls(note=source)
        if isinstance(source, SavingsResult):
            a, b = source.baseline_period
            return cls(model=source.model, version=source.model_version, fit_start=a, fit_end=b,
                       n=source.n or None, cvrmse=_finite(source.cvrmse),
                       confidence=source.confidence,
                       disqualified=any(w.level.value == "disqualification"
                                        for w in source.warnings))
        if isinstance(source, BaselineModel):
            fit = source.fit_result
            base = cls.of(fit) if fit is not None else cls()
            return cls(**{**base.__dict__, "model": source.name, "version": source.version})
        if isinstance(source, FitResult):
            mt = source.metrics
            return cls(model=source.model, version=source.version,
                       fit_start=source.period_start or None, fit_end=source.period_end or None,
                       n=mt.n if mt else None, cvrmse=_finite(mt.cvrmse) if mt else None,
                       disqualified=source.disqualified)
        raise TypeError(f"cannot read a provenance from {type(source).__name__}")

    def with_confidence(self, confidence: float | None) -> Provenance:
        return Provenance(**{**self.__dict__, "confidence": confidence})

    def text(self, lang: str) -> str:
        parts = []
        if self.model:
            m = f"{_t('model', lang).lower()} {self.model}"
            if self.version:
                m += f" v{self.version}"
            if self.fit_start and self.fit_end:
                m += " " + _t("fitted_on", lang).format(a=str(self.fit_start)[:10],
                                                       b=str(self.fit_end)[:10])
            extra = []
            if self.n:
                extra.append(_t("days", lang).format(n=self.n))
            if self.cvrmse is not None:
                extra.append(f"CV(RMSE) {_pct(self.cvrmse, lang)}")
            if extra:
                m += " (" + ", ".join(extra) + ")"
            parts.append(m)
        if self.confidence is not None:
            parts.append(_t("confidence", lang).format(c=_pct(self.confidence, lang)))
        if self.note:
            parts.append(self.note)
        if self.disqualified:
            parts.append(_t("disqualified", lang))
        body = " · ".join(parts) if parts else _t("no_source", lang)
        return f"{_t('source', lang)}{' :' if lang != 'en' else ':'} {body} · sobriete"


def point_band(source: SavingsResult | FitResult | BaselineModel,
               confidence: float = 0.90) -> float:
    """Half-width [kWh] of the baseline's uncertainty for one prediction (one day of a daily
    model, one hour of an hourly one), ASHRAE Guideline 14 (``mv.uncertainty``).

    Half-widths for m points grow as sqrt(m), so the per-point value combined in quadrature over
    a week or a reporting period gives back the guideline's interval for that sum; that is how
    ``baseline_vs_actual_png`` aggregates a band. From a ``SavingsResult`` it is
    ``uncertainty_kwh / sqrt(m)``, at the result's own confidence (``confidence`` is ignored).
    """
    if isinstance(source, SavingsResult):
        return source.uncertainty_kwh / math.sqrt(source.m) if source.m else math.nan
    fit = source.fit_result if isinstance(source, BaselineModel) else source
    if fit is None or fit.metrics is None:
        return math.nan
    mt = fit.metrics
    return U.absolute_uncertainty(U.terms(mt.n, mt.p, mt.cvrmse, mt.mean_y, mt.rho_lag1,
                                          confidence), 1)


# ---- formatting --------------------------------------------------------------------------------

def _finite(x: float | None) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


def _pct(x: float, lang: str) -> str:
    v = 100 * x
    s = _num(v, lang, 0 if abs(v) >= 10 or v == round(v) else 1)
    return f"{s}\u00a0%" if lang != "en" else f"{s} %"


def _energy(x: float, lang: str) -> str:
    """kWh below 10,000, MWh above (a commune's energy manager reads MWh)."""
    if x is None or not math.isfinite(x):
        return "—"
    if abs(x) >= 10_000:
        v = x / 1000
        return f"{_num(v, lang, 0 if abs(v) >= 100 else 1)}\u00a0MWh"
    return f"{_num(x, lang)}\u00a0kWh"


def _energy_scale(values: np.ndarray) -> tuple[float, str]:
    v = np.abs(values[np.isfinite(values)]) if len(values) else np.array([])
    return (1000.0, "MWh") if len(v) and v.max() >= 100_000 else (1.0, "kWh")


def _footer(fig: plt.Figure, prov: Provenance | None, lang: str) -> None:
    footer(fig, (prov or Provenance()).text(lang))


class _Rows:
    """Greedy placement of text labels on a few rows so that they do not overlap."""

    def __init__(self, n: int, width: float):
        self.rows: list[list[tuple[float, float]]] = [[] for _ in range(n)]
        self.width = width  # a label's width in axes fraction

    def place(self, xf: float) -> tuple[int, bool] | None:
        """(row, right-aligned) for a label starting at axes fraction ``xf``, or None."""
        right = xf + self.width > 1.0
        lo, hi = (xf - self.width, xf) if right else (xf, xf + self.width)
        for i, row in enumerate(self.rows):
            if all(hi < a or lo > b for a, b in row):
                row.append((lo, hi))
                return i, right
        return None


def _empty(what: str, meter: str, prov: Provenance | None, lang: str,
           path: str | Path | None) -> bytes:
    fig, ax = plt.subplots(figsize=(10, 4), layout="constrained")
    _title(fig, what, meter, None, None, lang)
    ax.text(0.5, 0.5, _t("no_data", lang), ha="center", va="center", fontsize=13, color="0.4",
            transform=ax.transAxes)
    ax.set_axis_off()
    _footer(fig, prov, lang)
    return save_png(fig, path)


# ---- time handling -----------------------------------------------------------------------------

def _column(x: pd.Series | pd.DataFrame, column: str) -> pd.Series:
    s = x[column] if isinstance(x, pd.DataFrame) else x
    s = pd.Series(pd.to_numeric(s, errors="coerce"), index=s.index, dtype=float)
    return s[~s.index.duplicated(keep="first")]


def _aligned(actual: pd.Series | pd.DataFrame, predicted: pd.Series | pd.DataFrame,
             band: float | pd.Series | None, tz: str) -> pd.DataFrame:
    """actual, predicted, band on actual's rows (aligned before going to local time, where an
    autumn DST hour appears twice), indexed by local wall-clock time, sorted."""
    a = _column(actual, ENERGY)
    f = pd.DataFrame({"actual": a, "predicted": _column(predicted, PREDICTED).reindex(a.index)})
    if isinstance(band, pd.Series):
        f["band"] = _column(band, "band").reindex(a.index)
    else:
        f["band"] = np.nan if band is None else float(band)
    if not isinstance(f.index, pd.DatetimeIndex):
        f.index = pd.DatetimeIndex(f.index)
    f.index = _local(f.index, tz)
    return f[~f.index.isna()].sort_index(kind="stable")


def _step(idx: pd.DatetimeIndex) -> pd.Timedelta:
    if len(idx) < 2:
        return pd.Timedelta(days=1)
    d = np.diff(idx.as_unit("ns").asi8)
    d = d[d > 0]
    return pd.Timedelta(int(np.median(d)), "ns") if len(d) else pd.Timedelta(days=1)


# ---- 1. actual vs baseline -----------------------------------------------------------------------

def _bins(f: pd.DataFrame, days: int, step: pd.Timedelta) -> pd.DataFrame:
    """Per display bin of ``days`` local days (weeks start on Mondays): actual, predicted and
    band over the rows that have both, scaled up to the whole bin when partly covered, NaN
    under ``MIN_BIN_COVERAGE``; on a regular grid so that gaps break the lines."""
    first = f.index.min().normalize()
    origin = first - pd.Timedelta(days=first.day_of_week) if days == 7 else first
    grid = pd.date_range(origin, f.index.max(), freq=f"{days}D")
    paired = f["actual"].notna() & f["predicted"].notna()
    grp = f[paired].assign(b2=f["band"] ** 2).groupby(
        pd.Grouper(freq=f"{days}D", origin=origin))
    sums = grp[["actual", "predicted", "b2"]].sum(min_count=1).reindex(grid)
    rows = grp.size().reindex(grid).fillna(0).to_numpy()
    # Expected rows: a whole bin, so that a partial first or last week is scaled to a week.
    expected = max(pd.Timedelta(days=days) / step, 1.0)
    cov = np.clip(rows / expected, 0, 1)
    cov = np.where(cov >= 23 / 24, 1.0, cov)  # a 23-hour DST day is complete
    scale = np.where(cov >= MIN_BIN_COVERAGE, 1 / np.where(cov > 0, cov, 1), np.nan)
    return pd.DataFrame({"actual": sums["actual"].to_numpy() * scale,
                         "predicted": sums["predicted"].to_numpy() * scale,
                         "band": np.sqrt(sums["b2"].to_numpy() * scale),
                         "center": grid + pd.Timedelta(days=days) / 2}, index=grid)


def _event_label(ev: NonRoutineEvent, lang: str) -> str:
    desc = ev.description_en if lang == "en" else ev.description_fr
    if not desc or len(desc) > 28:
        desc = _t("detected" if ev.kind == "detected" else "declared", lang)
    how = _t("excluded" if ev.adjustment_kwh is None else "adjusted", lang)
    return f"{desc}\n({how})"


def baseline_vs_actual_png(
    actual: pd.Series | pd.DataFrame,
    predicted: pd.Series | pd.DataFrame,
    *,
    band: float | pd.Series | None = None,
    events: Sequence[NonRoutineEvent] | None = None,
    reporting_start: Any = None,
    result: SavingsResult | None = None,
    meter: str = "",
    title: str | None = None,
    source: Any = None,
    lang: str = "fr",
    freq: str = "auto",
    tz: str = LOCAL_TZ,
    path: str | Path | None = None,
) -> bytes:
    """Metered consumption against the baseline prediction, per day (per week when the
    series spans more than ``WEEKLY_ABOVE_DAYS`` days, or ``freq="D"|"W"``).

    ``actual``: kWh per row (a Series, or a model frame's ``energy_kwh``); ``predicted``: the
    model's prediction on the same rows (a Series, or a prediction frame's ``predicted_kwh``).
    Hourly rows are summed into local days (or weeks) over the rows having both values, bins
    partly covered scaled up, under half covered left blank.

    ``band``: half-width of the baseline's uncertainty **per input row** [kWh], a constant
    (the same for every row, e.g. ``point_band(fit)``) or a Series on the rows. A bin's
    half-width combines its rows' in quadrature, which is how ASHRAE Guideline 14 grows the
    interval with the number of points; the cumulative savings band is built the same way.

    ``reporting_start``: where the reporting period begins (rows before it are the baseline
    period, shaded grey); with it a lower panel shows cumulative savings (baseline - metered)
    over the reporting rows outside excluded events, adjustments added at their event's start.
    ``events``: non-routine events, shaded and labelled (excluded ones flat in the savings).

    ``result``: a ``SavingsResult`` fills what is not given: events, band (per-point share of
    its uncertainty), reporting start, source; its savings and interval are quoted as they are.
    """
    if result is not None:
        events = result.events if events is None else events
        band = point_band(result) if band is None else band
        reporting_start = (result.reporting_period[0] if reporting_start is None
                           else reporting_start)
        source = result if source is None else source
    events = list(events or [])
    prov = Provenance.of(source)
    what = title or _t("bva_title", lang)

    f = _aligned(actual, predicted, band, tz)
    if f.empty or not (f["actual"].notna() & f["predicted"].notna()).any():
        return _empty(what, meter, prov, lang, path)

    step = _step(f.index)
    span_days = (f.index.max() - f.index.min() + step) / pd.Timedelta(days=1)
    if freq == "auto":
        freq = "W" if span_days > WEEKLY_ABOVE_DAYS else "D"
    if freq not in ("D", "W"):
        raise ValueError(f"freq must be 'auto', 'D' or 'W', got {freq!r}")
    weekly = freq == "W"
    f_binned = _bins(f, 7 if weekly else 1, step)
    per = _t("per_W" if weekly else "per_D", lang)
    rs = _local_ts(reporting_start, tz) if reporting_start is not None else None

    # Cumulative savings on the input rows (no scaling): counted = paired, reporting, not in an
    # excluded event.
    paired = f["actual"].notna() & f["predicted"].notna()
    in_rep = f.index >= rs if rs is not None else np.ones(len(f), bool)
    excluded = np.zeros(len(f), bool)
    adjust = pd.Series(0.0, index=f.index)
    for ev in events:
        s, e = _local_ts(ev.start, tz), _local_ts(ev.end, tz)
        m = (f.index >= s) & (f.index < e)
        if ev.adjustment_kwh is None:
            excluded |= m
        elif m.any():
            adjust.iloc[int(np.argmax(m))] += float(ev.adjustment_kwh)
    counted = paired.to_numpy() & np.asarray(in_rep) & ~excluded
    sav_rows = (f["predicted"] - f["actual"]).where(counted, 0.0) + adjust.where(in_rep, 0.0)
    cum = sav_rows.cumsum()
    cum_band = np.sqrt((f["band"] ** 2).where(counted, 0.0).cumsum())
    has_rep = rs is not None and bool(counted.any())

    if has_rep:
        fig, (ax, ax2) = plt.subplots(2, 1, figsize=(11, 7), sharex=True, layout="constrained",
                                      gridspec_kw={"height_ratios": [3, 1.4]})
    else:
        fig, ax = plt.subplots(figsize=(11, 5.2), layout="constrained")
        ax2 = None
    x = f_binned["center"]
    scale, unit = _energy_scale(f_binned[["actual", "predicted"]].to_numpy().ravel())
    lw = 0.9 if len(f_binned) > 200 else 1.3
    if f_binned["band"].notna().any():
        ax.fill_between(x, f_binned["predicted"] - f_binned["band"],
                        f_binned["predicted"] + f_binned["band"], color=C_BASELINE, alpha=0.2,
                        lw=0, label=_t("band", lang) + (
                            f" ({_pct(prov.confidence, lang)})"
                            if prov is not None and prov.confidence else ""))
    ax.plot(x, f_binned["predicted"], color=C_BASELINE, lw=lw, label=_t("baseline", lang))
    ax.plot(x, f_binned["actual"], color=C_ACTUAL, lw=lw * 0.85, label=_t("actual", lang))
    ax.set_ylabel(per if unit == "kWh" else per.replace("kWh", "MWh"))
    _kwh_axis(ax, lang, scale)
    ymax = np.nanmax(f_binned[["actual", "predicted"]].to_numpy()
                     + np.nan_to_num(f_binned[["band"]].to_numpy()))
    ymin = min(0.0, np.nanmin(f_binned[["actual", "predicted"]].to_numpy()))
    ax.set_ylim(ymin, ymax * 1.25 if ymax > 0 else 1.0)  # headroom for the period labels

    lo, hi = f.index.min(), f.index.max() + step
    axes = [ax] if ax2 is None else [ax, ax2]
    for a_ in axes:
        a_.set_xlim(lo, hi)
        a_.grid(alpha=0.3)
        if rs is not None and lo < rs:
            a_.axvspan(lo, min(rs, hi), color="0.88", lw=0, zorder=0)
            a_.axvline(rs, color="0.3", lw=1.2, ls="--")
    if rs is not None and lo < rs:
        trans = ax.get_xaxis_transform()
        ax.text(lo + (min(rs, hi) - lo) / 2, 0.97, _t("baseline_period", lang), transform=trans,
                ha="center", va="top", fontsize=9, color="0.25", fontweight="bold")
        if rs < hi:
            ax.text(rs + (hi - rs) / 2, 0.97, _t("reporting_period", lang), transform=trans,
                    ha="center", va="top", fontsize=9, color="0.25", fontweight="bold")

    ev_shown = False
    ev_rows = _Rows(3, 1.9 / fig.get_figwidth())
    for ev in events:
        s, e = max(_local_ts(ev.start, tz), lo), min(_local_ts(ev.end, tz), hi)
        if e <= s:
            continue
        for a_ in axes:
            a_.axvspan(s, e, color=C_EVENT, alpha=0.22, lw=0, zorder=0.5)
        ev_shown = True
        spot = ev_rows.place((s - lo) / (hi - lo))
        if spot is None:
            continue  # no room: the shading and the legend still show it
        row, right = spot
        at = (mdates.date2num(e if right else s), 0.89 - 0.09 * row)
        ax.annotate(_event_label(ev, lang), at,
                    xycoords=ax.get_xaxis_transform(), xytext=(-3 if right else 3, 0),
                    textcoords="offset points", ha="right" if right else "left", va="top",
                    fontsize=7.5, color="#6b4500", annotation_clip=False)

    handles, labels = ax.get_legend_handles_labels()
    if ev_shown:
        handles.append(Patch(color=C_EVENT, alpha=0.35))
        labels.append(_t("event", lang))
    _legend_below(ax if ax2 is None else ax2, handles, labels, min(len(handles), 4))

    # Savings: quoted from the result when there is one, else computed here.
    if result is not None:
        total, unc, conf = result.savings_kwh, result.uncertainty_kwh, result.confidence
        base_total = result.baseline_kwh
    else:
        total = float(cum.iloc[-1]) if has_rep or rs is None else math.nan
        unc = float(cum_band.iloc[-1]) if f["band"].notna().any() else math.nan
        conf = prov.confidence if prov is not None else None
        base_total = float(f["predicted"].where(counted).sum()) + float(
            adjust.where(in_rep, 0.0).sum())
    if rs is None:
        head = _t("diff", lang)
    else:
        head = _t("savings" if not total < 0 else "overuse", lang)
    line = f"{head} : " if lang != "en" else f"{head}: "
    line += _energy(abs(total) if rs is not None else total, lang)
    if math.isfinite(unc):
        line += f" ± {_energy(unc, lang)}"
    if base_total and math.isfinite(total):
        share = abs(total) if rs is not None else total
        line += f" ({_pct(share / base_total, lang)} " + (
            "de la référence)" if lang != "en" else "of the baseline)")
    if math.isfinite(unc) and conf and math.isfinite(total):
        key = "significant" if abs(total) > unc else "not_significant"
        line += " — " + _t(key, lang).format(c=_pct(conf, lang))
    ax.set_title(line, fontsize=9.5, loc="left")

    if ax2 is not None:
        cum_r = pd.DataFrame({"c": cum, "b": cum_band})[np.asarray(in_rep)]
        cum_r = cum_r.resample("D").last() if step < pd.Timedelta(days=1) else cum_r
        cs, cu = _energy_scale(cum_r["c"].to_numpy())
        xs = cum_r.index + (step if step >= pd.Timedelta(days=1) else pd.Timedelta(days=1))
        if cum_r["b"].gt(0).any():
            ax2.fill_between(xs, cum_r["c"] - cum_r["b"], cum_r["c"] + cum_r["b"],
                             color=C_SAVINGS, alpha=0.18, lw=0)
        ax2.plot(xs, cum_r["c"], color=C_SAVINGS, lw=1.6)
        ax2.axhline(0, color="0.3", lw=0.8)
        ax2.set_ylabel(f"{_t('cum_savings', lang)}\n({cu})", fontsize=9)
        _kwh_axis(ax2, lang, cs)
        end_v = float(cum_r["c"].iloc[-1])
        ax2.annotate(_energy(end_v, lang), (xs[-1], end_v), xytext=(-6, 8 if end_v >= 0 else -8),
                     textcoords="offset points", ha="right", va="bottom" if end_v >= 0 else "top",
                     fontsize=9, fontweight="bold", color=C_SAVINGS,
                     bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none",
                           "alpha": 0.85})
        _date_axis(ax2, lang)
    else:
        _date_axis(ax, lang)
    if weekly:
        note = _t("weekly", lang)
        prov = Provenance(note=note) if prov is None else Provenance(
            **{**prov.__dict__, "note": "; ".join(x for x in (prov.note, note) if x)})
    _title(fig, what, meter, lo, hi - pd.Timedelta(days=1) if step >= pd.Timedelta(days=1)
           else f.index.max(), lang)
    _footer(fig, prov, lang)
    return save_png(fig, path)


# ---- 2. CUSUM ------------------------------------------------------------------------------------

def _change_dates(frame: pd.DataFrame, changes: Any, tz: str) -> list[tuple[pd.Timestamp, float]]:
    """(local time, change per row or NaN) of the changes to mark."""
    if changes is None:
        if "change_kwh" not in frame:
            return []
        c = frame["change_kwh"].dropna()
        return list(zip(_local(c.index, tz), c.to_numpy(dtype=float), strict=True))
    if isinstance(changes, pd.DataFrame):
        if changes.empty:
            return []
        starts = _local(pd.DatetimeIndex(changes["start"]), tz)
        amounts = (changes["change_kwh"].to_numpy(dtype=float) if "change_kwh" in changes
                   else np.full(len(changes), np.nan))
        return list(zip(starts, amounts, strict=True))
    return [(_local_ts(c, tz), math.nan) for c in changes]


def cusum_png(
    cusum_frame: pd.DataFrame,
    changes: pd.DataFrame | Sequence[Any] | None = None,
    *,
    reporting_start: Any = None,
    meter: str = "",
    title: str | None = None,
    source: Any = None,
    lang: str = "fr",
    tz: str = LOCAL_TZ,
    path: str | Path | None = None,
) -> bytes:
    """The running sum of residuals (metered - baseline, ``cusum_kwh`` of ``events.cusum``)
    over time: a steady slope down is consumption steadily below the baseline, a change of
    slope a lasting change. Above zero shaded as over-consumption, below as savings.

    ``changes``: dates to mark; None takes the frame's own (rows where ``change_kwh`` is set),
    a ``cusum_changes`` frame (``start``, ``change_kwh``) or a list of dates also work; each is
    labelled with its date and the shift of the mean residual per row (kWh/day for a daily
    frame). ``reporting_start``: drawn as a dashed line when given.
    """
    what = title or _t("cusum_title", lang)
    prov = Provenance.of(source)
    prov = prov.with_confidence(None) if prov is not None else None  # no interval drawn
    note = ("dates de changement : CUSUM tabulaire (Page, 1954)" if lang != "en"
            else "change dates: tabular CUSUM (Page, 1954)")
    prov = Provenance(note=note) if prov is None else Provenance(
        **{**prov.__dict__, "note": "; ".join(x for x in (prov.note, note) if x)})
    if cusum_frame is None or cusum_frame.empty or "cusum_kwh" not in cusum_frame:
        return _empty(what, meter, prov, lang, path)
    c = pd.Series(pd.to_numeric(cusum_frame["cusum_kwh"], errors="coerce").to_numpy(float),
                  index=_local(pd.DatetimeIndex(cusum_frame.index), tz)).sort_index()
    if not c.notna().any():
        return _empty(what, meter, prov, lang, path)
    step = _step(c.index)
    if step < pd.Timedelta(days=1) and len(c) > 5000:  # hourly: one point a day is enough
        c = c.resample("D").last()
    marks = _change_dates(cusum_frame, changes, tz)
    per_row = "kWh/j" if lang != "en" else "kWh/day"
    if step < pd.Timedelta(days=1):
        per_row = "kWh/h"

    fig, ax = plt.subplots(figsize=(11, 5.2), layout="constrained")
    scale, unit = _energy_scale(c.to_numpy())
    x, y = c.index, c.to_numpy()
    ax.fill_between(x, y, 0, where=np.nan_to_num(y) >= 0, color=C_OVER, alpha=0.25, lw=0,
                    interpolate=True, label=_t("above", lang))
    ax.fill_between(x, y, 0, where=np.nan_to_num(y) < 0, color=C_SAVINGS, alpha=0.25, lw=0,
                    interpolate=True, label=_t("below", lang))
    ax.plot(x, y, color=C_ACTUAL, lw=1.3, label=_t("cusum_y", lang))
    ax.axhline(0, color="0.3", lw=0.8)
    ax.set_ylabel(f"{_t('cusum_y', lang)} ({unit})")
    _kwh_axis(ax, lang, scale)
    lo, hi = c.index.min(), c.index.max()
    ax.set_xlim(lo, hi)
    if reporting_start is not None:
        rs = _local_ts(reporting_start, tz)
        if lo < rs <= hi:
            ax.axvline(rs, color="0.3", lw=1.2, ls="--")
            ax.text(rs, 0.02, " " + _t("reporting_period", lang) + " →", fontsize=8.5,
                    color="0.25", transform=ax.get_xaxis_transform(), ha="left", va="bottom")
    ymin, ymax = np.nanmin(y), np.nanmax(y)
    pad = 0.08 * (ymax - ymin or 1.0)
    ax.set_ylim(min(ymin, 0) - pad, max(ymax, 0) + pad + (0.3 * (ymax - ymin or 1.0)
                                                            if marks else 0))
    marks = [(w, a) for w, a in marks if lo <= w <= hi]
    for when, _ in marks:
        ax.axvline(when, color=C_CHANGE, lw=0.9, ls=":")
        at = c.asof(when) if c.index.min() <= when else np.nan
        if np.isfinite(at):
            ax.plot([when], [at], "o", color=C_CHANGE, ms=5.5, zorder=5)
    # Label the largest changes only, on up to three rows without overlap: a label per change
    # would be unreadable when a long reporting period has many.
    span = hi - lo if hi > lo else pd.Timedelta(days=1)
    rows = _Rows(3, 1.6 / fig.get_figwidth())
    by_size = sorted(marks, key=lambda m: -abs(m[1]) if np.isfinite(m[1]) else 0.0)
    shown = 0
    for when, amount in by_size:
        if shown >= MAX_CHANGE_LABELS:
            break
        spot = rows.place((when - lo) / span)
        if spot is None:
            continue
        row, right = spot
        label = _day(when, lang)
        if np.isfinite(amount):
            label += f"\n{'+' if amount >= 0 else ''}{_num(amount, lang)} {per_row}"
        ax.annotate(label, (mdates.date2num(when), 0.97 - 0.11 * row),
                    xycoords=ax.get_xaxis_transform(), xytext=(-3 if right else 3, 0),
                    textcoords="offset points", ha="right" if right else "left", va="top",
                    fontsize=8, color=C_CHANGE,
                    bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none",
                          "alpha": 0.85})
        shown += 1
    handles, labels = ax.get_legend_handles_labels()
    if marks:
        handles.append(plt.Line2D([], [], color=C_CHANGE, ls=":", marker="o"))
        labels.append(f"{_t('change', lang)} ({len(marks)})")
    _legend_below(ax, handles, labels, len(handles))
    ax.set_title(_t("cusum_note", lang), fontsize=9, loc="left", color="0.25")
    ax.grid(alpha=0.3)
    _date_axis(ax, lang)
    _title(fig, what, meter, lo, hi, lang)
    _footer(fig, prov, lang)
    return save_png(fig, path)


# ---- 3. energy signature ------------------------------------------------------------------------

def _workday(frame: pd.DataFrame) -> np.ndarray:
    if "local_dow" in frame:
        dow = pd.to_numeric(frame["local_dow"], errors="coerce").to_numpy(float)
    else:
        dow = np.asarray(pd.DatetimeIndex(frame.index).day_of_week, dtype=float)
    by_dow = dow < 5
    if "day_type" not in frame:
        return by_dow
    dt = frame["day_type"].to_numpy(dtype=object)
    return np.where(pd.notna(dt), dt == "workday", by_dow).astype(bool)


def _group_label(group: str, lang: str) -> str:
    parts = []
    for word in ("heating", "summer"):
        if group.startswith(word):
            parts.append(_t(f"g_{word}", lang))
    for word in ("unoccupied", "occupied", "weekday", "weekend", "all"):
        if group.endswith(word) or group == word:
            parts.insert(0, _t(f"g_{word}", lang))
            break
    return ", ".join(parts) or group


def _model_lines(model: BaselineModel, frame: pd.DataFrame) -> list[dict[str, Any]]:
    """One curve per day group of a daily model, predicted on a temperature grid over the
    temperatures that group saw (no extrapolation), from a representative day of the group."""
    if getattr(model, "frequency", None) != "daily":
        return []
    from sobriete.analytics.mv.changepoint import day_groups

    split = getattr(model, "split", None)
    if split is not None:
        labels = np.asarray(day_groups(frame, split), dtype=object)
    else:
        labels = np.where(_workday(frame), "occupied", "unoccupied").astype(object)
    temps = pd.to_numeric(frame["temp_air_c"], errors="coerce").to_numpy(float)
    lines = []
    for g in pd.unique(labels):
        rows = np.flatnonzero((labels == g) & np.isfinite(temps))
        if len(rows) < 2:
            continue
        t_lo, t_hi = temps[rows].min(), temps[rows].max()
        if not t_hi > t_lo:
            continue
        grid = np.linspace(t_lo, t_hi, 200)
        rep = frame.iloc[[rows[0]] * len(grid)].copy()
        rep["temp_air_c"] = grid
        for col in ("temp_min_c", "temp_max_c"):
            if col in rep:
                rep[col] = grid
        pred = model.predict(rep)[PREDICTED].to_numpy(float)
        if not np.isfinite(pred).any():
            continue
        params = getattr(model, "groups", {}).get(str(g), {})
        lines.append({"group": str(g), "t": grid, "y": pred, "params": params})
    # Legend order: heating season before summer, workdays before the other days.
    return sorted(lines, key=lambda ln: (ln["group"].startswith("summer"),
                                         ln["group"].endswith(("unoccupied", "weekend"))))


def energy_signature_png(
    daily_frame: pd.DataFrame,
    model: BaselineModel | None = None,
    *,
    meter: str = "",
    title: str | None = None,
    source: Any = None,
    lang: str = "fr",
    path: str | Path | None = None,
) -> bytes:
    """Daily consumption against the day's mean outdoor temperature, workdays and other days
    (weekends, holidays, closures: ``day_type``, else Monday-Friday) in two colours.

    With a fitted daily ``model``, its response is drawn for each of its day groups (predicted
    on a temperature grid from a representative day of the group, over the temperatures the
    group saw) and the balance points of a change-point model are marked: below the heating
    balance point consumption grows as it gets colder. ``source`` defaults to the model.
    """
    what = title or _t("sig_title", lang)
    prov = Provenance.of(source if source is not None else model)
    prov = prov.with_confidence(None) if prov is not None else None  # no interval drawn
    need = {ENERGY, "temp_air_c"}
    if daily_frame is None or daily_frame.empty or not need <= set(daily_frame.columns):
        return _empty(what, meter, prov, lang, path)
    y = pd.to_numeric(daily_frame[ENERGY], errors="coerce").to_numpy(float)
    t = pd.to_numeric(daily_frame["temp_air_c"], errors="coerce").to_numpy(float)
    ok = np.isfinite(y) & np.isfinite(t)
    if not ok.any():
        return _empty(what, meter, prov, lang, path)
    work = _workday(daily_frame)

    fig, ax = plt.subplots(figsize=(10, 6.2), layout="constrained")
    scale, unit = _energy_scale(y[ok])
    n_pts = int(ok.sum())
    size, alpha = (14, 0.55) if n_pts < 800 else (8, 0.4)
    for mask, colour, key in ((ok & work, C_WORKDAY, "workdays"),
                              (ok & ~work, C_OTHER, "other_days")):
        if mask.any():
            ax.scatter(t[mask], y[mask], s=size, alpha=alpha, color=colour, lw=0,
                       label=f"{_t(key, lang)} ({_num(int(mask.sum()), lang)})")

    bps: set[tuple[str, float]] = set()
    if model is not None:
        for line in _model_lines(model, daily_frame):
            g = line["group"]
            other = g.endswith("unoccupied") or g.endswith("weekend")
            work_g = g.endswith("occupied") or g.endswith("weekday")
            colour = C_OTHER_LINE if other else (C_WORKDAY_LINE if work_g else "black")
            ls = "--" if g.startswith("summer") else "-"
            ax.plot(line["t"], line["y"], color=colour, lw=2.2, ls=ls,
                    label=f"{_t('model', lang)} : {_group_label(g, lang)}" if lang != "en"
                    else f"{_t('model', lang)}: {_group_label(g, lang)}")
            for kind in ("heating_bp", "cooling_bp"):
                bp = line["params"].get(kind)
                if bp is None or not line["t"][0] <= bp <= line["t"][-1]:
                    continue
                at = float(np.interp(bp, line["t"], line["y"]))
                ax.plot([bp], [at], "o", ms=7, mfc="white", mec=colour, mew=2, zorder=6)
                bps.add((kind, round(float(bp), 1)))
    top = np.nanmax(y[ok])
    for i, (kind, bp) in enumerate(sorted(bps)):
        ax.axvline(bp, color="0.45", lw=0.9, ls=":", zorder=1)
        unit_c = "\u00a0°C"
        label = f"{_t(kind, lang)}\n{_num(bp, lang, 1)}{unit_c}"
        ax.annotate(label, (bp, top), xytext=(4, -4 - 26 * (i % 2)), textcoords="offset points",
                    ha="left", va="top", fontsize=8.5, color="0.2",
                    bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": "0.7",
                          "alpha": 0.9})
    ax.set_xlabel(_t("temp_x", lang))
    ax.set_ylabel(_t("energy_y", lang).replace("kWh", unit))
    _kwh_axis(ax, lang, scale)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: _num(v, lang)))
    ax.set_ylim(bottom=min(0.0, float(np.nanmin(y[ok]))), top=top * 1.08 if top > 0 else 1.0)
    ax.grid(alpha=0.3)
    leg = _legend_below(ax, *ax.get_legend_handles_labels(), 3)
    for h in leg.legend_handles if leg is not None else []:
        if hasattr(h, "set_sizes"):  # scatter points: larger and opaque in the legend
            h.set_sizes([30])
            h.set_alpha(1.0)
    days = pd.DatetimeIndex(daily_frame.index[ok])
    _title(fig, what, meter, days.min(), days.max(), lang)
    _footer(fig, prov, lang)
    return save_png(fig, path)


# ---- 4. components -------------------------------------------------------------------------------

def components_png(
    prediction_frame: pd.DataFrame,
    *,
    meter: str = "",
    title: str | None = None,
    source: Any = None,
    lang: str = "fr",
    tz: str = LOCAL_TZ,
    path: str | Path | None = None,
) -> bytes:
    """The baseline per month, stacked by component (``mv.base``): base load, heating, cooling
    and calendar (the difference due to weekends, holidays and closures, usually negative,
    drawn below zero). A black tick marks each month's total prediction. Rows without a
    complete prediction are left out; the first and last months may be partial."""
    what = title or _t("comp_title", lang)
    prov = Provenance.of(source)
    prov = prov.with_confidence(None) if prov is not None else None  # no interval drawn
    cols = [c for c in COMPONENTS if prediction_frame is not None and c in prediction_frame]
    if prediction_frame is None or prediction_frame.empty or not cols:
        return _empty(what, meter, prov, lang, path)
    f = prediction_frame[cols].apply(pd.to_numeric, errors="coerce").astype(float)
    f.index = _local(pd.DatetimeIndex(prediction_frame.index), tz)
    f = f[f.notna().all(axis=1)]
    if f.empty:
        return _empty(what, meter, prov, lang, path)
    monthly = f.groupby(pd.Grouper(freq="MS")).sum(min_count=1)
    monthly = monthly[monthly.notna().any(axis=1)]
    total = monthly.sum(axis=1)

    fig, ax = plt.subplots(figsize=(11, 5.6), layout="constrained")
    scale, unit = _energy_scale(np.concatenate([monthly.abs().sum(axis=1).to_numpy(),
                                                total.to_numpy()]))
    x = monthly.index + pd.Timedelta(days=15)
    width = 22 if len(monthly) <= 48 else 26
    pos_bottom = np.zeros(len(monthly))
    neg_bottom = np.zeros(len(monthly))
    for c in cols:
        v = monthly[c].to_numpy(float)
        if not np.any(np.abs(np.nan_to_num(v)) > 1e-9):
            continue  # a component the model does not have: no legend entry either
        pos, neg = np.where(v > 0, v, 0.0), np.where(v < 0, v, 0.0)
        label = _t(c, lang)
        if pos.any():
            ax.bar(x, pos, width, bottom=pos_bottom, color=C_COMPONENTS[c], label=label,
                   edgecolor="white", lw=0.4)
            label = None
        if neg.any():
            ax.bar(x, neg, width, bottom=neg_bottom, color=C_COMPONENTS[c], label=label,
                   edgecolor="white", lw=0.4, hatch="///" if c != "calendar_kwh" else None)
        pos_bottom += pos
        neg_bottom += neg
    ax.scatter(x, total, marker="_", s=140 if len(monthly) <= 48 else 60, color="black",
               lw=2, zorder=5, label=_t("total", lang))
    ax.axhline(0, color="0.2", lw=0.9)
    top = max(float(np.nanmax(pos_bottom)), float(np.nanmax(total.to_numpy())), 0.0)
    bottom = min(float(np.nanmin(neg_bottom)), float(np.nanmin(total.to_numpy())), 0.0)
    pad = 0.06 * ((top - bottom) or 1.0)
    ax.set_ylim(bottom - (pad if bottom < 0 else 0), top + pad)
    ax.set_ylabel(_t("per_MS", lang).replace("kWh", unit))
    _kwh_axis(ax, lang, scale)
    ax.set_xlim(monthly.index.min() - pd.Timedelta(days=5),
                monthly.index.max() + pd.Timedelta(days=36))
    ax.grid(axis="y", alpha=0.3)
    _date_axis(ax, lang)
    handles, labels = ax.get_legend_handles_labels()
    _legend_below(ax, handles, labels, len(handles))
    _title(fig, what, meter, f.index.min(), f.index.max(), lang)
    _footer(fig, prov, lang)
    return save_png(fig, path)
