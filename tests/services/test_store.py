"""The store on both engines: migrations, idempotent bulk writes, the overlap rule, the estate."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from sobriete.domain.errors import StoreError
from sobriete.domain.portfolio import (
    ActivityCategory,
    Building,
    Commune,
    Meter,
    MeterKind,
    Portfolio,
    Sensor,
    SensorKind,
    Site,
    Territory,
    Zone,
)
from sobriete.services.store import open_store, write_readings
from sobriete.services.store.estate import load_portfolio, save_portfolio
from sobriete.services.store.readings import read_series
from sobriete.services.store.schema import metadata


def _frame(n: int, start: str = "2024-03-30", key: str = "m1", value0: float = 0.0):
    idx = pd.date_range(start, periods=n, freq="30min", tz="UTC")
    return pd.DataFrame({
        "series_key": key, "quantity": "energy_kwh", "start_utc": idx,
        "duration_s": 1800, "value": value0 + np.arange(n, dtype=float) * 0.25,
    })


# Indexes on expressions, which Alembic cannot compare (it skips them in the metadata and
# then sees the database's as extra): checked by name below instead.
EXPRESSION_INDEXES = {"ix_finding_rank"}


def _comparable(obj, name, type_, reflected, compare_to) -> bool:
    return not (type_ == "index" and name in EXPRESSION_INDEXES)


def _index_names(conn, table: str) -> set[str]:
    """Every index of ``table``, expressions too (SQLAlchemy does not reflect those of
    SQLite)."""
    sql = ("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?"
           if conn.dialect.name == "sqlite" else
           "SELECT indexname FROM pg_indexes WHERE tablename = %s")
    return set(conn.exec_driver_sql(sql, (table,)).scalars())


def test_migrations_match_the_tables(any_store_url):
    store = open_store(any_store_url)
    open_store(any_store_url).close()  # second open: already at head, nothing to do
    with store.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"include_object": _comparable})
        diff = compare_metadata(ctx, metadata)
        tables = set(inspect(conn).get_table_names())
        finding_indexes = _index_names(conn, "finding")
    store.close()
    assert diff == []
    assert {"reading", "series", "import_batch", "job_footprint", "mqtt_dead_letter"} <= tables
    assert EXPRESSION_INDEXES <= finding_indexes


def test_reimport_changes_nothing_and_revisions_are_kept(any_store_url):
    store = open_store(any_store_url)
    first = _frame(2000)
    with store.engine.begin() as c:
        a = write_readings(c, first, import_id=1)
    with store.engine.begin() as c:
        b = write_readings(c, first, import_id=2)
    assert (a.rows_new, b.rows_new, b.rows_unchanged, b.rows_revised) == (2000, 0, 2000, 0)

    # An overlapping import: half old, half new, three corrected values.
    second = _frame(2000, start="2024-04-20")
    overlap = first[first.start_utc >= second.start_utc.min()]
    corrected = pd.concat([overlap, second]).drop_duplicates("start_utc", keep="first")
    corrected.loc[corrected.index[:3], "value"] += 1.0
    with store.engine.begin() as c:
        d = write_readings(c, corrected, import_id=3)
    n_overlap = len(overlap)
    assert d.rows_revised == 3
    assert d.rows_unchanged == n_overlap - 3
    assert d.rows_new == len(corrected) - n_overlap
    with store.engine.connect() as c:
        stored = read_series(c, "m1", "energy_kwh")
        rev = c.exec_driver_sql(
            "SELECT old_value, new_value, old_import_id, new_import_id FROM reading_revision"
        ).all()
    store.close()
    assert len(stored) == 2000 + d.rows_new
    assert stored.start_utc.is_monotonic_increasing
    assert len(rev) == 3 and all(r[1] - r[0] == pytest.approx(1.0) for r in rev)
    assert {(r[2], r[3]) for r in rev} == {(1, 3)}


def test_a_failed_transaction_writes_nothing(any_store_url):
    store = open_store(any_store_url)
    with pytest.raises(RuntimeError), store.engine.begin() as c:
        write_readings(c, _frame(500), import_id=1)
        raise RuntimeError("crash in the middle of an import")
    with store.engine.connect() as c:
        assert c.exec_driver_sql("SELECT count(*) FROM reading").scalar_one() == 0
    store.close()


def test_reads_open_no_transaction_and_writes_stay_atomic_after_them(pg_url):
    # from an emptied pool: each block below takes the one connection the read before used
    store = open_store(pg_url)
    store.engine.dispose()
    for _ in range(2):
        with store.read() as c:
            assert c.exec_driver_sql("SELECT count(*) FROM reading").scalar_one() == 0
            # no BEGIN sent: each statement is its own transaction (in one, now() would be
            # the time of the first statement)
            assert c.exec_driver_sql("SELECT now() = statement_timestamp()").scalar_one()
        with pytest.raises(RuntimeError), store.engine.begin() as c:
            write_readings(c, _frame(50), import_id=1)
            raise RuntimeError("crash in the middle of an import")
    with store.read() as c:
        assert c.exec_driver_sql("SELECT count(*) FROM reading").scalar_one() == 0
    store.close()


def test_dst_and_utc_roundtrip(sqlite_url):
    store = open_store(sqlite_url)
    f = _frame(200, start="2024-10-26T20:00")  # crosses the October DST change in Paris
    with store.engine.begin() as c:
        write_readings(c, f, import_id=1)
    with store.engine.connect() as c:
        back = read_series(c, "m1", "energy_kwh")
    store.close()
    pd.testing.assert_series_equal(
        back.start_utc.reset_index(drop=True), f.start_utc.reset_index(drop=True),
        check_dtype=False, check_names=False,
    )
    assert back.value.sum() == pytest.approx(f.value.sum())


def _portfolio(area: float = 1200.0) -> Portfolio:
    b = Building(
        code="ECOLE-JAURES", name="École Jean Jaurès", activity=ActivityCategory.SCHOOL,
        floor_area_m2=area, weather_station="07149-paris-orly",
        meters=(Meter(code="30001234567890", kind=MeterKind.ELECTRICITY, step_s=1800),
                Meter(code="GI123456", kind=MeterKind.GAS)),
        zones=(Zone(code="Z1", sensors=(Sensor(code="Z1-T", kind=SensorKind.TEMPERATURE),)),),
    )
    return Portfolio(code="MGP", name="Métropole", territories=(
        Territory(code="T1", name="Territoire 1", communes=(
            Commune(code="93048", name="Montreuil", sites=(
                Site(code="S1", name="Groupe scolaire", buildings=(b,)),)),)),))


def test_estate_roundtrip_and_idempotence(any_store_url):
    store = open_store(any_store_url)
    with store.engine.begin() as c:
        first = save_portfolio(c, _portfolio())
    with store.engine.begin() as c:
        again = save_portfolio(c, _portfolio())
    with store.engine.begin() as c:
        changed = save_portfolio(c, _portfolio(area=1300.0))
    with store.engine.connect() as c:
        loaded = load_portfolio(c)
    store.close()
    assert first.created == 8 and again.created == 0 and again.updated == 0
    assert changed.updated == 1 and changed.created == 0
    assert loaded == _portfolio(area=1300.0)


def test_communes_keep_their_building_count_across_imports(any_store_url):
    from sobriete.services.store.estate import commune_rows

    store = open_store(any_store_url)
    pf = _portfolio()
    (territory,) = pf.territories
    (montreuil,) = territory.communes
    site = montreuil.sites[0]
    school = site.buildings[0]
    gym = school.model_copy(update={"code": "GYMNASE", "name": "Gymnase", "meters": (),
                                    "zones": ()})
    stade = Site(code="S2", name="Stade", buildings=(gym,))

    def imported(montreuil_buildings, bagnolet_buildings) -> dict[str, int]:
        communes = (
            montreuil.model_copy(update={"sites": (
                site.model_copy(update={"buildings": montreuil_buildings}),)}),
            Commune(code="93006", name="Bagnolet", sites=(
                stade.model_copy(update={"buildings": bagnolet_buildings}),)))
        with store.engine.begin() as c:
            save_portfolio(c, pf.model_copy(update={"territories": (
                territory.model_copy(update={"communes": communes}),)}))
        with store.read() as c:
            return {r["commune_code"]: r["n_buildings"] for r in commune_rows(c)}

    assert imported((school,), (gym,)) == {"93048": 1, "93006": 1}
    # the gym moves to Montreuil's site: counted there, no longer in Bagnolet
    assert imported((school, gym), ()) == {"93048": 2, "93006": 0}
    store.close()


def test_bad_url_is_a_typed_error(tmp_path):
    with pytest.raises(StoreError):
        open_store("notadb:///x")


def test_a_pooled_connection_the_server_closed_is_replaced_after_idling(pg_url, monkeypatch):
    import psycopg
    from sqlalchemy.exc import OperationalError as SAOperationalError

    from sobriete.services.store import engine as E

    store = open_store(pg_url)
    store.engine.dispose()

    def backend_killed() -> None:
        with store.read() as c:  # the pool's one connection, killed behind its back
            pid = c.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        time.sleep(0.2)

    def answers() -> int:
        with store.read() as c:
            return c.exec_driver_sql("SELECT 1").scalar_one()

    backend_killed()
    monkeypatch.setattr(E, "PING_AFTER_IDLE_S", 0.0)  # it has idled long enough: pinged
    assert answers() == 1
    backend_killed()
    monkeypatch.setattr(E, "PING_AFTER_IDLE_S", 3600.0)  # used a moment ago: not pinged
    with pytest.raises(SAOperationalError):
        answers()
    assert answers() == 1  # the failure invalidated the pool: a new connection
    store.close()
