"""The vocabulary (hemkg.graph.vocab) says what the paper says."""

from __future__ import annotations

import pickle

import pytest

from hemkg import engine
from hemkg.graph.vocab import Vocabulary, json_key, number_word, spoken_list, vocab

# ------------------------------------------------------------------ the vocabulary against the paper

TABLE_1_CATIONS = "Li, Mg, Al, Si, Ca, Ti, V, Cr, Mn, Fe, Co, Ni, Cu, Zn, Ge, Sr, Mo, Ru, Ag, In, Sn, Sb, La, Ce, W, Bi"


def test_listed_cations_are_table_1_as_printed():
    """Table 1, row Cations (and Section 3.1): the 26 cations of reported HEM anodes, in the paper's order."""
    assert vocab().cations == tuple(TABLE_1_CATIONS.split(", "))
    assert len(vocab().cations) == 26


def test_listed_anions_are_table_1_as_printed():
    """Table 1, row Anions: 'P, S, O, Se, Te', in that order."""
    assert vocab().anions == ("P", "S", "O", "Se", "Te")


def test_anion_formers_outside_the_list_are_the_project_convention():
    """Not the paper: the convention of issue 3 (kg/conventions.ttl) adds hydrides' to halides' anion formers."""
    v = vocab()
    assert v.outside_anions == ("H", "B", "C", "N", "F", "Cl", "Br", "I")
    assert v.anion_formers == frozenset(v.anions) | frozenset(v.outside_anions)
    assert not set(v.outside_anions) & set(v.anions)


@pytest.mark.parametrize("name, mechanism, members", [
    ("A", "conversion", "Si Fe Co Ni Cu Zn In Sn Mn Ge Ru Bi Sb V Cr"),
    ("B", "alloying", "Sn Bi Sb Zn In Ge Si"),
    ("C", "space-charge", "Fe Co Ni"),
])
def test_planes_are_fig_6a(name: str, mechanism: str, members: str):
    """Fig. 6a (and Table 1, row Cations): Plane A converts, Plane B alloys, Plane C stores space charge."""
    plane = vocab().plane(name)
    assert plane.mechanism == mechanism
    assert set(plane.members) == set(members.split())
    assert plane.short_label == f"Plane {name} ({vocab().mechanism(mechanism).label})"


def test_mechanisms_in_the_order_of_section_2():
    """Section 2.1-2.4 and Table 1's columns: intercalation, conversion, alloying, space charge."""
    v = vocab()
    assert v.mechanism_names == ("intercalation", "conversion", "alloying", "space-charge")
    assert [m.json_key for m in v.mechanisms] == ["intercalation", "conversion", "alloying", "space_charge"]
    assert v.mechanism("space-charge").label == "space charge"


def test_carrier_ions_and_their_radii():
    """Section 3.1: Li+ 0.076 nm, Na+ 0.102 nm, K+ 0.138 nm, as the graph gives them; Section 1: LIB, SIB, PIB."""
    ions = {i.symbol: (i.label, i.radius_nm, i.chemistry, i.name) for i in vocab().ions}
    assert ions == {"Li": ("Li+", 0.076, "LIB", "Li-ion"), "Na": ("Na+", 0.102, "SIB", "Na-ion"),
                    "K": ("K+", 0.138, "PIB", "K-ion")}
    assert vocab().ion_symbols == ("Li", "Na", "K")


def test_hem_definition_of_section_1():
    """Section 1: 'five or more elements ... (composition range: 5-35 at%)'."""
    hem = vocab().hem
    assert (hem.min_elements, hem.fraction_range, hem.section) == (5, (0.05, 0.35), "1")
    assert hem.text == "five or more elements, each 5-35 at%"


def test_orderings_carry_the_headings_consultations_print():
    """kg/orderings.ttl: the orderings rules apply to a candidate's elements have an answer heading."""
    v = vocab()
    applied = {a.args[0] for r in engine.load_rules() for a in r.then if a.predicate == "ordered"}
    assert applied and all(v.ordering(name).heading for name in applied)
    assert v.ordering("anion-theoretical-capacity").text == "P > S > O > Se > Te"  # Table 1, row Theoretical capacity


# ------------------------------------------------------------------ the rules speak the vocabulary

def _heads(predicate: str) -> set[tuple[str, ...]]:
    return {a.args for r in engine.load_rules() for a in (*r.when, *r.then) if a.predicate == predicate}


def _ground(values: set[str]) -> set[str]:
    return {x for x in values if not x.startswith("?") and x != "_"}


def test_rules_name_only_vocabulary_statuses_mechanisms_and_roles():
    """Every status, mechanism, role, plane, group, property and ordering the rules name is one of the graph's."""
    v = vocab()
    statuses = {s.name for s in v.statuses}
    assert statuses == {"active", "inactive", "undetermined"}
    assert _ground({args[0] for args in _heads("status")}) <= set(v.mechanism_names)
    assert _ground({args[1] for args in _heads("status")}) <= statuses
    assert _ground({args[1] for args in _heads("role")}) <= {r.name for r in v.roles} | set(v.mechanism_names)
    assert _ground({args[1] for args in _heads("on_plane") | _heads("plane_cation")}) <= {p.name for p in v.planes}
    assert _ground({args[0] for args in _heads("has_plane")}) <= {p.name for p in v.planes}
    assert _ground({args[1] for args in _heads("in_group")}) <= {g.name for g in v.groups}
    assert _ground({args[0] for args in _heads("effect")}) <= {p.name for p in v.properties}
    assert _ground({args[0] for args in _heads("ordered") | _heads("rank")}) <= {o.name for o in v.orderings}
    assert {"stabilizer", "anion", "unclassified"} == {r.name for r in v.roles}


# ------------------------------------------------------------------ the module itself

def test_vocab_is_built_once_and_cached_on_disk():
    """vocab() is disk-cached like the graph's other readings; a fresh build equals the cached one."""
    first = vocab()
    assert vocab() is first
    assert isinstance(first, Vocabulary)
    assert vocab.__wrapped__() == first  # type: ignore[attr-defined]
    assert pickle.loads(pickle.dumps(first)) == first


def test_spelling_helpers():
    assert json_key("space-charge") == "space_charge"
    assert spoken_list(("Li", "Na", "K")) == "Li, Na and K"
    assert spoken_list(["Li", "Na"], "or") == "Li or Na"
    assert spoken_list(["Li"]) == "Li"
    assert number_word(5) == "five" and number_word(12) == "12"

