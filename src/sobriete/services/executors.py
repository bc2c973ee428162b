"""Where portfolio work runs. The runner only needs ``map_unordered``: a process pool by
default, inline for debugging and tests, and any cluster (a Dask ``Client``: wrap
``client.submit`` + ``distributed.as_completed`` in the same two-method shape) when a
portfolio outgrows one machine."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any, Protocol

from threadpoolctl import threadpool_limits


class Executor(Protocol):
    def map_unordered(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        """Results of ``fn(item)`` as they complete, in any order."""


class InlineExecutor:
    def map_unordered(self, fn, items):
        for item in items:
            yield fn(item)


class ProcessExecutor:
    """A pool of worker processes, each with one BLAS thread (the pool is the parallelism)."""

    def __init__(self, workers: int | None = None, max_pending: int = 256) -> None:
        self.workers = workers or os.cpu_count() or 1
        self.max_pending = max_pending

    def map_unordered(self, fn, items):
        with ProcessPoolExecutor(self.workers, initializer=_one_blas_thread) as pool:
            pending = set()
            for item in items:
                pending.add(pool.submit(fn, item))
                # Bounded submission: a 10,000-meter portfolio never sits in memory at once.
                if len(pending) >= self.max_pending:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    yield from (f.result() for f in done)
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                yield from (f.result() for f in done)


def _one_blas_thread() -> None:
    # Workers may be forked after numpy loaded BLAS: environment variables are too late.
    threadpool_limits(1)


def default_executor(workers: int | None = None) -> Executor:
    return InlineExecutor() if workers == 1 else ProcessExecutor(workers)
