from __future__ import annotations

import pytest

from sobriete.domain.errors import FormatError, InputError
from sobriete.domain.portfolio import ActivityCategory, HeatingSystem, MeterKind
from sobriete.io.registry import read_registry

HEAD = ("portfolio_code;portfolio_name;territory_code;territory_name;commune_insee;"
        "commune_name;site_code;site_name;building_code;building_name;activity;floor_area_m2;"
        "heating_system;climate_zone;school_zone;meter_code;meter_kind;meter_step_min;"
        "subscribed_power_kva;zone_code;sensor_code;sensor_kind\n")
ROWS = [
    "MGP;Métropole;T1;Ouest;92012;Boulogne;S1;GS Jaurès;B1;École Jaurès;école;1250,5;"
    "réseau de chaleur;H1;C;30001234567890;électricité;30;36;;;",
    "MGP;Métropole;T1;Ouest;92012;Boulogne;S1;GS Jaurès;B1;École Jaurès;école;1250,5;"
    "réseau de chaleur;H1;C;GAZ-1;gaz;;;;;",
    "MGP;Métropole;T1;Ouest;92012;Boulogne;S1;GS Jaurès;B1;École Jaurès;;;;;;;;;;Z1;TH-1;"
    "température",
    "MGP;Métropole;T1;Ouest;92012;Boulogne;S2;Gymnase;B2;Gymnase Marcel;gymnase;900;gaz;;;;"
    ";;;;;",
]


def reg(rows: list[str]) -> bytes:
    return (HEAD + "\n".join(rows) + "\n").encode()


def test_registry_builds_the_estate():
    p = read_registry(reg(ROWS))
    assert p.code == "MGP"
    blds = {b.code: b for _, _, _, b in p.buildings()}
    b1 = blds["B1"]
    assert b1.activity is ActivityCategory.SCHOOL
    assert b1.floor_area_m2 == 1250.5
    assert b1.heating_system is HeatingSystem.DISTRICT_HEAT
    assert [(m.code, m.kind, m.step_s) for m in b1.meters] == [
        ("30001234567890", MeterKind.ELECTRICITY, 1800), ("GAZ-1", MeterKind.GAS, None)]
    assert b1.zones[0].sensors[0].code == "TH-1"
    assert b1.calendar is not None and b1.calendar.school_zone == "Zone C"
    assert blds["B2"].activity is ActivityCategory.GYM


def test_registry_errors_name_line_and_column():
    bad = ROWS[:3] + [ROWS[3].replace(";gymnase;", ";patinoire;")]
    with pytest.raises(InputError) as e:
        read_registry(reg(bad), name="reg.csv")
    assert (e.value.file, e.value.line, e.value.field) == ("reg.csv", 5, "activity")
    bad = ROWS[:1] + [ROWS[1].replace(";1250,5;", ";1300;")]
    with pytest.raises(InputError) as e:
        read_registry(reg(bad))
    assert e.value.line == 3 and e.value.field == "floor_area_m2"
    bad = [ROWS[0].replace(";H1;", ";H4;")]
    with pytest.raises(InputError) as e:
        read_registry(reg(bad))
    assert e.value.line == 2 and e.value.field == "climate_zone"
    with pytest.raises(FormatError):
        read_registry(b"portfolio_code;colour\nA;b\n")
    bad = [ROWS[0].replace(";B1;", ";;")]
    with pytest.raises(InputError) as e:
        read_registry(reg(bad))
    assert e.value.field == "building_code"


def _set(row: str, **fields: str) -> str:
    names = HEAD.strip().split(";")
    cells = row.split(";")
    for k, v in fields.items():
        cells[names.index(k)] = v
    return ";".join(cells)


def test_registry_refuses_a_meter_or_sensor_in_two_buildings():
    moved = _set(ROWS[3], meter_code="GAZ-1", meter_kind="gaz")
    with pytest.raises(InputError, match="line 3") as e:
        read_registry(reg([*ROWS[:3], moved]), name="reg.csv")
    assert (e.value.file, e.value.line, e.value.field) == ("reg.csv", 5, "meter_code")
    assert "B1" in str(e.value) and "B2" in str(e.value)
    sensor = _set(ROWS[3], zone_code="Z9", sensor_code="TH-1")
    with pytest.raises(InputError, match="line 4") as e:
        read_registry(reg([*ROWS[:3], sensor]))
    assert (e.value.line, e.value.field) == (5, "sensor_code")
    # The same meter repeated on rows of its own building stays one meter.
    p = read_registry(reg([*ROWS, ROWS[1]]))
    blds = {b.code: b for _, _, _, b in p.buildings()}
    assert [m.code for m in blds["B1"].meters] == ["30001234567890", "GAZ-1"]


def test_registry_weather_station():
    head = HEAD.rstrip("\n") + ";weather_station\n"
    rows = [ROWS[0] + ";07149-paris-orly", ROWS[1] + ";", ROWS[3] + ";"]
    p = read_registry((head + "\n".join(rows) + "\n").encode())
    blds = {b.code: b for _, _, _, b in p.buildings()}
    assert blds["B1"].weather_station == "07149-paris-orly"
    assert blds["B2"].weather_station is None
    assert read_registry(reg(ROWS)).buildings()[0][3].weather_station is None
    # Given on any row of the building, not only its first.
    rows[0], rows[1] = ROWS[0] + ";", ROWS[1] + ";07149-paris-orly"
    blds = {b.code: b for _, _, _, b in
            read_registry((head + "\n".join(rows) + "\n").encode()).buildings()}
    assert blds["B1"].weather_station == "07149-paris-orly"
    rows[0] = ROWS[0] + ";bedford"
    with pytest.raises(InputError) as e:
        read_registry((head + "\n".join(rows) + "\n").encode())
    assert (e.value.line, e.value.field) == (3, "weather_station")


def test_demo_registry_has_weather_stations():
    from importlib.resources import files

    p = read_registry(files("sobriete.data").joinpath("registry_demo.csv").read_bytes())
    stations = {b.code: b.weather_station for _, _, _, b in p.buildings()}
    assert stations == {"b0": "bedford", "b4": "bedford", "b8": "bedford", "LINKY-1": None}


def test_registry_building_attribute_on_a_later_row():
    first = _set(ROWS[0], floor_area_m2="")
    p = read_registry(reg([first, ROWS[1]]))
    assert p.buildings()[0][3].floor_area_m2 == 1250.5
    with pytest.raises(InputError) as e:
        read_registry(reg([_set(ROWS[0], activity=""), _set(ROWS[1], activity="patinoire")]))
    assert (e.value.line, e.value.field) == (3, "activity")
