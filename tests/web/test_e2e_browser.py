"""End to end in real headless Chromium (Debian's /usr/bin/chromium through Playwright): the
app served by uvicorn on a free loopback port, SQLite store in tmp, real data. Log in, see
the portfolio, open a building, mark an action done through its form (CSRF), check that
commune C1's manager sees nothing of commune C2 (not listed; direct URL -> 404 page), log out.
Screenshots go to build/screenshots/."""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
import uvicorn

from sobriete.api.app import create_app
from sobriete.api.settings import ServiceSettings
from sobriete.services.demo import DATA
from sobriete.services.jobs import JobRegistry

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
PW = "correct horse battery"

if not CHROMIUM.exists():
    if os.environ.get("CI", "").lower() == "true":
        raise RuntimeError("CI=true but /usr/bin/chromium is missing: the browser tests "
                           "must run in CI (apt-get install chromium)")
    pytest.skip("no /usr/bin/chromium (apt-get install chromium); browser tests skipped",
                allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(web_sqlite):
    port = _free_port()
    app = create_app(ServiceSettings(scheduler=False, cookie_secure=False), store=web_sqlite)
    if getattr(app.state, "jobs", None) is None:  # the service starts one; so does this test
        app.state.jobs = JobRegistry(web_sqlite)
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    th = threading.Thread(target=srv.run, daemon=True)
    th.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.05)
    assert srv.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    for job in app.state.jobs.list():  # background work ends before the store is closed
        app.state.jobs.wait(job.id, timeout_s=120)
    srv.should_exit = True
    th.join(10)


@pytest.fixture
def page():
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                    args=["--no-sandbox"])
        ctx = browser.new_context(viewport={"width": 1360, "height": 900}, locale="fr-FR")
        pg = ctx.new_page()
        errors: list[str] = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.js_errors = errors
        yield pg
        browser.close()


def _login(page, base: str, login: str) -> None:
    page.goto(f"{base}/")
    assert page.url.startswith(f"{base}/login")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", PW)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def test_manager_journey_in_chromium(server, page):
    base = server
    _login(page, base, "em.c2")
    assert page.url == f"{base}/"
    rows = page.locator("#buildings tbody tr")
    assert rows.count() == 1 and page.locator("tr[data-code=b4]").count() == 1
    assert page.locator(".badge").first.is_visible()
    # b4 has no coordinates: listed under the (hidden) map, from /carte.json
    page.wait_for_selector("details.nocoords:not([hidden])")
    assert "(1)" in page.locator("details.nocoords summary").inner_text()
    page.screenshot(path=str(SHOTS / "01-portfolio-c2.png"), full_page=True)

    page.click("#buildings a[href='/batiments/b4']")
    page.wait_for_load_state("networkidle")
    assert "Gymnase Coubertin" in page.title()
    page.wait_for_selector("#curve .u-wrap")  # uPlot drew the load curve
    page.wait_for_selector("#signature .u-wrap")
    page.wait_for_selector("#monthly .u-wrap")
    page.screenshot(path=str(SHOTS / "02-building-b4.png"), full_page=True)

    form = page.locator("#actions form.actionform").first
    code = form.get_attribute("action").rsplit("/", 1)[1]
    form.locator("select[name=status]").select_option("done")
    form.locator("input[name=done_date]").fill("2019-12-15")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("p.ok").is_visible()
    row = page.locator(f"tr[data-action='{code}']")
    assert row.locator("select[name=status]").input_value() == "done"
    page.screenshot(path=str(SHOTS / "03-action-done.png"), full_page=True)

    page.goto(f"{base}/actions")
    assert page.locator("#col-done .cardlet").count() == 1
    page.screenshot(path=str(SHOTS / "04-actions-board.png"), full_page=True)

    page.click("text=Se déconnecter")
    page.wait_for_load_state("networkidle")
    assert page.url.startswith(f"{base}/login")
    page.goto(f"{base}/batiments/b4")
    assert page.url.startswith(f"{base}/login")  # the session is gone
    assert not page.js_errors, page.js_errors


def test_commune_c1_never_sees_commune_c2(server, page):
    base = server
    _login(page, base, "em.c1")
    assert page.locator("tr[data-code=b0]").count() == 1
    assert page.locator("tr[data-code=b4]").count() == 0
    assert "Gymnase" not in page.content()
    page.wait_for_selector(".leaflet-interactive")  # b0's marker, even without tiles
    page.screenshot(path=str(SHOTS / "05-portfolio-c1-map.png"), full_page=True)
    resp = page.goto(f"{base}/batiments/b4")
    assert resp.status == 404
    assert "pas dans votre périmètre" in page.content()
    page.screenshot(path=str(SHOTS / "06-c2-building-404.png"))
    page.goto(f"{base}/batiments/b0?lang=en")
    assert re.search(r"Load curve", page.content())
    page.screenshot(path=str(SHOTS / "07-building-b0-en.png"), full_page=True)
    assert not page.js_errors, page.js_errors


def test_meter_import_runs_as_a_job_with_progress(server, page, tmp_path):
    # January 2020 of b4's real electricity, as a long CSV: new readings for b4
    df = pd.read_csv(DATA / "cambridge" / "electricity_kwh_hourly.csv.gz")
    t = pd.to_datetime(df["timestamp_utc"])
    jan = df[(t >= "2020-01-01") & (t < "2020-02-01")]
    path = tmp_path / "b4-janvier-2020.csv"
    pd.DataFrame({"meter": "b4-elec", "timestamp": jan["timestamp_utc"],
                  "value": jan["b4"]}).to_csv(path, index=False)
    base = server
    _login(page, base, "em.c2")
    page.goto(f"{base}/imports")
    assert page.locator("select[name=building_code] option").count() == 1  # b4 only
    assert page.locator("select[name=fmt]").count() == 0  # reference files: portfolio only
    page.select_option("select[name=format]", "meter-csv")
    page.fill("input[name=options]", '{"timezone": "UTC"}')
    page.set_input_files("#meter-import input[type=file]", str(path))
    page.click("#meter-import button[type=submit]")
    page.wait_for_selector("#job[data-state=done], #job[data-state=failed]", timeout=60_000)
    assert page.locator("#jobmsg").text_content().startswith("terminé")
    assert '"rows_new": 744' in page.locator("#jobresult").text_content()
    assert page.locator("#bar").get_attribute("value") == "1"
    page.screenshot(path=str(SHOTS / "08-import-job-done.png"), full_page=True)
    assert not page.js_errors, page.js_errors
