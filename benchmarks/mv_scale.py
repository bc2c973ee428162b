"""Portfolio scale (issue 3): N meter-years of hourly data fitted by the portfolio runner.

    .venv-bench/bin/python -m benchmarks.mv --skip-peers --scale 10000 [--pilot 500]
    .venv/bin/python -m benchmarks.mv_scale --scale 1000      # product venv works too

Meters are generated from the 6 real Cambridge meters (electricity and gas): each synthetic
meter copies one source meter-year (random meter, random year 2015-2019), moved to the
baseline year 2019 by a whole number of weeks (days of week and hours of week kept; a random
extra shift of up to 4 weeks either way), scaled by a log-normal factor (sigma 0.5) and
multiplied hour by hour by 1 + N(0, 0.05) noise (clipped at 0). Each holds 8,784 hours
(2018-12-31 00:00 .. 2020-01-01 00:00 UTC, so the runner's default Europe/Paris baseline
window 2019-01-01 .. 2020-01-01 local is fully covered).

Steps, each timed apart:
1. store: a fresh SQLite file in /tmp, the Bedford weather imported with ``import_file``
   (weather-csv), the meters written with the product's bulk path ``write_readings`` (one
   import batch, one transaction per 200 meters);
2. fit: ``services.mv_run.fit_portfolio`` end to end with the default executor (process pool,
   ``os.cpu_count()`` = 2 workers here), frequency forced to ``hourly`` (the hourly model
   for every meter, gas included: the issue's "hourly data"; ``auto`` would fit gas daily);
3. profile (pilot only): cProfile of ``mv_run.fit_one`` (exactly what a worker runs) in this
   process over a sample of meters, split into store reads, model-input building and the fit
   itself, and of the parent during the pilot run (result writing).
The pilot (default 500 meter-years) is extrapolated linearly to 10,000.
"""

from __future__ import annotations

import benchmarks.one_blas_thread  # noqa: F401 - first: one BLAS thread before numpy loads

# isort: split

import argparse
import cProfile
import os
import pstats
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.peers.load_data import CAMBRIDGE_DIR, load_cambridge

TARGET_START = pd.Timestamp("2018-12-31", tz="UTC")
HOURS = 8784
BASELINE = (date(2019, 1, 1), date(2020, 1, 1))
SOURCE_YEARS = (2015, 2016, 2017, 2018, 2019)
METERS_PER_TX = 200
BEDFORD = {"time_column": "timestamp_utc", "timezone": "UTC", "station": "bedford",
           "columns": {"air_temperature_c": "temp_air_c"}}
TARGET_S = 300.0
TARGET_N = 10_000


def sources() -> tuple[list[str], np.ndarray, pd.DatetimeIndex]:
    meters = load_cambridge()
    index = meters[0].consumption_kwh.index
    data = np.vstack([m.consumption_kwh.reindex(index).to_numpy(float) for m in meters])
    return [m.name for m in meters], data, index


def generate(n: int, seed: int = 2019):
    """Yield (key, source, values[HOURS]) for n synthetic meter-years."""
    names, data, index = sources()
    rng = np.random.default_rng(seed)
    t0 = index[0]
    k0 = int((TARGET_START - t0) / pd.Timedelta(hours=1))
    w_lo, w_hi = -(k0 // 168), (data.shape[1] - HOURS - k0) // 168
    for i in range(n):
        j = int(rng.integers(len(names)))
        year = int(rng.choice(SOURCE_YEARS))
        # Whole weeks back to the source year (hour of week kept), plus up to 4 weeks either
        # way, kept inside the data.
        w = round((year - 2019) * 365.25 / 7) + int(rng.integers(-4, 5))
        k = k0 + 168 * min(max(w, w_lo), w_hi)
        x = data[j, k:k + HOURS]
        factor = float(rng.lognormal(0.0, 0.5))
        noise = np.clip(1.0 + rng.normal(0.0, 0.05, HOURS), 0.0, None)
        yield f"syn{i:05d}", f"{names[j]}@{index[k].date()}", x * factor * noise


def build_store(path: Path, n: int, log) -> dict:
    from sobriete.domain import columns as C
    from sobriete.services.imports import import_file
    from sobriete.services.store import open_store, write_readings
    from sobriete.services.store import schema as S

    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    out: dict = {"path": str(path), "n_meters": n}
    t0 = time.perf_counter()
    store = open_store(url)
    out["open_store_s"] = round(time.perf_counter() - t0, 2)
    t0 = time.perf_counter()
    import_file(store, CAMBRIDGE_DIR / "weather_bedford_hourly.csv.gz", "weather-csv", **BEDFORD)
    out["weather_import_s"] = round(time.perf_counter() - t0, 2)
    hours = pd.date_range(TARGET_START, periods=HOURS, freq="h")
    gen_s = write_s = 0.0
    rows = 0
    t_all = time.perf_counter()
    with store.engine.begin() as conn:
        batch = conn.execute(S.import_batch.insert().values(
            source="benchmarks.mv_scale (synthetic from Cambridge)", format="synthetic",
            started_at=datetime.now(UTC), status="running", rows_in=0,
        )).inserted_primary_key[0]
    it = generate(n)
    sources_used: dict[str, int] = {}
    for lo in range(0, n, METERS_PER_TX):
        t0 = time.perf_counter()
        parts = []
        for key, src, values in (next(it) for _ in range(min(METERS_PER_TX, n - lo))):
            ok = ~np.isnan(values)
            parts.append(pd.DataFrame({C.SERIES_KEY: key, C.QUANTITY: "energy_kwh",
                                       C.START_UTC: hours[ok], C.DURATION_S: 3600,
                                       C.VALUE: values[ok]}))
            meter = src.split("@")[0]
            sources_used[meter] = sources_used.get(meter, 0) + 1
        frame = pd.concat(parts, ignore_index=True)
        t1 = time.perf_counter()
        with store.engine.begin() as conn:
            counts = write_readings(conn, frame, batch)
        t2 = time.perf_counter()
        gen_s += t1 - t0
        write_s += t2 - t1
        rows += counts.rows_new
        if (lo // METERS_PER_TX) % 10 == 0:
            log(f"[store] {lo + len(parts)}/{n} meters, {rows / 1e6:.1f} M rows, "
                f"write {write_s:.0f} s")
    with store.engine.begin() as conn:
        conn.execute(S.import_batch.update().where(S.import_batch.c.id == batch).values(
            finished_at=datetime.now(UTC), status="ok", rows_in=rows, rows_new=rows))
    out.update(rows=rows, generate_s=round(gen_s, 1), write_readings_s=round(write_s, 1),
               rows_per_s_write=round(rows / write_s) if write_s else None,
               total_store_s=round(time.perf_counter() - t_all, 1),
               db_mb=round(path.stat().st_size / 1e6), sources=sources_used)
    store.engine.dispose()
    return out


def fit(path: Path, log, profile_parent: bool = False) -> dict:
    from sobriete.services.mv_run import FitSettings, fit_portfolio
    from sobriete.services.store import open_store

    store = open_store(f"sqlite:///{path}", migrate=False)
    settings = FitSettings(*BASELINE, frequency="hourly")
    marks: list[tuple[float, int]] = []
    t0 = time.perf_counter()

    def progress(done: int, total: int) -> None:
        marks.append((time.perf_counter() - t0, done))
        if done % 500 == 0 or done == total:
            log(f"[fit] {done}/{total} in {time.perf_counter() - t0:.0f} s")

    prof = cProfile.Profile() if profile_parent else None
    if prof:
        prof.enable()
    summary = fit_portfolio(store, settings, weather="bedford", progress=progress)
    if prof:
        prof.disable()
    wall = time.perf_counter() - t0
    out = {"n_tasks": summary.n_tasks, "n_done": summary.n_done, "n_failed": summary.n_failed,
           "seconds": round(wall, 1), "runner_seconds": round(summary.seconds, 1),
           "meters_per_s": round(summary.n_tasks / wall, 2),
           "workers": os.cpu_count(), "executor": "default (ProcessExecutor, os.cpu_count())",
           "frequency": "hourly"}
    # steady-state rate: between 10 % and 90 % of the meters done
    if len(marks) > 10:
        lo = next(t for t, d in marks if d >= 0.1 * summary.n_tasks)
        hi = next(t for t, d in marks if d >= 0.9 * summary.n_tasks)
        out["steady_meters_per_s"] = round(0.8 * summary.n_tasks / (hi - lo), 2)
        out["startup_s"] = round(marks[1][0], 2) if len(marks) > 1 else None
    with store.engine.connect() as conn:
        errors = conn.exec_driver_sql(
            f"SELECT error, COUNT(*) FROM baseline_fit WHERE run_id = {summary.run_id} "
            "AND status = 'failed' GROUP BY error LIMIT 5").all()
        out["failures"] = [{"error": e, "n": k} for e, k in errors]
        out["disqualified"] = conn.exec_driver_sql(
            f"SELECT COUNT(*) FROM baseline_fit WHERE run_id = {summary.run_id} "
            "AND disqualified = 1").scalar_one()
    if prof:
        out["parent_profile"] = _groups(prof, PARENT_GROUPS, summary.n_tasks)
    store.engine.dispose()
    return out


WORKER_GROUPS = {
    "fit_one (total)": "mv_run.py:fit_one",
    "load_frames (reads + input)": "mv_inputs.py:load_frames",
    "read_series (meter + weather)": "readings.py:read_series",
    "hourly_input (model frame)": "data.py:hourly_input",
    "  hourly_energy": "data.py:hourly_energy",
    "  hourly_temperature": "data.py:hourly_temperature",
    "  occupied (calendar)": "calendar.py:occupied",
    "  day_types (calendar)": "calendar.py:day_types",
    "HourlyModel.fit": "hourly.py:fit",
    "model.to_json + FitResult.to_json": "hourly.py:to_json|base.py:to_json",
    "OccupancyCalendar.model_validate_json": "main.py:model_validate_json",
}
PARENT_GROUPS = {
    "fit_portfolio (total, parent)": "mv_run.py:fit_portfolio",
    "_save_fit (parent writes, one tx per meter)": "mv_run.py:_save_fit",
    "meter_refs": "mv_inputs.py:meter_refs",
    "waiting for workers": "threading.py:wait",
}


def _groups(prof: cProfile.Profile, groups: dict[str, str], n: int) -> dict:
    st = pstats.Stats(prof)
    cum: dict[str, float] = {}
    for (fname, _line, func), (_cc, _nc, _tt, ct, _callers) in st.stats.items():
        cum[f"{Path(fname).name}:{func}"] = cum.get(f"{Path(fname).name}:{func}", 0.0) + ct
    out = {}
    for label, spec in groups.items():
        total = sum(cum.get(k, 0.0) for k in spec.split("|"))
        out[label] = {"total_s": round(total, 3), "ms_per_meter": round(1000 * total / n, 2)}
    return out


def _decompose(url: str, ref, settings) -> dict[str, float]:
    """The input steps of ``mv_run.fit_one`` -> ``mv_inputs.load_frames`` ->
    ``data.hourly_input`` for one meter, replayed with the same product functions and timed
    apart (plain clocks: cProfile inflates the per-element Python calls of pandas). The model
    fit is not replayed: right after fit_one its time here came out 4x the model's own clock
    (allocator/GC state), so profile_workers takes the fit from fit_one's own result."""
    from sobriete.analytics.calendar import day_types, occupied
    from sobriete.analytics.mv.data import hourly_energy, hourly_temperature
    from sobriete.domain.portfolio import OccupancyCalendar
    from sobriete.services.mv_run import _worker_store
    from sobriete.services.store.readings import read_series

    tm: dict[str, float] = {}

    def lap(name: str, t0: float) -> float:
        t1 = time.perf_counter()
        tm[name] = tm.get(name, 0.0) + (t1 - t0)
        return t1

    t = time.perf_counter()
    cal = OccupancyCalendar.model_validate_json(ref.calendar_json)
    lo = pd.Timestamp(settings.baseline_start, tz=cal.timezone).tz_convert("UTC")
    hi = pd.Timestamp(settings.baseline_end, tz=cal.timezone).tz_convert("UTC")
    t = lap("calendar JSON + window", t)
    with _worker_store(url).engine.connect() as conn:
        t = lap("store connect", t)
        readings = read_series(conn, ref.key, ref.quantity, lo, hi)
        t = lap("read_series meter (8,784 rows)", t)
        pad = pd.Timedelta(hours=12)
        w = read_series(conn, ref.weather_key, "temp_air_c", lo - pad, hi + pad)
        weather = w.set_index("start_utc")[["value"]].rename(columns={"value": "temp_air_c"})
        t = lap("read_series weather (same rows for every meter)", t)
    frame = hourly_energy(readings).to_frame()
    t = lap("hourly_energy", t)
    frame["temp_air_c"] = hourly_temperature(weather, frame.index)
    t = lap("hourly_temperature", t)
    local = frame.index.tz_convert(cal.timezone)
    frame["local_hour"] = local.hour
    frame["local_dow"] = local.day_of_week
    frame["local_date"] = local.tz_localize(None).normalize()
    t = lap("local calendar columns", t)
    occ, _ = occupied(cal, frame.index, None)
    frame["occupied"] = occ
    t = lap("occupied (calendar)", t)
    types = day_types(cal, frame.local_date.min().date(), frame.local_date.max().date(), None)
    frame["day_type"] = types.day_type.reindex(frame.local_date.dt.date).to_numpy()
    t = lap("day_types + per-hour reindex", t)
    frame = frame[(frame.index >= lo) & (frame.index < hi)]
    lap("window slice", t)
    return tm


def profile_workers(path: Path, n: int) -> dict:
    """What a worker spends per meter: ``fit_one`` timed whole with the model's own fit clock
    (``FitResult.fit_seconds``), then its input steps replayed on the same meter and timed
    apart (medians over n meters, one process, no pool), plus a cProfile top list."""
    import json

    from sobriete.services import mv_run
    from sobriete.services.mv_inputs import meter_refs
    from sobriete.services.store import open_store

    store = open_store(f"sqlite:///{path}", migrate=False)
    url = store.engine.url.render_as_string(hide_password=False)
    with store.engine.connect() as conn:
        refs = meter_refs(conn, "bedford")[:n + 1]
    settings = mv_run.FitSettings(*BASELINE, frequency="hourly")
    mv_run.fit_one(url, settings, refs[0])  # warm-up (imports, first calls)
    _decompose(url, refs[0], settings)
    whole, replay, model_fit = [], [], []
    parts: dict[str, list[float]] = {}
    for ref in refs[1:]:  # interleaved, same meter: machine noise hits both alike
        t0 = time.perf_counter()
        res = mv_run.fit_one(url, settings, ref)
        whole.append(time.perf_counter() - t0)
        # the model's own clock, inside fit_one (FitResult.fit_seconds)
        model_fit.append(json.loads(res["result_json"])["fit_seconds"])
        tm = _decompose(url, ref, settings)
        replay.append(sum(tm.values()))
        for k, v in tm.items():
            parts.setdefault(k, []).append(v)
    prof = cProfile.Profile()
    prof.enable()
    for ref in refs[1:]:
        mv_run.fit_one(url, settings, ref)
    prof.disable()
    st = pstats.Stats(prof)
    top = []
    for (fname, line, func), (_cc, _nc, tt, ct, _c) in sorted(
            st.stats.items(), key=lambda kv: -kv[1][2])[:12]:
        top.append({"function": f"{Path(fname).name}:{line}:{func}",
                    "self_ms_per_meter": round(1000 * tt / (len(refs) - 1), 2),
                    "cum_ms_per_meter": round(1000 * ct / (len(refs) - 1), 2)})
    store.engine.dispose()
    med = {k: round(1000 * float(np.median(v)), 2) for k, v in parts.items()}
    mean = {k: round(1000 * float(np.mean(v)), 2) for k, v in parts.items()}
    return {"n_meters": len(refs) - 1,
            "fit_one_ms_median": round(1000 * float(np.median(whole)), 1),
            "fit_one_ms_mean": round(1000 * float(np.mean(whole)), 1),
            "model_fit_ms_median": round(1000 * float(np.median(model_fit)), 1),
            "model_fit_ms_mean": round(1000 * float(np.mean(model_fit)), 1),
            "replay_ms_median": round(1000 * float(np.median(replay)), 1),
            "parts_ms_median": med, "parts_ms_mean": mean,
            "parts_ms_sum_of_medians": round(sum(med.values()), 1),
            "cprofile_top_self_time": top,
            "note": "one process, no pool, machine shared; cProfile inflates pandas' "
                    "per-element Python calls (DatetimeArray.__iter__): use the plain parts"}


def run(n: int, pilot: int = 500, log=print, keep: bool = False) -> dict:
    out: dict = {"target": {"meter_years": TARGET_N, "seconds": TARGET_S},
                 "loadavg_start": os.getloadavg()}
    if pilot and pilot < n:
        p = Path(f"/tmp/sobriete_mv_scale_{pilot}.sqlite")
        out["pilot"] = {"store": build_store(p, pilot, log)}
        out["pilot"]["fit"] = fit(p, log, profile_parent=True)
        out["pilot"]["profile_worker"] = profile_workers(p, 60)
        f = out["pilot"]["fit"]
        out["pilot"]["extrapolated_10000_s"] = round(f["seconds"] / pilot * TARGET_N, 0)
        if f.get("steady_meters_per_s"):
            out["pilot"]["extrapolated_10000_steady_s"] = round(
                TARGET_N / f["steady_meters_per_s"], 0)
        if not keep:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{p}{suffix}").unlink(missing_ok=True)
    path = Path(f"/tmp/sobriete_mv_scale_{n}.sqlite")
    out["main"] = {"store": build_store(path, n, log)}
    out["main"]["fit"] = fit(path, log)
    if pilot >= n:
        out["main"]["profile_worker"] = profile_workers(path, min(60, n))
    f = out["main"]["fit"]
    out["main"]["extrapolated_10000_s"] = round(f["seconds"] / n * TARGET_N, 0)
    out["loadavg_end"] = os.getloadavg()
    if n >= TARGET_N:
        out["target_met"] = f["seconds"] < TARGET_S and f["n_failed"] == 0
        out["target_line"] = f"{n} meter-years in {f['seconds']:.0f} s (measured)"
    else:
        est = out["main"]["extrapolated_10000_s"]
        out["target_met"] = f"not run at 10,000; extrapolated {est:.0f} s" + (
            " (would meet)" if est < TARGET_S else " (would miss)")
        out["target_line"] = f"{n} in {f['seconds']:.0f} s -> 10,000 in ~{est:.0f} s"
    if not keep:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    return out


def print_tables(s: dict) -> None:
    print("\n### Scale: portfolio runner (fit_portfolio, default process pool, hourly)\n")
    print("| run | meter-years | rows stored | store s (write_readings) | rows/s | fit s | "
          "meters/s | steady meters/s | failed | disqualified | -> 10,000 s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in s.items():
        if not isinstance(r, dict) or "store" not in r or "fit" not in r:
            continue
        st, f = r["store"], r["fit"]
        ext = r.get("extrapolated_10000_s")
        print(f"| {name} | {st['n_meters']} | {st['rows']:,} | {st['total_store_s']} "
              f"({st['write_readings_s']}) | {st['rows_per_s_write']:,} | {f['seconds']} | "
              f"{f['meters_per_s']} | {f.get('steady_meters_per_s', '-')} | {f['n_failed']} | "
              f"{f['disqualified']} | {ext:.0f} |")
    prof = next((r["profile_worker"] for r in s.values()
                 if isinstance(r, dict) and r.get("profile_worker")), None)
    if prof:
        print(f"\nWorker cost per meter-year (one process, {prof['n_meters']} meters): fit_one "
              f"median {prof['fit_one_ms_median']} ms (mean {prof['fit_one_ms_mean']}), of which "
              f"HourlyModel.fit {prof.get('model_fit_ms_median', '-')} ms (its own clock); "
              f"the input steps replayed right after on the same meter, timed apart (replay "
              f"median {prof.get('replay_ms_median', '-')} ms):\n")
        print("| step | median ms per meter | mean ms |")
        print("|---|---:|---:|")
        means = prof.get("parts_ms_mean", {})
        for label, v in prof["parts_ms_median"].items():
            print(f"| {label} | {v} | {means.get(label, '-')} |")
    pp = (s.get("pilot") or {}).get("fit", {}).get("parent_profile")
    if pp:
        print("\nParent profile (pilot run):\n")
        print("| part | total s | ms per meter |")
        print("|---|---:|---:|")
        for label, v in pp.items():
            print(f"| {label} | {v['total_s']} | {v['ms_per_meter']} |")


def main(argv: list[str] | None = None) -> int:
    import json

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=int, default=1000)
    ap.add_argument("--pilot", type=int, default=0)
    ap.add_argument("--keep", action="store_true", help="keep the SQLite files in /tmp")
    ap.add_argument("--out", type=Path, help="write the result JSON here")
    args = ap.parse_args(argv)
    s = run(args.scale, args.pilot, log=lambda m: print(m, file=sys.stderr, flush=True),
            keep=args.keep)
    print_tables(s)
    if args.out:
        args.out.write_text(json.dumps(s, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
