"""Load generator of the service benchmark, run as its own process so that its CPU is not the
server's: ``python -m benchmarks.service.load SPEC.json`` prints one JSON document.

SPEC: ``{"url", "server_pid", "clients", "warmup_s", "duration_s", "endpoints": [{"name",
"path", "headers"}]}``. For each endpoint in turn, ``clients`` closed-loop clients (each its
own connection, a new request as soon as the previous answer is read) start requests for
``warmup_s`` (discarded), then one client alone for ``single_s`` (3 s: the latency without
queueing), then all of them for ``duration_s`` (measured; the requests still running at the
end are waited for and counted, so the wall time can exceed it). A latency is the time from
sending the request to having read the whole body. Errors are transport failures and any
status other than 2xx (a page that redirects to the login form is not the page).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

import httpx
import numpy as np
import psutil


async def _client(client: httpx.AsyncClient, path: str, headers: dict, stop_at: float,
                  lat: list[float], statuses: dict, sizes: list[int]) -> None:
    while time.perf_counter() < stop_at:
        t0 = time.perf_counter()
        try:
            r = await client.get(path, headers=headers)
            body = r.content
            code = str(r.status_code)
        except httpx.HTTPError as exc:
            body, code = b"", type(exc).__name__
        lat.append(time.perf_counter() - t0)
        statuses[code] = statuses.get(code, 0) + 1
        if not sizes:
            sizes.append(len(body))


async def _phase(clients: list[httpx.AsyncClient], ep: dict, seconds: float) -> dict:
    """Clients start requests for ``seconds``; every request started is waited for and
    counted, so slow answers are not cut off by the end of the window."""
    lat: list[float] = []
    statuses: dict[str, int] = {}
    sizes: list[int] = []
    started = time.perf_counter()
    await asyncio.gather(*(_client(c, ep["path"], ep.get("headers", {}), started + seconds,
                                   lat, statuses, sizes) for c in clients))
    wall = time.perf_counter() - started
    return {"lat": lat, "statuses": statuses, "wall_s": wall,
            "bytes": sizes[0] if sizes else None}


def rss_mb(procs: list[psutil.Process]) -> float | None:
    """The server's resident memory: the supervisor and its workers."""
    return round(sum(p.memory_info().rss for p in procs) / 2**20, 1) if procs else None


def cpu_s(procs: list[psutil.Process]) -> float:
    return sum(sum(p.cpu_times()[:2]) for p in procs)


async def run(spec: dict) -> dict:
    server = psutil.Process(spec["server_pid"]) if spec.get("server_pid") else None
    procs = [] if server is None else [server, *server.children(recursive=True)]
    me = psutil.Process()
    out = []
    # Clients are made once, before any timing: an httpx client builds a TLS context when
    # created (tens of ms of CPU), which is the generator's cost, not the server's.
    clients = [httpx.AsyncClient(base_url=spec["url"], timeout=120.0,
                                 limits=httpx.Limits(max_connections=1))
               for _ in range(spec["clients"])]
    for ep in spec["endpoints"]:
        rss_before = rss_mb(procs)
        if spec["warmup_s"] > 0:
            await _phase(clients, ep, spec["warmup_s"])
        # One client alone first: the time a request takes without queueing behind others.
        alone = np.array((await _phase(clients[:1], ep, spec.get("single_s", 3.0)))["lat"])
        cpu0 = cpu_s(procs)
        own0 = me.cpu_times()
        m = await _phase(clients, ep, spec["duration_s"])
        lat = np.array(m["lat"]) * 1000.0
        errors = sum(v for k, v in m["statuses"].items() if not k.startswith("2"))
        server_cpu = (cpu_s(procs) - cpu0) if procs else None
        own_cpu = sum(me.cpu_times()[:2]) - sum(own0[:2])
        out.append({
            "name": ep["name"], "path": ep["path"], "requests": len(lat),
            "wall_s": round(m["wall_s"], 1),
            "throughput_rps": round(len(lat) / m["wall_s"], 1),
            "p50_ms": _pct(lat, 50), "p95_ms": _pct(lat, 95), "p99_ms": _pct(lat, 99),
            "max_ms": round(float(lat.max()), 1) if len(lat) else None,
            "p50_ms_1_client": _pct(alone * 1000.0, 50),
            "errors": errors, "statuses": m["statuses"], "response_bytes": m["bytes"],
            "server_rss_mb_before": rss_before, "server_rss_mb_after": rss_mb(procs),
            # CPU seconds per wall second of the server's processes (2.0: both cores);
            # the client's own share says how much of the 2 cores the generator took.
            "server_cpu_per_s": None if server_cpu is None else round(server_cpu / m["wall_s"],
                                                                       2),
            "client_cpu_per_s": round(own_cpu / m["wall_s"], 2),
        })
        print(f"  {ep['name']}: {out[-1]['throughput_rps']} req/s, p50 {out[-1]['p50_ms']} "
              f"p99 {out[-1]['p99_ms']} ms, errors {errors}", file=sys.stderr, flush=True)
    for c in clients:
        await c.aclose()
    return {"clients": spec["clients"], "warmup_s": spec["warmup_s"],
            "duration_s": spec["duration_s"], "endpoints": out}


def _pct(lat: np.ndarray, q: float) -> float | None:
    return round(float(np.percentile(lat, q)), 1) if len(lat) else None


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    with open(argv[0], encoding="utf-8") as f:
        spec = json.load(f)
    json.dump(asyncio.run(run(spec)), sys.stdout)


if __name__ == "__main__":
    main()
