from __future__ import annotations

import json
import warnings

import pandas as pd
import pytest

from sobriete.domain.errors import FormatError
from sobriete.io.ecowatt import read_ecowatt_json
from sobriete.io.tempo import TempoWarning, read_tempo_csv


def test_real_tempo_calendar(shared_data):
    with warnings.catch_warnings():
        warnings.simplefilter("error", TempoWarning)
        f = read_tempo_csv(shared_data / "france/tempo_calendar_2014_2023.csv")
    assert list(f.columns) == ["day", "tempo_color"]
    assert len(f) == 3_259
    assert f["day"].iloc[0] == pd.Timestamp("2014-09-01").date()
    assert f["tempo_color"].value_counts()["ROUGE"] == 194
    assert f["day"].is_monotonic_increasing and not f["day"].duplicated().any()


def test_tempo_errors_and_warnings():
    with pytest.raises(FormatError) as e:
        read_tempo_csv(b"01/01/2023;BLEU\n02/01/2023;VERT\n")
    assert e.value.line == 2
    with pytest.raises(FormatError) as e:
        read_tempo_csv(b"01/01/2023;BLEU\n02/01/2023;BLEU\n01/01/2023;ROUGE\n")
    assert e.value.line == 3 and "line 1" in e.value.expected
    with pytest.warns(TempoWarning, match="weekend"):
        f = read_tempo_csv(b"Date;Couleur\n07/01/2023;ROUGE\n07/01/2023;ROUGE\n")
    assert len(f) == 1 and any("repeated" in w for w in f.attrs["warnings"])
    with pytest.raises(FormatError) as e:
        read_tempo_csv(b"31/02/2023;BLEU\n")
    assert e.value.line == 1 and e.value.field == "day"


def test_tempo_rte_json():
    doc = {"tempo_like_calendars": {"values": [
        {"start_date": "2023-01-03T00:00:00+01:00", "end_date": "x", "value": "RED"},
        {"start_date": "2023-01-02T00:00:00+01:00", "end_date": "x", "value": "WHITE"}]}}
    f = read_tempo_csv(json.dumps(doc).encode())
    assert f["tempo_color"].tolist() == ["BLANC", "ROUGE"]
    doc["tempo_like_calendars"]["values"][1]["value"] = "GREEN"
    with pytest.raises(FormatError) as e:
        read_tempo_csv(json.dumps(doc).encode())
    assert e.value.field == "tempo_like_calendars.values[1].value"


def _signal(jour: str, dvalue=1, hvalue=0, n=24):
    return {"GenerationFichier": "2022-10-28T23:00:00+02:00", "jour": jour, "dvalue": dvalue,
            "message": "Pas d'alerte", "values": [{"pas": h, "hvalue": hvalue}
                                                    for h in range(n)]}


def test_ecowatt():
    doc = {"signals": [_signal("2022-10-30T00:00:00+02:00", 2, 1),
                       _signal("2022-10-29T00:00:00+02:00")]}
    days, hours = read_ecowatt_json(json.dumps(doc).encode())
    assert days["day"].tolist() == [pd.Timestamp("2022-10-29").date(),
                                    pd.Timestamp("2022-10-30").date()]
    assert days["ecowatt_day_level"].tolist() == [1, 2]
    assert len(hours) == 48
    assert hours["start_utc"].iloc[0] == pd.Timestamp("2022-10-28T22:00Z")
    d30 = hours[hours["day"] == pd.Timestamp("2022-10-30").date()]
    assert d30["start_utc"].iloc[3] == pd.Timestamp("2022-10-30T02:00Z")  # 03:00 CET


def test_ecowatt_errors_name_the_json_path():
    doc = {"signals": [_signal("2022-12-12T00:00:00+01:00"), _signal("2022-12-13T00:00:00+01:00"),
                       _signal("2022-12-14T00:00:00+01:00")]}
    doc["signals"][2]["values"][5]["hvalue"] = 4
    with pytest.raises(FormatError) as e:
        read_ecowatt_json(json.dumps(doc, indent=2).encode())
    assert e.value.field == "signals[2].values[5].hvalue"
    assert e.value.line is not None and e.value.line > 1
    doc["signals"][2]["values"][5]["hvalue"] = 0
    doc["signals"][0]["dvalue"] = 0
    with pytest.raises(FormatError) as e:
        read_ecowatt_json(json.dumps(doc).encode())
    assert e.value.field == "signals[0].dvalue"
    with pytest.raises(FormatError) as e:
        read_ecowatt_json(b'{"signals": [')
    assert e.value.line == 1
