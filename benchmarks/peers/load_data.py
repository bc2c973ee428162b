"""Benchmark data loaders: OpenDSM's own sample meters and the Cambridge estate buildings.

Free of any peer import (pandas only), so that the product-side benchmark reuses exactly the
same series and splits as the OpenDSM side. Each loader returns `Meter` records holding:

- `consumption_kwh`: hourly (or daily) kWh, UTC DatetimeIndex, hour-/day-beginning;
- `temperature_c`: hourly air temperature in °C, UTC DatetimeIndex;
- `local_tz`: the meter's civil time zone (days, weekdays and hours of day are local);
- `splits`: suggested baseline / evaluation periods, half-open [start, end) UTC timestamps.

Source files are read, never modified (../shared/data/README.md). Cite the Cambridge data as
Langtry & Choudhary, Cambridge University Estates building energy usage archive, Zenodo
10.5281/zenodo.10955332 (MIT); OpenDSM samples are Apache-2.0 (OpenDSM 1.2.7 / eemeter 4.1.1).

OpenDSM `metadata.json`, one entry per sample id (checked against the files):
- `id`, `meter_data_filename`, `temperature_filename`: the files of the sample.
- `freq`: hourly | daily | billing_monthly | billing_bimonthly (the meter file's granularity;
  the IL daily files are the local-day sums of the IL hourly files, to rounding).
- `interpretation` (electricity | gas) and `unit` (kWh, or therm for the IL gas meters).
- `usaf_id`: weather station (724390 = Springfield, Illinois; "N/A" for the UK meters).
- `blackout_start_date`, `blackout_end_date`: the intervention ("blackout") window between the
  baseline and the reporting period; dates, inclusive, to be excluded from both. For the IL
  meters (data 2015-11-22 .. 2018-02-08) it is 2016-12-26 .. 2017-01-04, leaving a full year on
  each side. For the UK meters it is a single day, and for UK samples 1 and 2 it lies only
  ~3 and ~2 months after the start of the usable data (temperature covers 2012-10-12 ..
  2014-01-25 only), so it cannot split them into a baseline year and a reporting period.
- `annual_baseline_total_load` / `_base_load` / `_heating_load` / `_cooling_load`, and the
  same `annual_reporting_*`: the annual loads the IL series were *simulated* with (in the meter's
  unit); reporting = 0.9 x baseline for every sample, i.e. the true savings are 10 % of the
  baseline annual load (1000 kWh, or 100 therm for gas). The IL meters are synthetic, generated
  from these loads and balance points (see `true_savings` below).
- `baseline_heating_balance_point`, `baseline_cooling_balance_point` (and `reporting_*`): °F
  balance points used for the simulation (60 °F heating, 65 °F cooling), when applicable.
- For the UK samples the load fields are the same template numbers (1000 -> 900) but the
  series are real meters: no savings were applied to them, so `true_savings` is None.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = Path(ROOT.parent / "shared" / "data")
OPENDSM_SAMPLES_DIR = SHARED_DATA / "opendsm_samples"
CAMBRIDGE_DIR = SHARED_DATA / "cambridge"

KWH_PER_THERM = 29.3071  # 1 therm = 100,000 Btu = 29.3071 kWh

#: Time zone of the Illinois samples: their offsets are -06:00 in winter, -05:00 in summer.
IL_TZ = "America/Chicago"
UK_TZ = "Europe/London"


@dataclass(frozen=True)
class Split:
    """A baseline period and an evaluation period, half-open [start, end), UTC."""

    name: str
    baseline_start: pd.Timestamp
    baseline_end: pd.Timestamp
    eval_start: pd.Timestamp
    eval_end: pd.Timestamp
    kind: str = "reporting"  # "reporting" (after an intervention) or "out_of_sample"
    note: str = ""

    @property
    def baseline(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        return self.baseline_start, self.baseline_end

    @property
    def evaluation(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        return self.eval_start, self.eval_end

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "baseline": [self.baseline_start.isoformat(), self.baseline_end.isoformat()],
            "evaluation": [self.eval_start.isoformat(), self.eval_end.isoformat()],
            "kind": self.kind,
            "note": self.note,
        }


@dataclass
class Meter:
    name: str
    source: str  # "opendsm_samples" | "cambridge"
    fuel: str  # "electricity" | "gas"
    freq: str  # "hourly" | "daily": granularity of consumption_kwh
    consumption_kwh: pd.Series
    temperature_c: pd.Series
    local_tz: str
    splits: list[Split]
    native_unit: str = "kWh"
    kwh_per_native_unit: float = 1.0
    #: annual savings the sample was simulated with, in kWh, or None when unknown (real meters)
    true_savings_kwh_per_year: float | None = None
    metadata: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def is_electricity(self) -> bool:
        return self.fuel == "electricity"

    def split(self, name: str) -> Split:
        for s in self.splits:
            if s.name == name:
                return s
        raise KeyError(f"{self.name}: no split {name!r} (have {[s.name for s in self.splits]})")

    def describe(self) -> dict:
        """JSON-friendly summary (no series)."""
        return {
            "name": self.name,
            "source": self.source,
            "fuel": self.fuel,
            "freq": self.freq,
            "local_tz": self.local_tz,
            "native_unit": self.native_unit,
            "kwh_per_native_unit": self.kwh_per_native_unit,
            "true_savings_kwh_per_year": self.true_savings_kwh_per_year,
            "consumption_span": [
                self.consumption_kwh.index.min().isoformat(),
                self.consumption_kwh.index.max().isoformat(),
            ],
            "temperature_span": [
                self.temperature_c.index.min().isoformat(),
                self.temperature_c.index.max().isoformat(),
            ],
            "splits": [s.to_dict() for s in self.splits],
            "notes": list(self.notes),
        }


# --------------------------------------------------------------------------- helpers


def _utc_index(values: pd.Series) -> pd.DatetimeIndex:
    """Parse timestamps: offsets honoured, naive ones taken as UTC (as OpenDSM's reader does)."""
    return pd.DatetimeIndex(pd.to_datetime(values, utc=True))


def f_to_c(temp_f: pd.Series) -> pd.Series:
    return (temp_f - 32.0) * 5.0 / 9.0


def _to_hourly_sum(s: pd.Series) -> pd.Series:
    """Sub-hourly energy -> hourly sum, only for hours whose every sub-interval is present.

    OpenDSM's own reader (`meter_data_from_csv(freq="hourly")`) sums with min_count=1, which
    undercounts partly-missing hours; here such hours are NaN. Duplicate timestamps (a few in
    the UK half-hourly files) keep their first value.
    """
    s = s[~s.index.duplicated(keep="first")].sort_index()
    step = s.index.to_series().diff().mode().iloc[0]
    if step >= pd.Timedelta(hours=1):
        return s.asfreq("h") if step == pd.Timedelta(hours=1) else s
    per_hour = int(pd.Timedelta(hours=1) / step)
    grouped = s.resample("h")
    out = grouped.sum(min_count=1)
    out[grouped.count() < per_hour] = float("nan")
    return out


def _local_midnight(day: str | pd.Timestamp, tz: str) -> pd.Timestamp:
    return pd.Timestamp(pd.Timestamp(day).date()).tz_localize(tz).tz_convert("UTC")


def _joint_span(a: pd.Series, b: pd.Series) -> tuple[pd.Timestamp, pd.Timestamp]:
    a, b = a.dropna(), b.dropna()
    return max(a.index.min(), b.index.min()), min(a.index.max(), b.index.max())


# --------------------------------------------------------------------------- OpenDSM samples


def read_opendsm_metadata(data_dir: Path = OPENDSM_SAMPLES_DIR) -> dict:
    with open(Path(data_dir) / "metadata.json") as f:
        return json.load(f)


def read_opendsm_meter_file(path: Path) -> pd.Series:
    """`start,value` (ISO times, with offsets for IL, naive = UTC for UK) -> UTC series."""
    raw = pd.read_csv(path)
    return pd.Series(raw["value"].to_numpy(float), index=_utc_index(raw["start"]), name="value")


def read_opendsm_temperature_c(path: Path) -> pd.Series:
    """`dt,tempF` (IL) or `,dt,tempC` (UK) -> hourly °C, UTC."""
    raw = pd.read_csv(path)
    idx = _utc_index(raw["dt"])
    if "tempF" in raw.columns:
        values = f_to_c(raw["tempF"].astype(float)).to_numpy()
    elif "tempC" in raw.columns:
        values = raw["tempC"].to_numpy(float)
    else:
        raise ValueError(f"{path}: no tempF/tempC column in {list(raw.columns)}")
    s = pd.Series(values, index=idx, name="temperature_c")
    s = s[~s.index.duplicated(keep="first")].sort_index()
    return s.asfreq("h")


def _sample_splits(
    name: str, meta: dict, cons: pd.Series, temp: pd.Series, tz: str
) -> tuple[list[Split], list[str]]:
    notes: list[str] = []
    start, end = _joint_span(cons, temp)
    data_end = end + pd.Timedelta(hours=1)
    b_start = _local_midnight(meta["blackout_start_date"], tz)
    b_end_excl = _local_midnight(meta["blackout_end_date"], tz) + pd.Timedelta(days=1)
    base_start = b_start - pd.Timedelta(days=365)
    # OpenDSM accepts a baseline of 329-366 days: use the year before the blackout whenever the
    # data cover at least 329 days of it (UK sample 0 starts at 01:00 UTC on its first day).
    if b_start - max(start, base_start) >= pd.Timedelta(days=329):
        eval_end = min(b_end_excl + pd.Timedelta(days=365), data_end)
        split = Split(
            "baseline_before_blackout",
            base_start,
            b_start,
            b_end_excl,
            eval_end,
            kind="reporting",
            note="365 days before blackout_start_date (local midnight); reporting from the "
            "day after blackout_end_date, up to 365 days",
        )
    else:
        local_start = start.tz_convert(tz)
        first_day = _local_midnight(local_start.date(), tz)
        if first_day < start:  # first local midnight at or after the start of joint data
            first_day = _local_midnight(local_start.date() + pd.Timedelta(days=1), tz)
        base_end = first_day + pd.Timedelta(days=365)
        split = Split(
            "first_365_days",
            first_day,
            base_end,
            base_end,
            data_end,
            kind="out_of_sample",
            note="blackout date leaves no baseline year before it; baseline = first 365 "
            "days of joint meter+temperature data, evaluation = the rest",
        )
        notes.append(
            f"blackout {meta['blackout_start_date']} is {(b_start - start).days} days after "
            f"the start of joint data ({start.date()}): not usable as a baseline/reporting split"
        )
    if split.eval_end - split.eval_start < pd.Timedelta(days=300):
        notes.append(
            f"evaluation period only {(split.eval_end - split.eval_start).days} days "
            "(not a full year)"
        )
    return [split], notes


def load_opendsm_samples(
    data_dir: Path = OPENDSM_SAMPLES_DIR, include_daily: bool = True
) -> list[Meter]:
    """The 4 Illinois hourly meters, their 4 daily versions (optional) and the 4 UK meters.

    Billing samples are left out (no daily/hourly model applies). Gas in therms is converted to
    kWh; the UK half-hourly meters are summed to whole hours.
    """
    data_dir = Path(data_dir)
    meta_all = read_opendsm_metadata(data_dir)
    meters = []
    for sid in sorted(meta_all):
        meta = meta_all[sid]
        if meta["freq"] not in ("hourly", "daily"):
            continue
        if meta["freq"] == "daily" and not include_daily:
            continue
        tz = UK_TZ if sid.startswith("uk-") else IL_TZ
        raw = read_opendsm_meter_file(data_dir / meta["meter_data_filename"])
        unit = meta["unit"]
        factor = KWH_PER_THERM if unit.lower() == "therm" else 1.0
        if meta["freq"] == "hourly":
            cons = _to_hourly_sum(raw) * factor
        else:
            cons = raw[~raw.index.duplicated(keep="first")].sort_index() * factor
        cons.name = "consumption_kwh"
        temp = read_opendsm_temperature_c(data_dir / meta["temperature_filename"])
        splits, notes = _sample_splits(sid, meta, cons, temp, tz)
        true_savings = None
        if sid.startswith("il-"):
            true_savings = (
                float(meta["annual_baseline_total_load"])
                - float(meta["annual_reporting_total_load"])
            ) * factor
        else:
            notes.append(
                "real UK meter: metadata loads are template values, true savings unknown"
            )
        if len(raw) != len(cons) and meta["freq"] == "hourly":
            step = raw.index.to_series().diff().mode().iloc[0]
            notes.append(f"source step {step}, summed to whole hours (partial hours -> NaN)")
        meters.append(
            Meter(
                name=sid,
                source="opendsm_samples",
                fuel=meta["interpretation"],
                freq=meta["freq"],
                consumption_kwh=cons,
                temperature_c=temp,
                local_tz=tz,
                splits=splits,
                native_unit=unit,
                kwh_per_native_unit=factor,
                true_savings_kwh_per_year=true_savings,
                metadata=dict(meta),
                notes=notes,
            )
        )
    return meters


# --------------------------------------------------------------------------- Cambridge

CAMBRIDGE_BUILDINGS = ("b0", "b4", "b8")
CAMBRIDGE_FILES = {"electricity": "electricity_kwh_hourly.csv.gz", "gas": "gas_kwh_hourly.csv.gz"}
#: (baseline year, evaluation year) pairs; 2020 holds the COVID closure (a non-routine event).
CAMBRIDGE_YEAR_PAIRS = ((2015, 2016), (2016, 2017), (2017, 2018), (2018, 2019), (2019, 2020))
CAMBRIDGE_PRIMARY_SPLIT = "2016->2017"


def _year_start(year: int, tz: str) -> pd.Timestamp:
    return pd.Timestamp(f"{year}-01-01").tz_localize(tz).tz_convert("UTC")


def cambridge_splits(tz: str = UK_TZ) -> list[Split]:
    out = []
    for base, nxt in CAMBRIDGE_YEAR_PAIRS:
        note = "next calendar year, no intervention: out-of-sample accuracy"
        if nxt == 2020:
            note = "2020 holds the COVID closure: a non-routine event, expect large errors"
        out.append(
            Split(
                f"{base}->{nxt}",
                _year_start(base, tz),
                _year_start(base + 1, tz),
                _year_start(nxt, tz),
                _year_start(nxt + 1, tz),
                kind="out_of_sample",
                note=note,
            )
        )
    return out


def read_cambridge_temperature_c(data_dir: Path = CAMBRIDGE_DIR) -> pd.Series:
    w = pd.read_csv(Path(data_dir) / "weather_bedford_hourly.csv.gz")
    s = pd.Series(
        w["air_temperature_c"].to_numpy(float),
        index=_utc_index(w["timestamp_utc"]),
        name="temperature_c",
    )
    return s.asfreq("h")


def load_cambridge(
    data_dir: Path = CAMBRIDGE_DIR,
    buildings: tuple[str, ...] = CAMBRIDGE_BUILDINGS,
    fuels: tuple[str, ...] = ("electricity", "gas"),
) -> list[Meter]:
    """The 6 Cambridge meters (3 buildings x electricity, gas), hourly kWh, Bedford weather.

    Zeros are kept as published: the publisher replaced missing or invalid readings by 0, so a
    zero may be "missing" as well as "off" (OpenDSM itself turns electricity zeros into NaN and
    keeps gas zeros).
    """
    data_dir = Path(data_dir)
    temp = read_cambridge_temperature_c(data_dir)
    splits = cambridge_splits()
    meters = []
    for fuel in fuels:
        df = pd.read_csv(data_dir / CAMBRIDGE_FILES[fuel])
        idx = _utc_index(df["timestamp_utc"])
        for b in buildings:
            cons = pd.Series(df[b].to_numpy(float), index=idx, name="consumption_kwh").asfreq("h")
            notes = []
            zero_frac = float((cons == 0).mean())
            if zero_frac > 0.01:
                notes.append(f"{zero_frac:.0%} zero hours (missing or off, indistinguishable)")
            yearly = cons.groupby(cons.index.year).sum()
            ratio = yearly / yearly.shift(1)
            jumps = ratio[(ratio < 0.5) | (ratio > 2)]
            for year, r in jumps.items():
                notes.append(f"annual total x{r:.2f} in {year} vs {year - 1}: level change")
            meters.append(
                Meter(
                    name=f"cambridge-{b}-{fuel}",
                    source="cambridge",
                    fuel=fuel,
                    freq="hourly",
                    consumption_kwh=cons,
                    temperature_c=temp,
                    local_tz=UK_TZ,
                    splits=splits,
                    notes=notes,
                )
            )
    return meters


def load_all(include_daily_samples: bool = True) -> list[Meter]:
    return load_opendsm_samples(include_daily=include_daily_samples) + load_cambridge()


def slice_period(s: pd.Series, start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
    """[start, end) slice of a UTC-indexed series."""
    return s[(s.index >= start) & (s.index < end)]
