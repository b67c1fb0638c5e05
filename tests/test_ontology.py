"""The ontology: OWL 2 DL header, documented terms, consistency under HermiT."""

from __future__ import annotations

from pathlib import Path

from conftest import PREFIXES, needs_java

import hemkg
from hemkg.graph import checks
from hemkg.graph.store import build_store, select


def test_ontology_header_and_version_agree_with_the_package():
    """The ontology IRI has a version IRI and owl:versionInfo equal to hemkg.__version__."""
    (row,) = select("SELECT ?v ?vi WHERE { <https://w3id.org/hemkg/ontology> owl:versionIRI ?v ; owl:versionInfo ?vi }")
    assert row["vi"] == hemkg.__version__
    assert row["v"] == f"https://w3id.org/hemkg/ontology/{hemkg.__version__}"


def test_every_term_has_label_and_definition():
    """EMMO practice: each hem: class and property has skos:prefLabel and skos:definition."""
    terms = select("""SELECT ?t WHERE { ?t a ?k . FILTER (?k IN (owl:Class, owl:ObjectProperty, owl:DatatypeProperty))
                                        FILTER STRSTARTS(STR(?t), STR(hem:)) }""")
    assert len(terms) > 60
    undocumented = select("""SELECT ?t WHERE { ?t a ?k . FILTER (?k IN (owl:Class, owl:ObjectProperty, owl:DatatypeProperty))
        FILTER STRSTARTS(STR(?t), STR(hem:))
        FILTER (NOT EXISTS { ?t skos:prefLabel ?l } || NOT EXISTS { ?t skos:definition ?d }) }""")
    assert undocumented == []


def test_emmo_alignment_points_outside_the_project():
    """ontology/emmo-alignment.ttl links terms to EMMO IRIs with skos:closeMatch."""
    rows = select("SELECT ?a ?b WHERE { ?a skos:closeMatch ?b }")
    assert len(rows) >= 15
    assert all(r["b"].startswith("https://w3id.org/emmo") for r in rows)
    aligned = {r["a"] for r in rows}
    typed = {r["a"] for r in select("SELECT ?a WHERE { ?a skos:closeMatch ?b ; a ?c }")}
    assert aligned == typed  # every aligned term exists in the graph (no typo in the alignment file)


@needs_java
def test_ontology_and_graph_are_consistent_under_hermit():
    """HermiT (bundled with owlready2) finds the ontology with the whole knowledge graph consistent."""
    assert checks.consistent_under_hermit() is True


@needs_java
def test_hermit_check_can_fail(tmp_path: Path):
    """The consistency check is real: an element that is also a mechanism (disjoint classes) is caught."""
    bad = tmp_path / "bad.ttl"
    bad.write_text(PREFIXES + "hemkg:Zn a hem:IonStorageMechanism .\n", encoding="utf-8")
    assert checks.consistent_under_hermit(build_store([bad])) is False


@needs_java
def test_hermit_catches_a_second_effect_direction(tmp_path: Path):
    """hem:effectDirection is functional and its two values are distinct: two directions are inconsistent."""
    bad = tmp_path / "bad.ttl"
    bad.write_text(PREFIXES + "hemkg:stmt-conversion-volume hem:effectDirection hem:decrease .\n", encoding="utf-8")
    assert checks.consistent_under_hermit(build_store([bad])) is False
