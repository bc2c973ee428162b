"""One series laid on a regular grid: the common ground of every check.

Readings are placed on the grid ``anchor + k * step``. The step is the one announced, else the
usual ``duration_s``, else the usual spacing of timestamps. The anchor is the usual phase of the
timestamps modulo the step, so one stray reading cannot misalign the whole series.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from sobriete.domain.columns import DURATION_S, QUANTITIES, START_UTC, VALUE, Quantity
from sobriete.domain.quality import IssueKind, QualityIssue, Severity

from .settings import CHECK_VERSIONS, QualitySettings

NS = 1_000_000_000
WEEK_S = 7 * 86400
DAY_S = 86400


def runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Starts and exclusive ends of the runs of True in a boolean array."""
    m = np.concatenate(([0], np.asarray(mask, dtype=np.int8), [0]))
    d = np.diff(m)
    return np.flatnonzero(d == 1), np.flatnonzero(d == -1)


def shifted(a: np.ndarray, k: int, fill: float = np.nan) -> np.ndarray:
    """``out[i] = a[i + k]`` where that exists, else ``fill``."""
    out = np.full(a.shape, fill, dtype=float)
    n = a.shape[0]
    if k >= 0 and k < n:
        out[: n - k] = a[k:]
    elif k < 0 and -k < n:
        out[-k:] = a[: n + k]
    return out


def _mode(a: np.ndarray) -> int:
    vals, counts = np.unique(a, return_counts=True)
    return int(vals[np.argmax(counts)])  # ties: the smallest, the finer step is the safer guess


@dataclass
class Prepared:
    """A series on its grid. ``values`` is NaN where no finite reading exists."""

    series_key: str
    quantity: str
    tz: str
    settings: QualitySettings
    n_rows: int
    step_s: int | None = None
    first_ns: int = 0
    values: np.ndarray = field(default_factory=lambda: np.empty(0))
    counts: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    slot_min: np.ndarray = field(default_factory=lambda: np.empty(0))
    slot_max: np.ndarray = field(default_factory=lambda: np.empty(0))
    off_grid_ns: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    notes: list[str] = field(default_factory=list)

    @property
    def q(self) -> Quantity | None:
        return QUANTITIES.get(self.quantity)

    @property
    def is_interval(self) -> bool:
        # Unknown quantities are treated as samples: the zero-as-missing logic of meters
        # would be wrong on, say, a temperature.
        q = self.q
        return bool(q.is_interval) if q is not None else False

    @property
    def n(self) -> int:
        return int(self.values.shape[0])

    @property
    def has_grid(self) -> bool:
        return self.step_s is not None and self.n > 0

    def steps_per(self, seconds: int) -> int | None:
        """How many steps make ``seconds``, if a whole number."""
        if self.step_s is None or seconds % self.step_s:
            return None
        return seconds // self.step_s

    @cached_property
    def times(self) -> pd.DatetimeIndex:
        ns = self.first_ns + np.arange(self.n, dtype=np.int64) * (self.step_s or 0) * NS
        return pd.DatetimeIndex(pd.to_datetime(ns, unit="ns", utc=True))

    @cached_property
    def local(self) -> pd.DatetimeIndex:
        return self.times.tz_convert(self.tz)

    @cached_property
    def local_hour(self) -> np.ndarray:
        return np.asarray(self.local.hour, dtype=np.int64)

    @cached_property
    def finite(self) -> np.ndarray:
        return np.isfinite(self.values)

    def ts(self, i: int) -> pd.Timestamp:
        return pd.Timestamp(self.first_ns + int(i) * (self.step_s or 0) * NS, unit="ns", tz="UTC")

    def issue(
        self,
        kind: IssueKind,
        severity: Severity,
        i0: int,
        i1: int,
        message_fr: str,
        message_en: str,
        evidence: dict[str, float | int | str],
        n_points: int | None = None,
        check: str | None = None,
    ) -> QualityIssue:
        """A finding over grid slots ``[i0, i1)``."""
        return self.issue_at(
            kind, severity, self.ts(i0), self.ts(i1), message_fr, message_en, evidence,
            n_points=int(i1 - i0 if n_points is None else n_points), check=check,
        )

    def issue_at(
        self,
        kind: IssueKind,
        severity: Severity,
        start: pd.Timestamp,
        end: pd.Timestamp,
        message_fr: str,
        message_en: str,
        evidence: dict[str, float | int | str],
        n_points: int,
        check: str | None = None,
    ) -> QualityIssue:
        return QualityIssue(
            series_key=self.series_key,
            quantity=self.quantity,
            kind=kind,
            severity=severity,
            start_utc=start.to_pydatetime(),
            end_utc=end.to_pydatetime(),
            n_points=int(n_points),
            message_fr=message_fr,
            message_en=message_en,
            evidence={k: _plain(v) for k, v in evidence.items()},
            check_version=CHECK_VERSIONS[check or kind.value],
        )


def _plain(v: object) -> float | int | str:
    if isinstance(v, bool | np.bool_):
        return int(v)
    if isinstance(v, int | np.integer):
        return int(v)
    if isinstance(v, float | np.floating):
        return float(round(float(v), 6)) if np.isfinite(v) else str(v)
    return str(v)


def prepare(
    frame: pd.DataFrame,
    *,
    series_key: str,
    quantity: str,
    expected_step_s: int | None,
    tz: str,
    settings: QualitySettings,
) -> Prepared:
    start = pd.to_datetime(frame[START_UTC], utc=True, errors="coerce")
    keep = start.notna().to_numpy()
    ns = np.asarray(pd.DatetimeIndex(start[keep]).as_unit("ns").asi8, dtype=np.int64)
    v = pd.to_numeric(frame[VALUE], errors="coerce").to_numpy(dtype=float)[keep]
    v[~np.isfinite(v)] = np.nan
    p = Prepared(series_key, quantity, tz, settings, n_rows=int(keep.sum()))
    if ns.size == 0:
        return p

    step_s = expected_step_s
    if step_s is None and DURATION_S in frame:
        dur = pd.to_numeric(frame[DURATION_S], errors="coerce").to_numpy(dtype=float)[keep]
        dur = dur[np.isfinite(dur) & (dur >= 1)]
        if dur.size:
            step_s = _mode(np.round(dur).astype(np.int64))
    if step_s is None:
        diffs = np.diff(np.unique(ns))
        diffs = diffs[diffs >= NS] // NS
        if diffs.size:
            step_s = _mode(diffs)
    if step_s is None or step_s < 1:
        p.notes.append("no regular step: fewer than two distinct timestamps")
        return p
    step_s = int(step_s)
    step_ns = step_s * NS

    phase = ns % step_ns
    on_grid = phase == _mode(phase)
    p.off_grid_ns = np.sort(ns[~on_grid])
    ns, v = ns[on_grid], v[on_grid]
    first = int(ns.min())
    n = int((ns.max() - first) // step_ns) + 1
    if n > settings.max_grid_points:
        p.notes.append(
            f"grid of {n} steps of {step_s} s exceeds max_grid_points; grid checks skipped"
        )
        return p
    idx = (ns - first) // step_ns
    # Sorted by slot, finite readings first, then arrival order: the kept reading is the first
    # finite one, so a NaN duplicate never hides a real value.
    order = np.lexsort((np.arange(idx.size), np.isnan(v), idx))
    idx_s, v_s = idx[order], v[order]
    slots, first_pos = np.unique(idx_s, return_index=True)
    values = np.full(n, np.nan)
    values[slots] = v_s[first_pos]
    slot_min = np.full(n, np.nan)
    slot_max = np.full(n, np.nan)
    slot_min[slots] = np.fmin.reduceat(v_s, first_pos)
    slot_max[slots] = np.fmax.reduceat(v_s, first_pos)
    p.step_s, p.first_ns = step_s, first
    p.values, p.slot_min, p.slot_max = values, slot_min, slot_max
    p.counts = np.bincount(idx, minlength=n)
    return p
