"""Property tests: whatever bytes arrive, a reader returns a valid result or an InputError."""

from __future__ import annotations

import gzip
import json
import os

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sobriete.domain import columns as C
from sobriete.domain.errors import InputError
from sobriete.domain.portfolio import Portfolio
from sobriete.io.ecowatt import read_ecowatt_json
from sobriete.io.enedis import read_enedis
from sobriete.io.meter_csv import read_meter_csv
from sobriete.io.registry import read_registry
from sobriete.io.tempo import read_tempo_csv
from sobriete.io.weather import read_epw, read_synop, read_weather_csv, resample_hourly

pytestmark = pytest.mark.filterwarnings("ignore::sobriete.io.tempo.TempoWarning")
# Raise SOBRIETE_FUZZ_EXAMPLES locally for a longer hunt; the default keeps the suite quick.
FUZZ = settings(max_examples=int(os.environ.get("SOBRIETE_FUZZ_EXAMPLES", "200")), deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

ENEDIS = (
    "\ufeffIdentifiant PRM;Type de donnees;Date de debut;Date de fin;Grandeur physique;"
    "Grandeur metier;Etape metier;Unite;Pas en minutes\n"
    "12345678901234;Courbe de charge;29/10/2022;31/10/2022;Energie active;Consommation;"
    "Comptage Brut;W;30\nHorodate;Valeur\n"
    + "".join(f"{t.tz_convert('Europe/Paris').isoformat()};{300 + i}\n" for i, t in enumerate(
        pd.date_range("2022-10-29T22:30Z", periods=60, freq="30min")))
).encode()
R63 = ("Identifiant PRM;Date de debut;Date de fin;Grandeur physique;Grandeur metier;"
       "Etape metier;Unite;Horodate;Valeur;Nature;Pas\n" + "".join(
           f"P1;d;f;EA;CONS;BRUT;W;{t.tz_convert('Europe/Paris').isoformat()};{i};B;PT10M\n"
           for i, t in enumerate(pd.date_range("2023-03-26T00:10Z", periods=30, freq="10min")))
       ).encode()
LONG = ("compteur;horodate;valeur\n" + "".join(
    f"École {m};{t:%Y-%m-%d %H:%M};{i},5\n" for m in (1, 2) for i, t in enumerate(
        pd.date_range("2023-10-28 22:00", periods=30, freq="h").tz_localize("UTC")
        .tz_convert("Europe/Paris")))).encode("utf-8")
WIDE = gzip.compress(("timestamp_utc,b0,b4\n" + "".join(
    f"2015-01-01 {h:02d}:00:00,{h}.5,{h * 2}\n" for h in range(24))).encode())
SYNOP = ("timestamp_utc,pmer,dd,ff,u,n,rr3,t_C,td_C\n" + "".join(
    f"2015-01-01 {h:02d}:00:00,101300.0,190.0,0.9,92.0,0.0,0.0,{h / 3},-3.7\n"
    for h in range(0, 24, 3))).encode()
TEMPO = "".join(f"{d:%d/%m/%Y};{c}\r\n" for d, c in zip(
    pd.date_range("2023-01-02", periods=20), ["BLEU", "BLANC", "ROUGE", "BLEU"] * 5,
    strict=True)).encode()
ECOWATT = json.dumps({"signals": [{"GenerationFichier": "2022-12-12T00:00:00+01:00",
                                   "jour": f"2022-12-1{d}T00:00:00+01:00", "dvalue": 2,
                                   "message": "x", "values": [{"pas": h, "hvalue": h % 4}
                                                              for h in range(24)]}
                                  for d in range(2, 5)]}, indent=1).encode()
EPW_HEAD = ("LOCATION,Orly,IDF,FRA,IWEC,071490,48.7,2.4,1.0,89\n" + "X,0\n" * 7)
EPW = (EPW_HEAD + "".join(
    f"2019,1,1,{h},60,x,{h / 2},2.0,80,101300,0,0,300,{h * 10},0,0,0,0,0,0,180,3.5,5,5,20,"
    "77777,9,999999999,0,0.1,0,88,0.2,0,1\n" for h in range(1, 25))).encode()
REGISTRY = ("portfolio_code;territory_code;commune_insee;site_code;building_code;"
            "building_name;activity;floor_area_m2;meter_code;meter_kind\n"
            "MGP;T1;92012;S1;B1;École;école;1200;PRM1;électricité\n"
            "MGP;T1;92012;S1;B1;École;école;1200;GAZ1;gaz\n"
            "MGP;T1;92013;S2;B2;Gymnase;gymnase;800;;\n").encode()


def check_readings(parsed) -> None:
    f = parsed.frame
    assert tuple(f.columns) == C.READING_COLUMNS
    assert str(f[C.START_UTC].dt.tz) == "UTC"
    assert f[C.DURATION_S].dtype == "int64" and f[C.VALUE].dtype == "float64"
    assert not f.duplicated([C.SERIES_KEY, C.QUANTITY, C.START_UTC]).any()
    assert f[C.VALUE].notna().all()


def check_weather(parsed) -> None:
    f = parsed.frame
    assert str(f.index.tz) == "UTC" and f.index.is_monotonic_increasing
    assert set(f.columns) <= set(C.WEATHER_QUANTITIES)
    assert all(f[c].dtype == "float64" for c in f.columns)
    resample_hourly(f)


def check_tempo(frame) -> None:
    assert list(frame.columns) == ["day", C.TEMPO_COLOR]
    assert set(frame[C.TEMPO_COLOR]) <= {"BLEU", "BLANC", "ROUGE"}
    assert not frame["day"].duplicated().any()


def check_ecowatt(result) -> None:
    days, hours = result
    assert days[C.ECOWATT_DAY_LEVEL].between(1, 3).all()
    assert hours[C.ECOWATT_HOUR_LEVEL].between(0, 3).all()
    assert str(hours[C.START_UTC].dt.tz) == "UTC"


CASES = {
    "enedis": (read_enedis, ENEDIS, check_readings),
    "r63": (read_enedis, R63, check_readings),
    "long": (lambda b: read_meter_csv(b, meter_column="compteur", timestamp_column="horodate",
                                      value_column="valeur"), LONG, check_readings),
    "index": (lambda b: read_meter_csv(b, meter_column="compteur", timestamp_column="horodate",
                                       value_column="valeur", values="index"), LONG,
              check_readings),
    "wide": (read_meter_csv, WIDE, check_readings),
    "synop": (read_synop, SYNOP, check_weather),
    "epw": (read_epw, EPW, check_weather),
    "weather_csv": (lambda b: read_weather_csv(b, columns={"t_C": "temp_air_c"}), SYNOP,
                    check_weather),
    "tempo": (read_tempo_csv, TEMPO, check_tempo),
    "ecowatt": (read_ecowatt_json, ECOWATT, check_ecowatt),
    "registry": (read_registry, REGISTRY, lambda p: isinstance(p, Portfolio)),
}
NAMES = sorted(CASES)


def run(name: str, data: bytes) -> None:
    reader, _, check = CASES[name]
    try:
        result = reader(data)
    except InputError as exc:
        assert str(exc)  # renders without failing
        return
    check(result)


@pytest.mark.parametrize("name", NAMES)
def test_valid_samples_parse(name):
    reader, data, check = CASES[name]
    check(reader(data))


@FUZZ
@given(name=st.sampled_from(NAMES), data=st.binary(max_size=400))
def test_random_bytes(name, data):
    run(name, data)


@FUZZ
@given(name=st.sampled_from(NAMES), cut=st.floats(0, 1))
def test_truncated(name, cut):
    data = CASES[name][1]
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    run(name, data[: int(len(data) * cut)])


@FUZZ
@given(name=st.sampled_from(NAMES), pos=st.floats(0, 1), junk=st.binary(min_size=1, max_size=6),
       mode=st.sampled_from(["replace", "insert", "delete"]))
def test_mutated(name, pos, junk, mode):
    data = CASES[name][1]
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    i = int(len(data) * pos)
    if mode == "replace":
        data = data[:i] + junk + data[i + len(junk):]
    elif mode == "insert":
        data = data[:i] + junk + data[i:]
    else:
        data = data[:i] + data[i + len(junk):]
    run(name, data)


@FUZZ
@given(name=st.sampled_from(NAMES), pos=st.floats(0, 1),
       token=st.sampled_from([";", ",", "\t", "\n", "\r\n", "", "-1", "1e400", "nan", "é",
                              "\ufeff", '"', "2023-13-45", "2023-10-29 02:30", "9999999",
                              "mq", "ROUGE", "99.9", "0"]))
def test_mutated_fields(name, pos, token):
    data = CASES[name][1]
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    text = data.decode("utf-8")
    i = int(len(text) * pos)
    j = i
    while j < len(text) and text[j] not in ";,\t\n":
        j += 1
    run(name, (text[:i] + token + text[j:]).encode("utf-8"))


@FUZZ
@given(name=st.sampled_from(NAMES), sep=st.sampled_from([",", ";", "\t", "|"]),
       enc=st.sampled_from(["latin-1", "cp1252", "utf-16", "utf-8"]))
def test_wrong_separator_or_encoding(name, sep, enc):
    data = CASES[name][1]
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    text = data.decode("utf-8").replace(";", sep).replace("Grandeur", "Grandéur")
    try:
        encoded = text.encode(enc)
    except UnicodeEncodeError:
        encoded = text.encode(enc, errors="replace")
    run(name, encoded)


@FUZZ
@given(start=st.datetimes(min_value=pd.Timestamp("2000-01-01").to_pydatetime(),
                          max_value=pd.Timestamp("2030-12-31").to_pydatetime()),
       n=st.integers(1, 60), step_min=st.sampled_from([10, 30, 60]),
       conv=st.sampled_from(["start", "end"]), drop=st.integers(0, 59))
def test_naive_local_series_across_dst(start, n, step_min, conv, drop):
    """Any run of local clock times (a row possibly missing) parses to distinct UTC starts."""
    utc = pd.date_range(pd.Timestamp(start).floor("h").tz_localize("UTC"), periods=n,
                        freq=f"{step_min}min")
    local = utc.tz_convert("Europe/Paris").strftime("%Y-%m-%d %H:%M")
    rows = [f"m,{t},1\n" for k, t in enumerate(local) if k != drop or n < 3]
    data = ("meter,timestamp,value\n" + "".join(rows)).encode()
    try:
        p = read_meter_csv(data, timestamps=conv, step_s=step_min * 60)
    except InputError:
        return  # an unresolvable autumn hour is reported, never guessed
    check_readings(p)
    assert len(p.frame) == len(rows)
