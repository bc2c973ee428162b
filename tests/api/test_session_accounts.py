"""Sessions (cookie flags, CSRF, rate limiting), bearer tokens, the audit log of writes, and
scoped administration of accounts — against the real store, SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import select

from sobriete.api.app import create_app
from sobriete.api.settings import ServiceSettings
from sobriete.domain.access import Grant, Role, Scope, ScopeLevel
from sobriete.io.registry import read_registry
from sobriete.services import accounts as A
from sobriete.services.audit import recent_writes
from sobriete.services.store import open_store
from sobriete.services.store import schema as S
from sobriete.services.store.estate import save_portfolio

FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)  # test speed only
PW = "correct horse battery"
REGISTRY = (
    b"portfolio_code;territory_code;commune_insee;site_code;building_code;building_name\n"
    b"M;T1;C1;S1;A;Ecole A\n"
    b"M;T1;C2;S2;B;Gymnase B\n"
    b"M;T2;C3;S3;C;Mairie C\n"
)


def g(role: str, level: str, code: str) -> Grant:
    return Grant(Role(role), Scope(ScopeLevel(level), code))


@pytest.fixture
def store(any_store_url):
    s = open_store(any_store_url)
    with s.engine.begin() as conn:
        save_portfolio(conn, read_registry(REGISTRY, name="registry.csv"))
    A.create_account(s, "root", PW, "Root", [g("admin", "portfolio", "M")], hasher=FAST)
    A.create_account(s, "adm.t1", PW, "Admin T1", [g("admin", "territory", "T1")], hasher=FAST)
    A.create_account(s, "adm.c1", PW, "Admin C1", [g("admin", "commune", "C1")], hasher=FAST)
    A.create_account(s, "em.c2", PW, "EM C2", [g("energy_manager", "commune", "C2")],
                     hasher=FAST)
    A.create_account(s, "em.c3", PW, "EM C3", [g("energy_manager", "commune", "C3")],
                     hasher=FAST)
    yield s
    s.close()


def _client(store, **settings) -> TestClient:
    return TestClient(create_app(ServiceSettings(scheduler=False, **settings), store=store))


def _bearer(store, login: str) -> dict:
    aid = next(a.id for a, _ in A.list_accounts(store) if a.login == login)
    return {"Authorization": f"Bearer {A.issue_token(store, aid, 'test')}"}


def test_login_sets_safe_cookies_and_writes_need_the_csrf_token(store):
    with _client(store) as c:
        r = c.post("/api/v1/session", json={"login": "em.c2", "password": PW})
        assert r.status_code == 200
        cookies = r.headers.get_list("set-cookie")
        session = next(x for x in cookies if x.startswith("sobriete_session="))
        low = session.lower()
        assert "httponly" in low and "secure" in low and "samesite=lax" in low
        csrf = r.json()["csrf_token"]
        # TestClient talks http://: the Secure cookie is not sent back, as a browser would not
        c.cookies.set("sobriete_session", session.split(";")[0].split("=", 1)[1])
        assert c.get("/api/v1/me").json()["login"] == "em.c2"
        assert c.delete("/api/v1/session").status_code == 403  # no CSRF token
        assert c.delete("/api/v1/session", headers={"X-CSRF-Token": "x" * 64}).status_code == 403
        assert c.delete("/api/v1/session", headers={"X-CSRF-Token": csrf}).status_code == 204
        c.cookies.set("sobriete_session", session.split(";")[0].split("=", 1)[1])
        assert c.get("/api/v1/me").status_code == 401  # the session's token was revoked


def test_bearer_tokens_need_no_csrf_and_bad_ones_are_401(store):
    with _client(store) as c:
        r = c.post("/api/v1/me/tokens", json={"label": "script"}, headers=_bearer(store, "em.c2"))
        assert r.status_code == 201
        token = r.json()["token"]
        me = c.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert me.json()["grants"] == [{"role": "energy_manager", "scope_level": "commune",
                                        "scope_code": "C2"}]
        bad = c.get("/api/v1/me", headers={"Authorization": "Bearer nope"})
        assert bad.status_code == 401 and bad.headers["content-type"].startswith(
            "application/problem+json")
        assert c.get("/api/v1/me").status_code == 401


def test_failed_logins_are_limited_even_for_the_right_password(store):
    with _client(store, login_max_failures=3) as c:
        for _ in range(3):
            assert c.post("/api/v1/session", json={"login": "root", "password": "wrong wrong!"}
                          ).status_code == 401
        r = c.post("/api/v1/session", json={"login": "root", "password": PW})
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
        # another login from the same address is not blocked yet (4x looser per address)
        assert c.post("/api/v1/session", json={"login": "em.c3", "password": PW}
                      ).status_code == 200
    with store.engine.connect() as conn:
        clients = conn.execute(select(S.login_attempt.c.client)).scalars().all()
    assert clients and all(x == "testclient" for x in clients)


def test_every_write_is_audited_refused_ones_too(store):
    with _client(store) as c:
        c.post("/api/v1/accounts", headers=_bearer(store, "em.c2"), json={
            "login": "x", "display_name": "X", "grants": []})
        c.post("/api/v1/me/tokens", headers=_bearer(store, "em.c3"), json={"label": "ok"})
    rows = recent_writes(store, 10)
    refused = next(r for r in rows if r["path"] == "/api/v1/accounts")
    assert refused["status_code"] == 403 and refused["login"] == "em.c2"
    ok = next(r for r in rows if r["path"] == "/api/v1/me/tokens")
    assert ok["status_code"] == 201 and ok["login"] == "em.c3"


def test_commune_admin_administers_only_inside_its_commune(store):
    h = _bearer(store, "adm.c1")
    with _client(store) as c:
        r = c.post("/api/v1/accounts", headers=h, json={
            "login": "agent.c1", "display_name": "Agent", "password": "une phrase assez longue",
            "email": "agent@c1.example", "grants": [
                {"role": "viewer", "scope_level": "commune", "scope_code": "C1"}]})
        assert r.status_code == 201 and r.json()["email"] == "agent@c1.example"
        new_id = r.json()["id"]
        r = c.post("/api/v1/accounts", headers=h, json={
            "login": "agent.c2", "display_name": "Agent", "grants": [
                {"role": "viewer", "scope_level": "commune", "scope_code": "C2"}]})
        assert r.status_code == 403 and r.json()["type"].endswith("out-of-scope")
        listed = {a["login"] for a in c.get("/api/v1/accounts", headers=h).json()["items"]}
        assert listed == {"adm.c1", "agent.c1"}
        em_c2 = next(a.id for a, _ in A.list_accounts(store) if a.login == "em.c2")
        assert c.post(f"/api/v1/accounts/{em_c2}/active", headers=h,
                      json={"active": False}).status_code == 404
        # an energy manager administers nothing
        assert c.get("/api/v1/accounts", headers=_bearer(store, "em.c2")).status_code == 403
        # a territory admin reaches the communes of its territory, not the others
        ht = _bearer(store, "adm.t1")
        assert c.post(f"/api/v1/accounts/{new_id}/grants", headers=ht, json={
            "role": "energy_manager", "scope_level": "commune", "scope_code": "C2"}
            ).status_code == 200
        assert c.post(f"/api/v1/accounts/{new_id}/grants", headers=ht, json={
            "role": "energy_manager", "scope_level": "commune", "scope_code": "C3"}
            ).status_code == 403


def test_deactivation_ends_sessions_and_tokens_are_revoked_by_id(store):
    user = _bearer(store, "em.c3")
    with _client(store) as c:
        made = c.post("/api/v1/me/tokens", headers=user, json={"label": "two"}).json()
        listed = c.get("/api/v1/me/tokens", headers=user).json()
        assert [t["label"] for t in listed] == ["test", "two"] and "token" not in listed[0]
        other = _bearer(store, "em.c2")
        assert c.delete(f"/api/v1/me/tokens/{made['id']}", headers=other).status_code == 404
        assert c.delete(f"/api/v1/me/tokens/{made['id']}", headers=user).status_code == 204
        assert c.get("/api/v1/me", headers={"Authorization": f"Bearer {made['token']}"}
                     ).status_code == 401
        em_c3 = next(a.id for a, _ in A.list_accounts(store) if a.login == "em.c3")
        r = c.post(f"/api/v1/accounts/{em_c3}/active", headers=_bearer(store, "root"),
                   json={"active": False})
        assert r.status_code == 200 and r.json()["active"] is False
        assert c.get("/api/v1/me", headers=user).status_code == 401
        assert c.post("/api/v1/session", json={"login": "em.c3", "password": PW}
                      ).status_code == 401
