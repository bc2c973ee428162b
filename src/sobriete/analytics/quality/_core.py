"""Running every check on one series or on a long frame of many."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sobriete.domain.columns import QUANTITY, SERIES_KEY, START_UTC, VALUE
from sobriete.domain.quality import QualityIssue

from . import _basic, _clock, _stats
from ._grid import DAY_S, NS, Prepared, prepare
from .report import COMPLETENESS_COLUMNS, SERIES_COLUMNS, QualityReport, empty_completeness
from .settings import QualitySettings

DEFAULT_SETTINGS = QualitySettings()
FREQS = ("D", "MS")


@dataclass
class _Result:
    issues: list[QualityIssue]
    usable: np.ndarray
    prepared: Prepared


def _require(frame: pd.DataFrame) -> None:
    missing = [c for c in (START_UTC, VALUE) if c not in frame.columns]
    if missing:
        raise KeyError(f"reading frame lacks column(s) {missing}; has {list(frame.columns)}")


def _identity(frame: pd.DataFrame) -> tuple[str, str]:
    keys = frame[SERIES_KEY].dropna().unique() if SERIES_KEY in frame else []
    qs = frame[QUANTITY].dropna().unique() if QUANTITY in frame else []
    if len(keys) > 1 or len(qs) > 1:
        raise ValueError(
            f"check_series takes one series; this frame has {len(keys)} series_key and "
            f"{len(qs)} quantity values: use check_many"
        )
    return (str(keys[0]) if len(keys) else ""), (str(qs[0]) if len(qs) else "")


def _run(p: Prepared) -> _Result:
    # Readings near the float limits overflow in sums and squares; the checks then see inf and
    # still answer, which is all a reading of 1e308 kWh deserves.
    with np.errstate(all="ignore"):
        return _run_checks(p)


def _run_checks(p: Prepared) -> _Result:
    issues = _basic.check_gaps(p) + _basic.check_duplicates(p) + _basic.check_off_grid(p)
    issues += _basic.check_range(p) + _basic.check_flat_lines(p)
    zero_issues, zero_mask = _stats.suspicious_zeros(p)
    issues += zero_issues
    low, high = _basic.out_of_range(p)
    usable = p.finite & ~low & ~high & ~zero_mask if p.has_grid else np.zeros(0, bool)
    issues += _stats.check_spikes(p, usable)
    issues += _clock.check_dst(p, usable, zero_mask)
    issues += _clock.check_clock_shift(p, usable)
    issues.sort(key=lambda i: (i.start_utc, i.kind.value))
    return _Result(issues, usable, p)


def _completeness(r: _Result, freq: str) -> pd.DataFrame:
    p = r.prepared
    if not p.has_grid:
        return empty_completeness()
    local_ns = np.asarray(p.local.tz_localize(None).as_unit("ns").asi8)
    if freq == "D":
        code = local_ns // (DAY_S * NS)
    else:
        lt = p.local
        code = np.asarray(lt.year, dtype=np.int64) * 12 + np.asarray(lt.month) - 1
    uniq, inv = np.unique(code, return_inverse=True)
    n_exp = np.bincount(inv)
    n_pres = np.bincount(inv, weights=(p.counts > 0).astype(float)).astype(np.int64)
    n_val = np.bincount(inv, weights=r.usable.astype(float)).astype(np.int64)
    if freq == "D":
        naive = pd.to_datetime(uniq * DAY_S * NS, unit="ns")
    else:
        naive = pd.to_datetime({"year": uniq // 12, "month": uniq % 12 + 1, "day": 1})
    start = pd.DatetimeIndex(naive).tz_localize(
        p.tz, ambiguous="NaT", nonexistent="shift_forward")
    return pd.DataFrame({
        "series_key": p.series_key, "quantity": p.quantity, "period_start": start,
        "n_expected": n_exp, "n_present": n_pres, "n_valid": n_val,
        "completeness": n_val / n_exp,
    }, columns=list(COMPLETENESS_COLUMNS))


def _series_row(r: _Result) -> dict[str, object]:
    p = r.prepared
    n_exp, n_val = p.n, int(r.usable.sum())
    return {
        "series_key": p.series_key, "quantity": p.quantity, "step_s": p.step_s,
        "n_rows": p.n_rows, "n_expected": n_exp, "n_valid": n_val,
        "completeness": n_val / n_exp if n_exp else float("nan"),
        "n_issues": len(r.issues), "notes": "; ".join(p.notes),
    }


def _report(results: list[_Result], tz: str, settings: QualitySettings) -> QualityReport:
    def cat(freq: str) -> pd.DataFrame:
        frames = [f for f in (_completeness(r, freq) for r in results) if len(f)]
        return pd.concat(frames, ignore_index=True) if frames else empty_completeness()

    return QualityReport(
        issues=[i for r in results for i in r.issues],
        completeness_daily=cat("D"),
        completeness_monthly=cat("MS"),
        series=pd.DataFrame([_series_row(r) for r in results], columns=list(SERIES_COLUMNS)),
        settings=settings,
        timezone=tz,
    )


def _groups(frame: pd.DataFrame):
    _require(frame)
    f = frame
    if SERIES_KEY not in f or QUANTITY not in f:
        f = f.assign(**{c: f[c] if c in f else "" for c in (SERIES_KEY, QUANTITY)})
    f = f.assign(**{SERIES_KEY: f[SERIES_KEY].astype(str), QUANTITY: f[QUANTITY].astype(str)})
    for (key, q), g in f.groupby([SERIES_KEY, QUANTITY], sort=True, dropna=False):
        yield str(key), str(q), g


def check_series(
    frame: pd.DataFrame,
    *,
    expected_step_s: int | None = None,
    timezone: str = "Europe/Paris",
    settings: QualitySettings = DEFAULT_SETTINGS,
) -> QualityReport:
    """Check one series (a long frame of one ``series_key`` and one ``quantity``).

    expected_step_s : int [s], optional
        The interval length readings should come at; by default the usual ``duration_s``, else
        the usual spacing of timestamps.
    timezone : str
        The commune's clock: calendar days, hours of the week and messages use it.
    """
    _require(frame)
    key, q = _identity(frame)
    p = prepare(frame, series_key=key, quantity=q, expected_step_s=expected_step_s,
                tz=timezone, settings=settings)
    return _report([_run(p)], timezone, settings)


def check_many(
    frame: pd.DataFrame,
    *,
    expected_step_s: int | None = None,
    timezone: str = "Europe/Paris",
    settings: QualitySettings = DEFAULT_SETTINGS,
) -> QualityReport:
    """Check every (``series_key``, ``quantity``) series of a long reading frame."""
    results = [
        _run(prepare(g, series_key=key, quantity=q, expected_step_s=expected_step_s,
                     tz=timezone, settings=settings))
        for key, q, g in _groups(frame)
    ]
    return _report(results, timezone, settings)


def completeness(
    frame: pd.DataFrame,
    freq: str = "D",
    *,
    expected_step_s: int | None = None,
    timezone: str = "Europe/Paris",
    settings: QualitySettings = DEFAULT_SETTINGS,
) -> pd.DataFrame:
    """Share of expected intervals present and valid, per series and local day (``"D"``) or
    month (``"MS"``). Valid: finite, physically possible and not a suspicious zero; so the
    zero check runs here too. Columns: see ``QualityReport``.
    """
    if freq not in FREQS:
        raise ValueError(f"freq must be one of {FREQS}, not {freq!r}")
    frames = []
    for key, q, g in _groups(frame):
        p = prepare(g, series_key=key, quantity=q, expected_step_s=expected_step_s,
                    tz=timezone, settings=settings)
        _, zero_mask = _stats.suspicious_zeros(p)
        low, high = _basic.out_of_range(p)
        usable = p.finite & ~low & ~high & ~zero_mask if p.has_grid else np.zeros(0, bool)
        f = _completeness(_Result([], usable, p), freq)
        if len(f):
            frames.append(f)
    return pd.concat(frames, ignore_index=True) if frames else empty_completeness()
