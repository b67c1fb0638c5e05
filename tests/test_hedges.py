"""The paper's hedges and the items issue 11 found missing: each in the graph (references, location, quote) and in
what a consultation says (the JSON answer of hemkg.answers.summary)."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import fired, kg, rule_entries

from hemkg.answers.report import render_consultation
from hemkg.answers.summary import summarise
from hemkg.consultation.consultation import consult
from hemkg.graph import statements as knowledge
from hemkg.graph.store import HEM, HEMKG, select


def st(name: str) -> knowledge.Statement:
    return knowledge.statements()[kg(name)]


def answer(formula: str, ion: str = "Li") -> dict[str, Any]:
    return summarise(consult(formula, ion))


def findings(d: dict[str, Any], topic: str, section: str = "notes") -> list[dict[str, Any]]:
    return [f for f in d[section] if f["topic"] == topic]


def one_finding(d: dict[str, Any], topic: str, section: str = "notes") -> dict[str, Any]:
    found = findings(d, topic, section)
    assert len(found) == 1, f"{topic}: {[f['topic'] for f in d[section]]}"
    return found[0]


# ------------------------------------------------------------------ 1. ref 46: reversibility


def test_ref46_co_ni_only_partly_reoxidised_zn_reversible():
    """Section 2.2, Fig. 3l-m, ref 46: in (Mg0.2Co0.2Ni0.2Cu0.2Zn0.2)O 'only partial re-oxidation occurs for Co and
    Ni, while Zn undergoes complete oxidation'; only Zn stays reversible after 300 cycles."""
    material = "material-Mg0-2Co0-2Ni0-2Cu0-2Zn0-2O"
    expected = {"Co": HEM + "partlyReversible", "Ni": HEM + "partlyReversible", "Zn": HEM + "reversible"}
    for element, reversibility in expected.items():
        s = st(f"stmt-example-Mg0-2Co0-2Ni0-2Cu0-2Zn0-2O-{element}-conversion")
        assert s.references == [46] and s.sections == ["2.2"] and s.figures == ["Fig. 3l-m"]
        assert s.reversibility == reversibility
        assert "only partial re-oxidation occurs for Co and Ni" in s.scope_notes[0]
        assert "300 cycles" in s.scope_notes[0]
    assert st("stmt-example-Mg0-2Co0-2Ni0-2Cu0-2Zn0-2O-Co-conversion").reversibility_label == "only partly reversible"
    # what the consultation of that very material rests on when it cites ref 46 for Co and Ni conversion
    c = consult("(Mg0.2Co0.2Ni0.2Cu0.2Zn0.2)O", "Li")
    seen = {}
    for (element, mechanism, where, state) in c.result.query("observed"):
        if where == material and mechanism == "conversion":
            seen[element] = knowledge.statements()[c.result.sources[("observed", (element, mechanism, where, state))]
                                                   .detail].reversibility
    assert seen == expected
    d = summarise(c)
    # the evidence the answer gives for Co and Ni conversion carries ref 46 and says they are only partly reversible
    reports = {(i["element"], r["statement"]): r for i in d["mechanisms"]["conversion"]["evidence_detail"]
               if i["level"] == "reported_here" for r in i.get("reports", []) if 46 in r["references"]}
    for element in ("Co", "Ni"):
        (report,) = [r for (x, _), r in reports.items() if x == element]
        assert report["reversibility"] == "only partly reversible"
    (zinc,) = [r for (x, _), r in reports.items() if x == "Zn"]
    assert zinc.get("reversibility") != "only partly reversible"
    text = " ".join(render_consultation(d).split())  # as one line: the report wraps
    assert "(Mg0.2Co0.2Ni0.2Cu0.2Zn0.2)O [46] (Co, Ni only partly reversible; Zn reversible)" in text


# ------------------------------------------------------------------ 2. ref 73: one material's ratios


def test_ref73_ratios_belong_to_one_material():
    """Section 3.2 and Fig. 7b, ref 73: the Na/K capacity ratios (90.5%, 46.8%; 22.8%, 17.1%) are the authors'
    measurement on one conversion anode, in which Fe nanoparticles form; not a law for every candidate."""
    material = kg("material-ref73-Fe-conversion-anode")
    values = {row["v"].removeprefix(HEMKG) for row in select("SELECT ?v WHERE { ?m hem:hasReportedValue ?v }",
                                                             m=material)}
    assert {f"value-{m}-by-ion-{i}-ion" for m in ("conversion", "space-charge") for i in ("Li", "Na", "K")} == values
    for name in ("stmt-order-conversion-by-ion", "stmt-order-space-charge-by-ion"):
        s = st(name)
        assert s.references == [73] and "3.2" in s.sections and "Fig. 7b" in s.figures
        assert material in s.mentions
    assert "90.5% (476.0 mAh g-1)" in st("stmt-order-conversion-by-ion").scope_notes[0]
    assert "22.8% (163.0 mAh g-1)" in st("stmt-order-space-charge-by-ion").scope_notes[0]
    d = answer("Fe3O4", "Na")
    for mechanism, share in (("conversion", "90.5%"), ("space-charge", "22.8%")):
        note = one_finding(d, f"{mechanism}-weaker-with-Na")
        assert share in note["text"] and "ref 73" in note["text"] and "Fig. 7b" in note["text"]
        assert "single material" in note["text"] and "not a figure for this candidate" in note["text"]
        assert note["citations"] == [73]


# ------------------------------------------------------------------ 3. the ~1.0 V plateau


def test_one_volt_plateau_is_a_note_about_hem_anodes_si_is_the_remedy():
    """Section 3.1, ref 47: HEM anodes 'with typical voltage plateaus occurring at ~1.0 V' lower full-cell energy;
    Si, 'a favorable voltage plateau ~0.4 V versus Li/Li+', is the suggested remedy."""
    s = st("stmt-hem-working-voltage")
    assert s.references == [47] and s.sections == ["3.1"] and "typical voltage plateaus occurring at ~1.0 V" in s.scope_notes[0]
    assert "~0.4 V" in st("stmt-si-lowers-voltage").scope_notes[0]
    d = answer("InGeSiP3")  # ref 47: Si with accessible conversion and alloying
    energy = [e for e in d["effects"] if e["property"] == "full_cell_energy_density"]
    assert [(e["direction"], e["elements"], e["rule"]) for e in energy] == [("+", ["Si"], "full-cell-silicon-plateau")]
    note = one_finding(d, "hem-anode-voltage-plateau")
    assert "1.0 V" in note["text"] and "not of any one element" in note["text"] and note["citations"] == [47]


# ------------------------------------------------------------------ 4. ref 75: named oxidation states


def test_ref75_findings_hold_for_the_oxidation_states_they_name():
    """Section 3.1, ref 75: Lun et al. found 'Mg2+, Zn2+, Ga3+, Al3+, and Sn4+ as poorly compatible in conventional
    systems'; high entropy admits 'Cr3+, Sb5+'; dual-redox centres 'Mn2+/Mn4+, V3+/V5+'."""
    named = {(row["s"], int(row["z"])) for row in select(
        """SELECT ?s ?z WHERE { hemkg:stmt-phase-poorly-compatible hem:mentions ?i .
                                ?i a hem:NamedIon ; hem:ionElement/hem:symbol ?s ; hem:ionCharge ?z }""")}
    assert named == {("Mg", 2), ("Zn", 2), ("Ga", 3), ("Al", 3), ("Sn", 4)}
    s = st("stmt-phase-poorly-compatible")
    assert s.references == [75] and s.sections == ["3.1"] and "Mg2+, Zn2+, Ga3+, Al3+, and Sn4+" in s.scope_notes[0]
    assert "Cr3+, Sb5+" in st("stmt-phase-high-entropy-admits").scope_notes[0]
    tin4 = answer("SnO2")
    assert one_finding(tin4, "phase-formation", "cautions")["about"] == ["Sn"]
    assert "Sn4+" in one_finding(tin4, "phase-formation", "cautions")["text"]
    tin2 = answer("SnO")  # Sn2+ is not the state named
    assert not findings(tin2, "phase-formation", "cautions")
    assert "oxidation state 2" in one_finding(tin2, "phase-formation-other-state")["text"]
    unbalanced = answer("MgSbMnS16")  # no charge-balanced assignment
    caution = one_finding(unbalanced, "phase-formation-states-unfixed", "cautions")
    assert caution["about"] == ["Mg"] and "not fixed" in caution["text"] and caution["citations"] == [75]
    antimony3 = one_finding(answer("Sb2S3"), "phase-entropy-admits")
    assert "Sb5+" in antimony3["text"] and "does not apply as stated" in antimony3["text"]
    assert "the state the finding names" in one_finding(answer("Cr2O3"), "phase-entropy-admits")["text"]


# ------------------------------------------------------------------ 5. the HEM definition


def test_hem_definition_says_what_it_checked_and_that_single_phase_is_not_judged():
    """Section 1, refs 17, 18: HEMs integrate 'five or more elements ... (composition range: 5-35 at%) into a
    single-phase crystalline structure'; a formula shows the first two, not the single phase."""
    s = st("stmt-hem-definition")
    assert s.references == [17, 18] and s.sections == ["1"] and "single-phase crystalline structure" in s.scope_notes[0]
    for formula, meets in (("(MgCoNiCuZn)O", True), ("Fe3O4", False)):
        d = answer(formula)
        definition = d["entropy"]["hem_definition"]
        assert definition["meets_checked_criteria"] is meets is d["entropy"]["meets_hem_definition"]
        assert any("five or more" in c for c in definition["criteria_checked"])
        assert any("5-35 at%" in c for c in definition["criteria_checked"])
        assert len(definition["not_checked"]) == 1 and "single-phase" in definition["not_checked"][0]
        assert "cannot show" in definition["not_checked"][0]
        text = " ".join(render_consultation(d, width=400).split())
        assert "single-phase formation" in text and "a formula cannot show" in text


# ------------------------------------------------------------------ 6. techniques: confirm or complement


def test_techniques_confirm_or_complement_as_section_4_says():
    """Section 4 (III): in situ XRD and TEM follow phase changes, operando magnetometry space charge, and 'In situ
    EIS and EPR spectroscopy offer complementary insights'; GITT and b-value analysis complement too."""
    confirms = st("stmt-techniques-confirm-phase-changes")
    assert "4" in confirms.sections and "in situ XRD enables real-time tracking" in confirms.scope_notes[0]
    assert 41 in confirms.references and 47 in confirms.references
    space = st("stmt-techniques-confirm-space-charge")
    assert space.references == [57, 59, 60] and "measured using operando magnetometry" in space.scope_notes[0]
    complements = st("stmt-techniques-complement")
    assert complements.rests_on_paper_alone and "offer complementary" in complements.scope_notes[0]
    assert complements.predicate == HEM + "complements" and confirms.predicate == HEM + "confirms"
    d = answer("Fe3O4")
    t = d["techniques"]
    assert "confirm_with" not in d
    assert {"in situ XRD", "in situ TEM", "SAED"} <= set(t["conversion"]["confirms"])
    assert "operando magnetometry" in t["space_charge"]["confirms"]
    for mechanism in ("conversion", "space_charge"):
        assert {"in situ EIS", "in situ EPR"} <= set(t[mechanism]["complements"])
        assert not {"in situ EIS", "in situ EPR", "GITT"} & set(t[mechanism]["confirms"])
    assert "cyclic voltammetry with power-law (b-value) analysis" in t["space_charge"]["complements"]
    assert "alloying" not in t  # not accessible for Fe3O4: no technique offered
    text = " ".join(render_consultation(d, width=400).split())
    assert "to confirm it:" in text and "complementary, not confirming by themselves:" in text


# ------------------------------------------------------------------ 7. missing from the graph


def test_transition_metal_salts_exceed_theoretical_capacity():
    """Section 2.4, ref 53 ('Transition metal salts often show substantially higher capacities than their
    theoretical capacity'), and ref 54 (Laruelle's polymeric or gel-like film): a note beside the capacity figures."""
    s = st("stmt-tm-salts-exceed-theoretical")
    assert s.references == [53] and s.sections == ["2.4"] and "ongoing debate" in s.scope_notes[0]
    gel = st("stmt-laruelle-gel-film")
    assert gel.references == [54] and gel.sections == ["2.4"] and "gel-like film" in gel.scope_notes[0]
    note = one_finding(answer("Fe3O4"), "capacity-beyond-theoretical")
    assert note["citations"] == [53, 54] and "debated" in note["text"] and "gel-like film" in note["text"]
    assert not findings(answer("MgO"), "capacity-beyond-theoretical")  # no accessible conversion


def test_space_charge_differs_from_adsorption_and_electrolyte_decomposition():
    """Section 2.4, refs 16, 55, 56: space charge 'differs fundamentally from surface adsorption' and, 'unlike
    irreversible electrolyte decomposition ... detected using isotope labeling techniques', is reversible."""
    assert st("stmt-space-charge-not-surface-adsorption").references == [16]
    assert "surface adsorption" in st("stmt-space-charge-not-surface-adsorption").scope_notes[0]
    decomposition = st("stmt-space-charge-not-electrolyte-decomposition")
    assert decomposition.references == [55, 56] and "isotope labeling" in decomposition.scope_notes[0]
    note = one_finding(answer("Fe3O4"), "space-charge-distinct-capacity")
    assert note["citations"] == [16, 55, 56] and "surface adsorption" in note["text"]
    assert "space-charge-distinct-capacity" in rule_entries() and "status(space-charge, accessible)" in \
        rule_entries()["space-charge-distinct-capacity"]["when"]
    assert not findings(answer("SnO2"), "space-charge-distinct-capacity")  # no Plane C cation


def test_stabilizers_can_mediate_electron_transfer():
    """Section 3.1 (no reference): inactive stabilizers 'can additionally undergo valence changes that mediate
    electron transfer'."""
    s = st("stmt-stabilizer-valence-changes")
    assert s.rests_on_paper_alone and s.sections == ["3.1"] and "mediate electron transfer" in s.scope_notes[0]
    note = one_finding(answer("(MgCoNiCuZn)O"), "stabilizer-valence-changes")
    assert note["about"] == ["Mg"] and "can undergo valence changes" in note["text"]
    assert not findings(answer("Fe3O4"), "stabilizer-valence-changes")


def test_cobalt_intermediate_magnetisation_rise():
    """Section 3.1, Fig. 7a, ref 61: 'for metallic cobalt nanoparticles, an intermediate increase in magnetization
    is observed between the conversion cutoff and discharge cutoff voltages'."""
    s = st("stmt-cobalt-intermediate-magnetisation")
    assert s.references == [61] and s.figures == ["Fig. 7a"] and "intermediate increase" in s.scope_notes[0]
    note = one_finding(answer("Co3O4"), "cobalt-intermediate-magnetisation")
    assert note["citations"] == [61] and "Fe > Co > Ni" in note["text"]
    assert not findings(answer("Fe3O4"), "cobalt-intermediate-magnetisation")


def test_defect_sites_speed_conversion_too():
    """Section 3.2 summary: 'introduce abundant defect sites, we can enhance intercalation and conversion reaction
    kinetics' (Table 1, ref 21, keeps only the intercalation arrow)."""
    s = st("stmt-summary-defect-sites-kinetics")
    assert s.rests_on_paper_alone and s.sections == ["3.2"] and "abundant defect sites" in s.scope_notes[0]
    for rule in ("recommend-defect-sites", "defect-sites-given"):
        assert "stmt-summary-defect-sites-kinetics" in rule_entries()[rule]["rests_on"]
    d = answer("Fe3O4")
    (recommendation,) = [r for r in d["recommendations"] if r["factor"] == "increased-defect-sites"]
    assert "conversion kinetics" in recommendation["text"] and recommendation["citations"] == [21]


def test_fig7c_lithium_capacities_follow_the_anions():
    """Section 3.1, Fig. 7c: 'the maximum capacity trends in LIBs align well with theoretical expectations of P, S,
    O, and Se' (the caption's refs 40, 45, 47, 49, 74, 77-90)."""
    s = st("stmt-fig7c-lib-capacity-follows-anions")
    assert s.figures == ["Fig. 7c"] and 77 in s.references and 90 in s.references
    assert "align well with theoretical expectations" in s.scope_notes[0]
    note = one_finding(answer("FeS2"), "anion-capacity-trend-lithium")
    assert note["about"] == ["S"] and "Fig. 7c" in note["text"]
    assert not findings(answer("FeS2", "Na"), "anion-capacity-trend-lithium")
    assert not findings(answer("Sb2Te3"), "anion-capacity-trend-lithium")  # Te is not in Fig. 7c


def test_to_a_certain_extent_hedge_on_conductivity_and_capacity():
    """Section 3.2 summary: conductivity and theoretical capacity 'govern the rate performance and initial
    reversible capacity of HEMs to a certain extent'."""
    hedge = st("stmt-summary-to-a-certain-extent")
    assert hedge.rests_on_paper_alone and "to a certain extent" in hedge.scope_notes[0]
    qualified = {s.iri.removeprefix(HEMKG) for s in knowledge.statements().values() if hedge.iri in s.qualified_by}
    assert {"stmt-se-te-fast-charging", "stmt-si-conductivity", "stmt-high-capacity-anions-capacity"} <= qualified
    for rule in ("fast-charging-from-conductive-anion", "fast-charging-si-conductivity",
                 "capacity-from-high-capacity-anion", "fast-charging-ge-mobility", "fast-charging-in-conductivity"):
        assert "stmt-summary-to-a-certain-extent" in rule_entries()[rule]["rests_on"]
        assert "to a certain extent" in rule_entries()[rule]["statement"]
    d = answer("InGeSiSe3")
    hedged = [e for e in d["effects"] if e["property"] == "fast_charging" and e["rule"].startswith("fast-charging-")]
    assert hedged and all("to a certain extent" in e["statement"] for e in hedged if e["rule"] in
                          {"fast-charging-from-conductive-anion", "fast-charging-si-conductivity"})


@pytest.mark.parametrize("rule", ["capacity-beyond-theoretical", "cobalt-intermediate-magnetisation",
                                  "space-charge-distinct-capacity"])
def test_space_charge_and_conversion_notes_need_the_mechanism(rule):
    """Sections 2.4, 3.1: notes about space charge or conversion are drawn only where the mechanism is accessible."""
    entry = rule_entries()[rule]
    assert any(w.startswith("status(") and w.endswith(", accessible)") for w in entry["when"])
    assert rule not in fired(consult("MgO", "Li"))
