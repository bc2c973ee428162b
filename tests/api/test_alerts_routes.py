"""Alert preferences and sent alerts through the API, on the shared test estate."""

from __future__ import annotations

import pytest

from sobriete.api.settings import ServiceSettings
from sobriete.services import accounts as A
from sobriete.services import alerts as AL

EM = "energy_manager@commune"  # commune C1: building A


@pytest.fixture
def em_mail(api_estate):
    """EM with an e-mail address for the test, none afterwards (the estate is shared)."""
    aid = api_estate.principals[EM].account_id
    yield aid
    A.set_email(api_estate.store, aid, None)
    AL.set_preferences(api_estate.store, aid, dict(AL.DEFAULT_MODES))


def test_my_preferences_start_from_the_defaults(api_estate):
    r = api_estate.client.get("/api/v1/me/alerts", headers=api_estate.auth("viewer@commune"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["preferences"] == body["defaults"] == {
        "finding": "digest", "comfort": "immediate", "flex_event": "immediate",
        "data_outage": "immediate"}
    assert body["email"] is None and body["smtp_configured"] is False


def test_i_change_my_preferences_and_address(api_estate, em_mail):
    c, h = api_estate.client, api_estate.auth(EM)
    r = c.put("/api/v1/me/alerts", headers=h, json={
        "email": "energie@commune1.fr", "preferences": {"finding": "immediate",
                                                        "comfort": "off"}})
    assert r.status_code == 200, r.text
    assert r.json()["email"] == "energie@commune1.fr"
    assert r.json()["preferences"]["finding"] == "immediate"
    assert r.json()["preferences"]["comfort"] == "off"
    # Only what is sent changes: the address stays when absent.
    r = c.put("/api/v1/me/alerts", headers=h, json={"preferences": {"comfort": "digest"}})
    assert r.json()["email"] == "energie@commune1.fr"
    assert r.json()["preferences"] == {"finding": "immediate", "comfort": "digest",
                                       "flex_event": "immediate", "data_outage": "immediate"}
    # The language of my e-mails (the estate is shared: another test may have set it).
    r = c.put("/api/v1/me/alerts", headers=h, json={"lang": "en"})
    assert (r.json()["lang"], r.json()["email"]) == ("en", "energie@commune1.fr")
    assert c.put("/api/v1/me/alerts", headers=h, json={"lang": "de"}).status_code == 422
    r = c.put("/api/v1/me/alerts", headers=h, json={"preferences": {"comfort": "digest"}})
    assert r.json()["lang"] == "en"  # unchanged when absent
    assert c.put("/api/v1/me/alerts", headers=h, json={"lang": "fr"}).json()["lang"] == "fr"
    bad = c.put("/api/v1/me/alerts", headers=h, json={"email": "pas une adresse"})
    assert bad.status_code == 422 and "prenom.nom@mairie.fr" in bad.json()["detail"]
    bad = c.put("/api/v1/me/alerts", headers=h, json={"preferences": {"comfort": "parfois"}})
    assert bad.status_code == 422
    # Another account's preferences are untouched.
    other = c.get("/api/v1/me/alerts", headers=api_estate.auth("viewer@commune")).json()
    assert other["preferences"]["comfort"] == "immediate"


def test_recent_lists_my_alerts_only(api_estate, em_mail):
    c = api_estate.client
    c.put("/api/v1/me/alerts", headers=api_estate.auth(EM),
          json={"email": "energie@commune1.fr"})
    report = AL.send_digest(api_estate.store, ServiceSettings(scheduler=False))
    assert report.alerts_recorded > 0 and not report.smtp
    r = c.get("/api/v1/alerts/recent", headers=api_estate.auth(EM))
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert items and {i["building_code"] for i in items} == {"A"}
    assert {i["kind"] for i in items} == {"finding"} and items[0]["channel"] == "dashboard"
    assert r.json()["total"] == len(api_estate.finding_keys["A"])
    assert c.get("/api/v1/alerts/recent", headers=api_estate.auth("admin@portfolio")
                 ).json()["items"] == []
    csv = c.get("/api/v1/alerts/recent?format=csv", headers=api_estate.auth(EM))
    assert csv.status_code == 200 and "event_key" in csv.text
    assert c.get("/api/v1/alerts/recent").status_code == 401
