"""MQTT payload contract: what is accepted, and that every rejection says why."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sobriete.domain import columns as C
from sobriete.domain.errors import FormatError, InputError, ValueRangeError
from sobriete.io.mqtt_payload import parse_message, parse_topic, to_frame

TOPIC = "sobriete/v1/ECOLE-01/sensor/zone-1"


def _msg(payload: object, topic: str = TOPIC):
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return parse_message(topic, raw)


def test_single_reading_is_converted_to_utc():
    m = _msg({"ts": "2026-01-05T08:00:00+01:00", "quantity": "temp_zone_c", "value": 20.5})
    assert (m.building_code, m.kind, m.series_key) == ("ECOLE-01", "sensor", "zone-1")
    (r,) = m.readings
    assert r.start_utc == datetime(2026, 1, 5, 7, 0, tzinfo=UTC)
    assert (r.quantity, r.duration_s, r.value) == ("temp_zone_c", 0, 20.5)


def test_batch_and_frame():
    m = _msg({"readings": [
        {"ts": "2026-01-05T07:00:00Z", "quantity": "energy_kwh", "value": 1, "duration_s": 600},
        {"ts": "2026-01-05T07:10:00.750Z", "quantity": "energy_kwh", "value": 2.5,
         "duration_s": 600},
    ]}, topic="sobriete/v1/MAIRIE/meter/PRM123")
    frame = to_frame([m])
    assert list(frame.columns) == list(C.READING_COLUMNS)
    assert str(frame[C.START_UTC].dt.tz) == "UTC"
    # The store keeps whole seconds: sub-second parts are floored, documented in docs/mqtt.md.
    assert frame[C.START_UTC].iloc[1] == datetime(2026, 1, 5, 7, 10, tzinfo=UTC)
    assert frame[C.VALUE].tolist() == [1.0, 2.5]


@pytest.mark.parametrize(
    ("topic", "field"),
    [
        ("other/v1/B/sensor/s", "topic"),
        ("sobriete/v1/B/sensor", "topic"),
        ("sobriete/v1/B/sensor/s/extra", "topic"),
        ("sobriete/v1/B/boiler/s", "kind"),
        ("sobriete/v1/B c/sensor/s", "building_code"),
        ("sobriete/v1/B/sensor/" + "x" * 129, "series_key"),
    ],
)
def test_bad_topics(topic, field):
    with pytest.raises(FormatError) as exc:
        parse_topic(topic)
    assert exc.value.field == field
    assert topic[:20] in str(exc.value)


OK = {"ts": "2026-01-05T08:00:00+01:00", "quantity": "temp_zone_c", "value": 20.5}


@pytest.mark.parametrize(
    ("payload", "error", "words"),
    [
        (b"{not json", FormatError, "not JSON"),
        (b"\xff\xfe", FormatError, "not UTF-8"),
        (b'{"ts": "2026-01-05T08:00:00Z", "quantity": "temp_zone_c", "value": NaN}',
         FormatError, "not JSON"),
        ([1, 2], FormatError, "JSON object"),
        ({**OK, "quantity": "temp_kelvin"}, FormatError, "unknown quantity"),
        ({**OK, "ts": "2026-01-05T08:00:00"}, FormatError, "no UTC offset"),
        ({**OK, "ts": "yesterday"}, FormatError, "not an ISO 8601"),
        ({**OK, "ts": 1767600000}, FormatError, "must be a string"),
        ({**OK, "ts": "1970-01-01T00:00:00Z"}, ValueRangeError, "implausible"),
        ({**OK, "value": 95.0}, ValueRangeError, "out of the valid range"),
        ({**OK, "value": "20.5"}, FormatError, "must be a number"),
        ({**OK, "value": True}, FormatError, "must be a number"),
        # JSON text may spell a number too big for a float: it parses to inf.
        (b'{"ts": "2026-01-05T08:00:00Z", "quantity": "temp_zone_c", "value": 1e400}',
         ValueRangeError, "finite"),
        ({**OK, "duration_s": 600}, ValueRangeError, "instantaneous"),
        ({**OK, "unit": "C"}, FormatError, "unknown field"),
        ({"ts": OK["ts"], "quantity": "temp_zone_c"}, FormatError, "missing field"),
        ({"ts": OK["ts"], "quantity": "energy_kwh", "value": 1}, FormatError, "duration_s"),
        ({"ts": OK["ts"], "quantity": "energy_kwh", "value": -1, "duration_s": 600},
         ValueRangeError, "valid range"),
        ({"readings": []}, FormatError, "non-empty list"),
        ({"readings": [OK], "extra": 1}, FormatError, "only the key"),
    ],
)
def test_rejections_name_the_reason(payload, error, words):
    with pytest.raises(error) as exc:
        _msg(payload)
    assert words in str(exc.value)
    assert TOPIC in str(exc.value)


def test_one_bad_reading_rejects_the_whole_batch_and_names_it():
    with pytest.raises(ValueRangeError) as exc:
        _msg({"readings": [OK, {**OK, "value": -99}]})
    assert exc.value.field == "readings[1].value"


@given(
    value=st.floats(allow_nan=False, allow_infinity=False),
    offset_min=st.integers(-14 * 60, 14 * 60),
    second=st.integers(0, 10**9),
)
def test_any_offset_gives_the_same_instant_and_range_is_enforced(value, offset_min, second):
    instant = datetime.fromtimestamp(1_000_000_000 + second, UTC)
    from datetime import timedelta, timezone

    local = instant.astimezone(timezone(timedelta(minutes=offset_min)))
    payload = {"ts": local.isoformat(), "quantity": "relative_humidity_pct", "value": value}
    if 0.0 <= value <= 100.0:
        (r,) = _msg(payload).readings
        assert r.start_utc == instant
    else:
        with pytest.raises(ValueRangeError):
            _msg(payload)


@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_crash(raw):
    try:
        parse_message(TOPIC, raw)
    except InputError:
        pass
