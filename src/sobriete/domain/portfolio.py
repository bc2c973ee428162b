"""The estate: portfolio -> territory -> commune -> site -> building -> meter / zone / sensor.

Plain pydantic models, validated on construction; no I/O. Keys (``code``) are the
identifiers people already use (INSEE code for a commune, PRM for an Enedis meter, the
commune's own building reference) so that re-importing a registry updates instead of duplicating.
"""

from __future__ import annotations

from datetime import time
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class ActivityCategory(StrEnum):
    SCHOOL = "school"  # école maternelle / élémentaire
    SECONDARY_SCHOOL = "secondary_school"  # collège, lycée
    NURSERY = "nursery"  # crèche
    GYM = "gym"  # gymnase
    POOL = "pool"  # piscine
    OFFICE = "office"  # bureaux, mairie
    TOWN_HALL = "town_hall"
    LIBRARY = "library"  # médiathèque
    CULTURE = "culture"  # salle des fêtes, théâtre
    HEALTH = "health"
    UNIVERSITY = "university"
    OTHER = "other"


class HeatingSystem(StrEnum):
    GAS_BOILER = "gas_boiler"
    OIL_BOILER = "oil_boiler"
    DISTRICT_HEAT = "district_heat"
    HEAT_PUMP = "heat_pump"
    ELECTRIC_RESISTANCE = "electric_resistance"
    WOOD_BOILER = "wood_boiler"
    UNKNOWN = "unknown"


class MeterKind(StrEnum):
    ELECTRICITY = "electricity"
    GAS = "gas"
    HEAT = "heat"
    WATER = "water"


class SensorKind(StrEnum):
    TEMPERATURE = "temperature"
    SETPOINT = "setpoint"
    OCCUPANCY = "occupancy"


SENSOR_QUANTITY = {
    SensorKind.TEMPERATURE: "temp_zone_c",
    SensorKind.SETPOINT: "setpoint_c",
    SensorKind.OCCUPANCY: "occupancy_ratio",
}
METER_QUANTITY = {
    MeterKind.ELECTRICITY: "energy_kwh",
    MeterKind.GAS: "energy_kwh",
    MeterKind.HEAT: "energy_kwh",
    MeterKind.WATER: "volume_m3",
}

# French climate zones of the RT 2012 / CEE (H1a..H3 grouped as CEE uses them).
CLIMATE_ZONES = ("H1", "H2", "H3")
# School-holiday zones of the Éducation nationale, as named by the ``holidays`` package.
SCHOOL_ZONES = ("Zone A", "Zone B", "Zone C", "Corse")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class OpeningHours(_Model):
    """Occupied hours of one weekday, local time (Europe/Paris)."""

    start: time
    end: time

    @model_validator(mode="after")
    def _ordered(self) -> OpeningHours:
        if self.end <= self.start:
            raise ValueError(f"opening ends ({self.end}) before it starts ({self.start})")
        return self


class OccupancyCalendar(_Model):
    """When a building is occupied: a weekly schedule plus holidays and declared closures.

    ``weekly`` maps ISO weekday (1 = Monday ... 7 = Sunday) to a list of opening spans; a
    missing day is closed. Public holidays are closed when ``closed_on_public_holidays``;
    school holidays of ``school_zone`` are closed when ``closed_on_school_holidays`` (schools,
    nurseries attached to schools). Computation lives in ``analytics.calendar``.
    """

    weekly: dict[int, tuple[OpeningHours, ...]] = Field(default_factory=dict)
    closed_on_public_holidays: bool = True
    closed_on_school_holidays: bool = False
    school_zone: str = "Zone C"
    timezone: str = "Europe/Paris"

    @field_validator("weekly")
    @classmethod
    def _weekdays(cls, v: dict[int, tuple[OpeningHours, ...]]):
        bad = [d for d in v if d not in range(1, 8)]
        if bad:
            raise ValueError(f"weekday keys must be 1 (Monday) to 7 (Sunday), got {bad}")
        return v

    @field_validator("school_zone")
    @classmethod
    def _zone(cls, v: str) -> str:
        if v not in SCHOOL_ZONES:
            raise ValueError(f"school_zone must be one of {SCHOOL_ZONES}, got {v!r}")
        return v


def default_calendar(activity: ActivityCategory) -> OccupancyCalendar:
    """A plausible default schedule per activity, to be overridden by the commune's own."""
    def span(a: str, b: str) -> tuple[OpeningHours, ...]:
        return (OpeningHours(start=time.fromisoformat(a), end=time.fromisoformat(b)),)

    if activity in (ActivityCategory.SCHOOL, ActivityCategory.SECONDARY_SCHOOL):
        # French primary schools: Monday, Tuesday, Thursday, Friday (Wednesday often leisure).
        days = {d: span("08:00", "18:00") for d in (1, 2, 4, 5)}
        days[3] = span("08:00", "12:30")
        return OccupancyCalendar(weekly=days, closed_on_school_holidays=True)
    if activity in (ActivityCategory.GYM, ActivityCategory.POOL, ActivityCategory.CULTURE):
        days = {d: span("08:00", "22:00") for d in range(1, 7)}
        days[7] = span("09:00", "13:00")
        return OccupancyCalendar(weekly=days)
    if activity is ActivityCategory.NURSERY:
        return OccupancyCalendar(weekly={d: span("07:30", "19:00") for d in range(1, 6)})
    return OccupancyCalendar(weekly={d: span("08:00", "19:00") for d in range(1, 6)})


class Meter(_Model):
    code: str = Field(min_length=1, description="PRM, PCE or the meter's own number")
    kind: MeterKind
    step_s: int | None = Field(None, gt=0, description="nominal interval [s], None if irregular")
    subscribed_power_kva: float | None = Field(None, gt=0, description="electricity contract")

    @property
    def quantity(self) -> str:
        return METER_QUANTITY[self.kind]


class Sensor(_Model):
    code: str = Field(min_length=1)
    kind: SensorKind

    @property
    def quantity(self) -> str:
        return SENSOR_QUANTITY[self.kind]


class Zone(_Model):
    code: str = Field(min_length=1)
    name: str = ""
    floor_area_m2: float | None = Field(None, gt=0)
    sensors: tuple[Sensor, ...] = ()


class Building(_Model):
    code: str = Field(min_length=1)
    name: str
    activity: ActivityCategory = ActivityCategory.OTHER
    floor_area_m2: float | None = Field(None, gt=0, description="surface de plancher [m²]")
    heating_system: HeatingSystem = HeatingSystem.UNKNOWN
    climate_zone: str = "H1"
    calendar: OccupancyCalendar | None = None
    meters: tuple[Meter, ...] = ()
    zones: tuple[Zone, ...] = ()
    weather_station: str | None = Field(
        None, min_length=1, description="key of the weather series used for this building")
    latitude: float | None = Field(None, ge=-90, le=90, description="WGS84 [°]")
    longitude: float | None = Field(None, ge=-180, le=180, description="WGS84 [°]")

    @field_validator("climate_zone")
    @classmethod
    def _climate(cls, v: str) -> str:
        if v not in CLIMATE_ZONES:
            raise ValueError(f"climate_zone must be one of {CLIMATE_ZONES}, got {v!r}")
        return v

    @model_validator(mode="after")
    def _both_coordinates(self) -> Building:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("latitude and longitude go together: give both or neither")
        return self

    def occupancy(self) -> OccupancyCalendar:
        return self.calendar or default_calendar(self.activity)


class Site(_Model):
    code: str = Field(min_length=1)
    name: str
    buildings: tuple[Building, ...] = ()


class Commune(_Model):
    code: str = Field(min_length=1, description="INSEE code")
    name: str
    sites: tuple[Site, ...] = ()


class Territory(_Model):
    code: str = Field(min_length=1)
    name: str
    communes: tuple[Commune, ...] = ()


class Portfolio(_Model):
    code: str = Field(min_length=1)
    name: str
    territories: tuple[Territory, ...] = ()

    def buildings(self) -> list[tuple[Territory, Commune, Site, Building]]:
        return [
            (t, c, s, b)
            for t in self.territories
            for c in t.communes
            for s in c.sites
            for b in s.buildings
        ]
