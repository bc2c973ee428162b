"""The markdown table of one run (pasted into docs/benchmarks.md) and the merge of runs into
``benchmarks/results/service.json`` (one entry per database)."""

from __future__ import annotations

import json
from pathlib import Path

TARGET_P99_MS = 200.0
# List endpoints the p99 target applies to (the dashboard pages are reported beside them).
LISTS = ("buildings_admin", "buildings_commune", "buildings_territory", "buildings_by_commune",
         "findings_admin", "findings_commune", "actions_admin", "communes_admin")


def _f(v, digits: int = 1) -> str:
    return "-" if v is None else f"{v:,.{digits}f}"


def table(run: dict) -> str:
    eps = {e["name"]: e for e in run["load"]["endpoints"]}
    floor = eps.get("health", {}).get("p50_ms")
    lines = [
        "| endpoint | 1 client p50 ms | req/s | p50 ms | p95 ms | p99 ms | p50 / health | "
        "errors | server RSS MB before -> after | server CPU/s | p99 < 200 ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | --- |",
    ]
    for e in run["load"]["endpoints"]:
        ratio = e["p50_ms"] / floor if floor and e["p50_ms"] else None
        met = ("-" if e["name"] not in LISTS or e["p99_ms"] is None
               else "yes" if e["p99_ms"] < TARGET_P99_MS else "no")
        lines.append(
            f"| {e['name']} `{e['path']}` | {_f(e.get('p50_ms_1_client'))} | "
            f"{_f(e['throughput_rps'])} | {_f(e['p50_ms'])} | "
            f"{_f(e['p95_ms'])} | {_f(e['p99_ms'])} | {_f(ratio, 1)}x | {e['errors']} | "
            f"{_f(e['server_rss_mb_before'], 0)} -> {_f(e['server_rss_mb_after'], 0)} | "
            f"{_f(e['server_cpu_per_s'], 2)} | {met} |")
    for name, why in run.get("missing", {}).items():
        lines.append(f"| {name} | - | - | - | - | - | - | - | - | - | missing: {why} |")
    return "\n".join(lines)


def merge(path: Path, key: str, run: dict) -> None:
    """Keep the other database's run already in ``path``; replace this one's."""
    doc = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    doc[key] = run
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
