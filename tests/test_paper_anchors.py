"""Literature anchors: the paper's Fig. 6a, Table 1, orderings and figures, pinned.

Every expected value below is copied from Huang et al., Energy Environ. Sci.
2025, 18, 10286 (and its reading notes, SOURCE_NOTES.md), with the place it
stands named in the test. Any drift of the graph from the paper fails here.
"""

from __future__ import annotations

import re

import pytest
from conftest import has_value, kg, members, statements_where

from hemkg.graph import statements as knowledge
from hemkg.graph.store import ASSERTED_GRAPH, HEM, HEMKG, build_store, select

# Section 3.1: "HEM materials used in the anodes of RIBs involve ... cation elements, such as ..."
CATIONS_26 = "Li Mg Al Si Ca Ti V Cr Mn Fe Co Ni Cu Zn Ge Sr Mo Ru Ag In Sn Sb La Ce W Bi".split()
ANIONS_5 = "P S O Se Te".split()

# Section 3.1, Fig. 6a, each element with the reference printed beside it.
PLANE_A = {"Si": [47], "Fe": [64], "Co": [64], "Ni": [64], "Cu": [46], "Zn": [42], "In": [47], "Sn": [44],
           "Mn": [65], "Ge": [47], "Ru": [40], "Bi": [44], "Sb": [44], "V": [42], "Cr": [66]}
PLANE_B = {"Sn": [44], "Bi": [44], "Sb": [44], "Zn": [67], "In": [47], "Ge": [47], "Si": [47]}
PLANE_C = {"Fe": [63, 64, 68, 69], "Co": [56, 61], "Ni": []}  # Ni: the authors' own result, Fig. 5i

PLANES = [("A", "conversion", PLANE_A), ("B", "alloying", PLANE_B), ("C", "space-charge", PLANE_C)]


# ------------------------------------------------------------------ Fig. 6a

def test_the_26_cations_and_5_anions():
    """Section 3.1 and Table 1: the 26 listed cations and the 5 anions, exactly."""
    assert members("listed-cations") == set(CATIONS_26)
    assert members("listed-anions") == set(ANIONS_5)
    for symbol in CATIONS_26:
        assert knowledge.is_a(kg(symbol), "CationElement"), symbol
    for symbol in ANIONS_5:
        assert knowledge.is_a(kg(symbol), "AnionElement"), symbol


@pytest.mark.parametrize("plane, mechanism, expected", PLANES, ids=[p[0] for p in PLANES])
def test_plane_members_are_exactly_the_papers(plane, mechanism, expected):
    """Fig. 6a: each plane holds exactly the cations the text lists for it."""
    assert members(f"plane-{plane}") == set(expected)
    rows = select("SELECT ?m WHERE { ?p hem:enablesMechanism ?m }", p=kg(f"plane-{plane}"))
    assert [r["m"] for r in rows] == [kg(mechanism)]


@pytest.mark.parametrize(
    "plane, element, refs",
    [(plane, el, refs) for plane, _, table in PLANES for el, refs in table.items()],
    ids=[f"{plane}-{el}" for plane, _, table in PLANES for el in table],
)
def test_plane_membership_cites_the_papers_reference(plane, element, refs):
    """Section 3.1, Fig. 6a: each plane membership is a statement citing the reference printed beside the element."""
    (st,) = statements_where(subjects=kg(element), predicate=HEM + "memberOf", objects=kg(f"plane-{plane}"))
    assert st.references == refs
    assert "Fig. 6a" in st.figures and "3.1" in st.sections
    if not refs:  # Ni on Plane C rests on Fig. 5i, the authors' own operando magnetometry of NiS/Li
        assert st.rests_on_paper_alone and "Fig. 5i" in st.figures


def test_non_converting_cations_are_the_26_minus_plane_a():
    """Section 3.1: cations on no plane are the non-converting 'inactive stabilizers' (e.g. Li, Mg)."""
    expected = set(CATIONS_26) - set(PLANE_A)
    assert expected == {"Li", "Mg", "Al", "Ca", "Ti", "Sr", "Mo", "Ag", "La", "Ce", "W"}
    assert members("non-converting-cations") == expected
    raises = select("SELECT ?o WHERE { hemkg:non-converting-cations hem:raises ?o }")
    assert {r["o"] for r in raises} == {kg("cycling-stability")}


def _asserted(pattern: str) -> list[dict[str, str]]:
    return select(f"SELECT * WHERE {{ GRAPH <{ASSERTED_GRAPH}> {{ {pattern} }} }}")


def test_the_lists_of_cations_and_anions_are_kept_once():
    """Issue 9: kg/elements.ttl lists the 26 cations and 5 anions once (the groups); their types are entailed."""
    assert not _asserted("?e a hem:CationElement") and not _asserted("?e a hem:AnionElement")
    assert {r["e"].removeprefix(HEMKG) for r in _asserted("hemkg:listed-cations hem:hasMember ?e")} == set(CATIONS_26)
    assert {r["e"].removeprefix(HEMKG) for r in _asserted("hemkg:listed-anions hem:hasMember ?e")} == set(ANIONS_5)


def test_non_converting_cations_are_derived_not_listed(tmp_path):
    """Issue 9: the group's members are entailed from the plane statements of Fig. 6a, so they follow them:
    a (hypothetical) plane statement for Mo takes Mo out of the group."""
    assert not _asserted("hemkg:non-converting-cations hem:hasMember ?e")
    extra = tmp_path / "mo-on-plane-a.ttl"
    extra.write_text("""@prefix hem: <https://w3id.org/hemkg/ontology#> . @prefix hemkg: <https://w3id.org/hemkg/kg/> .
hemkg:stmt-test-Mo a hem:GuidelineStatement ; hem:subject hemkg:Mo ; hem:predicate hem:memberOf ; hem:object hemkg:plane-A .
""", encoding="utf-8")
    store = build_store([extra])
    found = {r["e"].removeprefix(HEMKG) for r in select("SELECT ?e WHERE { hemkg:non-converting-cations hem:hasMember ?e }",
                                                          store)}
    assert found == set(CATIONS_26) - set(PLANE_A) - {"Mo"}


def test_anion_is_prerequisite_for_conversion():
    """Section 3.1: 'anion elements like P, S, O, Se, or Te is a prerequisite' for conversion."""
    (st,) = statements_where(subjects=kg("listed-anions"), predicate=HEM + "isPrerequisiteFor")
    assert st.objects == [kg("conversion")]


# ------------------------------------------------------------------ Table 1

def test_table1_cations_row():
    """Table 1, Cations row: intercalation = the 26, conversion = Plane A, alloying = Plane B,
    space charge = Plane C; Ref. column 40, 42, 44, 46, 47 and 64-66."""
    row = statements_where(tables="Table 1, row Cations")
    enabled = {
        (st.subjects[0].removeprefix(HEMKG), st.objects[0].removeprefix(HEMKG))
        for st in row if st.predicate == HEM + "enablesMechanism"
    }
    assert enabled == {("listed-cations", "intercalation"), ("plane-A", "conversion"),
                       ("plane-B", "alloying"), ("plane-C", "space-charge")}
    cited = {n for st in row for n in st.references}
    assert {40, 42, 44, 46, 47, 64, 65, 66} <= cited


def test_table1_anions_row():
    """Table 1, Anions row: P, S, O, Se, Te govern intercalation and conversion (ref 97)."""
    (st,) = statements_where(tables="Table 1, row Anions", predicate=HEM + "affects")
    assert st.subjects == [kg("listed-anions")]
    assert set(st.objects) == {kg("intercalation"), kg("conversion")}
    assert st.references == [97]
    assert st.evidence == HEM + "damagedTableReading" and st.notes


def test_table1_theoretical_capacity_row():
    """Table 1, Theoretical capacity row: anions P > S > O > Se > Te (refs 76, 98); the alloying
    cations Si > Ge > Sn > Sb > Zn > Bi > In read into this row (SOURCE_NOTES.md, 2)."""
    row = statements_where(tables="Table 1, row Theoretical capacity")
    by_text = {st.ordering_text: st for st in row}
    assert by_text["P > S > O > Se > Te"].references == [76, 98]
    cations = by_text["Si > Ge > Sn > Sb > Zn > Bi > In"]
    assert cations.evidence == HEM + "damagedTableReading"
    assert any("conductivity" in note for note in cations.notes)  # says where the extraction printed it
    assert all(st.ordering_of == kg("theoretical-specific-capacity") for st in row)


def test_table1_conductivity_row():
    """Table 1, Intrinsic electrical conductivity row: anions Se > Te > P > S > O (ref 76)."""
    row = statements_where(tables="Table 1, row Intrinsic electrical conductivity")
    (st,) = [s for s in row if s.ordering_text]
    assert st.ordering_text == "Se > Te > P > S > O"
    assert st.references == [76]
    assert st.ordering_of == kg("intrinsic-electrical-conductivity")
    (alloying,) = [s for s in row if not s.ordering_text]  # the alloying cell, read with the text
    assert {kg("Si"), kg("Ge"), kg("In")} <= set(alloying.mentions)
    assert alloying.evidence == HEM + "damagedTableReading" and alloying.references == [47, 71]


# Table 1 lower half, as read in SOURCE_NOTES.md, 2: factor -> (mechanisms raised, references)
STRUCTURE_ROWS = {
    "Smaller initial particle size": ("smaller-initial-particle-size", {"intercalation", "conversion"}, [9, 35]),
    "Smaller particle size of conversion products": ("smaller-conversion-product-size", {"alloying", "space-charge"}, [57, 91]),
    "Higher conversion product interface density": ("higher-conversion-product-interface-density", {"space-charge"}, [47, 95]),
    "More developed conductive framework": ("more-developed-conductive-framework", {"intercalation", "conversion"}, [31, 41]),
    "Increased defect sites": ("increased-defect-sites", {"intercalation"}, [21]),
}


@pytest.mark.parametrize("row", STRUCTURE_ROWS)
def test_table1_structure_design_row(row):
    """Table 1, structure-design rows: each factor raises the mechanisms of its row, with the row's references,
    and is marked as a reading of the damaged table with the printed cells quoted."""
    factor, mechanisms, refs = STRUCTURE_ROWS[row]
    (st,) = statements_where(tables=f"Table 1, row {row}")
    assert st.subjects == [kg(factor)]
    assert {o.removeprefix(HEMKG) for o in st.objects} == mechanisms
    assert st.direction == HEM + "increase"
    assert st.references == refs
    assert st.evidence == HEM + "damagedTableReading"
    assert any("in the text of Table 1 available here" in note for note in st.notes)
    raised = {r["o"].removeprefix(HEMKG) for r in select("SELECT ?o WHERE { ?f hem:raises ?o }", f=kg(factor))}
    assert mechanisms <= raised


def test_table1_has_no_unread_rows():
    """Table 1 has 4 element-selection rows and 5 structure rows; every row is encoded."""
    rows = {t.removeprefix("Table 1, row ") for st in knowledge.statements().values() for t in st.tables}
    assert rows == {"Cations", "Anions", "Theoretical capacity", "Intrinsic electrical conductivity", *STRUCTURE_ROWS}


# ------------------------------------------------------------------ orderings

ORDERINGS = [
    # (ordering text as printed, property, refs, place in the paper)
    ("P > S > O > Se > Te", "theoretical-specific-capacity", [76, 98], "Table 1; Fig. 6d"),
    ("Se > Te > P > S > O", "intrinsic-electrical-conductivity", [76], "Table 1; Fig. 6d"),
    ("Si > Ge > Sn > Sb > Zn > Bi > In", "theoretical-specific-capacity", [76, 98], "Table 1 (reading); Fig. 6b"),
    ("Fe > Co > Ni", "saturation-magnetisation", [], "Fig. 6c, no reference printed"),
    ("Fe > Co > Ni", "space-charge-capacity-contribution", [61, 72], "Fig. 7a"),
    ("Li+ (0.076 nm) < Na+ (0.102 nm) < K+ (0.138 nm)", "ionic-radius", [73], "Fig. 7b"),
    ("LIB (525.9 mAh/g) > SIB (476.0 mAh/g, 90.5%) > PIB (246.1 mAh/g, 46.8%)", "conversion-capacity-contribution", [73], "Section 3.2"),
    ("LIB (714.2 mAh/g) > SIB (163.0 mAh/g, 22.8%) > PIB (122.6 mAh/g, 17.1%)", "space-charge-capacity-contribution", [73], "Section 3.2"),
]

_NAMES = {"Li+": "Li-ion", "Na+": "Na-ion", "K+": "K-ion", "LIB": "Li-ion", "SIB": "Na-ion", "PIB": "K-ion"}


def _items_high_to_low(text: str) -> list[str]:
    """'A > B > C' -> [A, B, C]; 'A < B < C' -> [C, B, A]; parenthesised figures dropped."""
    plain = re.sub(r"\([^)]*\)", "", text)
    if "<" in plain:
        return [_NAMES.get(x.strip(), x.strip()) for x in reversed(plain.split("<"))]
    return [_NAMES.get(x.strip(), x.strip()) for x in plain.split(">")]


@pytest.mark.parametrize("text, prop, refs, where", ORDERINGS, ids=[f"{o[1]}:{o[0][:20]}" for o in ORDERINGS])
def test_ordering(text, prop, refs, where):
    """Each ordering the paper states, with its property and references; its rank entries agree with the text."""
    (st,) = [s for s in statements_where(ordering_text=text) if s.ordering_of == kg(prop)]
    assert st.references == refs, where
    assert [item.removeprefix(HEMKG) for _, item in st.ranked] == _items_high_to_low(text)
    assert [rank for rank, _ in st.ranked] == list(range(1, len(st.ranked) + 1))


def test_every_ordering_is_anchored():
    """No ordering in the graph escapes the anchors above."""
    in_graph = {(st.ordering_text, st.ordering_of) for st in knowledge.statements().values() if st.ordering_text}
    assert in_graph == {(text, kg(prop)) for text, prop, _, _ in ORDERINGS}


# ------------------------------------------------------------------ figures

FIGURES = [
    # (holder, number, QUDT unit, property, where in the paper)
    ("stmt-si-capacity", 4200, "MilliA-HR-PER-GM", "theoretical-specific-capacity", "Section 3.1, Fig. 6b"),
    ("stmt-si-conductivity", 1e-5, "S-PER-M", "intrinsic-electrical-conductivity", "Section 3.1"),
    ("stmt-ge-rate", 1000, "unit-C-rate", "fast-charging", "Section 3.1, ref 71"),
    ("stmt-ge-rate", 8646, "A-HR-PER-DeciM3", "volumetric-capacity", "Section 3.1, ref 71"),
    ("material-InGeSiP3", 1733, "MilliA-HR-PER-GM", "specific-capacity", "Section 3.1, ref 47"),
    ("stmt-hem-working-voltage", 1.0, "V", "working-voltage", "Section 3.1: plateaus at ~1.0 V"),
    ("stmt-hem-working-voltage", 0.2, "V", "working-voltage", "Section 3.1: graphite or hard carbon ~0.2 V"),
    ("stmt-si-lowers-voltage", 0.4, "V", "working-voltage", "Section 3.1: Si ~0.4 V vs Li/Li+"),
    ("Li-ion", 0.076, "NanoM", "ionic-radius", "Section 3.1, Fig. 7b"),
    ("Na-ion", 0.102, "NanoM", "ionic-radius", "Section 3.1, Fig. 7b"),
    ("K-ion", 0.138, "NanoM", "ionic-radius", "Section 3.1, Fig. 7b"),
    ("stmt-order-conversion-by-ion", 525.9, "MilliA-HR-PER-GM", "conversion-capacity-contribution", "Section 3.2, ref 73"),
    ("stmt-order-conversion-by-ion", 476.0, "MilliA-HR-PER-GM", "conversion-capacity-contribution", "Section 3.2, ref 73"),
    ("stmt-order-conversion-by-ion", 246.1, "MilliA-HR-PER-GM", "conversion-capacity-contribution", "Section 3.2, ref 73"),
    ("stmt-order-space-charge-by-ion", 714.2, "MilliA-HR-PER-GM", "space-charge-capacity-contribution", "Section 3.2, ref 73"),
    ("stmt-order-space-charge-by-ion", 163.0, "MilliA-HR-PER-GM", "space-charge-capacity-contribution", "Section 3.2, ref 73"),
    ("stmt-order-space-charge-by-ion", 122.6, "MilliA-HR-PER-GM", "space-charge-capacity-contribution", "Section 3.2, ref 73"),
    ("stmt-space-charge-size-limit", 10, "NanoM", "conversion-product-size", "Section 3.2, ref 57: below 10 nm"),
    ("material-MgCoNiCuZnO", 7, "PERCENT", "volume-change", "Section 3.2, ref 48: ~7% expansion"),
    ("material-MgCoNiCuZnO", 80, "PERCENT", "capacity-retention", "Section 3.1, ref 48: 80% after 2500 cycles"),
    ("material-LiFeZnNiCoMn3O4", 89, "PERCENT", "capacity-retention", "Section 3.1, ref 41: 89% after 500 cycles"),
    ("material-LiFeZnNiCoMn3O4-HOMS", 100, "PERCENT", "capacity-retention", "Section 3.1, ref 41: 100% after 100 cycles"),
    ("material-LiFeZnNiCoMn3O4-HOMS", 1200, "MilliA-HR-PER-GM", "specific-capacity", "Section 3.1, ref 41: above 1200 mAh/g"),
    ("material-Co3O4-HOMS", 65, "PERCENT", "capacity-retention", "Section 3.1, ref 41: 65%"),
    ("material-Co3O4-HOMS", 800, "MilliA-HR-PER-GM", "specific-capacity", "Section 3.1, ref 41: under 800 mAh/g"),
    ("material-FeS-C", 96.8, "PERCENT", "capacity-retention", "Section 3.1, ref 70: 96.8% over 10 000 cycles"),
    ("material-FeS-C", 4.0, "PERCENT", "volume-change", "Section 3.2, ref 95: 4.0% deformation"),
    ("material-MoS2", 10, "NanoM", "conversion-product-size", "Section 3.2, ref 92: Mo ~10 nm without confinement"),
    ("material-Fe-doped-MoS2", 2, "NanoM", "conversion-product-size", "Section 3.2, ref 92: ~2 nm with Fe and carbon"),
]


@pytest.mark.parametrize("holder, number, unit, prop, where", FIGURES, ids=[f"{f[0]}={f[1]}" for f in FIGURES])
def test_reported_figure(holder, number, unit, prop, where):
    """Each number the paper reports is in the graph with its unit and property."""
    assert has_value(holder, number, unit, prop), where


def test_ion_comparison_percentages_match_the_figures():
    """Section 3.2 (ref 73): the printed shares agree with the printed capacities to 0.1 point.

    122.6/714.2 is 17.17 %, printed as 17.1 % (truncated); the graph notes it.
    """
    printed = {(476.0, 525.9): 90.5, (246.1, 525.9): 46.8, (163.0, 714.2): 22.8, (122.6, 714.2): 17.1}
    for (part, whole), pct in printed.items():
        assert abs(part / whole * 100 - pct) < 0.1, (part, whole, pct)
    for oid in ("conversion-by-ion", "space-charge-by-ion"):
        (st,) = statements_where(iri=kg(f"stmt-order-{oid}"))
        assert {float(p) for p in re.findall(r"(\d+\.\d)%", st.ordering_text)} <= set(printed.values())
    (space_charge,) = statements_where(iri=kg("stmt-order-space-charge-by-ion"))
    assert any("17.17" in note for note in space_charge.notes)


# ------------------------------------------------------------------ effects, context, full cells

EFFECTS = [
    # (subject, property, increase/decrease, source)
    ("plane-A", "specific-capacity", "increase", "Section 3.1 (ref 63)"),
    ("plane-B", "specific-capacity", "increase", "Section 3.1 (ref 63)"),
    ("plane-C", "specific-capacity", "increase", "Section 3.1 (ref 63)"),
    ("non-converting-cations", "cycling-stability", "increase", "Section 3.1 (ref 63)"),
    ("high-conductivity-anions", "fast-charging", "increase", "Section 3.1 (refs 44, 49)"),
    ("plane-C", "fast-charging", "increase", "Section 3.1"),
    ("conversion", "volume-change", "increase", "Section 2.2"),
    ("alloying", "volume-change", "increase", "Section 2.3"),
    ("intercalation", "cycling-stability", "increase", "Section 2.1 (ref 29)"),
    ("Se", "fast-charging", "increase", "Section 3.1 (refs 49, 74): a little Se in sulfides, SIB"),
    ("working-voltage", "full-cell-energy-density", "decrease", "Section 3.1: ~1.0 V plateau"),
    ("ionic-radius", "space-charge", "decrease", "Section 3.1 (ref 73): LIB > SIB > PIB"),
]


@pytest.mark.parametrize("subject, prop, direction, source", EFFECTS, ids=[f"{e[0]}->{e[1]}" for e in EFFECTS])
def test_effect_direction(subject, prop, direction, source):
    """Section 3.1 effects on performance, each with its direction, materialised as hem:raises / hem:lowers."""
    predicate = "raises" if direction == "increase" else "lowers"
    rows = select(f"SELECT ?o WHERE {{ ?s hem:{predicate} ?o }}", s=kg(subject))
    assert kg(prop) in {r["o"] for r in rows}, source


SCOPED_OR_HEDGED = [
    # (statement, subject, property, direction, why it must not become a general fact)
    ("stmt-oxides-sodium-conductivity", "O", "specific-capacity", "decrease", "Section 3.1, Fig. 7d: only under Na, 'may be attributed'"),
    ("stmt-phosphides-high-current", "P", "fast-charging", "decrease", "Section 3.1, Fig. 7f: relative to their theoretical advantage"),
    ("stmt-si-lowers-voltage", "Si", "working-voltage", "decrease", "Section 3.1: the authors' suggestion"),
    ("stmt-in-conductivity", "In", "fast-charging", "increase", "Section 3.1: one material, InGeSiP3 (ref 47)"),
]


@pytest.mark.parametrize("statement, subject, prop, direction, why", SCOPED_OR_HEDGED, ids=[x[0] for x in SCOPED_OR_HEDGED])
def test_scoped_or_hedged_effects_stay_statements(statement, subject, prop, direction, why):
    """Claims the paper scopes to one ion or material, or hedges, keep their direction but assert no general triple."""
    (st,) = statements_where(iri=kg(statement))
    assert st.subjects == [kg(subject)] and st.objects == [kg(prop)]
    assert st.direction == HEM + direction
    assert st.predicate is None, why
    assert st.notes or st.observed_in
    assert not select("SELECT ?p WHERE { ?s ?p ?o }", s=kg(subject), o=kg(prop))


def test_selenides_suit_sodium_ion_batteries():
    """Section 3.1, Fig. 7d/f: 'selenides have more advantages as anode materials of SIBs than LIBs'."""
    (st,) = statements_where(subjects=kg("Se"), predicate=HEM + "suits")
    assert st.objects == [kg("SIB")] and st.applies_to_ion == [kg("Na-ion")]


CONTEXT_EXAMPLES = [
    # (material, element, mechanism, observed active, ref) -- Section 3.1 and 2.2
    ("material-LiFeZnNiCoMn3O4", "Fe", "conversion", True, 41),
    ("material-LiFeZnNiCoMn3O4", "Co", "conversion", True, 41),
    ("material-LiFeZnNiCoMn3O4", "Ni", "conversion", True, 41),
    ("material-LiFeZnNiCoMn3O4", "Li", "conversion", False, 41),
    ("material-LiFeZnNiCoMn3O4", "Zn", "conversion", False, 41),
    ("material-LiFeZnNiCoMn3O4", "Mn", "conversion", False, 41),
    ("material-MgCoNiCuZnO", "Mg", "conversion", False, 48),
    ("material-MgCoNiCuZnO", "Cu", "conversion", True, 48),
    ("material-MgCoNiCuZnO", "Zn", "alloying", True, 48),
    ("material-Mg0-2Co0-2Ni0-2Cu0-2Zn0-2O", "Zn", "conversion", True, 46),
    ("material-Fe-doped-MoS2", "Mo", "conversion", True, 92),
    ("material-Sb1-4Bi0-2Sn0-2Co0-1Mn0-1Te3", "Sb", "alloying", True, 44),
    ("material-Sb1-4Bi0-2Sn0-2Co0-1Mn0-1Te3", "Bi", "alloying", True, 44),
    ("material-Sb1-4Bi0-2Sn0-2Co0-1Mn0-1Te3", "Sn", "alloying", True, 44),
    ("material-InGeSiP3", "Ge", "alloying", True, 47),
]


@pytest.mark.parametrize("material, element, mechanism, active, ref", CONTEXT_EXAMPLES,
                         ids=[f"{c[1]}-{c[2]}-in-{c[0][9:]}" for c in CONTEXT_EXAMPLES])
def test_reported_example(material, element, mechanism, active, ref):
    """Section 3.1: 'the same element can function either as an active or inactive component';
    each reported example is evidence kept apart from the plane lists (no materialised triple)."""
    found = [st for st in statements_where(observed_in=kg(material), subjects=kg(element), objects=kg(mechanism))]
    assert found, (material, element, mechanism)
    st = found[0]
    assert st.observed_taking_part is active
    assert ref in st.references
    assert st.predicate is None and st.evidence == HEM + "reportedExample"


FULL_CELLS = [  # Section 3.1: anode, cathode, ref
    ("material-GaCuZnInGeSiP6", "LiFePO4", 47),
    ("material-LiFeZnNiCoMn3O4", "LiNi0.8Co0.1Mn0.1O2", 41),
    ("material-Cu0-88Sn0-02Sb0-02Bi0-02Mn0-02S0-9Se0-1", "Na3V2(PO4)3", 49),
    ("material-Sb1-4Bi0-2Sn0-2Co0-1Mn0-1Te3", "K1.47Fe0.5Mn0.5[Fe(CN)6]1.26", 44),
]


@pytest.mark.parametrize("anode, cathode, ref", FULL_CELLS, ids=[f[1] for f in FULL_CELLS])
def test_full_cell_pairing(anode, cathode, ref):
    """Section 3.1: the four full cells and their cathodes."""
    rows = select("SELECT ?f WHERE { ?a hem:pairedWith ?c . ?c hem:formula ?f }", a=kg(anode))
    assert any(r["f"].replace(" ", "").startswith(cathode) for r in rows), rows
    (st,) = statements_where(subjects=kg(anode), predicate=HEM + "pairedWith")
    assert ref in st.references


def test_hem_definition():
    """Section 1: five or more elements, 5-35 at%, single phase (refs 17, 18)."""
    (st,) = statements_where(iri=kg("stmt-hem-definition"))
    text = " ".join([st.label, *st.scope_notes])
    assert "five" in text and "5" in text and "35" in text
    assert {17, 18} <= set(st.references)


def test_outlook_has_three_directions():
    """Section 4, Fig. 9: intelligent design, structural innovation, mechanism elucidation."""
    rows = select("SELECT ?d WHERE { ?d a hem:OutlookDirection }")
    assert {r["d"].removeprefix(HEMKG) for r in rows} == {
        "outlook-intelligent-design", "outlook-structural-innovation", "outlook-mechanism-elucidation"}


TECHNIQUES = [  # Section 4 (III): technique -> mechanisms it reveals
    ("technique-in-situ-XRD", {"intercalation", "conversion", "alloying"}),
    ("technique-in-situ-TEM", {"conversion", "alloying"}),
    ("technique-operando-magnetometry", {"conversion", "space-charge"}),
]


@pytest.mark.parametrize("technique, mechanisms", TECHNIQUES, ids=[t[0] for t in TECHNIQUES])
def test_technique_reveals(technique, mechanisms):
    """Section 4 (III): which technique follows which mechanism."""
    rows = select("SELECT ?m WHERE { ?t hem:reveals ?m }", t=kg(technique))
    assert mechanisms <= {r["m"].removeprefix(HEMKG) for r in rows}
