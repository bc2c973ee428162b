"""CO2 and EUR conversions carry their factor, and say so when there is none."""

import pytest

from sobriete.analytics.conversions import co2_kg, cost_eur


def test_gas_co2_uses_the_dated_ademe_factor():
    c = co2_kg(1000.0, "gas")
    assert c.value == pytest.approx(227.0)
    doc = c.to_dict()
    assert doc["factor"]["unit"] == "kgCO2e/kWh" and "ADEME" in doc["factor"]["source"]


def test_prices_are_flagged_as_defaults_to_confirm():
    c = cost_eur(-500.0, "electricity")  # negative savings stay negative
    assert c.value == pytest.approx(-100.0)
    assert c.to_dict()["factor"]["to_confirm"] is True


def test_an_unknown_carrier_gives_no_number_and_says_why():
    c = co2_kg(1000.0, "heat")
    assert c.value is None and "heat" in c.note
