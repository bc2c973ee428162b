"""The load of the service benchmark driven by wrk (Debian package ``wrk``), when installed.

wrk is written in C: 50 keep-alive connections cost it a few percent of a core, where the
Python generator (``load.py``) took up to half a core of the two this machine has, from the
server. Each connection is a closed-loop client (a new request as soon as the answer is
read), like ``load.py``'s. A Lua ``done`` hook prints the counts and latency percentiles
(microseconds, from wrk's own histogram) as one JSON line.

Same SPEC and same output fields as ``load.py``, plus ``"generator": "wrk"``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import psutil

from benchmarks.service.load import cpu_s, rss_mb

DONE = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\n{"requests": %d, "duration_us": %d, "bytes": %d, "connect": %d, "read": %d, ' ..
    '"write": %d, "status": %d, "timeout": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, ' ..
    '"max_us": %d}\n', summary.requests, summary.duration, summary.bytes, e.connect, e.read,
    e.write, e.status, e.timeout, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max))
end
"""


def wrk() -> str | None:
    return shutil.which("wrk")


def _run(url: str, ep: dict, connections: int, seconds: float, script: Path) -> dict:
    headers = [x for k, v in ep.get("headers", {}).items() for x in ("-H", f"{k}: {v}")]
    threads = min(2, connections)
    cmd = [wrk(), f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s",
           "--timeout", "120s", "-s", str(script), *headers, url + ep["path"]]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def _ms(us: int) -> float:
    return round(us / 1000.0, 1)


def run(spec: dict) -> dict:
    server = psutil.Process(spec["server_pid"])
    # the supervisor and its workers (uvicorn workers are its children)
    procs = [server, *server.children(recursive=True)]
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "done.lua"
        script.write_text(DONE, encoding="utf-8")
        for ep in spec["endpoints"]:
            rss_before = rss_mb(procs)
            if spec["warmup_s"] > 0:
                _run(spec["url"], ep, spec["clients"], spec["warmup_s"], script)
            alone = _run(spec["url"], ep, 1, spec.get("single_s", 3.0), script)
            cpu0 = cpu_s(procs)
            m = _run(spec["url"], ep, spec["clients"], spec["duration_s"], script)
            wall = m["duration_us"] / 1e6
            errors = sum(m[k] for k in ("connect", "read", "write", "status", "timeout"))
            out.append({
                "name": ep["name"], "path": ep["path"], "requests": m["requests"],
                "wall_s": round(wall, 1), "throughput_rps": round(m["requests"] / wall, 1),
                "p50_ms": _ms(m["p50_us"]), "p95_ms": _ms(m["p95_us"]),
                "p99_ms": _ms(m["p99_us"]), "max_ms": _ms(m["max_us"]),
                "p50_ms_1_client": _ms(alone["p50_us"]), "errors": errors,
                "error_kinds": {k: m[k] for k in ("connect", "read", "write", "status",
                                                  "timeout") if m[k]},
                "response_bytes": round(m["bytes"] / m["requests"]) if m["requests"] else None,
                "server_rss_mb_before": rss_before, "server_rss_mb_after": rss_mb(procs),
                # CPU seconds per wall second of every server process: 2.0 is both cores
                "server_cpu_per_s": round((cpu_s(procs) - cpu0) / wall, 2),
            })
            print(f"  {ep['name']}: {out[-1]['throughput_rps']} req/s, p50 "
                  f"{out[-1]['p50_ms']} p99 {out[-1]['p99_ms']} ms, errors {errors}",
                  file=sys.stderr, flush=True)
    return {"generator": "wrk", "clients": spec["clients"], "warmup_s": spec["warmup_s"],
            "duration_s": spec["duration_s"], "endpoints": out}
