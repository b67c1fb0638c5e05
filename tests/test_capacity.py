"""The theoretical capacity by mechanism (issue 12): what the reactions element selection makes accessible.

Conversion counts each conversion element reduced to the metal (Section 2.2,
eqn (2)): its oxidation state in the charge-balanced reading times its amount.
Alloying counts each alloying element in the most alloyed phase known with the
carrier ion (kg/capacity-data.ttl: the paper's phases where it gives them,
Section 3.1 and refs 44, 49; compilations outside the paper otherwise).
Q = n F / (3.6 M) in mAh/g, M the formula mass of the active formula.

The expected figures are worked out here from the electrons and the atomic
masses (the docstrings give them by hand with rounded masses), not copied from
the output. The paper's lists are written out, not read from the code.
"""

from __future__ import annotations

import re
from fractions import Fraction

import pytest
from conftest import run

from hemkg.answers.summary import summarise
from hemkg.consultation.consultation import consult
from hemkg.graph.materials import alloy_phases, element_data
from hemkg.graph.store import select

F = 96485.33212  # C/mol
PLANE_B = ("Si", "Zn", "Ge", "In", "Sn", "Sb", "Bi")  # Fig. 6a: the alloying cations
IONS = ("Li", "Na", "K")


def mass(formula: dict[str, float]) -> float:
    return sum(n * element_data()[s]["mass"] for s, n in formula.items())


def mah_g(electrons: float, formula: dict[str, float]) -> float:
    return electrons * F / (3.6 * mass(formula))


def capacity(formula: str, ion: str = "Li") -> dict:
    return summarise(consult(formula, ion))["theoretical_capacity"]


def exact(formula: str, ion: str = "Li") -> dict:
    """The unrounded record (the JSON rounds to 0.1 mAh/g)."""
    return consult(formula, ion).estimates["theoretical_capacity"]


MGCONICUZNO = {"Mg": 0.2, "Co": 0.2, "Ni": 0.2, "Cu": 0.2, "Zn": 0.2, "O": 1.0}


# ------------------------------------------------------------------ conversion


def test_mgconicuzno_mg_gives_no_conversion_capacity():
    """Section 3.1 (ref 48): in (MgCoNiCuZn)O, Mg stabilizes and Co, Ni, Cu, Zn convert, Zn also alloys.

    By hand: M = 0.2 (24.31 + 58.93 + 58.69 + 63.55 + 65.38) + 16.00 = 70.17 g/mol; conversion 4 x 0.2 x 2 = 1.6 e,
    1.6 x 26801.5 / 70.17 = 611.1 mAh/g; alloying LiZn, 0.2 x 1 = 0.2 e, 76.4 mAh/g; total 687.5 mAh/g (the
    issue's "about 688 with Mg excluded", where counting Mg2+ too gave 840)."""
    cap = exact("(MgCoNiCuZn)O")
    conversion = cap["arithmetic"]["conversion"]
    assert conversion["electrons"] == pytest.approx(1.6, rel=1e-9)
    assert cap["conversion"] == pytest.approx(mah_g(1.6, MGCONICUZNO), rel=1e-9)
    assert cap["alloying"] == pytest.approx(mah_g(0.2, MGCONICUZNO), rel=1e-9)
    assert 687 < cap["total"] < 688
    by_element = {e["element"]: e for e in conversion["cations"]}
    assert by_element["Mg"]["counted"] is False and by_element["Mg"]["electrons"] == 0.0
    assert "Plane A" in by_element["Mg"]["why"]
    assert {s for s, e in by_element.items() if e["counted"]} == {"Co", "Ni", "Cu", "Zn"}
    assert all(e["oxidation_state"] == 2 for e in by_element.values())  # a rock salt: every cation 2+
    assert "Contributes nothing: Mg2+" in conversion["text"]


def test_li_in_a_li_containing_oxide_contributes_nothing_to_conversion():
    """Section 3.1 (ref 41): in (LiFeZnNiCoMn)3O4 'Fe, Co, and Ni enable conversion reactions ..., while Li, Zn, and
    Mn provide essential structural support'. Li+ is off Plane A and, with Zn and Mn, structural in this very
    material (issue 11: the report outranks the planes), so only Fe, Co and Ni are reduced, and nothing alloys.

    By hand: 0.5 of each cation and 4 O2- per formula unit, M = 214.38 g/mol; the conversion electrons are
    0.5 x (the states of Fe, Co and Ni in the charge-balanced assignment), whatever the others take."""
    formula = {"Li": 0.5, "Fe": 0.5, "Zn": 0.5, "Ni": 0.5, "Co": 0.5, "Mn": 0.5, "O": 4.0}
    cap = exact("(LiFeZnNiCoMn)3O4")
    conversion = cap["arithmetic"]["conversion"]
    by_element = {e["element"]: e for e in conversion["cations"]}
    assert by_element["Li"]["oxidation_state"] == 1 and not by_element["Li"]["counted"]
    assert {x for x, e in by_element.items() if e["counted"]} == {"Fe", "Co", "Ni"}
    electrons = sum(0.5 * by_element[x]["oxidation_state"] for x in ("Fe", "Co", "Ni"))
    assert conversion["electrons"] == pytest.approx(electrons, rel=1e-9)
    assert cap["conversion"] == pytest.approx(mah_g(electrons, formula), rel=1e-9)
    assert cap["alloying"] == 0


def test_hollow_multishelled_figure_exceeds_the_theoretical_capacity_and_the_paper_says_why():
    """Section 2.2 (ref 41): (LiFeZnNiCoMn)3O4-HoMS keeps "above 1200 mAh g-1", above the 1000 mAh/g computed;
    Section 2.4 (ref 53): transition-metal compounds often exceed their theoretical capacity."""
    cap = capacity("(LiFeZnNiCoMn)3O4")
    (homs,) = [v for v in cap["reported"] if v["material"] == "material-LiFeZnNiCoMn3O4-HOMS"]
    assert homs["mAh_g"] == 1200 and homs["qualifier"] == "more than" and homs["references"] == [41]
    assert homs["exceeds_theoretical"] is True
    beyond = cap["beyond_theoretical"]
    assert beyond["citations"] == [53] and "Section 2.4" in beyond["text"]
    assert "substantially higher capacities than their theoretical capacity" in beyond["text"]


def test_ingesip3_phosphide_and_its_reported_capacity():
    """Section 3.1 (ref 47): InGeSiP3 reaches 1733 mAh g-1 reversibly.

    By hand: conversion 3 P3- take 9 e from In, Ge and Si, all on Plane A; alloying Li22Ge5 4.4 + Li13In3 13/3 +
    Li22Si5 4.4 = 13.13 e; M = 114.82 + 72.63 + 28.09 + 3 x 30.97 = 308.46 g/mol, so 782.0 + 1141.1 = 1923.1 mAh/g,
    above the 1733 reported: the paper's figure is shown beside it, and does not exceed it."""
    formula = {"In": 1.0, "Ge": 1.0, "Si": 1.0, "P": 3.0}
    cap = exact("InGeSiP3")
    assert cap["conversion"] == pytest.approx(mah_g(9, formula), rel=1e-9)
    alloying = float(Fraction(22, 5) + Fraction(13, 3) + Fraction(22, 5))
    assert cap["alloying"] == pytest.approx(mah_g(alloying, formula), rel=1e-9)
    (reported,) = cap["reported"]
    assert (reported["label"], reported["mAh_g"], reported["references"]) == ("InGeSiP3", 1733, [47])
    assert reported["relation"] == "same composition" and reported["exceeds_theoretical"] is False
    assert "beyond_theoretical" not in cap


def test_coo_is_two_electrons_per_formula():
    """Section 2.2, eqn (2): CoO + 2 Li -> Co + Li2O, Q = 2 F / (3.6 M(CoO)) = 2 x 26801.5 / 74.93, about 715 mAh/g."""
    cap = exact("CoO")
    assert cap["conversion"] == pytest.approx(mah_g(2, {"Co": 1, "O": 1}), rel=1e-9)
    assert round(cap["conversion"]) == 715 and cap["alloying"] == 0.0


def test_unbalanced_formula_gets_no_conversion_capacity_and_says_why(runner):
    """Issue 12: MgCoNiCuZnO read as five cations to one O balances with no oxidation states; the conversion capacity
    is not computed (no silent fall back to counting the anion) and the bracketed reading is suggested."""
    cap = capacity("MgCoNiCuZnO")
    assert cap["conversion"] is None and cap["total"] is None
    text = cap["arithmetic"]["conversion"]["text"]
    assert text.startswith("Conversion: cannot be computed") and "did you mean (MgCoNiCuZn)O?" in text
    assert "not computed" in run(runner, "compare", "(MgCoNiCuZn)O", "MgCoNiCuZnO").stdout


def test_polyanion_is_taken_whole():
    """Section 2.2, eqn (2) with a thiophosphate (the M2P2S6 of (CoVMnFeZn)PS3): the cations give 2 e per PS3 2-;
    the answer says that reducing the polyanion itself is not counted."""
    formula = {"Co": 0.2, "V": 0.2, "Mn": 0.2, "Fe": 0.2, "Zn": 0.2, "P": 1.0, "S": 3.0}
    cap = exact("(CoVMnFeZn)PS3")
    assert cap["conversion"] == pytest.approx(mah_g(2, formula), rel=1e-9)
    assert cap["arithmetic"]["conversion"]["polyanions"] == [{"formula": "PS3", "charge": -2, "amount": 1.0}]
    assert "PS3 2- is taken whole" in cap["arithmetic"]["conversion"]["text"]


def test_undetermined_conversion_is_not_counted():
    """FeF3: F is outside the paper's anions (Section 3.1), so conversion is undetermined and not counted."""
    cap = capacity("FeF3")
    assert cap["conversion"] == 0.0 and cap["total"] == 0.0
    assert cap["arithmetic"]["conversion"]["text"] == "Conversion: undetermined here, so no conversion capacity is counted."


def test_intercalation_and_space_charge_are_not_estimable():
    """Sections 2.1 and 2.4: intercalation and space-charge capacities rest on structure, not composition alone."""
    cap = capacity("(MgCoNiCuZn)O")
    assert set(cap["not_estimable"]) == {"intercalation", "space_charge"}
    assert all("cannot be estimated from the composition" in t for t in cap["not_estimable"].values())


def test_shorthand_equals_the_fractional_formula():
    """Section 3.1 (ref 48) and Section 2.2 (ref 46): (MgCoNiCuZn)O is the rock salt (Mg0.2Co0.2Ni0.2Cu0.2Zn0.2)O."""
    assert exact("(MgCoNiCuZn)O")["total"] == pytest.approx(exact("(Mg0.2Co0.2Ni0.2Cu0.2Zn0.2)O")["total"], rel=1e-9)


# ------------------------------------------------------------------ alloying and the phases


def test_silicon_hosts_4_4_li_for_4200_mah_g():
    """Section 3.1, Fig. 6b: Si hosts up to 4.4 Li+, 4200 mAh/g (4.4 x 26801.5 / 28.09 = 4199)."""
    cap = exact("Si")
    assert round(cap["alloying"], -2) == 4200
    (si,) = cap["arithmetic"]["alloying"]["elements"]
    assert si["phase"] == "Li22Si5" and si["from_paper"] and si["ions_per_atom"] == pytest.approx(4.4)


def test_alloy_sigesnsbbi_with_li():
    """Section 3.1, Table 1 (Si > Ge > Sn > Sb > Zn > Bi > In): an alloy of five Plane B elements, no anion, so no
    conversion; alloying 4.4 + 4.4 + 4.4 + 3 + 3 = 19.2 e per SiGeSnSbBi (M = 550.2 g/mol): 935 mAh/g."""
    cap = exact("SiGeSnSbBi")
    assert cap["conversion"] == 0.0
    assert cap["alloying"] == pytest.approx(mah_g(19.2, dict.fromkeys(("Si", "Ge", "Sn", "Sb", "Bi"), 1.0)), rel=1e-9)


def test_zinc_with_potassium_gets_no_alloying_capacity_and_a_note():
    """Fig. 6a: Plane B is not ion-specific, but no K-Zn alloy phase is known to hemkg's sources: (MgCoNiCuZn)O with
    K+ keeps its conversion (1.6 e) and gets no alloying capacity, with a note saying why."""
    cap = exact("(MgCoNiCuZn)O", "K")
    alloying = cap["arithmetic"]["alloying"]
    assert cap["alloying"] == 0.0 and alloying["elements"] == []
    (missing,) = alloying["no_phase_known"]
    assert missing["element"] == "Zn" and "not ion-specific" in missing["why"]
    assert cap["conversion"] == pytest.approx(mah_g(1.6, MGCONICUZNO), rel=1e-9)


def test_the_papers_own_phases_are_its_sources():
    """Section 2.3: K3Sb, K3Bi and KSn in Sb1.4Bi0.2Sn0.2Co0.1Mn0.1Te3 (ref 44, Fig. 4b); Na3Sb and Na3Bi, and the
    Na9Sn4 on the way, in Cu0.88Sn0.02Sb0.02Bi0.02Mn0.02S0.9Se0.1 (ref 49, Fig. 4c-e); Si 4.4 Li (Section 3.1)."""
    phases = alloy_phases()
    expected = {("Sb", "K"): ("K3Sb", [44]), ("Bi", "K"): ("K3Bi", [44]), ("Sn", "K"): ("KSn", [44]),
                ("Sb", "Na"): ("Na3Sb", [49]), ("Bi", "Na"): ("Na3Bi", [49]), ("Si", "Li"): ("Li22Si5", [])}
    for key, (phase, refs) in expected.items():
        assert (phases[key]["phase"], phases[key]["references"], phases[key]["from_paper"]) == (phase, refs, True), key
    (on_the_way,) = phases[("Sn", "Na")]["on_the_way"]
    assert on_the_way["phase"] == "Na9Sn4" and on_the_way["references"] == [49]
    assert phases[("Sn", "Na")]["phase"] == "Na15Sn4" and not phases[("Sn", "Na")]["from_paper"]


def test_outside_phases_name_their_compilation():
    """Phases the paper does not give are labelled outside it, each with a citation and DOI (Obrovac and Chevrier,
    Chem. Rev. 2014, for Li; Lao et al., Adv. Mater. 2017, for Na); In with Li is Li13In3, not LiIn."""
    phases = alloy_phases()
    assert phases[("In", "Li")]["phase"] == "Li13In3"
    assert phases[("In", "Li")]["ions_per_atom"] == pytest.approx(13 / 3, rel=1e-12)
    for key, phase in phases.items():
        if not phase["from_paper"]:
            assert re.search(r"doi:10\.\d{4,}/\S+", phase["source"]), key
    assert "10.1021/cr500207g" in phases[("Ge", "Li")]["source"]
    assert "10.1002/adma.201700622" in phases[("Ge", "Na")]["source"]


def test_every_plane_b_pair_has_a_phase_or_none_on_purpose():
    """Fig. 6a, Plane B: each alloying cation with each carrier ion has a phase, or is one of the pairs the data file's
    header says no alloy is known for (Zn, In, Si with Na+; Zn, In, Si, Ge with K+)."""
    none_known = {("Zn", "Na"), ("In", "Na"), ("Si", "Na"), ("Zn", "K"), ("In", "K"), ("Si", "K"), ("Ge", "K")}
    pairs = {(host, ion) for host in PLANE_B for ion in IONS}
    assert set(alloy_phases()) == pairs - none_known


def test_ions_per_host_atom_agrees_with_the_phase_formula():
    """kg/capacity-data.ttl: hem:ionsPerHostAtom (for SPARQL readers) is x of hem:phaseFormula XxM, to 1e-6."""
    rows = select("SELECT ?f ?x WHERE { ?p a hem:AlloyPhase ; hem:phaseFormula ?f ; hem:ionsPerHostAtom ?x }")
    assert len(rows) == 7 + 5 + 3  # Li; Na (with Na9Sn4); K
    for row in rows:
        ions, hosts = (int(n or 1) for n in re.fullmatch(r"[A-Z][a-z]?(\d*)[A-Z][a-z]?(\d*)", row["f"]).groups())
        assert float(row["x"]) == pytest.approx(ions / hosts, abs=1e-6), row["f"]


# ------------------------------------------------------------------ the text


def test_report_gives_the_arithmetic_in_words(runner):
    """The terminal answer names the theoretical capacity per mechanism (eqn 2; the phases), not an upper bound."""
    out = run(runner, "consult", "(MgCoNiCuZn)O").stdout
    flat = " ".join(out.split())
    assert "upper bound" not in flat
    assert "Theoretical capacity from the reactions element selection makes accessible: 687.4 mAh/g" in flat
    assert "Co2+ 0.2 x 2 + Ni2+ 0.2 x 2 + Cu2+ 0.2 x 2 + Zn2+ 0.2 x 2 = 1.6 e per formula unit, 611.1 mAh/g" in flat
    assert "Zn -> LiZn 0.2 x 1 (outside the paper)" in flat
    compared = run(runner, "compare", "(MgCoNiCuZn)O", "CoO").stdout
    assert "theoretical cap. mAh/g" in compared and "capacity bound" not in compared
