"""Oxidation states and charge balance (consultation/oxidation.py), beyond the paper but anchored on it.

The paper prints few oxidation states; where it implies them (a rock salt of
divalent cations, a spinel with Li+, the Fe2+/Fe3+ of magnetite) the tests
below name the place. The rest pins the documented reading rules: common
states first, polyatomic anions as units, one element split over two states in
whole atoms, suggestions only when they balance.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import pytest
from conftest import members, run
from hypothesis import given, settings
from hypothesis import strategies as st

from hemkg.answers.summary import summarise
from hemkg.consultation.consultation import consult
from hemkg.consultation.formula import parse_formula
from hemkg.consultation.oxidation import Balance, answer, charge_balance
from hemkg.errors import FormulaError
from hemkg.graph.materials import element_data, oxidation_data, reported_materials
from hemkg.graph.store import select
from hemkg.graph.vocab import vocab


def balance_of(text: str) -> Balance:
    return charge_balance(parse_formula(text).composition)


def states_of(text: str) -> dict[str, list[list[float]]]:
    b = balance_of(text)
    assert b.assignment is not None, b.reason
    return b.assignment.states()


def assert_neutral(b: Balance) -> None:
    """The assignment used and every example carry no net charge."""
    shown = ([b.assignment] if b.assignment else []) + list(b.examples)
    for a in shown:
        assert abs(a.charge()) <= 1e-9, (a.text(), a.charge())


# ---------------------------------------------------------------- the data


def test_oxidation_states_reach_the_graph_from_pymatgen():
    """kg/generated/element-data.ttl holds pymatgen's common and other oxidation states (its drift test:
    test_element_data.py); here they are read back as the solver sees them."""
    Element = pytest.importorskip("pymatgen.core.periodic_table", reason="pymatgen-core is a test dependency").Element
    data = oxidation_data()["elements"]
    for symbol in ("Fe", "V", "Mn", "Cu", "Ge", "P"):
        el = Element(symbol)
        assert data[symbol]["common"] == tuple(sorted(el.common_oxidation_states)), symbol
        assert set(data[symbol]["other"]) == set(el.oxidation_states) - set(el.common_oxidation_states), symbol
    assert data["Fe"]["occurrence"][3] > data["Fe"]["occurrence"][2] > data["Fe"]["occurrence"][4] > 0  # ICSD counts


def test_anion_formers_are_the_papers_anions_and_the_outside_anions():
    """kg/anions.ttl has a monatomic anion for exactly P, S, O, Se, Te (Section 3.1; Table 1, row Anions)
    and the outside anions of kg/conventions.ttl (the vocabulary's anion formers), and for no other element."""
    assert set(oxidation_data()["monatomic"]) == vocab().anion_formers
    assert vocab().anion_formers == members("listed-anions") | members("outside-anions")
    assert members("listed-anions") == {"P", "S", "O", "Se", "Te"}


def test_each_monatomic_charge_is_a_state_pymatgen_knows():
    """Each anion charge of kg/anions.ttl is a negative oxidation state in pymatgen's data (B-3: its ICSD states)."""
    Element = pytest.importorskip("pymatgen.core.periodic_table", reason="pymatgen-core is a test dependency").Element
    for symbol, anion in oxidation_data()["monatomic"].items():
        el = Element(symbol)
        assert anion["charge"] < 0
        assert anion["charge"] in set(el.oxidation_states) | set(el.icsd_oxidation_states), symbol


def test_each_polyatomic_charge_is_a_sum_of_known_states():
    """PO4 3- = P5+ + 4 O2-, PS3 2- = P4+ + 3 S2-, CN- = C2+ + N3-, H2O = 2 H+ + O2-: with its most electronegative
    element at its monatomic charge, the unit's other elements are at states pymatgen knows; S2 2- is 2 S-."""
    data = oxidation_data()
    elements, monatomic = data["elements"], data["monatomic"]
    assert {u["formula"] for u in data["polyatomic"]} == {"PS3", "PO4", "CN", "S2", "H2O"}
    for unit in data["polyatomic"]:
        assert parse_formula(unit["formula"]).composition == {s: float(n) for s, n in unit["components"]}, unit
        components = dict(unit["components"])
        fixed = 0
        if len(components) > 1:  # else one element, all its atoms at one known state
            anion = max(components, key=lambda s: elements[s]["chi"])
            fixed = monatomic[anion]["charge"] * components.pop(anion)
        choices = [[n * x for x in elements[s]["common"] + elements[s]["other"]] for s, n in components.items()]
        assert unit["charge"] - fixed in {sum(c) for c in itertools.product(*choices)}, unit


def test_conversion_salt_charges_come_from_the_anion_charges():
    """The n of the salt XnN of eqn (2) (Section 2.2) is minus the anion's charge, for the paper's five anions only."""
    salts = {s: d["salt_charge"] for s, d in element_data().items() if d["salt_charge"] is not None}
    assert salts == {"O": 2, "S": 2, "Se": 2, "Te": 2, "P": 3}


def test_every_anion_names_its_source():
    """Every anion of kg/anions.ttl has a source: a part of the paper or the outside compilation."""
    rows = select("SELECT ?a ?src WHERE { ?a a hem:Anion . OPTIONAL { ?a dcterms:source ?src } }")
    assert len(rows) == 18
    assert all("src" in row for row in rows), [row["a"] for row in rows if "src" not in row]


# ---------------------------------------------------------------- the paper's materials


@pytest.mark.parametrize("formula", ["(MgCoNiCuZn)O", "(Mg0.2Co0.2Ni0.2Cu0.2Zn0.2)O"])
def test_rock_salt_is_all_divalent(formula):
    """Section 3.1, ref 48 (and Section 2.2, ref 46): the rock-salt (MgCoNiCuZn)O, every cation 2+."""
    b = balance_of(formula)
    assert b.balanced and not b.used_less_common and b.alternatives == 0
    assert b.assignment.states() == {**{s: [[2, 0.2]] for s in ("Mg", "Co", "Ni", "Cu", "Zn")}, "O": [[-2, 1.0]]}


def test_lithium_spinel_has_li_plus():
    """Section 3.1, ref 41: the spinel (LiFeZnNiCoMn)3O4 holds Li+ (with Zn2+ and Ni2+, their only common states).

    Each cation is one atom of Li Fe Zn Ni Co Mn O8, so none can split; with common states only, the balance
    needs Mn7+ (the answer names the states it used)."""
    b = balance_of("(LiFeZnNiCoMn)3O4")
    assert b.balanced and not b.used_less_common
    states = b.assignment.states()
    assert states["Li"] == [[1, 0.5]] and states["Zn"] == [[2, 0.5]] and states["Ni"] == [[2, 0.5]]
    assert_neutral(b)


def test_magnetite_is_mixed_valence():
    """Section 2.4, ref 57: Fe3O4 is Fe2+ + 2 Fe3+, the only reading with common states."""
    b = balance_of("Fe3O4")
    assert b.assignment.states() == {"Fe": [[2, 1.0], [3, 2.0]], "O": [[-2, 4.0]]}
    assert b.alternatives == 0
    assert b.text() == "charge-balanced with common oxidation states: 1 Fe2+ + 2 Fe3+, 4 O2- (the only balanced assignment)"


def test_cr_mn_fe_co_ni_spinel_splits_in_whole_atoms():
    """Section 3.1, ref 31: (CrMnFeCoNi)3O4 balances with common states once one element splits, in whole
    atoms of Cr3Mn3Fe3Co3Ni3O20 (so in fifths of the printed amounts)."""
    b = balance_of("(CrMnFeCoNi)3O4")
    assert b.balanced and not b.used_less_common and b.alternatives >= 1
    split = [s for s, parts in b.assignment.states().items() if len(parts) == 2]
    assert len(split) == 1
    for _, amount in b.assignment.states()[split[0]]:
        assert math.isclose(amount * 5, round(amount * 5))
    assert_neutral(b)


def test_pyrite_is_a_persulfide():
    """Section 2.4, ref 59: FeS2 is read as Fe2+ with the persulfide S2 2-, not Fe4+ with 2 S2-."""
    b = balance_of("FeS2")
    assert b.assignment.states() == {"Fe": [[2, 1.0]]}
    assert [(u.formula, u.charge, u.amount) for u in b.assignment.units] == [("S2", -2, 1.0)]
    assert not b.used_less_common


@pytest.mark.parametrize("formula, states", [
    ("InGeSiP3", {"In": [[3, 1.0]], "Ge": [[2, 1.0]], "Si": [[4, 1.0]], "P": [[-3, 3.0]]}),
    ("GaCuZnInGeSiP6", {"Ga": [[3, 1.0]], "Cu": [[2, 1.0]], "Zn": [[2, 1.0]], "In": [[3, 1.0]], "Ge": [[4, 1.0]],
                        "Si": [[4, 1.0]], "P": [[-3, 6.0]]}),
    ("CuZnInGeSiP5", {"Cu": [[2, 1.0]], "Zn": [[2, 1.0]], "In": [[3, 1.0]], "Ge": [[4, 1.0]], "Si": [[4, 1.0]],
                      "P": [[-3, 5.0]]}),
])
def test_phosphides_balance_with_common_states(formula, states):
    """Section 2.3 and 3.1, ref 47: InGeSiP3 and its high-entropy extensions are phosphides, P3-."""
    b = balance_of(formula)
    assert b.assignment.states() == states and not b.used_less_common and b.alternatives == 0


@pytest.mark.parametrize("formula, less_common", [("ZnGeSiP3", ["Ge3+"]), ("GaCuInGeSiP5", ["Cu+"])])
def test_phosphides_that_need_a_less_common_state_say_so(formula, less_common):
    """Section 2.3, ref 47 (GaCu(or Zn)InGeSiP5; ZnGeSiP3 of the same kind): no reading with common states
    balances, so the answer falls back to the less common ones and names them."""
    b = balance_of(formula)
    assert b.balanced and b.used_less_common and b.assignment.less_common() == tuple(less_common)
    assert b.text().startswith(f"charge-balanced only with less common oxidation states ({', '.join(less_common)})")
    assert_neutral(b)


def test_unbracketed_thiophosphate_gets_the_bracketed_reading():
    """Section 2.1, Fig. 2k-s, ref 33: CoVMnFeZnPS3 as written is five cations to one PS3 2-; the paper means
    (CoVMnFeZn)PS3, an M2P2S6 with every metal 2+ (V2+ is less common in pymatgen's data)."""
    record, warnings = answer(parse_formula("CoVMnFeZnPS3"))
    assert not record["charge_balanced"] and record["suggestion"] == "(CoVMnFeZn)PS3"
    assert "its anions (1 PS3 2-) need only +2" in record["text"]
    assert [w["topic"] for w in warnings] == ["charge-balance"]
    b = balance_of("(CoVMnFeZn)PS3")
    assert b.assignment.states() == {s: [[2, 0.2]] for s in ("Co", "V", "Mn", "Fe", "Zn")}
    assert b.assignment.less_common() == ("V2+",)
    assert [(u.formula, u.amount) for u in b.assignment.units] == [("PS3", 1.0)]


@pytest.mark.parametrize("formula, suggested", [
    ("MgCoNiCuZnO", ["(MgCoNiCuZn)O"]),  # Section 3.1, ref 48: the rock salt; its spinel would need less common states
    ("CrMnFeCoNiO", ["(CrMnFeCoNi)3O4", "(CrMnFeCoNi)O"]),  # Section 3.1, ref 31: the spinel; the rock salt needs Cr2+
    ("CuMnFeSnGeS", ["(CuMnFeSnGe)S"]),  # Section 2.1, ref 32
    ("MgCoNiCuZnO/C", ["(MgCoNiCuZn)O/C"]),  # the framework stays
])
def test_unbracketed_high_entropy_formulas_get_a_suggestion(formula, suggested):
    """Five cations to one anion do not balance; the suggestions bracket the site, each checked to balance."""
    record, warnings = answer(parse_formula(formula))
    assert not record["charge_balanced"] and record["suggestions"] == suggested
    for text in suggested:
        assert balance_of(text).balanced
    assert warnings[0]["text"].endswith(f"did you mean {' or '.join(suggested)}?")
    assert "\n" not in warnings[0]["text"]


def test_no_suggestion_where_none_is_obvious():
    """(GaKNa)O is bracketed already and cannot balance (constructed golden case): no suggestion."""
    record, _ = answer(parse_formula("(GaKNa)O"))
    assert not record["charge_balanced"] and record["suggestion"] is None
    assert "its anions (1 O2-) need +2 but its cations give at most +1.667" in record["text"]


def test_alloy_is_metallic():
    """Section 2.3 (eqn 3): the Plane B alloy SiGeSnSbBi has no anion, every element at 0."""
    b = balance_of("SiGeSnSbBi")
    assert b.kind == "metallic" and b.balanced
    assert b.assignment.states() == {s: [[0, 1.0]] for s in ("Si", "Ge", "Sn", "Sb", "Bi")}
    assert b.text().startswith("metallic (0)")


@pytest.mark.parametrize("formula, states, units", [
    ("LiFePO4", {"Li": [[1, 1.0]], "Fe": [[2, 1.0]]}, [("PO4", 1.0)]),  # ref 47's cathode
    ("Na3V2(PO4)3", {"Na": [[1, 3.0]], "V": [[3, 2.0]]}, [("PO4", 3.0)]),  # ref 49's cathode
    ("Fe4[Fe(CN)6]3", {"Fe": [[2, 3.0], [3, 4.0]]}, [("CN", 18.0)]),  # Prussian blue
    ("K1.47Fe0.5Mn0.5[Fe(CN)6]1.26·H2O", {"K": [[1, 1.47]], "Fe": [[2, 0.19], [3, 1.57]], "Mn": [[2, 0.5]]},
     [("CN", 7.56), ("H2O", 1.0)]),  # ref 44's cathode
])
def test_polyatomic_anions_are_read_as_units(formula, states, units):
    """Section 3.1 (the full cells' cathodes): phosphate, cyanide and water of crystallisation are units."""
    b = balance_of(formula)
    assert b.balanced
    got = b.assignment.states()
    assert got.keys() == states.keys()
    for symbol, parts in states.items():
        assert [s for s, _ in got[symbol]] == [s for s, _ in parts]
        assert [a for _, a in got[symbol]] == pytest.approx([a for _, a in parts])
    assert [(u.formula, u.amount) for u in b.assignment.units] == [(f, pytest.approx(a)) for f, a in units]
    assert_neutral(b)


def test_a_polyanion_hemkg_does_not_know_is_refused_in_one_line():
    """A sulfate is not mis-counted as sulfide and oxide: it is refused, naming the units hemkg reads."""
    b = balance_of("CuSO4·5H2O")
    assert not b.balanced
    assert "if S, O, H form a polyatomic anion, hemkg reads only CN, PO4, PS3, S2, H2O (kg/anions.ttl)" in b.reason
    assert "\n" not in b.text()


def test_without_a_metal_the_most_electronegative_element_is_the_anion():
    """P2S5 (constructed golden case): S is the anion, P5+."""
    assert states_of("P2S5") == {"P": [[5, 2.0]], "S": [[-2, 5.0]]}


def test_every_formula_the_paper_prints_balances_but_the_unbracketed_ones():
    """Every formula of the graph's materials and cathodes balances, except CoVMnFeZnPS3 and CuMnFeSnGeS
    (Section 2.1, refs 32-33), written without the site bracket; those get a suggestion."""
    formulas = {m["formula"] for m in reported_materials().values()}
    formulas |= {row["f"] for row in select("SELECT ?f WHERE { ?c a hem:CathodeMaterial ; hem:formula ?f }")}
    unbalanced = set()
    for text in sorted(formulas):
        try:
            parsed = parse_formula(text)
        except FormulaError:  # 'Fe-doped MoS2', 'GaCu(or Zn)InGeSiP5': names, not formulas
            continue
        record, _ = answer(parsed)
        assert_neutral(charge_balance(parsed.composition))
        if not record["charge_balanced"]:
            unbalanced.add(text)
            assert record["suggestion"], text
    assert unbalanced == {"CoVMnFeZnPS3", "CuMnFeSnGeS"}


def test_fractional_amounts_split_in_whole_atoms():
    """FeO1.4 is Fe5O7: 1 Fe2+ + 4 Fe3+ of five, so 0.2 Fe2+ + 0.8 Fe3+ per formula unit."""
    assert states_of("FeO1.4") == {"Fe": [[2, pytest.approx(0.2)], [3, pytest.approx(0.8)]], "O": [[-2, 1.4]]}


def test_alternatives_are_counted_and_shown():
    """Sb1.4Bi0.2Sn0.2Co0.1Mn0.1Te3 (Section 2.3, ref 44) balances in several ways; the most probable by the ICSD
    counts is used (Sb3+, Sn4+), the others counted and the next ones shown."""
    b = balance_of("Sb1.4Bi0.2Sn0.2Co0.1Mn0.1Te3")
    assert b.assignment.states()["Sb"] == [[3, 1.4]] and b.assignment.states()["Sn"] == [[4, 0.2]]
    assert b.alternatives == 3 and len(b.examples) == 3
    assert len({tuple(map(tuple, e.states()["Sb"])) + tuple(map(tuple, e.states()["Sn"])) for e in b.examples}) == 3
    assert_neutral(b)


# ---------------------------------------------------------------- random compositions

CATIONS = sorted(s for s, d in oxidation_data()["elements"].items()
                 if s not in oxidation_data()["monatomic"] and any(x > 0 for x in d["common"] + d["other"])
                 and element_data()[s]["mass"] < 210)  # to Bi: the elements with a stable isotope
ANIONS = sorted(oxidation_data()["monatomic"])


def _positive(symbol: str) -> list[int]:
    d = oxidation_data()["elements"][symbol]
    return sorted(x for x in d["common"] + d["other"] if x > 0)


@st.composite
def balanced_compositions(draw) -> dict[str, float]:
    """Cations at amounts k/d, each at one state the data allow, one of them perhaps split in whole atoms over two;
    the anion's amount is what balances them."""
    cations = draw(st.lists(st.sampled_from(CATIONS), min_size=1, max_size=6, unique=True))
    denominator = draw(st.sampled_from([1, 2, 3, 4, 5, 10]))
    charge = Fraction(0)
    composition: dict[str, float] = {}
    for i, symbol in enumerate(cations):
        states = _positive(symbol)
        if i == 0 and len(states) >= 2 and draw(st.booleans()):  # mixed valence: k atoms at one state, n - k at another
            n = draw(st.integers(2, 6))
            k = draw(st.integers(1, n - 1))
            low, high = sorted(draw(st.lists(st.sampled_from(states), min_size=2, max_size=2, unique=True)))
            amount = Fraction(n)
            charge += (n - k) * low + k * high
        else:
            amount = Fraction(draw(st.integers(1, 2 * denominator)), denominator)
            charge += amount * draw(st.sampled_from(states))
        composition[symbol] = float(amount)
    anion = draw(st.sampled_from(ANIONS))
    composition[anion] = float(charge / -oxidation_data()["monatomic"][anion]["charge"])
    return composition


@settings(max_examples=300, deadline=None)
@given(balanced_compositions())
def test_balanced_compositions_are_found_balanced(composition):
    """A composition built from states the data allow (one element at most split) is found balanced, with an
    assignment whose charges sum to zero (within 1e-9)."""
    b = charge_balance(composition)
    assert b.balanced, (composition, b.reason)
    assert_neutral(b)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(CATIONS + ANIONS), st.integers(1, 40).map(lambda k: k / 10), min_size=1, max_size=6))
def test_every_reported_assignment_sums_to_zero(composition):
    """Whatever the composition, every assignment reported (the one used and the examples) carries no net charge,
    and each amount of an element adds up to its amount in the composition."""
    b = charge_balance(composition)
    assert_neutral(b)
    if b.assignment:
        totals: dict[str, float] = {}
        for site in b.assignment.sites:
            totals[site.element] = totals.get(site.element, 0.0) + site.amount
        for unit in b.assignment.units:
            for symbol, n in parse_formula(unit.formula).composition.items():
                totals[symbol] = totals.get(symbol, 0.0) + n * unit.amount
        assert totals == pytest.approx(composition)
    else:
        assert b.reason and "\n" not in b.reason


# ---------------------------------------------------------------- the consultation's answers


def test_consultation_json_has_the_oxidation_states():
    """The JSON answer's oxidation_states (beyond the paper, and says so), for Fe3O4 (Section 2.4, ref 57)."""
    d = summarise(consult("Fe3O4"))
    o = d["oxidation_states"]
    assert set(o) == {"charge_balanced", "reading", "assignment", "polyanions", "used_less_common", "less_common",
                      "alternatives", "examples", "suggestion", "suggestions", "text", "basis"}
    assert o["charge_balanced"] and o["reading"] == "ionic" and o["assignment"]["Fe"] == [[2, 1.0], [3, 2.0]]
    assert o["basis"].startswith("beyond the paper")
    assert "charge-balance" not in {w["topic"] for w in d["warnings"]}


def test_unbalanced_consultation_warns_with_the_suggestion():
    """MgCoNiCuZnO (Section 3.1, ref 48, without its site bracket) warns, marked as outside the paper."""
    d = summarise(consult("MgCoNiCuZnO"))
    (warning,) = [w for w in d["warnings"] if w["topic"] == "charge-balance"]
    assert warning["text"] == ("MgCoNiCuZnO: not charge-balanced with any known oxidation states: its cations give "
                               "at least +5 but its anions (1 O2-) need only +2; did you mean (MgCoNiCuZn)O?")
    assert warning["outside_paper"]
    assert d["oxidation_states"]["suggestion"] == "(MgCoNiCuZn)O"


def test_text_answer_shows_one_line(runner):
    """`hem consult` prints one line on oxidation states among the estimates beyond the paper."""
    text = run(runner, "consult", "Fe3O4").stdout
    entry = " ".join(text.split("  Oxidation states: ", 1)[1].split("  Configurational entropy:", 1)[0].split())
    assert entry == "charge-balanced with common oxidation states: 1 Fe2+ + 2 Fe3+, 4 O2- (the only balanced assignment)."
    assert text.count("Oxidation states:") == 1
    bad = run(runner, "consult", "MgCoNiCuZnO").stdout
    assert "  Oxidation states: not charge-balanced; see Warnings." in bad
    assert "did you mean (MgCoNiCuZn)O?" in bad


def test_module_imports_no_heavy_library():
    """consultation/oxidation.py reads the disk-cached graph records: importing it loads neither pymatgen nor rdflib."""
    import subprocess
    import sys

    code = ("import sys, hemkg.consultation.oxidation; "
            "print(sorted(m for m in ('pymatgen', 'rdflib', 'pyoxigraph') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_consultation_works_its_balance_out_once_and_a_stream_keeps_none(monkeypatch):
    """charge_balance keeps the last few compositions asked for (a consultation asks three times: its input facts,
    its answer, its capacity) and, per process, those asked for again after that (system/kept.py
    kept_when_asked_again), so that a stream of new candidates keeps none of their Sites in the cycle collector's
    sight. (MgCoNiCuZn)O (ref 48, Section 3.1) asked for three times is balanced once and not kept; asked for again
    after more than RECENT_KEPT other compositions it is balanced again and kept."""
    from hemkg.consultation import oxidation

    made = []
    real = oxidation._balance
    monkeypatch.setattr(oxidation, "_balance", lambda items: made.append(items) or real(items))
    for name, empty in (("_RECENT", {}), ("_KEPT", {}), ("_ASKED", set())):
        monkeypatch.setattr(oxidation, name, empty)
    rock_salt = parse_formula("(MgCoNiCuZn)O").composition
    first = [oxidation.charge_balance(rock_salt) for _ in range(3)]
    assert len(made) == 1 and first[0] == first[2] and first[0].assignment.text().startswith("0.2 Mg2+")
    assert oxidation._KEPT == {}
    for n in range(1, oxidation.RECENT_KEPT + 2):  # others, until the last few no longer hold the rock salt
        oxidation.charge_balance({"Fe": float(n), "O": float(n)})
    assert oxidation.charge_balance(rock_salt) == first[0] and len([m for m in made if m == made[0]]) == 2
    assert list(oxidation._KEPT) == [made[0]]
