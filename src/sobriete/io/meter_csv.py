"""Generic meter-reading CSV (any supplier, BMS or spreadsheet export) -> long readings.

Layouts (``layout="auto"`` picks *long* when the header has the meter and value columns):

- **long**: one row per reading, ``meter,timestamp,value`` (names configurable);
- **wide**: a timestamp column and one column per meter, e.g. ``timestamp_utc,b0,b4,b8``.

Conventions and options:

- separator ``,`` ``;`` or tab, sniffed from the header line unless ``sep`` is given;
- ``decimal=","`` for French decimal commas; ``None`` (default) switches to comma when the
  separator is not ``,`` and a value holds a comma;
- gzip is detected from the content; text is UTF-8 (BOM ok), falling back to cp1252 with a
  warning because French spreadsheet exports often are cp1252;
- timestamps: ISO 8601 by default, else ``timestamp_format`` (strptime, e.g. ``%d/%m/%Y %H:%M``).
  With a UTC offset they are exact. Naive ones are local times of ``timezone``; when
  ``timezone`` is None it is UTC for a column whose name ends in ``utc`` and Europe/Paris
  otherwise. The repeated autumn hour is resolved from the order of rows within each meter
  (``ambiguous="infer"``) or by ``ambiguous="earliest"|"latest"``; a spring-gap time is an
  error unless ``nonexistent="shift_forward"``. Unresolvable ones are a FormatError.
- ``timestamps="start"`` (default) or ``"end"``: which edge of the interval a row is stamped
  with. Output ``start_utc`` is always the start.
- ``values="interval"`` (default): each value is the consumption of its interval, whose length
  (``step_s``) is inferred per meter as the median time difference of that meter's readings
  unless given; each meter's rows must sit on its own grid (gaps allowed), and a meter with a
  single reading has no step (FormatError unless ``step_s``). ``values="index"``: cumulative
  register readings; the output interval runs from one reading to the next with the
  difference as value (``timestamps`` is then irrelevant); a meter with fewer than two
  readings gives no interval and a warning, and a file with no interval at all is an error.
  A decreasing index (rollover, meter swap) is a ValueRangeError naming the line, or, with
  ``on_reset="drop"``, that interval is dropped with a warning.
- ``quantity`` (default ``energy_kwh``) must be in ``columns.QUANTITIES``; for a sample
  quantity (``temp_zone_c``...) ``duration_s`` is 0 and values are kept as they are.
- empty values are dropped with a warning; values outside the quantity's physical range are a
  ValueRangeError.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sobriete.domain import columns as C
from sobriete.domain.errors import FormatError, InputError, ValueRangeError
from sobriete.io import _text as T
from sobriete.io.base import ParsedReadings, SourceInfo

PARSER_VERSION = "1"


def read_meter_csv(
    path: str | Path | bytes,
    *,
    layout: str = "auto",
    meter_column: str = "meter",
    timestamp_column: str = "timestamp",
    value_column: str = "value",
    meters: list[str] | None = None,
    sep: str | None = None,
    decimal: str | None = None,
    timestamp_format: str | None = None,
    timezone: str | None = None,
    ambiguous: str = "infer",
    nonexistent: str = "raise",
    timestamps: str = "start",
    values: str = "interval",
    on_reset: str = "error",
    step_s: int | None = None,
    quantity: str = "energy_kwh",
    name: str | None = None,
) -> ParsedReadings:
    """Read a long or wide meter CSV; see the module docstring for every convention.

    ``meters`` restricts a wide file to those columns (default: every non-timestamp column).
    """
    _check_options(layout, timestamps, values, on_reset, quantity, decimal, step_s)
    raw = T.load_text(path, name=name, fallback="cp1252")
    label = raw.label
    header_line = raw.head(1)[0]
    sep = sep or T.sniff_separator(header_line)
    names = T.split_header(header_line, sep)
    if len(set(names)) != len(names) or "" in names:
        raise FormatError("empty or repeated column name", file=label, line=1,
                          expected="distinct column names", found=header_line[:100])
    folded = [T.fold(n) for n in names]
    is_long = T.fold(meter_column) in folded and T.fold(value_column) in folded
    if layout == "long" or (layout == "auto" and is_long):
        layout = "long"
    else:
        layout = "wide"
    fast = None
    if layout == "long" and timestamp_format is None and T.FAST_PATH:
        fast = _long_typed(raw, names, sep, meter_column, timestamp_column, value_column,
                           decimal)
    if fast is not None:
        table, ts_name, naive, code, keys, value, dec = fast
        rows = None  # row i of the table
        meter_field = names[[T.fold(n) for n in names].index(T.fold(meter_column))]
        tz = timezone or ("UTC" if T.fold(ts_name).endswith("utc") else "Europe/Paris")
        utc = _localize_groups(naive, code, tz, table, ts_name, ambiguous, nonexistent)
    else:
        table = T.read_table(raw.body(1), names, sep=sep, first_line=2, label=label)
        if not len(table):
            raise FormatError("no readings", file=label, line=2, expected="data rows")
        ts_name = _timestamp_name(names, timestamp_column, layout, label)
        tz = timezone or ("UTC" if T.fold(ts_name).endswith("utc") else "Europe/Paris")
        naive = T.to_datetime(table.columns[ts_name], table, ts_name, fmt=timestamp_format,
                              keep_naive=True)
        if layout == "long":
            m = meter_field = names[T.column_index(names, meter_column, label, 1)]
            v = names[T.column_index(names, value_column, label, 1)]
            mcol = pc.utf8_trim_whitespace(table.columns[m])
            empty = pc.equal(mcol, "").to_numpy(zero_copy_only=False)
            if empty.any():
                i = int(np.flatnonzero(empty)[0])
                raise FormatError("empty meter name", file=label, line=table.line(i), field=m,
                                  expected="a meter identifier", found="")
            enc = pc.dictionary_encode(mcol).combine_chunks()
            code = enc.indices.to_numpy(zero_copy_only=False).astype(np.int64)
            keys = enc.dictionary.to_pylist()
            dec = _decimal(decimal, sep, [table.columns[v]])
            value = T.to_float(table.columns[v], table, v, decimal_comma=dec == ",")
            rows = np.arange(len(table))
            utc = _localize_groups(naive, code, tz, table, ts_name, ambiguous, nonexistent)
        else:
            chosen = meters or [n for n in names if n != ts_name]
            for mname in chosen:
                T.column_index(names, mname, label, 1)
            if not chosen:
                raise FormatError("no meter column", file=label, line=1,
                                  expected="a timestamp column and one column per meter")
            dec = _decimal(decimal, sep, [table.columns[c] for c in chosen])
            cols = [T.to_float(table.columns[c], table, c, decimal_comma=dec == ",")
                    for c in chosen]
            n = len(table)
            utc1 = naive if naive.tz is not None else T.localize(
                naive, tz, table, ts_name, ambiguous=ambiguous, nonexistent=nonexistent)
            utc = pd.DatetimeIndex(np.tile(utc1.asi8, len(chosen))).tz_localize("UTC")
            code = np.repeat(np.arange(len(chosen)), n)
            keys = list(chosen)
            value = np.concatenate(cols)
            rows = np.tile(np.arange(n), len(chosen))
            meter_field = None  # the meter is a column: errors name it
    raw.release()
    warnings = list(raw.warnings)
    start, dur, out, code, rows = _build(
        utc.asi8, code, value, rows, table, warnings, keys, meter_field, timestamps=timestamps,
        values=values, on_reset=on_reset, step_s=step_s, quantity=quantity)
    frame = T.finish_readings(table, warnings, key_codes=code, keys=keys, quantity=quantity,
                              start_ns=start, duration_s=dur, value=out, rows=rows)
    fmt = f"meter-csv-{layout}"
    meta = {"layout": layout, "timezone": tz, "timestamps": timestamps, "values": values,
            "sep": sep, "decimal": dec}
    return ParsedReadings(SourceInfo(label, raw.sha256, fmt, PARSER_VERSION), frame,
                          tuple(warnings), meta)


def _long_typed(raw: T.RawText, names: list[str], sep: str, meter_column: str,
                timestamp_column: str, value_column: str, decimal: str | None):
    """The long layout read straight into typed columns, or None for the string path.

    None whenever the string path might word an error (a missing column, a value Arrow cannot
    convert, an empty meter name, nan written out...): it then runs and owns the message.
    """
    folded = [T.fold(n) for n in names]
    try:
        ts_name, m, v = (names[folded.index(T.fold(c))]
                         for c in (timestamp_column, meter_column, value_column))
    except ValueError:
        return None
    if len({ts_name, m, v}) < 3:
        return None
    body = raw.body(1)
    first = T.first_record(body, len(names), sep)
    if first is None:
        return None
    dec = decimal or "."  # with no comma in any value, "auto" is "." too
    types = {m: pa.dictionary(pa.int32(), pa.string()),
             ts_name: T.timestamp_type(first[names.index(ts_name)]), v: pa.float64()}
    try:
        table = T.read_table(body, names, sep=sep, first_line=2, label=raw.label, types=types,
                             decimal=dec)
        if not len(table):
            return None
        ns = T.typed_times(table.columns[ts_name])
        value = T.typed_floats(table.columns[v])
        code, keys = T.dict_codes(table.columns[m])
    except T.Retry:
        return None
    if "" in keys:
        return None
    table.columns = {}
    naive = pd.DatetimeIndex(ns.view("datetime64[ns]"))
    if types[ts_name].tz is not None:
        naive = naive.tz_localize("UTC")
    return table, ts_name, naive, code, keys, value, dec


def _check_options(layout, timestamps, values, on_reset, quantity, decimal, step_s) -> None:
    allowed = {"layout": (layout, ("auto", "long", "wide")),
               "timestamps": (timestamps, ("start", "end")),
               "values": (values, ("interval", "index")),
               "on_reset": (on_reset, ("error", "drop")),
               "decimal": (decimal, (None, ".", ","))}
    for fld, (got, ok) in allowed.items():
        if got not in ok:
            raise InputError("bad option", field=fld, expected=" or ".join(map(str, ok)),
                             found=str(got))
    if quantity not in C.QUANTITIES:
        raise InputError("unknown quantity", field="quantity",
                         expected=", ".join(sorted(C.QUANTITIES)), found=quantity)
    if values == "index" and not C.QUANTITIES[quantity].is_interval:
        raise InputError("an index only makes sense for a consumption", field="values",
                         expected="values='interval' for a sampled quantity", found=values)
    if step_s is not None and step_s <= 0:
        raise InputError("bad option", field="step_s", expected="a positive number of seconds",
                         found=str(step_s))


def _timestamp_name(names: list[str], wanted: str, layout: str, label: str) -> str:
    folded = [T.fold(n) for n in names]
    if T.fold(wanted) in folded:
        return names[folded.index(T.fold(wanted))]
    if layout == "wide":
        return names[0]
    return names[T.column_index(names, wanted, label, 1)]


def _decimal(decimal: str | None, sep: str, cols) -> str:
    if decimal is not None:
        return decimal
    if sep == ",":
        return "."
    has_comma = any(pc.any(pc.match_substring(c, ",")).as_py() for c in cols)
    return "," if has_comma else "."


def _localize_groups(naive, code, tz, table, field, ambiguous, nonexistent) -> pd.DatetimeIndex:
    """Naive local times -> UTC, with the autumn hour inferred from each meter's own order.

    One vectorised pass localises every time that is neither ambiguous nor in the spring gap
    (those are the same for every meter); only meters with such a time are localised again,
    each on its own rows (grouped once by a stable sort, not one scan of the file per meter).
    """
    if naive.tz is not None:
        return naive
    if not len(code) or (code == code[0]).all() or tz.upper() == "UTC":
        return T.localize(naive, tz, table, field, ambiguous=ambiguous, nonexistent=nonexistent)
    try:
        probe = naive.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    except Exception:  # noqa: BLE001 - an unknown zone: localize words the error
        return T.localize(naive, tz, table, field, ambiguous=ambiguous, nonexistent=nonexistent)
    odd = np.asarray(probe.isna())
    if not odd.any():
        return probe.tz_convert("UTC")
    out = probe.asi8.copy()
    order = np.argsort(code, kind="stable")  # rows of each meter, in file order
    sorted_code = code[order]
    for g in np.unique(code[odd]):
        a, b = np.searchsorted(sorted_code, [g, g + 1])
        sel = order[a:b]
        loc = T.localize(naive[sel], tz, table, field, ambiguous=ambiguous,
                         nonexistent=nonexistent, rows=sel)
        out[sel] = loc.asi8
    return pd.DatetimeIndex(out).tz_localize("UTC")


def _build(t_ns, code, value, rows, table, warnings, keys, meter_field, *, timestamps, values,
           on_reset, step_s, quantity):
    """(start ns, duration s, value, key codes, table rows) of the output intervals.

    ``meter_field`` is the meter column of a long file, None for a wide one (then the meter's
    own column is the field an error names).
    """
    keep = ~np.isnan(value)
    if not keep.all():
        warnings.append(f"{table.label}: {int((~keep).sum())} empty value(s) dropped")
        rows = np.flatnonzero(keep) if rows is None else rows[keep]
        t_ns, code, value = t_ns[keep], code[keep], value[keep]
    del keep
    order = T.sort_order(code, t_ns, rows)
    if order is not None:
        t_ns, code, value = t_ns[order], code[order], value[order]
        rows = order if rows is None else rows[order]
    del order
    if values == "index" and rows is None:
        rows = np.arange(len(t_ns))
    q = C.QUANTITIES[quantity]
    if values == "index":
        first_row = int(rows.min()) if len(rows) else None
        same = code[1:] == code[:-1]
        dt = np.diff(t_ns)
        dv = np.diff(value)
        sel = same & (dt > 0)
        reset = sel & (dv < 0)
        if reset.any():
            i = int(np.flatnonzero(reset)[0])
            if on_reset == "error":
                raise ValueRangeError(
                    "the index decreases (meter rollover or replacement?)", file=table.label,
                    line=table.line(int(rows[i + 1])), field="value",
                    expected=f">= {value[i]} (previous reading, line "
                             f"{table.line(int(rows[i]))}) or on_reset='drop'",
                    found=str(value[i + 1]))
            warnings.append(f"{table.label}: {int(reset.sum())} index reset(s) dropped "
                            f"(first at line {table.line(int(rows[i + 1]))})")
            sel &= ~reset
        pairs = np.bincount(code[1:][same & (dt > 0)], minlength=len(keys))
        start, dur, out = t_ns[:-1][sel], dt[sel] // 1_000_000_000, dv[sel]
        code, rows = code[:-1][sel], rows[1:][sel]
        lonely = np.flatnonzero(pairs == 0)
        for k in lonely[:_MAX_METER_WARNINGS]:
            warnings.append(f"{table.label}: meter {keys[k]}: fewer than two index readings: "
                            "no interval")
        if len(lonely) > _MAX_METER_WARNINGS:
            warnings.append(f"{table.label}: {len(lonely) - _MAX_METER_WARNINGS} more meter(s) "
                            "with fewer than two index readings")
        if not len(out):
            why = ("every meter has fewer than two index readings" if len(lonely) == len(keys)
                   else "every interval was an index reset")
            raise FormatError(f"no interval: {why}", file=table.label,
                              line=None if first_row is None else table.line(first_row),
                              field=meter_field or "value",
                              expected="at least two readings of one meter, at different times")
    elif not q.is_interval:
        start, dur, out = t_ns, np.zeros(len(t_ns), np.int64), value
    else:
        step = step_s or _steps(t_ns, code, rows, table, keys, meter_field)
        T.check_regular(t_ns, step, table, "timestamp", groups=code, rows=rows)
        dur = np.full(len(t_ns), step, np.int64) if np.ndim(step) == 0 else step
        start = t_ns - dur * 1_000_000_000 if timestamps == "end" else t_ns
        out = value
    return start, np.asarray(dur, np.int64), out, code, rows


_MAX_METER_WARNINGS = 20  # one warning per meter, then a count


def _steps(t_ns, code, rows, table, keys, meter_field):
    """The interval length of each row: the median step of its own meter (``t_ns`` sorted by
    meter then time). A meter with fewer than two distinct times is a FormatError."""
    per_meter = T.group_steps_s(t_ns, code, len(keys))
    present = np.zeros(len(keys), bool)
    present[code] = True
    bad = present & (per_meter <= 0)
    if bad.any():
        pos = np.flatnonzero(bad[code])
        at = pos if rows is None else rows[pos]
        j = int(np.argmin(at))
        k = int(code[pos[j]])
        n = int((code == k).sum())
        raise FormatError(
            f"cannot infer the interval length of meter {keys[k]}", file=table.label,
            line=table.line(int(at[j])), field=meter_field or keys[k],
            expected="two readings of this meter at different times, or the step_s option",
            found=f"{n} reading(s) at one time")
    steps = per_meter[present]
    if len(steps) and (steps == steps[0]).all():
        return int(steps[0])  # the usual case: one step, no per-row array
    return per_meter[code]
