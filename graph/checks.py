"""Quality checks on the knowledge graph: SHACL shapes and ODK-style violation queries.

kg/checks/shapes.ttl holds the shapes; kg/checks/*-violation.rq the queries,
any row of which is a problem. Both run on the union of asserted and entailed
triples. `hem kg validate` and the test suite call `validate()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources.abc import Traversable
from typing import TYPE_CHECKING, Iterable

from hemkg.graph import store as kgstore

if TYPE_CHECKING:
    import os

    import pyoxigraph

SHAPES = ("kg/checks", "shapes.ttl")
VIOLATION_QUERIES = ("kg/checks", "*-violation.rq")
SH = "http://www.w3.org/ns/shacl#"


@dataclass(frozen=True, order=True)
class Problem:
    """One thing a curator has to fix."""

    check: str  # the shape's or query's stable id
    entity: str  # IRI of the offending node
    message: str
    label: str | None = None  # the entity's skos:prefLabel, for readable reports

    def describe(self) -> str:
        name = kgstore.short(self.entity)
        if self.label:
            name += f" ({self.label})"
        return f"{name}: {self.message}  [{self.check}]"


def violation_queries() -> list[tuple[str, str]]:
    """(id, query text) of every kg/checks/*-violation.rq."""
    return [(f.name.removesuffix(".rq"), f.read_text(encoding="utf-8")) for f in kgstore.package_files(*VIOLATION_QUERIES)]


def run_violation_queries(store: "pyoxigraph.Store") -> list[Problem]:
    problems = []
    for check_id, query in violation_queries():
        for row in kgstore.select(query, store):
            problems.append(Problem(check_id, row.get("entity", ""), row.get("problem", "violates " + check_id)))
    return problems


def run_shapes(store: "pyoxigraph.Store") -> list[Problem]:
    import pyshacl
    import rdflib

    shapes = rdflib.Graph()
    (shapes_file,) = kgstore.package_files(*SHAPES)
    shapes.parse(data=shapes_file.read_text(encoding="utf-8"), format="turtle")
    conforms, report, _ = pyshacl.validate(kgstore.to_rdflib(store), shacl_graph=shapes, inference="none")
    if conforms:
        return []
    sh = rdflib.Namespace(SH)
    problems = []
    for result in report.subjects(rdflib.RDF.type, sh.ValidationResult):
        focus = report.value(result, sh.focusNode)
        source = report.value(result, sh.sourceShape)
        message = report.value(result, sh.resultMessage)
        check = kgstore.short(str(source)) if isinstance(source, rdflib.URIRef) else "shape"
        if check == "shape":  # a property shape (blank node): name the node shape that holds it
            parent = shapes.value(predicate=sh.property, object=source)
            check = kgstore.short(str(parent)) if parent is not None else "shape"
        problems.append(Problem(check, str(focus), str(message)))
    return problems


def validate(extra_files: Iterable["os.PathLike[str] | str"] = (), max_bytes: int = kgstore.MAX_USER_FILE_BYTES) -> list[Problem]:
    """Every problem in the packaged graph plus `extra_files` (each `max_bytes` at most), sorted; empty
    when it conforms. A file that cannot be read raises kgstore.GraphLoadError."""
    from dataclasses import replace

    store = kgstore.build_store(extra_files, max_bytes)
    problems = sorted(set(run_shapes(store) + run_violation_queries(store)))
    labels = {row["x"]: row["l"] for row in kgstore.select("SELECT ?x ?l WHERE { ?x skos:prefLabel ?l }", store)}
    return [replace(p, label=labels.get(p.entity)) for p in problems]


class ReasonerUnavailable(RuntimeError):
    """HermiT could not run (no Java, or owlready2 failed to start it)."""


def consistent_under_hermit(store: "pyoxigraph.Store | None" = None) -> bool:
    """Whether the asserted graph (ontology and knowledge graph) is consistent under HermiT.

    The graph goes to owlready2 as RDF/XML in a temporary folder; owlready2 runs
    its bundled HermiT on Java. Entailed triples are left out: HermiT derives
    what it needs itself.
    """
    import shutil
    import tempfile
    from pathlib import Path

    import owlready2
    import pyoxigraph as ox

    if shutil.which("java") is None:
        raise ReasonerUnavailable("HermiT needs Java on the PATH (e.g. apt-get install default-jre-headless)")
    store = store or kgstore.knowledge_graph()
    asserted = (q.triple for q in kgstore.triples(store, kgstore.ASSERTED_GRAPH))
    with tempfile.TemporaryDirectory(prefix="hemkg-hermit-") as tmp:
        path = Path(tmp) / "hemkg.owl"
        path.write_bytes(ox.serialize(asserted, format=ox.RdfFormat.RDF_XML))
        world = owlready2.World()
        world.get_ontology(path.as_uri()).load()
        try:
            owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
        except owlready2.OwlReadyInconsistentOntologyError:
            return False
        except owlready2.OwlReadyJavaError as err:
            raise ReasonerUnavailable(f"HermiT failed: {str(err).strip().splitlines()[-1][:300]}") from None
        finally:
            world.close()
    return True
