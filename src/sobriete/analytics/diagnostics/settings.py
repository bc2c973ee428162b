"""Every threshold of the diagnostic detectors, with its unit and why, in one frozen model.

Defaults marked *(to confirm)* are orders of magnitude from practice, not norms: a commune sets
its own. ``DETECTOR_VERSIONS`` is bumped whenever a detector's logic or a default changes, so a
stored finding says which rules produced it.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

DETECTOR_VERSIONS: dict[str, str] = {
    "schedule": "1",
    "heating_season": "1",
    "change": "1",
    "contract": "1",
    "zones": "1",
}


class _Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ScheduleSettings(_Settings):
    """Load shape against the occupancy calendar (base load, out of hours, weekends, holidays)."""

    typical_closed_ratio: dict[str, float] = Field(
        default_factory=lambda: {
            "school": 0.25, "secondary_school": 0.25, "nursery": 0.3, "gym": 0.3,
            "pool": 0.7, "office": 0.3, "town_hall": 0.3, "library": 0.3, "culture": 0.3,
            "health": 0.6, "university": 0.45, "other": 0.35,
        },
        description="[ratio] closed-hours mean power / occupied mean power of a well-run "
        "building of each activity, electricity (to confirm: orders of magnitude from practice)",
    )
    closed_ratio_margin: float = Field(
        0.10, ge=0, le=1,
        description="[ratio] the closed/occupied ratio must exceed the typical one by this much "
        "before the base load is called too high (leaves room for fridges, servers, ventilation)",
    )
    min_excess_ratio: float = Field(
        0.15, ge=0, le=10,
        description="[ratio] a period is reported only when its consumption exceeds the expected "
        "one by at least this share of the expected (keeps small real variations quiet)",
    )
    min_excess_sigma: float = Field(
        4.0, ge=0, le=100,
        description="[robust σ] and by at least this many robust standard deviations of the "
        "same kind of day (false alarms: about one per several years of days at 4σ)",
    )
    min_closed_days: int = Field(
        10, ge=3, le=365,
        description="[days] closed days (weekends, holidays) needed in the window to learn the "
        "closed-day level; fewer and the holiday/weekend rules stay silent with a warning",
    )
    out_of_hours_allowed_share: float = Field(
        0.25, ge=0, le=1,
        description="[ratio] on workdays, the load outside opening hours may stay above the night "
        "base by this share of the occupied-minus-night load (staff arriving early, cleaning) "
        "before it is called out-of-hours consumption (to confirm)",
    )
    ramp_hours: int = Field(
        1, ge=0, le=6, description="[h] hours after closing and before opening left out of the "
        "out-of-hours rule (systems ramping down or up)",
    )
    preheat_hours: int = Field(
        2, ge=0, le=8, description="[h] hours before opening left out for heating meters "
        "(pre-heating is wanted, optimised start is a separate action)",
    )
    setback_cold_temp_c: float = Field(
        10.0, ge=-20, le=20, description="[°C] daily mean outdoor temperature below which a day "
        "is clearly a heating day for the set-back rule",
    )
    setback_max_ratio: float = Field(
        0.8, ge=0, le=2, description="[ratio] night/occupied heating power above which no "
        "night set-back is visible",
    )
    setback_target_ratio: float = Field(
        0.6, ge=0, le=1, description="[ratio] night/occupied heating power with a working "
        "set-back, used to estimate the waste (to confirm: depends on inertia and insulation)",
    )
    night_hours_local: tuple[int, int] = Field(
        (1, 5), description="[local hour, start and end inclusive] hours used for the base load "
        "(the quietest hours of a closed building)",
    )


class HeatingSeasonSettings(_Settings):
    no_heating_temp_c: float = Field(
        16.0, ge=5, le=25,
        description="[°C] daily mean outdoor temperature above which a building needs no heating",
    )
    hot_water_quantile: float = Field(
        0.25, ge=0, le=1,
        description="[quantile] of warm-day gas/heat use taken as the hot-water and cooking base",
    )
    summer_excess_ratio: float = Field(
        0.30, ge=0, le=10,
        description="[ratio] warm days using this share more than the hot-water base (and at least "
        "min_summer_days of them) are reported as heating in summer",
    )
    min_summer_days: int = Field(
        5, ge=1, le=200, description="[days] warm days needed over the threshold to report",
    )
    season_start_mmdd: str = Field(
        "10-01", pattern=r"^\d\d-\d\d$",
        description="[MM-DD] conventional start of the heating season (FRANCE.md)",
    )
    season_end_mmdd: str = Field(
        "05-20", pattern=r"^\d\d-\d\d$",
        description="[MM-DD] conventional end of the heating season (FRANCE.md)",
    )
    season_tolerance_days: int = Field(
        15, ge=0, le=90,
        description="[days] heating may start/stop this much around the conventional dates "
        "(public-sector sobriety plan: shift the season by ±15 days)",
    )


class ChangeSettings(_Settings):
    """Changes against the building's own reference year (the M&V baseline's residuals)."""

    reference_days: int = Field(
        365, ge=28, le=3 * 366, description="[days] history before the analysed window used "
        "as the reference",
    )
    min_reference_days: int = Field(
        90, ge=14, le=366, description="[days] below this the change rules stay silent",
    )
    cusum_k: float = Field(0.5, gt=0, le=5, description="[σ] CUSUM allowance (half the "
                           "smallest shift worth detecting)")
    cusum_h: float = Field(5.0, gt=0, le=50, description="[σ] CUSUM decision limit, on "
                           "weekly residuals (5: about one false alarm in 470 weeks of "
                           "independent noise, Siegmund's approximation)")
    min_step_ratio: float = Field(
        0.10, ge=0, le=10,
        description="[ratio] a step is reported when the mean daily change is at least this share "
        "of the mean daily expected consumption",
    )
    min_step_days: int = Field(14, ge=1, le=365, description="[days] shortest step reported")
    base_load_increase_ratio: float = Field(
        0.15, ge=0, le=10,
        description="[ratio] closed-hours load up by at least this share of the reference's "
        "closed-hours load over min_step_days is a base-load increase",
    )


class ContractSettings(_Settings):
    power_factor: float = Field(
        0.93, gt=0, le=1,
        description="[cos φ] converts the subscribed kVA into kW when no reactive data exists "
        "(to confirm per site)",
    )
    min_exceedances: int = Field(
        1, ge=1, le=10_000, description="[intervals] exceedances needed to report",
    )


class ZoneSettings(_Settings):
    """Code de l'énergie R.241-26 to R.241-30 and the public-sector sobriety plan."""

    occupied_max_c: float = Field(19.0, description="[°C] R.241-26, mean over occupied hours")
    unoccupied_max_c: float = Field(16.0, description="[°C] R.241-27, unoccupied 24-48 h")
    closed_max_c: float = Field(8.0, description="[°C] R.241-27, unoccupied 48 h or more")
    closed_min_h: float = Field(48.0, gt=0, description="[h] length of a closure that calls "
                                "for frost protection only")
    cooling_min_c: float = Field(26.0, description="[°C] R.241-30, no cooling below")
    tolerance_k: float = Field(
        0.5, ge=0, le=5, description="[K] margin for sensor accuracy before a breach is reported",
    )
    heating_pct_per_k: float = Field(
        0.07, ge=0, le=1,
        description="[share of heating energy per K] rule of thumb 1 °C less ≈ 7 % less heating "
        "(FRANCE.md), used to turn an overheating into kWh",
    )
    unoccupied_min_h: float = Field(
        0.0, ge=0, le=48,
        description="[h] shortest unoccupied run judged against unoccupied_max_c: 0 includes "
        "nights (public-sector sobriety plan: 16 °C at night), 24 is the strict R.241-27 reading",
    )
    transition_h: float = Field(
        2.0, ge=0, le=24,
        description="[h] left out of the unoccupied and closed rules after closing (the room "
        "cools slowly whatever the heating does) and before opening (preheat)",
    )
    min_period_h: float = Field(
        4.0, gt=0, le=168,
        description="[h] valid hours a week (occupied or unoccupied instants) or a closure needs "
        "before it is judged",
    )
    min_event_h: float = Field(
        1.0, gt=0, le=168,
        description="[h] hours of cooling below the threshold, or of heating and cooling at "
        "once, in a week before it is reported",
    )
    min_heating_share: float = Field(
        0.02, ge=0, le=1,
        description="[share of judged hours] when heating_on is known, a period where heating "
        "ran less than this is not a heating breach (the warmth came from sun, weather, inertia)",
    )


class DiagnosticSettings(_Settings):
    schedule: ScheduleSettings = ScheduleSettings()
    heating_season: HeatingSeasonSettings = HeatingSeasonSettings()
    change: ChangeSettings = ChangeSettings()
    contract: ContractSettings = ContractSettings()
    zones: ZoneSettings = ZoneSettings()
    interval_ratio: float = Field(
        0.3, ge=0, le=1,
        description="[ratio] half-width of a waste interval, relative to the estimate, when the "
        "rule has no statistical one (the zone rules' rule of thumb)",
    )
