from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest

from sobriete.domain.errors import FormatError, InputError, ValueRangeError
from sobriete.io.enedis import read_enedis

REAL = "france/enedis_courbe_de_charge_example.csv"
PORTAL_HEAD = (
    "\ufeffIdentifiant PRM;Type de donnees;Date de debut;Date de fin;Grandeur physique;"
    "Grandeur metier;Etape metier;Unite;Pas en minutes\n"
    "12345678901234;Courbe de charge;01/01/2023;02/01/2023;Energie active;Consommation;"
    "Comptage Brut;{unit};{pas}\nHorodate;Valeur\n"
)


def portal(rows: list[str], unit: str = "W", pas: str = "30") -> bytes:
    return (PORTAL_HEAD.format(unit=unit, pas=pas) + "\n".join(rows) + "\n").encode()


def test_real_portal_file(shared_data, assert_readings):
    path = shared_data / REAL
    parsed = read_enedis(path)
    f = parsed.frame
    assert_readings(f)
    assert len(f) == 17_520
    assert parsed.source.format == "enedis-portal"
    assert f["start_utc"].iloc[0] == pd.Timestamp("2022-07-28T22:00Z")
    assert (f["duration_s"] == 1800).all()
    # Independent total: sum of raw W values x 0.5 h / 1000, exact in decimal arithmetic.
    lines = path.read_text(encoding="utf-8-sig").splitlines()[3:]
    total_w = sum(Decimal(line.split(";")[1]) for line in lines if line)
    assert f["value"].sum() == pytest.approx(float(total_w * Decimal("0.5") / 1000), abs=1e-6)
    per_day = f["start_utc"].dt.tz_convert("Europe/Paris").dt.date.value_counts()
    assert per_day[pd.Timestamp("2022-10-30").date()] == 50
    assert per_day[pd.Timestamp("2023-03-26").date()] == 46
    assert (per_day.drop([pd.Timestamp("2022-10-30").date(),
                          pd.Timestamp("2023-03-26").date()]) == 48).all()


def test_start_convention_shifts_by_one_step(shared_data):
    end = read_enedis(shared_data / REAL).frame
    start = read_enedis(shared_data / REAL, timestamps="start").frame
    assert (start["start_utc"] - end["start_utc"] == pd.Timedelta("30min")).all()


def test_units_and_series_key():
    rows = ["2023-01-01T00:30:00+01:00;2", "2023-01-01T01:00:00+01:00;4"]
    kw = read_enedis(portal(rows, unit="kW"), series_key="school-1").frame
    assert kw["value"].tolist() == [1.0, 2.0]
    assert set(kw["series_key"]) == {"school-1"}
    wh = read_enedis(portal(rows, unit="Wh")).frame
    assert wh["value"].tolist() == [0.002, 0.004]
    with pytest.raises(FormatError) as e:
        read_enedis(portal(rows, unit="VAr"))
    assert e.value.line == 2 and e.value.field == "Unite"


def test_step_inferred_when_header_empty():
    rows = ["2023-01-01T00:10:00+01:00;600", "2023-01-01T00:20:00+01:00;600",
            "2023-01-01T00:30:00+01:00;600", "2023-01-01T00:50:00+01:00;600"]
    f = read_enedis(portal(rows, pas="")).frame
    assert (f["duration_s"] == 600).all()
    assert f["value"].tolist() == [0.1] * 4


def test_errors_name_the_file_line():
    rows = ["2023-01-01T00:30:00+01:00;2", "2023-01-01T01:00:00+01:00;abc"]
    with pytest.raises(FormatError) as e:
        read_enedis(portal(rows), name="x.csv")
    assert (e.value.file, e.value.line, e.value.field) == ("x.csv", 5, "Valeur")
    rows = ["2023-01-01T00:30:00+01:00;2", "2023-01-01T01:00:00+01:00;-4"]
    with pytest.raises(ValueRangeError) as e:
        read_enedis(portal(rows))
    assert e.value.line == 5
    rows = ["2023-01-01T00:30:00+01:00;2", "2023-01-01T00:45:00+01:00;2"]
    with pytest.raises(FormatError) as e:
        read_enedis(portal(rows))
    assert e.value.line == 5


def test_duplicates():
    rows = ["2023-01-01T00:30:00+01:00;2", "2023-01-01T00:30:00+01:00;2",
            "2023-01-01T01:00:00+01:00;2"]
    p = read_enedis(portal(rows))
    assert len(p.frame) == 2 and any("duplicate" in w for w in p.warnings)
    rows[1] = "2023-01-01T00:30:00+01:00;3"
    with pytest.raises(FormatError) as e:
        read_enedis(portal(rows))
    assert e.value.line == 5 and "line 4" in e.value.expected


R63_HEAD = ("Identifiant PRM;Date de debut;Date de fin;Grandeur physique;Grandeur metier;"
            "Etape metier;Unite;Horodate;Valeur;Nature;Pas\n")


def r63(rows: list[tuple[str, str, str, str]]) -> bytes:
    body = "".join(f"{prm};2023-03-25;2023-03-27;EA;CONS;BRUT;W;{ts};{v};B;{pas}\n"
                   for prm, ts, v, pas in rows)
    return (R63_HEAD + body).encode()


def test_r63_dst_spring_day(assert_readings):
    # 10-min points over the spring DST change: 01:50 CET is followed by 03:00 CEST.
    ts = pd.date_range("2023-03-26T00:10", periods=12, freq="10min", tz="UTC")
    rows = [("PRM1", t.tz_convert("Europe/Paris").isoformat(), "600", "PT10M") for t in ts]
    rows += [("PRM2", "2023-03-26T03:00:00+02:00", "1200", "PT30M")]
    p = read_enedis(r63(rows))
    assert p.source.format == "enedis-r63"
    f = p.frame
    assert_readings(f)
    one = f[f["series_key"] == "PRM1"]
    assert len(one) == 12 and (one["duration_s"] == 600).all()
    assert one["start_utc"].iloc[0] == pd.Timestamp("2023-03-26T00:00Z")
    assert f[f["series_key"] == "PRM2"]["value"].tolist() == [0.6]
    start = read_enedis(r63(rows), timestamps="start").frame
    assert start[start["series_key"] == "PRM1"]["start_utc"].iloc[0] == ts[0]


def test_r63_errors():
    with pytest.raises(FormatError) as e:
        read_enedis(r63([("P", "2023-01-01T00:30:00+01:00", "1", "PT30M"),
                         ("P", "2023-01-01T01:00:00+01:00", "1", "30 minutes")]))
    assert e.value.line == 3 and e.value.field == "Pas"
    with pytest.raises(InputError):
        read_enedis(r63([("P", "2023-01-01T00:30:00+01:00", "1", "PT30M"),
                         ("Q", "2023-01-01T00:30:00+01:00", "1", "PT30M")]), series_key="x")


def test_not_enedis():
    with pytest.raises(FormatError) as e:
        read_enedis(b"a;b\n1;2\n")
    assert e.value.line == 1
    with pytest.raises(InputError):
        read_enedis("/nonexistent/file.csv")
