"""The SHACL shapes and *-violation queries: the graph conforms, and each check can fail."""

from __future__ import annotations

from pathlib import Path

import pytest

from hemkg.graph import checks

PREFIXES = """
@prefix hem: <https://w3id.org/hemkg/ontology#> .
@prefix hemkg: <https://w3id.org/hemkg/kg/> .
@prefix ref: <https://w3id.org/hemkg/ref/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix qudt: <http://qudt.org/schema/qudt/> .
@prefix unit: <http://qudt.org/vocab/unit/> .
@prefix dcterms: <http://purl.org/dc/terms/> .
"""


def test_packaged_graph_conforms():
    """`hem kg validate` on the packaged graph finds nothing."""
    assert checks.validate() == []


BROKEN = {
    # check id that must fire -> Turtle that breaks it
    "hemsh:StatementHasReference": """hemkg:stmt-x a hem:GuidelineStatement ; skos:prefLabel "x claims"@en ;
        hem:inSection "3.1" ; hem:evidenceKind hem:textStatement .""",
    "hemsh:StatementHasLocation": """hemkg:stmt-x a hem:GuidelineStatement ; skos:prefLabel "x claims"@en ;
        hem:citesReference ref:41 ; hem:evidenceKind hem:textStatement .""",
    "hemsh:UncitedStatementExplained": """hemkg:stmt-x a hem:GuidelineStatement ; skos:prefLabel "x claims"@en ;
        hem:restsOnPaperAlone true ; hem:inSection "3.1" ; hem:evidenceKind hem:textStatement .""",
    "hemsh:DamagedReadingExplained": """hemkg:stmt-x a hem:GuidelineStatement ; skos:prefLabel "x claims"@en ;
        hem:citesReference ref:41 ; hem:inTable "Table 1, row Anions" ; hem:evidenceKind hem:damagedTableReading .""",
    "hemsh:StatementShape": """hemkg:stmt-x a hem:GuidelineStatement ; skos:prefLabel "x claims"@en ;
        hem:citesReference ref:41 ; hem:inSection "3.1" .""",
    "hemsh:ElementShape": """hemkg:Xx a hem:ChemicalElement ; skos:prefLabel "newium"@en .""",
    "hemsh:ReferenceShape": """ref:99 a hem:Reference ; hem:referenceNumber 99 ; skos:prefLabel "[99] nobody"@en .""",
    "hemsh:ReportedValueShape": """hemkg:value-x a hem:ReportedValue ; skos:prefLabel "a number"@en ;
        qudt:numericValue 5 ; hem:ofProperty hemkg:specific-capacity .""",
    "duplicate-label-violation": """hemkg:stmt-plane-A-Zn skos:prefLabel "Zn alloys after conversion (Plane B)"@en .""",
    "undeclared-hem-term-violation": """hemkg:stmt-plane-A-Zn hem:citesRefrence ref:42 .""",
    "undefined-individual-violation": """hemkg:stmt-plane-A-Zn hem:mentions hemkg:convrsion .""",
    "plane-member-not-listed-violation": """hemkg:Ga hem:memberOf hemkg:plane-A .""",
    "printed-list-violation": """hemkg:listed-anions hem:hasMember hemkg:F .""",
    "ordering-rank-violation": """hemkg:stmt-order-anion-conductivity hem:hasRankEntry [ a hem:RankEntry ; hem:rank 9 ; hem:rankedItem hemkg:Te ] .""",
    "duplicate-reference-number-violation": """ref:41 hem:referenceNumber 42 .""",
    "missing-term-documentation-violation": """hem:Anode a <http://www.w3.org/2002/07/owl#Class> .""",
}


@pytest.mark.parametrize("check", BROKEN)
def test_each_check_can_fail(check: str, tmp_path: Path):
    """Each shape and violation query reports a graph that breaks it, with a message that names the fix."""
    extra = tmp_path / "extra.ttl"
    extra.write_text(PREFIXES + BROKEN[check] + "\n", encoding="utf-8")
    problems = checks.validate([extra])
    fired = {p.check for p in problems}
    assert check in fired, problems
    assert all(p.message for p in problems)


def test_every_check_is_exercised():
    """No violation query in kg/checks/ lacks a breaking case above."""
    ids = {query_id for query_id, _ in checks.violation_queries()}
    assert ids <= set(BROKEN)
