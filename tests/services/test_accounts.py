"""Accounts, argon2id passwords, hashed API tokens and grants (issue 6, model), on SQLite and
PostgreSQL; migration 0007 upgraded and downgraded on both engines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from argon2 import PasswordHasher
from sqlalchemy import inspect, select, text

from sobriete.domain.access import Grant, Role, Scope, ScopeLevel, can
from sobriete.services.accounts import (
    AuthenticationError,
    LoginTakenError,
    WeakPasswordError,
    authenticate,
    create_account,
    grant_role,
    issue_token,
    principal_for_account,
    principal_for_token,
    revoke_role,
    revoke_token,
    token_digest,
)
from sobriete.services.store import open_store
from sobriete.services.store import schema as S
from sobriete.services.store.engine import _alembic_config

# low cost for test speed only; the product uses PasswordHasher() defaults
FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
PASSWORD = "correct horse battery"
EM_A = Grant(Role.ENERGY_MANAGER, Scope(ScopeLevel.COMMUNE, "A"))


@pytest.fixture
def store(any_store_url):
    s = open_store(any_store_url)
    yield s
    s.close()


def test_password_is_argon2id_and_authenticates(store):
    aid = create_account(store, "alice", PASSWORD, "Alice", [EM_A], hasher=FAST)
    with store.engine.connect() as conn:
        h = conn.execute(select(S.account.c.password_hash)).scalar_one()
    assert h.startswith("$argon2id$") and PASSWORD not in h
    p = authenticate(store, "alice", PASSWORD, hasher=FAST)
    assert p.account_id == aid and p.login == "alice" and p.grants == (EM_A,)
    assert can(p, "write", "A", "T1") and not can(p, "read", "B", "T1")
    with store.engine.connect() as conn:
        attempts = conn.execute(select(S.login_attempt.c.login, S.login_attempt.c.ok)).all()
    assert [tuple(a) for a in attempts] == [("alice", True)]


def test_default_hasher_is_argon2id():
    from sobriete.services import accounts

    assert accounts._DEFAULT_HASHER.type.name == "ID"
    assert accounts._DEFAULT_HASHER.time_cost == PasswordHasher().time_cost


def test_wrong_password_and_unknown_login_look_the_same(store):
    create_account(store, "alice", PASSWORD, "Alice", hasher=FAST)
    with pytest.raises(AuthenticationError) as wrong:
        authenticate(store, "alice", "not the right one", hasher=FAST)
    with pytest.raises(AuthenticationError) as unknown:
        authenticate(store, "mallory", "not the right one", hasher=FAST)
    assert str(wrong.value) == str(unknown.value)
    assert "alice" not in str(wrong.value) and "mallory" not in str(unknown.value)
    with store.engine.connect() as conn:
        attempts = conn.execute(select(S.login_attempt.c.login, S.login_attempt.c.ok)
                                .order_by(S.login_attempt.c.id)).all()
    assert [tuple(a) for a in attempts] == [("alice", False), ("mallory", False)]


def test_short_password_and_taken_login_are_typed_errors(store):
    with pytest.raises(WeakPasswordError, match="12"):
        create_account(store, "bob", "short-pw", "Bob", hasher=FAST)
    create_account(store, "bob", PASSWORD, "Bob", hasher=FAST)
    with pytest.raises(LoginTakenError, match="bob"):
        create_account(store, "bob", PASSWORD + "x", "Bob 2", hasher=FAST)


def test_old_parameters_are_rehashed_on_login(store):
    create_account(store, "carol", PASSWORD, "Carol", hasher=FAST)
    stronger = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
    authenticate(store, "carol", PASSWORD, hasher=stronger)
    with store.engine.connect() as conn:
        h = conn.execute(select(S.account.c.password_hash)).scalar_one()
    assert not stronger.check_needs_rehash(h) and h.startswith("$argon2id$")
    authenticate(store, "carol", PASSWORD, hasher=stronger)


def test_tokens_are_stored_hashed_and_expire_or_are_revoked(store):
    aid = create_account(store, "agg", PASSWORD, "Aggregator",
                         [Grant(Role.AGGREGATOR, Scope(ScopeLevel.PORTFOLIO, "metropole"))],
                         hasher=FAST)
    token = issue_token(store, aid, "dispatch robot", ttl_days=30)
    assert len(token) >= 40
    with store.engine.connect() as conn:
        dump = "\n".join(str(tuple(r)) for t in (S.api_token, S.account, S.account_grant)
                         for r in conn.execute(select(t)))
        stored = conn.execute(select(S.api_token.c.token_hash)).scalar_one()
    assert token not in dump and stored == token_digest(token)
    p = principal_for_token(store, token)
    assert p.account_id == aid and can(p, "flex_read", "A", "T1")
    assert not can(p, "read", "A", "T1")
    with store.engine.connect() as conn:
        assert conn.execute(select(S.api_token.c.last_used_at)).scalar_one() is not None
    # expired
    later = datetime.now(UTC) + timedelta(days=31)
    with pytest.raises(AuthenticationError):
        principal_for_token(store, token, now=later)
    # unknown
    with pytest.raises(AuthenticationError) as unknown:
        principal_for_token(store, token + "x")
    # revoked
    assert revoke_token(store, token) is True
    with pytest.raises(AuthenticationError) as revoked:
        principal_for_token(store, token)
    assert str(unknown.value) == str(revoked.value)
    assert revoke_token(store, token) is False


def test_grant_and_revoke_roles(store):
    aid = create_account(store, "dan", None, "Dan (OIDC)")
    with pytest.raises(AuthenticationError):
        authenticate(store, "dan", PASSWORD, hasher=FAST)  # no password: cannot log in
    viewer_t1 = Grant(Role.VIEWER, Scope(ScopeLevel.TERRITORY, "T1"))
    assert grant_role(store, aid, viewer_t1) is True
    assert grant_role(store, aid, viewer_t1) is False
    p = principal_for_account(store, aid)
    assert can(p, "read", "B", "T1") and not can(p, "read", "C", "T2")
    assert revoke_role(store, aid, viewer_t1) is True
    assert revoke_role(store, aid, viewer_t1) is False
    assert principal_for_account(store, aid).grants == ()


def test_a_remembered_principal_is_forgotten_at_a_change_or_after_its_delay(store,
                                                                           monkeypatch):
    from sobriete.services import accounts as A

    aid = create_account(store, "eve", None, "Eve", [EM_A])
    token = issue_token(store, aid, "api")
    assert principal_for_token(store, token, cache_s=5).grants == (EM_A,)
    # a change through this module (this process): forgotten at once
    grant_role(store, aid, Grant(Role.VIEWER, Scope(ScopeLevel.TERRITORY, "T1")))
    assert len(principal_for_token(store, token, cache_s=5).grants) == 2
    revoke_token(store, token)
    with pytest.raises(AuthenticationError):
        principal_for_token(store, token, cache_s=5)

    # a change made by another process (here: SQL behind the module's back) is seen once
    # the delay has passed, not before
    token = issue_token(store, aid, "api")
    assert principal_for_token(store, token, cache_s=5) is not None
    with store.engine.begin() as c:
        c.execute(S.api_token.update().values(revoked_at=datetime.now(UTC)))
    assert principal_for_token(store, token, cache_s=5).login == "eve"  # remembered
    now = A.time.monotonic()
    monkeypatch.setattr(A.time, "monotonic", lambda: now + 5.1)
    with pytest.raises(AuthenticationError):
        principal_for_token(store, token, cache_s=5)
    with pytest.raises(AuthenticationError):  # no delay asked: read at every call
        principal_for_token(store, token)


def test_migration_0007_upgrades_and_downgrades(any_store_url):
    store = open_store(any_store_url)
    cfg = _alembic_config(store.engine.url.render_as_string(hide_password=False))
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0006")
    with store.engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
        rev = conn.execute(text("select version_num from alembic_version")).scalar_one()
    assert rev == "0006"
    assert not tables & {"account", "account_grant", "api_token", "login_attempt"}
    assert "flex_event" in tables
    store.close()
    store = open_store(any_store_url)  # back to head
    with store.engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
    assert {"account", "account_grant", "api_token", "login_attempt"} <= tables
    store.close()
