"""Adapter around OpenDSM 1.2.7 (`opendsm.eemeter`) for the baseline benchmark.

Inputs are plain pandas in the product's conventions: consumption in kWh (hourly, or daily for
the daily model) and hourly air temperature in °C, both on a UTC DatetimeIndex, plus the
meter's civil time zone. At the boundary the series are converted to the local zone (OpenDSM
builds days, weekdays and hours of day from the index's zone, and warns on a UTC index) and
temperatures to °F (OpenDSM's models assume °F: balance-point search ranges, bins).

OpenDSM API used (site-packages/opendsm/eemeter/, version 1.2.7):
- daily: `DailyBaselineData.from_series(meter, temperature, is_electricity_data)`
  (models/daily/data.py:94) -> `DailyModel().fit(data, ignore_disqualification=)`
  (models/daily/model.py:138); prediction from temperature only with
  `DailyReportingData.from_series(None, temperature, is_electricity_data)` (data.py:635) ->
  `DailyModel.predict(data, ignore_disqualification=)` (model.py:194). Hourly meter data can be
  given to the daily data class: it sums to days (`_compute_meter_value_df`, data.py:236).
- hourly: `HourlyBaselineData(df[observed, temperature], is_electricity_data)`
  (models/hourly/data.py:343; there is no from_series) -> `HourlyModel().fit(...)`
  (models/hourly/model.py:386); `HourlyReportingData(df[temperature], ...)` (data.py:380) ->
  `HourlyModel.predict(...)` (model.py:458).
- data sufficiency: the data classes run `DailySufficiencyCriteria` / `HourlySufficiencyCriteria`
  (common/sufficiency_criteria.py) on construction and keep `EEMeterWarning`s
  (common/warnings.py: qualified_name, description, data) in `.warnings` and
  `.disqualification`; the fit adds `eemeter.model_fit_metrics` to `.disqualification` when the
  baseline CV(RMSE)_adj and PNRMSE_adj both exceed their thresholds (daily 1.0 / 1.6, hourly
  1.4 / 2.2; `_check_model_fit`). By default `fit` raises `DataSufficiencyError` on a
  disqualified baseline and `predict` raises `DisqualifiedModelError`: this adapter records
  `would_refuse` / `model_disqualified` and passes `ignore_disqualification=True`, so that the
  accuracy of what OpenDSM would have refused is still measured. Electricity zeros are turned
  into NaN by OpenDSM (`_set_data`), gas zeros are kept.

Cost measurement:
- Threads: OPENBLAS_NUM_THREADS, OMP_NUM_THREADS, MKL_NUM_THREADS are set to 1 at import of
  this module, before numpy is imported here, unless already set; child processes inherit them.
  If numpy was imported before this module by the caller, the parent's BLAS keeps its threads
  but the isolated children (default) still start with one thread. The BLAS thread count
  actually in force in the fitting process is read with threadpoolctl and reported.
- `isolate=True` (default): each fit runs in a fresh spawned process. Reported: `fit_seconds`
  (wall time of building the baseline data object, i.e. OpenDSM's cleaning and sufficiency
  checks, plus `model.fit`), `predict_seconds`, `import_seconds`, `rss_before_fit_mb` (RSS after
  importing OpenDSM and preparing inputs), `peak_rss_fit_mb` (the process's peak RSS,
  getrusage ru_maxrss, right after the fit: interpreter + imports + fit, comparable with the
  450 MB of PEERS.md), `fit_delta_mb` (= peak_rss_fit - rss_before_fit, what the fit itself
  added) and `peak_rss_mb` (peak at the end, predictions included). A child that dies (signal,
  OOM) or exceeds `timeout` is a crash record.
- `isolate=False`: in-process; times only, memory fields None (RSS peaks are per process).
Any exception is caught and returned as `status="crash"` with stage, type, message, traceback.
"""

from __future__ import annotations

import benchmarks.one_blas_thread  # noqa: F401 - first: one BLAS thread before numpy loads

# isort: split

import logging
import time
import warnings
from dataclasses import asdict, dataclass, field

import pandas as pd

from benchmarks.peers import isolated

MODELS = ("daily", "hourly")
_BASELINE_METRIC_FIELDS = (
    "n",
    "num_model_params",
    "cvrmse",
    "cvrmse_adj",
    "nmbe",
    "pnrmse_adj",
    "r_squared",
)


@dataclass
class OpenDSMResult:
    model: str  # "daily" | "hourly"
    status: str = "ok"  # "ok" | "disqualified" (fitted anyway) | "crash"
    predictions: dict[str, pd.Series] = field(default_factory=dict)  # period -> kWh, UTC index
    prediction_unc: dict[str, pd.Series] = field(default_factory=dict)
    fit_seconds: float | None = None
    predict_seconds: float | None = None
    import_seconds: float | None = None
    rss_before_fit_mb: float | None = None
    peak_rss_fit_mb: float | None = None
    fit_delta_mb: float | None = None
    peak_rss_mb: float | None = None
    memory_method: str | None = None
    blas_threads: list[dict] = field(default_factory=list)
    would_refuse: bool = False  # OpenDSM's fit raises DataSufficiencyError by default
    model_disqualified: bool = False  # poor baseline fit: predict raises by default
    warnings: list[dict] = field(default_factory=list)  # baseline data warnings
    disqualifications: list[dict] = field(default_factory=list)  # baseline data + model fit
    reporting_warnings: dict[str, list[dict]] = field(default_factory=dict)
    python_warnings: dict[str, int] = field(default_factory=dict)  # category: message -> count
    baseline_metrics: dict = field(default_factory=dict)  # OpenDSM's own in-sample metrics
    model_summary: dict = field(default_factory=dict)
    error: dict | None = None  # {"stage", "type", "message", "traceback"}
    versions: dict = field(default_factory=dict)

    @property
    def crashed(self) -> bool:
        return self.status == "crash"

    def to_dict(self) -> dict:
        """JSON-friendly record, predictions left out."""
        d = asdict(self)
        d.pop("predictions")
        d.pop("prediction_unc")
        d["predicted_periods"] = {k: int(v.notna().sum()) for k, v in self.predictions.items()}
        return d


def _warn_json(w) -> dict:
    try:
        d = w.json()
    except Exception:  # pragma: no cover - defensive
        d = {"qualified_name": str(w), "description": "", "data": {}}
    return _jsonable(d)


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    if isinstance(x, str | bool | int) or x is None:
        return x
    if isinstance(x, float):
        return x if x == x and abs(x) != float("inf") else None
    try:
        return _jsonable(x.item())  # numpy scalar
    except Exception:
        return str(x)


def _to_local(s: pd.Series, tz: str) -> pd.Series:
    if s.index.tz is None:
        raise ValueError("series index must be tz-aware (UTC)")
    out = s.tz_convert(tz)
    out.index = out.index.as_unit("ns")
    return out


def _slice(s: pd.Series, start, end) -> pd.Series:
    return s[(s.index >= start) & (s.index < end)]


def _c_to_f(t: pd.Series) -> pd.Series:
    return t * 9.0 / 5.0 + 32.0


def _work(job: dict) -> OpenDSMResult:
    """Fit and predict in the current process. Never raises."""
    res = OpenDSMResult(model=job["model"])
    stage = "import"
    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            t0 = time.perf_counter()
            import numpy as np
            import opendsm
            import sklearn
            from opendsm import eemeter

            res.import_seconds = round(time.perf_counter() - t0, 3)
            res.versions = {
                "opendsm": opendsm.__version__,
                "pandas": pd.__version__,
                "numpy": np.__version__,
                "scikit-learn": sklearn.__version__,
            }
            res.blas_threads = isolated.blas_threads()
            # warnings are kept as data below; OpenDSM also logs each one
            logging.getLogger("eemeter").setLevel(logging.ERROR)

            stage = "prepare"
            model_kind = job["model"]
            tz = job["tz"]
            is_elec = bool(job["is_electricity"])
            b0, b1 = job["baseline"]
            cons = _to_local(_slice(job["consumption"], b0, b1), tz).rename("observed")
            temp_all = _to_local(_c_to_f(job["temperature_c"]), tz).rename("temperature")
            temp = _slice(temp_all, b0.tz_convert(tz), b1.tz_convert(tz))
            if model_kind == "hourly":
                hourly_index = pd.date_range(
                    cons.index.min(), cons.index.max(), freq="h", tz=tz
                ).as_unit("ns")
                base_df = pd.DataFrame(
                    {
                        "observed": cons.reindex(hourly_index),
                        "temperature": temp.reindex(hourly_index),
                    }
                )
            res.rss_before_fit_mb = isolated.rss_mb()

            stage = "fit"
            t0 = time.perf_counter()
            if model_kind == "daily":
                bdata = eemeter.DailyBaselineData.from_series(
                    cons, temp, is_electricity_data=is_elec
                )
            elif model_kind == "hourly":
                bdata = eemeter.HourlyBaselineData(base_df, is_electricity_data=is_elec)
            else:
                raise ValueError(f"unknown model {model_kind!r}, expected one of {MODELS}")
            res.warnings = [_warn_json(w) for w in bdata.warnings]
            data_dq = [_warn_json(w) for w in bdata.disqualification]
            res.would_refuse = bool(data_dq)
            model = eemeter.DailyModel() if model_kind == "daily" else eemeter.HourlyModel()
            model.fit(bdata, ignore_disqualification=True)
            res.fit_seconds = round(time.perf_counter() - t0, 3)
            res.peak_rss_fit_mb = isolated.maxrss_mb()
            res.fit_delta_mb = round(res.peak_rss_fit_mb - res.rss_before_fit_mb, 1)
            res.disqualifications = [_warn_json(w) for w in model.disqualification]
            res.model_disqualified = any(
                d["qualified_name"] == "eemeter.model_fit_metrics" for d in res.disqualifications
            )
            if res.disqualifications:
                res.status = "disqualified"
            bm = getattr(model, "baseline_metrics", None)
            if bm is not None:
                res.baseline_metrics = _jsonable(
                    {k: getattr(bm, k, None) for k in _BASELINE_METRIC_FIELDS}
                )
            if model_kind == "daily":
                res.model_summary = {"best_combination": getattr(model, "best_combination", None)}
                try:
                    res.model_summary["submodels"] = {
                        k: v.model_type.value for k, v in model.params.submodels.items()
                    }
                except Exception:  # pragma: no cover
                    pass

            stage = "predict"
            t0 = time.perf_counter()
            for name, (p0, p1) in job["periods"].items():
                stage = f"predict:{name}"
                ptemp = _slice(temp_all, p0.tz_convert(tz), p1.tz_convert(tz))
                if model_kind == "daily":
                    rdata = eemeter.DailyReportingData.from_series(
                        None, ptemp, is_electricity_data=is_elec
                    )
                else:
                    # Placeholder `observed`: OpenDSM 1.2.7 finds DST days by counting the
                    # non-null `observed` per date (_get_dst_indices, hourly/model.py:1568), so
                    # a temperature-only frame in a DST zone crashes in predict (23/25-hour
                    # days). The value is not used by the prediction.
                    rframe = ptemp.to_frame("temperature")
                    rframe.insert(0, "observed", 1.0)
                    rdata = eemeter.HourlyReportingData(rframe, is_electricity_data=is_elec)
                res.reporting_warnings[name] = [
                    _warn_json(w) for w in rdata.warnings + rdata.disqualification
                ]
                out = model.predict(rdata, ignore_disqualification=True)
                pred = out["predicted"].astype(float).tz_convert("UTC")
                pred = _slice(pred, p0, p1)
                res.predictions[name] = pred.rename("predicted_kwh")
                if "predicted_unc" in out:
                    unc = out["predicted_unc"].astype(float).tz_convert("UTC")
                    res.prediction_unc[name] = _slice(unc, p0, p1)
            res.predict_seconds = round(time.perf_counter() - t0, 3)
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
    is_electricity: bool = True,
    isolate: bool = True,
    timeout: float = 900.0,
) -> OpenDSMResult:
    """Fit OpenDSM's `model` ("daily" or "hourly") on [baseline) and predict each period.

    consumption_kwh: hourly kWh (or daily kWh for the daily model), UTC index.
    temperature_c:   hourly °C, UTC index, covering the baseline and every period.
    baseline, periods: half-open [start, end) UTC timestamps; periods maps a name to a range.
    tz: the meter's civil time zone, used for OpenDSM's days / weekdays / hours of day.
    Returns predictions in kWh (hourly for "hourly", per local day for "daily", indexed by the
    UTC instant of the local midnight) with cost, warnings and, on failure, a crash record.
    """
    job = {
        "model": model,
        "consumption": consumption_kwh,
        "temperature_c": temperature_c,
        "baseline": tuple(pd.Timestamp(x) for x in baseline),
        "periods": {k: tuple(pd.Timestamp(x) for x in v) for k, v in (periods or {}).items()},
        "tz": tz,
        "is_electricity": is_electricity,
    }
    return isolated.run(_work, job, lambda error: OpenDSMResult(model=model, status="crash",
                                                         error=error),
                        isolate=isolate, timeout=timeout)


def fit_predict_daily(*args, **kwargs) -> OpenDSMResult:
    return fit_predict("daily", *args, **kwargs)


def fit_predict_hourly(*args, **kwargs) -> OpenDSMResult:
    return fit_predict("hourly", *args, **kwargs)
