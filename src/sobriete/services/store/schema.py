"""Tables. Timestamps of readings are integer epoch seconds UTC (interval start): compact,
fast to bulk-load on both engines and unambiguous across DST. Other times are timezone-aware.
"""

from __future__ import annotations

from datetime import UTC

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(TypeDecorator):
    """Timezone-aware in, timezone-aware UTC out, on every engine. SQLite has no time zones:
    without this, an aware time would be stored as its wall-clock time and come back naive."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the store keeps timezone-aware times")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _tz() -> UTCDateTime:
    return UTCDateTime()


portfolio = Table(
    "portfolio", metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
)
territory = Table(
    "territory", metadata,
    Column("id", Integer, primary_key=True),
    Column("portfolio_id", ForeignKey("portfolio.id"), nullable=False),
    Column("code", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
)
commune = Table(
    "commune", metadata,
    Column("id", Integer, primary_key=True),
    Column("territory_id", ForeignKey("territory.id"), nullable=False, index=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    # Its buildings, counted again by every registry import (``estate.save_portfolio``, the
    # one writer of buildings): the communes list showed them per request, which counted
    # through every site and building of the page's communes.
    Column("n_buildings", Integer, nullable=False, server_default="0"),
)
site = Table(
    "site", metadata,
    Column("id", Integer, primary_key=True),
    Column("commune_id", ForeignKey("commune.id"), nullable=False, index=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
)
building = Table(
    "building", metadata,
    Column("id", Integer, primary_key=True),
    Column("site_id", ForeignKey("site.id"), nullable=False, index=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("activity", String(32), nullable=False),
    Column("floor_area_m2", Float),
    Column("heating_system", String(32), nullable=False),
    Column("climate_zone", String(4), nullable=False),
    Column("calendar_json", Text),
    Column("weather_station", String(128)),  # key of the weather series for this building
    Column("latitude", Float),  # WGS84, for the portfolio map (migration 0008)
    Column("longitude", Float),
)
# One row per measured channel: a meter, a zone sensor, or one quantity of a weather station.
series = Table(
    "series", metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(128), nullable=False),
    Column("quantity", String(32), nullable=False),
    Column("kind", String(16), nullable=False),  # meter | sensor | weather
    Column("subkind", String(32)),  # electricity, gas, temperature, ...
    Column("building_id", ForeignKey("building.id")),
    Column("zone_code", String(64)),
    Column("step_s", Integer),
    Column("subscribed_power_kva", Float),
    UniqueConstraint("key", "quantity", name="uq_series_key_quantity"),
)
reading = Table(
    "reading", metadata,
    Column("series_id", Integer, primary_key=True, autoincrement=False),
    Column("start_s", BigInteger, primary_key=True, autoincrement=False),
    Column("duration_s", Integer, nullable=False),
    Column("value", Float, nullable=False),
    Column("import_id", Integer, nullable=False),
    sqlite_with_rowid=False,
)
# Nothing lost: a re-import that changes a stored value keeps the previous one here.
reading_revision = Table(
    "reading_revision", metadata,
    Column("id", Integer, primary_key=True),
    Column("series_id", Integer, nullable=False, index=True),
    Column("start_s", BigInteger, nullable=False),
    Column("old_value", Float, nullable=False),
    Column("new_value", Float, nullable=False),
    Column("old_duration_s", Integer, nullable=False),
    Column("new_duration_s", Integer, nullable=False),
    Column("old_import_id", Integer, nullable=False),
    Column("new_import_id", Integer, nullable=False),
)
import_batch = Table(
    "import_batch", metadata,
    Column("id", Integer, primary_key=True),
    Column("source", Text, nullable=False),
    Column("source_sha256", String(64)),
    Column("format", String(32), nullable=False),
    Column("started_at", _tz(), nullable=False),
    Column("finished_at", _tz()),
    Column("rows_in", BigInteger, nullable=False, default=0),
    Column("rows_new", BigInteger, nullable=False, default=0),
    Column("rows_unchanged", BigInteger, nullable=False, default=0),
    Column("rows_revised", BigInteger, nullable=False, default=0),
    Column("status", String(16), nullable=False),
    Column("message", Text),
)
tempo_day = Table(
    "tempo_day", metadata,
    Column("day", Date, primary_key=True),
    Column("color", String(8), nullable=False),
    Column("import_id", Integer, nullable=False),
)
ecowatt_day = Table(
    "ecowatt_day", metadata,
    Column("day", Date, primary_key=True),
    Column("level", Integer, nullable=False),
    Column("message", Text),
    Column("generated_at", _tz()),
    Column("import_id", Integer, nullable=False),
)
ecowatt_hour = Table(
    "ecowatt_hour", metadata,
    Column("day", Date, primary_key=True),
    Column("hour", Integer, primary_key=True, autoincrement=False),
    Column("level", Integer, nullable=False),
)
quality_issue = Table(
    "quality_issue", metadata,
    Column("id", Integer, primary_key=True),
    Column("series_id", ForeignKey("series.id"), nullable=False, index=True),
    Column("kind", String(32), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("start_utc", _tz(), nullable=False),
    Column("end_utc", _tz(), nullable=False),
    Column("n_points", Integer, nullable=False),
    Column("message_fr", Text, nullable=False),
    Column("message_en", Text, nullable=False),
    Column("evidence_json", Text, nullable=False),
    Column("check_version", String(16), nullable=False),
    Column("checked_at", _tz(), nullable=False),
)
job_footprint = Table(
    "job_footprint", metadata,
    Column("id", Integer, primary_key=True),
    Column("job", String(64), nullable=False),
    Column("started_at", _tz(), nullable=False),
    Column("wall_s", Float, nullable=False),
    Column("cpu_s", Float, nullable=False),
    Column("peak_rss_mb", Float, nullable=False),
    Column("energy_wh", Float, nullable=False),
    Column("co2_g", Float, nullable=False),
    Column("method", Text, nullable=False),
    Column("details_json", Text),
)
mqtt_dead_letter = Table(
    "mqtt_dead_letter", metadata,
    Column("id", Integer, primary_key=True),
    Column("received_at", _tz(), nullable=False),
    Column("topic", Text, nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("reason", Text, nullable=False),
)

# -- measurement & verification ---------------------------------------------------------
mv_run = Table(
    "mv_run", metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(16), nullable=False),  # fit | savings
    Column("started_at", _tz(), nullable=False),
    Column("finished_at", _tz()),
    Column("status", String(16), nullable=False),  # running | done | interrupted
    Column("settings_json", Text, nullable=False),
    Column("n_tasks", Integer, nullable=False),
    Column("n_done", Integer, nullable=False),
    Column("n_failed", Integer, nullable=False),
)
baseline_fit = Table(
    "baseline_fit", metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", ForeignKey("mv_run.id"), nullable=False, index=True),
    Column("series_id", ForeignKey("series.id"), nullable=False, index=True),
    Column("status", String(16), nullable=False),  # ok | failed
    Column("model", String(64)),
    Column("model_version", String(16)),
    Column("frequency", String(16)),
    Column("baseline_start", Date),
    Column("baseline_end", Date),
    Column("model_json", Text),  # everything needed to predict again
    Column("result_json", Text),  # FitResult: params, metrics, warnings, timings
    Column("disqualified", Integer),
    Column("error", Text),
    Column("created_at", _tz(), nullable=False),
    UniqueConstraint("run_id", "series_id", name="uq_baseline_fit_run_series"),
)
savings_result = Table(
    "savings_result", metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", ForeignKey("mv_run.id"), nullable=False, index=True),
    Column("fit_id", ForeignKey("baseline_fit.id"), nullable=False),
    Column("series_id", ForeignKey("series.id"), nullable=False),
    Column("reporting_start", Date, nullable=False),
    Column("reporting_end", Date, nullable=False),
    Column("savings_kwh", Float),
    Column("uncertainty_kwh", Float),
    Column("result_json", Text, nullable=False),
    Column("created_at", _tz(), nullable=False),
)

# -- diagnostics and actions ----------------------------------------------------------------
# A finding is one row per (building, Finding.key): a re-run on the same data updates it in
# place. ``last_run_id`` and ``seen_last`` say whether the latest diagnosis of its series
# found it again; a finding no longer seen is kept (it is history), never deleted.
diagnosis_run = Table(
    "diagnosis_run", metadata,
    Column("id", Integer, primary_key=True),
    Column("started_at", _tz(), nullable=False),
    Column("finished_at", _tz()),
    Column("status", String(16), nullable=False),  # running | done | interrupted
    Column("settings_json", Text, nullable=False),  # window, scope, detector settings
    Column("n_series", Integer, nullable=False),
    Column("n_failed", Integer, nullable=False),
    Column("n_findings", Integer, nullable=False),
    Column("errors_json", Text),  # series key -> why it could not be diagnosed
)
finding = Table(
    "finding", metadata,
    Column("id", Integer, primary_key=True),
    Column("building_id", ForeignKey("building.id"), nullable=False, index=True),
    Column("key", String(32), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("series_key", String(128), nullable=False),
    Column("start_utc", _tz(), nullable=False),
    Column("end_utc", _tz(), nullable=False),
    Column("score", Float, nullable=False),
    Column("detector", String(64), nullable=False),
    Column("detector_version", String(16), nullable=False),
    Column("eur_per_year", Float),  # ranking key, copied from the document
    Column("kwh_per_year", Float),
    Column("doc_json", Text, nullable=False),  # Finding.to_json()
    Column("first_run_id", ForeignKey("diagnosis_run.id"), nullable=False),
    Column("last_run_id", ForeignKey("diagnosis_run.id"), nullable=False),
    Column("seen_last", Boolean, nullable=False),
    Column("status", String(16), nullable=False),  # open | dismissed
    UniqueConstraint("building_id", "key", name="uq_finding_building_key"),
)
# The order people read findings in (``store.findings.rank_key``: EUR, then kWh of waste per
# year, nulls last, then score), as SQL: ``store.findings.load_findings_of`` walks a page of
# it in this index instead of sorting every finding of the scope at each request.
FINDING_RANK = (finding.c.eur_per_year.is_(None), finding.c.eur_per_year.desc(),
                finding.c.kwh_per_year.is_(None), finding.c.kwh_per_year.desc(),
                finding.c.score.desc(), finding.c.key)
Index("ix_finding_rank", finding.c.status, finding.c.seen_last, *FINDING_RANK)
# The latest recommendations of each building (replaced as a whole by the next run).
recommendation = Table(
    "recommendation", metadata,
    Column("id", Integer, primary_key=True),
    Column("building_id", ForeignKey("building.id"), nullable=False, index=True),
    Column("action_code", String(64), nullable=False),
    Column("rank", Integer, nullable=False),  # 1 = best within the building
    Column("doc_json", Text, nullable=False),  # advice.Recommendation, model_dump(mode="json")
    Column("diagnosis_run_id", ForeignKey("diagnosis_run.id")),  # findings it rests on
    Column("created_at", _tz(), nullable=False),
    UniqueConstraint("building_id", "action_code", name="uq_recommendation_building_action"),
)
tracked_action = Table(
    "tracked_action", metadata,
    Column("id", Integer, primary_key=True),
    Column("building_id", ForeignKey("building.id"), nullable=False),
    Column("action_code", String(64), nullable=False),
    Column("status", String(16), nullable=False),  # to_do | in_progress | done
    Column("done_date", Date),
    Column("estimated_json", Text),  # the recommendation's estimate when it was marked
    Column("realised_json", Text),  # measured savings (M&V), with uncertainty and warnings
    Column("note", Text),
    Column("updated_at", _tz(), nullable=False),
    UniqueConstraint("building_id", "action_code", name="uq_tracked_action_building_action"),
)
tracked_action_event = Table(
    "tracked_action_event", metadata,
    Column("id", Integer, primary_key=True),
    Column("action_id", ForeignKey("tracked_action.id"), nullable=False, index=True),
    Column("at", _tz(), nullable=False),
    Column("old_status", String(16)),
    Column("new_status", String(16), nullable=False),
    Column("done_date", Date),
    Column("note", Text),
)

# -- control (migration 0005) ---------------------------------------------------------------
# Append-only: a plan or a control run is one ``control_plan`` row (model, inputs and their
# provenance); every decision it led to is one ``control_decision`` row. Nothing here is ever
# updated or deleted: they answer "why was the school at 16 °C on Monday?" months later.
control_plan = Table(
    "control_plan", metadata,
    Column("id", Integer, primary_key=True),
    Column("building_code", String(64), nullable=False, index=True),
    Column("zone_code", String(64), nullable=False),
    Column("kind", String(16), nullable=False),  # plan | run
    Column("start_utc", _tz(), nullable=False),  # first step planned
    Column("horizon_steps", Integer, nullable=False),
    Column("model_json", Text, nullable=False),  # the identified RC model
    Column("provenance_json", Text, nullable=False),  # series, dates, prices, warnings
    Column("summary_json", Text, nullable=False),  # cost, kWh, comfort, explanation
    Column("created_at", _tz(), nullable=False),
)
control_decision = Table(
    "control_decision", metadata,
    Column("id", Integer, primary_key=True),
    Column("plan_id", ForeignKey("control_plan.id"), nullable=False, index=True),
    Column("building_code", String(64), nullable=False),
    Column("zone_code", String(64), nullable=False),
    Column("time_utc", _tz(), nullable=False),  # start of the step decided
    Column("mode", String(16), nullable=False),  # advise | approve | automatic
    Column("dispatch", String(16), nullable=False),  # not_sent | pending | sent
    Column("driver", String(16), nullable=False),  # dry-run | mqtt | modbus | bacnet
    Column("proposed_power_w", Float),  # the plan's first step (None: no plan)
    Column("setpoint_c", Float),  # applied
    Column("heating_power_w", Float),  # applied
    Column("fallback", Boolean, nullable=False),  # the building's own schedule
    Column("reason_fr", Text, nullable=False),
    Column("reason_en", Text, nullable=False),
    Column("driver_error", Text),  # what the driver could not write, if anything
    Column("record_json", Text, nullable=False),  # control.audit.AuditRecord
    Column("created_at", _tz(), nullable=False),
)

# -- flexibility dispatch (migration 0006) --------------------------------------------------
# One row per demand-response event (its id is the caller's: re-dispatching the same id
# replaces the event and its allocations in one transaction); the allocations are the burden
# history the next dispatch levels, so the same school is not always the one that sheds.
flex_event = Table(
    "flex_event", metadata,
    Column("id", Integer, primary_key=True),
    Column("event_id", String(64), nullable=False, unique=True),
    Column("start_utc", _tz(), nullable=False, index=True),
    Column("end_utc", _tz(), nullable=False),
    Column("request_kw", Float, nullable=False),
    Column("served_kw", Float, nullable=False),
    Column("unmet_kw", Float, nullable=False),
    Column("jain_before", Float, nullable=False),
    Column("jain_after", Float, nullable=False),
    Column("scope_json", Text, nullable=False),  # portfolio / commune / territory / building
    Column("doc_json", Text, nullable=False),  # explanation, capacities, settings
    Column("created_at", _tz(), nullable=False),
    Column("updated_at", _tz(), nullable=False),
)
flex_allocation = Table(
    "flex_allocation", metadata,
    Column("id", Integer, primary_key=True),
    Column("event_id", ForeignKey("flex_event.id"), nullable=False, index=True),
    Column("building_id", ForeignKey("building.id"), nullable=False, index=True),
    Column("capacity_kw", Float, nullable=False),
    Column("allocated_kw", Float, nullable=False),
    Column("shed_kwh", Float, nullable=False),  # allocated_kw x window hours (asked)
    Column("discomfort_kh", Float, nullable=False),  # expected K·h of drop in occupation
    Column("rebound_kwh", Float, nullable=False),
    Column("method", String(16), nullable=False),  # model | meter-only
    Column("confidence", Float, nullable=False),
    UniqueConstraint("event_id", "building_id", name="uq_flex_allocation_event_building"),
)

# -- accounts and access control (migration 0007) -------------------------------------------
# Passwords are argon2id hashes; API tokens are kept as their sha256 only (shown once).
account = Table(
    "account", metadata,
    Column("id", Integer, primary_key=True),
    Column("login", String(200), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False),
    Column("password_hash", String(255)),  # None: OIDC-only account
    Column("oidc_subject", String(255), unique=True),
    Column("active", Boolean, nullable=False),
    Column("created_at", _tz(), nullable=False),
    Column("email", String(320)),  # where alerts go (migration 0008); None: no e-mail
    Column("lang", String(2), nullable=False, server_default="fr"),  # of its e-mails (0014)
)
account_grant = Table(
    "account_grant", metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", ForeignKey("account.id"), nullable=False, index=True),
    Column("role", String(32), nullable=False),  # domain.access.Role
    Column("scope_level", String(16), nullable=False),  # portfolio | territory | commune
    Column("scope_code", String(64), nullable=False),
    UniqueConstraint("account_id", "role", "scope_level", "scope_code",
                     name="uq_account_grant_all"),
)
api_token = Table(
    "api_token", metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", ForeignKey("account.id"), nullable=False, index=True),
    Column("token_hash", String(64), nullable=False, unique=True),  # sha256 hex
    Column("label", String(200), nullable=False),
    Column("created_at", _tz(), nullable=False),
    Column("expires_at", _tz()),
    Column("revoked_at", _tz()),
    Column("last_used_at", _tz()),
)
login_attempt = Table(
    "login_attempt", metadata,
    Column("id", Integer, primary_key=True),
    Column("login", String(200), nullable=False, index=True),
    Column("at", _tz(), nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("client", String(64)),  # remote address, for rate limiting (migration 0008)
)

# -- the service (migration 0008) ------------------------------------------------------------
# Every write through the API or the dashboard, allowed or refused, leaves one row here.
audit_log = Table(
    "audit_log", metadata,
    Column("id", Integer, primary_key=True),
    Column("at", _tz(), nullable=False, index=True),
    Column("account_id", Integer),  # None: not authenticated
    Column("login", String(200)),
    Column("method", String(8), nullable=False),
    Column("path", String(500), nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("client", String(64)),
    Column("detail_json", Text),
)
# What an account wants to be told, and how: immediate e-mail, the daily digest, or nothing.
alert_preference = Table(
    "alert_preference", metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", ForeignKey("account.id"), nullable=False, index=True),
    Column("kind", String(32), nullable=False),  # finding | comfort | flex_event | data_outage
    Column("mode", String(16), nullable=False),  # immediate | digest | off
    UniqueConstraint("account_id", "kind", name="uq_alert_preference_account_kind"),
)
# One row per alert sent (or put in a digest) to one account: re-running never re-sends.
alert_sent = Table(
    "alert_sent", metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", ForeignKey("account.id"), nullable=False, index=True),
    Column("kind", String(32), nullable=False),
    Column("event_key", String(300), nullable=False),
    Column("sent_at", _tz(), nullable=False),
    Column("channel", String(16), nullable=False),  # immediate | digest
    UniqueConstraint("account_id", "kind", "event_key", name="uq_alert_sent_event"),
)
# The status of each building on the portfolio page, computed by the daily analysis (not per
# request: 5,000 buildings' readings are too many to sum at each page view).
building_status = Table(
    "building_status", metadata,
    Column("building_id", ForeignKey("building.id"), primary_key=True, autoincrement=False),
    Column("computed_at", _tz(), nullable=False),
    Column("period_start", _tz()),
    Column("period_end", _tz()),
    Column("energy_kwh", Float),
    Column("kwh_per_m2", Float),
    Column("degree_days", Float),
    Column("kwh_per_m2_per_dd", Float),
    Column("trend_pct", Float),  # last 12 months against the baseline (or N-1), in %
    Column("trend_basis", String(32)),  # baseline | previous_year | none
    Column("open_findings", Integer, nullable=False, default=0),
    Column("tertiaire_status", String(32)),  # on_track | late | no_reference | unknown
    Column("tertiaire_gap_pct", Float),
    Column("data_coverage_pct", Float),
    Column("status", String(16), nullable=False),  # ok | watch | alert | no_data
    Column("detail_json", Text),  # provenance: series, model, warnings
)

# -- background jobs (migration 0011) --------------------------------------------------------
# One row per job of ``services.jobs``: any process of the service reads a job another one
# runs (state, progress, result). ``runner`` is the registry that runs it (host, pid, a nonce);
# a queued or running job whose ``heartbeat_at`` stopped moving was interrupted by a restart.
job = Table(
    "job", metadata,
    Column("id", String(32), primary_key=True),  # uuid4 hex
    Column("kind", String(32), nullable=False),  # import | analysis | realised_savings | ...
    Column("label", Text, nullable=False),
    Column("owner_account_id", ForeignKey("account.id")),  # None: the scheduler
    Column("state", String(16), nullable=False),  # queued | running | done | failed
    Column("done", BigInteger, nullable=False),
    Column("total", BigInteger, nullable=False),
    Column("message", Text, nullable=False),
    Column("result_json", Text),  # what the job returned, as JSON
    Column("error", Text),
    Column("created_at", _tz(), nullable=False),
    Column("started_at", _tz()),
    Column("finished_at", _tz()),
    Column("heartbeat_at", _tz(), nullable=False),
    Column("runner", Text, nullable=False),  # host:pid:nonce of the registry that runs it
)
Index("ix_job_owner_account_id_created_at", job.c.owner_account_id, job.c.created_at)
