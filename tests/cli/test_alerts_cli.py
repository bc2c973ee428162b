"""`sobriete alerts send | digest` on a real store, with and without a reachable SMTP
server."""

from __future__ import annotations

import json
import socket

from argon2 import PasswordHasher
from click.testing import CliRunner

from sobriete.cli import main
from sobriete.domain.access import Grant, Role, Scope, ScopeLevel
from sobriete.services import accounts as A
from sobriete.services.store import open_store
from sobriete.services.store.flex import AllocationRow, save_event

HEAD = ("portfolio_code;portfolio_name;territory_code;territory_name;commune_insee;"
        "commune_name;site_code;building_code;building_name;activity;floor_area_m2;"
        "heating_system;meter_code;meter_kind;meter_step_min;weather_station")
ROW = ("M;Métropole;T1;Territoire 1;C1;Commune 1;S1;A;École A;school;3296.5;gas_boiler;"
       "A-elec;electricity;60;bedford")


def _store(url: str, tmp_path) -> None:
    import pandas as pd

    from sobriete.services.imports import import_file
    store = open_store(url)
    (tmp_path / "reg.csv").write_text(HEAD + "\n" + ROW + "\n", "utf-8")
    import_file(store, tmp_path / "reg.csv", "registry")
    aid = A.create_account(store, "em", "correct horse battery", "EM",
                           [Grant(Role.ENERGY_MANAGER, Scope(ScopeLevel.COMMUNE, "C1"))],
                           hasher=PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    A.set_email(store, aid, "em@commune1.test")
    start = pd.Timestamp.now(tz="UTC").ceil("h") + pd.Timedelta(hours=5)
    with store.engine.begin() as conn:
        save_event(conn, {"event_id": "E1", "start_utc": start,
                          "end_utc": start + pd.Timedelta(hours=1), "request_kw": 3,
                          "served_kw": 3, "unmet_kw": 0, "jain_before": 1, "jain_after": 1,
                          "scope": {}, "doc": {}},
                   [AllocationRow("A", 5, 3, 3, 0.1, 1, "model", 0.9)])
    store.close()


def test_send_without_reachable_smtp_fails_and_records_nothing(sqlite_url, tmp_path,
                                                               monkeypatch):
    _store(sqlite_url, tmp_path)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("SOBRIETE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SOBRIETE_SMTP_PORT", str(port))
    r = CliRunner().invoke(main, ["alerts", "send", "--db", sqlite_url, "--json"])
    assert r.exit_code == 1, r.output
    out = json.loads(r.output)
    assert out["events"] == 1 and out["alerts_recorded"] == 0 and "em" in out["failed"]
    # Without a server configured, the alert is kept for the dashboard.
    monkeypatch.delenv("SOBRIETE_SMTP_HOST")
    r = CliRunner().invoke(main, ["alerts", "send", "--db", sqlite_url])
    assert r.exit_code == 0, r.output
    assert "Pas de serveur SMTP" in r.output and "1 alerte(s) enregistrée(s)" in r.output
    r = CliRunner().invoke(main, ["alerts", "digest", "--db", sqlite_url, "--day",
                                  "2026-01-05", "--json"])
    assert r.exit_code == 0 and json.loads(r.output)["channel"] == "digest"
