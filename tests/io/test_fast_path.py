"""The typed bytes fast path of the bulk readers against the string path it falls back to.

``_text.FAST_PATH = False`` forces the string path, the reference for every result and every
error message; the fast path must give exactly the same frame, warnings, metadata or error.
``_PARALLEL_MIN_BYTES`` is lowered so that small files also take the cut-in-parts reader.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sobriete.domain.errors import FormatError, InputError, ValueRangeError
from sobriete.io import _text as T
from sobriete.io.enedis import read_enedis
from sobriete.io.meter_csv import read_meter_csv

R63_HEADER = ("Identifiant PRM;Date de debut;Date de fin;Grandeur physique;Grandeur metier;"
              "Etape metier;Unite;Horodate;Valeur;Nature;Pas")


def _outcome(fn, data: bytes, **kw):
    try:
        p = fn(data, name="f.csv", **kw)
    except InputError as exc:
        return ("error", type(exc).__name__, str(exc))
    return ("ok", p.frame, p.warnings, p.metadata, p.source)


def _same(fn, data: bytes, monkeypatch, **kw):
    """Run ``fn`` with the fast path (cut in parts too) and without; assert equal outcomes."""
    with monkeypatch.context() as m:
        m.setattr(T, "FAST_PATH", False)
        slow = _outcome(fn, data, **kw)
    fast = _outcome(fn, data, **kw)
    with monkeypatch.context() as m:
        m.setattr(T, "_PARALLEL_MIN_BYTES", 64)
        parts = _outcome(fn, data, **kw)
    for got in (fast, parts):
        assert got[0] == slow[0], (got, slow)
        if slow[0] == "error":
            assert got == slow
        else:
            pd.testing.assert_frame_equal(got[1], slow[1])
            assert got[2:] == slow[2:]
    return slow


def _long_csv(n_meters: int, n: int, step_s: int = 1800) -> tuple[list[str], np.ndarray]:
    ts = (np.datetime64("2023-01-01T00:00:00") + np.arange(n) * np.timedelta64(step_s, "s"))
    text = np.datetime_as_string(ts, unit="s").astype(object) + "+00:00"
    lines = []
    for m in range(n_meters):
        vals = (np.arange(n) % 97 / 10).astype(str).astype(object)
        lines += list(f"M{m:03d};" + text + ";" + vals)
    return lines, ts


def _csv(lines: list[str], header: str = "meter;timestamp;value", eol: str = "\n") -> bytes:
    return (eol.join([header, *lines]) + eol).encode()


# --- the error path still names the file line -----------------------------------------------


@pytest.mark.parametrize("parts", [False, True])
def test_bad_value_at_line_5001_of_a_big_file(parts, monkeypatch):
    if parts:
        monkeypatch.setattr(T, "_PARALLEL_MIN_BYTES", 4096)
    lines, _ = _long_csv(2, 10_000)
    lines[4999] = lines[4999].rsplit(";", 1)[0] + ";12x"  # file line 5001 (header is line 1)
    with pytest.raises(FormatError) as e:
        read_meter_csv(_csv(lines))
    assert (e.value.line, e.value.field, e.value.found) == (5001, "value", "12x")


@pytest.mark.parametrize("parts", [False, True])
def test_bad_timestamp_and_field_count_at_line_5001(parts, monkeypatch):
    if parts:
        monkeypatch.setattr(T, "_PARALLEL_MIN_BYTES", 4096)
    lines, _ = _long_csv(1, 20_000)
    bad = list(lines)
    bad[4999] = "M000;2023-13-01T00:00:00+00:00;1"
    with pytest.raises(FormatError) as e:
        read_meter_csv(_csv(bad))
    assert (e.value.line, e.value.field) == (5001, "timestamp")
    bad = list(lines)
    bad[4999] += ";extra"
    with pytest.raises(FormatError) as e:
        read_meter_csv(_csv(bad))
    assert e.value.line == 5001
    assert e.value.found == bad[4999]


def test_line_numbers_count_blank_lines_and_crlf(monkeypatch):
    monkeypatch.setattr(T, "_PARALLEL_MIN_BYTES", 4096)
    lines, _ = _long_csv(1, 8_000)
    lines.insert(100, "")
    lines.insert(3000, "")  # two blank lines before the bad one: it moves to file line 5003
    lines[5000] = lines[5000].rsplit(";", 1)[0] + ";-1"
    with pytest.raises(ValueRangeError) as e:
        read_meter_csv(_csv(lines, eol="\r\n"))
    assert (e.value.line, e.value.field) == (5002, "value")


def test_conflicting_duplicate_names_both_lines():
    lines, _ = _long_csv(1, 6_000)
    lines[5999] = lines[4998].rsplit(";", 1)[0] + ";99"  # same time as line 5000, other value
    with pytest.raises(FormatError, match="line 5000 already") as e:
        read_meter_csv(_csv(lines))
    assert e.value.line == 6001


def test_r63_negative_value_at_line_5001():
    lines, _ = _long_csv(1, 6_000)
    rows = [f"30000000000001;01/01/2023;31/12/2023;EA;CONS;BRUT;W;{ln.split(';')[1]};100;B;PT30M"
            for ln in lines]
    rows[4999] = rows[4999].replace(";100;", ";-5;")
    with pytest.raises(ValueRangeError) as e:
        read_enedis(_csv(rows, header=R63_HEADER))
    assert (e.value.line, e.value.field) == (5001, "Valeur")


def test_table_lines_are_lazy_and_right():
    t = T.read_table(("x;1\ny;2\n\nz;3\n", 0)[0], ["a", "b"], sep=";", first_line=2, label="l")
    assert t.lines.tolist() == [2, 3, 5]
    t = T.read_table("x;1\ny;2\n", ["a", "b"], sep=";", first_line=2, label="l")
    assert t._lines is None and t.lines.tolist() == [2, 3] and t.line(1) == 3


# --- same results as the string path -----------------------------------------------------------


def test_big_long_file_same_as_string_path(monkeypatch):
    lines, _ = _long_csv(5, 3_000)
    rng = np.random.default_rng(1)
    shuffled = [lines[i] for i in rng.permutation(len(lines))]
    for data in (_csv(lines), _csv(shuffled), b"\xef\xbb\xbf" + _csv(lines, eol="\r\n")):
        kind, frame, *_ = _same(read_meter_csv, data, monkeypatch)
        assert kind == "ok" and len(frame) == 15_000


def test_meters_in_blocks_out_of_key_order(monkeypatch):
    lines, _ = _long_csv(3, 50)
    blocks = lines[100:] + lines[:100]  # M002, then M000, M001: grouped, not sorted
    kind, frame, *_ = _same(read_meter_csv, _csv(blocks), monkeypatch)
    assert frame["series_key"].iloc[0] == "M000"


def test_r63_same_as_string_path(monkeypatch):
    lines, _ = _long_csv(1, 300)
    rows = []
    for m, (unit, pas) in enumerate([("W", "PT30M"), (" kWh", " pt30m "), ("Wh", "PT30M")]):
        rows += [f" 3000000000000{m};01/01/2023;31/12/2023;EA;CONS;BRUT;{unit};"
                 f"{ln.split(';')[1]};{i % 50};B;{pas}" for i, ln in enumerate(lines)]
    kind, frame, _, meta, _ = _same(read_enedis, _csv(rows, header=R63_HEADER), monkeypatch)
    assert kind == "ok" and meta["prms"].startswith("30000000000000,")


@pytest.mark.parametrize("cell,where", [
    ("PT0M", "Pas"), ("P1D", "Pas"), ("VAr", "Unite"), ("", "Identifiant PRM"),
    ("nan", "Valeur"), ("1e999", "Valeur"), ("", "Valeur"), ("1,5", "Valeur"),
    ("2023-01-01T00:00:00", "Horodate"), ("1850-01-01T00:00:00Z", "Horodate"), ("", "Horodate"),
])
def test_r63_errors_same_as_string_path(cell, where, monkeypatch):
    lines, _ = _long_csv(1, 400)
    names = R63_HEADER.split(";")
    rows = []
    for ln in lines:
        cells = ["30000000000001", "01/01/2023", "31/12/2023", "EA", "CONS", "BRUT", "W",
                 ln.split(";")[1], "7", "B", "PT30M"]
        rows.append(cells)
    rows[250][names.index(where)] = cell
    _same(read_enedis, _csv([";".join(r) for r in rows], header=R63_HEADER), monkeypatch)


_FIXTURE = [HealthCheck.function_scoped_fixture]
_METER = st.sampled_from(["M1", "M2", " M1", "M2 ", "", "É3"])
_TIME = st.sampled_from(["2023-03-26T0{h}:00:00+01:00", "2023-03-26T0{h}:00:00",
                         "2023-03-26 0{h}:30:00Z", "2023-03-26T0{h}:00:00+01",
                         " 2023-03-26T0{h}:00Z",
                         "1899-01-01T0{h}:00:00Z", "x", ""])
_VALUE = st.sampled_from(["1", "2.5", "1,5", "", "nan", "inf", "-3", " 4 ", '"5"', "1e3"])


@settings(max_examples=150, deadline=None, suppress_health_check=_FIXTURE)
@given(rows=st.lists(st.tuples(_METER, _TIME, st.integers(0, 9), _VALUE), min_size=1,
                     max_size=12),
       blank=st.booleans(), crlf=st.booleans(), bom=st.booleans(),
       decimal=st.sampled_from([None, ".", ","]), timestamps=st.sampled_from(["start", "end"]),
       values=st.sampled_from(["interval", "index"]))
def test_long_property_same_as_string_path(rows, blank, crlf, bom, decimal, timestamps, values,
                                           monkeypatch):
    lines = [f"{m};{t.format(h=h)};{v}" for m, t, h, v in rows]
    if blank:
        lines.insert(len(lines) // 2, "")
    data = _csv(lines, eol="\r\n" if crlf else "\n")
    _same(read_meter_csv, (b"\xef\xbb\xbf" if bom else b"") + data, monkeypatch,
          decimal=decimal, timestamps=timestamps, values=values)


@settings(max_examples=100, deadline=None, suppress_health_check=_FIXTURE)
@given(rows=st.lists(st.tuples(st.sampled_from(["30000000000001", "30000000000002", ""]),
                               st.sampled_from(["W", "kW", "Wh", " kwh", "VAr"]),
                               st.integers(0, 40),
                               st.sampled_from(["10", "", "-1", "nan", "7.5"]),
                               st.sampled_from(["PT30M", "PT10M", "pt1h", "PT0M", "X"])),
                     min_size=1, max_size=10),
       series_key=st.sampled_from([None, "k"]), timestamps=st.sampled_from(["auto", "start"]))
def test_r63_property_same_as_string_path(rows, series_key, timestamps, monkeypatch):
    lines = [f"{p};01/01/2023;31/12/2023;EA;CONS;BRUT;{u};"
             f"2023-01-01T{k // 2:02d}:{30 * (k % 2):02d}:00+01:00;{v};B;{pas}"
             for p, u, k, v, pas in rows]
    _same(read_enedis, _csv(lines, header=R63_HEADER), monkeypatch, series_key=series_key,
          timestamps=timestamps)


# --- helpers ------------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(code=st.lists(st.integers(0, 3), min_size=0, max_size=30), data=st.data())
def test_sort_order_is_lexsort(code, data):
    code = np.asarray(code, dtype=np.int64)
    t = np.asarray(data.draw(st.lists(st.integers(0, 4), min_size=len(code),
                                      max_size=len(code))), dtype=np.int64)
    rows = np.asarray(data.draw(st.permutations(range(len(code)))), dtype=np.int64)
    for r in (None, rows):
        want = np.lexsort((t, code)) if r is None else np.lexsort((r, t, code))
        got = T.sort_order(code, t, r)
        np.testing.assert_array_equal(np.arange(len(code)) if got is None else got, want)


def test_raw_text_keeps_plain_utf8_as_bytes():
    raw = T.load_text(b"\xef\xbb\xbfa;b\r\nc;d\r\n", name="x")
    assert raw.data is not None and raw.head(5) == ["a;b", "c;d", ""]
    assert raw.text == "a;b\nc;d\n"
    data, lo = raw.body(1)
    assert data[lo:] == b"c;d\n"
    raw = T.load_text("é;b\n".encode("cp1252"), name="x", fallback="cp1252")
    assert raw.text == "é;b\n" and raw.warnings
    raw = T.load_text("a;é\n".encode("utf-16"), name="x")
    assert raw.head(1) == ["a;é"]
    with pytest.raises(FormatError, match="NUL") as e:
        T.load_text(b"a;b\nc\x00;d\n", name="x")
    assert e.value.line == 2
    with pytest.raises(FormatError, match="empty"):
        T.load_text(b" \n\t\n", name="x")
    big = b"x" * (2 << 20)
    assert T.load_text(big).sha256 == T.sha256_of(big)


@pytest.mark.parametrize("fast", [True, False])
def test_field_count_error_after_a_quoted_separator(fast, monkeypatch):
    monkeypatch.setattr(T, "FAST_PATH", fast)
    text = ('meter,timestamp,value,note\n'
            'A,2023-01-01T00:00Z,1,"Mairie, annexe"\n'
            'A,2023-01-01T01:00Z,1,x\n'
            '\n'
            'A,2023-01-01T02:00Z,1\n')
    with pytest.raises(FormatError, match="wrong number of fields") as e:
        read_meter_csv(text.encode(), name="q.csv")
    assert (e.value.file, e.value.line) == ("q.csv", 5)
    assert e.value.found == "A,2023-01-01T02:00Z,1"


@pytest.mark.parametrize("parts", [False, True])
def test_field_count_error_line_in_a_big_quoted_file(parts, monkeypatch):
    if parts:
        monkeypatch.setattr(T, "_PARALLEL_MIN_BYTES", 4096)
    lines, _ = _long_csv(1, 20_000)
    lines = [f'{ln};"a;b"' for ln in lines]
    lines[14_999] = lines[14_999].rsplit(";", 2)[0]  # file line 15001 lacks the note
    with pytest.raises(FormatError) as e:
        read_meter_csv(_csv(lines, header="meter;timestamp;value;note"))
    assert e.value.line == 15_001
