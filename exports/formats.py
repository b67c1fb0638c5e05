"""Export the knowledge graph, or a part of it, as RDF or as a graph for graph tools.

A *scope* picks the triples: the whole graph (asserted and entailed), the
ontology's own triples, the guideline statements with what they point to, one
term with its neighbourhood and the statements about it, or one candidate's
consultation as PROV-O with the statements its facts come from.

RDF formats (ttl, nt, rdfxml through pyoxigraph; jsonld through rdflib)
serialise the scope's triples. Graph formats (graphml, gexf through networkx;
cytoscape and dot written here; html, a self-contained page from html.py)
turn the triples into a directed multigraph: IRIs and blank nodes are nodes,
triples between them are edges with a stable `id` (from the triple), labelled
with the predicate's short name (hem:memberOf) and flagged `entailed` (a
boolean). Literals become node attributes keyed by their predicate's short
name, typed as the literal is: integers as integers, decimals and doubles as
floats, booleans as booleans and years as integers, so that graph tools can
sort and filter on them; an attribute with several values on some node is a
string ("2 | 4") on every node, so each attribute has one type. Every node has
`label`, `type`, `kind` (exports/kinds.py: element, mechanism, statement, ...),
`iri` and, where it cites the paper, `citations` ("41, 48") and `location`.
GEXF nodes carry a viz:color by kind; the Cytoscape JSON has the shape
Cytoscape desktop reads (a `data` object, `elements.nodes` and
`elements.edges`, every edge with its id).

XML 1.0 cannot carry most C0 control characters, not even escaped: in the
XML-based outputs (graphml, gexf, rdfxml), and in every graph format so that
they all agree, they are replaced by U+FFFD and line ends are normalised to
LF. Turtle, N-Triples and JSON-LD keep every character as it is.

`write_atomic` writes a file to a temporary file in the target's folder and
renames it over the target only when the export is complete; a FIFO or
standard output is written directly, and a device or folder is refused
(system/outputs.py).
"""

from __future__ import annotations

import hashlib
import io
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from hemkg.errors import ExportError
from hemkg.exports.kinds import kind_of
from hemkg.graph.store import ENTAILED_GRAPH, HEM, PREFIXES, REF, short
from hemkg.graph.xmlsafe import xml_safe, xml_safe_triples
from hemkg.system import outputs

if TYPE_CHECKING:
    import networkx
    import pyoxigraph

    from hemkg.consultation.consultation import Consultation

RDF_FORMATS = ("ttl", "nt", "jsonld", "rdfxml")
GRAPH_FORMATS = ("graphml", "gexf", "dot", "cytoscape", "html")
FORMATS = RDF_FORMATS + GRAPH_FORMATS
SUFFIXES = {
    ".ttl": "ttl", ".nt": "nt", ".jsonld": "jsonld", ".rdf": "rdfxml", ".owl": "rdfxml",
    ".graphml": "graphml", ".gexf": "gexf", ".dot": "dot", ".gv": "dot", ".cyjs": "cytoscape",
    ".html": "html", ".htm": "html",
}
SCOPE_HINT = ("use all, ontology, guidelines, term:NAME (term:Zn, term:space-charge, 'term:ref 57') "
              "or candidate:FORMULA (candidate:(MgCoNiCuZn)O)")

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
SUBCLASS_OF = "http://www.w3.org/2000/01/rdf-schema#subClassOf"
SKOS_LABEL = "http://www.w3.org/2004/02/skos/core#prefLabel"
PROV_DERIVED = "http://www.w3.org/ns/prov#wasDerivedFrom"
PROV_PLAN = "http://www.w3.org/ns/prov#hadPlan"
FACT_TEXT = HEM + "factText"
CITING = (HEM + "citesReference", HEM + "justifiedBy")
LOCATION = {HEM + "inSection": "sections", HEM + "inTable": "tables", HEM + "inFigure": "figures",
            HEM + "inEquation": "equations"}


# ---------------------------------------------------------------- format and target


def choose_format(fmt: str | None, output: Path | None = None) -> str:
    """The format asked for, else the one -o's suffix names, else Turtle."""
    if fmt is not None:
        key = fmt.strip().lower()
        if key not in FORMATS:
            raise ExportError(f"unknown format '{fmt}'", f"choose one of {', '.join(FORMATS)}")
        return key
    if output is None or str(output) == "-":
        return "ttl"
    suffix = output.suffix.lower()
    if output.is_dir():
        check_target(output)
    if suffix not in SUFFIXES:
        raise ExportError(f"cannot tell the format from the file name '{output.name}'",
                          f"add --format ({', '.join(FORMATS)})")
    return SUFFIXES[suffix]


def check_target(target: Path) -> outputs.Target:
    """Fail early, before any work, when `target` cannot be written (system.outputs says what can)."""
    try:
        return outputs.check(target)
    except outputs.OutputError as err:
        raise ExportError(err.message, err.hint) from None


def write_atomic(target: Path, write: Callable[[IO[bytes]], None]) -> None:
    """Call `write` on a stream to `target`: a regular file gets a temporary file beside it, renamed
    over it once complete; a FIFO or standard output is written directly; anything else is refused.

    If `write` (or the disk) fails, the temporary file is removed and an
    existing target is left as it was. A new file gets the usual permissions
    (0666 less the umask); a replaced file keeps its own.
    """
    checked = check_target(Path(target))
    try:
        outputs.write(checked, write)
    except outputs.OutputError as err:
        raise ExportError(err.message, err.hint) from None


# ---------------------------------------------------------------- scopes


@dataclass
class Scope:
    """The triples of one export, with the store that describes their nodes."""

    name: str
    triples: list[pyoxigraph.Triple]
    store: pyoxigraph.Store
    entailed: set[pyoxigraph.Triple] = field(default_factory=set)
    focus: str | None = None  # the term of a term: scope, the consultation's IRI of a candidate: scope
    consultation: Consultation | None = None


def parse_scope(text: str) -> tuple[str, str]:
    """'term:Zn' -> ('term', 'Zn'); checks the form only (names are resolved later)."""
    kind, sep, arg = text.strip().partition(":")
    kind = kind.strip().lower()
    if not sep and kind in ("all", "ontology", "guidelines"):
        return kind, ""
    if sep and kind in ("term", "candidate"):
        if not arg.strip():
            example = "term:Zn" if kind == "term" else "candidate:(MgCoNiCuZn)O"
            what = "term" if kind == "term" else "formula"
            raise ExportError(f"scope '{text}' names no {what}", f"e.g. --scope {example}")
        if len(arg) > 200:
            raise ExportError(f"the name in scope '{text[:40]}...' is {len(arg)} characters long",
                              "give one term or formula")
        return kind, arg.strip()
    raise ExportError(f"unknown scope '{text}'", SCOPE_HINT)


def select_scope(scope: str, ion: str = "Li", store: pyoxigraph.Store | None = None,
                 extra: Iterable[pyoxigraph.Triple] = ()) -> Scope:
    """The triples of `scope` in `store` (the packaged graph by default), plus `extra` triples.

    Names in term: scopes are resolved against the packaged graph (knowledge.resolve),
    and candidate: scopes consult it. Raises ExportError for an unknown scope,
    term or a formula that cannot be read.
    """
    import pyoxigraph as ox

    from hemkg.graph.store import knowledge_graph

    kind, arg = parse_scope(scope)
    store = store if store is not None else knowledge_graph()
    entailed = {q.triple for q in store.quads_for_pattern(None, None, None, ox.NamedNode(ENTAILED_GRAPH))}
    focus, consultation = None, None
    if kind == "all":
        found = list(dict.fromkeys(q.triple for q in store.quads_for_pattern(None, None, None, None)))
    elif kind == "ontology":
        found = _ontology_triples()
    elif kind == "guidelines":
        rows = _solutions(store, "SELECT DISTINCT ?s WHERE { ?s a hem:GuidelineStatement }")
        found = _with_labels(store, _describe(store, [row["s"] for row in rows]))
    elif kind == "term":
        term = _resolve(arg)
        found, focus = _with_labels(store, _term(store, term)), term.value
    else:
        consultation = _consult(arg, ion)
        found = _with_labels(store, _candidate(store, consultation))
        from hemkg.consultation.provenance import consultation_iri

        focus = consultation_iri(consultation)
    extra = list(extra)
    triples = list(dict.fromkeys([*found, *extra]))
    return Scope(scope, sorted(triples, key=_sort_key), store, entailed - set(extra), focus, consultation)


def _sort_key(t: pyoxigraph.Triple) -> tuple[str, str, str]:
    return (str(t.subject), str(t.predicate), str(t.object))


def _ontology_triples() -> list[pyoxigraph.Triple]:
    import pyoxigraph as ox

    from hemkg.graph.store import ONTOLOGY_FILES, package_files

    found = []
    for f in package_files(*ONTOLOGY_FILES):
        found += [q.triple for q in ox.parse(f.read_bytes(), format=ox.RdfFormat.TURTLE)]
    return list(dict.fromkeys(found))


def _solutions(store: pyoxigraph.Store, select: str) -> pyoxigraph.QuerySolutions:
    """The rows of a SELECT over the union of the store's graphs, as pyoxigraph terms."""
    import pyoxigraph as ox

    rows = store.query(select, prefixes=PREFIXES, use_default_graph_as_union=True)
    assert isinstance(rows, ox.QuerySolutions)  # a SELECT gives solutions
    return rows


def _describe(store: pyoxigraph.Store, nodes: Iterable, seen: set | None = None) -> list[pyoxigraph.Triple]:
    """Every triple whose subject is one of `nodes`, and those of the blank nodes they reach."""
    import pyoxigraph as ox

    seen = set() if seen is None else seen
    found = []
    todo = list(nodes)
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        for q in store.quads_for_pattern(node, None, None, None):
            found.append(q.triple)
            if isinstance(q.object, ox.BlankNode):
                todo.append(q.object)
    return found


def _with_labels(store: pyoxigraph.Store, triples: list[pyoxigraph.Triple]) -> list[pyoxigraph.Triple]:
    """`triples` and the skos:prefLabel of every IRI they name, so the export reads on its own."""
    import pyoxigraph as ox

    label = ox.NamedNode(SKOS_LABEL)
    nodes = {t.subject for t in triples} | {t.object for t in triples if isinstance(t.object, ox.NamedNode)}
    added = [q.triple for n in sorted(nodes, key=str) if isinstance(n, ox.NamedNode)
             for q in store.quads_for_pattern(n, label, None, None)]
    return list(dict.fromkeys([*triples, *added]))


def _resolve(text: str) -> pyoxigraph.NamedNode:
    import pyoxigraph as ox

    from hemkg.errors import UnknownTerm
    from hemkg.graph.statements import resolve

    try:
        return ox.NamedNode(resolve(text))
    except UnknownTerm as err:
        hint = f"did you mean: {', '.join(err.suggestions)}?" if err.suggestions else (
            "try an element symbol (term:Zn), a mechanism (term:conversion), a reported formula or 'term:ref 41'")
        raise ExportError(f"'{err.text}' is not a term of the paper's knowledge graph"
                          + (f": {err.reason}" if err.reason else ""), hint) from None


def _term(store: pyoxigraph.Store, term: pyoxigraph.NamedNode) -> list[pyoxigraph.Triple]:
    """The term's triples in both directions and the statements about it, with what they say."""
    import pyoxigraph as ox

    rows = _solutions(
        store,
        """SELECT DISTINCT ?st WHERE {
             ?st a hem:GuidelineStatement .
             { ?st ?p ?term } UNION { ?st hem:hasRankEntry/hem:rankedItem ?term } }"""
        + f"\nVALUES ?term {{ {term} }}",  # str() of a NamedNode is the escaped <IRI>
    )
    statements = [row["st"] for row in rows]
    seen: set = set()
    found = _describe(store, [term], seen)
    found += [q.triple for q in store.quads_for_pattern(None, None, term, None)]
    found += _describe(store, statements, seen)
    # a blank node pointing at the term (a rank entry) brings its own triples along
    found += _describe(store, [t.subject for t in found if isinstance(t.subject, ox.BlankNode)], seen)
    return list(dict.fromkeys(found))


def _consult(formula: str, ion: str) -> Consultation:
    from hemkg.consultation.consultation import consult
    from hemkg.errors import FormulaError
    from hemkg.graph.vocab import spoken_list, vocab

    ions = vocab().ion_symbols
    if ion not in ions:
        raise ExportError(f"unknown carrier ion '{ion}'", f"use --ion {spoken_list(ions, 'or')}")
    try:
        return consult(formula, ion)
    except (FormulaError, ValueError) as err:
        raise ExportError(f"formula '{formula}': {err}",
                          "write it as chemists do, e.g. candidate:(MgCoNiCuZn)O") from None


def _candidate(store: pyoxigraph.Store, c: Consultation) -> list[pyoxigraph.Triple]:
    """A consultation's derivations as PROV-O and the graph nodes its facts were derived from."""
    import pyoxigraph as ox

    from hemkg.consultation import provenance

    derivations = list(provenance.triples(c))
    sources = {t.object for t in derivations if t.predicate == ox.NamedNode(PROV_DERIVED)}
    return list(dict.fromkeys([*derivations, *_describe(store, sorted(sources, key=str))]))


# ---------------------------------------------------------------- RDF formats


def rdf_bytes(fmt: str, scope: Scope) -> bytes:
    """The scope's triples in an RDF format (ttl, nt, jsonld, rdfxml)."""
    import pyoxigraph as ox

    if fmt == "jsonld":
        return _jsonld(scope.triples)
    formats = {"ttl": ox.RdfFormat.TURTLE, "nt": ox.RdfFormat.N_TRIPLES, "rdfxml": ox.RdfFormat.RDF_XML}
    triples = xml_safe_triples(scope.triples) if fmt == "rdfxml" else scope.triples
    prefixes = None if fmt == "nt" else _used_prefixes(triples)
    data = ox.serialize(triples, format=formats[fmt], prefixes=prefixes)
    assert data is not None  # serialize returns the bytes when given no output
    return data


def _used_prefixes(triples: list[pyoxigraph.Triple]) -> dict[str, str]:
    text = " ".join(str(t.predicate) + str(t.subject) + str(t.object) for t in triples)
    return {p: ns for p, ns in PREFIXES.items() if ns in text}


def _jsonld(triples: list[pyoxigraph.Triple]) -> bytes:
    import pyoxigraph as ox
    import rdflib

    g = rdflib.Graph()
    g.parse(data=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES), format="nt")
    context = _used_prefixes(triples)
    return g.serialize(format="json-ld", context=context, indent=1).encode("utf-8")


# ---------------------------------------------------------------- graph formats


def node_key(term) -> str:
    """A node's id in graph formats: the IRI, or `_:id` for a blank node."""
    import pyoxigraph as ox

    return f"_:{term.value}" if isinstance(term, ox.BlankNode) else term.value


def edge_id(t: pyoxigraph.Triple) -> str:
    """A triple's edge id in graph formats: stable across exports, whatever else the scope holds."""
    return "e" + hashlib.sha1(str(t).encode("utf-8")).hexdigest()[:16]


def _local_name(iri: str) -> str:
    return iri.rstrip("/#").rsplit("/", 1)[-1].rsplit("#", 1)[-1] or iri


XSD = PREFIXES["xsd"]
_INTEGERS = {XSD + t for t in ("integer", "int", "long", "short", "byte", "nonNegativeInteger", "positiveInteger",
                               "negativeInteger", "nonPositiveInteger", "unsignedInt", "unsignedLong",
                               "unsignedShort", "unsignedByte")}
_FLOATS = {XSD + "decimal", XSD + "double", XSD + "float"}
_YEAR = re.compile(r"-?\d{4}")


def literal_value(literal: pyoxigraph.Literal) -> str | int | float | bool:
    """A literal as the Python value graph formats write: int, float or bool where its datatype says so."""
    text, datatype = literal.value, literal.datatype.value
    try:
        if datatype in _INTEGERS:
            return int(text)
        if datatype in _FLOATS:
            value = float(text)
            return value if value == value and abs(value) != float("inf") else text
    except ValueError:  # an ill-typed literal stays the text it is
        return text
    if datatype == XSD + "boolean" and text.strip() in ("true", "false", "1", "0"):
        return text.strip() in ("true", "1")
    if datatype == XSD + "gYear" and _YEAR.fullmatch(text.strip()):
        return int(text)
    return text


def _unify(values: dict[str, list[pyoxigraph.Literal]]) -> dict[str, str | int | float | bool]:
    """One attribute's values on each node, all of one type: bool, int, float, else str."""
    typed = {n: [literal_value(v) for v in vs] for n, vs in values.items()}
    if all(len(vs) == 1 for vs in typed.values()):
        single = [vs[0] for vs in typed.values()]
        if all(isinstance(v, bool) for v in single):
            return {n: vs[0] for n, vs in typed.items()}
        if all(isinstance(v, int) and not isinstance(v, bool) for v in single):
            return {n: vs[0] for n, vs in typed.items()}
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in single):
            return {n: float(vs[0]) for n, vs in typed.items()}
    return {n: xml_safe(" | ".join(v.value for v in vs)) for n, vs in values.items()}


def to_networkx(scope: Scope) -> networkx.MultiDiGraph:
    """The scope as a directed multigraph (see the module's docstring for its attributes)."""
    import networkx as nx
    import pyoxigraph as ox

    info = _NodeInfo(scope)
    g = nx.MultiDiGraph(name=xml_safe(f"hemkg {scope.name}"))
    literals: dict[str, dict[str, list[ox.Literal]]] = defaultdict(lambda: defaultdict(list))
    edges = []
    for t in scope.triples:
        s = node_key(t.subject)
        g.add_node(s)
        if isinstance(t.object, ox.Literal):
            literals[short(t.predicate.value)][s].append(t.object)
        else:
            o = node_key(t.object)
            g.add_node(o)
            edges.append((s, o, t))
    for key, values in sorted(literals.items()):
        for n, value in _unify(values).items():
            g.nodes[n][key] = value
    for n in g.nodes:
        g.nodes[n].update({k: xml_safe(v) for k, v in info.attributes(n).items() if v != ""})
    for s, o, t in edges:
        g.add_edge(s, o, key=edge_id(t), label=xml_safe(short(t.predicate.value)), iri=xml_safe(t.predicate.value),
                   entailed=t in scope.entailed)
    return g


class _NodeInfo:
    """Labels, most specific classes and citations of a scope's nodes, from the scope and its store."""

    def __init__(self, scope: Scope):
        import pyoxigraph as ox

        self.labels: dict[str, str] = {}
        self._lang: dict[str, str | None] = {}
        self.rdfs_labels: dict[str, str] = {}
        self.fact_texts: dict[str, str] = {}
        self.plans: dict[str, str] = {}
        self.types: dict[str, set[str]] = defaultdict(set)
        self.supers: dict[str, set[str]] = defaultdict(set)
        self.citations: dict[str, set[int]] = defaultdict(set)
        self.location: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        self.blank = set()
        store_triples = [q.triple for p in (SKOS_LABEL, RDFS_LABEL, RDF_TYPE, SUBCLASS_OF)
                         for q in scope.store.quads_for_pattern(None, ox.NamedNode(p), None, None)]
        for t in [*scope.triples, *store_triples]:
            s, p, o = node_key(t.subject), t.predicate.value, t.object
            if isinstance(t.subject, ox.BlankNode):
                self.blank.add(s)
            if p == SKOS_LABEL and isinstance(o, ox.Literal):
                if s not in self.labels or (o.language in (None, "en") and self._lang.get(s) not in (None, "en")):
                    self.labels[s] = o.value
                    self._lang[s] = o.language
            elif p == RDFS_LABEL and isinstance(o, ox.Literal):
                self.rdfs_labels.setdefault(s, o.value)
            elif p == RDF_TYPE and isinstance(o, ox.NamedNode):
                self.types[s].add(o.value)
            elif p == SUBCLASS_OF and isinstance(o, ox.NamedNode):
                self.supers[s].add(o.value)
        for t in scope.triples:
            s, p, o = node_key(t.subject), t.predicate.value, t.object
            if p in CITING and isinstance(o, ox.NamedNode) and o.value.startswith(REF):
                number = o.value.removeprefix(REF)
                if number.isdigit():
                    self.citations[s].add(int(number))
            elif p in LOCATION and isinstance(o, ox.Literal):
                self.location[s][LOCATION[p]].append(o.value)
            elif p == FACT_TEXT and isinstance(o, ox.Literal):
                self.fact_texts[s] = o.value
            elif p == PROV_PLAN and isinstance(o, ox.NamedNode):
                self.plans[s] = o.value
        self._closure: dict[str, set[str]] = {}

    def ancestors(self, cls: str) -> set[str]:
        if cls not in self._closure:
            seen: set[str] = set()
            todo = list(self.supers.get(cls, ()))
            while todo:
                c = todo.pop()
                if c not in seen:
                    seen.add(c)
                    todo += self.supers.get(c, ())
            self._closure[cls] = seen
        return self._closure[cls]

    def label(self, n: str) -> str:
        """The node's label in words: its skos:prefLabel, rdfs:label, fact text or rule, else its type."""
        if n in self.labels:
            return self.labels[n]
        if n in self.rdfs_labels:
            return self.rdfs_labels[n]
        if n in self.fact_texts:
            return self.fact_texts[n]
        if n in self.plans:
            return f"application of rule {_local_name(self.plans[n])}"
        if n in self.blank:
            return self.type(n) or "blank node"
        return _local_name(n)

    def type(self, n: str) -> str:
        """The label of the node's most specific hem: class (of any class if it has no hem: one)."""
        classes = self.types.get(n, set())
        candidates = {c for c in classes if c.startswith(HEM)} or classes
        specific = [c for c in candidates if not any(c in self.ancestors(d) for d in candidates if d != c)]
        return ", ".join(sorted(self.labels.get(c) or short(c) for c in specific))

    def kind(self, n: str) -> str:
        classes = self.types.get(n, set())
        return kind_of(n, classes | {a for c in classes for a in self.ancestors(c)}, n in self.blank)

    def attributes(self, n: str) -> dict[str, str]:
        loc = self.location.get(n, {})
        parts = [f"Section {', '.join(sorted(loc['sections']))}" if loc.get("sections") else ""]
        parts += sorted(loc.get("tables", [])) + sorted(loc.get("figures", [])) + sorted(loc.get("equations", []))
        return {
            "label": self.label(n),
            "type": self.type(n),
            "kind": self.kind(n),
            "iri": n,
            "citations": ", ".join(str(x) for x in sorted(self.citations.get(n, ()))),
            "location": "; ".join(p for p in parts if p),
        }


def graph_bytes(fmt: str, scope: Scope) -> bytes:
    """The scope in a graph format (graphml, gexf, dot, cytoscape, html)."""
    import json

    import networkx as nx

    g = to_networkx(scope)
    if fmt == "graphml":
        buffer = io.BytesIO()
        nx.write_graphml(g, buffer, encoding="utf-8")
        return _graphml_booleans(buffer.getvalue().decode("utf-8")).encode("utf-8")
    if fmt == "gexf":
        buffer = io.BytesIO()
        nx.write_gexf(_with_viz(g), buffer, encoding="utf-8")
        return buffer.getvalue()
    if fmt == "dot":
        return to_dot(g).encode("utf-8")
    if fmt == "cytoscape":
        return json.dumps(cytoscape_json(g, scope.name), ensure_ascii=False, indent=1).encode("utf-8")
    from hemkg.exports import html as exports_html

    return exports_html.render(g, scope).encode("utf-8")


def _graphml_booleans(text: str) -> str:
    """networkx writes GraphML booleans as True/False; the GraphML schema (XML Schema) wants true/false."""
    for key in re.findall(r'<key id="([^"]+)"[^>]*attr\.type="boolean"', text):
        text = re.sub(f'(<data key="{re.escape(key)}">)(True|False)(</data>)',
                      lambda m: m[1] + m[2].lower() + m[3], text)
    return text


def _with_viz(g: networkx.MultiDiGraph) -> networkx.MultiDiGraph:
    """A copy for GEXF: every node coloured by its kind (viz:color), every edge with its id."""
    from hemkg.exports.kinds import BY_NAME, rgb

    out = g.copy()
    for _, data in out.nodes(data=True):
        r, gr, b = rgb(BY_NAME[data.get("kind", "other")].colour)
        data["viz"] = {"color": {"r": r, "g": gr, "b": b, "a": 1.0}}
    for _, _, key, data in out.edges(keys=True, data=True):
        data["id"] = key
    return out


def cytoscape_json(g: networkx.MultiDiGraph, scope: str) -> dict[str, Any]:
    """The graph as Cytoscape desktop's .cyjs: network `data` an object, nodes and edges with ids.

    Node data keep every attribute (typed as in to_networkx) and add `name`
    and `shared_name` (the label, which Cytoscape shows); edge data add the
    `interaction` (the predicate's short name) and Cytoscape's edge `name`,
    "source (interaction) target".
    """
    from hemkg import __version__
    from hemkg.exports.libraries import vendored

    name = g.graph.get("name", "hemkg")
    nodes = [{"data": {"id": n, "name": d.get("label", n), "shared_name": d.get("label", n), **d}}
             for n, d in g.nodes(data=True)]
    edges = []
    for s, o, key, d in g.edges(keys=True, data=True):
        interaction = d.get("label", "")
        text = f"{g.nodes[s].get('label', s)} ({interaction}) {g.nodes[o].get('label', o)}"
        edges.append({"data": {"id": key, "source": s, "target": o, "interaction": interaction,
                               "shared_interaction": interaction, "name": text, "shared_name": text, **d}})
    return {
        "format_version": "1.0",
        "generated_by": f"hemkg {__version__}",
        "target_cytoscapejs_version": f"~{vendored()['cytoscape'].version}",
        "data": {"name": name, "shared_name": name, "scope": scope},
        "directed": True,
        "multigraph": True,
        "elements": {"nodes": nodes, "edges": edges},
    }


def dot_string(text: str) -> str:
    """`text` as a quoted DOT string that Graphviz shows exactly as written.

    Backslashes and quotes are escaped, line ends become Graphviz's centred
    line break, '&' is written as an entity (Graphviz decodes entities in
    labels) and control characters are replaced by U+FFFD.
    """
    text = xml_safe(text).replace("\t", " ")
    text = text.replace("\\", "\\\\").replace('"', '\\"').replace("&", "&amp;").replace("\n", "\\n")
    return f'"{text}"'


def to_dot(g: networkx.MultiDiGraph) -> str:
    """The graph in Graphviz DOT: nodes n0, n1, ... labelled, typed and with tooltips."""
    ids = {n: f"n{i}" for i, n in enumerate(g.nodes)}
    large = g.number_of_nodes() > 400
    lines = [
        f"digraph {dot_string(g.graph.get('name', 'hemkg'))} {{",
        "  graph [charset=\"UTF-8\", rankdir=LR, fontname=\"Helvetica\""
        + (", layout=sfdp, overlap=prism, outputorder=edgesfirst" if large else "") + "];",
        "  node [shape=box, style=\"rounded,filled\", fillcolor=\"#eef3fb\", fontname=\"Helvetica\", fontsize=10];",
        "  edge [fontname=\"Helvetica\", fontsize=8, color=\"#7a869a\"];",
    ]
    for n, data in g.nodes(data=True):
        label = data.get("label", n)
        tip = "\n".join(x for x in (data.get("type", ""), f"refs {data['citations']}" if data.get("citations") else "",
                                    data.get("location", ""), data.get("iri", n)) if x)
        fill = ', fillcolor="#fdf0d5"' if data.get("citations") else ""
        lines.append(f"  {ids[n]} [label={dot_string(label)}, tooltip={dot_string(tip)}{fill}];")
    for s, o, data in g.edges(data=True):
        style = ", style=dashed" if data.get("entailed") else ""
        lines.append(f"  {ids[s]} -> {ids[o]} [label={dot_string(data.get('label', ''))}{style}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- one call


def render(fmt: str, scope: Scope) -> bytes:
    if fmt not in FORMATS:
        raise ExportError(f"unknown format '{fmt}'", f"choose one of {', '.join(FORMATS)}")
    return rdf_bytes(fmt, scope) if fmt in RDF_FORMATS else graph_bytes(fmt, scope)


def export(fmt: str, scope: str = "all", ion: str = "Li", output: Path | None = None, *,
           store: pyoxigraph.Store | None = None, extra: Iterable[pyoxigraph.Triple] = ()) -> bytes | None:
    """Export `scope` as `fmt` to the file `output` (atomically), or return the bytes when there is none.

    Raises ExportError with a hint for an unknown format, scope, term, a bad
    formula or a target that cannot be written; the target is then untouched.
    """
    if fmt not in FORMATS:
        raise ExportError(f"unknown format '{fmt}'", f"choose one of {', '.join(FORMATS)}")
    parse_scope(scope)
    if output is not None:
        check_target(Path(output))
    selected = select_scope(scope, ion, store=store, extra=extra)
    if output is not None:
        data = render(fmt, selected)

        def write(stream: IO[bytes]) -> None:
            stream.write(data)

        write_atomic(Path(output), write)
        return None
    return render(fmt, selected)
