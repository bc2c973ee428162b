"""E-mail alerts against a real SMTP server (aiosmtpd on a free port), on SQLite and
PostgreSQL.

Estate: building A (school, commune C1) and B (town hall, commune C2), one electricity meter
each (Cambridge b0 and b4, 2019), diagnosed for real (findings on both). Comfort: control
decisions of B's zone measured at 16.5 °C at occupied instants of the last days. Flexibility:
an event asking A 10 kW and B 5 kW, saved through the store's own function.
"""

from __future__ import annotations

import email
import socket
import uuid
from datetime import UTC, datetime, timedelta
from email import policy
from pathlib import Path

import pandas as pd
import pytest
from aiosmtpd.controller import Controller
from argon2 import PasswordHasher
from sqlalchemy import create_engine, delete, func, select, update

from sobriete.analytics.calendar import occupied
from sobriete.api.settings import ServiceSettings
from sobriete.control.audit import AuditRecord
from sobriete.control.interface import Decision, ZoneDecision
from sobriete.domain.access import AccessError, Grant, Role, Scope, ScopeLevel
from sobriete.domain.portfolio import ActivityCategory, default_calendar
from sobriete.services import accounts as A
from sobriete.services import alerts
from sobriete.services.demo import DATA
from sobriete.services.diagnose_run import diagnose
from sobriete.services.imports import import_file
from sobriete.services.store import open_store
from sobriete.services.store import schema as S
from sobriete.services.store.control import PlanRow, insert_decision, insert_plan
from sobriete.services.store.flex import AllocationRow, save_event

FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
HEAD = ("portfolio_code;portfolio_name;territory_code;territory_name;commune_insee;"
        "commune_name;site_code;building_code;building_name;activity;floor_area_m2;"
        "heating_system;meter_code;meter_kind;meter_step_min;weather_station")
ROWS = ("M;Métropole;T1;Territoire 1;C1;Commune 1;S1;A;École A;school;3296.5;gas_boiler;"
        "A-elec;electricity;60;bedford",
        "M;Métropole;T1;Territoire 1;C2;Commune 2;S2;B;Mairie B;town_hall;2744.5;gas_boiler;"
        "B-elec;electricity;60;bedford")
PEOPLE = {  # login: (role, commune, e-mail)
    "em.c1": ("energy_manager", "C1", "em1@commune1.test"),
    "em.c2": ("energy_manager", "C2", "em2@commune2.test"),
    "agg.c1": ("aggregator", "C1", "agg@flex.test"),
    "viewer.c1.no-mail": ("viewer", "C1", None),
}
DATA_END = datetime(2020, 1, 1, tzinfo=UTC)


class Inbox:
    """Messages the real SMTP server accepted."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        msg = email.message_from_bytes(envelope.content, policy=policy.default)
        msg["X-Rcpt"] = ",".join(envelope.rcpt_tos)
        self.messages.append(msg)
        return "250 OK"

    def to(self, addr: str) -> list:
        return [m for m in self.messages if addr in m["X-Rcpt"]]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp():
    inbox = Inbox()
    port = _free_port()
    ctl = Controller(inbox, hostname="127.0.0.1", port=port)
    ctl.start()
    yield inbox, port
    ctl.stop()


def _settings(port: int | None) -> ServiceSettings:
    return ServiceSettings(scheduler=False, smtp_host="127.0.0.1" if port else None,
                           smtp_port=port or 25, public_url="https://energie.commune.test",
                           smtp_from="alertes@commune.test")


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("alerts_estate")
    (folder / "registry.csv").write_text("\n".join((HEAD, *ROWS)) + "\n", encoding="utf-8")
    for name, cols, out in (("electricity_kwh_hourly", ["b0", "b4"], "elec.csv"),
                            ("weather_bedford_hourly", ["air_temperature_c"], "weather.csv")):
        df = pd.read_csv(DATA / "cambridge" / f"{name}.csv.gz")
        t = pd.to_datetime(df["timestamp_utc"])
        df.loc[(t >= "2019-01-01") & (t < "2020-01-01"), ["timestamp_utc", *cols]].to_csv(
            folder / out, index=False)
    return folder


def _occupied_instants(n: int) -> list[datetime]:
    """``n`` 15-min instants of the last six days when the town hall B is occupied."""
    now = pd.Timestamp.now(tz="UTC").floor("15min")
    grid = pd.date_range(now - pd.Timedelta(days=6), now - pd.Timedelta(hours=1), freq="15min")
    mask, _ = occupied(default_calendar(ActivityCategory.TOWN_HALL), grid)
    open_ = grid[mask]
    days = open_.tz_convert("Europe/Paris").date
    day = max(d for d in set(days) if (days == d).sum() >= n)  # one local day: one event
    return [t.to_pydatetime() for t in open_[days == day][:n]]


def _closed_instant() -> datetime:
    """An instant of the last six days when the town hall B is closed (a night)."""
    now = pd.Timestamp.now(tz="UTC").floor("15min")
    grid = pd.date_range(now - pd.Timedelta(days=6), now - pd.Timedelta(hours=1), freq="15min")
    mask, _ = occupied(default_calendar(ActivityCategory.TOWN_HALL), grid)
    return grid[~mask][-1].to_pydatetime()


def _build(url: str, folder: Path):
    store = open_store(url)
    import_file(store, folder / "registry.csv", "registry")
    import_file(store, folder / "elec.csv", "meter-csv", rename={"b0": "A-elec", "b4": "B-elec"},
                layout="wide", timestamp_column="timestamp_utc", timezone="UTC",
                timestamps="start")
    import_file(store, folder / "weather.csv", "weather-csv", time_column="timestamp_utc",
                timezone="UTC", station="bedford", columns={"air_temperature_c": "temp_air_c"})
    diagnose(store)
    ids = {}
    for login, (role, commune, mail) in PEOPLE.items():
        ids[login] = A.create_account(store, login, "correct horse battery", login.upper(),
                                      [Grant(Role(role), Scope(ScopeLevel.COMMUNE, commune))],
                                      hasher=FAST)
        if mail:
            A.set_email(store, ids[login], mail)
    with store.engine.begin() as conn:
        instants = _occupied_instants(3)
        pid = insert_plan(conn, PlanRow("B", "bureaux", "run", instants[0], 1, "{}", {}, {}))
        for t in instants:
            d = Decision(time_utc=t, building_code="B",
                         zones=(ZoneDecision(zone_code="bureaux", setpoint_c=19.0),))
            rec = AuditRecord(time_utc=t, building_code="B", mode="automatic",
                              dispatch="sent", applied=d,
                              inputs={"observation": True, "bureaux.temp_zone_c": 16.5})
            insert_decision(conn, pid, rec, "bureaux", driver="dry-run")
        # A colder night step: the town hall is closed, so it is no discomfort of anyone.
        night = _closed_instant()
        rec = AuditRecord(time_utc=night, building_code="B", mode="automatic", dispatch="sent",
                          applied=Decision(time_utc=night, building_code="B"),
                          inputs={"observation": True, "bureaux.temp_zone_c": 11.0})
        insert_decision(conn, pid, rec, "bureaux", driver="dry-run")
        start = pd.Timestamp.now(tz="UTC").ceil("h") + pd.Timedelta(hours=20)
        save_event(conn, {"event_id": "EJP-1", "start_utc": start,
                          "end_utc": start + pd.Timedelta(hours=2), "request_kw": 15,
                          "served_kw": 15, "unmet_kw": 0, "jain_before": 1, "jain_after": 1,
                          "scope": {"level": "portfolio"}, "doc": {}},
                   [AllocationRow("A", 20, 10, 20, 0.5, 3, "model", 0.8),
                    AllocationRow("B", 10, 5, 10, 0.2, 1, "model", 0.8)])
    return store, ids


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def estate(request, files, tmp_path_factory):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('alerts_db') / 'store.sqlite'}"
        store, ids = _build(url, files)
        yield store, ids
        store.close()
        return
    server = request.getfixturevalue("pg_server_url")
    name = f"sobriete_alerts_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server.replace("postgresql://", "postgresql+psycopg://"),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    store, ids = _build(f"{server.rsplit('/', 1)[0]}/{name}", files)
    yield store, ids
    store.close()
    with admin.connect() as c:
        c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture
def store_ids(estate):
    """The module's estate with no alert sent and default preferences."""
    store, ids = estate
    with store.engine.begin() as conn:
        conn.execute(delete(S.alert_sent))
        conn.execute(delete(S.alert_preference))
        conn.execute(update(S.account).values(lang="fr"))
    return store, ids


def _findings(store, code: str) -> int:
    with store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(
            S.finding.join(S.building, S.building.c.id == S.finding.c.building_id))
            .where(S.building.c.code == code)).scalar_one()


def _body(msg, subtype: str) -> str:
    return msg.get_body(preferencelist=(subtype,)).get_content()


def test_immediate_alerts_go_to_the_right_people_once(store_ids, smtp):
    store, _ = store_ids
    inbox, port = smtp
    report = alerts.send_immediate(store, _settings(port))
    assert report.failed == {}
    assert sorted(report.sent_to) == ["agg.c1", "em.c1", "em.c2"]
    # C1's manager: A's shedding only (B's comfort and shedding are C2's business).
    (m1,) = inbox.to("em1@commune1.test")
    text1 = _body(m1, "plain")
    assert "École A" in text1 and "Effacement demandé : 10.0 kW" in text1
    assert "Mairie B" not in text1 and "Inconfort" not in text1
    assert "https://energie.commune.test/batiments/A" in text1
    assert m1["From"] == "alertes@commune.test"
    # C2's manager: B's comfort violation (16.5 °C while occupied) and B's shedding.
    (m2,) = inbox.to("em2@commune2.test")
    text2, html2 = _body(m2, "plain"), _body(m2, "html")
    assert "Inconfort : zone bureaux à 16.5 °C — Mairie B" in text2  # not the closed 11 °C
    assert "3 pas de contrôle en occupation sous 18.0 °C" in text2
    assert "Effacement demandé : 5.0 kW — Mairie B" in text2
    assert "École A" not in text2 and "École A" not in html2
    assert '<a href="https://energie.commune.test/batiments/B">' in html2
    # The aggregator reads flexibility, not comfort nor findings.
    (m3,) = inbox.to("agg@flex.test")
    assert "Effacement demandé : 10.0 kW" in _body(m3, "plain")
    assert "Inconfort" not in _body(m3, "plain")
    # Findings wait for the digest by default; nobody without an e-mail is written to.
    assert "constat" not in text1.lower() and len(inbox.messages) == 3
    # Nothing twice.
    again = alerts.send_immediate(store, _settings(port))
    assert again.emails_sent == 0 and len(inbox.messages) == 3


def test_an_account_reads_its_alerts_in_its_language(store_ids, smtp):
    store, ids = store_ids
    inbox, port = smtp
    A.set_lang(store, ids["em.c2"], "en")
    alerts.send_immediate(store, _settings(port))
    (m2,) = inbox.to("em2@commune2.test")
    text2, html2 = _body(m2, "plain"), _body(m2, "html")
    assert text2.startswith("Hello EM.C2,") and '<html lang="en">' in html2
    assert "Discomfort: zone bureaux at 16.5 °C — Mairie B" in text2
    assert "3 control steps while occupied below 18.0 °C" in text2
    assert "Load shedding requested: 5.0 kW — Mairie B" in text2
    assert "Inconfort" not in text2 and "Effacement" not in text2 and "Bonjour" not in text2
    (m1,) = inbox.to("em1@commune1.test")  # the others keep French
    assert "Effacement demandé : 10.0 kW" in _body(m1, "plain")
    alerts.send_digest(store, _settings(port), None)
    (d2,) = [m for m in inbox.to("em2@commune2.test") if "Digest of" in m["Subject"]]
    assert _body(d2, "plain").count("New finding: ") == _findings(store, "B") > 0
    with pytest.raises(AccessError):
        A.set_lang(store, ids["em.c2"], "de")


def test_a_failed_send_is_retried_next_run(store_ids, smtp):
    store, _ = store_ids
    inbox, port = smtp
    dead = _settings(_free_port())  # nothing listens there
    report = alerts.send_immediate(store, dead)
    assert set(report.failed) == {"agg.c1", "em.c1", "em.c2"}
    assert "ConnectionRefusedError" in report.failed["em.c1"]
    assert report.alerts_recorded == 0
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(S.alert_sent)).scalar_one() == 0
    retry = alerts.send_immediate(store, _settings(port))
    assert retry.emails_sent == 3 and retry.failed == {}


def test_a_recipient_that_cannot_be_written_to_is_retried_alone(store_ids, smtp):
    store, ids = store_ids
    inbox, port = smtp
    A.set_email(store, ids["em.c2"], "em2@")  # no domain: no message can be addressed
    try:
        report = alerts.send_immediate(store, _settings(port))
        assert list(report.failed) == ["em.c2"] and sorted(report.sent_to) == ["agg.c1", "em.c1"]
        A.set_email(store, ids["em.c2"], "em2@commune2.test")
        retry = alerts.send_immediate(store, _settings(port))
        assert retry.sent_to == ["em.c2"]
    finally:
        A.set_email(store, ids["em.c2"], "em2@commune2.test")


def test_digest_lists_each_managers_own_findings(store_ids, smtp):
    store, _ = store_ids
    inbox, port = smtp
    today = datetime.now(UTC).astimezone().date()
    report = alerts.send_digest(store, _settings(port), None)
    assert report.channel == "digest" and report.failed == {}
    assert sorted(report.sent_to) == ["em.c1", "em.c2"]  # the aggregator has no findings
    (m1,) = inbox.to("em1@commune1.test")
    assert m1["Subject"].startswith("[sobriete] Résumé du ")
    text1 = _body(m1, "plain")
    assert text1.count("Nouveau constat") == _findings(store, "A") > 0
    assert "Mairie B" not in text1
    (m2,) = inbox.to("em2@commune2.test")
    assert _body(m2, "plain").count("Nouveau constat") == _findings(store, "B") > 0
    assert alerts.send_digest(store, _settings(port), None).emails_sent == 0
    assert today  # the digest of today; an older day sees no later event:
    old = alerts.send_digest(store, _settings(port), today - timedelta(days=30))
    assert old.events == 0


def test_preferences_off_and_digest(store_ids, smtp):
    store, ids = store_ids
    inbox, port = smtp
    prefs = alerts.set_preferences(store, ids["em.c2"], {"comfort": "off",
                                                         "flex_event": "digest",
                                                         "finding": "immediate"})
    assert prefs == {"finding": "immediate", "comfort": "off", "flex_event": "digest",
                     "data_outage": "immediate"}
    with pytest.raises(alerts.PreferenceError):
        alerts.set_preferences(store, ids["em.c2"], {"comfort": "sometimes"})
    alerts.send_immediate(store, _settings(port))
    (m2,) = inbox.to("em2@commune2.test")
    text = _body(m2, "plain")
    assert "Nouveau constat" in text and "Inconfort" not in text and "Effacement" not in text
    alerts.send_digest(store, _settings(port))
    digest = inbox.to("em2@commune2.test")[1]
    assert "Effacement demandé : 5.0 kW" in _body(digest, "plain")
    assert "Inconfort" not in _body(digest, "plain")  # off: never sent


def test_data_outage_is_alerted_once_per_silence(store_ids, smtp):
    store, _ = store_ids
    inbox, port = smtp
    twelve_hours_later = DATA_END + timedelta(hours=12)
    report = alerts.send_immediate(store, _settings(port), twelve_hours_later)
    assert sorted(report.sent_to) == ["em.c1", "em.c2"]
    (m1,) = inbox.to("em1@commune1.test")
    assert "Données absentes : compteur A-elec — École A" in _body(m1, "plain")
    assert "B-elec" not in _body(m1, "plain")
    # Two hours after the last reading is not an outage for an hourly meter.
    inbox.messages.clear()
    with store.engine.begin() as conn:
        conn.execute(delete(S.alert_sent))
    early = alerts.send_immediate(store, _settings(port), DATA_END + timedelta(hours=2))
    assert early.emails_sent == 0


def test_without_smtp_the_alerts_are_kept_for_the_dashboard(store_ids):
    store, ids = store_ids
    report = alerts.send_immediate(store, _settings(None))
    assert not report.smtp and report.emails_sent == 0 and report.alerts_recorded > 0
    me = A.principal_for_account(store, ids["em.c2"])
    rows = alerts.recent(store, me)
    assert rows and {r["channel"] for r in rows} == {"dashboard"}
    assert {r["building_code"] for r in rows} == {"B"}


def test_a_long_digest_lists_the_costliest_and_points_to_the_board(store_ids, smtp,
                                                                  monkeypatch):
    store, _ = store_ids
    inbox, port = smtp
    n = _findings(store, "B")
    assert n >= 3
    monkeypatch.setattr(alerts, "MAX_PER_KIND", 2)
    report = alerts.send_digest(store, _settings(port))
    assert report.alerts_recorded >= n  # all recorded, even those not listed
    text = _body(inbox.to("em2@commune2.test")[0], "plain")
    assert text.count("Nouveau constat") == 2
    assert f"… et {n - 2} autres : voir le tableau de bord" in text
    with store.engine.connect() as conn:
        eur = sorted(conn.execute(select(S.finding.c.eur_per_year).join(
            S.building, S.building.c.id == S.finding.c.building_id).where(
            S.building.c.code == "B")).scalars(), key=lambda v: -(v or 0))
    listed = [line for line in text.splitlines() if "€/an" in line]
    top = f"{eur[0]:,.0f}".replace(",", "\u202f")
    assert f"environ {top} €/an" in listed[0]
