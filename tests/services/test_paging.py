"""One page of a select: the right rows on both databases, and on PostgreSQL a plan made
once per prepared statement instead of at every execution."""

from __future__ import annotations

from sqlalchemy import insert, select

from sobriete.services.store import open_store
from sobriete.services.store import schema as S
from sobriete.services.store.paging import one_page


def _territories(url: str, n: int):
    store = open_store(url)
    with store.engine.begin() as conn:
        pid = conn.execute(insert(S.portfolio).values(code="M", name="M")).inserted_primary_key[0]
        conn.execute(insert(S.territory), [{"portfolio_id": pid, "code": f"T{i:04d}",
                                            "name": f"t{i}"} for i in range(n)])
    return store


def test_one_page_reads_the_rows_between_its_bounds(any_store_url):
    store = _territories(any_store_url, 7)
    q = select(S.territory.c.code).order_by(S.territory.c.code)
    with store.engine.connect() as conn:
        def codes(limit, offset):
            return conn.execute(one_page(q, limit, offset)).scalars().all()
        assert codes(3, 0) == ["T0000", "T0001", "T0002"]
        assert codes(3, 5) == ["T0005", "T0006"]
        assert codes(None, 4) == ["T0004", "T0005", "T0006"]
        assert codes(None, 0) == [f"T{i:04d}" for i in range(7)]
    store.engine.dispose()


def test_a_page_is_planned_once_per_prepared_statement_on_postgresql(pg_url):
    # Enough rows, and joins, for the size of the page to change the plan's cost: then, with
    # LIMIT $1, PostgreSQL planned every execution anew (custom plans only).
    store = _territories(pg_url, 500)
    t, c, p = S.territory.c, S.commune.c, S.portfolio.c
    with store.engine.begin() as conn:
        tids = conn.execute(select(t.id)).scalars().all()
        conn.execute(insert(S.commune), [{"territory_id": tids[i % len(tids)],
                                          "code": f"C{i:05d}", "name": f"c{i}"}
                                         for i in range(5000)])
        conn.exec_driver_sql("ANALYZE")
    q = (select(c.code, t.name, p.name)
         .select_from(S.commune.join(S.territory, c.territory_id == t.id)
                      .join(S.portfolio, t.portfolio_id == p.id))
         .order_by(c.code))
    with store.engine.connect() as conn:
        for _ in range(20):  # psycopg prepares after 5 runs, PostgreSQL decides after 5 more
            assert len(conn.execute(one_page(q, 50, 100)).all()) == 50
        plans = conn.exec_driver_sql(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
            "WHERE starts_with(statement, 'SELECT commune.code')").all()
    store.engine.dispose()
    assert len(plans) == 1 and plans[0][0] > 0, plans
