"""Numbers as people read them: French typography (12 346,5 with a narrow no-break space) or
English (12,346.5). One place, used by messages, tables and pages of every layer."""

from __future__ import annotations

NNBSP = "\u202f"  # narrow no-break space: the French thousands separator


def fmt_fr(x: float, decimals: int = 0) -> str:
    """``12345.6`` -> ``12 346``; ``3.25`` with 1 decimal -> ``3,2``."""
    return f"{x:,.{decimals}f}".replace(",", NNBSP).replace(".", ",")


def fmt_en(x: float, decimals: int = 0) -> str:
    return f"{x:,.{decimals}f}"
