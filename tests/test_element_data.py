"""Element data comes from pymatgen, never typed by hand; the committed file must not drift."""

from __future__ import annotations

import pytest

from hemkg.graph import elementdata
from hemkg.graph.store import select

pymatgen = pytest.importorskip("pymatgen.core", reason="pymatgen-core is a test dependency: pip install -e '.[test]'")


def test_committed_element_data_matches_the_library():
    """kg/generated/element-data.ttl is exactly what `python -m hemkg.graph.elementdata` writes now."""
    assert elementdata.OUTPUT.read_text(encoding="utf-8") == elementdata.render()


def test_committed_element_symbols_match_the_library():
    """kg/generated/elements.json (read by formula.py) is exactly what `python -m hemkg.graph.elementdata` writes now."""
    assert elementdata.SYMBOLS_OUTPUT.read_text(encoding="utf-8") == elementdata.render_symbols()


def test_element_symbols_agree_with_the_graph():
    """elements.json names the graph's elements 1-103 with the same symbols and atomic numbers, and 104-118 besides."""
    import json

    elements = json.loads(elementdata.SYMBOLS_OUTPUT.read_text(encoding="utf-8"))["elements"]
    in_graph = {row["s"]: int(row["z"]) for row in select("SELECT ?s ?z WHERE { ?e hem:symbol ?s ; hem:atomicNumber ?z }")}
    assert in_graph == {s: e["Z"] for s, e in elements.items() if e["Z"] <= elementdata.LAST_ELEMENT}
    assert sorted(e["Z"] for e in elements.values()) == list(range(1, elementdata.LAST_SYMBOL + 1))


def test_element_past_lawrencium_is_read_then_refused_for_want_of_data():
    """'Rf' is a real symbol to the formula parser; consultation refuses it because the data stop at Lr."""
    from hemkg.consultation.consultation import consult
    from hemkg.consultation.formula import parse_formula

    assert parse_formula("RfO2").composition == {"Rf": 1.0, "O": 2.0}
    with pytest.raises(ValueError, match=r"no element data for Rf: hemkg knows elements up to Lr \(Z = 103\)"):
        consult("RfO2")


@pytest.mark.parametrize("symbol, z, mass, chi", [("Zn", 30, 65.38, 1.65), ("Si", 14, 28.0855, 1.90), ("Te", 52, 127.6, 2.1)])
def test_element_data_in_graph(symbol, z, mass, chi):
    """Atomic number, mass (to 0.1 %) and Pauling electronegativity reach the graph."""
    (row,) = select(
        "SELECT ?z ?m ?x WHERE { ?e hem:symbol ?s ; hem:atomicNumber ?z ; hem:atomicMass ?m ; hem:paulingElectronegativity ?x }",
        s=symbol,
    )
    assert int(row["z"]) == z
    assert abs(float(row["m"]) - mass) / mass < 1e-3
    assert abs(float(row["x"]) - chi) < 0.01


@pytest.mark.parametrize("ion, element, radius_nm", [("Li-ion", "Li", 0.076), ("Na-ion", "Na", 0.102), ("K-ion", "K", 0.138)])
def test_paper_ionic_radii_agree_with_shannon(ion, element, radius_nm):
    """Section 3.1 / Fig. 7b radii (Li+ 0.076, Na+ 0.102, K+ 0.138 nm) are Shannon's six-coordinate radii."""
    from pymatgen.core.periodic_table import Species

    shannon_angstrom = Species(element, 1).get_shannon_radius("VI")
    assert round(shannon_angstrom / 10, 3) == radius_nm
    (row,) = select("SELECT ?r WHERE { ?i hem:hasReportedValue ?v . ?v hem:ofProperty hemkg:ionic-radius ; qudt:numericValue ?r }",
                    i=f"https://w3id.org/hemkg/kg/{ion}")
    assert float(row["r"]) == radius_nm
