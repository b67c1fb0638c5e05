"""Estimates beyond the paper: configurational entropy and a Faraday capacity bound.

Arithmetic the rules cannot do (sums, fractions) is done here; where a guideline
of rules/ judges an estimate (the HEM definition), `estimate_facts()` hands the
estimate to the rules as a fact instead of judging it in code.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from hemkg.engine import Fact, Source
from hemkg.graph.materials import alloy_phases, element_data
from hemkg.graph.vocab import number_word, spoken_list, vocab

if TYPE_CHECKING:
    from hemkg.consultation.consultation import Consultation

FARADAY_MAH_PER_MOL = 96485.33212 / 3.6  # mAh per mole of electrons
FRACTION_TOLERANCE = 1e-9  # fractions computed in floating point may land a hair outside a bound they meet


def _sublattices(comp: dict[str, float], anions: frozenset[str]) -> tuple[dict[str, float], dict[str, float]]:
    return ({k: v for k, v in comp.items() if k not in anions}, {k: v for k, v in comp.items() if k in anions})


def _mixing_entropy(site: dict[str, float]) -> float:
    total = sum(site.values())
    return -sum((v / total) * math.log(v / total) for v in site.values() if v > 0) if total else 0.0


def entropy(composition: dict[str, float], anion_symbols: frozenset[str]) -> dict[str, Any]:
    """Ideal configurational entropy per sublattice, in units of R, and the paper's HEM definition.

    `anion_symbols` are the composition's anions as the rules find them (the rest is the cation site).
    """
    cations, anions = _sublattices(composition, anion_symbols)
    s_cat = _mixing_entropy(cations)
    total = sum(cations.values())
    fractions = {k: v / total for k, v in cations.items()} if total else {}
    hem = vocab().hem
    low, high = hem.fraction_range
    outside = sorted(k for k, x in fractions.items()
                     if not low - FRACTION_TOLERANCE <= x <= high + FRACTION_TOLERANCE)
    meets = len(fractions) >= hem.min_elements and not outside
    checked = [f"{number_word(hem.min_elements)} or more cations on the cation site",
               f"each cation {hem.percent_text} of the cation site"]
    not_checked = [f"{hem.structure}, which the definition also requires (Section {hem.section}) and a formula "
                   "cannot show"] if hem.structure else []
    result: dict[str, Any] = {
        "cation_site_R": round(s_cat, 3) + 0.0,  # + 0.0 turns -0.0 into 0.0
        "anion_site_R": round(_mixing_entropy(anions), 3) + 0.0,  # + 0.0 turns -0.0 into 0.0
        "class": "high" if s_cat >= 1.5 else "medium" if s_cat >= 1.0 else "low",
        "meets_hem_definition": meets,  # the checked criteria only; hem_definition says which
        "hem_definition": {"criteria_checked": checked, "not_checked": not_checked,
                           "meets_checked_criteria": meets},
        "cation_fractions": {k: round(x, 4) for k, x in fractions.items()},
        "basis": "beyond the paper: ideal mixing, S/R = -sum x ln x on each sublattice; classes high >= 1.5, "
                 f"medium 1.0-1.5, low < 1.0. The HEM definition ({hem.text}) is the "
                 f"paper's (Section {hem.section}), applied here to the cation sublattice.",
    }
    if not meets:
        reasons = []
        if len(fractions) < hem.min_elements:
            reasons.append(f"{len(fractions)} cation(s), fewer than {number_word(hem.min_elements)}")
        if outside:
            shares = ", ".join(f"{k} {fractions[k] * 100:.1f}%" for k in outside)
            reasons.append(f"outside {hem.percent_text}: {shares}")
        result["why_not_hem"] = "; ".join(reasons)
    return result


def estimate_facts(entropy_: dict[str, Any]) -> dict[Fact, Source]:
    """The estimate as rule facts: candidate_kind(hem|non-hem) by the paper's HEM definition on the cation
    sublattice, and hem_definition_unmet(why) where it misses the definition."""
    if entropy_["meets_hem_definition"]:
        meets = ("on the cation sublattice the candidate meets the element count and composition range of the "
                 "paper's HEM definition; an estimate beyond the paper")
        return {("candidate_kind", ("hem",)): Source("estimate", "entropy", label=meets)}
    why = entropy_["why_not_hem"]
    label = (f"on the cation sublattice the candidate does not meet the paper's HEM definition ({why}); "
             "an estimate beyond the paper")
    return {("hem_definition_unmet", (why,)): Source("estimate", "entropy", label=label),
            ("candidate_kind", ("non-hem",)): Source("estimate", "entropy", label=label)}


def capacity_estimate(c: Consultation) -> dict[str, Any]:
    """Theoretical capacity by mechanism from Faraday's law: an upper bound, beyond the paper."""
    data = element_data()
    comp = c.formula.composition
    mass = sum(amount * data[s]["mass"] for s, amount in comp.items())
    notes: list[str] = []
    electrons_conversion = 0.0
    if c.status("conversion") == "accessible":
        for (anion,) in c.result.words("anion"):
            charge = data[anion]["salt_charge"]
            if charge is None:
                notes.append(f"{anion}: no conversion-salt charge known, left out of the conversion estimate")
            else:
                electrons_conversion += comp[anion] * charge
    phases = []
    electrons_alloying = 0.0
    if c.status("alloying") == "accessible":
        for args in c.result.words("mechanism_element", "alloying"):
            host = args[1]
            phase = alloy_phases().get((host, c.ion))
            if phase is None:
                notes.append(f"{host} with {c.ion}+: no fully alloyed phase in the graph, "
                             "so no alloying estimate for it")
                continue
            electrons_alloying += comp[host] * phase["ions_per_atom"]
            phases.append({"element": host, **phase})
    electrons = {"conversion": electrons_conversion, "alloying": electrons_alloying}  # the mechanisms estimated
    for mechanism in electrons:
        if c.status(mechanism) == "undetermined":
            notes.append(f"{mechanism} is undetermined, so it is not estimated")
    per_electron = FARADAY_MAH_PER_MOL / mass if mass else 0.0
    conversion = electrons["conversion"] * per_electron
    alloying = electrons["alloying"] * per_electron
    not_estimated = spoken_list([m.label for m in vocab().mechanisms if m.name not in electrons])
    return {
        "conversion": round(conversion, 1),
        "alloying": round(alloying, 1),
        "total": round(conversion + alloying, 1),
        "unit": "mAh/g",
        "phases": phases,
        "notes": notes,
        "basis": "beyond the paper: an upper bound from Faraday's law, Q = n F / (3.6 M), per gram of the active "
                 "formula (framework excluded). Conversion counts the charge n of each anion's salt XnN (eqn 2); "
                 "alloying counts each alloying element's fully alloyed phase with the carrier ion. "
                 f"{not_estimated[:1].upper()}{not_estimated[1:]} are not estimated.",
    }

