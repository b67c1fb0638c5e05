"""Quality checks on the knowledge graph: SHACL shapes and ODK-style violation queries.

kg/checks/shapes.ttl holds the shapes; kg/checks/*-violation.rq the queries,
any row of which is a problem. Both run on the union of asserted and entailed
triples. `hem kg validate` and the test suite call `validate()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable

from hemkg.errors import JavaNotFound, ReasonerTimeout, ReasonerUnavailable
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


HERMIT_TIMEOUT = 300.0  # seconds; the whole graph takes a few on the development machine
HERMIT_MEMORY_MB = 2000  # Java's heap, as owlready2 gives it


def _hermit_classpath() -> str:
    """The HermiT bundled with owlready2, found without importing owlready2."""
    import importlib.util
    import os

    spec = importlib.util.find_spec("owlready2")
    if spec is None or not spec.submodule_search_locations:
        raise ReasonerUnavailable("HermiT comes with owlready2, which is not installed (pip install owlready2)")
    folder = os.path.join(list(spec.submodule_search_locations)[0], "hermit")
    return os.pathsep.join([folder, os.path.join(folder, "HermiT.jar")])


def consistent_under_hermit(store: "pyoxigraph.Store | None" = None, timeout: float = HERMIT_TIMEOUT) -> bool:
    """Whether the asserted graph (ontology and knowledge graph) is consistent under HermiT.

    The graph goes as RDF/XML to the HermiT that owlready2 bundles, run on Java
    as a child process with a time limit (ReasonerTimeout when it passes: the
    process is killed), in a temporary folder removed on every path. Entailed
    triples are left out: HermiT derives what it needs itself. Raises
    JavaNotFound without Java, ReasonerUnavailable when HermiT fails.
    """
    import shutil
    import subprocess
    import tempfile
    from pathlib import Path

    import pyoxigraph as ox

    java = shutil.which("java")
    if java is None:
        raise JavaNotFound("HermiT needs Java on the PATH (e.g. apt-get install default-jre-headless)")
    classpath = _hermit_classpath()
    store = store or kgstore.knowledge_graph()
    asserted = (q.triple for q in kgstore.triples(store, kgstore.ASSERTED_GRAPH))
    with tempfile.TemporaryDirectory(prefix="hemkg-hermit-") as tmp:
        path = Path(tmp) / "hemkg.owl"
        path.write_bytes(ox.serialize(asserted, format=ox.RdfFormat.RDF_XML))
        command = [java, f"-Xmx{HERMIT_MEMORY_MB}M", "-cp", classpath, "org.semanticweb.HermiT.cli.CommandLine",
                   "--consistency", path.as_uri()]
        try:
            done = subprocess.run(command, cwd=tmp, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise ReasonerTimeout(f"HermiT gave no answer within {timeout:g} s (stopped)") from None
        except OSError as err:
            raise JavaNotFound(f"cannot run {java}: {err.strerror or err}") from None
    output = done.stdout + done.stderr
    if done.returncode == 0:
        return True
    if b"Inconsistent ontology" in output:
        return False
    last = (output.decode("utf-8", "replace").strip().splitlines() or [f"exit status {done.returncode}"])[-1]
    raise ReasonerUnavailable(f"HermiT failed: {last[:300]}")
