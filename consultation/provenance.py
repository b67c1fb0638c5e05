"""A consultation's derivations as PROV-O RDF, so they can be queried and exported.

Each fact is a hem:Fact (prov:Entity); each rule firing a hem:RuleApplication
(prov:Activity) that prov:used its premises and followed its rule
(prov:hadPlan, a hem:Rule, hem:justifiedBy its references and
prov:wasDerivedFrom the guideline statements it rests on); a concluded fact
prov:wasGeneratedBy the firing. A fact from the knowledge graph
prov:wasDerivedFrom its guideline statement.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from hemkg import engine
from hemkg.graph.store import HEM, HEMKG, REF, serialized

if TYPE_CHECKING:
    import pyoxigraph

    from hemkg.consultation.consultation import Consultation

PROV = "http://www.w3.org/ns/prov#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
SKOS_LABEL = "http://www.w3.org/2004/02/skos/core#prefLabel"
RULES = "https://w3id.org/hemkg/rule/"
CONSULTATIONS = "https://w3id.org/hemkg/consultation/"


def consultation_iri(c: Consultation) -> str:
    key = f"{c.formula.text}|{c.ion}|{c.structure}"
    return CONSULTATIONS + hashlib.sha1(key.encode()).hexdigest()[:16]


def triples(c: Consultation) -> Iterator[pyoxigraph.Triple]:
    import pyoxigraph as ox

    def iri(x: str) -> ox.NamedNode:
        return ox.NamedNode(x)

    def lit(x: str) -> ox.Literal:
        return ox.Literal(x)

    base = consultation_iri(c)
    activity = iri(base)
    yield ox.Triple(activity, iri(RDF_TYPE), iri(HEM + "Consultation"))
    yield ox.Triple(activity, iri(HEM + "candidateFormula"), lit(c.formula.text))
    yield ox.Triple(activity, iri(SKOS_LABEL), lit(f"consultation on {c.formula.text} with {c.ion}+"))
    ids: dict[engine.Fact, ox.NamedNode] = {}

    def fact_node(fact: engine.Fact) -> ox.NamedNode:
        if fact not in ids:
            ids[fact] = iri(f"{base}/fact/{len(ids) + 1}")
        return ids[fact]

    derivations = c.result.derivations
    # the run's conclusions, and every fact they rest on, down to the given ones (through the reports engine.share
    # gathered once)
    used_facts = set(derivations) | derivations.rested_on(p for ds in derivations.values() for d in ds
                                                         for p in d.premises)
    rules_used = {}
    for fact in sorted(used_facts, key=engine.fact_text):
        node = fact_node(fact)
        yield ox.Triple(node, iri(RDF_TYPE), iri(HEM + "Fact"))
        yield ox.Triple(node, iri(HEM + "factText"), lit(engine.fact_text(fact)))
        yield ox.Triple(node, iri(HEM + "inConsultation"), activity)
        source = c.result.sources.get(fact)
        yield ox.Triple(node, iri(HEM + "factOrigin"), lit(source.kind if source else "rule"))
        if source and source.kind == "kg" and source.detail.startswith("http"):
            yield ox.Triple(node, iri(PROV + "wasDerivedFrom"), iri(source.detail))
        for n, d in enumerate(derivations.get(fact, []), start=1):
            application = iri(f"{node.value}/derivation/{n}")
            rules_used[d.rule.id] = d.rule
            yield ox.Triple(application, iri(RDF_TYPE), iri(HEM + "RuleApplication"))
            yield ox.Triple(application, iri(PROV + "hadPlan"), iri(RULES + d.rule.id))
            yield ox.Triple(application, iri(HEM + "inConsultation"), activity)
            yield ox.Triple(node, iri(PROV + "wasGeneratedBy"), application)
            for premise in d.premises:
                yield ox.Triple(application, iri(PROV + "used"), fact_node(premise))
    for rule in rules_used.values():
        node = iri(RULES + rule.id)
        yield ox.Triple(node, iri(RDF_TYPE), iri(HEM + "Rule"))
        yield ox.Triple(node, iri(HEM + "ruleId"), lit(rule.id))
        yield ox.Triple(node, iri(SKOS_LABEL), lit(rule.statement))
        for ref in rule.references:
            yield ox.Triple(node, iri(HEM + "justifiedBy"), iri(f"{REF}{ref}"))
        for statement in rule.rests_on:  # the guideline statements the rule applies (its references are theirs)
            yield ox.Triple(node, iri(PROV + "wasDerivedFrom"), iri(HEMKG + statement))


def serialize(c: Consultation, fmt: str = "turtle") -> str:
    import pyoxigraph as ox

    formats = {"turtle": ox.RdfFormat.TURTLE, "ttl": ox.RdfFormat.TURTLE, "nt": ox.RdfFormat.N_TRIPLES}
    prefixes = {"hem": HEM, "prov": PROV, "rule": RULES, "ref": REF, "skos": "http://www.w3.org/2004/02/skos/core#"}
    return serialized(triples(c), format=formats[fmt], prefixes=prefixes).decode("utf-8")
