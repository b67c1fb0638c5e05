"""Load the ontology and the knowledge graph into one SPARQL store.

The asserted triples (ontology/*.ttl, kg/*.ttl, kg/generated/*.ttl) go into one
named graph and the triples materialised by kg/entailment/*.rq into another, so
that every triple can be told apart as stated or derived. Queries see both
through the union default graph.

pyoxigraph parses the ~3,000 triples in about 10 ms, so the graph is built
fresh in each process; rdflib is only loaded for SHACL and exports.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from hemkg.errors import GraphLoadError

if TYPE_CHECKING:
    import os

    import pyoxigraph
    import rdflib
    import rdflib.term

    Term = pyoxigraph.NamedNode | pyoxigraph.BlankNode | pyoxigraph.Literal | pyoxigraph.Triple  # pyoxigraph's terms

HEM = "https://w3id.org/hemkg/ontology#"
HEMKG = "https://w3id.org/hemkg/kg/"
REF = "https://w3id.org/hemkg/ref/"
ASSERTED_GRAPH = "https://w3id.org/hemkg/graph/asserted"
ENTAILED_GRAPH = "https://w3id.org/hemkg/graph/entailed"

PREFIXES: dict[str, str] = {
    "hem": HEM,
    "hemkg": HEMKG,
    "ref": REF,
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "bibo": "http://purl.org/ontology/bibo/",
    "prov": "http://www.w3.org/ns/prov#",
    "qudt": "http://qudt.org/schema/qudt/",
    "unit": "http://qudt.org/vocab/unit/",
    "sh": "http://www.w3.org/ns/shacl#",
    "hemsh": "https://w3id.org/hemkg/shapes#",
}

# Where each kind of data file lives inside the package.
ONTOLOGY_FILES = ("ontology", "*.ttl")
KG_FILES = ("kg", "*.ttl")
GENERATED_FILES = ("kg/generated", "*.ttl")
ENTAILMENT_RULES = ("kg/entailment", "*.rq")
ENTAILMENT_PASS_LIMIT = 10


def package_root() -> Path:
    """The folder of the installed package (always files on disk: hemkg is never zipped).

    Read through this rather than importlib.resources, whose import costs a cold start ~5 ms.
    """
    return Path(__file__).resolve().parent.parent


def package_files(folder: str, pattern: str) -> list[Path]:
    """The package's data files in `folder` matching `pattern`, sorted by name."""
    import fnmatch

    base = package_root()
    for part in folder.split("/"):
        base = base / part
    if not base.is_dir():
        return []
    return sorted(
        (f for f in base.iterdir() if f.is_file() and fnmatch.fnmatch(f.name, pattern)),
        key=lambda f: f.name,
    )


def source_files() -> list[Path]:
    """Every Turtle file of the ontology and the knowledge graph."""
    return [f for spec in (ONTOLOGY_FILES, KG_FILES, GENERATED_FILES) for f in package_files(*spec)]


@dataclass(frozen=True)
class EntailmentRule:
    """A CONSTRUCT query that adds triples the asserted graph implies."""

    id: str
    query: str


def entailment_rules() -> list[EntailmentRule]:
    rules = []
    for f in package_files(*ENTAILMENT_RULES):
        text = f.read_text(encoding="utf-8")
        rule_id = next(
            (line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("# id:")),
            f.name.removesuffix(".rq"),
        )
        rules.append(EntailmentRule(rule_id, text))
    return rules


MAX_USER_FILE_BYTES = 50_000_000  # a Turtle file given to hem kg validate; --max-bytes raises it


def _parse_into(store: pyoxigraph.Store, files: Iterable[Path], graph: str) -> None:
    import pyoxigraph as ox

    target = ox.NamedNode(graph)
    for f in files:
        try:
            store.load(f.read_bytes(), format=ox.RdfFormat.TURTLE, to_graph=target)
        except SyntaxError as err:
            raise GraphLoadError(f"cannot parse {f.name}: {err}") from None


def _visible(text: str) -> str:
    """`text` with every invisible or line-breaking character written as U+XXXX (a BOM, U+200B, a tab...)."""
    import unicodedata

    return "".join(c if c == " " or unicodedata.category(c)[0] not in "CZ" else f"U+{ord(c):04X}" for c in text)


def read_user_turtle(path: os.PathLike[str] | str, max_bytes: int = MAX_USER_FILE_BYTES) -> bytes:
    """The bytes of a Turtle file the user gave, its size checked before reading; a UTF-8 byte-order
    mark (which Turtle does not allow, but editors write) is dropped."""
    import os

    name = os.fspath(path)
    size = os.stat(name).st_size
    if size > max_bytes:
        raise GraphLoadError(f"'{name}' is {size:,} bytes, more than the {max_bytes:,} a file to check may be",
                             "raise the limit with --max-bytes if the file is meant to be this large")
    with open(name, "rb") as f:
        data = f.read(max_bytes + 1)  # never more, even should the file grow meanwhile
    if len(data) > max_bytes:
        raise GraphLoadError(f"'{name}' grew beyond {max_bytes:,} bytes while being read",
                             "check it again once it is written")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise GraphLoadError(f"'{name}' is UTF-16 text (it starts with a UTF-16 byte-order mark)", "save it as UTF-8")
    return data.removeprefix(b"\xef\xbb\xbf")


def _parse_user_file(store: pyoxigraph.Store, path: os.PathLike[str] | str, graph: str, max_bytes: int) -> None:
    """Parse a user's Turtle file into `graph`, refusing literals rdflib (SHACL) cannot read as typed."""
    import os

    import pyoxigraph as ox

    data = read_user_turtle(path, max_bytes)
    name = os.path.basename(os.fspath(path))
    target = ox.NamedNode(graph)
    try:
        quads = [ox.Quad(q.subject, q.predicate, q.object, target)
                 for q in ox.parse(data, format=ox.RdfFormat.TURTLE, rename_blank_nodes=True)]
    except SyntaxError as err:
        raise GraphLoadError(f"cannot parse {name}: {_visible(str(err))}") from None
    for q in quads:
        if has_triple_term(q):
            at = data.find(b"<<")  # a guide, as for literals: pyoxigraph keeps no lines
            line = data.count(b"\n", 0, at) + 1 if at >= 0 else None
            where = f" line {line}" if line else ""
            raise GraphLoadError(f"cannot read {name}{where}: it holds {TRIPLE_TERM}", TRIPLE_TERM_HINT)
        if isinstance(q.object, ox.Literal):
            problem = literal_problem(q.object)
            if problem:
                line = _first_line_with(data, q.object.value)
                where = f" line {line}" if line else ""
                raise GraphLoadError(f"cannot read {name}{where}: {problem}", problem_hint(q.object))
    store.extend(quads)


TRIPLE_TERM = "a triple term (<< ... >>, RDF 1.2), which rdflib and so SHACL cannot check"
TRIPLE_TERM_HINT = "state the triple itself, or describe it with a node of its own"


def has_triple_term(quad: pyoxigraph.Quad | pyoxigraph.Triple) -> bool:
    """Whether `quad` has a triple as its subject or object (RDF 1.2), which files given to hemkg may not."""
    import pyoxigraph as ox

    return isinstance(quad.subject, ox.Triple) or isinstance(quad.object, ox.Triple)


def _first_line_with(data: bytes, value: str) -> int | None:
    """The line where `value` first appears as a literal, quoted or bare (a guide: pyoxigraph keeps no lines)."""
    import re

    raw = re.escape(value.encode("utf-8"))
    found = (re.search(b'"' + raw + b'"|\'' + raw + b"'", data)
             or re.search(b"(?<![\\w.+:-])" + raw + b"(?![\\w.:])", data))
    return data.count(b"\n", 0, found.start()) + 1 if found else None


XSD = "http://www.w3.org/2001/XMLSchema#"
INTEGER_TYPES = frozenset(XSD + t for t in (
    "integer", "nonNegativeInteger", "positiveInteger", "nonPositiveInteger", "negativeInteger",
    "long", "int", "short", "byte", "unsignedLong", "unsignedInt", "unsignedShort", "unsignedByte"))


def literal_problem(literal: pyoxigraph.Literal) -> str | None:
    """Why rdflib (which SHACL runs on) cannot read `literal` as its datatype, or None.

    rdflib logs a traceback and carries on with no value for an ill-typed
    literal, so a check would say "conforms" over it; Python refuses to read
    an integer of more than 4,300 digits (sys.get_int_max_str_digits), to
    bound the time a conversion takes.
    """
    import sys

    datatype = literal.datatype.value
    if not datatype.startswith(XSD) or datatype == XSD + "string":
        return None
    limit = sys.get_int_max_str_digits()
    digits = len(literal.value.strip().lstrip("+-"))
    if datatype in INTEGER_TYPES and limit and digits > limit:
        return f"an integer of {digits:,} digits, more than the {limit:,} hemkg reads"
    import logging
    import warnings

    import rdflib

    log = logging.getLogger("rdflib.term")
    disabled, log.disabled = log.disabled, True
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ill_typed = rdflib.Literal(literal.value, datatype=rdflib.URIRef(datatype)).ill_typed
    finally:
        log.disabled = disabled
    if ill_typed:
        shown = literal.value if len(literal.value) <= 40 else literal.value[:40] + "..."
        return f"'{_visible(shown)}' is not a valid xsd:{datatype.removeprefix(XSD)}"
    return None


def problem_hint(literal: pyoxigraph.Literal) -> str:
    if literal.datatype.value in INTEGER_TYPES:
        return "shorten the number, or write it as a string (in quotes)"
    return f"write a valid xsd:{literal.datatype.value.removeprefix(XSD)}, or give the literal the datatype it has"


def materialise(store: pyoxigraph.Store) -> int:
    """Run the entailment rules to a fixpoint; return how many triples they added."""
    import pyoxigraph as ox

    entailed = ox.NamedNode(ENTAILED_GRAPH)
    rules = entailment_rules()
    added = 0
    for _ in range(ENTAILMENT_PASS_LIMIT):
        new = []
        for rule in rules:
            result = store.query(rule.query, use_default_graph_as_union=True)
            if not isinstance(result, ox.QueryTriples):
                raise TypeError(f"entailment rule {rule.id} is not a CONSTRUCT query")
            for t in result:
                if not any(store.quads_for_pattern(t.subject, t.predicate, t.object, None)):
                    new.append(ox.Quad(t.subject, t.predicate, t.object, entailed))
        if not new:
            return added
        store.extend(new)
        added += len(set(new))
    raise EntailmentLimit(f"entailment did not reach a fixpoint in {ENTAILMENT_PASS_LIMIT} passes")


class EntailmentLimit(RuntimeError):
    """The entailment rules kept adding triples for ENTAILMENT_PASS_LIMIT passes (a bug, for the packaged graph)."""


def build_store(extra_files: Iterable[os.PathLike[str] | str] = (),
                max_bytes: int = MAX_USER_FILE_BYTES) -> pyoxigraph.Store:
    """A fresh in-memory store with the whole graph, asserted and entailed, plus the user's `extra_files`.

    Each extra file may be `max_bytes` at most (checked before it is read); a
    file that cannot be read, holds a literal SHACL could not read, or keeps
    the entailment rules from settling raises GraphLoadError, a user error.
    """
    import pyoxigraph as ox

    store = ox.Store()
    _parse_into(store, source_files(), ASSERTED_GRAPH)
    for f in extra_files:
        _parse_user_file(store, f, ASSERTED_GRAPH, max_bytes)
    try:
        materialise(store)
    except EntailmentLimit:
        if not extra_files:
            raise
        import os

        names = ", ".join(os.path.basename(os.fspath(f)) for f in extra_files)
        raise GraphLoadError(
            f"the triples of {names} keep the entailment rules adding triples "
            f"for more than {ENTAILMENT_PASS_LIMIT} passes",
            "a statement whose hem:predicate is hem:subject, hem:predicate or hem:object makes another statement; "
            "state such triples directly") from None
    return store


@functools.cache
def knowledge_graph() -> pyoxigraph.Store:
    """The packaged knowledge graph, built once per process. Do not modify it."""
    return build_store()


def select(query: str, store: pyoxigraph.Store | None = None, **bindings: str) -> list[dict[str, str]]:
    """Run a SELECT with the project's prefixes; rows map variable names to plain values.

    `bindings` pre-bind variables through a trailing SPARQL VALUES clause built
    from pyoxigraph terms (so values are escaped, never spliced as text): a
    value starting with http(s):// binds an IRI, anything else a string literal.
    A trailing VALUES joins before projection but after grouping, so bindings
    do not restrict a query with GROUP BY (sparql.run's substitutions do).
    """
    import pyoxigraph as ox

    store = store or knowledge_graph()
    if bindings:
        terms = [ox.NamedNode(v) if v.startswith(("http://", "https://")) else ox.Literal(v) for v in bindings.values()]
        query += f"\nVALUES ({' '.join('?' + name for name in bindings)}) {{ ({' '.join(map(str, terms))}) }}"
    result = store.query(query, prefixes=PREFIXES, use_default_graph_as_union=True)
    if not isinstance(result, ox.QuerySolutions):
        raise TypeError("select() runs SELECT queries only")
    variables = [v.value for v in result.variables]
    return [
        {name: solution[name].value for name in variables if solution[name] is not None}
        for solution in result
    ]


def triples(store: pyoxigraph.Store | None = None, graph: str | None = None) -> Iterator[pyoxigraph.Quad]:
    """Every quad of the store, or of one of its named graphs."""
    import pyoxigraph as ox

    store = store or knowledge_graph()
    g = ox.NamedNode(graph) if graph else None
    return store.quads_for_pattern(None, None, None, g)


def serialized(triples: Iterable[pyoxigraph.Triple], format: pyoxigraph.RdfFormat,
               prefixes: dict[str, str] | None = None) -> bytes:
    """pyoxigraph.serialize to bytes, typed so (its stubs say bytes | None, None for writing to a file)."""
    import pyoxigraph as ox

    data = ox.serialize(triples, format=format, prefixes=prefixes)
    assert data is not None  # no output given: the bytes are returned
    return data


def to_rdflib(store: pyoxigraph.Store | None = None) -> rdflib.Graph:
    """The union of asserted and entailed triples as an rdflib Graph (for pySHACL, exports)."""
    import pyoxigraph as ox
    import rdflib

    store = store or knowledge_graph()
    data = serialized((q.triple for q in triples(store)), format=ox.RdfFormat.N_TRIPLES)
    g = rdflib.Graph()
    g.parse(data=data, format="nt")
    for prefix, ns in PREFIXES.items():
        g.bind(prefix, ns)
    return g


def to_rdflib_term(term: Term) -> rdflib.term.Node:
    """The rdflib term for a pyoxigraph term (an xsd:string literal becomes a plain one).

    A triple term has none: files holding one are refused as they are read (has_triple_term).
    """
    import pyoxigraph as ox
    import rdflib

    if isinstance(term, ox.Triple):
        raise TypeError(f"a triple term has no rdflib term: {term}")
    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return rdflib.BNode(term.value)
    if term.language:
        return rdflib.Literal(term.value, lang=term.language)
    if term.datatype.value == "http://www.w3.org/2001/XMLSchema#string":
        return rdflib.Literal(term.value)
    return rdflib.Literal(term.value, datatype=rdflib.URIRef(term.datatype.value))


def local(iri: str) -> str:
    """`https://w3id.org/hemkg/kg/Zn` -> `Zn`: a knowledge-graph term as the rules name it."""
    return iri.removeprefix(HEMKG)


def short(iri: str) -> str:
    """`https://w3id.org/hemkg/kg/Zn` -> `hemkg:Zn`; other IRIs unchanged."""
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns):
            return f"{prefix}:{iri[len(ns):]}"
    return iri
