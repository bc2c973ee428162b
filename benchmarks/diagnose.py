"""Diagnostics benchmark (issue 4): injected faults in real meters, ours vs generic detectors.

    .venv/bin/python -m benchmarks.diagnose [--quick] [--trials 3] [--workers 2]
                                            [--out benchmarks/results/diagnose.json]

Data: the Cambridge meters (buildings b0, b4, b8; electricity and gas), analysed years
2016-2019, each with the previous year as reference history; 2020 (COVID closure) is run
clean and reported apart, as a real non-routine event. Calendar and closures are assumptions
(``benchmarks/diag/data.py``). For every meter-year whose annual total stays within x0.5-x2 of
its reference, each fault type of its carrier (``benchmarks/diag/faults.py``) is injected
alone, ``--trials`` timings x 4 magnitudes (10, 20, 30, 50 %); every run, and the clean run
of every meter-year, goes through the product's ``diagnose_meter`` and the two generic
detectors (``benchmarks/diag/generic.py``: rolling z-score, IsolationForest); scores in
``benchmarks/diag/scoring.py``. ``--quick``: building b4, year 2017, one trial (< 2 min).
``--standin`` replaces the product's detectors by a trivial stand-in (harness check only).
To score the committed detectors while someone edits the working tree:
``git archive HEAD src | tar -x -C /tmp/head && PYTHONPATH=/tmp/head/src python -m ...``.

Writes the JSON (per fault type x magnitude precision/recall/F1, waste errors, false alarms
per building-month, runtime per meter-year, for each detector) and prints markdown tables.
"""

from __future__ import annotations

import benchmarks.one_blas_thread  # noqa: F401 - first: one BLAS thread before numpy loads

# isort: split

import argparse
import json
import multiprocessing as mp
import os
import platform
import statistics
import subprocess
import sys
import time
import traceback
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from benchmarks.diag import data as D
from benchmarks.diag import generic
from benchmarks.diag.faults import (
    CARRIERS,
    FAULT_TYPES,
    MAGNITUDES,
    NotInjectable,
    inject,
)
from benchmarks.diag.scoring import (
    MAPPED,
    Episode,
    aggregate,
    false_alarms,
    score_run,
)

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).with_name("results") / "diagnose.json"
DETECTORS = ("ours", "zscore", "isolation_forest")
SEED = 20240404
TARGET_F1 = 0.9
TARGET_WASTE = 0.20
TARGET_FA = 1.0
MIN_TARGET_MAG = 0.20

# --------------------------------------------------------------------------- worker side

_CACHE: dict = {}


def _my(key: str) -> D.MeterYear:
    if key not in _CACHE:
        b, f, y = key.split("-")
        _CACHE[key] = D.meter_year(b, f, int(y))
    return _CACHE[key]


def _iforest(my: D.MeterYear):
    k = ("if", my.key)
    if k not in _CACHE:
        t0 = time.perf_counter()
        model = generic.fit_isolation_forest(my.energy_kwh, my.temp_air_c, my.analysis_start)
        _CACHE[k] = (model, time.perf_counter() - t0)
    return _CACHE[k]


def _ours(my: D.MeterYear, energy, standin: bool) -> list[Episode]:
    series = my.series(energy)
    if standin:
        from benchmarks.diag.standin import detect
        findings = detect(series)
    else:
        from sobriete.analytics.diagnostics import diagnose_meter
        findings = diagnose_meter(series)
    return [Episode.from_finding(f) for f in findings]


def _run_detectors(my: D.MeterYear, energy, standin: bool) -> dict:
    out = {}
    for det in DETECTORS:
        t0 = time.perf_counter()
        err = None
        eps: list[Episode] = []
        extra = 0.0
        try:
            if det == "ours":
                eps = _ours(my, energy, standin)
            elif det == "zscore":
                eps = generic.zscore(energy, my.analysis_start, my.analysis_end)
            else:
                model, extra = _iforest(my)
                eps = generic.isolation_forest(model, energy, my.temp_air_c,
                                               my.analysis_start, my.analysis_end)
        except Exception as exc:  # a crash is a result, recorded with its reason
            err = f"{type(exc).__name__}: {exc}"
            err += "\n" + traceback.format_exc()[-1500:]  # innermost frames
        out[det] = {"episodes": [e.to_dict() for e in eps],
                    "seconds": time.perf_counter() - t0, "fit_seconds": extra, "error": err}
    return out


def run_task(key: str, fault_type: str | None, trials: int, magnitudes: tuple[float, ...],
             standin: bool) -> list[dict]:
    """All runs of one meter-year and one fault type (None: the clean run)."""
    my = _my(key)
    base = {"key": key, "building": my.building_code, "fuel": my.fuel, "year": my.year}
    if fault_type is None:
        return [{**base, "fault_type": None, "magnitude": None, "trial": None, "truth": None,
                 "detectors": _run_detectors(my, my.energy_kwh, standin)}]
    seed = (SEED, D.BUILDINGS.index(my.building_code), D.FUELS.index(my.fuel), my.year)
    runs = []
    for trial in range(trials):
        for m in magnitudes:
            rec = {**base, "fault_type": fault_type, "magnitude": m, "trial": trial}
            try:
                energy, truth = inject(my.context, my.fuel, fault_type, m, seed, trial)
            except NotInjectable as exc:
                runs.append({**rec, "truth": None, "not_injectable": str(exc)})
                continue
            runs.append({**rec, "truth": truth.to_dict(),
                         "detectors": _run_detectors(my, energy, standin)})
    return runs


def _init_worker() -> None:
    D._meters()


# --------------------------------------------------------------------------- plan and scoring


def plan(quick: bool) -> tuple[list[str], list[tuple[str, str | None]]]:
    if quick:
        years, buildings = (2017,), ("b4",)
    else:
        years, buildings = D.ANALYSIS_YEARS + (D.COVID_YEAR,), D.BUILDINGS
    keys = [f"{b}-{f}-{y}" for y in years for b in buildings for f in D.FUELS]
    tasks: list[tuple[str, str | None]] = [(k, None) for k in keys]
    for k in keys:
        my = D.meter_year(*k.split("-")[:2], int(k.split("-")[2]))
        if my.year == D.COVID_YEAR or not my.injectable:
            continue
        tasks += [(k, ft) for ft in FAULT_TYPES if my.fuel in CARRIERS[ft]]
    return keys, tasks


def _eps(rec: dict, det: str) -> list[Episode]:
    return [Episode(start=_ts(e["start"]), end=_ts(e["end"]), kind=e["kind"], kwh=e["kwh"],
                    score=e["score"], detector=e["detector"], has_waste=e["has_waste"])
            for e in rec["detectors"][det]["episodes"]]


def _ts(s: str):
    import pandas as pd

    return pd.Timestamp(s)


def _mag_key(m: float) -> str:
    return f"{round(100 * m)}%"


def summarise(runs: list[dict]) -> dict:
    clean = {r["key"]: r for r in runs if r["fault_type"] is None}
    injected = [r for r in runs if r["fault_type"] is not None and r.get("truth")]
    out: dict = {"scores": {}, "false_alarms": {}, "covid_2020": {}, "runtime": {},
                 "crashes": {}, "clean_findings": {}}
    per_run: dict = {}
    for det in DETECTORS:
        cells: dict = defaultdict(list)
        by_fuel: dict = defaultdict(list)
        for r in injected:
            kinds = MAPPED[r["fault_type"]] if det == "ours" else None
            c = clean.get(r["key"])
            clean_eps = _eps(c, det) if c else []
            s = score_run(r["truth"], _eps(r, det), clean_eps, kinds)
            cells[(r["fault_type"], r["magnitude"])].append(s)
            if r["magnitude"] >= MIN_TARGET_MAG:
                by_fuel[(r["fault_type"], r["fuel"])].append(s)
            row = per_run.setdefault((r["key"], r["fault_type"], r["magnitude"], r["trial"]), {
                "key": r["key"], "fault_type": r["fault_type"], "magnitude": r["magnitude"],
                "trial": r["trial"], "start_utc": r["truth"]["start_utc"],
                "end_utc": r["truth"]["end_utc"], "true_kwh": s["true_kwh"]})
            row[det] = {"detected": s["detected"], "est_kwh": s["est_kwh"], "fp": s["fp"],
                        "fp_new": s["fp_new"]}
            if det == "ours":
                row[det]["other_kinds_in_window"] = s["other_kinds_in_window"]
        table: dict = {}
        for ft in FAULT_TYPES:
            row = {}
            for m in MAGNITUDES:
                if (ft, m) in cells:
                    row[_mag_key(m)] = aggregate(cells[(ft, m)])
            pooled = [s for m in MAGNITUDES if m >= MIN_TARGET_MAG for s in cells.get((ft, m), [])]
            if pooled:
                row[">=20%"] = aggregate(pooled)
            if row:
                table[ft] = row
        out["scores"][det] = table
        out.setdefault("scores_by_fuel_ge_20pct", {})[det] = {
            f"{ft} {fuel}": aggregate(v) for (ft, fuel), v in sorted(by_fuel.items())}
        analysed = [c for c in clean.values() if c["year"] != D.COVID_YEAR]
        cr = [{"key": c["key"], "building": c["building"], "fuel": c["fuel"],
               "year": c["year"], "episodes": _eps(c, det)} for c in analysed]
        level = {k for k in clean if not D.meter_year(*k.split("-")[:2],
                                                       int(k.split("-")[2])).injectable}
        out["false_alarms"][det] = {
            "all_2016_2019": false_alarms(cr),
            "without_level_change": false_alarms([c for c in cr if c["key"] not in level]),
            "level_change_meter_years": sorted(level),
        }
        covid = [c for c in clean.values() if c["year"] == D.COVID_YEAR]
        out["covid_2020"][det] = {c["key"]: dict(Counter(e.kind or "alarm"
                                                         for e in _eps(c, det)))
                                  for c in covid}
        secs = [r["detectors"][det]["seconds"] for r in runs if "detectors" in r]
        fits = {r["key"]: r["detectors"][det]["fit_seconds"] for r in runs if "detectors" in r
                and r["detectors"][det]["fit_seconds"]}
        out["runtime"][det] = {
            "runs": len(secs),
            "seconds_per_meter_year_median": statistics.median(secs) if secs else None,
            "seconds_per_meter_year_mean": statistics.fmean(secs) if secs else None,
            "fit_seconds_per_meter_year_median": statistics.median(fits.values()) if fits
            else None,
        }
        errs = [(r["key"], r["fault_type"], r["magnitude"], r["detectors"][det]["error"])
                for r in runs if "detectors" in r and r["detectors"][det]["error"]]
        out["crashes"][det] = {"count": len(errs), "first": errs[:5],
                               "by_meter_year_and_fault": dict(Counter(
                                   f"{k} {ft or 'clean'}" for k, ft, _, _ in errs))}
    out["clean_findings"]["ours"] = [
        {"key": c["key"], **{k: v for k, v in e.to_dict().items() if k != "detector"},
         "detector": e.detector}
        for c in sorted(clean.values(), key=lambda c: c["key"]) for e in _eps(c, "ours")]
    out["per_run"] = list(per_run.values())
    out["not_injectable"] = sorted({(r["key"], r["fault_type"], r["trial"],
                                     r.get("not_injectable"))
                                    for r in runs if r["fault_type"] and not r.get("truth")})
    out["targets"] = targets(out)
    return out


def targets(out: dict) -> dict:
    res: dict = {}
    for det in DETECTORS:
        tab = out["scores"][det]
        f1 = {ft: row.get(">=20%", {}).get("f1") for ft, row in tab.items()}
        waste = {ft: row.get(">=20%", {}).get("waste_abs_rel_err_median")
                 for ft, row in tab.items()}
        fa = out["false_alarms"][det]["all_2016_2019"]["per_building_month"]
        res[det] = {
            "f1_ge_20pct": f1,
            "f1_met": {ft: (v is not None and v >= TARGET_F1) for ft, v in f1.items()},
            "waste_abs_rel_err_median_ge_20pct": waste,
            "waste_met": {ft: (v is not None and v <= TARGET_WASTE) for ft, v in waste.items()},
            "false_alarms_per_building_month": fa,
            "false_alarms_met": fa is not None and fa < TARGET_FA,
        }
    ours = res["ours"]
    better = {}
    for ft, v in ours["f1_ge_20pct"].items():
        gen = [res[g]["f1_ge_20pct"].get(ft) for g in ("zscore", "isolation_forest")]
        better[ft] = v is not None and all(g is None or v > g for g in gen)
    ours["better_f1_than_generic"] = better
    ours["fewer_false_alarms_than_generic"] = all(
        (ours["false_alarms_per_building_month"] or 0)
        < (res[g]["false_alarms_per_building_month"] or 0) for g in ("zscore",
                                                                    "isolation_forest"))
    return res


# --------------------------------------------------------------------------- printing


def _f(x, pct: bool = False) -> str:
    if x is None:
        return "-"
    return f"{100 * x:+.0f} %" if pct else f"{x:.2f}"


def _share(x) -> str:
    return "-" if x is None else f"{100 * x:.0f} %"


def print_tables(summary: dict) -> None:
    sc = summary["scores"]
    mags = [_mag_key(m) for m in MAGNITUDES] + [">=20%"]
    print("\n### Ours: detection and waste, per fault type and magnitude\n")
    print("| fault | size | faults | P | R | F1 | F1 new-only FP | waste err (median) | "
          "median abs err | within ±20 % | net waste err (median) | net within ±20 % |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for ft in FAULT_TYPES:
        for mk in mags:
            o = sc["ours"].get(ft, {}).get(mk)
            if o is None:
                continue
            size = f"**{mk}**" if mk == ">=20%" else mk
            print(f"| {ft} | {size} | {o['faults']} | {_f(o['precision'])} | "
                  f"{_f(o['recall'])} | {_f(o['f1'])} | {_f(o['f1_new'])} | "
                  f"{_f(o['waste_rel_err_median'], True)} | "
                  f"{_share(o['waste_abs_rel_err_median'])} | "
                  f"{_share(o['waste_within_20pct'])} | "
                  f"{_f(o['waste_net_rel_err_median'], True)} | "
                  f"{_share(o['waste_net_within_20pct'])} |")
    print("\n### Ours vs the generic detectors (P / R / F1; waste err = median relative error)\n")
    print("| fault | size | ours P/R/F1 | ours waste err | z-score P/R/F1 | z-score waste err | "
          "IForest P/R/F1 | IForest waste err |")
    print("| --- | --- | --- | ---: | --- | ---: | --- | ---: |")

    def prf_txt(c: dict) -> str:
        return "/".join(_f(c.get(k)) for k in ("precision", "recall", "f1"))

    for ft in FAULT_TYPES:
        for mk in mags:
            o = sc["ours"].get(ft, {}).get(mk)
            if o is None:
                continue
            z = sc["zscore"].get(ft, {}).get(mk, {})
            i = sc["isolation_forest"].get(ft, {}).get(mk, {})
            size = f"**{mk}**" if mk == ">=20%" else mk
            print(f"| {ft} | {size} | {prf_txt(o)} | {_f(o['waste_rel_err_median'], True)} | "
                  f"{prf_txt(z)} | {_f(z.get('waste_rel_err_median'), True)} | {prf_txt(i)} | "
                  f"{_f(i.get('waste_rel_err_median'), True)} |")
    print("\n### Per carrier, faults of 20 % and more (ours, then z-score and IForest F1)\n")
    print("| fault | carrier | faults | ours P | ours R | ours F1 | ours median abs waste err | "
          "z-score F1 | IForest F1 |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    bf = summary["scores_by_fuel_ge_20pct"]
    for key, o in bf["ours"].items():
        ft, fuel = key.split()
        print(f"| {ft} | {fuel} | {o['faults']} | {_f(o['precision'])} | {_f(o['recall'])} | "
              f"{_f(o['f1'])} | {_share(o['waste_abs_rel_err_median'])} | "
              f"{_f(bf['zscore'][key]['f1'])} | {_f(bf['isolation_forest'][key]['f1'])} |")
    print("\n### False alarms on the clean meter-years 2016-2019 (every finding / alarm episode)\n")
    print("| detector | episodes | per building-month | per meter-month | "
          "per building-month without level-change meter-years | by kind |")
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    for det in DETECTORS:
        fa = summary["false_alarms"][det]["all_2016_2019"]
        fw = summary["false_alarms"][det]["without_level_change"]
        kinds = ", ".join(f"{k} {v}" for k, v in fa["by_kind"].items())
        print(f"| {det} | {fa['episodes']} | {_f(fa['per_building_month'])} | "
              f"{_f(fa['per_meter_month'])} | {_f(fw['per_building_month'])} | {kinds} |")
    print("\n### 2020 (COVID closure from late March), clean run, findings by kind\n")
    for det in DETECTORS:
        print(f"- {det}: " + "; ".join(f"{k}: {dict(v) or 'none'}"
                                       for k, v in summary["covid_2020"][det].items()))
    print("\n### Runtime per meter-year (seconds, one process)\n")
    for det in DETECTORS:
        rt = summary["runtime"][det]
        fit = rt["fit_seconds_per_meter_year_median"]
        print(f"- {det}: median {_f(rt['seconds_per_meter_year_median'])} s, mean "
              f"{_f(rt['seconds_per_meter_year_mean'])} s over {rt['runs']} runs"
              + (f" (+ fit on the reference year once per meter-year, median {_f(fit)} s)"
                 if fit else ""))
        if summary["crashes"][det]["count"]:
            print(f"  crashes: {summary['crashes'][det]['count']}, first: "
                  f"{summary['crashes'][det]['first'][0][3].splitlines()[0]}")
    t = summary["targets"]
    print("\n### Targets (faults of 20 % and more, pooled)\n")
    print("| fault | ours F1 | F1 ≥ 0.9 | ours median abs waste err | ≤ 20 % | better F1 than "
          "both generic | z-score F1 | IForest F1 |")
    print("| --- | ---: | --- | ---: | --- | --- | ---: | ---: |")
    for ft in t["ours"]["f1_ge_20pct"]:
        o = t["ours"]
        print(f"| {ft} | {_f(o['f1_ge_20pct'][ft])} | {'yes' if o['f1_met'][ft] else 'no'} | "
              f"{_share(o['waste_abs_rel_err_median_ge_20pct'][ft])} | "
              f"{'yes' if o['waste_met'][ft] else 'no'} | "
              f"{'yes' if o['better_f1_than_generic'][ft] else 'no'} | "
              f"{_f(t['zscore']['f1_ge_20pct'].get(ft))} | "
              f"{_f(t['isolation_forest']['f1_ge_20pct'].get(ft))} |")
    o = t["ours"]
    print(f"\nFalse alarms per building-month: ours {_f(o['false_alarms_per_building_month'])} "
          f"(< {TARGET_FA}: {'yes' if o['false_alarms_met'] else 'no'}), z-score "
          f"{_f(t['zscore']['false_alarms_per_building_month'])}, IForest "
          f"{_f(t['isolation_forest']['false_alarms_per_building_month'])}")


# --------------------------------------------------------------------------- entry point


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def provenance(standin: bool) -> dict:
    import sobriete
    from sobriete.analytics.diagnostics import DETECTOR_VERSIONS, METER_DETECTORS

    diag = "src/sobriete/analytics/diagnostics"
    src = Path(sobriete.__file__).resolve().parents[1]
    here = src == ROOT / "src"
    return {
        "commit": _git("rev-parse", "--short", "HEAD"),
        "diagnostics_last_commit": _git("log", "-1", "--format=%h %s", "--", diag),
        # PYTHONPATH=<export of HEAD>/src runs the committed detectors while they are edited
        "sobriete_imported_from": "working tree" if here else str(src),
        "diagnostics_uncommitted_changes": (bool(_git("status", "--porcelain", "--", diag))
                                            if here else None),
        "meter_detectors": ["benchmark_standin"] if standin else list(METER_DETECTORS),
        "detector_versions": dict(DETECTOR_VERSIONS),
    }


def _round(x):
    return round(x, 4) if isinstance(x, float) else x


def _write(doc: dict, path: Path) -> None:
    """Indented JSON, with the per-run detail one compact line per run (kept readable in
    diffs, a fraction of the size)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [{k: ({kk: _round(vv) for kk, vv in v.items()} if isinstance(v, dict)
                 else _round(v)) for k, v in r.items()} for r in doc.get("per_run", [])]
    text = json.dumps({**doc, "per_run": "__PER_RUN__"}, indent=1, default=str)
    lines = ",\n  ".join(json.dumps(r, default=str, separators=(",", ":")) for r in rows)
    text = text.replace('"__PER_RUN__"', "[\n  " + lines + "\n ]" if rows else "[]")
    json.loads(text)  # still valid JSON
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(text)
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="b4, 2017, one trial")
    ap.add_argument("--trials", type=int, default=None, help="timings per fault (default 3; "
                    "quick 1)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--standin", action="store_true",
                    help="trivial stand-in instead of the product's detectors (harness check)")
    ap.add_argument("--out", type=Path, default=None,
                    help=f"JSON path (default {RESULTS.relative_to(ROOT)}; quick/standin runs: "
                    "diagnose_quick.json)")
    args = ap.parse_args(argv)
    trials = args.trials or (1 if args.quick else 3)
    out = args.out or (RESULTS.with_name("diagnose_quick.json") if args.quick or args.standin
                       else RESULTS)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    keys, tasks = plan(args.quick)
    t0 = time.perf_counter()
    runs: list[dict] = []
    ctx = mp.get_context("spawn")
    log(f"{len(keys)} meter-years, {len(tasks)} tasks, {trials} trial(s) x "
        f"{len(MAGNITUDES)} magnitudes, {args.workers} worker(s)")
    with ProcessPoolExecutor(args.workers, mp_context=ctx, initializer=_init_worker) as pool:
        # longest first: fault tasks hold trials x magnitudes runs, clean tasks one
        order = sorted(tasks, key=lambda t: t[1] is None)
        futs = {pool.submit(run_task, k, ft, trials, MAGNITUDES, args.standin): (k, ft)
                for k, ft in order}
        for n, f in enumerate(as_completed(futs), 1):
            runs += f.result()
            k, ft = futs[f]
            log(f"[{n}/{len(futs)}] {k} {ft or 'clean'} ({time.perf_counter() - t0:.0f} s)")
    wall = time.perf_counter() - t0
    summary = summarise(runs)
    doc = {
        "benchmark": "diagnose",
        "generated_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "python": platform.python_version(),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "wall_seconds": round(wall, 1), "workers": args.workers,
        "config": {"quick": args.quick, "trials": trials, "magnitudes": list(MAGNITUDES),
                   "seed": SEED, "meter_years": keys, "standin": args.standin,
                   "calendar": "weekdays 08:00-19:00 Europe/London (assumed); closures: English "
                   "bank holidays, Good Friday-Easter Monday, 24 Dec-1 Jan",
                   "mapped_kinds": {k: sorted(v) for k, v in MAPPED.items()}},
        "provenance": provenance(args.standin),
        "definitions": {
            "tp": "injected fault with >= 1 detection (ours: finding of a mapped kind; generic: "
                  "any alarm episode) overlapping the injected window",
            "fp": "mapped-kind finding / alarm episode of an injected run overlapping no "
                  "injected fault (real events of the meter-year included)",
            "fp_new": "fp minus those overlapping a mapped-kind episode of the clean run of the "
                      "same meter-year (already in the real data)",
            "waste_rel_err": "(sum waste.kwh_observed of the detections - injected kWh) / "
                             "injected kWh; generic: sum(load - trailing 168 h median)",
            "waste_net_rel_err": "same, minus the clean run's mapped-kind kWh overlapping the "
                                 "window",
            "false_alarms_per_building_month": "every finding (every kind) / alarm episode on "
                                               "the clean meter-years 2016-2019 of a building's "
                                               "meters / (building-years x 12)",
            "false_alarms_per_meter_month": "same / (meter-years x 12)",
            "runtime_per_meter_year": "one call on two years of hourly data (reference + "
                                      "analysed), one process, one BLAS thread",
        },
        **summary,
    }
    _write(doc, out)
    print_tables(summary)
    log(f"wrote {out} ({wall:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
