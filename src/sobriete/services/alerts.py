"""E-mail alerts: who is told what, when, and never twice.

Events come from ``alert_rules.collect``. Each active account with an e-mail address gets
only the events of buildings it may read (demand-response events: ``flex_read``), for the
kinds its preferences (``alert_preference``) send on this channel:

=============  ==============  ==================================================
kind           default mode    what
=============  ==============  ==================================================
finding        digest          a new finding of the diagnosis
comfort        immediate       a zone below 19 °C - tolerance while occupied
flex_event     immediate       a building asked to shed by a demand-response event
data_outage    immediate       a meter silent for longer than its step allows
=============  ==============  ==================================================

``send_immediate`` sends one e-mail per account listing its new immediate events;
``send_digest`` one per account per day for the digest events. A row of ``alert_sent`` per
(account, kind, event) is written only once the SMTP server accepted the message: a failed
send is retried at the next run, a successful one never repeated. Without ``smtp_host`` the
events are recorded on channel ``dashboard`` (listed by ``GET /api/v1/alerts/recent``,
never e-mailed later). E-mails are in the account's language (``account.lang``: fr or en).
"""

from __future__ import annotations

import html
import smtplib
import ssl
import threading
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, delete, insert, select

from sobriete.domain.access import Grant, Principal, Role, Scope, ScopeLevel, can
from sobriete.domain.errors import SobrieteError
from sobriete.services.alert_rules import KINDS, AlertEvent, RuleSettings, collect
from sobriete.services.scoped import building_ref
from sobriete.services.store import Store
from sobriete.services.store import schema as S

MODES = ("immediate", "digest", "off")
DEFAULT_MODES = {"finding": "digest", "comfort": "immediate", "flex_event": "immediate",
                 "data_outage": "immediate"}
KIND_LABELS = {
    "fr": {"finding": "Nouveaux constats", "comfort": "Inconfort en occupation",
           "flex_event": "Effacements demandés", "data_outage": "Données absentes"},
    "en": {"finding": "New findings", "comfort": "Discomfort while occupied",
           "flex_event": "Load shedding requested", "data_outage": "Missing data"}}
# The words of an e-mail, in the recipient's language (``account.lang``).
MAIL_TEXT = {
    "fr": {"day": "%d/%m/%Y", "hello": "Bonjour {name},",
           "digest_subject": "[sobriete] Résumé du {day} : {n} alerte{s}",
           "digest_intro": "Voici le résumé quotidien des alertes du {day}.",
           "several": "{n} nouvelles alertes",
           "intro": "De nouvelles alertes concernent vos bâtiments.",
           "more": "… et {n} autres : voir le tableau de bord ({base}/).",
           "board": "Tableau de bord", "prefs": "préférences d'alerte",
           "prefs_what": "immédiat, résumé quotidien ou rien, par type", "colon": " :"},
    "en": {"day": "%Y-%m-%d", "hello": "Hello {name},",
           "digest_subject": "[sobriete] Digest of {day}: {n} alert{s}",
           "digest_intro": "Here is the daily digest of the alerts of {day}.",
           "several": "{n} new alerts",
           "intro": "New alerts concern your buildings.",
           "more": "… and {n} more: see the dashboard ({base}/).",
           "board": "Dashboard", "prefs": "alert preferences",
           "prefs_what": "immediate, daily digest or none, per kind", "colon": ":"}}
MAX_PER_KIND = 30  # an e-mail lists at most this many events of a kind, then points to the board
# One run at a time in this process: two overlapping runs would both see an event as unsent.
_RUN_LOCK = threading.Lock()


class MailSettings(Protocol):
    """What alerts read of ``api.settings.MailSettings`` (services may not import api)."""

    public_url: str
    smtp_host: str | None
    smtp_port: int
    smtp_starttls: bool
    smtp_user: str | None
    smtp_password: str | None
    smtp_from: str
    timezone: str


class PreferenceError(SobrieteError):
    """An unknown alert kind or mode."""


@dataclass(frozen=True)
class Recipient:
    principal: Principal
    display_name: str
    email: str
    modes: dict[str, str]
    lang: str = "fr"  # of the e-mails


@dataclass
class AlertReport:
    channel: str  # immediate | digest
    at: datetime
    events: int = 0  # events found in the window (all accounts)
    emails_sent: int = 0
    alerts_recorded: int = 0  # alert_sent rows written
    smtp: bool = True  # False: no smtp_host, recorded for the dashboard only
    sent_to: list[str] = field(default_factory=list)  # logins
    failed: dict[str, str] = field(default_factory=dict)  # login -> SMTP error (retried)

    def as_dict(self) -> dict:
        d = asdict(self)
        d["at"] = self.at.isoformat()
        return d


# -- preferences -------------------------------------------------------------------------

def _modes(conn: Connection, account_ids: list[int]) -> dict[int, dict[str, str]]:
    p = S.alert_preference.c
    out = {a: dict(DEFAULT_MODES) for a in account_ids}
    if account_ids:
        for aid, kind, mode in conn.execute(select(p.account_id, p.kind, p.mode).where(
                p.account_id.in_(account_ids))):
            if kind in DEFAULT_MODES and mode in MODES:
                out[aid][kind] = mode
    return out


def preferences(store: Store, account_id: int) -> dict[str, str]:
    """Mode of every kind for the account (its own choices over the defaults)."""
    with store.read() as conn:
        return _modes(conn, [account_id])[account_id]


def set_preferences(store: Store, account_id: int, modes: dict[str, str]) -> dict[str, str]:
    """Store the account's modes (only the kinds given change); returns all its modes."""
    bad = {k: v for k, v in modes.items() if k not in KINDS or v not in MODES}
    if bad:
        raise PreferenceError(f"unknown alert kind or mode {bad}: kinds {', '.join(KINDS)}; "
                              f"modes {', '.join(MODES)}")
    p = S.alert_preference.c
    with store.engine.begin() as conn:
        conn.execute(delete(S.alert_preference).where(
            p.account_id == account_id, p.kind.in_(list(modes))))
        if modes:
            conn.execute(insert(S.alert_preference), [
                {"account_id": account_id, "kind": k, "mode": v} for k, v in modes.items()])
    return preferences(store, account_id)


# -- recipients and what was already sent ------------------------------------------------

def recipients(conn: Connection) -> list[Recipient]:
    """Active accounts with an e-mail address and at least one grant."""
    a, g = S.account.c, S.account_grant.c
    accounts = conn.execute(select(a.id, a.login, a.display_name, a.email, a.lang).where(
        a.active.is_(True), a.email.is_not(None)).order_by(a.id)).all()
    grants: dict[int, list[Grant]] = {}
    ids = [x.id for x in accounts]
    if ids:
        for aid, role, lvl, code in conn.execute(select(
                g.account_id, g.role, g.scope_level, g.scope_code).where(g.account_id.in_(ids))):
            grants.setdefault(aid, []).append(Grant(Role(role), Scope(ScopeLevel(lvl), code)))
    modes = _modes(conn, ids)
    return [Recipient(Principal(x.id, x.login, tuple(grants[x.id])), x.display_name, x.email,
                      modes[x.id], x.lang) for x in accounts if grants.get(x.id)]


def _already_sent(conn: Connection, account_ids: list[int], events: list[AlertEvent],
                  ) -> set[tuple[int, str, str]]:
    if not account_ids or not events:
        return set()
    c = S.alert_sent.c
    keys = sorted({e.key for e in events})
    out: set[tuple[int, str, str]] = set()
    for i in range(0, len(keys), 500):  # bounded IN lists on both engines
        out |= {tuple(r) for r in conn.execute(select(c.account_id, c.kind, c.event_key).where(
            c.account_id.in_(account_ids), c.event_key.in_(keys[i:i + 500])))}
    return out


def visible(principal: Principal, event: AlertEvent) -> bool:
    return can(principal, event.action, event.commune_code, event.territory_code)


# -- the e-mail --------------------------------------------------------------------------

def _first(events: list[AlertEvent]) -> list[AlertEvent]:
    """The ``MAX_PER_KIND`` events an e-mail lists: the costliest findings first, else the
    latest (the first digest of a large estate can hold a thousand findings)."""
    ranked = sorted(events, key=lambda e: (-(e.facts.get("eur_per_year") or 0),
                                           -e.at.timestamp()))
    return ranked[:MAX_PER_KIND]


def compose(r: Recipient, events: list[AlertEvent], settings: MailSettings, channel: str,
            day: date | None = None) -> EmailMessage:
    """An e-mail (plain text and HTML) in the recipient's language, listing ``events`` by
    kind, with links."""
    lang = r.lang if r.lang in MAIL_TEXT else "fr"
    w, kinds, en = MAIL_TEXT[lang], KIND_LABELS[lang], lang == "en"
    base = settings.public_url.rstrip("/")
    n = len(events)
    if channel == "digest":
        when = f"{day:{w['day']}}"
        subject = w["digest_subject"].format(day=when, n=n, s="s" * (n > 1))
        intro = w["digest_intro"].format(day=when)
    else:
        first = events[0].title_en if en else events[0].title_fr
        subject = f"[sobriete] {first if n == 1 else w['several'].format(n=n)}"
        intro = w["intro"]
    hello = w["hello"].format(name=r.display_name)
    text = [hello, "", intro, ""]
    parts = [f"<p>{html.escape(hello)}</p><p>{html.escape(intro)}</p>"]
    for kind in KINDS:
        mine = [e for e in events if e.kind == kind]
        if not mine:
            continue
        text += [f"== {kinds[kind]} ({len(mine)}) =="]
        parts.append(f"<h3>{html.escape(kinds[kind])} ({len(mine)})</h3><ul>")
        for e in _first(mine):
            link = f"{base}/batiments/{e.building_code}"
            title, detail = (e.title_en, e.detail_en) if en else (e.title_fr, e.detail_fr)
            text += [f"- {title}", f"  {detail}", f"  {link}", ""]
            parts.append(f'<li><a href="{html.escape(link)}">{html.escape(title)}</a>'
                         f"<br>{html.escape(detail)}</li>")
        if len(mine) > MAX_PER_KIND:
            more = w["more"].format(n=len(mine) - MAX_PER_KIND, base=base)
            text += [more, ""]
            parts.append(f"<li>{html.escape(more)}</li>")
        parts.append("</ul>")
    prefs = f"{base}/api/v1/me/alerts"
    colon = w["colon"]
    text += ["--", f"{w['board']}{colon} {base}/ — {w['prefs']} ({w['prefs_what']}){colon} "
                   f"{prefs}"]
    parts.append(f'<hr><p><a href="{html.escape(base)}/">{w["board"]}</a> — '
                 f'<a href="{html.escape(prefs)}">{html.escape(w["prefs"])}</a>{colon} '
                 f"{html.escape(w['prefs_what'])}.</p>")
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = settings.smtp_from
    msg["To"] = r.email
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain="sobriete")
    msg.set_content("\n".join(text))
    msg.add_alternative(f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
                        "<style>li{margin-bottom:.6em}</style></head><body>"
                        + "".join(parts) + "</body></html>", subtype="html")
    return msg


def _smtp(settings: MailSettings) -> smtplib.SMTP:
    conn = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30)
    if settings.smtp_starttls:
        conn.starttls(context=ssl.create_default_context())
    if settings.smtp_user:
        conn.login(settings.smtp_user, settings.smtp_password or "")
    return conn


# -- a run -------------------------------------------------------------------------------

def _record(store: Store, account_id: int, events: list[AlertEvent], channel: str,
            at: datetime) -> int:
    with store.engine.begin() as conn:
        conn.execute(insert(S.alert_sent), [
            {"account_id": account_id, "kind": e.kind, "event_key": e.key, "sent_at": at,
             "channel": channel} for e in events])
    return len(events)


def _run(store: Store, settings: MailSettings, now: datetime, channel: str,
         rules: RuleSettings | None, day: date | None = None) -> AlertReport:
    report = AlertReport(channel, now, smtp=bool(settings.smtp_host))
    with _RUN_LOCK:
        with store.read() as conn:
            events = collect(conn, now, rules)
            people = recipients(conn)
            sent = _already_sent(conn, [p.principal.account_id for p in people], events)
        report.events = len(events)
        todo = []
        for p in people:
            aid = p.principal.account_id
            mine = [e for e in events if p.modes.get(e.kind) == channel
                    and (aid, e.kind, e.key) not in sent and visible(p.principal, e)]
            if mine:
                todo.append((p, mine))
        if not todo:
            return report
        if not settings.smtp_host:
            for p, mine in todo:
                report.alerts_recorded += _record(store, p.principal.account_id, mine,
                                                  "dashboard", now)
            return report
        try:
            server = _smtp(settings)
        except (OSError, smtplib.SMTPException) as exc:
            report.failed = {p.principal.login: f"{type(exc).__name__}: {exc}" for p, _ in todo}
            return report
        try:
            for p, mine in todo:
                try:
                    server.send_message(compose(p, mine, settings, channel, day))
                except Exception as exc:  # noqa: BLE001 — one bad address must not stop the rest
                    report.failed[p.principal.login] = f"{type(exc).__name__}: {exc}"
                    continue
                report.emails_sent += 1
                report.sent_to.append(p.principal.login)
                report.alerts_recorded += _record(store, p.principal.account_id, mine,
                                                  channel, now)
        finally:
            try:
                server.quit()
            except (OSError, smtplib.SMTPException):
                pass
    return report


def send_immediate(store: Store, settings: MailSettings, now: datetime | None = None, *,
                   rules: RuleSettings | None = None) -> AlertReport:
    """E-mail every account its new events of mode ``immediate``."""
    return _run(store, settings, now or datetime.now(UTC), "immediate", rules)


def send_digest(store: Store, settings: MailSettings, day: date | None = None, *,
                rules: RuleSettings | None = None, now: datetime | None = None,
                ) -> AlertReport:
    """The daily digest of ``day`` (local date in ``settings.timezone``; default today):
    events of mode ``digest`` up to the end of that day not yet sent, one e-mail per
    account."""
    tz = ZoneInfo(settings.timezone)
    real_now = now or datetime.now(UTC)
    day = day or real_now.astimezone(tz).date()
    end = datetime.combine(day + timedelta(days=1), time(0), tz).astimezone(UTC)
    return _run(store, settings, min(end, real_now), "digest", rules, day)


def recent(store: Store, principal: Principal, *, limit: int = 200) -> list[dict]:
    """Alerts recorded for ``principal`` (newest first), kept only for buildings it may still
    see: a grant withdrawn since hides them."""
    c = S.alert_sent.c
    with store.read() as conn:
        rows = conn.execute(select(c.kind, c.event_key, c.sent_at, c.channel).where(
            c.account_id == principal.account_id).order_by(c.sent_at.desc(), c.id.desc())
            .limit(limit)).mappings().all()
        codes = sorted({r["event_key"].split("|", 1)[0] for r in rows})
        places = {}
        if codes:
            places = {code: building_ref(conn, code) for code in codes}
    out = []
    for r in rows:
        code = r["event_key"].split("|", 1)[0]
        ref = places.get(code)
        action = "flex_read" if r["kind"] == "flex_event" else "read"
        if ref is None or not can(principal, action, ref.commune_code, ref.territory_code):
            continue
        out.append({"kind": r["kind"], "event_key": r["event_key"], "building_code": code,
                    "building_name": ref.name, "sent_at": r["sent_at"],
                    "channel": r["channel"]})
    return out

