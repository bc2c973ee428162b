"""Pages generated from the code (glossary, settings) must not drift from it."""

from pathlib import Path

import pytest

from sobriete.domain.columns import QUANTITIES, quantity
from sobriete.reporting.docs import PAGES

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.mark.parametrize("name", sorted(PAGES))
def test_generated_page_is_up_to_date(name):
    assert (DOCS / name).read_text(encoding="utf-8") == PAGES[name](), (
        f"docs/{name} is stale: run `sobriete docs`"
    )


def test_every_quantity_name_carries_its_unit():
    suffix = {"kWh": "_kwh", "W": "_w", "m³": "_m3", "°C": "_c", "%": "_pct", "W/m²": "_w_m2",
              "m/s": "_m_s", "Pa": "_pa", "1": "_ratio"}
    for q in QUANTITIES.values():
        assert q.name.endswith(suffix[q.unit]), q.name


def test_unknown_quantity_lists_the_known_ones():
    with pytest.raises(KeyError, match="energy_kwh"):
        quantity("energy_wh")
