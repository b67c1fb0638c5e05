"""Estimates beyond the paper: configurational entropy and the theoretical capacity by mechanism.

Arithmetic the rules cannot do (sums, fractions) is done here; where a guideline
of rules/ judges an estimate (the HEM definition), `estimate_facts()` hands the
estimate to the rules as a fact instead of judging it in code.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from hemkg.engine import Fact, Source
from hemkg.graph.materials import alloy_phases, element_data, reported_capacities, reported_materials
from hemkg.graph.vocab import json_key, number_word, vocab
from hemkg.system.kept import kept_when_asked_again

if TYPE_CHECKING:
    from hemkg.consultation.consultation import Consultation

FARADAY_C_PER_MOL = 96485.33212  # CODATA 2018, exact since the 2019 SI
FARADAY_MAH_PER_MOL = FARADAY_C_PER_MOL / 3.6  # mAh per mole of electrons
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


# The kind word of a candidate (candidate_kind(K)) and of a reported material (material_kind(MAT, K)) by the paper's
# HEM definition on the cation sublattice, which the evidence rules compare, with the words answers print for it
KINDS = {"hem": "HEM", "non-hem": "non-HEM"}
HEM_KIND, OTHER_KIND = KINDS


def kind(entropy_: dict[str, Any]) -> str:
    """The kind word (KINDS) of what entropy() measured."""
    return HEM_KIND if entropy_["meets_hem_definition"] else OTHER_KIND


def estimate_facts(entropy_: dict[str, Any]) -> dict[Fact, Source]:
    """The estimate as rule facts: candidate_kind(K) by the paper's HEM definition on the cation sublattice, and
    hem_definition_unmet(why) where it misses the definition."""
    if entropy_["meets_hem_definition"]:
        meets = ("on the cation sublattice the candidate meets the element count and composition range of the "
                 "paper's HEM definition; an estimate beyond the paper")
        return {("candidate_kind", (kind(entropy_),)): Source("estimate", "entropy", label=meets)}
    why = entropy_["why_not_hem"]
    label = (f"on the cation sublattice the candidate does not meet the paper's HEM definition ({why}); "
             "an estimate beyond the paper")
    return {("hem_definition_unmet", (why,)): Source("estimate", "entropy", label=label),
            ("candidate_kind", (kind(entropy_),)): Source("estimate", "entropy", label=label)}


# ------------------------------------------------------------------ theoretical capacity by mechanism

BEYOND_THEORETICAL = "stmt-capacity-beyond-theoretical"  # kg/guidelines.ttl: Section 2.4, ref 53
CAPACITY_BASIS = ("beyond the paper: the theoretical capacity of the reactions element selection makes accessible, "
                  "by Faraday's law Q = n F / (3.6 M) per gram of the active material's formula (framework excluded). "
                  "Conversion: each conversion element reduced to the metal (eqn 2), n = its oxidation state in the "
                  "charge-balanced reading times its amount. Alloying: each alloying element in the most alloyed "
                  "phase known with the carrier ion (kg/capacity-data.ttl), n = ions per host atom times its amount.")


def _electrons(x: float) -> str:
    return f"{x:.4g}"


def _plane_of(mechanism: str) -> Any:
    return next(p for p in vocab().planes if p.mechanism == mechanism)


def _conversion(c: Consultation, comp: dict[str, float], per_electron: float) -> dict[str, Any]:
    """Conversion: each conversion element's oxidation state times its amount (eqn 2, reduction to the metal)."""
    from hemkg.consultation.oxidation import charge_balance, suggestions

    label = vocab().mechanism("conversion").label
    status = c.status("conversion")
    record: dict[str, Any] = {"status": json_key(status), "electrons": 0.0, "mAh_g": 0.0, "cations": [],
                              "polyanions": [], "text": ""}
    if status != "accessible":
        record["text"] = (f"{label.capitalize()}: {status.replace('-', ' ')} here, so no {label} capacity is "
                          "counted.")
        return record
    balance = charge_balance(comp)
    if balance.assignment is None:
        suggested = suggestions(c.formula)
        record.update(electrons=None, mAh_g=None,
                      text=f"{label.capitalize()}: cannot be computed, since the formula is {balance.text()}"
                           + (f" (did you mean {' or '.join(suggested)}?)" if suggested else "")
                           + ". Reduction to the metal (eqn 2) counts each cation's oxidation state, and without a "
                             "balanced reading there is none to count.")
        return record
    converting = {args[1] for args in c.result.words("mechanism_element", "conversion")}
    plane = _plane_of("conversion")
    counted, left_out = [], []
    for site in balance.assignment.sites:
        if site.state <= 0:  # an anion, or an element at 0 (metallic): nothing to reduce
            continue
        electrons = site.state * site.amount
        entry = {"element": site.element, "oxidation_state": site.state, "amount": site.amount,
                 "electrons": electrons if site.element in converting else 0.0,
                 "counted": site.element in converting}
        if site.element in converting:
            counted.append(f"{site.name()} {_electrons(site.amount)} x {site.state}")
        else:
            entry["why"] = (f"not on {plane.short_label}, so the paper does not count it among the cations that "
                            "convert" if site.element not in plane.members else
                            f"the rules do not count it among the {label} elements of this material")
            left_out.append(f"{site.name()}, {entry['why']}")
        record["cations"].append(entry)
    record["polyanions"] = [{"formula": u.formula, "charge": u.charge, "amount": u.amount}
                            for u in balance.assignment.units]
    electrons = sum(e["electrons"] for e in record["cations"])
    record.update(electrons=electrons, mAh_g=electrons * per_electron)
    text = (f"{label.capitalize()} (eqn 2, each cation reduced to the metal): "
            + (" + ".join(counted) + f" = {_electrons(electrons)} e per formula unit"
               if counted else "no conversion element with a positive oxidation state, 0 e"))
    text += f", {electrons * per_electron:.1f} mAh/g."
    if left_out:
        text += " Contributes nothing: " + "; ".join(left_out) + "."
    if balance.used_less_common:
        text += f" The balance needs less common oxidation states ({', '.join(balance.assignment.less_common())})."
    others = {sum(s.state * s.amount for s in a.sites if s.state > 0 and s.element in converting)
              for a in balance.examples} - {electrons}
    if others:
        text += (" Other balanced assignments would count otherwise, e.g. "
                 + ", ".join(f"{_electrons(x)} e" for x in sorted(others)) + ".")
    for unit in balance.assignment.units:
        if unit.charge:
            text += (f" The polyanion {unit.name()} is taken whole as the salt's anion (X_nN of eqn 2); "
                     "reducing it further is not counted.")
    record["text"] = text
    return record


def _alloying(c: Consultation, comp: dict[str, float], per_electron: float) -> tuple[dict[str, Any], list[str]]:
    """Alloying: each alloying element in the most alloyed known phase with the carrier ion."""
    label = vocab().mechanism("alloying").label
    status = c.status("alloying")
    record: dict[str, Any] = {"status": json_key(status), "electrons": 0.0, "mAh_g": 0.0, "elements": [],
                              "no_phase_known": [], "text": ""}
    sources: list[str] = []
    if status != "accessible":
        record["text"] = f"{label.capitalize()}: {status.replace('-', ' ')} here, so no {label} capacity is counted."
        return record, sources
    parts, missing = [], []
    plane = _plane_of("alloying")
    for args in c.result.words("mechanism_element", "alloying"):
        host = args[1]
        phase = alloy_phases().get((host, c.ion))
        if phase is None:
            record["no_phase_known"].append({
                "element": host, "ion": c.ion,
                "why": f"{plane.short_label} is not ion-specific in the paper, but no alloy phase of {host} with "
                       f"{c.ion}+ is known to hemkg's sources (kg/capacity-data.ttl), so none is counted"})
            missing.append(host)
            continue
        electrons = comp[host] * phase["ions_per_atom"]
        record["elements"].append({
            "element": host, "phase": phase["phase"], "ions_per_atom": phase["ions_per_atom"], "amount": comp[host],
            "electrons": electrons, "source": phase["source"], "from_paper": phase["from_paper"],
            **({"on_the_way": [{"phase": p["phase"], "source": p["source"]} for p in phase["on_the_way"]]}
               if phase.get("on_the_way") else {}),
        })
        where = phase["source"] if phase["from_paper"] else "outside the paper"
        parts.append(f"{host} -> {phase['phase']} {_electrons(comp[host])} x {phase['ions_per_atom']:.4g} ({where})")
        sources.append(phase["source"] if phase["from_paper"] else f"outside the paper: {phase['source']}")
    electrons = sum(e["electrons"] for e in record["elements"])
    record.update(electrons=electrons, mAh_g=electrons * per_electron)
    text = (f"{label.capitalize()} (the most alloyed known phase with {c.ion}+): "
            + (" + ".join(parts) + f" = {_electrons(electrons)} e per formula unit, "
               f"{electrons * per_electron:.1f} mAh/g." if parts else "0 mAh/g."))
    for entry in record["elements"]:
        if entry.get("on_the_way"):
            text += "".join(f" {p['phase']} ({p['source']}) is reported on the way to {entry['phase']}."
                            for p in entry["on_the_way"])
    for entry in record["no_phase_known"]:
        text += f" {entry['element']}: {entry['why']}."
    record["text"] = text
    return record, sources


def _reported(c: Consultation) -> list[dict[str, Any]]:
    """The specific capacities the paper reports for materials of the same composition (or the same elements)."""
    same = {str(args[0]) for args in c.result.words("matches_reported")}  # the run's own: found once per candidate
    elements = set(c.formula.composition)
    found = []
    for material, values in sorted(reported_capacities().items()):
        entry = reported_materials()[material]
        if material in same:
            relation = "same composition"
        elif entry["elements"] == elements:
            relation = "same elements, other amounts"
        else:
            continue
        for value in values:
            found.append({"material": material, "label": entry["label"], "relation": relation, **value})
    return found


# theoretical_capacity's records by what they are worked out from, for every consultation of the process
_CAPACITIES: dict[tuple[Any, ...], dict[str, Any]] = {}
_CAPACITIES_ASKED: set[tuple[Any, ...]] = set()  # kept_when_asked_again: the keys asked for once
CAPACITIES_KEPT = 4096


def theoretical_capacity(c: Consultation) -> dict[str, Any]:
    """The theoretical capacity of the reactions element selection makes accessible, by mechanism, in mAh/g.

    Unrounded (the screen compares with it); `rounded()` gives the JSON answer's figures. Kept per process for
    the same formula, ion and conclusions it reads (the statuses, the mechanisms' elements, the reported materials
    matched) once they are asked for again: nobody changes the record.
    """
    r = c.result
    key = (c.formula.text, c.formula.active, tuple(c.formula.composition.items()), c.ion,
           tuple(c.status(m) for m in vocab().mechanism_names), tuple(r.words("mechanism_element")),
           tuple(r.words("matches_reported")))
    record = kept_when_asked_again(_CAPACITIES, _CAPACITIES_ASKED, key, CAPACITIES_KEPT, _capacity, c)
    if any(v["exceeds_theoretical"] for v in record["reported"]):  # the paper's remark, and whether this run noted it
        record = {**record, "beyond_theoretical": _beyond_theoretical(c)}
    return record


def _capacity(c: Consultation) -> dict[str, Any]:
    data = element_data()
    comp = c.formula.composition
    mass = sum(amount * data[s]["mass"] for s, amount in comp.items())
    per_electron = FARADAY_MAH_PER_MOL / mass if mass else 0.0
    conversion = _conversion(c, comp, per_electron)
    alloying, phase_sources = _alloying(c, comp, per_electron)
    total = None if conversion["mAh_g"] is None else conversion["mAh_g"] + alloying["mAh_g"]
    estimated = {"conversion": conversion, "alloying": alloying}
    not_estimable = {}
    for m in vocab().mechanisms:
        if m.name not in estimated:
            not_estimable[m.json_key] = (f"{m.label}: {c.status(m.name).replace('-', ' ')}; its capacity cannot "
                                         "be estimated from the composition alone, since it depends on the "
                                         "host structure and its interfaces")
    reported = _reported(c)
    for value in reported:
        value["exceeds_theoretical"] = (total is not None and value["qualifier"] != "less than"
                                        and value["mAh_g"] > total)
    record: dict[str, Any] = {
        "conversion": conversion["mAh_g"],
        "alloying": alloying["mAh_g"],
        "total": total,
        "unit": "mAh/g",
        "formula_mass_g_mol": mass,
        "faraday_mAh_mol": FARADAY_MAH_PER_MOL,
        "arithmetic": estimated,
        "not_estimable": not_estimable,
        "reported": reported,
        "sources": list(dict.fromkeys([
            f"Faraday constant {FARADAY_C_PER_MOL} C/mol (CODATA 2018); atomic masses from kg/generated",
            "oxidation states: the charge-balanced reading (pymatgen's element data, kg/generated; "
            "anion charges, kg/anions.ttl)",
            *phase_sources])),
        "basis": CAPACITY_BASIS,
    }
    return record


def _beyond_theoretical(c: Consultation) -> dict[str, Any]:
    """The paper's remark that transition-metal compounds often exceed their theoretical capacity (kg statement)."""
    from hemkg.graph import statements as knowledge
    from hemkg.graph.store import HEMKG

    st = knowledge.statements()[HEMKG + BEYOND_THEORETICAL]
    noted = any(BEYOND_THEORETICAL in d.rule.rests_on for args in c.result.query("note")
                for d in c.result.derivations.get(("note", args), []))
    quote = st.scope_notes[0] if st.scope_notes else st.label
    return {"statement": BEYOND_THEORETICAL, "text": f"The paper (Section {', '.join(st.sections)}): \"{quote}\"",
            "citations": st.references, "also_a_note": noted}


def rounded(record: dict[str, Any]) -> dict[str, Any]:
    """The record with its capacities and masses to 0.1 mAh/g and 0.01 g/mol, for the JSON answer."""
    def r(x: float | None, digits: int = 1) -> float | None:
        return None if x is None else round(x, digits) + 0.0

    out = {**record, "conversion": r(record["conversion"]), "alloying": r(record["alloying"]),
           "total": r(record["total"]), "formula_mass_g_mol": r(record["formula_mass_g_mol"], 3),
           "faraday_mAh_mol": r(record["faraday_mAh_mol"], 2)}
    out["arithmetic"] = {k: {**v, "mAh_g": r(v["mAh_g"]), "electrons": r(v["electrons"], 6)}
                         for k, v in record["arithmetic"].items()}
    return out
