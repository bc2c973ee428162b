"""The figures of the controller, on plain per-step frames indexed by UTC step starts (15 min).

- ``control_day_png``: a simulated control day, schedule vs controller: ``temp_schedule_c``,
  ``temp_controller_c``, ``power_schedule_w``, ``power_controller_w``, ``t_min_c``,
  ``t_max_c``, ``occupied`` and optional boolean ``red`` and ``shed`` columns.
- ``plan_png``: a plan of a stored building (``sobriete plan``): ``temp_plan_c``,
  ``power_plan_w``, ``temp_schedule_c``, ``power_schedule_w``, ``t_min_c``, ``t_max_c``,
  ``occupied``, ``price_eur_per_kwh``, ``cap_w`` (NaN: no cap), ``red``, ``shed``.

Both shade the occupied hours, the Tempo red hours and the demand-response (shed) windows.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from sobriete.control.comfort import runs
from sobriete.reporting._plot_common import (
    C_ACTUAL,
    C_BASELINE,
    C_CHANGE,
    C_OVER,
    C_SAVINGS,
    day_label,
    footer,
    legend_below,
    num,
    plt,
    save_png,
    to_local,
)

C_RED = "#D55E00"
C_SHED = "#6a3d9a"
C_OCC = "0.85"


def _spans(local: pd.DatetimeIndex, flags: np.ndarray) -> list[tuple[pd.Timestamp,
                                                                      pd.Timestamp]]:
    """(start, end) of each run of True steps, end = the next step's start."""
    step = local[1] - local[0] if len(local) > 1 else pd.Timedelta(minutes=15)
    return [(local[a], local[b - 1] + step) for a, b in runs(np.asarray(flags, bool))]


def _time_axes(steps: pd.DataFrame) -> tuple[pd.DatetimeIndex, pd.DatetimeIndex]:
    """Local step starts, and the edges for "post" steps (each value holds over its 15 min)."""
    local = to_local(steps.index)
    step = local[1] - local[0] if len(local) > 1 else pd.Timedelta(minutes=15)
    return local, local.append(pd.DatetimeIndex([local[-1] + step]))


def _ext(steps: pd.DataFrame, col: str) -> np.ndarray:
    v = steps[col].to_numpy(float)
    return np.append(v, v[-1])


def _grid(ax) -> None:
    ax.grid(True, color="0.9", lw=0.6)
    ax.set_axisbelow(True)


def _schedule_vs_ours(ax_t, ax_p, local, x, steps: pd.DataFrame, ours: str, lang: str) -> None:
    """The comfort band, the schedule's and our (``temp_<ours>_c``, ``power_<ours>_w``)
    temperature and heating power, on shaded, gridded panels."""
    for ax in (ax_t, ax_p):
        _shade(ax, local, steps)
        _grid(ax)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: num(v, lang, 0)))
    ax_t.fill_between(x, _ext(steps, "t_min_c"), _ext(steps, "t_max_c"), step="post",
                      color=C_SAVINGS, alpha=0.18, lw=0, zorder=1)
    ax_t.plot(local, steps["temp_schedule_c"], color=C_BASELINE, lw=1.6, zorder=3)
    ax_t.plot(local, steps[f"temp_{ours}_c"], color=C_OVER, lw=1.8, zorder=4)
    ax_p.step(x, _ext(steps, "power_schedule_w") / 1000, where="post", color=C_BASELINE,
              lw=1.4, zorder=3)
    ax_p.step(x, _ext(steps, f"power_{ours}_w") / 1000, where="post", color=C_OVER, lw=1.6,
              zorder=4)
    ax_p.set_ylim(bottom=0)


def control_day_png(steps: pd.DataFrame, *, lang: str = "fr", title: str | None = None,
                    note: str | None = None, path: str | Path | None = None) -> bytes:
    """Two panels on local time: temperature (°C) and heating power (kW)."""
    fr = lang != "en"
    local, x = _time_axes(steps)
    fig, (ax_t, ax_p) = plt.subplots(2, 1, figsize=(11, 7.2), sharex=True, layout="constrained",
                                     height_ratios=(3, 2))
    _schedule_vs_ours(ax_t, ax_p, local, x, steps, "controller", lang)
    ax_t.set_ylabel("Température de la zone (°C)" if fr else "Zone temperature (°C)")
    ax_p.set_ylabel("Puissance de chauffage (kW)" if fr else "Heating power (kW)")
    ax_p.set_xlabel("Heure locale (Europe/Paris)" if fr else "Local time (Europe/Paris)")
    ax_p.xaxis.set_major_locator(mdates.HourLocator(byhour=range(0, 24, 2)))
    ax_p.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M"))
    ax_p.set_xlim(x[0], x[-1])

    handles = [plt.Line2D([], [], color=C_BASELINE, lw=1.6),
               plt.Line2D([], [], color=C_OVER, lw=1.8),
               Patch(color=C_SAVINGS, alpha=0.25), Patch(color=C_OCC, alpha=0.5)]
    labels = (["Programme du bâtiment", "Pilotage (régulateur)", "Plage de confort",
               "Heures d'occupation"] if fr else
              ["Building schedule", "Controller", "Comfort band", "Occupied hours"])
    if "red" in steps and steps["red"].any():
        handles.append(Patch(color=C_RED, alpha=0.15))
        labels.append("Heures rouges Tempo" if fr else "Tempo red hours")
    if "shed" in steps and steps["shed"].any():
        handles.append(Patch(facecolor="none", edgecolor=C_SHED, hatch="//"))
        labels.append("Effacement (puissance plafonnée)" if fr else
                      "Demand response (power capped)")
    legend_below(ax_p, handles, labels, min(len(handles), 3))
    day = day_label(local[0], lang)
    fig.suptitle(title or ((f"Simulation (bâtiment simulé) — {day}") if fr else
                           (f"Simulation (simulated building) — {day}")),
                 fontsize=12, fontweight="bold", color=C_ACTUAL)
    footer(fig, note or ("Bâtiment simulé (modèle RC), températures vraies sans bruit de "
                         "mesure ; prévision météo parfaite." if fr else
                         "Simulated building (RC model), true temperatures without sensor "
                         "noise; perfect weather forecast."))
    return save_png(fig, path)


def _shade(ax, local: pd.DatetimeIndex, steps: pd.DataFrame) -> None:
    for a, b in _spans(local, steps["occupied"].to_numpy(bool)):
        ax.axvspan(a, b, color=C_OCC, alpha=0.5, lw=0, zorder=0)
    if "red" in steps:
        for a, b in _spans(local, steps["red"].to_numpy(bool)):
            ax.axvspan(a, b, color=C_RED, alpha=0.10, lw=0, zorder=0)
    if "shed" in steps:
        for a, b in _spans(local, steps["shed"].to_numpy(bool)):
            ax.axvspan(a, b, facecolor="none", edgecolor=C_SHED, hatch="//", alpha=0.6,
                       lw=0, zorder=0)


def plan_png(steps: pd.DataFrame, *, lang: str = "fr", title: str | None = None,
             note: str | None = None, path: str | Path | None = None) -> bytes:
    """Three panels on local time: the planned and the schedule's zone temperature in the
    comfort band, their heating power (with the caps), and the price of each step."""
    fr = lang != "en"
    local, x = _time_axes(steps)
    fig, (ax_t, ax_p, ax_c) = plt.subplots(3, 1, figsize=(12, 8.4), sharex=True,
                                           layout="constrained", height_ratios=(3, 2, 1.3))
    _schedule_vs_ours(ax_t, ax_p, local, x, steps, "plan", lang)
    _shade(ax_c, local, steps)
    _grid(ax_c)
    if "cap_w" in steps and np.isfinite(steps["cap_w"].to_numpy(float)).any():
        ax_p.step(x, _ext(steps, "cap_w") / 1000, where="post", color=C_SHED, lw=1.2, ls="--",
                  zorder=5)
    ax_t.set_ylabel("Température prévue (°C)" if fr else "Predicted temperature (°C)")
    ax_p.set_ylabel("Chauffage (kW)" if fr else "Heating (kW)")

    ax_c.step(x, _ext(steps, "price_eur_per_kwh"), where="post", color=C_CHANGE, lw=1.4,
              zorder=3)
    ax_c.set_ylabel("Prix (€/kWh)" if fr else "Price (EUR/kWh)")
    ax_c.set_ylim(bottom=0)
    ax_c.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: num(v, lang, 2)))
    ax_c.xaxis.set_major_locator(mdates.HourLocator(byhour=range(0, 24, 6)))
    ax_c.xaxis.set_major_formatter(mdates.DateFormatter("%d/%m\n%H:%M"))
    ax_c.set_xlim(x[0], x[-1])

    handles = [plt.Line2D([], [], color=C_BASELINE, lw=1.5),
               plt.Line2D([], [], color=C_OVER, lw=1.8),
               Patch(color=C_SAVINGS, alpha=0.25), Patch(color=C_OCC, alpha=0.5),
               plt.Line2D([], [], color=C_CHANGE, lw=1.4)]
    labels = (["Programme du bâtiment", "Plan (régulateur)", "Plage de confort",
               "Heures d'occupation", "Prix de l'énergie"] if fr else
              ["Building schedule", "Plan (controller)", "Comfort band", "Occupied hours",
               "Energy price"])
    if "red" in steps and steps["red"].any():
        handles.append(Patch(color=C_RED, alpha=0.15))
        labels.append("Heures rouges Tempo" if fr else "Tempo red hours")
    if "shed" in steps and steps["shed"].any():
        handles += [Patch(facecolor="none", edgecolor=C_SHED, hatch="//"),
                    plt.Line2D([], [], color=C_SHED, lw=1.2, ls="--")]
        labels += (["EcoWatt orange / rouge", "Puissance plafonnée"] if fr else
                   ["EcoWatt orange / red", "Power cap"])
    # Under the two-line tick labels (day, hour): further down than legend_below's default.
    ax_c.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0),
                borderaxespad=4.4, ncols=4, fontsize=8.5, frameon=False)
    fig.suptitle((title or ("Plan de chauffage" if fr else "Heating plan"))
                 + (" — heure locale (Europe/Paris)" if fr else
                    " — local time (Europe/Paris)"), fontsize=12, fontweight="bold",
                 color=C_ACTUAL)
    footer(fig, note or ("Températures prévues par le modèle RC identifié sur les mesures ; "
                         "le programme du bâtiment est simulé sur le même modèle et la même "
                         "météo." if fr else
                         "Temperatures predicted by the RC model identified from the "
                         "measurements; the building schedule is simulated on the same model "
                         "and weather."))
    return save_png(fig, path)
