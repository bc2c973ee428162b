"""``sobriete ingest ...``: long-running ingestion services. Thin: parse options, run."""

from __future__ import annotations

import logging
import sys

import click

from sobriete.io.mqtt_payload import DEFAULT_PREFIX


def _broker(_ctx, _param, value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep:
        return value, 1883
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise click.BadParameter(f"expected host:port, got {value!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


@click.group("ingest")
def ingest() -> None:
    """Ingest live readings into the store."""


@ingest.command("mqtt")
@click.option("--broker", default="127.0.0.1:1883", show_default=True, callback=_broker,
              envvar="SOBRIETE_MQTT_BROKER", help="MQTT broker as host:port.")
@click.option("--topic-prefix", default=DEFAULT_PREFIX, show_default=True,
              help="Subscribes to <prefix>/#; topics are <prefix>/<building>/<kind>/<series>.")
@click.option("--client-id", default="sobriete-ingest", show_default=True,
              help="Fixed MQTT client id: names the persistent session the broker keeps.")
@click.option("--db", "db_url", default=None, envvar="SOBRIETE_DB_URL",
              help="Store URL [default: $SOBRIETE_DB_URL or sqlite:///sobriete.sqlite].")
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(1, 30_000),
              help="Flush to the store after this many messages...")
@click.option("--flush-seconds", default=2.0, show_default=True,
              type=click.FloatRange(0.01, 3600),
              help="...or this many seconds after the oldest unflushed message.")
@click.option("--username", default=None, envvar="SOBRIETE_MQTT_USERNAME")
@click.option("--password", default=None, envvar="SOBRIETE_MQTT_PASSWORD",
              help="Prefer the environment variable: a command line is visible to others.")
@click.option("--session-expiry", "session_expiry_s", default=7 * 86400, show_default=True,
              type=click.IntRange(1, 2**32 - 1),
              help="Seconds the broker keeps queueing for us while we are down.")
@click.option("--log-every", "log_every_s", default=60.0, show_default=True,
              type=click.FloatRange(1, None), help="Seconds between two stats log lines.")
@click.option("--log-level", default="INFO", show_default=True,
              type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]))
def mqtt_command(broker, topic_prefix, client_id, db_url, batch_size, flush_seconds, username,
                 password, session_expiry_s, log_every_s, log_level) -> None:
    """Subscribe to MQTT readings and write them to the store, exactly once.

    Stops cleanly (flushes, then exits) on SIGTERM or Ctrl-C. See docs/mqtt.md.
    """
    # Imported here so `sobriete --help` stays fast and free of the store's dependencies.
    from sobriete.services.mqtt_ingest import IngestSettings, run

    logging.basicConfig(level=log_level, stream=sys.stderr,
                        format="%(asctime)s level=%(levelname)s logger=%(name)s %(message)s")
    host, port = broker
    settings = IngestSettings(
        host=host, port=port, topic_prefix=topic_prefix.rstrip("/"), client_id=client_id,
        db_url=db_url, batch_size=batch_size, flush_seconds=flush_seconds, username=username,
        password=password, session_expiry_s=session_expiry_s, log_every_s=log_every_s,
    )
    sys.exit(run(settings))


if __name__ == "__main__":
    ingest()
