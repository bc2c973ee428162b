"""The access matrix, proved on every route of the API (those other modules add included):
the routes are enumerated from the OpenAPI document, so a new route is checked without a line
here, and a route that does not say which action it needs fails.

For a route with ``{building_code}``, every principal (each role x scope, and one without any
grant) calls it on every building of the test estate: the answer must agree with
``domain.access.can`` — refused as ``out-of-scope`` (403/404) exactly when ``can`` says no.
For a list route, every item naming a building or a commune must be inside the caller's scope.
Each write must leave its row in the audit log.
"""

from __future__ import annotations

import pytest
from fastapi.routing import APIRoute

from sobriete.api.app import create_app
from sobriete.api.routes import routers
from sobriete.api.settings import ServiceSettings
from sobriete.domain.access import Role, can
from sobriete.services.audit import recent_writes

PREFIX = "/api/v1"
UNSAFE = {"post", "put", "patch", "delete"}
# The principals of tests/api/conftest.py: every role x scope level, and one with no grant.
WHO = [f"{r.value}@{lvl}" for r in Role for lvl in ("portfolio", "territory", "commune")]
WHO.append("nobody")


def principal_ids() -> list[str]:
    return WHO


def _routes() -> list[tuple[str, str, dict, dict | None]]:
    """(method, path, openapi operation, openapi_extra as declared) of every /api/v1 route."""
    app = create_app(ServiceSettings(scheduler=False))
    declared = {(m.lower(), PREFIX + r.path): r.openapi_extra for router in routers()
                for r in router.routes if isinstance(r, APIRoute) for m in r.methods}
    out = []
    for path, ops in app.openapi()["paths"].items():
        if not path.startswith(PREFIX):
            continue
        for method, op in ops.items():
            out.append((method, path, op, declared.get((method, path))))
    return out


ROUTES = _routes()
# The openapi document drops a null action; the route's own declaration keeps it.
ACTION = {(m, p): (extra or {}).get("x-sobriete-action", "undeclared")
          for m, p, _op, extra in ROUTES}
EXAMPLE = {(m, p): (op.get("x-sobriete-example") or {}) for m, p, op, _e in ROUTES}
MULTIPART = {(m, p) for m, p, op, _e in ROUTES
             if "multipart/form-data" in (op.get("requestBody") or {}).get("content", {})}
BUILDING_ROUTES = [(m, p) for m, p, _o, _e in ROUTES
                   if "{building_code}" in p and ACTION[(m, p)] not in (None, "undeclared")]
OTHER_ROUTES = [(m, p) for m, p, _o, _e in ROUTES
                if "{building_code}" not in p and ACTION[(m, p)] not in (None, "undeclared")]


def _rid(route: tuple[str, str]) -> str:
    return f"{route[0].upper()} {route[1][len(PREFIX):]}"


def _call(est, method: str, path: str, who: str | None, building: str | None = None):
    ex = EXAMPLE[(method, path)]
    params = {**ex.get("path", {})}
    if building is not None:
        params["building_code"] = building
    url = path
    for name in [s[1:-1] for s in path.split("/") if s.startswith("{")]:
        url = url.replace("{" + name + "}", str(params.get(name, "x")))
    kwargs: dict = {"params": ex.get("query") or None,
                    "headers": est.auth(who) if who else {}}
    if method in UNSAFE and (method, path) in MULTIPART:
        kwargs["data"] = ex.get("body") or {}
        kwargs["files"] = {k: (v[0], v[1].encode()) for k, v in ex.get("files", {}).items()}
    elif method in UNSAFE and "body" in ex:
        kwargs["json"] = ex["body"]
    return url, est.client.request(method.upper(), url, **kwargs)


def _problem_type(r) -> str:
    try:
        return str(r.json().get("type", ""))
    except (ValueError, AttributeError):
        return ""


@pytest.mark.parametrize("route", [(m, p) for m, p, _o, _e in ROUTES],
                         ids=[_rid((m, p)) for m, p, _o, _e in ROUTES])
def test_every_route_declares_its_action(route):
    assert ACTION[route] != "undeclared", (
        f"{_rid(route)} has no x-sobriete-action: add openapi_extra=access(...)")


@pytest.mark.parametrize("route", BUILDING_ROUTES + OTHER_ROUTES,
                         ids=[_rid(r) for r in BUILDING_ROUTES + OTHER_ROUTES])
def test_routes_need_authentication(api_estate, route):
    _url, r = _call(api_estate, *route, who=None, building="A")
    assert r.status_code == 401, (_rid(route), r.status_code, r.text[:300])


MATRIX = [(route, who, b) for route in BUILDING_ROUTES for who in principal_ids()
          for b in ("A", "B", "C")]


@pytest.mark.parametrize(("route", "who", "building"), MATRIX,
                         ids=[f"{_rid(r)}|{w}|{b}" for r, w, b in MATRIX])
def test_building_routes_follow_the_matrix(api_estate, route, who, building):
    est = api_estate
    action = ACTION[route]
    commune, territory = est.buildings[building]
    allowed = can(est.principals[who], action, commune, territory)
    url, r = _call(est, *route, who=who, building=building)
    kind = _problem_type(r)
    where = f"{_rid(route)} as {who} on {building} ({action}): {r.status_code} {r.text[:300]}"
    assert r.status_code < 500, where
    if allowed:
        assert r.status_code not in (401, 403) and not kind.endswith("out-of-scope"), where
    else:
        assert r.status_code in (403, 404) and kind.endswith("out-of-scope"), where
    if route[0] in UNSAFE:
        rows = [w for w in recent_writes(est.store, 20) if w["path"] == url]
        assert rows and rows[0]["login"] == who and rows[0]["status_code"] == r.status_code, \
            f"no audit_log row for {where}"


LISTS = [(route, who) for route in OTHER_ROUTES for who in principal_ids()]


def _items(body) -> list:
    if isinstance(body, list):
        return body
    if isinstance(body, dict) and isinstance(body.get("items"), list):
        return body["items"]
    return []


@pytest.mark.parametrize(("route", "who"), LISTS, ids=[f"{_rid(r)}|{w}" for r, w in LISTS])
def test_other_routes_stay_in_scope(api_estate, route, who):
    est = api_estate
    action = ACTION[route]
    p = est.principals[who]
    url, r = _call(est, *route, who=who)
    where = f"{_rid(route)} as {who} ({action}): {r.status_code} {r.text[:300]}"
    assert r.status_code < 500 and r.status_code != 401, where
    if route[0] in UNSAFE:
        rows = [w for w in recent_writes(est.store, 20) if w["path"] == url]
        assert rows and rows[0]["login"] == who, f"no audit_log row for {where}"
    if route[0] != "get" or r.status_code != 200 \
            or not r.headers.get("content-type", "").startswith("application/json"):
        return
    territory_of = {c: t for c, t in est.buildings.values()}
    for item in _items(r.json()):
        if not isinstance(item, dict):
            continue
        if "building_code" in item:
            b = item["building_code"]
            assert b in est.buildings, f"{where}: unknown building {b!r}"
            assert can(p, action, *est.buildings[b]), f"{where}: building {b} out of scope"
        elif "commune_code" in item:
            c = item["commune_code"]
            assert can(p, action, c, territory_of[c]), f"{where}: commune {c} out of scope"


def test_the_principals_are_those_of_the_estate(api_estate):
    assert sorted(WHO) == sorted(api_estate.tokens)


def test_the_matrix_covers_every_building_route():
    """The resource routes of this module family are all in the matrix (a guard against a
    route silently leaving it by losing its ``{building_code}``)."""
    paths = {p for _m, p in BUILDING_ROUTES}
    for suffix in ("", "/meters", "/series/{series_key}/readings", "/readings", "/findings",
                   "/actions", "/recommendations", "/baselines", "/savings",
                   "/actions/{action_code}/status"):
        assert f"{PREFIX}/buildings/{{building_code}}{suffix}" in paths


PG_WHO = ("energy_manager@territory", "viewer@commune", "aggregator@portfolio", "nobody")
PG_MATRIX = [(route, who, b) for route in BUILDING_ROUTES if route[0] == "get"
             for who in PG_WHO for b in ("A", "B", "C")]


@pytest.mark.parametrize(("route", "who", "building"), PG_MATRIX,
                         ids=[f"{_rid(r)}|{w}|{b}" for r, w, b in PG_MATRIX])
def test_the_matrix_holds_on_postgresql(api_estate_pg, route, who, building):
    """A subset on PostgreSQL: the reads, by principals whose scopes cut across the estate."""
    est = api_estate_pg
    action = ACTION[route]
    allowed = can(est.principals[who], action, *est.buildings[building])
    _url, r = _call(est, *route, who=who, building=building)
    kind = _problem_type(r)
    where = f"{_rid(route)} as {who} on {building} ({action}): {r.status_code} {r.text[:300]}"
    assert r.status_code < 500, where
    if allowed:
        assert r.status_code not in (401, 403) and not kind.endswith("out-of-scope"), where
    else:
        assert r.status_code in (403, 404) and kind.endswith("out-of-scope"), where
