"""Per-building summary of what the store holds: coverage, consumption per m², a load curve.

Pure: it receives the estate, the readings and the quality issues, and returns figures and
tables; the services layer decides where they come from and where they go.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field

import matplotlib

matplotlib.use("Agg")  # no screen on servers; must precede pyplot
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from sobriete.domain import columns as C  # noqa: E402
from sobriete.domain.portfolio import Building, Meter  # noqa: E402
from sobriete.domain.quality import QualityIssue  # noqa: E402

LOCAL_TZ = "Europe/Paris"


@dataclass
class MeterSummary:
    code: str
    kind: str
    first_utc: pd.Timestamp | None
    last_utc: pd.Timestamp | None
    n_readings: int
    coverage_pct: float | None  # readings present / intervals expected at the nominal step
    total_kwh: float
    last_12m_kwh: float | None  # the 365 days ending with the last reading, when covered
    kwh_per_m2_year: float | None
    issues_by_kind: dict[str, int] = field(default_factory=dict)


@dataclass
class BuildingSummary:
    code: str
    name: str
    commune: str
    activity: str
    floor_area_m2: float | None
    meters: list[MeterSummary]
    plot_png: bytes | None = None
    completeness_png: bytes | None = None


def _step_s(frame: pd.DataFrame, meter: Meter) -> int | None:
    if meter.step_s:
        return meter.step_s
    d = frame[C.DURATION_S]
    return int(d.mode().iloc[0]) if len(d) and d.mode().iloc[0] > 0 else None


def summarise_meter(
    meter: Meter, frame: pd.DataFrame, area_m2: float | None, issues: list[QualityIssue]
) -> MeterSummary:
    kinds: dict[str, int] = {}
    for i in issues:
        kinds[i.kind.value] = kinds.get(i.kind.value, 0) + 1
    if frame.empty:
        return MeterSummary(meter.code, meter.kind.value, None, None, 0, None, 0.0, None, None,
                            kinds)
    start = frame[C.START_UTC]
    first, last = start.min(), start.max()
    step = _step_s(frame, meter)
    coverage = None
    if step:
        expected = int((last - first).total_seconds() // step) + 1
        coverage = 100.0 * len(frame) / expected
    end = last + pd.Timedelta(seconds=int(frame[C.DURATION_S].iloc[-1]))
    year_kwh = None
    # Only a record spanning a whole year gives a yearly figure; partial years would mislead.
    if end - first >= pd.Timedelta(days=365):
        year_kwh = float(frame.loc[start >= end - pd.Timedelta(days=365), C.VALUE].sum())
    per_m2 = year_kwh / area_m2 if year_kwh is not None and area_m2 else None
    return MeterSummary(meter.code, meter.kind.value, first, last, len(frame), coverage,
                        float(frame[C.VALUE].sum()), year_kwh, per_m2, kinds)


def load_curve_png(building: Building, frames: dict[str, pd.DataFrame], lang: str = "fr") -> bytes:
    """Daily energy over the whole record (top) and the last two weeks' load curve (bottom)."""
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 5.5), constrained_layout=True)
    for code, f in frames.items():
        if f.empty:
            continue
        s = f.set_index(C.START_UTC)[C.VALUE].tz_convert(LOCAL_TZ)
        top.plot(s.resample("D").sum(min_count=1), lw=0.7, label=code)
        recent = s[s.index >= s.index.max() - pd.Timedelta(days=14)]
        step_h = max(f[C.DURATION_S].median(), 1) / 3600
        bottom.plot(recent / step_h, lw=0.8, label=code)
    fr = lang == "fr"
    top.set_title(f"{building.name} — " + ("énergie par jour" if fr else "energy per day"))
    top.set_ylabel("kWh/j" if fr else "kWh/day")
    bottom.set_title("Courbe de charge, 14 derniers jours" if fr else "Load curve, last 14 days")
    bottom.set_ylabel("kW" + (" (moyenne)" if fr else " (mean)"))
    for ax in (top, bottom):
        # Ticks and labels in local time: matplotlib would otherwise place and print them in
        # UTC (midnight in Paris shown as 22:00 or 23:00).
        locator = mdates.AutoDateLocator(tz=LOCAL_TZ)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz=LOCAL_TZ))
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend(loc="upper right", fontsize=8)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return buf.getvalue()


def png_data_uri(png: bytes | None) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode() if png else ""


def completeness_png(monthly: pd.DataFrame, lang: str = "fr") -> bytes | None:
    """Meters x months heat map of the share of valid readings: where data is missing at a
    glance. ``monthly`` is ``analytics.quality.completeness(..., freq="MS")``."""
    if monthly.empty:
        return None
    grid = monthly.pivot_table(index="series_key", columns="period_start",
                               values="completeness", aggfunc="mean")
    fig, ax = plt.subplots(figsize=(10, 0.45 * len(grid) + 1.2), constrained_layout=True)
    im = ax.imshow(grid.to_numpy() * 100, aspect="auto", cmap="RdYlGn", vmin=0, vmax=100,
                   interpolation="nearest")
    ax.set_yticks(range(len(grid)), grid.index)
    months = pd.DatetimeIndex(grid.columns)
    ticks = [i for i, m in enumerate(months) if m.month == 1] or [0]
    ax.set_xticks(ticks, [months[i].strftime("%Y") for i in ticks])
    fr = lang == "fr"
    ax.set_title("Complétude mensuelle des relevés valides (%)" if fr
                 else "Monthly completeness of valid readings (%)")
    fig.colorbar(im, ax=ax, fraction=0.03)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return buf.getvalue()
