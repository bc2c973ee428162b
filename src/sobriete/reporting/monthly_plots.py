"""The monthly report's figure: each carrier's daily kWh over the month, against the same
days of the year before (day of month on the x axis, so that both months line up)."""

from __future__ import annotations

import matplotlib.pyplot as plt

from sobriete.reporting._plot_common import (
    C_ACTUAL,
    C_BASELINE,
    footer,
    kwh_axis,
    legend_below,
    save_png,
)

CARRIER = {"electricity": ("Électricité", "Electricity"), "gas": ("Gaz", "Gas"),
           "heat": ("Chaleur", "Heat")}


def _by_day(daily: dict[str, float]) -> tuple[list[int], list[float]]:
    items = sorted(daily.items())
    return [int(d[8:10]) for d, _ in items], [v for _, v in items]


def daily_png(carriers: dict[str, tuple[dict[str, float], dict[str, float]]], *,
              month_label: str, prev_label: str, lang: str = "fr") -> bytes | None:
    """``carriers``: carrier -> (daily kWh of the month, daily kWh of the month a year
    before), keys ISO dates. One panel per carrier; None when there is nothing to draw."""
    shown = {c: v for c, v in carriers.items() if v[0] or v[1]}
    if not shown:
        return None
    en = lang == "en"
    fig, axes = plt.subplots(len(shown), 1, figsize=(8.2, 2.3 * len(shown) + 0.9),
                             layout="constrained", squeeze=False)
    for ax, (carrier, (now, prev)) in zip(axes[:, 0], shown.items(), strict=True):
        handles, labels = [], []
        if prev:
            x, y = _by_day(prev)
            handles += ax.plot(x, y, color=C_BASELINE, lw=1.4, ls="--", marker=".", ms=3)
            labels.append(prev_label)
        if now:
            x, y = _by_day(now)
            handles += ax.plot(x, y, color=C_ACTUAL, lw=1.8, marker="o", ms=3)
            labels.append(month_label)
        name = CARRIER.get(carrier, (carrier, carrier))[en]
        ax.set_title(f"{name} — kWh/{'day' if en else 'jour'}", fontsize=10, loc="left")
        ax.set_xlim(0.5, 31.5)
        ax.set_xticks([1, 5, 10, 15, 20, 25, 31])
        ax.grid(alpha=0.3)
        kwh_axis(ax, lang)
        ax.set_ylim(bottom=0)
        if ax is axes[-1, 0]:
            ax.set_xlabel("day of month" if en else "jour du mois")
            legend_below(ax, handles, labels, 2)
    footer(fig, "Source: stored meter readings, local days (Europe/Paris)." if en else
           "Source : relevés des compteurs enregistrés, jours locaux (Europe/Paris).")
    return save_png(fig)
