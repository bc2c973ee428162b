"""Sentences people can act on, with the numbers, in French formatting."""

from sobriete.advice import explain, fmt_fr, recommend

N = "\u202f"


def test_french_number_formatting():
    assert fmt_fr(14_000) == f"14{N}000"
    assert fmt_fr(1_234_567.891, 2) == f"1{N}234{N}567,89"
    assert fmt_fr(3.24, 1) == "3,2"


def test_setback_sentence_has_the_numbers(school, finding):
    r = recommend(school, [finding(kwh=14_000)], annual_kwh={"gas": 200_000.0})[0]
    assert r.action_code == "night_setback"
    assert r.message_fr == (
        "Abaissement de nuit et de week-end : la nuit, l'école consomme 62 % de sa puissance "
        "de journée (référence : 25 %) ; "
        f"gain estimé 14{N}000 kWh/an (8{N}400-20{N}000), 1{N}400 €/an, 3,2 tCO2/an, "
        "pour environ 500 € ; retour en 0,4 an.")
    assert r.message_en == (
        "Night and weekend set-back: at night the school draws 62 % of its daytime power "
        "(reference: 25 %); estimated saving 14,000 kWh/yr (8,400-20,000), EUR 1,400/yr, "
        "3.2 tCO2/yr, for about EUR 500; pays back in 0.4 yr.")
    assert explain(r) == (r.message_fr, r.message_en)


def test_works_sentence_names_the_sheet_and_cee(school):
    recs = {r.action_code: r for r in recommend(school, [], annual_kwh={"gas": 200_000.0})}
    fr, en = explain(recs["thermostatic_valves"])
    assert f"fiche CEE BAT-TH-104, 1{N}200 m² en zone H1" in fr
    assert f"7{N}500 kWh/an" in fr and "de CEE à déduire" in fr and "ans." in fr
    assert "CEE sheet BAT-TH-104" in en and "7,500 kWh/yr" in en
