"""What is worth telling an energy manager: the alert events found in the store.

Four kinds, each event tied to one building (scope is applied per building by
``services.alerts``) and named by a stable ``key`` so that ``alert_sent`` can remember it:

- ``finding``: a finding of the diagnosis first seen since ``since`` and still open.
- ``comfort``: a zone measured below 19 °C minus ``comfort_tolerance_k`` while its building
  is occupied (calendar), read from the control decisions' observations; one event per zone
  and local day, so a cold morning is one e-mail and not forty 15-min steps.
- ``flex_event``: a demand-response event dispatched (or re-dispatched) since ``since`` that
  asks a building to shed (allocation > 0 kW).
- ``data_outage``: a meter whose latest reading ended more than ``outage_after(step)`` ago.
  Meters silent for longer than ``outage_horizon`` are history, not news: not alerted. The key
  carries the last reading's time, so a meter that comes back and stops again alerts again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import Connection, select
from sqlalchemy.orm import aliased

from sobriete.analytics.calendar import occupied
from sobriete.domain.access import Action
from sobriete.domain.portfolio import ActivityCategory, OccupancyCalendar, default_calendar
from sobriete.reporting.i18n import LABELS
from sobriete.services.store import schema as S

KINDS = ("finding", "comfort", "flex_event", "data_outage")
LEGAL_OCCUPIED_C = 19.0  # R.241-26: the occupied temperature the comfort floor rests on
LOCAL_TZ = "Europe/Paris"


@dataclass(frozen=True)
class RuleSettings:
    lookback: timedelta = timedelta(days=7)  # how far back a run looks for new events
    comfort_tolerance_k: float = 1.0
    outage_horizon: timedelta = timedelta(days=30)
    outage_min: timedelta = timedelta(hours=6)
    outage_steps: int = 4  # a meter is silent after max(outage_min, 4 steps)

    def outage_after(self, step_s: int | None) -> timedelta:
        return max(self.outage_min, timedelta(seconds=(step_s or 3600) * self.outage_steps))


@dataclass(frozen=True)
class AlertEvent:
    kind: str
    key: str  # unique within the kind; starts with the building code
    building_code: str
    building_name: str
    commune_code: str
    territory_code: str
    at: datetime  # when it happened (aware, UTC)
    title_fr: str
    detail_fr: str
    title_en: str
    detail_en: str
    facts: dict = field(default_factory=dict)  # numbers behind the text (units in the keys)

    @property
    def action(self) -> Action:
        return Action.FLEX_READ if self.kind == "flex_event" else Action.READ


def _buildings(conn: Connection) -> dict[int, dict]:
    b, s, c, t = S.building.c, S.site.c, S.commune.c, S.territory.c
    q = (select(b.id, b.code, b.name, b.activity, b.calendar_json,
                c.code.label("commune"), t.code.label("territory"))
         .select_from(S.building.join(S.site, b.site_id == s.id)
                      .join(S.commune, s.commune_id == c.id)
                      .join(S.territory, c.territory_id == t.id)))
    return {r["id"]: dict(r) for r in conn.execute(q).mappings()}


def _event(kind: str, key: str, bld: dict, at: datetime, fr: tuple[str, str],
           en: tuple[str, str], **facts) -> AlertEvent:
    """An event with its (title, detail) in French and in English."""
    return AlertEvent(kind, f"{bld['code']}|{key}", bld["code"], bld["name"], bld["commune"],
                      bld["territory"], at, *fr, *en, facts)


NNBSP = "\u202f"  # thousands separator in French


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _local(t: datetime, lang: str = "fr") -> str:
    """Local date and time: 31/01/2026 07:30 in French, 2026-01-31 07:30 in English (the
    date is the first 10 characters in both)."""
    fmt = "%d/%m/%Y %H:%M" if lang == "fr" else "%Y-%m-%d %H:%M"
    return _aware(t).astimezone(ZoneInfo(LOCAL_TZ)).strftime(fmt)


def new_findings(conn: Connection, blds: dict[int, dict], since: datetime, now: datetime,
                 ) -> list[AlertEvent]:
    f, r = S.finding.c, S.diagnosis_run.c
    q = (select(f.building_id, f.key, f.kind, f.series_key, f.eur_per_year, f.kwh_per_year,
                f.start_utc, f.doc_json, r.started_at)
         .select_from(S.finding.join(S.diagnosis_run, f.first_run_id == r.id))
         .where(r.started_at >= since, r.started_at <= now, f.status == "open"))
    out = []
    for x in conn.execute(q).mappings():
        bld = blds[x["building_id"]]
        euros = f"{x['eur_per_year']:,.0f}" if x["eur_per_year"] else ""
        money_fr = f", environ {euros.replace(',', NNBSP)} €/an" if euros else ""
        money_en = f", about {euros} €/year" if euros else ""
        label_fr, label_en = LABELS.get(f"kind_{x['kind']}", (x["kind"], x["kind"]))
        doc = json.loads(x["doc_json"])
        since = x["start_utc"]
        out.append(_event(
            "finding", f"{x['key']}", bld, _aware(x["started_at"]),
            (f"Nouveau constat : {label_fr} — {bld['name']}",
             f"{doc.get('message_fr') or ''} (compteur {x['series_key']}, depuis le "
             f"{_local(since)[:10]}{money_fr}).".strip()),
            (f"New finding: {label_en} — {bld['name']}",
             f"{doc.get('message_en') or ''} (meter {x['series_key']}, since "
             f"{_local(since, 'en')[:10]}{money_en}).".strip()),
            finding_key=x["key"], finding_kind=x["kind"], eur_per_year=x["eur_per_year"],
            kwh_per_year=x["kwh_per_year"]))
    return out


def _calendar(bld: dict) -> OccupancyCalendar:
    if bld.get("calendar_json"):
        return OccupancyCalendar.model_validate_json(bld["calendar_json"])
    return default_calendar(ActivityCategory(bld["activity"]))


def comfort_violations(conn: Connection, blds: dict[int, dict], since: datetime,
                       now: datetime, s: RuleSettings) -> list[AlertEvent]:
    d = S.control_decision.c
    rows = conn.execute(select(d.building_code, d.zone_code, d.time_utc, d.record_json)
                        .where(d.time_utc >= since, d.time_utc <= now)
                        .order_by(d.time_utc)).all()
    by_code = {b["code"]: b for b in blds.values()}
    floor = LEGAL_OCCUPIED_C - s.comfort_tolerance_k
    cold: dict[tuple[str, str], list[tuple[datetime, float]]] = {}
    for code, zone, at, record in rows:
        temp = json.loads(record).get("inputs", {}).get(f"{zone}.temp_zone_c")
        if code in by_code and isinstance(temp, int | float) and temp < floor:
            cold.setdefault((code, zone), []).append((_aware(at), float(temp)))
    out = []
    for (code, zone), points in cold.items():
        bld = by_code[code]
        instants = pd.DatetimeIndex([p[0] for p in points]).tz_convert(UTC)
        mask, _ = occupied(_calendar(bld), instants)
        days: dict[str, list[tuple[datetime, float]]] = {}
        for (at, temp), occ in zip(points, mask, strict=True):
            if occ:
                day = at.astimezone(ZoneInfo(LOCAL_TZ)).date().isoformat()
                days.setdefault(day, []).append((at, temp))
        for day, pts in days.items():
            low = min(p[1] for p in pts)
            out.append(_event(
                "comfort", f"{zone}|{day}", bld, pts[0][0],
                (f"Inconfort : zone {zone} à {low:.1f} °C — {bld['name']}",
                 f"{len(pts)} pas de contrôle en occupation sous {floor:.1f} °C le "
                 f"{_local(pts[0][0])[:10]} (minimum {low:.1f} °C, référence 19 °C)."),
                (f"Discomfort: zone {zone} at {low:.1f} °C — {bld['name']}",
                 f"{len(pts)} control steps while occupied below {floor:.1f} °C on "
                 f"{_local(pts[0][0], 'en')[:10]} (lowest {low:.1f} °C, reference 19 °C)."),
                zone_code=zone, day=day, min_temp_c=round(low, 2), steps=len(pts),
                floor_c=floor))
    return out


def flex_events(conn: Connection, blds: dict[int, dict], since: datetime, now: datetime,
                ) -> list[AlertEvent]:
    e, a = S.flex_event.c, S.flex_allocation.c
    q = (select(e.event_id, e.start_utc, e.end_utc, e.updated_at, a.building_id,
                a.allocated_kw, a.shed_kwh, a.discomfort_kh)
         .select_from(S.flex_event.join(S.flex_allocation, a.event_id == e.id))
         .where(e.updated_at >= since, e.updated_at <= now, a.allocated_kw > 0))
    out = []
    for x in conn.execute(q).mappings():
        bld = blds[x["building_id"]]
        figures = (f"{x['allocated_kw']:.1f} kW, {x['shed_kwh']:.1f} kWh",
                   f"{x['discomfort_kh']:.1f} K·h")
        out.append(_event(
            "flex_event", x["event_id"], bld, _aware(x["updated_at"]),
            (f"Effacement demandé : {x['allocated_kw']:.1f} kW — {bld['name']}",
             f"Événement {x['event_id']} du {_local(x['start_utc'])} au "
             f"{_local(x['end_utc'])[11:]} : {figures[0]}, inconfort attendu {figures[1]}."),
            (f"Load shedding requested: {x['allocated_kw']:.1f} kW — {bld['name']}",
             f"Event {x['event_id']} from {_local(x['start_utc'], 'en')} to "
             f"{_local(x['end_utc'], 'en')[11:]}: {figures[0]}, expected discomfort "
             f"{figures[1]}."),
            event_id=x["event_id"], allocated_kw=x["allocated_kw"], shed_kwh=x["shed_kwh"],
            discomfort_kh=x["discomfort_kh"],
            start_utc=_aware(x["start_utc"]).isoformat()))
    return out


def _duration(hours: float, lang: str = "fr") -> str:
    days = "jours" if lang == "fr" else "days"
    return f"{hours:.0f} h" if hours < 48 else f"{hours / 24:.0f} {days}"


def data_outages(conn: Connection, blds: dict[int, dict], now: datetime,
                 s: RuleSettings) -> list[AlertEvent]:
    se, r = S.series.c, S.reading.c
    # The newest start_s per series is one probe of the (series_id, start_s) key from its end; the
    # last interval's duration then comes from that one row. A max over start_s + duration_s
    # (or a GROUP BY) would read every reading of the estate every 15 minutes.
    last = aliased(S.reading)
    newest = (select(last.c.start_s).where(last.c.series_id == se.id)
              .order_by(last.c.start_s.desc()).limit(1).scalar_subquery())
    q = (select(se.key, se.step_s, se.building_id,
                (r.start_s + r.duration_s).label("last_end_s"))
         .select_from(S.series.join(S.reading, (r.series_id == se.id)
                                    & (r.start_s == newest)))
         .where(se.kind == "meter", se.building_id.is_not(None)))
    out = []
    for x in conn.execute(q).mappings():
        if x["last_end_s"] is None or x["building_id"] not in blds:
            continue
        ended = datetime.fromtimestamp(int(x["last_end_s"]), UTC)
        silent = now - ended
        if not (s.outage_after(x["step_s"]) < silent <= s.outage_horizon):
            continue
        bld = blds[x["building_id"]]
        hours = silent.total_seconds() / 3600
        out.append(_event(
            "data_outage", f"{x['key']}|{int(x['last_end_s'])}", bld, ended,
            (f"Données absentes : compteur {x['key']} — {bld['name']}",
             f"Aucun relevé depuis le {_local(ended)} ({_duration(hours)}). Vérifiez la "
             "télérelève ou déposez le fichier du fournisseur."),
            (f"Missing data: meter {x['key']} — {bld['name']}",
             f"No reading since {_local(ended, 'en')} ({_duration(hours, 'en')}). Check the "
             "remote reading or upload the supplier's file."),
            series_key=x["key"], last_reading_end=ended.isoformat(),
            silent_hours=round(hours, 1)))
    return out


def collect(conn: Connection, now: datetime, s: RuleSettings | None = None,
            ) -> list[AlertEvent]:
    """Every alert event of the last ``s.lookback`` before ``now``, oldest first."""
    s = s or RuleSettings()
    since = now - s.lookback
    blds = _buildings(conn)
    events = (new_findings(conn, blds, since, now)
              + comfort_violations(conn, blds, since, now, s)
              + flex_events(conn, blds, since, now) + data_outages(conn, blds, now, s))
    return sorted(events, key=lambda e: (e.at, e.kind, e.key))
