"""The figure behind each diagnostic finding, so that an energy manager is one click away from
the evidence: ``finding_png`` draws the figure named by ``finding.evidence.plot``.

Every figure highlights the finding's period [start_utc, end_utc), draws the reference it was
compared with (``evidence.reference`` / ``parameters``), is titled with the finding's kind, the
series and the period, and says in its footer which detector and data produced it. Local time
(Europe/Paris) on every axis; French by default, English with ``lang="en"``.

The input ``frame`` is ``MeterSeries.frame()`` (hourly, UTC index: energy_kwh, temp_air_c,
occupied, day_type, local_date ...), or for ``zone_temperature`` a zone frame (temp_zone_c,
occupied, optional heating_on / cooling_on).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no screen on servers; must precede pyplot
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from sobriete.analytics.diagnostics.settings import (  # noqa: E402
    ContractSettings,
    HeatingSeasonSettings,
    ZoneSettings,
)
from sobriete.domain.findings import Finding, FindingKind  # noqa: E402
from sobriete.reporting._plot_common import (  # noqa: E402
    C_ACTUAL,
    C_BASELINE,
    C_CHANGE,
    C_EVENT,
    C_OTHER,
    C_OVER,
    C_SAVINGS,
    C_WORKDAY,
    C_WORKDAY_LINE,
    date_axis,
    day_label,
    footer,
    kwh_axis,
    legend_below,
    num,
    save_png,
    suptitle,
    to_local,
    to_local_ts,
)
from sobriete.reporting.i18n import t  # noqa: E402

__all__ = ["PLOTS", "finding_png"]

SIZE = (9.0, 4.4)  # inches at 100 dpi: readable in a report column, ~50-100 kB
SIZE_TWO = (9.0, 6.0)
MIN_DAY_HOURS = 20  # a day with fewer hourly readings is left out of daily figures
C_PERIOD = C_EVENT  # the flagged period, the same orange as M&V events
C_OCCUPIED = "0.86"
DAY_GROUPS = {  # day_type values (analytics.calendar.DayType) -> colour group
    "workday": "dg_workday", "weekend": "dg_weekend", "closed_weekday": "dg_weekend",
    "public_holiday": "dg_holidays", "school_holiday": "dg_holidays", "closure": "dg_closure",
}
GROUP_COLOURS = {"dg_workday": C_WORKDAY, "dg_weekend": C_OTHER, "dg_holidays": C_SAVINGS,
                 "dg_closure": C_CHANGE}
ZONE_LIMITS = ("occupied_max_c", "unoccupied_max_c", "closed_max_c", "cooling_min_c")


@dataclass(frozen=True)
class _Ctx:
    finding: Finding
    frame: pd.DataFrame
    lang: str
    expected: pd.Series | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def start(self) -> pd.Timestamp:  # local wall-clock time, naive
        return to_local_ts(self.finding.start_utc)

    @property
    def end(self) -> pd.Timestamp:
        return to_local_ts(self.finding.end_utc)

    def in_period(self, index: pd.Index) -> np.ndarray:
        idx = pd.DatetimeIndex(index)
        lo, hi = pd.Timestamp(self.finding.start_utc), pd.Timestamp(self.finding.end_utc)
        if idx.tz is None:  # naive local dates or times
            lo, hi = self.start, self.end
        return np.asarray((idx >= lo) & (idx < hi))

    def value(self, key: str, default: Any = None) -> Any:
        """``extra`` first (the caller knows better), then the evidence's reference, measured
        values and rule parameters."""
        ev = self.finding.evidence
        for d in (self.extra, ev.reference, ev.values, ev.parameters):
            if d.get(key) is not None:
                return d[key]
        return default

    def tr(self, key: str) -> str:
        return t(key, self.lang)


# ---- shared pieces -------------------------------------------------------------------------------

def _new(ctx: _Ctx, two: bool = False) -> tuple[plt.Figure, Any]:
    if two:
        return plt.subplots(2, 1, figsize=SIZE_TWO, sharex=True, layout="constrained",
                            gridspec_kw={"height_ratios": [3, 2]})
    return plt.subplots(figsize=SIZE, layout="constrained")


def _finish(fig: plt.Figure, ctx: _Ctx, note: str = "") -> bytes:
    f, ev = ctx.finding, ctx.finding.evidence
    # The end is exclusive: the title names the last day included.
    suptitle(fig, ctx.tr(f"kind_{f.kind.value}"), ev.series_key, ctx.start,
             ctx.end - pd.Timedelta(seconds=1), ctx.lang)
    text = ctx.tr("dg_source").format(
        d=f.detector, v=f.detector_version, n=ev.n_points,
        a=day_label(to_local_ts(ev.data_start_utc), ctx.lang),
        b=day_label(to_local_ts(ev.data_end_utc), ctx.lang))
    footer(fig, " · ".join(x for x in (text, note, "sobriete") if x))
    return save_png(fig)


def _no_data(ctx: _Ctx) -> bytes:
    fig, ax = _new(ctx)
    ax.text(0.5, 0.5, ctx.tr("dg_no_data"), ha="center", va="center", fontsize=13,
            color="0.4", transform=ax.transAxes)
    ax.set_axis_off()
    return _finish(fig, ctx)


def _shade_period(ax: plt.Axes, ctx: _Ctx, label: bool = True) -> None:
    ax.axvspan(ctx.start, ctx.end, color=C_PERIOD, alpha=0.18, lw=0, zorder=0,
               label=ctx.tr("dg_in_period") if label else None)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[i, j) index ranges where ``mask`` is true."""
    m = np.concatenate([[0], np.asarray(mask, dtype=np.int8), [0]])
    edges = np.flatnonzero(np.diff(m))
    return list(zip(edges[::2], edges[1::2], strict=True))


def _ref_lines(ax: plt.Axes, ctx: _Ctx, suffixes: tuple[str, ...]) -> None:
    """Reference values in the axis' unit (told by their key's suffix) as dashed lines."""
    for key, v in ctx.finding.evidence.reference.items():
        if isinstance(v, int | float) and not isinstance(v, bool) and key.endswith(suffixes):
            name = key.removesuffix(next(s for s in suffixes if key.endswith(s)))
            ax.axhline(v, color=C_BASELINE, lw=1.2, ls="--",
                       label=f"{ctx.tr('dg_reference')} : {name.replace('_', ' ')}")


def _step_hours(index: pd.Index) -> float:
    """Metering step in hours (kWh per row / step = mean kW); hourly when it cannot be told."""
    if len(index) < 2:
        return 1.0
    step = pd.Series(index).diff().median() / pd.Timedelta(hours=1)
    return float(step) if step > 0 else 1.0


def _num_ticks(axis: Any, lang: str) -> None:
    """Tick labels with the language's decimal mark (2,5 in French), no useless ",0"."""
    axis.set_major_formatter(FuncFormatter(
        lambda v, _pos: num(v, lang, 0 if float(v).is_integer() else 1)))


def _daily(ctx: _Ctx) -> pd.DataFrame:
    """Per local day: kWh (NaN under MIN_DAY_HOURS readings), mean outdoor temperature, day
    type, whether the day is in the finding's period."""
    f = ctx.frame
    f = f.assign(flag=ctx.in_period(f.index))
    g = f.groupby("local_date")
    d = pd.DataFrame({"kwh": g["energy_kwh"].sum(min_count=1),
                      "n": g["energy_kwh"].count(),
                      "temp": g["temp_air_c"].mean() if "temp_air_c" in f else np.nan,
                      "day_type": g["day_type"].first() if "day_type" in f else "workday",
                      "flag": g["flag"].any()})
    d.loc[d["n"] < MIN_DAY_HOURS, "kwh"] = np.nan
    d.index = pd.DatetimeIndex(d.index)
    return d


def _legend(ax: plt.Axes, extra: list[tuple[Any, str]] = ()) -> None:
    handles, labels = ax.get_legend_handles_labels()
    for h, lab in extra:
        handles.append(h)
        labels.append(lab)
    legend_below(ax, handles, labels, min(len(handles), 3))


# ---- figures -------------------------------------------------------------------------------------

def weekly_profile(ctx: _Ctx) -> bytes:
    """Mean power by hour of the week over the flagged period (and outside it, grey), occupied
    hours shaded, the measured closed-hours level and a well-run building's."""
    f = ctx.frame
    if f.empty or not f["energy_kwh"].notna().any():
        return _no_data(ctx)
    local = to_local(f.index)
    how = np.asarray(local.day_of_week * 24 + local.hour)
    kw = f["energy_kwh"].to_numpy(float) / _step_hours(f.index)
    inside = ctx.in_period(f.index)
    occ = f["occupied"].to_numpy(bool) if "occupied" in f else np.zeros(len(f), bool)

    def profile(mask: np.ndarray) -> pd.Series:
        return pd.Series(kw[mask]).groupby(how[mask]).mean().reindex(range(168))

    fig, ax = _new(ctx)
    occ_share = pd.Series(occ[inside].astype(float)).groupby(how[inside]).mean().reindex(
        range(168)).fillna(0).to_numpy()
    for i, j in _runs(occ_share > 0.5):
        ax.axvspan(i, j, color=C_OCCUPIED, lw=0, zorder=0)
    if (~inside).any() and np.isfinite(kw[~inside]).any():
        ax.step(range(168), profile(~inside), where="post", color="0.55", lw=1,
                label=ctx.tr("dg_outside"))
    ax.step(range(168), profile(inside), where="post", color=C_OVER, lw=1.6,
            label=ctx.tr("dg_in_period"))
    # The detector's own levels (night_power_kw, occupied_power_kw) when it states them, so
    # the lines are the numbers it compared; else the means drawn from the frame.
    closed = ctx.value("night_power_kw",
                       np.nanmean(kw[inside & ~occ]) if (inside & ~occ).any() else np.nan)
    if np.isfinite(closed):
        ax.axhline(closed, color=C_ACTUAL, lw=1.2, ls=":", label=ctx.tr("dg_closed_level"))
    ratio = ctx.value("typical_closed_ratio")
    opened = ctx.value("occupied_power_kw",
                       np.nanmean(kw[inside & occ]) if (inside & occ).any() else np.nan)
    if isinstance(ratio, int | float) and np.isfinite(opened):
        ax.axhline(ratio * opened, color=C_SAVINGS, lw=1.4, ls="--",
                   label=f"{ctx.tr('dg_typical_level')} ({num(100 * ratio, ctx.lang)} %)")
    _ref_lines(ax, ctx, ("_kw",))
    ax.set_xlim(0, 168)
    ax.set_xticks(range(0, 169, 24), [""] * 8)
    ax.set_xticks(range(12, 168, 24), ctx.tr("dg_days").split("|"), minor=True)
    ax.tick_params(axis="x", which="minor", length=0)
    ax.set_ylim(bottom=0)
    ax.set_ylabel(ctx.tr("dg_power_kw"))
    ax.set_xlabel(ctx.tr("dg_hour_of_week"))
    kwh_axis(ax, ctx.lang)
    ax.grid(alpha=0.3)
    _legend(ax, [(Patch(color=C_OCCUPIED), ctx.tr("dg_occupied"))])
    return _finish(fig, ctx)


def daily_vs_temperature(ctx: _Ctx) -> bytes:
    """Daily kWh against daily mean outdoor temperature, coloured by kind of day, the flagged
    days ringed (against the date when there is no weather)."""
    d = _daily(ctx).dropna(subset=["kwh"])
    if d.empty:
        return _no_data(ctx)
    by_temp = d["temp"].notna().any()
    x = d["temp"] if by_temp else pd.Series(d.index, index=d.index)
    fig, ax = _new(ctx)
    groups = d["day_type"].map(DAY_GROUPS).fillna("dg_weekend")
    for g, colour in GROUP_COLOURS.items():
        m = (groups == g).to_numpy()
        if m.any():
            ax.scatter(x[m], d["kwh"][m], s=14, color=colour, alpha=0.75, lw=0,
                       label=ctx.tr(g))
    fl = d["flag"].to_numpy(bool)
    if fl.any():
        ax.scatter(x[fl], d["kwh"][fl], s=46, facecolors="none", edgecolors=C_OVER, lw=1.4,
                   label=f"{ctx.tr('dg_flagged_days')} ({int(fl.sum())})")
    _ref_lines(ax, ctx, ("_kwh_per_day", "_kwh_day", "_kwh_d"))
    # expected_kwh / hot_water_base_kwh are totals over the flagged days: drawn per day.
    expected, days = ctx.value("expected_kwh", ctx.value("hot_water_base_kwh")), ctx.value("days")
    if isinstance(expected, int | float) and isinstance(days, int | float) and days > 0:
        ax.axhline(expected / days, color=C_BASELINE, lw=1.3, ls="--",
                   label=ctx.tr("dg_expected_day"))
    ax.set_ylabel(ctx.tr("dg_daily_kwh"))
    if by_temp:
        ax.set_xlabel(ctx.tr("dg_temp_x"))
        _num_ticks(ax.xaxis, ctx.lang)
    else:
        date_axis(ax, ctx.lang)
    ax.set_ylim(bottom=0)
    kwh_axis(ax, ctx.lang)
    ax.grid(alpha=0.3)
    _legend(ax)
    return _finish(fig, ctx, "" if by_temp else ctx.tr("dg_temp_x") + " : —")


def _season_spans(lo: pd.Timestamp, hi: pd.Timestamp, start_mmdd: str,
                  end_mmdd: str) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Conventional heating seasons overlapping [lo, hi]; a season spans the new year when it
    starts later in the year than it ends (October to May)."""
    out = []
    for y in range(lo.year - 1, hi.year + 1):
        a = pd.Timestamp(f"{y}-{start_mmdd}")
        b = pd.Timestamp(f"{y + 1 if start_mmdd > end_mmdd else y}-{end_mmdd}")
        if b >= lo and a <= hi:
            out.append((a, b + pd.Timedelta(days=1)))
    return out


def heating_season(ctx: _Ctx) -> bytes:
    """Daily kWh over about a year around the finding, the conventional heating season and its
    tolerance shaded, the flagged days marked, outdoor temperature on the right axis."""
    d = _daily(ctx)
    if not d["kwh"].notna().any():
        return _no_data(ctx)
    mid = ctx.start + (ctx.end - ctx.start) / 2
    d = d[(d.index >= mid - pd.Timedelta(days=200)) & (d.index <= mid + pd.Timedelta(days=200))]
    default = HeatingSeasonSettings()
    season = str(ctx.value("season", "")).split("/")
    s_mmdd, e_mmdd = season if len(season) == 2 else (
        str(ctx.value("season_start_mmdd", default.season_start_mmdd)),
        str(ctx.value("season_end_mmdd", default.season_end_mmdd)))
    tol = int(ctx.value("season_tolerance_days", default.season_tolerance_days))
    fig, ax = _new(ctx)
    lo, hi = d.index.min(), d.index.max() + pd.Timedelta(days=1)
    for i, (a, b) in enumerate(_season_spans(lo, hi, s_mmdd, e_mmdd)):
        ax.axvspan(a, b, color=C_WORKDAY, alpha=0.15, lw=0, zorder=0,
                   label=ctx.tr("dg_season") if i == 0 else None)
        for edge in (a, b):
            ax.axvspan(edge - pd.Timedelta(days=tol), edge + pd.Timedelta(days=tol),
                       facecolor="none", edgecolor=C_WORKDAY_LINE, alpha=0.35, lw=0,
                       hatch="///", zorder=0,
                       label=ctx.tr("dg_tolerance").format(n=tol)
                       if i == 0 and edge is a else None)
    ax.plot(d.index, d["kwh"], color=C_ACTUAL, lw=0.9, label=ctx.tr("dg_actual"))
    fl = d["flag"].to_numpy(bool) & d["kwh"].notna().to_numpy()
    if fl.any():
        ax.plot(d.index[fl], d["kwh"][fl], "o", ms=4, color=C_OVER,
                label=f"{ctx.tr('dg_flagged_days')} ({int(fl.sum())})")
    ax.set_xlim(lo, hi)
    ax.set_ylim(bottom=0)
    ax.set_ylabel(ctx.tr("dg_daily_kwh"))
    kwh_axis(ax, ctx.lang)
    ax.grid(alpha=0.3)
    extra = []
    if d["temp"].notna().any():
        ax2 = ax.twinx()
        line = ax2.plot(d.index, d["temp"], color="0.6", lw=0.8)[0]
        ax2.set_ylabel(ctx.tr("dg_temp_day"), color="0.45")
        _num_ticks(ax2.yaxis, ctx.lang)
        extra.append((line, ctx.tr("dg_temp_day")))
    date_axis(ax, ctx.lang)
    _legend(ax, extra)
    return _finish(fig, ctx)


def residual_cusum(ctx: _Ctx) -> bytes:
    """Daily metered vs expected consumption, and the cumulative residual (CUSUM) below: a
    change of slope is a lasting change; the flagged period shaded."""
    d = _daily(ctx)
    if not d["kwh"].notna().any():
        return _no_data(ctx)
    if ctx.expected is None:
        fig, ax = _new(ctx)
        axes = [ax]
    else:
        fig, axes = _new(ctx, two=True)
        ax = axes[0]
    ax.plot(d.index, d["kwh"], color=C_ACTUAL, lw=0.9, label=ctx.tr("dg_actual"))
    note = ctx.tr("dg_no_expected")
    if ctx.expected is not None:
        note = ""
        exp = ctx.expected.copy()
        exp.index = to_local(exp.index).normalize()
        exp = exp.groupby(level=0).sum(min_count=1).reindex(d.index)
        ax.plot(d.index, exp, color=C_BASELINE, lw=1.1, label=ctx.tr("dg_expected"))
        resid = (d["kwh"] - exp).dropna()
        cusum = resid.cumsum()
        axes[1].fill_between(cusum.index, cusum, 0, where=cusum >= 0, color=C_OVER, alpha=0.25,
                             lw=0, interpolate=True)
        axes[1].fill_between(cusum.index, cusum, 0, where=cusum < 0, color=C_SAVINGS,
                             alpha=0.25, lw=0, interpolate=True)
        axes[1].plot(cusum.index, cusum, color=C_ACTUAL, lw=1.2)
        axes[1].axhline(0, color="0.3", lw=0.8)
        axes[1].set_ylabel(ctx.tr("dg_cusum"), fontsize=9)
    for i, a in enumerate(axes):
        _shade_period(a, ctx, label=i == 0)
        kwh_axis(a, ctx.lang)
        a.grid(alpha=0.3)
    ax.set_ylabel(ctx.tr("dg_daily_kwh"))
    ax.set_xlim(d.index.min(), d.index.max() + pd.Timedelta(days=1))
    date_axis(axes[-1], ctx.lang)
    handles, labels = ax.get_legend_handles_labels()
    legend_below(axes[-1], handles, labels, len(handles))
    return _finish(fig, ctx, note)


def _window(ctx: _Ctx, index: pd.Index, margin: pd.Timedelta) -> np.ndarray:
    lo = pd.Timestamp(ctx.finding.start_utc) - margin
    hi = pd.Timestamp(ctx.finding.end_utc) + margin
    return np.asarray((index >= lo) & (index < hi))


def peak_power(ctx: _Ctx) -> bytes:
    """Power over the flagged period (and a few days around it) against the subscribed power,
    exceedances marked. ``extra["power_kw"]`` (aware index, metering step) is used when given:
    hourly means hide 10-minute peaks."""
    power = ctx.extra.get("power_kw")
    note = ""
    if power is None:
        power = ctx.frame["energy_kwh"] / _step_hours(ctx.frame.index)
        note = ctx.tr("dg_hourly_mean")
    power = power[_window(ctx, power.index, pd.Timedelta(days=3))].dropna()
    if power.empty:
        return _no_data(ctx)
    subscribed = ctx.value("limit_kw", ctx.value("subscribed_kw"))
    kva = ctx.value("subscribed_power_kva", ctx.value("subscribed_kva"))
    if subscribed is None and kva is not None:
        subscribed = float(kva) * float(ctx.value("power_factor",
                                                  ContractSettings().power_factor))
    x = to_local(power.index)
    fig, ax = _new(ctx)
    _shade_period(ax, ctx)
    ax.plot(x, power.to_numpy(), color=C_ACTUAL, lw=0.8, label=ctx.tr("dg_power_kw"))
    if subscribed is not None:
        ax.axhline(subscribed, color=C_BASELINE, lw=1.4, ls="--",
                   label=f"{ctx.tr('dg_subscribed')} ("
                   + (f"{num(float(kva), ctx.lang)} kVA ≈ " if kva is not None else "")
                   + f"{num(float(subscribed), ctx.lang)} kW)")
        over = power.to_numpy() > subscribed
        if over.any():
            ax.plot(x[over], power.to_numpy()[over], "o", ms=4, color=C_OVER,
                    label=f"{ctx.tr('dg_exceedance')} ({int(over.sum())})")
    ax.set_ylim(bottom=0)
    ax.set_ylabel(ctx.tr("dg_power_kw"))
    kwh_axis(ax, ctx.lang)
    ax.grid(alpha=0.3)
    date_axis(ax, ctx.lang)
    _legend(ax)
    return _finish(fig, ctx, note)


def _zone_limits(ctx: _Ctx) -> dict[str, float]:
    """label -> °C: the detector's ``limit_c`` and ``rule``; else any of the four limits named
    in the evidence; else the regulation's four, so the figure still reads on its own."""
    if ctx.value("limit_c") is not None:
        rule = ctx.value("rule")
        label = ctx.tr("dg_limit") + (f" ({rule})" if rule else "")
        return {label: float(ctx.value("limit_c"))}
    found = {k: ctx.value(k) for k in ZONE_LIMITS if ctx.value(k) is not None}
    limits = found or {k: getattr(ZoneSettings(), k) for k in ZONE_LIMITS}
    return {ctx.tr("dg_" + k): float(v) for k, v in limits.items()}


def zone_temperature(ctx: _Ctx) -> bytes:
    """Zone temperature around the flagged period, occupied periods shaded, the legal limits
    (code de l'énergie R.241-26 to R.241-30) as lines, heating/cooling running as strips."""
    f = ctx.frame
    f = f[_window(ctx, f.index, pd.Timedelta(days=2))]
    if f.empty or not f["temp_zone_c"].notna().any():
        return _no_data(ctx)
    x = to_local(f.index)
    step = (x[1:] - x[:-1]).median() if len(x) > 1 else pd.Timedelta(hours=1)
    fig, ax = _new(ctx)
    if "occupied" in f:
        for i, j in _runs(f["occupied"].fillna(False).to_numpy(bool)):
            ax.axvspan(x[i], x[j - 1] + step, color=C_OCCUPIED, lw=0, zorder=0)
    _shade_period(ax, ctx)
    ax.plot(x, f["temp_zone_c"].to_numpy(float), color=C_ACTUAL, lw=1.0,
            label=ctx.tr("dg_zone_temp"))
    limits = _zone_limits(ctx)
    for (label, v), ls in zip(limits.items(), ("--", "-.", ":", (0, (5, 1, 1, 1))),
                              strict=False):
        ax.axhline(v, color=C_OVER, lw=1.2, ls=ls, label=f"{label} : {num(v, ctx.lang)} °C")
    tol = ctx.value("tolerance_k")
    if ctx.value("limit_c") is not None and isinstance(tol, int | float) and tol > 0:
        v = float(ctx.value("limit_c")) + (-tol if ctx.finding.kind is FindingKind.COOLING_BELOW_26
                                           else tol)
        ax.axhline(v, color=C_OVER, lw=0.8, ls=":", alpha=0.7,
                   label=f"{ctx.tr('dg_tolerance_k')} : {num(v, ctx.lang, 1)} °C")
    temps = np.concatenate([f["temp_zone_c"].dropna().to_numpy(float),
                            np.asarray(list(limits.values()), float)])
    lo, hi = float(temps.min()), float(temps.max())
    pad = 0.06 * (hi - lo or 1.0)
    # 0-1 states or shares of the step (ZoneSeries): any share counts as running.
    running = {c: pd.to_numeric(f[c], errors="coerce").fillna(0).to_numpy(float) > 0
               for c in ("heating_on", "cooling_on") if c in f}
    strips = [c for c, on in running.items() if on.any()]
    # Room under the lowest curve for the on/off strips (bottom 8 % of the axes).
    ax.set_ylim(lo - pad - (0.12 * (hi - lo or 1.0) if strips else 0), hi + pad)
    for col, colour, y0 in (("heating_on", C_OVER, 0.0), ("cooling_on", C_BASELINE, 0.04)):
        if col in strips:
            ax.fill_between(x, y0, y0 + 0.035, where=running[col],
                            step="post", color=colour, alpha=0.7, lw=0,
                            transform=ax.get_xaxis_transform(), label=ctx.tr(f"dg_{col}"))
    ax.set_ylabel(ctx.tr("dg_zone_temp"))
    _num_ticks(ax.yaxis, ctx.lang)
    ax.grid(alpha=0.3)
    date_axis(ax, ctx.lang)
    _legend(ax, [(Patch(color=C_OCCUPIED), ctx.tr("dg_occupied"))])
    return _finish(fig, ctx)


PLOTS: dict[str, Callable[[_Ctx], bytes]] = {
    "weekly_profile": weekly_profile,
    "daily_vs_temperature": daily_vs_temperature,
    "heating_season": heating_season,
    "residual_cusum": residual_cusum,
    "peak_power": peak_power,
    "zone_temperature": zone_temperature,
}


def finding_png(finding: Finding, frame: pd.DataFrame, *, lang: str = "fr",
                expected_daily_kwh: pd.Series | None = None,
                extra: dict | None = None) -> bytes:
    """PNG of the figure named by ``finding.evidence.plot``.

    ``frame``: ``MeterSeries.frame()`` of the finding's series (a zone frame for
    ``zone_temperature``); it may extend beyond the finding's period, which gives the context.
    ``expected_daily_kwh``: the baseline's daily prediction (local dates) for
    ``residual_cusum``. ``extra``: values the evidence lacks, read before it
    (``subscribed_kw``, ``typical_closed_ratio`` ...), and ``power_kw``, the power at the
    metering step for ``peak_power``.
    """
    name = finding.evidence.plot
    if name not in PLOTS:
        raise ValueError(f"no figure named {name!r} for finding {finding.kind.value}; "
                         f"known: {', '.join(PLOTS)}")
    ctx = _Ctx(finding, frame, lang, expected_daily_kwh, dict(extra or {}))
    return PLOTS[name](ctx)
