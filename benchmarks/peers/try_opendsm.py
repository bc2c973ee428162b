"""Smoke run of OpenDSM 1.2.7 on its own samples and on the Cambridge meters.

    bash benchmarks/peers/setup_bench_env.sh
    .venv-bench/bin/python -m benchmarks.peers.try_opendsm [--only SUBSTRING] [--no-isolate]

Fits OpenDSM's daily and hourly models on:
- every OpenDSM hourly sample meter (4 Illinois, 4 UK), split from metadata.json (see
  load_data: IL = the year before the blackout, reporting = the year after; UK samples 1 and 2
  have no usable baseline year before their blackout date: first 365 days, then the rest);
- the 4 Illinois daily sample files (daily model only: they are the daily sums of the hourly);
- the 6 Cambridge meters, baseline 2016, predicting 2017 (out of sample, no intervention).
Prints a table and writes benchmarks/results/opendsm_smoke.json.

Metrics on the evaluation period (benchmarks.peers.metrics): CV(RMSE) = sqrt(sum((y-ŷ)²)/n) /
mean(y) (p = 0) and NMBE = sum(y-ŷ) / (n·mean(y)), at the model's own granularity (hours for
the hourly model, local days for the daily model; `cvrmse_daily` also gives the hourly model's
daily-summed error). Electricity zero readings are left out of the evaluation (OpenDSM treats
them as missing). For the Illinois samples the evaluation period is a reporting period with
simulated 10 % savings, so NMBE there is about -0.10 by construction and measures the savings,
not an error: compare `savings_estimate_kwh` with the simulated savings instead.

Each fit runs in a fresh process (see opendsm_runner for what time and memory mean). A first
untimed fit per model warms numba's on-disk cache (OpenDSM's daily model JIT-compiles ~20 s of
kernels on the very first run in a new venv); its time is reported as `warmup`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

from benchmarks.peers import opendsm_runner as runner  # first: sets the BLAS thread vars
from benchmarks.peers.load_data import (
    CAMBRIDGE_PRIMARY_SPLIT,
    Meter,
    load_cambridge,
    load_opendsm_samples,
    slice_period,
)
from benchmarks.peers.metrics import daily_from_hourly, evaluate

RESULTS = Path(__file__).resolve().parents[1] / "results" / "opendsm_smoke.json"


def _jobs(only: str | None) -> list[tuple[Meter, str, str]]:
    jobs = []
    for m in load_opendsm_samples(include_daily=True):
        models = ("daily",) if m.freq == "daily" else ("daily", "hourly")
        jobs += [(m, kind, m.splits[0].name) for kind in models]
    for m in load_cambridge():
        jobs += [(m, kind, CAMBRIDGE_PRIMARY_SPLIT) for kind in ("daily", "hourly")]
    if only:
        jobs = [j for j in jobs if only in j[0].name]
    return jobs


def _evaluate(m: Meter, kind: str, split, res) -> dict:
    pred = res.predictions.get("evaluation")
    if pred is None:
        return {}
    obs = slice_period(m.consumption_kwh, *split.evaluation)
    excl = m.is_electricity
    out: dict = {"exclude_zero_observed": excl}
    if kind == "hourly":
        out["hourly"] = evaluate(obs, pred, excl)
        obs_d = daily_from_hourly(obs, m.local_tz)
        pred_d = daily_from_hourly(pred, m.local_tz)
        out["daily"] = evaluate(obs_d, pred_d, excl)
        main = out["hourly"]
    else:
        obs_d = obs if m.freq == "daily" else daily_from_hourly(obs, m.local_tz)
        out["daily"] = evaluate(obs_d, pred, excl)
        main = out["daily"]
    out["cvrmse"], out["nmbe"] = main["cvrmse"], main["nmbe"]
    # avoided energy over the evaluation period, on the points evaluated
    if main["n"]:
        out["savings_estimate_kwh"] = main["predicted_sum"] - main["observed_sum"]
        if m.true_savings_kwh_per_year is not None:
            days = main["n"] / (24 if kind == "hourly" else 1)
            # simulated: reporting = 0.9 x baseline behaviour, so savings = observed / 9
            out["savings_simulated_kwh"] = main["observed_sum"] / 9.0
            out["savings_metadata_annual_kwh"] = m.true_savings_kwh_per_year
            out["evaluated_days"] = days
    return out


def _fmt(x, spec: str) -> str:
    return "-" if x is None else format(x, spec)


def _print_table(rows: list[dict]) -> None:
    head = (
        f"{'meter':40} {'model':6} {'fit s':>6} {'peak MB':>7} {'CV(RMSE)':>8} {'NMBE':>7} "
        f"{'sav est/sim':>12} {'status':12} crash message"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        ev = r["evaluation"]
        sav = "-"
        if ev.get("savings_simulated_kwh") is not None:
            sav = f"{ev['savings_estimate_kwh']:.0f}/{ev['savings_simulated_kwh']:.0f}"
        res = r["opendsm"]
        crash = "no"
        if res["status"] == "crash":
            msg = " ".join(res["error"]["message"].split())[:110]
            crash = f"yes [{res['error']['stage']}] {res['error']['type']}: {msg}"
        status = res["status"]
        if res["would_refuse"]:
            status += "*"
        print(
            f"{r['meter']:40} {r['model']:6} {_fmt(res['fit_seconds'], '6.2f')} "
            f"{_fmt(res['peak_rss_fit_mb'], '7.0f')} {_fmt(ev.get('cvrmse'), '8.3f')} "
            f"{_fmt(ev.get('nmbe'), '7.3f')} {sav:>12} {status:12} {crash}"
        )
    print(
        "status: ok | disqualified (OpenDSM's own data or fit-quality disqualification; "
        "fitted anyway with ignore_disqualification=True) | crash; * = fit would be refused "
        "by default (data sufficiency)"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", help="run only meters whose name contains this")
    ap.add_argument("--no-isolate", action="store_true", help="fit in-process (no memory)")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    isolate = not args.no_isolate

    jobs = _jobs(args.only)
    warmup = {}
    if jobs:
        m0 = next(j[0] for j in jobs if j[0].freq == "hourly")
        s0 = m0.splits[0]
        for kind in ("daily", "hourly"):
            t0 = time.perf_counter()
            w = runner.fit_predict(
                kind, m0.consumption_kwh, m0.temperature_c, s0.baseline, {},
                tz=m0.local_tz, is_electricity=m0.is_electricity, isolate=isolate,
            )
            warmup[kind] = {
                "meter": m0.name,
                "wall_seconds": round(time.perf_counter() - t0, 2),
                "fit_seconds": w.fit_seconds,
                "status": w.status,
            }
    rows = []
    for m, kind, split_name in jobs:
        split = m.split(split_name)
        t0 = time.perf_counter()
        # OpenDSM is fed the sample's native unit (therm for the IL gas meters), as in its
        # own use: its daily model is not exactly unit-invariant (a kWh fit of il-gas-hdd-only
        # differs by up to 4 % per day, 0.1 % in total). Predictions come back in kWh.
        scale = m.kwh_per_native_unit
        res = runner.fit_predict(
            kind,
            m.consumption_kwh / scale,
            m.temperature_c,
            split.baseline,
            {"evaluation": split.evaluation},
            tz=m.local_tz,
            is_electricity=m.is_electricity,
            isolate=isolate,
        )
        wall = time.perf_counter() - t0
        if scale != 1.0:
            res.predictions = {k: v * scale for k, v in res.predictions.items()}
            res.prediction_unc = {k: v * scale for k, v in res.prediction_unc.items()}
        rows.append(
            {
                "meter": m.name,
                "model": kind,
                "split": split.to_dict(),
                "meter_info": m.describe(),
                "fed_unit": m.native_unit,
                "opendsm": res.to_dict(),
                "evaluation": _evaluate(m, kind, split, res),
                "wall_seconds_incl_process": round(wall, 2),
            }
        )
        print(
            f"  {m.name} {kind}: {res.status} fit {res.fit_seconds}s "
            f"({wall:.1f}s with process start)",
            file=sys.stderr,
            flush=True,
        )
    _print_table(rows)
    crashes = [r for r in rows if r["opendsm"]["status"] == "crash"]
    summary = {
        "n_fits": len(rows),
        "n_crash": len(crashes),
        "n_disqualified": sum(r["opendsm"]["status"] == "disqualified" for r in rows),
        "n_would_refuse": sum(r["opendsm"]["would_refuse"] for r in rows),
    }
    print(json.dumps(summary))
    doc = {
        "generated_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "tool": "opendsm",
        "versions": next((r["opendsm"]["versions"] for r in rows if r["opendsm"]["versions"]), {}),
        "python": platform.python_version(),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "blas_env": {k: os.environ.get(k) for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")},
        "isolated_processes": isolate,
        "definitions": {
            "cvrmse": "sqrt(sum((y-yhat)^2)/(n-p))/mean(y), p=0, evaluation period",
            "nmbe": "sum(y-yhat)/(n*mean(y)), evaluation period",
            "fit_seconds": "baseline data object (OpenDSM cleaning + sufficiency) + model.fit",
            "peak_rss_fit_mb": "ru_maxrss of the fitting process after the fit (incl. imports)",
            "fit_delta_mb": "peak_rss_fit_mb - RSS just before the fit",
        },
        "warmup": warmup,
        "summary": summary,
        "results": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(doc, indent=1, default=str))
    tmp.replace(args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
