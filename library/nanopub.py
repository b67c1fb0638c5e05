"""Contributions as nanopublications: a head, an assertion, a provenance and a publication-info graph.

    <np>#Head        <np> a np:Nanopublication ; np:hasAssertion <np>#assertion ; ...
    <np>#assertion   the findings and their material (hem: terms)
    <np>#provenance  <np>#assertion prov:wasDerivedFrom <https://doi.org/DOI> ; the paper's DOI, title, year
    <np>#pubinfo     <np> dcterms:created ... ; dcterms:isVersionOf <lib:contribution/KEY> ;
                     npx:supersedes <an older version> (hem evidence add --replace)

A retraction (hem evidence remove) is a nanopublication of its own whose
assertion is `lib:curator npx:retracts <np>`: nothing is ever deleted. The IRI
of a nanopublication is a hash of what it says and when it was made, so two
libraries never mint the same IRI for different content.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from hemkg.library.findings import (
    Contribution,
    Description,
    Literal,
    article_triples,
    finding_triples,
    findings_in,
    group,
    term,
)
from hemkg.library.vocabulary import CURATOR, DCTERMS, LIB, NP, NPX, PROV, RDF_TYPE, RDFS_COMMENT, XSD, article_iri

if TYPE_CHECKING:
    import pyoxigraph

GRAPHS = ("Head", "assertion", "provenance", "pubinfo")


@dataclass(frozen=True)
class Nanopub:
    """One nanopublication: its IRI, every quad of its four graphs, and what it says."""

    iri: str
    quads: tuple[pyoxigraph.Quad, ...]
    created: str
    contribution: Contribution | None = None  # None for a retraction
    retracts: tuple[str, ...] = ()
    supersedes: tuple[str, ...] = ()
    reason: str | None = None

    @property
    def key(self) -> str | None:
        return self.contribution.key if self.contribution else None

    def graph(self, name: str) -> str:
        return f"{self.iri}#{name}"


def contribution_iri(key: str) -> str:
    return f"{LIB}contribution/{key}"


def now() -> str:
    """The time in the canonical form of xsd:dateTime (no trailing zeros), as the store keeps it."""
    seconds, _, fraction = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f").partition(".")
    fraction = fraction.rstrip("0")
    return f"{seconds}.{fraction}Z" if fraction else f"{seconds}Z"


def _iri(kind: str, created: str, content: str) -> str:
    text = "\n".join((kind, created, content))
    return f"{LIB}np/{hashlib.sha256(text.encode()).hexdigest()[:24]}"


def _quads(iri: str, assertion: Iterable[tuple], provenance: Iterable[tuple], pubinfo: Iterable[tuple]
           ) -> tuple[pyoxigraph.Quad, ...]:
    import pyoxigraph as ox

    head = [(iri, RDF_TYPE, NP + "Nanopublication"), (iri, NP + "hasAssertion", f"{iri}#assertion"),
            (iri, NP + "hasProvenance", f"{iri}#provenance"), (iri, NP + "hasPublicationInfo", f"{iri}#pubinfo")]
    out = []
    for name, triples in zip(GRAPHS, (head, assertion, provenance, pubinfo), strict=True):
        graph = ox.NamedNode(f"{iri}#{name}")
        out += [ox.Quad(ox.NamedNode(s), ox.NamedNode(p), term(o), graph) for s, p, o in triples]
    return tuple(out)


def _created(value: str) -> Literal:
    return Literal(value, XSD + "dateTime")


def publish(contribution: Contribution, created: str | None = None, supersedes: Iterable[str] = ()) -> Nanopub:
    """The nanopublication of a contribution (superseding the given older versions)."""
    created = created or now()
    supersedes = tuple(sorted(supersedes))
    iri = _iri("contribution", created, contribution.canonical() + "\n" + " ".join(supersedes))
    provenance = [(f"{iri}#assertion", PROV + "wasDerivedFrom", article_iri(contribution.doi)),
                  *article_triples(contribution)]
    pubinfo = [(iri, DCTERMS + "created", _created(created)),
               (iri, DCTERMS + "isVersionOf", contribution_iri(contribution.key)),
               *((iri, NPX + "supersedes", old) for old in supersedes)]
    quads = _quads(iri, finding_triples(contribution, iri), provenance, pubinfo)
    return Nanopub(iri, quads, created, contribution, supersedes=supersedes)


def retract(target: str, reason: str | None = None, created: str | None = None) -> Nanopub:
    """A retraction of the nanopublication `target`."""
    created = created or now()
    iri = _iri("retraction", created, target)
    pubinfo = [(iri, DCTERMS + "created", _created(created))]
    if reason:
        pubinfo.append((iri, RDFS_COMMENT, Literal(reason)))
    quads = _quads(iri, [(CURATOR, NPX + "retracts", target)],
                   [(f"{iri}#assertion", PROV + "wasAttributedTo", CURATOR)], pubinfo)
    return Nanopub(iri, quads, created, retracts=(target,), reason=reason)


def nanopubs_in(store: pyoxigraph.Store) -> tuple[list[Nanopub], list[str]]:
    """Every nanopublication of a dataset, oldest first, and the problems of any malformed one.

    A nanopublication is read from the four graphs its head names; the
    findings of its assertion with the paper described in its provenance.
    """
    import pyoxigraph as ox

    problems = []
    found = []
    typed = store.quads_for_pattern(None, ox.NamedNode(RDF_TYPE), ox.NamedNode(NP + "Nanopublication"))
    heads: list[Any] = [q.subject for q in typed]
    for np_node in sorted(set(heads), key=lambda n: n.value):
        iri = np_node.value
        graphs = {}
        for part in ("hasAssertion", "hasProvenance", "hasPublicationInfo"):
            targets = {str(getattr(q.object, "value", q.object))
                       for q in store.quads_for_pattern(np_node, ox.NamedNode(NP + part), None)}
            graphs[part] = targets
        if any(len(t) != 1 for t in graphs.values()):
            problems.append(f"nanopublication <{iri}> needs exactly one np:hasAssertion, np:hasProvenance and "
                            "np:hasPublicationInfo in its head graph")
            continue
        names = [next(iter(graphs[p])) for p in ("hasAssertion", "hasProvenance", "hasPublicationInfo")]
        head_graphs = {q.graph_name.value for q in store.quads_for_pattern(np_node, ox.NamedNode(RDF_TYPE), None)
                       if isinstance(q.graph_name, ox.NamedNode)}
        quads = tuple(q for g in [*sorted(head_graphs), *names] for q in graph_quads(store, g))
        assertion = Description(graph_quads(store, names[0]))
        pubinfo = Description(graph_quads(store, names[2]))
        created = str(getattr(pubinfo.one(iri, DCTERMS + "created"), "value", ""))
        retracts = tuple(sorted(str(o.value) for p in assertion.by_subject.values()
                                for o in p.get(NPX + "retracts", [])))
        supersedes = tuple(sorted(str(o.value) for o in pubinfo.values(iri, NPX + "supersedes")))
        reason_term = pubinfo.one(iri, RDFS_COMMENT)
        reason = str(reason_term.value) if reason_term is not None else None
        combined = Description([*graph_quads(store, names[0]), *graph_quads(store, names[1])])
        singles = [c for _, c in findings_in(combined, where=_located_in(iri))]
        contributions = group(singles)
        if retracts and singles:
            problems.append(f"nanopublication <{iri}> both retracts and asserts findings: make them two")
            continue
        if not retracts and len(contributions) != 1:
            problems.append(f"nanopublication <{iri}> holds findings of {len(contributions)} papers or materials: "
                            "a contribution is one DOI and one formula")
            continue
        found.append(Nanopub(iri, quads, created, contributions[0] if contributions else None, retracts, supersedes,
                             reason))
    found.sort(key=lambda n: (n.created, n.iri))
    return found, problems


def _located_in(iri: str) -> Callable[[str], str]:
    def where(node: str) -> str:
        return f"nanopublication <{iri}>, finding <{node}>"
    return where


def graph_quads(store: pyoxigraph.Store, graph: str) -> list[pyoxigraph.Quad]:
    import pyoxigraph as ox

    return list(store.quads_for_pattern(None, None, None, ox.NamedNode(graph)))
