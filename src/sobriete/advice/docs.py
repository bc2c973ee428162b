"""The generated parts of docs/advice.md (catalogue, settings, to-confirm list).

tests/advice/test_docs.py fails when the page differs from these, so the page cannot drift
from the code; ``python -m sobriete.advice.docs`` prints the blocks to paste.
"""

from __future__ import annotations

from sobriete.advice.catalogue import CATALOGUE
from sobriete.advice.settings import DEFAULT_COSTS, TO_CONFIRM, AdviceSettings

_BASIS = {
    "findings": "measured waste of the findings",
    "setpoint_rule": "7 %/K of heating x measured excess",
    "cee": "CEE amount x area, capped",
    "share": "share of a measured use",
    "fuel_switch": "fuel removed minus electricity drawn",
    "contract": "contract (no kWh)",
}


def catalogue_table() -> str:
    lines = ["| code | type | nom | estimation | lifetime [yr] | CEE sheet | cost (default) |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for a in CATALOGUE.values():
        c = DEFAULT_COSTS[a.code]
        cost = (f"{c.value:g} EUR/m² ({c.low:g}-{c.high:g})" if c.per == "m2"
                else f"{c.value:g} EUR ({c.low:g}-{c.high:g})")
        lines.append(f"| `{a.code}` | {a.type.value} | {a.name_fr} | {_BASIS[a.basis.value]} "
                     f"| {a.lifetime_years} | {a.cee_sheet or '-'} | {cost} |")
    return "\n".join(lines)


def settings_table() -> str:
    lines = ["| setting | default | meaning (unit in brackets) |", "| --- | --- | --- |"]
    defaults = AdviceSettings()
    for name, f in AdviceSettings.model_fields.items():
        if name == "costs":
            value = "see the catalogue table"
        else:
            value = repr(getattr(defaults, name)).replace("|", "\\|")
        desc = (f.description or "").replace("|", "\\|")
        lines.append(f"| `{name}` | `{value}` | {desc} |")
    return "\n".join(lines)


def to_confirm_list() -> str:
    items = [f"- `{n}`" for n, f in AdviceSettings.model_fields.items()
             if TO_CONFIRM in (f.description or "")]
    items += [f"- lifetime of `{a.code}`: {a.lifetime_source}" for a in CATALOGUE.values()
              if TO_CONFIRM in a.lifetime_source or "assumption" in a.lifetime_source]
    return "\n".join(items)


BLOCKS = {"catalogue": catalogue_table, "settings": settings_table,
          "to-confirm": to_confirm_list}


def block(name: str) -> str:
    return f"<!-- generated: {name} -->\n{BLOCKS[name]()}\n<!-- end: {name} -->"


if __name__ == "__main__":  # pragma: no cover
    for name in BLOCKS:
        print(block(name), end="\n\n")
