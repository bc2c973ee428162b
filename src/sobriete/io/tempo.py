"""EDF Tempo calendar -> one row per Europe/Paris day: ``day`` (datetime.date), ``tempo_color``.

Accepted inputs:

- CSV ``DD/MM/YYYY;BLEU|BLANC|ROUGE`` (optional header line, ISO ``YYYY-MM-DD`` days also
  accepted, English ``BLUE|WHITE|RED`` mapped to the French names);
- RTE "Tempo Like Supply Contract" API JSON:
  ``{"tempo_like_calendars": {"values": [{"start_date": "2023-01-01T00:00:00+01:00",
  "value": "BLUE", ...}]}}`` (the day is the local date of ``start_date``).

An unknown colour, or one day given two different colours, is a FormatError naming the line
(CSV) or the JSON path. The same day repeated with the same colour is dropped with a warning.
Tempo rules are checked per season (1 September - 31 August) and only *warned* about, because
RTE has changed them before: red days on a weekend, more than 22 red days.
Warnings are issued with ``warnings.warn`` and listed in ``frame.attrs["warnings"]``.
"""

from __future__ import annotations

import json
import warnings as _warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sobriete.domain import columns as C
from sobriete.domain.errors import FormatError
from sobriete.io import _text as T

COLORS = ("BLEU", "BLANC", "ROUGE")
_ALIASES = {"BLUE": "BLEU", "WHITE": "BLANC", "RED": "ROUGE"}
MAX_RED_DAYS = 22  # per season, CRE/EDF rule *(configurable: RTE may change it)*


class TempoWarning(UserWarning):
    """A Tempo calendar breaks a usual rule (kept: the calendar is what RTE published)."""


def read_tempo_csv(path: str | Path | bytes, *, name: str | None = None) -> pd.DataFrame:
    """Read a Tempo calendar (CSV or RTE JSON); see the module docstring."""
    raw = T.load_text(path, name=name, fallback="cp1252")
    if raw.text.lstrip().startswith("{"):
        days, colors, where = _from_json(raw)
        lines = None
    else:
        days, colors, lines = _from_csv(raw)
        where = None
    unknown = ~np.isin(colors, COLORS)
    if unknown.any():
        i = int(np.flatnonzero(unknown)[0])
        raise FormatError("unknown Tempo colour", file=raw.label,
                          line=None if lines is None else int(lines[i]),
                          field="color" if where is None else where[i],
                          expected="BLEU, BLANC or ROUGE", found=str(colors[i]))
    frame = pd.DataFrame({"day": days, C.TEMPO_COLOR: colors,
                          "src": lines if lines is not None else np.arange(len(days))})
    warns = list(raw.warnings)
    frame = _dedupe(frame, raw.label, warns, lines is not None)
    warns += _rule_warnings(frame, raw.label)
    out = pd.DataFrame({"day": frame["day"].dt.date.to_numpy(dtype=object),
                        C.TEMPO_COLOR: frame[C.TEMPO_COLOR].astype(str).to_numpy()})
    out[C.TEMPO_COLOR] = out[C.TEMPO_COLOR].astype(str)
    out.attrs["warnings"] = tuple(warns)
    out.attrs["source"] = raw.label
    out.attrs["sha256"] = raw.sha256
    for w in warns:
        _warnings.warn(w, TempoWarning, stacklevel=2)
    return out


def _from_csv(raw: T.RawText):
    first = T.head_lines(raw.text, 1)[0]
    sep = T.sniff_separator(first)
    has_header = not first[:1].isdigit()
    body = T.body_after(raw.text, 1) if has_header else raw.text
    table = T.read_table(body, ["day", "color"], sep=sep, first_line=2 if has_header else 1,
                         label=raw.label)
    if not len(table):
        raise FormatError("no days", file=raw.label, line=2, expected="DD/MM/YYYY;COLOUR rows")
    day_col = pc.utf8_trim_whitespace(table.columns["day"])
    fmt = "%Y-%m-%d" if str(day_col[0].as_py())[4:5] == "-" else "%d/%m/%Y"
    days = T.to_datetime(day_col, table, "day", fmt=fmt, keep_naive=True)
    colors = pc.utf8_upper(pc.utf8_trim_whitespace(table.columns["color"]))
    colors = _alias(colors).to_numpy(zero_copy_only=False).astype(object)
    return days, colors, table.lines


def _alias(colors: pa.ChunkedArray) -> pa.ChunkedArray:
    for en, fr in _ALIASES.items():
        colors = pc.if_else(pc.equal(colors, en), fr, colors)
    return colors


def _from_json(raw: T.RawText):
    try:
        doc = json.loads(raw.text)
    except json.JSONDecodeError as exc:
        raise FormatError(f"invalid JSON: {exc.msg}", file=raw.label, line=exc.lineno,
                          expected="RTE tempo_like_calendars JSON") from None
    values = doc.get("tempo_like_calendars", {}) if isinstance(doc, dict) else None
    values = values.get("values") if isinstance(values, dict) else None
    if not isinstance(values, list) or not values:
        raise FormatError("no Tempo values", file=raw.label, field="tempo_like_calendars.values",
                          expected="a non-empty list of {start_date, value}")
    # A JSON calendar is at most a few thousand objects: plain iteration is fine here.
    starts, colors, where = [], [], []
    for i, v in enumerate(values):
        path = f"tempo_like_calendars.values[{i}]"
        if not isinstance(v, dict) or not isinstance(v.get("start_date"), str) \
                or not isinstance(v.get("value"), str):
            raise FormatError("bad Tempo value", file=raw.label, field=path,
                              expected="{start_date: str, value: str}", found=str(v)[:80])
        starts.append(v["start_date"][:10])
        colors.append(_ALIASES.get(v["value"].strip().upper(), v["value"].strip().upper()))
        where.append(f"{path}.value")
    days = pd.to_datetime(pd.Series(starts), format="%Y-%m-%d", errors="coerce")
    bad = np.flatnonzero(days.isna().to_numpy())
    if len(bad):
        i = int(bad[0])
        raise FormatError("bad start_date", file=raw.label,
                          field=f"tempo_like_calendars.values[{i}].start_date",
                          expected="YYYY-MM-DDT00:00:00+hh:mm", found=starts[i])
    return pd.DatetimeIndex(days), np.asarray(colors, dtype=object), where


def _dedupe(frame: pd.DataFrame, label: str, warns: list[str], csv: bool) -> pd.DataFrame:
    frame = frame.sort_values(["day", "src"], kind="stable")
    dup = frame.duplicated("day", keep=False).to_numpy()
    if dup.any():
        d = frame[dup]
        first = d.drop_duplicates(["day", C.TEMPO_COLOR])
        clash = first.duplicated("day", keep=False).to_numpy()
        if clash.any():
            a, b = first[clash].iloc[:2].itertuples(index=False)
            where = ({"line": int(b.src)} if csv
                     else {"field": f"tempo_like_calendars.values[{b.src}].value"})
            raise FormatError(f"day {a.day.date()} has two colours", file=label, **where,
                              expected=f"one colour per day ({a.tempo_color} at "
                              f"{'line' if csv else 'value'} {a.src})", found=b.tempo_color)
        warns.append(f"{label}: {int(dup.sum()) - len(first)} repeated day(s) dropped")
        frame = frame.drop_duplicates("day", keep="first")
    return frame


def _rule_warnings(frame: pd.DataFrame, label: str) -> list[str]:
    out = []
    day = frame["day"]
    red = (frame[C.TEMPO_COLOR] == "ROUGE").to_numpy()
    season = np.where(day.dt.month.to_numpy() >= 9, day.dt.year, day.dt.year - 1)
    weekend = (day.dt.day_of_week.to_numpy() >= 5) & red
    for s in np.unique(season[weekend]):
        n = int((weekend & (season == s)).sum())
        out.append(f"{label}: season {s}-{s + 1}: {n} red day(s) on a weekend")
    counts = pd.Series(red).groupby(season).sum()
    for s, n in counts[counts > MAX_RED_DAYS].items():
        out.append(f"{label}: season {s}-{s + 1}: {int(n)} red days (> {MAX_RED_DAYS})")
    return out
