"""MQTT payloads of live readings: topic scheme, JSON shape and validation. Pure: no network.

Topic: ``<prefix>/<building_code>/<kind>/<series_key>`` with ``prefix`` = ``sobriete/v1`` by
default and ``kind`` in ``meter | sensor | weather``.

Payload (UTF-8 JSON), one reading::

    {"ts": "2026-01-05T08:00:00+01:00", "quantity": "temp_zone_c", "value": 20.5}

or a batch ``{"readings": [{...}, {...}]}``. ``ts`` is the interval start (or sampling
instant) and must carry a UTC offset; ``duration_s`` is 0 (the default) for samples and
required > 0 for interval quantities (``energy_kwh``...). A message is accepted whole or
rejected whole: one bad reading in a batch rejects the batch, so nothing is half-written.
The full contract, with examples, is in docs/mqtt.md.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd

from sobriete.domain import columns as C
from sobriete.domain.errors import FormatError, ValueRangeError

DEFAULT_PREFIX = "sobriete/v1"
KINDS: tuple[str, ...] = ("meter", "sensor", "weather")
MAX_PAYLOAD_BYTES = 1_000_000
MAX_BATCH = 10_000
_BUILDING_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_SERIES_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_READING_FIELDS = frozenset({"ts", "quantity", "value", "duration_s"})
# Bounds the store's integer epoch seconds can round-trip and that a real sensor can send.
_MIN_TS = C.MIN_TIMESTAMP_UTC
_MAX_TS = C.MAX_TIMESTAMP_UTC


@dataclass(frozen=True)
class Reading:
    quantity: str
    start_utc: datetime  # timezone-aware UTC, floored to the second (the store's resolution)
    duration_s: int
    value: float


@dataclass(frozen=True)
class MqttMessage:
    """One accepted message: where it came from (the topic) and its readings."""

    building_code: str
    kind: str
    series_key: str
    readings: tuple[Reading, ...]


def parse_topic(topic: str, prefix: str = DEFAULT_PREFIX) -> tuple[str, str, str]:
    """(building_code, kind, series_key) of a topic, or ``FormatError``."""
    head = prefix.rstrip("/") + "/"
    expected = f"{head}<building_code>/<kind>/<series_key>"
    if not topic.startswith(head):
        raise FormatError("topic outside the prefix", file=topic, field="topic",
                          expected=expected)
    parts = topic[len(head):].split("/")
    if len(parts) != 3:
        raise FormatError("topic must have exactly three levels after the prefix",
                          file=topic, field="topic", expected=expected)
    building, kind, key = parts
    if not _BUILDING_RE.match(building):
        raise FormatError("bad building code", file=topic, field="building_code",
                          expected="1-64 of A-Z a-z 0-9 . _ -", found=building)
    if kind not in KINDS:
        raise FormatError("unknown kind", file=topic, field="kind",
                          expected=" | ".join(KINDS), found=kind)
    if not _SERIES_RE.match(key):
        raise FormatError("bad series key", file=topic, field="series_key",
                          expected="1-128 of A-Z a-z 0-9 . _ : -", found=key)
    return building, kind, key


def parse_message(topic: str, payload: bytes, prefix: str = DEFAULT_PREFIX) -> MqttMessage:
    """Validate one MQTT message. Raises an ``InputError`` subclass whose text is the reason
    stored in the dead-letter table."""
    building, kind, key = parse_topic(topic, prefix)
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise FormatError("payload too large", file=topic, expected=f"<= {MAX_PAYLOAD_BYTES} B",
                          found=str(len(payload)))
    try:
        doc = json.loads(payload.decode("utf-8"), parse_constant=_no_constant)
    except UnicodeDecodeError as exc:
        raise FormatError(f"payload is not UTF-8: {exc.reason}", file=topic) from None
    except (ValueError, RecursionError) as exc:
        raise FormatError(f"payload is not JSON: {exc}", file=topic) from None
    if isinstance(doc, dict) and "readings" in doc:
        if set(doc) != {"readings"}:
            raise FormatError("a batch has only the key 'readings'", file=topic,
                              found=", ".join(sorted(doc)))
        items = doc["readings"]
        if not isinstance(items, list) or not items:
            raise FormatError("'readings' must be a non-empty list", file=topic,
                              field="readings")
        if len(items) > MAX_BATCH:
            raise FormatError("too many readings in one message", file=topic,
                              field="readings", expected=f"<= {MAX_BATCH}",
                              found=str(len(items)))
        readings = tuple(_reading(item, topic, f"readings[{i}].") for i, item in
                         enumerate(items))
    else:
        readings = (_reading(doc, topic, ""),)
    return MqttMessage(building, kind, key, readings)


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows")


def _reading(item: object, topic: str, where: str) -> Reading:
    if not isinstance(item, dict):
        raise FormatError("a reading must be a JSON object", file=topic,
                          field=where.rstrip(".") or None,
                          expected='{"ts": ..., "quantity": ..., "value": ...}')
    unknown = set(item) - _READING_FIELDS
    if unknown:
        raise FormatError("unknown field", file=topic, field=where + sorted(unknown)[0],
                          expected=", ".join(sorted(_READING_FIELDS)))
    for name in ("ts", "quantity", "value"):
        if name not in item:
            raise FormatError("missing field", file=topic, field=where + name)
    name = item["quantity"]
    if not isinstance(name, str) or name not in C.QUANTITIES:
        raise FormatError("unknown quantity", file=topic, field=where + "quantity",
                          expected="one of " + ", ".join(sorted(C.QUANTITIES)),
                          found=str(name))
    q = C.QUANTITIES[name]
    start = _timestamp(item["ts"], topic, where + "ts")
    duration = item.get("duration_s", None if q.is_interval else 0)
    if isinstance(duration, float) and duration.is_integer():
        duration = int(duration)
    if isinstance(duration, bool) or not isinstance(duration, int):
        raise FormatError("duration_s must be an integer number of seconds", file=topic,
                          field=where + "duration_s",
                          expected="> 0 for " + name if q.is_interval else "0",
                          found=str(duration))
    if q.is_interval and not 0 < duration <= 366 * 86400:
        raise ValueRangeError("an interval quantity needs its interval length", file=topic,
                              field=where + "duration_s", expected="1..31622400",
                              found=str(duration))
    if not q.is_interval and duration != 0:
        raise ValueRangeError(f"{name} is an instantaneous sample", file=topic,
                              field=where + "duration_s", expected="0", found=str(duration))
    value = item["value"]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FormatError("value must be a number", file=topic, field=where + "value",
                          found=repr(value))
    value = float(value)
    if not math.isfinite(value):
        raise ValueRangeError("value must be finite", file=topic, field=where + "value",
                              found=str(value))
    lo, hi = q.min_value, q.max_value
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        rng = f"[{'' if lo is None else f'{lo:g}'}, {'' if hi is None else f'{hi:g}'}]"
        raise ValueRangeError(f"value out of the valid range of {name}", file=topic,
                              field=where + "value", expected=f"{rng} {q.unit}",
                              found=f"{value:g}")
    return Reading(name, start, duration, value)


def _timestamp(raw: object, topic: str, field: str) -> datetime:
    expected = "ISO 8601 with an offset, e.g. 2026-01-05T08:00:00+01:00"
    if not isinstance(raw, str):
        raise FormatError("ts must be a string", file=topic, field=field, expected=expected,
                          found=repr(raw))
    try:
        ts = datetime.fromisoformat(raw)
    except ValueError:
        raise FormatError("ts is not an ISO 8601 timestamp", file=topic, field=field,
                          expected=expected, found=raw) from None
    if ts.tzinfo is None or ts.utcoffset() is None:
        raise FormatError("ts has no UTC offset (naive local times are ambiguous at DST)",
                          file=topic, field=field, expected=expected, found=raw)
    ts = ts.astimezone(UTC).replace(microsecond=0)
    if not _MIN_TS <= ts < _MAX_TS:
        raise ValueRangeError("ts is implausible", file=topic, field=field,
                              expected=f"between {_MIN_TS.year} and {_MAX_TS.year}",
                              found=raw)
    return ts


def to_frame(messages: list[MqttMessage]) -> pd.DataFrame:
    """A long reading frame (``columns.READING_COLUMNS``) of accepted messages."""
    rows = [
        (m.series_key, r.quantity, r.start_utc, r.duration_s, r.value)
        for m in messages for r in m.readings
    ]
    frame = pd.DataFrame(rows, columns=list(C.READING_COLUMNS))
    frame[C.START_UTC] = pd.to_datetime(frame[C.START_UTC], utc=True)
    frame[C.DURATION_S] = frame[C.DURATION_S].astype("int64")
    frame[C.VALUE] = frame[C.VALUE].astype("float64")
    return frame


__all__ = ["DEFAULT_PREFIX", "KINDS", "MqttMessage", "Reading", "parse_message",
           "parse_topic", "to_frame"]
