"""Where the server's time goes under load, per endpoint: py-spy samples every thread of the
running `sobriete serve` process while the load generator drives that endpoint alone.

The endpoints of FastAPI that are plain functions run in worker threads, which an in-process
profiler that follows one thread (pyinstrument, cProfile) does not see; a sampling profiler
attached to the process does. py-spy is not a product dependency: ``.venv/bin/pip install
py-spy``. Writes ``profile-<name>.txt`` (collapsed stacks) into the work folder and returns,
per endpoint, the heaviest leaf frames (self time) and the heaviest frames of our own code
(inclusive time), as shares of the samples of threads inside a request of ours. Wall-clock
samples (``--idle``): a thread waiting for a database lock or for the GIL counts, which is
the point when the server's CPU is low and its latency high; threads waiting for work do
not.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

FRAME = re.compile(r"^(?P<fn>.+?) \((?P<file>[^:()]+):(?P<line>\d+)\)$")


def py_spy() -> str | None:
    exe = Path(sys.executable).with_name("py-spy")
    return str(exe) if exe.exists() else shutil.which("py-spy")


def _name(frame: str, line: bool) -> str:
    m = FRAME.match(frame)
    if not m:
        return frame
    f = m["file"]
    short = f.split("site-packages/")[-1] if "site-packages/" in f else f.split("src/")[-1]
    return f"{m['fn']} ({short}{':' + m['line'] if line else ''})"


def summarise(raw: Path, n: int = 8) -> dict:
    """Self time of leaf frames, inclusive time of ``sobriete`` frames (once per stack)."""
    leaf: Counter[str] = Counter()
    ours: Counter[str] = Counter()
    total = 0
    for row in raw.read_text(encoding="utf-8").splitlines():
        stack, _, count = row.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        if not any("sobriete/" in f and "/cli/" not in f for f in frames):
            continue  # the event loop waiting for sockets, worker threads waiting for work
        c = int(count)
        total += c
        leaf[_name(frames[-1], True)] += c
        for fr in {_name(f, False) for f in frames if "sobriete/" in f and "/cli/" not in f}:
            ours[fr] += c
    pct = (lambda v: round(100 * v / total, 1)) if total else (lambda v: None)
    return {"samples": total,
            "self": [{"frame": k, "pct": pct(v)} for k, v in leaf.most_common(n)],
            "ours_inclusive": [{"frame": k, "pct": pct(v)} for k, v in ours.most_common(n)]}


def profile_endpoints(spec: dict, workdir: Path, seconds: float, root: Path) -> dict[str, dict]:
    """For each endpoint of ``spec`` (the load generator's), ``seconds`` of load with py-spy
    attached to ``spec['server_pid']``."""
    exe = py_spy()
    if exe is None:
        return {"error": "py-spy not installed (.venv/bin/pip install py-spy)"}
    out: dict[str, dict] = {}
    for ep in spec["endpoints"]:
        one = dict(spec, endpoints=[ep], warmup_s=1.0, duration_s=seconds)
        spec_path = workdir / f"profile-spec-{ep['name']}.json"
        spec_path.write_text(json.dumps(one), encoding="utf-8")
        raw = workdir / f"profile-{ep['name']}.txt"
        spy = subprocess.Popen([exe, "record", "-p", str(spec["server_pid"]), "-r", "100",
                                "-d", str(int(seconds + 2)), "--format", "raw", "-o", str(raw),
                                "--idle"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        subprocess.run([sys.executable, "-m", "benchmarks.service.load", str(spec_path)],
                       cwd=root, capture_output=True, text=True,
                       env=dict(os.environ, PYTHONPATH=str(root)), check=True)
        spy.wait(timeout=seconds + 60)
        out[ep["name"]] = summarise(raw) if raw.exists() else {"error": "no py-spy output"}
    return out
