"""docs/advice.md cannot drift from the code: its generated blocks are checked."""

from pathlib import Path

import pytest

from sobriete.advice import CATALOGUE, AdviceSettings
from sobriete.advice.docs import BLOCKS, block

DOC = Path(__file__).resolve().parents[2] / "docs" / "advice.md"


@pytest.mark.parametrize("name", sorted(BLOCKS))
def test_generated_block_is_up_to_date(name):
    assert block(name) in DOC.read_text(encoding="utf-8"), (
        f"docs/advice.md block {name!r} is stale: paste `python -m sobriete.advice.docs`")


def test_catalogue_table_lists_every_action():
    text = DOC.read_text(encoding="utf-8")
    for code in CATALOGUE:
        assert f"| `{code}` |" in text


def test_every_assumption_is_marked_to_confirm():
    for name, f in AdviceSettings.model_fields.items():
        d = f.description or ""
        if "assumption" in d or "secondary" in d:
            assert "to confirm" in d, name
