"""`make bench`: every benchmark, one after the other; results land in benchmarks/results/.

The M&V benchmark compares with OpenDSM, which lives in its own venv (.venv-bench, pandas<3;
never a product dependency): it runs there, in a subprocess, after the venv is built by
benchmarks/peers/setup_bench_env.sh when missing. Environment knobs:
  SOBRIETE_BENCH_MV=skip          leave the M&V benchmark out
  SOBRIETE_BENCH_MV_ARGS="..."    arguments for `python -m benchmarks.mv` (e.g. "--scale 10000")
  SOBRIETE_BENCH_DIAG=skip        leave the diagnostics benchmark out (issue 4; scikit-learn
                                  from the bench extra, in this venv)
  SOBRIETE_BENCH_DIAG_ARGS="..."  arguments for `python -m benchmarks.diagnose` (e.g. "--quick")
  SOBRIETE_BENCH_CONTROL=skip     leave the heating-control benchmark out (issue 5; EnergyPlus
                                  from pyenergyplus-lbnl, bench extra, in this venv)
  SOBRIETE_BENCH_CONTROL_ARGS=".." arguments for `python -m benchmarks.control` (e.g. "--quick")
  SOBRIETE_BENCH_SERVICE=skip     leave the service load benchmark out (issue 6; `sobriete
                                  serve` on 5,000 buildings under 50 clients, SQLite then
                                  PostgreSQL)
  SOBRIETE_BENCH_SERVICE_ARGS=".." arguments for `python -m benchmarks.service` (e.g. "--quick")
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

from benchmarks import ingest

ROOT = Path(__file__).resolve().parents[1]
BENCH_PY = ROOT / ".venv-bench" / "bin" / "python"
SETUP = ROOT / "benchmarks" / "peers" / "setup_bench_env.sh"


def mv(args: list[str]) -> int:
    if not BENCH_PY.exists():
        subprocess.run(["bash", str(SETUP)], cwd=ROOT, check=True)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return subprocess.run([str(BENCH_PY), "-m", "benchmarks.mv", *args], cwd=ROOT,
                          env=env).returncode


def main() -> None:
    ingest.main([])
    if os.environ.get("SOBRIETE_BENCH_DIAG", "").lower() != "skip":
        from benchmarks import diagnose  # sets one BLAS thread for its workers

        diagnose.main(shlex.split(os.environ.get("SOBRIETE_BENCH_DIAG_ARGS", "")))
    if os.environ.get("SOBRIETE_BENCH_CONTROL", "").lower() != "skip":
        from benchmarks.control.bench import main as control

        control(shlex.split(os.environ.get("SOBRIETE_BENCH_CONTROL_ARGS", "")))
    if os.environ.get("SOBRIETE_BENCH_SERVICE", "").lower() != "skip":
        from benchmarks.service.__main__ import main as service

        args = shlex.split(os.environ.get("SOBRIETE_BENCH_SERVICE_ARGS", ""))
        service(args)
        service([*args, "--pg"])
    if os.environ.get("SOBRIETE_BENCH_MV", "").lower() != "skip":
        rc = mv(shlex.split(os.environ.get("SOBRIETE_BENCH_MV_ARGS", "")))
        if rc:
            sys.exit(rc)


if __name__ == "__main__":
    main()
