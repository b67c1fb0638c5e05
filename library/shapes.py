"""The SHACL shapes of findings (kg/checks/finding-shapes.ttl), run with pySHACL before anything is added."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hemkg.graph import store as kgstore
from hemkg.library.vocabulary import RDF_TYPE, vocabulary

if TYPE_CHECKING:
    import pyoxigraph
    import rdflib

SHAPES = ("kg/checks", "finding-shapes.ttl")
SH = "http://www.w3.org/ns/shacl#"


@dataclass(frozen=True, order=True)
class Violation:
    """One shape a node breaks: the node (a finding) and the shape's message."""

    focus: str
    message: str
    shape: str


@functools.cache
def _shapes() -> rdflib.Graph:
    import rdflib

    (shapes_file,) = kgstore.package_files(*SHAPES)
    graph = rdflib.Graph()
    graph.parse(data=shapes_file.read_text(encoding="utf-8"), format="turtle")
    return graph


def validate(statements: Iterable[pyoxigraph.Quad | pyoxigraph.Triple]) -> list[Violation]:
    """Every violation of the finding shapes by these triples or quads (graphs ignored), sorted; empty when
    they conform."""
    import pyoxigraph as ox
    import pyshacl
    import rdflib

    triples = {s.triple if isinstance(s, ox.Quad) else s for s in statements}
    vocab = vocabulary()
    objects = {t.object.value for t in triples if isinstance(t.object, ox.NamedNode)}
    for iri in objects & set(vocab.types):
        triples |= {ox.Triple(ox.NamedNode(iri), ox.NamedNode(RDF_TYPE), ox.NamedNode(c)) for c in vocab.types[iri]}
    data = rdflib.Graph()
    convert = kgstore.to_rdflib_term
    for t in triples:  # term by term: twice as fast as through N-Triples
        data.add((convert(t.subject), convert(t.predicate), convert(t.object)))
    shapes = _shapes()
    conforms, report, _ = pyshacl.validate(data, shacl_graph=shapes, inference="none", advanced=True, inplace=True)
    if conforms:
        return []
    sh = rdflib.Namespace(SH)
    found = set()
    for result in report.subjects(rdflib.RDF.type, sh.ValidationResult):
        source = report.value(result, sh.sourceShape)
        if not isinstance(source, rdflib.URIRef):
            source = shapes.value(predicate=sh.property, object=source)
        found.add(Violation(str(report.value(result, sh.focusNode)), str(report.value(result, sh.resultMessage)),
                            kgstore.short(str(source)) if source is not None else "shape"))
    return sorted(found)
