"""The glossary page is generated from the code and must not drift from it."""

from pathlib import Path

from sobriete.domain.columns import QUANTITIES, glossary_markdown, quantity

DOC = Path(__file__).resolve().parents[2] / "docs" / "glossary.md"


def test_glossary_page_is_up_to_date():
    assert DOC.read_text(encoding="utf-8") == glossary_markdown(), (
        "docs/glossary.md is stale: run `sobriete glossary > docs/glossary.md`"
    )


def test_every_quantity_name_carries_its_unit():
    suffix = {"kWh": "_kwh", "W": "_w", "m³": "_m3", "°C": "_c", "%": "_pct", "W/m²": "_w_m2",
              "m/s": "_m_s", "Pa": "_pa", "1": "_ratio"}
    for q in QUANTITIES.values():
        assert q.name.endswith(suffix[q.unit]), q.name


def test_unknown_quantity_lists_the_known_ones():
    try:
        quantity("energy_wh")
    except KeyError as exc:
        assert "energy_kwh" in str(exc)
    else:
        raise AssertionError("an unknown quantity must raise")
