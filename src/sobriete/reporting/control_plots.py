"""The figure of a simulated control day: zone temperature and heating power, schedule vs
controller, with the comfort band, the occupied hours and the red / shed windows shaded.

Takes a plain per-step frame (no service object): ``temp_schedule_c``, ``temp_controller_c``,
``power_schedule_w``, ``power_controller_w``, ``t_min_c``, ``t_max_c``, ``occupied`` and
optional boolean ``red`` and ``shed`` columns, indexed by UTC step starts (15 min).
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


def control_day_png(steps: pd.DataFrame, *, lang: str = "fr", title: str | None = None,
                    note: str | None = None, path: str | Path | None = None) -> bytes:
    """Two panels on local time: temperature (°C) and heating power (kW)."""
    fr = lang != "en"
    local = to_local(steps.index)
    step = local[1] - local[0] if len(local) > 1 else pd.Timedelta(minutes=15)
    # Step-wise series drawn as "post" steps: each value holds over its 15 min.
    x = local.append(pd.DatetimeIndex([local[-1] + step]))

    def ext(col: str) -> np.ndarray:
        v = steps[col].to_numpy(float)
        return np.append(v, v[-1])

    fig, (ax_t, ax_p) = plt.subplots(2, 1, figsize=(11, 7.2), sharex=True, layout="constrained",
                                     height_ratios=(3, 2))
    for ax in (ax_t, ax_p):
        for a, b in _spans(local, steps["occupied"].to_numpy(bool)):
            ax.axvspan(a, b, color=C_OCC, alpha=0.5, lw=0, zorder=0)
        if "red" in steps:
            for a, b in _spans(local, steps["red"].to_numpy(bool)):
                ax.axvspan(a, b, color=C_RED, alpha=0.10, lw=0, zorder=0)
        if "shed" in steps:
            for a, b in _spans(local, steps["shed"].to_numpy(bool)):
                ax.axvspan(a, b, facecolor="none", edgecolor=C_SHED, hatch="//", alpha=0.6,
                           lw=0, zorder=0)
    ax_t.fill_between(x, ext("t_min_c"), ext("t_max_c"), step="post", color=C_SAVINGS,
                      alpha=0.18, lw=0, zorder=1)
    ax_t.plot(local, steps["temp_schedule_c"], color=C_BASELINE, lw=1.6, zorder=3)
    ax_t.plot(local, steps["temp_controller_c"], color=C_OVER, lw=1.8, zorder=4)
    ax_t.set_ylabel("Température de la zone (°C)" if fr else "Zone temperature (°C)")
    ax_t.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: num(v, lang, 0)))

    ax_p.step(x, ext("power_schedule_w") / 1000, where="post", color=C_BASELINE, lw=1.4,
              zorder=3)
    ax_p.step(x, ext("power_controller_w") / 1000, where="post", color=C_OVER, lw=1.6,
              zorder=4)
    ax_p.set_ylabel("Puissance de chauffage (kW)" if fr else "Heating power (kW)")
    ax_p.set_ylim(bottom=0)
    ax_p.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: num(v, lang, 0)))
    ax_p.set_xlabel("Heure locale (Europe/Paris)" if fr else "Local time (Europe/Paris)")
    ax_p.xaxis.set_major_locator(mdates.HourLocator(byhour=range(0, 24, 2)))
    ax_p.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M"))
    ax_p.set_xlim(x[0], x[-1])
    for ax in (ax_t, ax_p):
        ax.grid(True, color="0.9", lw=0.6)
        ax.set_axisbelow(True)

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
