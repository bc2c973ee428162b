"""RTE EcoWatt signal JSON -> a day frame and an hour frame.

Shape (RTE EcoWatt API v4/v5)::

    {"signals": [{"GenerationFichier": "2022-06-03T23:00:00+02:00",
                  "jour": "2022-06-06T00:00:00+02:00", "dvalue": 1, "message": "...",
                  "values": [{"pas": 0, "hvalue": 0}, ..., {"pas": 23, "hvalue": 0}]}]}

``day`` is the Europe/Paris date of ``jour``. ``pas`` is the wall-clock hour of that day in
Europe/Paris; ``start_utc`` is that local hour converted to UTC. On the autumn DST day the
repeated 02:00 is taken as its first (summer-time) occurrence; on the spring day ``pas`` 2
does not exist on the clock and is moved to 03:00 (so it shares ``start_utc`` with ``pas`` 3:
both are kept, the signal being the same hour) *(RTE's own convention to confirm)*.

Levels: ``dvalue`` 1 green, 2 orange, 3 red; ``hvalue`` 0 (green, low-carbon) to 3. Any other
value, a missing key or a wrong type is a FormatError whose ``field`` is the JSON path (e.g.
``signals[2].values[5].hvalue``) and whose ``line`` is the line of that signal's ``jour`` when
it can be found in the text.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

from sobriete.domain import columns as C
from sobriete.domain.errors import FormatError
from sobriete.io import _text as T


def read_ecowatt_json(
    source: str | Path | bytes, *, name: str | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (days: day, ecowatt_day_level, message, generated_at;
    hours: day, hour, ecowatt_hour_level, start_utc)."""
    raw = T.load_text(source, name=name)
    try:
        doc = json.loads(raw.text)
    except json.JSONDecodeError as exc:
        raise FormatError(f"invalid JSON: {exc.msg}", file=raw.label, line=exc.lineno,
                          expected="EcoWatt JSON {\"signals\": [...]}") from None
    signals = doc.get("signals") if isinstance(doc, dict) else None
    if not isinstance(signals, list):
        raise FormatError("no signals", file=raw.label, field="signals",
                          expected="a list of day signals", found=type(signals).__name__)
    jour_lines = [raw.text.count("\n", 0, m.start()) + 1
                  for m in re.finditer(r'"jour"\s*:', raw.text)]

    def err(msg: str, i: int, path: str, expected: str, found: object) -> FormatError:
        line = jour_lines[i] if len(jour_lines) == len(signals) else None
        return FormatError(msg, file=raw.label, line=line, field=path, expected=expected,
                           found=repr(found)[:80])

    day_rows, hour_rows = [], []
    # At most a handful of days of 24 values: iterating over the JSON objects is fine here.
    for i, s in enumerate(signals):
        p = f"signals[{i}]"
        if not isinstance(s, dict):
            raise err("bad signal", i, p, "an object", s)
        jour = s.get("jour")
        day = _local_day(jour)
        if day is None:
            raise err("bad day", i, f"{p}.jour", "ISO date like 2022-06-06T00:00:00+02:00", jour)
        dvalue = s.get("dvalue")
        if not _int_in(dvalue, 1, 3):
            raise err("day level out of range", i, f"{p}.dvalue", "an integer 1-3", dvalue)
        msg = s.get("message", "")
        gen = pd.to_datetime(s.get("GenerationFichier"), utc=True, errors="coerce")
        if not isinstance(msg, str):
            raise err("bad message", i, f"{p}.message", "a string", msg)
        day_rows.append((day, int(dvalue), msg, gen))
        values = s.get("values")
        if not isinstance(values, list):
            raise err("no hourly values", i, f"{p}.values", "a list of {pas, hvalue}", values)
        for j, v in enumerate(values):
            q = f"{p}.values[{j}]"
            if not isinstance(v, dict):
                raise err("bad hourly value", i, q, "an object {pas, hvalue}", v)
            if not _int_in(v.get("pas"), 0, 23):
                raise err("hour out of range", i, f"{q}.pas", "an integer 0-23", v.get("pas"))
            if not _int_in(v.get("hvalue"), 0, 3):
                raise err("hour level out of range", i, f"{q}.hvalue", "an integer 0-3",
                          v.get("hvalue"))
            hour_rows.append((day, int(v["pas"]), int(v["hvalue"]), i, j))
    days = pd.DataFrame(day_rows, columns=["day", C.ECOWATT_DAY_LEVEL, "message",
                                           "generated_at"])
    if days["day"].duplicated().any():
        i = int(np.flatnonzero(days["day"].duplicated().to_numpy())[0])
        raise err("day given twice", i, f"signals[{i}].jour", "one signal per day",
                  str(days["day"].iloc[i]))
    hours = pd.DataFrame(hour_rows, columns=["day", "hour", C.ECOWATT_HOUR_LEVEL, "i", "j"])
    if hours.duplicated(["day", "hour"]).any():
        k = int(np.flatnonzero(hours.duplicated(["day", "hour"]).to_numpy())[0])
        i, j = int(hours["i"].iloc[k]), int(hours["j"].iloc[k])
        raise err("hour given twice", i, f"signals[{i}].values[{j}].pas", "each pas once",
                  int(hours["hour"].iloc[k]))
    local = pd.to_datetime(hours["day"].astype(str)) + pd.to_timedelta(hours["hour"], unit="h")
    hours[C.START_UTC] = (pd.DatetimeIndex(local).tz_localize(
        "Europe/Paris", ambiguous=np.ones(len(local), bool), nonexistent="shift_forward")
        .tz_convert("UTC").as_unit("ns"))
    days["generated_at"] = pd.DatetimeIndex(days["generated_at"]).as_unit("ns")
    days = days.sort_values("day", kind="stable").reset_index(drop=True)
    hours = (hours.drop(columns=["i", "j"]).sort_values(["day", "hour"], kind="stable")
             .reset_index(drop=True))
    days[C.ECOWATT_DAY_LEVEL] = days[C.ECOWATT_DAY_LEVEL].astype(np.int64)
    hours["hour"] = hours["hour"].astype(np.int64)
    hours[C.ECOWATT_HOUR_LEVEL] = hours[C.ECOWATT_HOUR_LEVEL].astype(np.int64)
    return days, hours


def _int_in(v: object, lo: int, hi: int) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi


def _local_day(jour: object):
    if not isinstance(jour, str):
        return None
    ts = pd.to_datetime(jour, utc=True, errors="coerce")
    if ts is pd.NaT or pd.isna(ts):
        return None
    return ts.tz_convert("Europe/Paris").date()
