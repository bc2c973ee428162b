"""Enedis Linky load curves ("courbe de charge") -> interval energy in kWh.

Two layouts are recognised from the first line:

``enedis-portal`` (customer-portal export, UTF-8 with BOM, ``;``)::

    Identifiant PRM;Type de donnees;Date de debut;...;Unite;Pas en minutes
    1111111111111;Courbe de charge;29/06/2022;29/07/2023;Energie active;...;W;
    Horodate;Valeur
    2022-07-29T00:30:00+02:00;330

  ``Horodate`` marks the **end** of the interval (the 00:30 value is the mean power of
  00:00-00:30); the UTC offset makes the autumn repeated hour unambiguous. The step is
  ``Pas en minutes`` when filled, else the median difference between timestamps.

``enedis-r63`` (SGE flow R63, flat, one row per point, possibly several PRMs)::

    Identifiant PRM;Date de debut;Date de fin;...;Unite;Horodate;Valeur;Nature;Pas
    30000000000001;...;W;2023-01-01T00:30:00+01:00;1250;B;PT30M

  ``Pas`` is ``PT5M``/``PT10M``/``PT30M`` (any ``PT<n>M`` or ``PT<n>H``). We treat ``Horodate``
  as the **end** of the interval like the portal and the Data Connect API *(to confirm against
  the R63 guide)*; pass ``timestamps="start"`` if a flow proves otherwise.

Units (column ``Unite``): ``W`` and ``kW`` are mean powers over the step (energy = power x step);
``Wh`` and ``kWh`` are energies of the interval. Anything else (reactive ``VAr``...) is refused.
Output quantity is ``energy_kwh``; ``start_utc`` is the interval start in UTC and
``duration_s`` the step. Empty values are dropped with a warning; negative values are a
ValueRangeError (a consumption curve cannot be negative).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sobriete.domain.errors import FormatError, InputError
from sobriete.io import _text as T
from sobriete.io.base import ParsedReadings, SourceInfo

PARSER_VERSION = "1"
# Divisors, not factors: v * step / (3600 * 1000) is exact more often than v * step * 1e-3 / 3600.
_UNITS_POWER = {"w": 1000.0, "kw": 1.0}  # mean power -> kW
_UNITS_ENERGY = {"wh": 1000.0, "kwh": 1.0}  # energy -> kWh


def read_enedis(
    path: str | Path | bytes,
    *,
    timestamps: str = "auto",
    series_key: str | None = None,
    name: str | None = None,
) -> ParsedReadings:
    """Read an Enedis load curve (portal CSV or R63 CSV) into interval ``energy_kwh``.

    Parameters
    ----------
    path : file path or the file's bytes (gzip accepted)
    timestamps : "auto" (end of interval for both layouts, see module doc), "start" or "end"
    series_key : overrides the PRM as series key (only for a single-PRM file)
    name : label used in errors and provenance when ``path`` is bytes
    """
    if timestamps not in ("auto", "start", "end"):
        raise InputError("bad option", field="timestamps", expected="auto, start or end",
                         found=str(timestamps))
    raw = T.load_text(path, name=name)
    first = T.fold(raw.head(1)[0])
    if first.startswith("identifiant prm") and "horodate" not in first.split(";"):
        fmt, frame, meta = _portal(raw, timestamps, series_key)
    elif "horodate" in first.split(";") and "valeur" in first.split(";"):
        fmt, frame, meta = _r63(raw, timestamps, series_key)
    else:
        raise FormatError("not an Enedis load-curve export", file=raw.label, line=1,
                          expected="a header starting with 'Identifiant PRM' (portal) or "
                          "containing 'Horodate;Valeur' (R63)", found=first[:80])
    return ParsedReadings(
        source=SourceInfo(raw.label, raw.sha256, fmt, PARSER_VERSION),
        frame=frame, warnings=tuple(raw.warnings), metadata=meta,
    )


def _portal(raw: T.RawText, timestamps: str, series_key: str | None):
    label = raw.label
    head = raw.head(3)
    if len(head) < 3:
        raise FormatError("truncated header block", file=label, line=len(head) + 1,
                          expected="PRM header, its value line, then 'Horodate;Valeur'")
    names = T.split_header(head[0], ";")
    values = T.split_header(head[1], ";")
    if len(values) != len(names):
        raise FormatError("header value line does not match the header", file=label, line=2,
                          expected=f"{len(names)} fields", found=f"{len(values)} fields")
    info = {T.fold(n): v for n, v in zip(names, values, strict=True)}
    prm = info.get("identifiant prm", "")
    if not prm:
        raise FormatError("empty PRM", file=label, line=2, field="Identifiant PRM",
                          expected="the 14-digit meter identifier", found="")
    unit = info.get("unite", "W")
    if unit.lower() not in {**_UNITS_POWER, **_UNITS_ENERGY}:
        raise FormatError("unsupported unit", file=label, line=2, field="Unite",
                          expected="W, kW, Wh or kWh", found=unit)
    step_s = None
    pas = info.get("pas en minutes", "")
    if pas:
        if not pas.isdigit() or not 0 < int(pas) <= 1440:
            raise FormatError("bad step", file=label, line=2, field="Pas en minutes",
                              expected="minutes between 1 and 1440", found=pas)
        step_s = int(pas) * 60
    if [T.fold(c) for c in T.split_header(head[2], ";")] != ["horodate", "valeur"]:
        raise FormatError("missing data header", file=label, line=3,
                          expected="Horodate;Valeur", found=head[2][:80])
    table = T.read_table(raw.body(3), ["Horodate", "Valeur"], sep=";", first_line=4,
                         label=label)
    if not len(table):
        raise FormatError("no readings", file=label, line=4, expected="Horodate;Valeur rows")
    labels = T.to_datetime(table.columns["Horodate"], table, "Horodate")
    value = T.to_float(table.columns["Valeur"], table, "Valeur")
    conv = "end" if timestamps == "auto" else timestamps
    raw.release()
    frame, warnings, step_s = _to_energy(
        table, labels.asi8, value, _codes(unit, len(table)),
        np.full(len(table), step_s or 0, dtype=np.int64), _codes(series_key or prm, len(table)),
        conv, raw.warnings, infer_step=step_s is None,
    )
    raw.warnings[:] = warnings
    meta = {"prm": prm, "unit": unit, "step_s": str(step_s), "timestamps": conv,
            "date_debut": info.get("date de debut", ""), "date_fin": info.get("date de fin", "")}
    return "enedis-portal", frame, meta


def _r63(raw: T.RawText, timestamps: str, series_key: str | None):
    label = raw.label
    header = T.split_header(raw.head(1)[0], ";")
    idx = {k: T.column_index(header, k, label, 1)
           for k in ("Identifiant PRM", "Unite", "Horodate", "Valeur", "Pas")}
    names = {k: header[i] for k, i in idx.items()}
    fast = _r63_typed(raw, header, names) if T.FAST_PATH else None
    if fast is not None:
        table, label_ns, value, pas, (kcode, prms), unit_coded = fast
        step_s = _parse_pas(table.columns[names["Pas"]], table, pas)
        if "" in prms:
            i = int(np.flatnonzero(kcode == prms.index(""))[0])
            _empty_prm(table, i)
    else:
        unit_coded = None
        table = T.read_table(raw.body(1), header, sep=";", first_line=2, label=label)
        if not len(table):
            raise FormatError("no readings", file=label, line=2, expected="R63 rows")
        col = {k: table.columns[n] for k, n in names.items()}
        label_ns = T.to_datetime(col["Horodate"], table, "Horodate").asi8
        value = T.to_float(col["Valeur"], table, "Valeur")
        step_s = _parse_pas(col["Pas"], table)
        prm_col = pc.utf8_trim_whitespace(col["Identifiant PRM"])
        empty = pc.equal(prm_col, "").to_numpy(zero_copy_only=False)
        if empty.any():
            _empty_prm(table, int(np.flatnonzero(empty)[0]))
        kcode, prms = _codes(prm_col, len(table))
    raw.release()
    if series_key is not None:
        if len(prms) > 1:
            raise InputError("series_key given for a file with several PRMs", file=label,
                             field="series_key", expected="a single-PRM file",
                             found=", ".join(map(str, prms[:3])))
        kcode, kvals = np.zeros(len(table), dtype=np.int64), [series_key]
    else:
        kcode, kvals = kcode, prms
    unit = _units(table.columns[names["Unite"]], table, unit_coded)
    table.columns = {}
    conv = "end" if timestamps == "auto" else timestamps
    frame, warnings, _ = _to_energy(table, label_ns, value, unit, step_s, (kcode, kvals), conv,
                                    raw.warnings, infer_step=False)
    raw.warnings[:] = warnings
    one_step = fast is not None and len(fast[3][1]) == 1  # a single Pas value in the file
    steps = [int(step_s[0])] if one_step else sorted({int(s) for s in np.unique(step_s)})
    meta = {"prms": ",".join(map(str, prms)), "step_s": ",".join(map(str, steps)),
            "timestamps": conv}
    return "enedis-r63", frame, meta


def _empty_prm(table: T.Table, i: int):
    raise FormatError("empty PRM", file=table.label, line=table.line(i), field="Identifiant PRM",
                      expected="the meter identifier", found="")


def _r63_typed(raw: T.RawText, header: list[str], names: dict[str, str]):
    """(table, start ns, values, and codes + distinct values of Pas, PRM and Unite) read by
    Arrow into typed columns, or None.

    None sends the file down the string path, which words the errors (bad or naive
    timestamps, nan written out...); dictionary columns keep one string per distinct value.
    """
    if len(set(names.values())) < len(names):
        return None
    body = raw.body(1)
    first = T.first_record(body, len(header), ";")
    if first is None:
        return None
    ts_type = T.timestamp_type(first[header.index(names["Horodate"])])
    if ts_type.tz is None:
        return None
    text = pa.dictionary(pa.int32(), pa.string())
    types = {names["Identifiant PRM"]: text, names["Unite"]: text, names["Horodate"]: ts_type,
             names["Valeur"]: pa.float64(), names["Pas"]: text}
    try:
        table = T.read_table(body, header, sep=";", first_line=2, label=raw.label, types=types)
        if not len(table):
            return None
        label_ns = T.typed_times(table.columns[names["Horodate"]])
        value = T.typed_floats(table.columns[names["Valeur"]])
        pas = T.dict_codes(table.columns[names["Pas"]])
        prm = T.dict_codes(table.columns[names["Identifiant PRM"]])
        unit = T.dict_codes(table.columns[names["Unite"]])
    except T.Retry:
        return None
    return table, label_ns, value, pas, prm, unit


def _units(col: pa.ChunkedArray, table: T.Table,
           coded: tuple[np.ndarray, list[str]] | None = None) -> tuple[np.ndarray, list[str]]:
    """Codes and distinct lower-case units; FormatError on the first unknown unit.

    ``coded``: codes and trimmed distinct values of a dictionary column (fast path)."""
    if coded is not None:
        code, vals = coded
        enc = pc.dictionary_encode(pc.utf8_lower(pa.array(vals, pa.string())))
        remap = enc.indices.to_numpy(zero_copy_only=False)
        if not np.array_equal(remap, np.arange(len(remap))):  # "W" and "w" in one file
            code = remap[code]
        vals = enc.dictionary.to_pylist()
    else:
        code, vals = _codes(pc.utf8_lower(pc.utf8_trim_whitespace(col)), len(table))
    known = np.array([v in _UNITS_POWER or v in _UNITS_ENERGY for v in vals], dtype=bool)
    if not known.all():
        i = int(np.flatnonzero(~known[code])[0])
        raise FormatError("unsupported unit", file=table.label, line=table.line(i), field="Unite",
                          expected="W, kW, Wh or kWh", found=str(col[i].as_py()))
    return code, vals


def _parse_pas(col: pa.ChunkedArray, table: T.Table,
               coded: tuple[np.ndarray, list[str]] | None = None) -> np.ndarray:
    """Step in seconds of each row. ``coded`` (codes, trimmed distinct values) of a dictionary
    column: the few distinct values are parsed once, then mapped to the rows."""
    s = pc.utf8_upper(pc.utf8_trim_whitespace(col) if coded is None
                      else pa.array(coded[1], pa.string()))
    parts = pc.extract_regex(s, r"^PT(?P<n>[0-9]{1,4})(?P<u>[MH])$")
    ok = pc.is_valid(parts).to_numpy(zero_copy_only=False)
    if coded is not None:
        ok = ok[coded[0]] if not ok.all() else np.ones(1, bool)
    bad = np.flatnonzero(~ok)
    if len(bad):
        i = int(bad[0])
        raise FormatError("bad step", file=table.label, line=table.line(i), field="Pas",
                          expected="ISO 8601 duration like PT30M", found=str(col[i].as_py()))
    n = pc.struct_field(parts, "n").to_numpy(zero_copy_only=False).astype(np.int64)
    hours = pc.equal(pc.struct_field(parts, "u"), "H").to_numpy(zero_copy_only=False)
    step = np.where(hours, n * 3600, n * 60)
    if coded is not None:
        codes = coded[0]
        out_d = (step <= 0) | (step > 86400)  # judged once per distinct value
        if not out_d.any():
            return np.full(len(codes), step[0]) if len(step) == 1 else step[codes]
        step = step[codes]
    bad = np.flatnonzero((step <= 0) | (step > 86400))
    if len(bad):
        i = int(bad[0])
        raise FormatError("bad step", file=table.label, line=table.line(i), field="Pas",
                          expected="between PT1M and PT24H", found=str(col[i].as_py()))
    return step


def _codes(values: pa.ChunkedArray | str, n: int) -> tuple[np.ndarray, list[str]]:
    """Integer codes and distinct values of a low-cardinality column (PRM, unit)."""
    if isinstance(values, str):
        return np.zeros(n, dtype=np.int64), [values]
    enc = pc.dictionary_encode(pc.utf8_trim_whitespace(values)).combine_chunks()
    return (enc.indices.to_numpy(zero_copy_only=False).astype(np.int64),
            enc.dictionary.to_pylist())


def _to_energy(
    table: T.Table, label_ns: np.ndarray, value: np.ndarray,
    unit: tuple[np.ndarray, list[str]], step_s: np.ndarray,
    key: tuple[np.ndarray, list[str]], conv: str, warnings: list[str], *, infer_step: bool,
) -> tuple[pd.DataFrame, list[str], int]:
    """``unit`` and ``key``: integer codes per row and their distinct values."""
    warnings = list(warnings)
    n = len(label_ns)
    kcode, kvals = key
    if infer_step:
        s = T.infer_step_s(label_ns, kcode)
        if s is None or s <= 0:
            raise FormatError("cannot infer the step from fewer than two timestamps",
                              file=table.label, field="Pas en minutes",
                              expected="'Pas en minutes' in the header or more rows")
        step_s = np.full(n, s, dtype=np.int64)
    order = T.sort_order(kcode, label_ns)
    if order is None:
        T.check_regular(label_ns, step_s, table, "Horodate", groups=kcode)
    else:
        T.check_regular(label_ns[order], step_s[order], table, "Horodate",
                        groups=kcode[order], rows=order)
    del order
    ucode, uvals = unit
    units = {**_UNITS_POWER, **_UNITS_ENERGY}
    if len(uvals) == 1:  # the usual case: one unit, no per-row selection
        div = units[uvals[0].lower()]
        if uvals[0].lower() in _UNITS_POWER:
            energy = value * step_s  # same operations as below, without temporaries
            energy /= 3600.0 * div
        else:
            energy = value / div
    else:
        is_power = np.array([u.lower() in _UNITS_POWER for u in uvals])[ucode]
        div = np.array([units[u.lower()] for u in uvals])[ucode]
        energy = np.where(is_power, value * step_s / (3600.0 * div), value / div)
    del value
    if conv == "end":
        start = step_s * 1_000_000_000
        np.subtract(label_ns, start, out=start)
    else:
        start = label_ns
    keep = ~np.isnan(energy)
    if keep.all():
        rows, kc, dur = None, kcode, step_s
    else:
        warnings.append(f"{table.label}: {int((~keep).sum())} empty value(s) dropped")
        rows = np.flatnonzero(keep)
        kc, start, dur, energy = kcode[keep], start[keep], step_s[keep], energy[keep]
    del keep
    frame = T.finish_readings(
        table, warnings, key_codes=kc, keys=kvals, quantity="energy_kwh",
        start_ns=start, duration_s=dur, value=energy, rows=rows, field="Valeur")
    return frame, warnings, int(step_s[0]) if n else 0
