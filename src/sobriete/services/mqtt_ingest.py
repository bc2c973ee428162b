"""Live ingestion: MQTT readings into the store, exactly once, batch by batch.

Exactly-once in the store = at-least-once delivery + idempotent writes. The broker keeps a
QoS 1 message until it is acknowledged, and this service sends the PUBACK of a message only
AFTER the transaction holding it has committed. A crash (even SIGKILL) between receipt and
commit therefore leaves the message unacknowledged in the persistent session, and the broker
re-delivers it; a crash between commit and PUBACK makes the broker re-deliver a message that
is already stored, and the primary key (series_id, start_s) makes that write a no-op.

Why paho-mqtt and not aiomqtt: aiomqtt 2.5 acknowledges inside its own message iterator and
exposes no manual acknowledgement, so it cannot tie a PUBACK to a commit. paho-mqtt 2.x has
``manual_ack`` + ``Client.ack``. Its network loop runs here in the service's only thread
(``Client.loop``), not in paho's background thread: receipt, commit and acknowledgement are
then strictly ordered with no lock, and a reconnect can never interleave with a flush.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions
from sqlalchemy import Connection, update
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError

from sobriete.domain.errors import InputError
from sobriete.io.mqtt_payload import DEFAULT_PREFIX, MqttMessage, parse_message, to_frame
from sobriete.services.store import WriteCounts, open_store, write_readings
from sobriete.services.store.schema import import_batch, mqtt_dead_letter

log = logging.getLogger("sobriete.mqtt_ingest")
IMPORT_FORMAT = "mqtt"


@dataclass(frozen=True)
class IngestSettings:
    host: str = "127.0.0.1"
    port: int = 1883
    topic_prefix: str = DEFAULT_PREFIX
    client_id: str = "sobriete-ingest"
    db_url: str | None = None
    batch_size: int = 500  # flush after this many messages...
    flush_seconds: float = 2.0  # ...or this long after the oldest unflushed one arrived
    username: str | None = None
    password: str | None = None
    session_expiry_s: int = 7 * 86400  # how long the broker keeps our queue while we are down
    log_every_s: float = 60.0
    keepalive_s: int = 60

    @property
    def source(self) -> str:
        return f"mqtt://{self.host}:{self.port}/{self.topic_prefix}#client={self.client_id}"

    @property
    def receive_maximum(self) -> int:
        # Unacknowledged messages the broker may have in flight to us. Acks wait for the
        # commit, so below batch_size a batch could never fill and every flush would wait
        # for the timer; twice lets the next batch arrive while one is being written.
        return max(20, min(65_535, 2 * self.batch_size))


@dataclass
class _Item:
    mid: int
    qos: int
    generation: int  # connection the message came on: a mid means nothing on another one
    topic: str
    payload: bytes
    received_at: datetime
    message: MqttMessage | None
    reason: str | None


@dataclass
class Stats:
    received: int = 0
    readings_new: int = 0
    readings_seen: int = 0
    dead_letters: int = 0
    flushes: int = 0
    acked: int = 0
    started: float = field(default_factory=time.monotonic)


def _kv(event: str, **fields: object) -> str:
    return " ".join([f"event={event}", *(f"{k}={v}" for k, v in fields.items())])


class StoreUnavailable(Exception):
    """The store could not take a batch; it stays pending and unacknowledged."""


class MqttIngestService:
    def __init__(self, settings: IngestSettings) -> None:
        self.s = settings
        self.stats = Stats()
        self._stop = threading.Event()
        self._pending: list[_Item] = []
        self._first_pending_at = 0.0
        self._generation = 0
        self._connected = False
        self._had_session = False
        self._import_id = 0
        self._store = None
        self._client: mqtt.Client | None = None
        self._retry_at = 0.0
        self._store_backoff = 0.5

    # -- lifecycle -----------------------------------------------------------------------

    def stop(self, *_args: object) -> None:
        """Ask the service to flush and exit. Safe from a signal handler or another thread."""
        self._stop.set()

    def run(self) -> int:
        """Ingest until ``stop()``; returns the process exit code."""
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self.stop)
            signal.signal(signal.SIGINT, self.stop)
        self._store = open_store(self.s.db_url)
        self._import_id = self._start_import()
        self._client = self._make_client()
        log.info(_kv("start", broker=f"{self.s.host}:{self.s.port}", client_id=self.s.client_id,
                     topic=f"{self.s.topic_prefix}/#", import_id=self._import_id,
                     batch_size=self.s.batch_size, flush_seconds=self.s.flush_seconds))
        next_log = time.monotonic() + self.s.log_every_s
        backoff = 0.5
        try:
            while not self._stop.is_set():
                if self._client.is_connected() or self._connected:
                    rc = self._client.loop(timeout=self._wait())
                    if rc != mqtt.MQTT_ERR_SUCCESS:
                        self._connected = False
                elif not self._connect():
                    self._stop.wait(backoff)
                    backoff = min(backoff * 2, 30.0)
                    continue
                else:
                    backoff = 0.5
                self._maybe_flush()
                if time.monotonic() >= next_log:
                    self._log_stats()
                    next_log = time.monotonic() + self.s.log_every_s
            log.info(_kv("stopping", pending=len(self._pending)))
            ok = self._final_flush()
            try:
                self._finish_import("ok" if ok else "interrupted")
            except SQLAlchemyError as exc:
                log.error(_kv("finish_import_failed", error=repr(str(exc))))
        finally:
            self._shutdown()
        return 0 if ok else 1

    def _make_client(self) -> mqtt.Client:
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=self.s.client_id,
                        protocol=mqtt.MQTTv5, manual_ack=True, reconnect_on_failure=False)
        if self.s.username:
            c.username_pw_set(self.s.username, self.s.password)
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        c.on_message = self._on_message
        c.on_subscribe = self._on_subscribe
        return c

    def _connect(self) -> bool:
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self.s.session_expiry_s
        props.ReceiveMaximum = self.s.receive_maximum
        try:
            # clean_start=False on every connect, the first included: paho's default wipes
            # the session on a process's first connect, which would drop what the broker
            # queued for us while we were down.
            self._client.connect(self.s.host, self.s.port, self.s.keepalive_s,
                                 clean_start=False, properties=props)
        except OSError as exc:
            log.warning(_kv("connect_failed", broker=f"{self.s.host}:{self.s.port}",
                            error=repr(str(exc))))
            return False
        self._connected = True
        return True

    def _shutdown(self) -> None:
        c = self._client
        if c is not None and c.is_connected():
            c.disconnect()  # keeps the session (expiry interval unchanged): nothing is lost
            for _ in range(10):
                if c.loop(timeout=0.05) != mqtt.MQTT_ERR_SUCCESS:
                    break
        self._log_stats()
        if self._store is not None:
            self._store.close()

    # -- callbacks (run inside Client.loop, in this thread) -------------------------------

    def _on_connect(self, client, _userdata, flags, reason, _props) -> None:
        if reason.is_failure:
            log.error(_kv("connect_refused", reason=repr(str(reason))))
            return
        self._generation += 1
        if self._had_session and not flags.session_present:
            log.warning(_kv("session_lost", hint="the broker forgot our queue: messages "
                            "published while we were away may be lost (broker persistence, "
                            "session expiry)"))
        self._had_session = True
        client.subscribe(f"{self.s.topic_prefix}/#",
                         options=SubscribeOptions(qos=1, retainHandling=1))
        log.info(_kv("connected", session_present=flags.session_present,
                     generation=self._generation))

    def _on_subscribe(self, _client, _userdata, _mid, reason_codes, _props) -> None:
        bad = [str(r) for r in reason_codes if r.is_failure]
        if bad:
            log.error(_kv("subscribe_refused", topic=f"{self.s.topic_prefix}/#",
                          reason=repr(", ".join(bad))))
        else:
            log.info(_kv("subscribed", topic=f"{self.s.topic_prefix}/#"))

    def _on_disconnect(self, _client, _userdata, _flags, reason, _props) -> None:
        self._connected = False
        self._generation += 1
        if not self._stop.is_set():
            log.warning(_kv("disconnected", reason=repr(str(reason)),
                            pending=len(self._pending)))

    def _on_message(self, _client, _userdata, msg: mqtt.MQTTMessage) -> None:
        self.stats.received += 1
        payload = bytes(msg.payload)
        try:
            parsed, reason = parse_message(msg.topic, payload, self.s.topic_prefix), None
        except InputError as exc:
            parsed, reason = None, str(exc)
        if not self._pending:
            self._first_pending_at = time.monotonic()
        self._pending.append(_Item(msg.mid, msg.qos, self._generation, msg.topic, payload,
                                   datetime.now(UTC), parsed, reason))

    # -- batching ------------------------------------------------------------------------

    def _wait(self) -> float:
        if not self._pending:
            return 0.2
        due = self._first_pending_at + self.s.flush_seconds - time.monotonic()
        return max(0.0, min(0.2, due))

    def _maybe_flush(self) -> None:
        if not self._pending or time.monotonic() < self._retry_at:
            return
        full = len(self._pending) >= self.s.batch_size
        if full or time.monotonic() - self._first_pending_at >= self.s.flush_seconds:
            try:
                self._flush()
                self._store_backoff = 0.5
            except StoreUnavailable as exc:
                log.error(_kv("store_unavailable", pending=len(self._pending),
                              retry_in_s=self._store_backoff, error=repr(str(exc.__cause__))))
                self._retry_at = time.monotonic() + self._store_backoff
                self._store_backoff = min(self._store_backoff * 2, 30.0)

    def _final_flush(self) -> bool:
        if not self._pending:
            return True
        try:
            self._flush()
            return True
        except StoreUnavailable as exc:
            log.error(_kv("final_flush_failed", pending=len(self._pending),
                          note="left unacknowledged; the broker re-delivers them",
                          error=repr(str(exc.__cause__))))
            return False

    def _flush(self) -> None:
        batch = self._pending
        t0 = time.monotonic()
        good = [i for i in batch if i.message is not None]
        dead = [(i, i.reason) for i in batch if i.message is None]
        try:
            counts = self._commit(good, dead)
        except (OperationalError, InterfaceError) as exc:
            raise StoreUnavailable() from exc
        except SQLAlchemyError as exc:
            # One message the store refuses must not block the others forever: find it.
            log.warning(_kv("batch_rejected", messages=len(batch), error=repr(str(exc))))
            counts = self._commit_one_by_one(good, dead)
        self._pending = []
        acked = self._ack(batch)
        self.stats.flushes += 1
        self.stats.readings_new += counts.rows_new
        self.stats.readings_seen += counts.rows_in
        self.stats.dead_letters += len(dead)
        log.info(_kv("flush", messages=len(batch), readings=counts.rows_in, new=counts.rows_new,
                     unchanged=counts.rows_unchanged, revised=counts.rows_revised,
                     dead_letters=len(dead), acked=acked,
                     ms=round(1000 * (time.monotonic() - t0))))

    def _commit_one_by_one(self, good: list[_Item], dead: list) -> WriteCounts:
        total = WriteCounts()
        dead = list(dead)
        for item in good:
            try:
                total += self._commit([item], [])
            except (OperationalError, InterfaceError) as exc:
                raise StoreUnavailable() from exc
            except SQLAlchemyError as exc:
                dead.append((item, f"the store refused it: {exc.__class__.__name__}: {exc}"))
        try:
            self._commit([], dead)
        except SQLAlchemyError as exc:
            raise StoreUnavailable() from exc
        return total

    def _commit(self, good: list[_Item], dead: list[tuple[_Item, str]]) -> WriteCounts:
        """One transaction: readings, dead letters and the run's import_batch counters."""
        counts = WriteCounts()
        by_kind: dict[str, list[MqttMessage]] = defaultdict(list)
        for item in good:
            by_kind[item.message.kind].append(item.message)
        with self._store.engine.begin() as conn:
            for kind, messages in sorted(by_kind.items()):
                counts += write_readings(conn, to_frame(messages), self._import_id, kind=kind)
            if dead:
                conn.execute(mqtt_dead_letter.insert(), [
                    {"received_at": i.received_at, "topic": i.topic, "payload": i.payload,
                     "reason": reason} for i, reason in dead
                ])
            self._bump_import(conn, counts)
        return counts

    def _ack(self, batch: list[_Item]) -> int:
        # Only messages of the live connection: after a reconnect the broker re-sends the
        # older ones (already stored, so a no-op) and a stale mid may now name another message.
        if not self._connected:
            return 0
        acked: set[int] = set()
        for item in batch:
            if item.qos > 0 and item.generation == self._generation and item.mid not in acked:
                self._client.ack(item.mid, item.qos)
                acked.add(item.mid)
        self.stats.acked += len(acked)
        return len(acked)

    # -- the run's import_batch row ------------------------------------------------------

    def _start_import(self) -> int:
        """One import_batch row per run, its counters bumped in every flush's transaction."""
        now = datetime.now(UTC)
        src = self.s.source
        with self._store.engine.begin() as conn:
            # The fixed client id admits one live consumer per source, so a row of ours still
            # 'running' belongs to a run that died (SIGKILL, power cut).
            conn.execute(
                update(import_batch)
                .where(import_batch.c.format == IMPORT_FORMAT, import_batch.c.source == src,
                       import_batch.c.status == "running")
                .values(status="interrupted")
            )
            res = conn.execute(import_batch.insert().values(
                source=src, format=IMPORT_FORMAT, started_at=now, finished_at=now, rows_in=0,
                rows_new=0, rows_unchanged=0, rows_revised=0, status="running"))
            return int(res.inserted_primary_key[0])

    def _bump_import(self, conn: Connection, counts: WriteCounts, **extra) -> None:
        t = import_batch.c
        conn.execute(update(import_batch).where(t.id == self._import_id).values(
            rows_in=t.rows_in + counts.rows_in, rows_new=t.rows_new + counts.rows_new,
            rows_unchanged=t.rows_unchanged + counts.rows_unchanged,
            rows_revised=t.rows_revised + counts.rows_revised,
            finished_at=datetime.now(UTC), **extra))

    def _finish_import(self, status: str) -> None:
        with self._store.engine.begin() as conn:
            self._bump_import(conn, WriteCounts(), status=status,
                              message=f"dead_letters={self.stats.dead_letters}")

    def _log_stats(self) -> None:
        up = max(time.monotonic() - self.stats.started, 1e-9)
        st = self.stats
        log.info(_kv("stats", received=st.received, readings_new=st.readings_new,
                     readings_seen=st.readings_seen, dead_letters=st.dead_letters,
                     flushes=st.flushes, acked=st.acked, pending=len(self._pending),
                     msg_per_s=round(st.received / up, 1)))


def run(settings: IngestSettings) -> int:
    """Run the service until SIGTERM/SIGINT; returns the exit code."""
    return MqttIngestService(settings).run()
