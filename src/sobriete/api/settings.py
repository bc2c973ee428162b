"""Configuration of `sobriete serve`: a TOML file, then ``SOBRIETE_*`` environment variables
(which win), then the defaults below. The embedded default needs nothing: SQLite in the
current directory, loopback only."""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from sobriete.domain.errors import InputError


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SOBRIETE_", extra="forbid", frozen=True)

    db_url: str = Field("sqlite:///sobriete.sqlite",
                        description="sqlite:///file.sqlite or postgresql://user@host/db")
    host: str = Field("127.0.0.1", description="listen address (loopback by default)")
    port: int = Field(8000, ge=1, le=65535)
    workers: int = Field(1, ge=1, le=64, description="processes serving HTTP requests (more "
                         "than one: the scheduler runs in the supervising process); about one "
                         "per core")
    request_threads: int = Field(4, ge=1, le=64, description="threads per worker for the "
                                 "endpoints that read the database")
    log_level: str = Field("info", pattern="^(debug|info|warning|error)$")
    slow_request_ms: float = Field(1000, ge=0, description="an answer slower than this to "
                                   "start is logged as a warning (0: never)")
    lang: str = Field("fr", pattern="^(fr|en)$", description="default language of messages")
    # sessions and logins
    cookie_secure: bool = Field(True, description="session cookie only over HTTPS (browsers "
                                "accept it on http://127.0.0.1 and localhost)")
    session_hours: float = Field(12, gt=0, le=24 * 30)
    login_max_failures: int = Field(5, ge=1, description="failed logins per login within "
                                    "login_window_s before refusing (per address: 4 times it)")
    login_window_s: int = Field(900, ge=1)
    principal_cache_s: float = Field(
        5.0, ge=0, le=60, description="seconds a token's account and grants are remembered by "
        "a worker (0: read on every request); a change made in another process (a second "
        "worker, the CLI) takes effect within this delay")
    public_url: str = Field("http://127.0.0.1:8000", description="address written in e-mails")
    # e-mail alerts (no smtp_host: alerts are not sent, the dashboard still lists them)
    smtp_host: str | None = None
    smtp_port: int = Field(25, ge=1, le=65535)
    smtp_starttls: bool = False
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "sobriete@localhost"
    # scheduler of `sobriete serve` (local time of the metropolis)
    scheduler: bool = Field(True, description="run the daily jobs inside `sobriete serve`")
    timezone: str = "Europe/Paris"
    daily_analysis_at: str = Field("05:30", pattern=r"^\d\d:\d\d$")
    digest_at: str = Field("07:30", pattern=r"^\d\d:\d\d$")
    ingest_dir: str | None = Field(None, description="folder watched for meter files to import")
    control_buildings: list[str] = Field(
        default_factory=list, description="buildings whose control loop runs every 15 min in "
        "advise mode (decisions recorded, nothing sent)")
    tertiaire_reference_year: int | None = Field(
        None, ge=2010, le=2019, description="Décret tertiaire reference year of the daily "
        "building status (none: the trajectory column stays empty)")


def load_settings(path: Path | None = None, **overrides) -> ServiceSettings:
    """Settings from ``path`` (TOML, optional), the environment and ``overrides`` (the command
    line's options), in increasing priority. A bad file or value is an ``InputError``."""
    values: dict = {}
    if path is not None:
        try:
            values = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise InputError(f"configuration file unreadable: {exc}", file=str(path)) from None
    try:
        # Environment variables win over the file: pydantic-settings gives init arguments the
        # priority, so the file's values are passed only where the environment is silent.
        env = ServiceSettings()
        from_env = env.model_fields_set
        merged = {k: v for k, v in values.items() if k not in from_env}
        merged.update({k: v for k, v in overrides.items() if v is not None})
        return ServiceSettings(**merged)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise InputError(f"configuration: {err['msg']}", file=str(path) if path else None,
                         field=".".join(str(x) for x in err["loc"]),
                         found=str(err.get("input"))) from None
