"""The public API of sobriete.advice is pinned: changing it is a decision, not an accident."""

import sobriete.advice as advice


def test_public_api_is_pinned():
    assert advice.__all__ == [
        "ALTERNATIVES", "CATALOGUE", "ActionSpec", "ActionType", "AdviceSettings", "Combined",
        "CostSpec", "PortfolioPlan", "Recommendation", "SavingBasis", "SavingPart",
        "TertiaireResult", "UnknownActionError", "cheapest_path", "combine", "explain",
        "fmt_fr", "get_action", "portfolio_priorities", "rank", "recommend",
        "recommend_with_skipped", "tertiaire_gap",
    ]
    for name in advice.__all__:
        assert getattr(advice, name) is not None
