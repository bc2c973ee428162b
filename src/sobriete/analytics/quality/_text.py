"""Dates and durations worded for an energy manager, in French and English."""

from __future__ import annotations

import pandas as pd


def _is_midnight(ts: pd.Timestamp) -> bool:
    return ts.hour == 0 and ts.minute == 0 and ts.second == 0


def period_fr(start: pd.Timestamp, end: pd.Timestamp, tz: str) -> str:
    """"du 02/03/2024 au 05/03/2024", with hours only when the period is not whole days."""
    s, e = start.tz_convert(tz), end.tz_convert(tz)
    if _is_midnight(s) and _is_midnight(e):
        return f"du {s:%d/%m/%Y} au {e:%d/%m/%Y}"
    return f"du {s:%d/%m/%Y %H:%M} au {e:%d/%m/%Y %H:%M}"


def period_en(start: pd.Timestamp, end: pd.Timestamp, tz: str) -> str:
    s, e = start.tz_convert(tz), end.tz_convert(tz)
    if _is_midnight(s) and _is_midnight(e):
        return f"from {s:%Y-%m-%d} to {e:%Y-%m-%d}"
    return f"from {s:%Y-%m-%d %H:%M} to {e:%Y-%m-%d %H:%M}"


def at_fr(ts: pd.Timestamp, tz: str) -> str:
    return f"{ts.tz_convert(tz):%d/%m/%Y %H:%M}"


def at_en(ts: pd.Timestamp, tz: str) -> str:
    return f"{ts.tz_convert(tz):%Y-%m-%d %H:%M}"


def _parts(seconds: float) -> tuple[int, int, int]:
    total_min = int(round(seconds / 60))
    days, rest = divmod(total_min, 1440)
    hours, minutes = divmod(rest, 60)
    return days, hours, minutes


def duration_fr(seconds: float) -> str:
    """"3 jours", "5 h", "1 jour 4 h", "30 min"."""
    days, hours, minutes = _parts(seconds)
    out = []
    if days:
        out.append(f"{days} jour{'s' if days > 1 else ''}")
    if hours:
        out.append(f"{hours} h")
    if minutes or not out:
        out.append(f"{minutes} min")
    return " ".join(out)


def duration_en(seconds: float) -> str:
    days, hours, minutes = _parts(seconds)
    out = []
    if days:
        out.append(f"{days} day{'s' if days > 1 else ''}")
    if hours:
        out.append(f"{hours} h")
    if minutes or not out:
        out.append(f"{minutes} min")
    return " ".join(out)


def num(x: float) -> str:
    """A value short enough for a sentence, without scientific notation for usual readings."""
    return f"{x:.4g}"
