"""`sobriete serve`'s foundation: health against the real store (SQLite and PostgreSQL),
errors as problem+json, the OpenAPI document, configuration by file and environment."""

from __future__ import annotations

import json
import logging

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from sobriete.api.app import create_app
from sobriete.api.logs import JsonFormatter
from sobriete.api.settings import ServiceSettings, load_settings
from sobriete.cli import main
from sobriete.domain.errors import InputError
from sobriete.services.store import open_store


def _client(url: str) -> TestClient:
    return TestClient(create_app(ServiceSettings(db_url=url)))


def test_health_reports_the_store_and_its_schema(any_store_url):
    with _client(any_store_url) as client:
        r = client.get("/health")
    assert r.status_code == 200
    doc = r.json()
    assert doc["status"] == "ok" and doc["database_ok"] is True
    assert doc["database"] in ("sqlite", "postgresql")
    assert doc["schema_revision"] == doc["schema_head"] and doc["schema_head"]


def test_a_store_behind_its_code_is_degraded(sqlite_url):
    from alembic import command

    from sobriete.services.store.engine import _alembic_config

    store = open_store(sqlite_url)
    command.downgrade(_alembic_config(sqlite_url), "0005")
    with TestClient(create_app(ServiceSettings(db_url=sqlite_url), store=store)) as client:
        doc = client.get("/health").json()
        # a request the database cannot answer (here: no token table yet) is a retryable 503
        r = client.get("/api/v1/buildings", headers={"Authorization": "Bearer x"})
    assert doc["status"] == "degraded" and doc["schema_revision"] == "0005"
    assert (r.status_code, r.headers["retry-after"]) == (503, "1")
    assert r.json()["type"].endswith("/store-unavailable") and "/health" in r.json()["detail"]
    store.close()


def test_errors_are_problem_json_and_the_api_is_published(sqlite_url):
    with _client(sqlite_url) as client:
        r = client.get("/no-such-page")
        spec = client.get("/openapi.json").json()
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["status"] == 404 and r.json()["type"].endswith("/http-404")
    assert "/health" in spec["paths"]


def test_the_errors_of_each_operation_are_documented_as_problems(api_estate):
    import jsonschema_rs  # schemathesis' own validator

    c = api_estate.client
    spec = c.get("/openapi.json").json()
    problem = spec["components"]["schemas"]["Problem"]
    assert "HTTPValidationError" not in spec["components"]["schemas"]

    def declared(path, method="get"):
        responses = spec["paths"][path][method]["responses"]
        for code, r in responses.items():
            if code[0] != "2":
                assert r["content"]["application/problem+json"]["schema"] == {
                    "$ref": "#/components/schemas/Problem"}, (path, code)
        return sorted(c for c in responses if c[0] != "2")

    assert declared("/api/v1/buildings/{building_code}") == ["401", "403", "404", "422",
                                                             "default"]
    assert declared("/api/v1/buildings") == ["401", "403", "422", "default"]
    assert declared("/health") == ["default"]
    # what the service sends matches what it documents
    for r in (c.get("/api/v1/buildings/NOPE", headers=api_estate.auth("admin@portfolio")),
              c.get("/api/v1/buildings", params={"limit": 0},
                    headers=api_estate.auth("admin@portfolio")),
              c.get("/api/v1/buildings")):
        assert r.status_code in (401, 404, 422) and \
            r.headers["content-type"] == "application/problem+json"
        jsonschema_rs.validate(problem, r.json())


def test_environment_wins_over_the_file_and_options_over_both(tmp_path, monkeypatch):
    conf = tmp_path / "sobriete.toml"
    conf.write_text('db_url = "sqlite:///file.sqlite"\nport = 8100\n', encoding="utf-8")
    monkeypatch.delenv("SOBRIETE_DB_URL", raising=False)
    monkeypatch.setenv("SOBRIETE_PORT", "8200")
    s = load_settings(conf)
    assert s.db_url == "sqlite:///file.sqlite" and s.port == 8200
    assert load_settings(conf, port=8300).port == 8300


def test_bad_configuration_names_the_file_and_field(tmp_path):
    conf = tmp_path / "sobriete.toml"
    conf.write_text("port = 99999\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_settings(conf)
    assert err.value.field == "port" and err.value.file == str(conf)
    conf.write_text("port = \n", encoding="utf-8")
    with pytest.raises(InputError, match="unreadable"):
        load_settings(conf)
    conf.write_text('colour = "bleu"\n', encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_settings(conf)
    assert err.value.field == "colour"
    res = CliRunner().invoke(main, ["serve", "--config", str(conf)])
    assert res.exit_code == 2 and "colour" in res.output


def test_logs_are_one_json_object_per_line():
    rec = logging.makeLogRecord({"name": "sobriete.api", "levelno": logging.INFO,
                                 "levelname": "INFO", "msg": "store opened",
                                 "dialect": "sqlite"})
    doc = json.loads(JsonFormatter().format(rec))
    assert doc["message"] == "store opened" and doc["dialect"] == "sqlite"
    assert doc["level"] == "info" and doc["time"].endswith("+00:00")


@pytest.mark.parametrize(("threshold_ms", "logged"), [(0.001, True), (0, False), (60_000, False)])
def test_slow_requests_are_logged_with_their_duration(sqlite_url, caplog, threshold_ms, logged):
    app = create_app(ServiceSettings(db_url=sqlite_url, slow_request_ms=threshold_ms))
    with caplog.at_level(logging.WARNING, logger="sobriete.api"), TestClient(app) as client:
        assert client.get("/health").status_code == 200
    slow = [r for r in caplog.records if r.getMessage() == "slow request"]
    assert bool(slow) is logged
    if logged:
        (r,) = slow
        assert (r.method, r.path, r.status) == ("GET", "/health", 200) and r.duration_ms > 0
