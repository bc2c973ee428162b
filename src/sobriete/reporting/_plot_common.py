"""What every figure of the reporting layer shares: local time, French numbers and month names,
the colour palette, titles, footers and PNG output (``mv_plots`` and ``diagnostic_plots``).

Figures are drawn on local wall-clock time: naive indexes are used as they are, aware ones are
converted to ``LOCAL_TZ`` first.
"""

from __future__ import annotations

import io
import math
import re
import textwrap
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no screen on servers; must precede pyplot
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

LOCAL_TZ = "Europe/Paris"
DPI = 100

# Colours: colour-blind-safe pairs (Okabe-Ito), metered data dark, the baseline blue.
C_ACTUAL = "#222222"
C_BASELINE = "#0072B2"
C_SAVINGS = "#009E73"
C_EVENT = "#E69F00"
C_OVER = "#D55E00"
C_CHANGE = "#6a3d9a"
C_WORKDAY, C_WORKDAY_LINE = "#56B4E9", "#0b4f7c"
C_OTHER, C_OTHER_LINE = "#E69F00", "#8a4b00"

MONTHS_FR = {"Jan": "janv.", "Feb": "févr.", "Mar": "mars", "Apr": "avr.", "May": "mai",
             "Jun": "juin", "Jul": "juil.", "Aug": "août", "Sep": "sept.", "Oct": "oct.",
             "Nov": "nov.", "Dec": "déc."}
_MONTH_RE = re.compile(r"\b(" + "|".join(MONTHS_FR) + r")\b")


def num(x: float, lang: str, decimals: int = 0) -> str:
    if x is None or not math.isfinite(x):
        return "—"
    s = f"{x:,.{decimals}f}"
    if lang != "en":  # 12 345,6
        s = s.replace(",", "\u00a0").replace(".", ",")
    return s.replace("-", "−")


def day_label(ts: Any, lang: str) -> str:
    ts = pd.Timestamp(ts)
    if lang == "en":
        return f"{ts.day} {ts.strftime('%b')} {ts.year}"
    return f"{ts.day} {MONTHS_FR[ts.strftime('%b')]} {ts.year}"


def suptitle(fig: plt.Figure, what: str, meter: str, start: Any, end: Any, lang: str) -> None:
    head = f"{meter} — {what}" if meter else what
    if start is not None and end is not None and not pd.isna(start) and not pd.isna(end):
        head += f"\n{day_label(start, lang)} – {day_label(end, lang)}"
    fig.suptitle(head, fontsize=12, fontweight="bold")


def footer(fig: plt.Figure, text: str) -> None:
    """Small grey text under the figure saying where its numbers come from."""
    width = int(fig.get_figwidth() * 19)  # characters of 7.5 pt text across the figure
    lines = textwrap.wrap(text, width)
    # Drawn under the layout's area (constrained layout would not keep it off the legend).
    h = (len(lines) * 10 + 6) / (fig.get_figheight() * 72)
    fig.get_layout_engine().set(rect=(0, h, 1, 1 - h))
    fig.text(0.01, 0.004, "\n".join(lines), ha="left", va="bottom", fontsize=7.5, color="0.35")


class DateFormatter(mdates.ConciseDateFormatter):
    """ConciseDateFormatter with French month names (strftime would print English ones)."""

    def __init__(self, locator: mdates.DateLocator, lang: str):
        # No offset text (the title states the period): it would sit on the legend below.
        super().__init__(locator, show_offset=False)
        self.lang = lang

    def _tr(self, s: str) -> str:
        return s if self.lang == "en" else _MONTH_RE.sub(lambda m: MONTHS_FR[m.group(1)], s)

    def format_ticks(self, values):  # noqa: ANN001, ANN201
        return [self._tr(s) for s in super().format_ticks(values)]

    def get_offset(self) -> str:
        return self._tr(super().get_offset())

    def __call__(self, x, pos=None):  # noqa: ANN001, ANN204
        return self._tr(super().__call__(x, pos))


def date_axis(ax: plt.Axes, lang: str) -> None:
    locator = mdates.AutoDateLocator(minticks=4, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(DateFormatter(locator, lang))


def kwh_axis(ax: plt.Axes, lang: str, scale: float = 1.0) -> None:
    def fmt(v: float, _pos: Any) -> str:
        lo, hi = ax.get_ylim()
        return num(v / scale, lang, 0 if abs(hi - lo) / scale >= 8 else 1)

    ax.yaxis.set_major_formatter(FuncFormatter(fmt))


def legend_below(ax: plt.Axes, handles: list, labels: list[str], ncols: int) -> Any:
    """A legend under the axes, their tick labels and x label, never on the data;
    constrained layout makes room for it."""
    if not handles:
        return None
    pad = 4.2 if ax.get_xlabel() else 2.6  # in font sizes, below the axes' bottom edge
    return ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0),
                     borderaxespad=pad, ncols=max(ncols, 1), fontsize=8.5, frameon=False)


def save_png(fig: plt.Figure, path: str | Path | None = None) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    plt.close(fig)
    png = buf.getvalue()
    if path is not None:
        Path(path).write_bytes(png)
    return png


def to_local(index: pd.Index, tz: str = LOCAL_TZ) -> pd.DatetimeIndex:
    idx = pd.DatetimeIndex(index)
    idx = idx.tz_convert(tz).tz_localize(None) if idx.tz is not None else idx
    return idx.as_unit("ns")  # asi8 and Timedelta.value downstream are nanoseconds


def to_local_ts(ts: Any, tz: str = LOCAL_TZ) -> pd.Timestamp:
    ts = pd.Timestamp(ts)
    ts = ts.tz_convert(tz).tz_localize(None) if ts.tzinfo is not None else ts
    return ts.as_unit("ns")
