"""Advice: the catalogue of actions (settings and works), savings estimates, ranking and
explanations, and the Décret tertiaire path. Pure computations: no store, no files.

Public API (pinned by tests/advice/test_api.py); the submodules are implementation.
"""

from sobriete.advice.catalogue import (
    ALTERNATIVES,
    CATALOGUE,
    ActionSpec,
    ActionType,
    SavingBasis,
    UnknownActionError,
    get_action,
)
from sobriete.advice.combine import Combined, combine
from sobriete.advice.explain import explain, fmt_fr
from sobriete.advice.model import Recommendation, SavingPart
from sobriete.advice.ranking import PortfolioPlan, portfolio_priorities, rank
from sobriete.advice.recommend import recommend, recommend_with_skipped
from sobriete.advice.settings import AdviceSettings, CostSpec
from sobriete.advice.tertiaire import TertiaireResult, cheapest_path, tertiaire_gap

__all__ = [
    "ALTERNATIVES",
    "CATALOGUE",
    "ActionSpec",
    "ActionType",
    "AdviceSettings",
    "Combined",
    "CostSpec",
    "PortfolioPlan",
    "Recommendation",
    "SavingBasis",
    "SavingPart",
    "TertiaireResult",
    "UnknownActionError",
    "cheapest_path",
    "combine",
    "explain",
    "fmt_fr",
    "get_action",
    "portfolio_priorities",
    "rank",
    "recommend",
    "recommend_with_skipped",
    "tertiaire_gap",
]
