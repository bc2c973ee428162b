"""Service under load: ``python -m benchmarks.service [--pg] [--quick]``.

Builds the synthetic estate (``estate.py``) in a fresh database, runs `sobriete serve
--workers N` on it in a subprocess (``server.py``; N: one per core), logs the admin in for the
dashboard's session cookie, then drives each endpoint in turn with wrk (``wrk.py``) or, without
wrk, the Python load generator in its own process (``load.py``), /health first as the floor.
Writes ``benchmarks/results/service.json`` (full runs; ``--quick`` writes
into the work folder only) and prints the markdown table of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from benchmarks.service import estate as E
from benchmarks.service import report, wrk
from benchmarks.service.profile import profile_endpoints
from benchmarks.service.server import ROOT, database, serve

RESULTS = ROOT / "benchmarks" / "results" / "service.json"
SESSION_COOKIE = "sobriete_session"


def _args(argv):
    p = argparse.ArgumentParser(prog="python -m benchmarks.service", description=__doc__)
    p.add_argument("--pg", action="store_true", help="PostgreSQL (127.0.0.1:5432) instead "
                   "of SQLite; the database is created and dropped by the run")
    p.add_argument("--quick", action="store_true", help="500 buildings, 5 s per endpoint")
    p.add_argument("--buildings", type=int, default=None)
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                   help="`sobriete serve --workers` (default: one per core)")
    p.add_argument("--generator", choices=("auto", "wrk", "python"), default="auto",
                   help="load generator: wrk (C, light on the CPU the server shares) when "
                   "installed, else the Python one (load.py)")
    p.add_argument("--warmup", type=float, default=None, help="seconds per endpoint")
    p.add_argument("--duration", type=float, default=None, help="seconds per endpoint")
    p.add_argument("--profile", type=float, default=0.0, metavar="SECONDS",
                   help="after the measurement, this many seconds of load per endpoint with "
                   "py-spy attached to the server (pip install py-spy)")
    p.add_argument("--keep", action="store_true", help="leave the database and the estate "
                   "(estate.json, with its tokens) in the work folder for --reuse")
    p.add_argument("--reuse", action="store_true", help="measure on the estate a --keep run "
                   "left in --workdir (same --pg), without building it again")
    p.add_argument("--build-only", action="store_true", help="build the estate, measure "
                   "nothing (with --keep)")
    p.add_argument("--workdir", type=Path, default=None)
    p.add_argument("--out", type=Path, default=None, help="results JSON (default: "
                   "benchmarks/results/service.json, or the work folder with --quick)")
    return p.parse_args(argv)


def _endpoints(url: str, est: E.Estate) -> tuple[list[dict], dict[str, str], dict]:
    """What to load, what is missing (with why), and one checked answer per endpoint."""
    bearer = {k: {"Authorization": f"Bearer {v}"} for k, v in est.tokens.items()}
    r = httpx.post(f"{url}/api/v1/session", json={"login": est.logins["admin"],
                                                  "password": est.password}, timeout=30)
    r.raise_for_status()
    cookie = {"Cookie": f"{SESSION_COOKIE}={r.cookies[SESSION_COOKIE]}"}
    paths = set(httpx.get(f"{url}/openapi.json", timeout=30).json()["paths"])
    wanted = [
        ("health", "/health", {}, None),
        # the cost of a bearer token alone (the token's last use is written at each request)
        ("me_admin", "/api/v1/me", bearer["admin"], "/api/v1/me"),
        ("buildings_admin", "/api/v1/buildings?limit=50", bearer["admin"], "/api/v1/buildings"),
        ("buildings_commune", "/api/v1/buildings?limit=50", bearer["commune"],
         "/api/v1/buildings"),
        ("buildings_territory", "/api/v1/buildings?limit=50", bearer["territory"],
         "/api/v1/buildings"),
        ("buildings_by_commune", f"/api/v1/buildings?commune={est.commune}", bearer["admin"],
         "/api/v1/buildings"),
        ("findings_admin", "/api/v1/findings?limit=50", bearer["admin"], "/api/v1/findings"),
        ("findings_commune", "/api/v1/findings?limit=50", bearer["commune"],
         "/api/v1/findings"),
        ("actions_admin", "/api/v1/actions?limit=50", bearer["admin"], "/api/v1/actions"),
        ("communes_admin", "/api/v1/communes?limit=50", bearer["admin"], "/api/v1/communes"),
        ("dashboard_portfolio", "/", cookie, "page"),
        # the portfolio map's markers, which the page's script fetches (every visible one)
        ("dashboard_map", "/carte.json", cookie, "page"),
        ("dashboard_building", f"/batiments/{est.building}", cookie, "page"),
    ]
    found, missing, checks = [], {}, {}
    for name, path, headers, api_path in wanted:
        if api_path and api_path != "page" and api_path not in paths:
            missing[name] = f"{api_path} not in the OpenAPI document"
            continue
        r = httpx.get(f"{url}{path}", headers=headers, timeout=60)
        if r.status_code != 200:
            missing[name] = f"GET {path} answered {r.status_code}"
            continue
        check = {"status": r.status_code, "bytes": len(r.content)}
        if path.startswith("/api/v1/") and isinstance(r.json(), dict):
            check["total"] = r.json().get("total")
        checks[name] = check
        found.append({"name": name, "path": path, "headers": headers})
    return found, missing, checks


def _expected(est: E.Estate) -> dict[str, int]:
    return {"buildings_admin": est.n_buildings,
            "buildings_commune": est.counts["commune_buildings"],
            "buildings_territory": est.counts["territory_buildings"],
            "buildings_by_commune": est.counts["commune_buildings"]}


def main(argv: list[str] | None = None) -> dict:
    a = _args(argv)
    n = a.buildings or (500 if a.quick else 5000)
    warmup = a.warmup if a.warmup is not None else (2.0 if a.quick else 5.0)
    duration = a.duration if a.duration is not None else (5.0 if a.quick else 20.0)
    workdir = a.workdir or Path(tempfile.mkdtemp(prefix="sobriete-service-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    db_name = "postgresql" if a.pg else "sqlite"
    print(f"banc d'essai du service : {n} bâtiments, {db_name}, {a.clients} clients, "
          f"{warmup:g} s de chauffe + {duration:g} s par point d'accès ({workdir})")
    from sobriete.services.store import open_store

    saved = workdir / f"estate-{db_name}.json"
    with database(a.pg, workdir, keep=a.keep, reuse=a.reuse) as db_url:
        if a.reuse:
            doc = json.loads(saved.read_text(encoding="utf-8"))
            build_s = doc.pop("build_s")
            est = E.Estate(**doc)
            print(f"estate réutilisé : {saved} ({est.n_buildings} bâtiments)")
        else:
            t0 = time.perf_counter()
            store = open_store(db_url)
            est = E.build(store, n, workdir)
            store.engine.dispose()
            build_s = time.perf_counter() - t0
            if a.keep:
                saved.write_text(json.dumps({**est.to_json(), "build_s": build_s}),
                                 encoding="utf-8")
        if a.build_only:
            print(f"estate construit en {build_s:.0f} s : {saved}")
            return {}
        with serve(db_url, workdir, workers=a.workers) as (url, pid):
            endpoints, missing, checks = _endpoints(url, est)
            for name, want in _expected(est).items():
                if name in checks and checks[name].get("total") != want:
                    checks[name]["expected_total"] = want
                    print(f"  ATTENTION {name}: total {checks[name].get('total')} != {want}")
            spec = {"url": url, "server_pid": pid, "clients": a.clients, "warmup_s": warmup,
                    "duration_s": duration, "endpoints": endpoints}
            spec_path = workdir / "load-spec.json"
            spec_path.write_text(json.dumps(spec), encoding="utf-8")
            load = _load(a.generator, spec, spec_path)
            profiles = (profile_endpoints(spec, workdir, a.profile, ROOT) if a.profile > 0
                        else None)
    run = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python -m benchmarks.service",
                             *(sys.argv[1:] if argv is None else argv)]),
        "commit": _commit(),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "workers": a.workers, "database": db_name,
        "estate": {**{k: v for k, v in est.to_json().items()
                      if k not in ("tokens", "password")}, "build_s": round(build_s, 1)},
        "missing": missing, "checks": checks, "load": load,
    }
    if profiles is not None:
        run["profile"] = profiles
    out = a.out or (workdir / "service.json" if a.quick else RESULTS)
    report.merge(out, db_name + ("-quick" if a.quick else ""), run)
    print(report.table(run))
    print(f"résultats : {out}")
    return run


def _load(generator: str, spec: dict, spec_path: Path) -> dict:
    if generator == "wrk" or (generator == "auto" and wrk.wrk()):
        if not wrk.wrk():
            raise SystemExit("wrk is not installed: apt-get install wrk (or --generator python)")
        return wrk.run(spec)
    done = subprocess.run([sys.executable, "-m", "benchmarks.service.load", str(spec_path)],
                          cwd=ROOT, capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    sys.stderr.write(done.stderr)
    done.check_returncode()
    return {"generator": "python", **json.loads(done.stdout)}


def _commit() -> str | None:
    r = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                       text=True)
    return r.stdout.strip() or None


if __name__ == "__main__":
    main()
