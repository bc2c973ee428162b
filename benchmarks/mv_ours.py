"""The product side of the M&V benchmark, built exactly like the OpenDSM adapter
(``benchmarks.peers.opendsm_runner``) so that both tools go through the same process design.

Inputs are the same plain pandas as the adapter's: consumption in kWh (hourly, or daily for
the daily sample files) and hourly air temperature in °C, both on a UTC index, plus the
meter's civil time zone. Held-out weeks are NaN in the consumption the caller passes (the
same masked series goes to both tools).

What one fit is, for the product: build the model frame from the readings with
``analytics.mv.data.hourly_input`` (hourly energy, temperature, local calendar columns,
occupancy and day types) and, for the daily model, ``daily_input``; then ``model.fit``. This
is the counterpart of OpenDSM's ``fit_seconds`` (its baseline data object: cleaning and
sufficiency, plus ``model.fit``). Both parts are also timed apart (``input_seconds``,
``model_fit_seconds``).

Weather: the window's temperatures plus 12 h on each side, sliced before the timed part (as
``services.mv_inputs.load_frames`` reads them; OpenDSM's adapter slices before timing too).

Calendar: a plain Monday-Friday 08:00-18:00 week in the meter's time zone, no public
holidays (the product's holiday calendars are French; these meters are British and
American). Only the air temperature is given (no irradiance): same data as OpenDSM.

Cost measurement (same method as the adapter): ``isolate=True`` spawns a fresh process per
fit; ``rss_before_fit_mb`` is its RSS after imports and input preparation, ``peak_rss_fit_mb``
its peak RSS (ru_maxrss) right after the fit, ``fit_delta_mb`` the difference. In-process
(``isolate=False``) gives times only. Imports before the fit are what fitting needs (the
model modules); ``analytics.mv.savings`` (which imports scipy.stats) is imported after the
fit, for the savings of the evaluation period, and shows in ``peak_rss_mb`` only.
"""

from __future__ import annotations

import benchmarks.one_blas_thread  # noqa: F401 - first: one BLAS thread before numpy loads

# isort: split

import time
import warnings
from dataclasses import asdict, dataclass, field
from datetime import time as dtime

import pandas as pd

from benchmarks.peers import isolated
from benchmarks.peers.opendsm_runner import _slice

MODELS = ("daily", "hourly")
WEATHER_PAD_H = 12


@dataclass
class OursResult:
    model: str  # "daily" | "hourly"
    status: str = "ok"  # "ok" | "disqualified" (fit-quality warning, predictions kept) | "crash"
    predictions: dict[str, pd.Series] = field(default_factory=dict)
    fit_seconds: float | None = None  # input building + model.fit
    input_seconds: float | None = None
    model_fit_seconds: float | None = None
    predict_seconds: float | None = None
    import_seconds: float | None = None
    rss_before_fit_mb: float | None = None
    peak_rss_fit_mb: float | None = None
    fit_delta_mb: float | None = None
    peak_rss_mb: float | None = None
    memory_method: str | None = None
    blas_threads: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)  # the fit's typed warnings (code, level)
    savings: dict = field(default_factory=dict)  # period -> avoided_energy summary
    params: dict = field(default_factory=dict)
    python_warnings: dict[str, int] = field(default_factory=dict)
    error: dict | None = None
    versions: dict = field(default_factory=dict)

    @property
    def crashed(self) -> bool:
        return self.status == "crash"

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("predictions")
        d["predicted_periods"] = {k: int(v.notna().sum()) for k, v in self.predictions.items()}
        return d


def calendar_for(tz: str):
    from sobriete.domain.portfolio import OccupancyCalendar, OpeningHours

    week = (OpeningHours(start=dtime(8), end=dtime(18)),)
    return OccupancyCalendar(weekly={d: week for d in range(1, 6)},
                             closed_on_public_holidays=False, timezone=tz)


def _readings(values: pd.Series, step_s: int) -> pd.DataFrame:
    return pd.DataFrame({"start_utc": values.index, "duration_s": step_s,
                         "value": values.to_numpy(float)})


def _daily_frame_from_daily(values: pd.Series, weather: pd.DataFrame, cal, lo, hi):
    """Daily model frame for daily meter files: temperatures and calendar columns from an
    hourly frame without energy, energy from the file (local days, complete)."""
    from sobriete.analytics.mv.data import daily_input, hourly_input

    hours = pd.date_range(lo, hi, freq="h", inclusive="left", tz="UTC")
    empty = pd.DataFrame({"start_utc": hours, "duration_s": 3600, "value": float("nan")})
    hourly, _ = hourly_input(empty, weather, cal)
    daily = daily_input(hourly)
    local_days = values.tz_convert(cal.timezone).index.tz_localize(None).normalize()
    energy = pd.Series(values.to_numpy(float), index=local_days)
    energy = energy[~energy.index.duplicated()]
    daily["energy_kwh"] = energy.reindex(daily.index).to_numpy()
    daily["energy_coverage"] = daily["energy_kwh"].notna().astype(float)
    return daily


def _frame(job: dict, lo, hi, cal, weather):
    from sobriete.analytics.mv.data import daily_input, hourly_input

    cons = _slice(job["consumption"], lo, hi)
    if job["freq"] == "daily":
        return _daily_frame_from_daily(cons, weather, cal, lo, hi)
    hourly, _ = hourly_input(_readings(cons, 3600), weather, cal)
    return daily_input(hourly) if job["model"] == "daily" else hourly


def _to_utc_days(pred: pd.Series, tz: str) -> pd.Series:
    idx = pd.DatetimeIndex(pred.index).tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward")
    return pd.Series(pred.to_numpy(float), index=idx.tz_convert("UTC"), name="predicted_kwh")


def _work(job: dict) -> OursResult:
    """Fit and predict in the current process. Never raises."""
    res = OursResult(model=job["model"])
    stage = "import"
    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            t0 = time.perf_counter()
            import numpy as np

            import sobriete
            from sobriete.analytics.mv.base import PREDICTED
            from sobriete.analytics.mv.changepoint import ChangePointModel
            from sobriete.analytics.mv.hourly import HourlyModel

            res.import_seconds = round(time.perf_counter() - t0, 3)
            res.versions = {"sobriete": getattr(sobriete, "__version__", "?"),
                            "pandas": pd.__version__, "numpy": np.__version__}
            res.blas_threads = isolated.blas_threads()

            stage = "prepare"
            tz = job["tz"]
            cal = calendar_for(tz)
            weather = job["temperature_c"].rename("temp_air_c").to_frame()
            b0, b1 = job["baseline"]
            # Weather of the window only (+ 12 h each side for interpolation), as the
            # portfolio runner loads it (services.mv_inputs.load_frames).
            pad = pd.Timedelta(hours=WEATHER_PAD_H)
            fit_weather = _slice(weather, b0 - pad, b1 + pad)
            cons = _slice(job["consumption"], b0, b1)
            readings = _readings(cons, 3600) if job["freq"] == "hourly" else None
            res.rss_before_fit_mb = isolated.rss_mb()

            stage = "fit"
            t0 = time.perf_counter()
            if job["freq"] == "daily":
                frame = _daily_frame_from_daily(cons, fit_weather, cal, b0, b1)
            else:
                from sobriete.analytics.mv.data import daily_input, hourly_input

                frame, _ = hourly_input(readings, fit_weather, cal)
                if job["model"] == "daily":
                    frame = daily_input(frame)
            t1 = time.perf_counter()
            model = HourlyModel() if job["model"] == "hourly" else ChangePointModel()
            fit = model.fit(frame)
            t2 = time.perf_counter()
            res.input_seconds = round(t1 - t0, 4)
            res.model_fit_seconds = round(t2 - t1, 4)
            res.fit_seconds = round(t2 - t0, 4)
            res.peak_rss_fit_mb = isolated.maxrss_mb()
            res.fit_delta_mb = round(res.peak_rss_fit_mb - res.rss_before_fit_mb, 1)
            res.warnings = [{"code": w.code, "level": str(w.level)} for w in fit.warnings]
            if fit.disqualified:
                res.status = "disqualified"
            res.params = {k: v for k, v in fit.params.items()
                          if isinstance(v, int | float | str)}

            stage = "predict"
            t0 = time.perf_counter()
            for name, (p0, p1) in job["periods"].items():
                stage = f"predict:{name}"
                pframe = _frame(job, p0, p1, cal, _slice(weather, p0 - pad, p1 + pad))
                out = model.predict(pframe)[PREDICTED]
                if job["model"] == "daily":
                    out = _to_utc_days(out, tz)
                res.predictions[name] = _slice(out.astype(float), p0, p1).rename(
                    "predicted_kwh")
                if name in job.get("savings_periods", ()):
                    stage = f"savings:{name}"
                    # Imported after the fit's peak is taken: savings pulls scipy.stats
                    # (+60 MB, +1 s), which fitting does not need.
                    from sobriete.analytics.mv.savings import avoided_energy

                    s = avoided_energy(model, pframe, confidence=0.90)
                    res.savings[name] = {
                        "savings_kwh": s.savings_kwh, "uncertainty_kwh_90": s.uncertainty_kwh,
                        "baseline_kwh": s.baseline_kwh, "reporting_kwh": s.reporting_kwh,
                        "m": s.m, "fsu": s.fsu if np.isfinite(s.fsu) else None,
                    }
            res.predict_seconds = round(time.perf_counter() - t0, 4)
            res.peak_rss_mb = isolated.maxrss_mb()
    except BaseException as exc:  # noqa: BLE001 - a crash record, never raised
        res.status = "crash"
        res.error = isolated.crash_record(stage, exc)
    res.python_warnings = isolated.warning_counts(caught)
    return res


def fit_predict(
    model: str,
    consumption_kwh: pd.Series,
    temperature_c: pd.Series,
    baseline: tuple[pd.Timestamp, pd.Timestamp],
    periods: dict[str, tuple[pd.Timestamp, pd.Timestamp]] | None = None,
    *,
    tz: str = "UTC",
    freq: str = "hourly",
    savings_periods: tuple[str, ...] = (),
    isolate: bool = True,
    timeout: float = 900.0,
) -> OursResult:
    """Fit the product's ``model`` ("daily" change-point or "hourly") on [baseline) and predict
    each period; same arguments and outputs as ``opendsm_runner.fit_predict`` (hourly kWh for
    "hourly", per local day indexed by the UTC instant of local midnight for "daily").
    ``freq`` = "daily" when ``consumption_kwh`` holds local-day totals (daily sample files)."""
    job = {
        "model": model, "consumption": consumption_kwh, "temperature_c": temperature_c,
        "baseline": tuple(pd.Timestamp(x) for x in baseline),
        "periods": {k: tuple(pd.Timestamp(x) for x in v) for k, v in (periods or {}).items()},
        "tz": tz, "freq": freq, "savings_periods": tuple(savings_periods),
    }
    return isolated.run(_work, job, lambda error: OursResult(model=model, status="crash",
                                                         error=error),
                        isolate=isolate, timeout=timeout)
