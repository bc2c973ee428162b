"""One sentence in French and one in English per recommendation, with its numbers.

French numbers: narrow no-break space (U+202F) between thousands, decimal comma; figures are
rounded to two significant digits, because an estimate is not more precise than that.
"""

from __future__ import annotations

import math

from sobriete.advice.catalogue import CATALOGUE
from sobriete.advice.model import Recommendation
from sobriete.domain.numbers import fmt_en, fmt_fr  # noqa: F401  (re-exported: public API)


def round_sig(x: float, sig: int = 2) -> float:
    """``x`` to ``sig`` significant digits (0 stays 0)."""
    if x == 0 or not math.isfinite(x):
        return x
    return round(x, sig - 1 - int(math.floor(math.log10(abs(x)))))


def fmt_amount(x: float, fmt) -> str:
    """Two significant digits for figures >= 10, one decimal below."""
    return fmt(round_sig(x), 0) if abs(x) >= 10 else fmt(x, 1)


def _co2(kg: float, fmt) -> str:
    if abs(kg) >= 1000:
        t = round_sig(kg / 1000)
        return f"{fmt(t, 1 if abs(t) < 10 else 0)} tCO2"
    return f"{fmt_amount(kg, fmt)} kgCO2"


def _years(y: float | None, fmt, fr: bool) -> str:
    if y is None:
        return "non chiffré" if fr else "not computed"
    if fr:
        return f"{fmt(y, 1)} an" + ("s" if y >= 2 else "")
    return f"{fmt(y, 1)} yr"


def explain(rec: Recommendation) -> tuple[str, str]:
    """(French sentence, English sentence) for ``rec``, built from its numbers and basis."""
    spec = CATALOGUE[rec.action_code]
    k, e, c = rec.kwh_per_year, rec.eur_per_year, rec.co2_kg_per_year
    reason_fr = rec.basis.get("reason_fr", "")
    reason_en = rec.basis.get("reason_en", "")
    cee_fr = f" ({fmt_amount(rec.cee_eur, fmt_fr)} € de CEE à déduire)" if rec.cee_eur > 0 else ""
    cee_en = f" (less EUR {fmt_amount(rec.cee_eur, fmt_en)} of CEE)" if rec.cee_eur > 0 else ""
    if k.high <= 0 and e.high <= 0:
        fr = (f"{spec.name_fr} : {reason_fr} ; pas de gain en kWh chiffré, "
              f"pour environ {fmt_amount(rec.cost_eur.value, fmt_fr)} €.")
        en = (f"{spec.name_en}: {reason_en}; no kWh saving estimated, "
              f"for about EUR {fmt_amount(rec.cost_eur.value, fmt_en)}.")
        return fr, en
    fr = (f"{spec.name_fr} : {reason_fr} ; gain estimé {fmt_amount(k.value, fmt_fr)} kWh/an "
          f"({fmt_amount(k.low, fmt_fr)}-{fmt_amount(k.high, fmt_fr)}), "
          f"{fmt_amount(e.value, fmt_fr)} €/an, {_co2(c.value, fmt_fr)}/an, "
          f"pour environ {fmt_amount(rec.cost_eur.value, fmt_fr)} €{cee_fr} ; "
          f"retour en {_years(rec.payback_years, fmt_fr, True)}.")
    en = (f"{spec.name_en}: {reason_en}; estimated saving {fmt_amount(k.value, fmt_en)} kWh/yr "
          f"({fmt_amount(k.low, fmt_en)}-{fmt_amount(k.high, fmt_en)}), "
          f"EUR {fmt_amount(e.value, fmt_en)}/yr, {_co2(c.value, fmt_en)}/yr, "
          f"for about EUR {fmt_amount(rec.cost_eur.value, fmt_en)}{cee_en}; "
          f"pays back in {_years(rec.payback_years, fmt_en, False)}.")
    return fr, en


def reasons(basis_kind: str, **n) -> tuple[str, str]:
    """The 'why' clause of a sentence, per estimation basis, from the numbers ``n``."""
    if basis_kind == "findings":
        return n["finding_fr"], n["finding_en"]
    if basis_kind == "setpoint_rule":
        x = n["excess_k"]
        return (f"les locaux occupés dépassent 19 °C de {fmt_fr(x, 1)} K, soit "
                f"{fmt_fr(100 * n['share'], 0)} % du chauffage à 7 % par degré",
                f"occupied rooms exceed 19 °C by {fmt_en(x, 1)} K, i.e. "
                f"{fmt_en(100 * n['share'], 0)} % of heating at 7 % per degree")
    if basis_kind == "cee":
        a = n["area"]
        cumac = fmt_amount(n["cumac"], fmt_fr), fmt_amount(n["cumac"], fmt_en)
        return (f"fiche CEE {n['sheet']}, {fmt_fr(a)} m² en zone {n['zone']} "
                f"({cumac[0]} kWh cumac)",
                f"CEE sheet {n['sheet']}, {fmt_en(a)} m² in zone {n['zone']} "
                f"({cumac[1]} kWh cumac)")
    if basis_kind == "fuel_switch":
        f, el = n["fuel_kwh"], n["elec_kwh"]
        return (f"remplace {fmt_amount(f, fmt_fr)} kWh/an de combustible par "
                f"{fmt_amount(el, fmt_fr)} kWh/an d'électricité",
                f"replaces {fmt_amount(f, fmt_en)} kWh/yr of fuel with "
                f"{fmt_amount(el, fmt_en)} kWh/yr of electricity")
    if basis_kind == "typical":
        return ("aucune mesure de ce gaspillage, ordre de grandeur habituel (à confirmer)",
                "no measurement of this waste, typical order of magnitude (to confirm)")
    if basis_kind == "contract":
        return ("les pointes dépassent la puissance souscrite",
                "peaks exceed the subscribed power")
    return ("part habituelle de la consommation (hypothèse à confirmer)",
            "usual share of the consumption (assumption to confirm)")
