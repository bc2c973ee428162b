"""Opening a store: the URL decides the engine; the schema is brought to head by Alembic."""

from __future__ import annotations

import functools
import os
import time
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import (
    ArgumentError,
    DisconnectionError,
    NoSuchModuleError,
    OperationalError,
    ProgrammingError,
)

from sobriete.domain.errors import StoreError

MIGRATIONS = Path(__file__).with_name("migrations")
ENV_URL = "SOBRIETE_DB_URL"


def default_url() -> str:
    """``$SOBRIETE_DB_URL`` or an SQLite file in the current directory."""
    return os.environ.get(ENV_URL) or "sqlite:///sobriete.sqlite"


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    # WAL: readers never block the writer; NORMAL is durable at each checkpoint in WAL mode.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


# A pooled server connection idle this long is pinged before use: one that the server closed
# meanwhile (a restart, an idle timeout) is replaced instead of failing the request.
PING_AFTER_IDLE_S = 10.0


def _ping_when_idle(engine: Engine) -> None:
    """Ping a pooled connection before use only when it sat idle ``PING_AFTER_IDLE_S``.
    SQLAlchemy's ``pool_pre_ping`` pings at every checkout: under load one more round trip
    per request, that cost the lists 15-40 % of their throughput on PostgreSQL; a connection
    used a moment ago needs no proof that it is alive."""
    @event.listens_for(engine, "checkin")
    def _idle(_dbapi_conn, record) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _alive(dbapi_conn, record, _proxy) -> None:
        since = record.info.pop("idle_since", None)
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_S:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as exc:
            # the pool discards this connection and hands out another, or a new one
            raise DisconnectionError(f"stale pooled connection: {exc}") from exc


def _alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


@dataclass
class Store:
    """A handle on one database. Cheap to keep; ``close()`` releases connections.

    Writes go through ``engine.begin()`` (one transaction, committed at the end of the block
    or rolled back on error); reads through ``read()``."""

    engine: Engine

    def __post_init__(self) -> None:
        # On PostgreSQL a read needs no transaction: under READ COMMITTED each statement
        # takes its own snapshot anyway, and the BEGIN and ROLLBACK around a read were two
        # more round trips to a server that, under load, answered each after its turn on a
        # busy CPU (a sixth of a list request's time). The pool hands the same connections
        # to ``engine.begin()`` afterwards in transaction mode again. SQLite (pysqlite)
        # opens no transaction for a SELECT already.
        self._reader = (self.engine.execution_options(isolation_level="AUTOCOMMIT")
                        if self.dialect == "postgresql" else self.engine)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def read(self) -> Connection:
        """A connection for reading (``with store.read() as conn: ...``). Not for writing: on
        PostgreSQL each statement through it commits on its own; write in
        ``engine.begin()``."""
        return self._reader.connect()

    def close(self) -> None:
        self.engine.dispose()


def open_store(url: str | None = None, *, migrate: bool = True) -> Store:
    """Open (and by default create or upgrade) the store at ``url``.

    ``sqlite:///path.sqlite`` (the embedded default) or ``postgresql+psycopg://...``;
    ``postgresql://`` is accepted and mapped to psycopg 3.
    """
    url = url or default_url()
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreError(f"invalid database URL {url!r}: {exc}") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    sqlite = parsed.drivername.startswith("sqlite")
    in_memory = sqlite and parsed.database in (None, "", ":memory:")
    if sqlite and not in_memory:
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    # A worker's request threads (``request_threads``, 4 by default, up to 64), the job
    # threads and the scheduler's each hold a connection: up to 40 instead of the default 5
    # (+10), waiting at most 30 s for one. (An in-memory SQLite database is one connection,
    # whose pool takes no size.)
    pool = {} if in_memory else dict(pool_size=10, max_overflow=30, pool_timeout=30)
    try:
        engine = create_engine(parsed, **pool)
    except NoSuchModuleError:
        raise StoreError(
            f"unsupported database URL {url!r}: use sqlite:///file.sqlite or postgresql://..."
        ) from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    else:  # a connection to a SQLite file cannot go stale
        _ping_when_idle(engine)
    store = Store(engine)
    if migrate:
        upgrade(store)
    return store


def upgrade(store: Store) -> None:
    """Bring the schema to the newest Alembic revision (a no-op when already there)."""
    cfg = _alembic_config(store.engine.url.render_as_string(hide_password=False))
    try:
        with store.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    except OperationalError as exc:
        raise StoreError(f"cannot open the store at {store.engine.url!r}: {exc.orig}") from None


@functools.cache
def schema_head() -> str:
    """The newest Alembic revision this code knows (read once: the scripts do not change
    while the process runs, and reading them costs milliseconds a health check cannot spend)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config("sqlite://")).get_current_head() or ""


def schema_state(conn: Connection) -> tuple[str | None, str]:
    """(the store's Alembic revision, the newest one this code knows), read on ``conn`` with
    one plain query: a health check cannot spend an Alembic migration context per call."""
    try:
        revs = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    except (OperationalError, ProgrammingError):
        conn.rollback()  # no version table: a store never migrated
        revs = []
    return (revs[0] if len(revs) == 1 else None), schema_head()
