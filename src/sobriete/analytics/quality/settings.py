"""Every threshold of the data-quality checks, with its unit, in one frozen model."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

# Bump a check's version whenever its logic or a default changes, so that stored findings
# say which rules produced them.
CHECK_VERSIONS: dict[str, str] = {
    "gap": "1",
    "duplicate": "1",
    "off_grid": "1",
    "range": "1",
    "flat_line": "1",
    "suspicious_zero": "1",
    "spike": "1",
    "dst_anomaly": "1",
    "clock_shift": "1",
    "completeness": "1",
}


class QualitySettings(BaseModel):
    """Thresholds of the data-quality checks. Units are in each field's name and description."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # -- regular grid -------------------------------------------------------------------
    max_grid_points: int = Field(
        2_000_000, ge=10, le=50_000_000,
        description="[count] largest regular grid built for one series; above it the grid-based "
        "checks are skipped (protects memory against a wrong step or stray far timestamps)",
    )
    # -- gaps ----------------------------------------------------------------------------
    gap_min_steps: int = Field(
        1, ge=1, le=10_000,
        description="[steps] shortest run of missing intervals reported as a gap",
    )
    gap_error_h: float = Field(
        72.0, gt=0, le=24 * 366,
        description="[h] gaps at least this long are errors, shorter ones warnings",
    )
    # -- duplicates ----------------------------------------------------------------------
    duplicate_tolerance: float = Field(
        1e-9, ge=0, le=1e6,
        description="[unit of the quantity] duplicated readings differing by more than this "
        "are conflicting",
    )
    # -- flat lines ----------------------------------------------------------------------
    flat_line_min_h: float = Field(
        24.0, gt=0, le=24 * 366,
        description="[h] shortest run of one repeated non-zero value reported as a stuck meter "
        "or sensor (a day: real loads of a building move within a day, even at 0.1 kWh "
        "resolution a quiet Sunday repeats for about 14 h in the Cambridge data)",
    )
    flat_line_tolerance: float = Field(
        0.0, ge=0, le=1e6,
        description="[unit of the quantity] consecutive values closer than this count as equal",
    )
    # -- suspicious zeros (interval quantities: energy, power, volume) -----------------
    zero_context_weeks: int = Field(
        6, ge=1, le=52,
        description="[weeks] each side of a zero, the weeks whose same hour of the week tells "
        "how usual a zero is there",
    )
    zero_usual_rate_max: float = Field(
        0.1, ge=0, le=1,
        description="[share] a zero is unusual when, in the context weeks, the same hour of the "
        "week is zero at most this often",
    )
    zero_edge_ratio: float = Field(
        0.5, gt=0, le=10,
        description="[ratio] a zero run has abrupt edges when the readings just before and after "
        "are both at least this share of the series' median positive reading",
    )
    zero_min_h: float = Field(
        3.0, gt=0, le=24 * 366,
        description="[h] an unusual zero run without abrupt edges is reported from this length",
    )
    zero_series_share_max: float = Field(
        0.05, ge=0, le=1,
        description="[share] a series with more zero readings than this is often zero (gas "
        "meters, switched loads): there only runs of at least zero_often_min_h are judged",
    )
    zero_often_min_h: float = Field(
        24.0, gt=0, le=24 * 366,
        description="[h] shortest unusual zero run reported in an often-zero series",
    )
    zero_error_h: float = Field(
        24.0, gt=0, le=24 * 366,
        description="[h] suspicious zero runs at least this long are errors",
    )
    # -- spikes --------------------------------------------------------------------------
    spike_context: int = Field(
        4, ge=2, le=26,
        description="[periods] each side of a reading, the same hour of the week (interval "
        "quantities) or of the day (samples) in this many weeks/days gives its expected value",
    )
    spike_z: float = Field(
        6.0, gt=1, le=1000,
        description="[robust z, MAD units] a reading above expected + spike_z x scale is a spike",
    )
    spike_min_excess_ratio: float = Field(
        0.5, ge=0, le=100,
        description="[ratio] and it must exceed the highest neighbour (same hour, context "
        "periods) by this share of the series' 90th-percentile reading: higher than anything "
        "seen at that hour nearby, by a clear margin (keeps bursty loads such as gas boilers, "
        "whose median says little, from flooding the report)",
    )
    spike_max_h: float = Field(
        6.0, gt=0, le=24 * 31,
        description="[h] a longer run above the threshold is a change of level, not a spike",
    )
    # -- DST and clock shifts ------------------------------------------------------------
    dst_context_days: int = Field(
        14, ge=3, le=60,
        description="[days] each side of a daylight-saving change, days averaged into the "
        "before/after daily profiles",
    )
    dst_max_ssd_ratio: float = Field(
        0.6, gt=0, le=1,
        description="[ratio] a change shows the one-hour signature when the profile misfit at "
        "the signature lag is at most this share of the misfit without shift",
    )
    dst_min_share: float = Field(
        0.5, gt=0, le=1,
        description="[share] of the testable DST changes that must show the signature",
    )
    clock_window_days: int = Field(
        28, ge=7, le=120,
        description="[days] each side of a candidate date, days averaged into the profiles "
        "compared by the clock-shift check",
    )
    clock_max_ssd_ratio: float = Field(
        0.2, gt=0, le=1,
        description="[ratio] a shift is reported when the profile misfit at the best lag is at "
        "most this share of the misfit without shift",
    )
    clock_min_correlation: float = Field(
        0.95, ge=-1, le=1,
        description="[correlation] and the shifted profiles correlate at least this well",
    )
    clock_max_lag_h: int = Field(
        6, ge=1, le=12, description="[h] largest clock shift searched for"
    )
    dst_double_ratio: float = Field(
        1.7, gt=1, le=10,
        description="[ratio] on the autumn DST day, an interval reading at least this many "
        "times its neighbours' mean is an hour counted twice",
    )
    profile_min_cv: float = Field(
        0.1, ge=0, le=10,
        description="[ratio std/mean] daily profiles flatter than this carry no timing "
        "information; DST and clock-shift checks skip them",
    )
