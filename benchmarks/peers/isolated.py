"""One fit in a fresh process, for both tools alike: the same spawn, timeout, crash and
warning records, so cost and failures are measured the same way on each side."""

from __future__ import annotations

import multiprocessing as mp
import os
import resource
import traceback
from collections import Counter
from collections.abc import Callable
from typing import Any

MEMORY_METHOD = "isolated process: ru_maxrss (peak RSS) and /proc statm (RSS)"


def rss_mb() -> float:
    """The process's current RSS (/proc statm), in MB."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return round(pages * os.sysconf("SC_PAGE_SIZE") / 1024**2, 1)


def maxrss_mb() -> float:
    """The process's peak RSS (getrusage ru_maxrss, KiB on Linux), in MB."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def blas_threads() -> list[dict]:
    """The BLAS thread pools in force in this process (threadpoolctl), [] when unavailable."""
    try:
        from threadpoolctl import threadpool_info

        return [{k: i.get(k) for k in ("internal_api", "num_threads", "user_api")}
                for i in threadpool_info()]
    except Exception:  # pragma: no cover
        return []


def crash_record(stage: str, exc: BaseException) -> dict:
    return {"stage": stage, "type": type(exc).__name__, "message": str(exc)[:2000],
            "traceback": traceback.format_exc()[-6000:]}


def warning_counts(caught) -> dict[str, int]:
    """Python warnings raised during a fit, counted by category and message."""
    counts: Counter = Counter()
    for w in caught:
        counts[f"{w.category.__name__}: {str(w.message)[:160]}"] += 1
    return dict(counts.most_common(30))


def _child(work: Callable[[dict], Any], job: dict, conn) -> None:
    try:
        res = work(job)
        res.memory_method = MEMORY_METHOD
        conn.send(res)
    finally:
        conn.close()


def run(work: Callable[[dict], Any], job: dict, died: Callable[[dict], Any], *,
        isolate: bool = True, timeout: float = 900.0) -> Any:
    """``work(job)`` in a spawned process (or in-process when not ``isolate``). ``died(error)``
    builds the crash result when the process times out or dies without answering."""
    if not isolate:
        res = work(job)
        res.memory_method = "in-process: not measured"
        return res
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(work, job, child), daemon=True)
    proc.start()
    child.close()
    res = None
    timed_out = False
    try:
        if parent.poll(timeout):
            res = parent.recv()  # EOFError when the child died without sending
        else:
            timed_out = True
    except EOFError:
        res = None
    finally:
        proc.join(5)
        if proc.is_alive():
            proc.kill()
            proc.join()
        parent.close()
    if res is None:
        reason = (f"timeout after {timeout:.0f} s" if timed_out
                  else f"worker process died, exit code {proc.exitcode}")
        res = died({"stage": "process", "type": "WorkerDied", "message": reason,
                    "traceback": ""})
    return res
