"""Tests of `hem export`: every format is read back by a real reader.

RDF formats re-parse with rdflib to a graph isomorphic to the scope's triples;
GraphML and GEXF read back through networkx with every attribute's type kept
(GEXF with a colour per kind of node); DOT renders with Graphviz; the
Cytoscape JSON has the shape Cytoscape desktop reads and loads into the
cytoscape npm package under Node. The HTML page is checked as a graph in
Python and as a page in headless Chromium (its section below). A guideline
statement with an awkward label (quotes, colons, '<', '&', newlines, a tab,
backslashes, control characters, '</script>') is injected through the
exporter's `extra` argument and must survive every format: exactly in Turtle,
N-Triples and JSON-LD, with the characters XML 1.0 forbids shown as U+FFFD
elsewhere.

Tools: Graphviz `dot` and `chromium` (Debian packages graphviz, chromium) and
the cytoscape npm package in $HEMKG_NODE_PREFIX (default /tmp/hemkg-node),
all installed by .ci/run; the cytoscape package is installed there by the
session fixture when it is missing.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import time
from collections import Counter, defaultdict
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote
from xml.etree import ElementTree

import networkx as nx
import pyoxigraph as ox
import pytest
import rdflib
from conftest import assert_one_line_error, run
from rdflib.compare import isomorphic

from hemkg.exports import formats as exports
from hemkg.exports import html as pages
from hemkg.exports import kinds
from hemkg.exports.libraries import vendored
from hemkg.graph.store import ENTAILED_GRAPH, HEM, HEMKG, REF, knowledge_graph, package_files, select, to_rdflib_term
from hemkg.system import outputs

# ---------------------------------------------------------------- the injected statement

SKOS = "http://www.w3.org/2004/02/skos/core#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
ODD = HEMKG + "test-odd-statement"
ODD_LABEL = ('odd "quoted" label: a<b & c>d &lt;kept\r\nsecond line\tafter tab \\back\\slash \\n '
             "\x01bell\x0b\x1f end é </script><b>")
ODD_XML = ('odd "quoted" label: a<b & c>d &lt;kept\nsecond line\tafter tab \\back\\slash \\n '
           "\ufffdbell\ufffd\ufffd end é </script><b>")


def _odd_triples() -> list[ox.Triple]:
    odd = ox.NamedNode(ODD)

    def t(p: str, o) -> ox.Triple:
        return ox.Triple(odd, ox.NamedNode(p), o)

    return [
        t(RDF_TYPE, ox.NamedNode(HEM + "GuidelineStatement")),
        t(SKOS + "prefLabel", ox.Literal(ODD_LABEL, language="en")),
        t(SKOS + "editorialNote", ox.Literal("note: <x> \"y\"\n\x02")),
        t(HEM + "citesReference", ox.NamedNode(REF + "48")),
        t(HEM + "citesReference", ox.NamedNode(REF + "41")),
        t(HEM + "inSection", ox.Literal("3.1")),
        t(HEM + "inFigure", ox.Literal("Fig. 6a")),
        t(HEM + "mentions", ox.NamedNode(HEMKG + "Zn")),
    ]


ODD_SCOPE = "term:Zn+odd"


@functools.cache
def scope(name: str) -> exports.Scope:
    """A scope by name; 'term:Zn+odd' is term:Zn with the awkward statement added."""
    if name == ODD_SCOPE:
        return exports.select_scope("term:Zn", extra=_odd_triples())
    ion = "Na" if name.startswith("candidate:") else "Li"
    return exports.select_scope(name, ion)


def expected_graph(name: str) -> tuple[set[str], Counter]:
    """Nodes and (source, target, predicate) edges of a scope, computed here from its triples."""
    def key(term) -> str:
        return f"_:{term.value}" if isinstance(term, ox.BlankNode) else term.value

    nodes: set[str] = set()
    edges: Counter = Counter()
    for t in scope(name).triples:
        nodes.add(key(t.subject))
        if not isinstance(t.object, ox.Literal):
            nodes.add(key(t.object))
            edges[(key(t.subject), key(t.object), t.predicate.value)] += 1
    return nodes, edges


def export_file(tmp_path: Path, name: str, fmt: str) -> Path:
    path = tmp_path / f"export.{fmt}"
    path.write_bytes(exports.render(fmt, scope(name)))
    return path


# rdflib's JSON-LD parser (not the exporter) still builds a ConjunctiveGraph
pytestmark = pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")

SCOPES = [ODD_SCOPE, "all", "ontology", "guidelines", "term:ref 57", "candidate:(MgCoNiCuZn)O"]

# ---------------------------------------------------------------- scopes


def test_scope_all_is_asserted_and_entailed():
    store = knowledge_graph()
    triples = set(scope("all").triples)
    assert triples == {q.triple for q in store.quads_for_pattern(None, None, None, None)}
    entailed = {q.triple for q in store.quads_for_pattern(None, None, None, ox.NamedNode(ENTAILED_GRAPH))}
    assert entailed and entailed <= triples


def test_scope_ontology_is_the_ontology_files_only():
    triples = scope("ontology").triples
    assert ox.Triple(ox.NamedNode(HEM + "CationElement"), ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#subClassOf"),
                     ox.NamedNode(HEM + "ChemicalElement")) in triples
    assert not any(t.subject == ox.NamedNode(HEMKG + "Zn") for t in triples)  # kg/elements.ttl is not ontology


def test_scope_guidelines_are_statements_and_what_they_point_to():
    triples = scope("guidelines").triples
    statements = {row["s"] for row in knowledge_graph().query(
        f"SELECT ?s WHERE {{ ?s a <{HEM}GuidelineStatement> }}", use_default_graph_as_union=True)}
    subjects = {t.subject for t in triples}
    assert statements <= subjects and len(statements) > 100
    for s in subjects - statements:  # rank entries, or the labels of what the statements point to
        predicates = {t.predicate.value for t in triples if t.subject == s}
        assert isinstance(s, ox.BlankNode) or predicates == {SKOS + "prefLabel"}, (s, predicates)


def test_scope_term_zn_is_one_hop_and_the_statements_about_it():
    zn = ox.NamedNode(HEMKG + "Zn")
    triples = scope("term:Zn").triples
    assert ox.Triple(zn, ox.NamedNode(HEM + "memberOf"), ox.NamedNode(HEMKG + "plane-A")) in triples
    assert ox.Triple(ox.NamedNode(HEMKG + "plane-A"), ox.NamedNode(HEM + "hasMember"), zn) in triples
    role = ox.NamedNode(HEMKG + "stmt-context-dependent-role")  # Section 3.1, refs 41, 48: context decides Zn's role
    assert ox.Triple(role, ox.NamedNode(HEM + "citesReference"), ox.NamedNode(REF + "41")) in triples
    # a ranking that places Zn comes with its rank entries
    ranked = [t for t in triples if t.predicate.value == HEM + "rankedItem" and t.object == zn]
    assert ranked and all(any(u.subject == t.subject and u.predicate.value == HEM + "rank" for u in triples) for t in ranked)


def test_scope_candidate_has_derivations_and_their_statements():
    triples = scope("candidate:(MgCoNiCuZn)O").triples
    assert any(t.object == ox.NamedNode(HEM + "Consultation") for t in triples)
    sources = {t.object for t in triples if t.predicate.value == "http://www.w3.org/ns/prov#wasDerivedFrom"
               and isinstance(t.subject, ox.NamedNode) and "/consultation/" in t.subject.value}
    assert sources
    for source in sources:  # the statement a fact comes from is in the export with what it says
        assert any(t.subject == source and t.predicate.value == SKOS + "prefLabel" for t in triples), source


# ---------------------------------------------------------------- RDF formats

RDFLIB_FORMAT = {"ttl": "turtle", "nt": "nt", "jsonld": "json-ld", "rdfxml": "xml"}


def reference_graph(triples) -> rdflib.Graph:
    g = rdflib.Graph()
    for t in triples:
        g.add((to_rdflib_term(t.subject), to_rdflib_term(t.predicate), to_rdflib_term(t.object)))
    return g


@pytest.mark.parametrize("name", SCOPES)
@pytest.mark.parametrize("fmt", exports.RDF_FORMATS)
def test_rdf_format_reparses_isomorphic(tmp_path, fmt, name):
    """rdflib reads the export back to the scope's triples (RDF/XML: with XML-safe literals)."""
    path = export_file(tmp_path, name, fmt)
    parsed = rdflib.Graph()
    parsed.parse(path, format=RDFLIB_FORMAT[fmt])
    triples = scope(name).triples
    expected = reference_graph(exports.xml_safe_triples(triples) if fmt == "rdfxml" else triples)
    assert len(parsed) == len(expected) == len(set(triples))
    assert isomorphic(parsed, expected)
    if name == ODD_SCOPE:
        label = parsed.value(rdflib.URIRef(ODD), rdflib.URIRef(SKOS + "prefLabel"))
        assert str(label) == (ODD_XML if fmt == "rdfxml" else ODD_LABEL)
        assert label.language == "en"


# ---------------------------------------------------------------- graph formats


def exporter_graph(name: str) -> nx.MultiDiGraph:
    return exports.to_networkx(scope(name))


def test_graph_attributes_of_the_injected_statement():
    data = exporter_graph(ODD_SCOPE).nodes[ODD]
    assert data["label"] == ODD_XML
    assert data["type"] == "guideline statement"
    assert data["citations"] == "41, 48"
    assert data["location"] == "Section 3.1; Fig. 6a"
    assert data["iri"] == ODD
    assert data["skos:editorialNote"] == 'note: <x> "y"\n\ufffd'
    zn = exporter_graph(ODD_SCOPE).nodes[HEMKG + "Zn"]
    assert (zn["label"], zn["type"], zn["hem:symbol"]) == ("zinc", "cation element", "Zn")
    edges = exporter_graph(ODD_SCOPE).get_edge_data(ODD, HEMKG + "Zn")
    assert [d["label"] for d in edges.values()] == ["hem:mentions"]


@pytest.mark.parametrize("name", [ODD_SCOPE, "all", "guidelines", "candidate:(MgCoNiCuZn)O"])
@pytest.mark.parametrize("fmt", ["graphml", "gexf"])
def test_graphml_and_gexf_read_back(tmp_path, fmt, name):
    path = export_file(tmp_path, name, fmt)
    read = nx.read_graphml(path) if fmt == "graphml" else nx.read_gexf(path)
    nodes, edges = expected_graph(name)
    assert set(read.nodes) == nodes
    assert read.number_of_edges() == sum(edges.values())
    written = exporter_graph(name)
    assert {n: d["label"] for n, d in read.nodes(data=True)} == {n: d["label"] for n, d in written.nodes(data=True)}
    assert {n: d.get("type") for n, d in read.nodes(data=True)} == {n: d.get("type") for n, d in written.nodes(data=True)}
    assert Counter((s, o, d["label"]) for s, o, d in read.edges(data=True)) == Counter(
        (s, o, exports.short(p)) for (s, o, p), k in edges.items() for _ in range(k))
    assert all(d["label"] for _, d in read.nodes(data=True))
    if name == ODD_SCOPE:
        odd = read.nodes[ODD]
        assert (odd["label"], odd["citations"], odd["location"]) == (ODD_XML, "41, 48", "Section 3.1; Fig. 6a")


@pytest.mark.parametrize("name", [ODD_SCOPE, "all", "candidate:(MgCoNiCuZn)O"])
@pytest.mark.parametrize("fmt", ["graphml", "gexf"])
def test_graphml_and_gexf_keep_attribute_types(tmp_path, fmt, name):
    """Every attribute reads back as written and with its type: numbers as numbers, booleans as booleans."""
    path = export_file(tmp_path, name, fmt)
    read = nx.read_graphml(path, force_multigraph=True) if fmt == "graphml" else nx.read_gexf(path)
    written = exporter_graph(name)
    for n, data in written.nodes(data=True):
        for key, value in data.items():
            got = read.nodes[n][key]
            assert got == value and type(got) is type(value), (n, key, value, got)
    entailed = {exports.edge_id(t) for t in scope(name).entailed & set(scope(name).triples)}
    ids = [k for *_, k in read.edges(keys=True)] if fmt == "graphml" else [d["id"] for *_, d in read.edges(data=True)]
    assert sorted(ids) == sorted(k for *_, k in written.edges(keys=True))
    flags = [d["entailed"] for *_, d in read.edges(data=True)]
    assert all(type(f) is bool for f in flags) and sum(flags) == len(entailed)


def test_attribute_types_are_those_of_the_literals():
    """Zn: atomic number 30 (an integer), Pauling electronegativity 1.65 (a decimal) in the element data;
    Section 3.1 (ref 41): in (LiFeZnNiCoMn)3O4 Zn does not convert, hem:observedTakingPart false (a boolean)."""
    g = exporter_graph("all")
    zn = g.nodes[HEMKG + "Zn"]
    assert zn["hem:atomicNumber"] == 30 and type(zn["hem:atomicNumber"]) is int
    assert zn["hem:paulingElectronegativity"] == 1.65 and type(zn["hem:paulingElectronegativity"]) is float
    structural = g.nodes[HEMKG + "stmt-example-LiFeZnNiCoMn3O4-Zn-conversion"]
    assert structural["hem:observedTakingPart"] is False
    # an attribute with several values on some node is a string on every node: one type per attribute
    states = [d["hem:commonOxidationState"] for _, d in g.nodes(data=True) if "hem:commonOxidationState" in d]
    assert any(" | " in v for v in states) and all(type(v) is str for v in states)


def test_graphml_writes_booleans_as_the_schema_spells_them(tmp_path):
    text = export_file(tmp_path, "all", "graphml").read_text(encoding="utf-8")
    boolean_keys = re.findall(r'<key id="([^"]+)"[^>]*attr\.type="boolean"', text)
    assert boolean_keys
    values = {v for key in boolean_keys for v in re.findall(f'<data key="{key}">([^<]*)</data>', text)}
    assert values == {"true", "false"}
    assert 'attr.name="hem:atomicNumber" attr.type="long"' in text


@pytest.mark.parametrize(("lexical", "datatype", "value"), [
    ("30", "integer", 30), ("65.409", "decimal", 65.409), ("1e3", "double", 1000.0), ("true", "boolean", True),
    ("0", "boolean", False), ("2024", "gYear", 2024), ("x1", "integer", "x1"), ("NaN", "double", "NaN"),
    ("2024-05", "gYearMonth", "2024-05"),
])
def test_literal_value(lexical, datatype, value):
    got = exports.literal_value(ox.Literal(lexical, datatype=ox.NamedNode(exports.XSD + datatype)))
    assert got == value and type(got) is type(value)


def test_gexf_colours_nodes_by_kind(tmp_path):
    path = export_file(tmp_path, "all", "gexf")
    assert "<viz:color " in path.read_text(encoding="utf-8")
    colours = defaultdict(set)
    for _, d in nx.read_gexf(path).nodes(data=True):
        c = d["viz"]["color"]
        colours[d["kind"]].add((c["r"], c["g"], c["b"]))
    assert {"element", "mechanism", "group", "statement", "reference", "schema"} <= set(colours)
    assert all(found == {kinds.rgb(kinds.BY_NAME[kind].colour)} for kind, found in colours.items())
    assert len({next(iter(found)) for found in colours.values()}) == len(colours)  # one colour per kind


def test_dot_string_escapes():
    assert exports.dot_string('a "b" \\c\nd & e\x01') == '"a \\"b\\" \\\\c\\nd &amp; e\ufffd"'


def _svg_node_texts(svg: str) -> dict[str, list[str]]:
    """Graphviz SVG: each node group's <text> lines, by the group's order."""
    root = ElementTree.fromstring(svg)
    ns = {"svg": "http://www.w3.org/2000/svg"}
    return {g.get("id"): [t.text or "" for t in g.iter("{http://www.w3.org/2000/svg}text")]
            for g in root.iterfind(".//svg:g[@class='node']", ns)}


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' is not installed (Debian package graphviz; .ci/run installs it)")
@pytest.mark.parametrize("name", [ODD_SCOPE, "guidelines", "all"])
def test_dot_renders_with_graphviz(tmp_path, name):
    path = export_file(tmp_path, name, "dot")
    done = subprocess.run(["dot", "-Tsvg", str(path)], capture_output=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr.decode()
    assert b"Warning" not in done.stderr and b"Error" not in done.stderr, done.stderr.decode()
    svg = done.stdout.decode("utf-8")
    nodes, edges = expected_graph(name)
    texts = _svg_node_texts(svg)
    assert len(texts) == len(nodes)
    assert svg.count('class="edge"') == sum(edges.values())
    if name == ODD_SCOPE:
        lines = ODD_XML.replace("\t", " ").split("\n")
        assert lines in texts.values()
        assert ["zinc"] in texts.values()


# ---------------------------------------------------------------- Cytoscape under Node

def test_cytoscape_json_has_the_shape_cytoscape_desktop_reads(tmp_path):
    """Cytoscape desktop's .cyjs: `data` an object, elements.nodes/edges of {data: {...}}, every edge with an id."""
    data = json.loads(export_file(tmp_path, ODD_SCOPE, "cytoscape").read_text(encoding="utf-8"))
    assert data["format_version"] == "1.0" and data["generated_by"].startswith("hemkg ")
    assert isinstance(data["data"], dict) and data["data"]["name"] == "hemkg term:Zn"
    nodes, edges = data["elements"]["nodes"], data["elements"]["edges"]
    assert all(set(e) == {"data"} for e in nodes + edges)
    assert all({"id", "name", "shared_name", "label", "kind", "iri"} <= set(n["data"]) for n in nodes)
    assert all({"id", "source", "target", "interaction", "name", "entailed"} <= set(e["data"]) for e in edges)
    ids = [e["data"]["id"] for e in edges]
    assert len(set(ids)) == len(ids)
    assert set(ids) == {exports.edge_id(t) for t in scope(ODD_SCOPE).triples if not isinstance(t.object, ox.Literal)}
    zn = next(n["data"] for n in nodes if n["data"]["id"] == HEMKG + "Zn")
    assert (zn["name"], zn["hem:atomicNumber"], zn["hem:paulingElectronegativity"]) == ("zinc", 30, 1.65)
    mention = next(e["data"] for e in edges if (e["data"]["source"], e["data"]["target"]) == (ODD, HEMKG + "Zn"))
    assert mention["interaction"] == "hem:mentions" and mention["entailed"] is False
    assert mention["name"] == f"{ODD_XML} (hem:mentions) zinc"


NODE_SCRIPT = r"""
const cytoscape = require(process.argv[2]);
const data = JSON.parse(require("fs").readFileSync(process.argv[3], "utf8"));
const cy = cytoscape({ elements: data.elements, headless: true });
const dangling = cy.edges().filter(e => e.source().empty() || e.target().empty()).length;
const odd = cy.getElementById(process.argv[4]);
const zinc = cy.getElementById("https://w3id.org/hemkg/kg/Zn");
console.log(JSON.stringify({
  nodes: cy.nodes().length, edges: cy.edges().length, dangling: dangling,
  oddLabel: odd.empty() ? null : odd.data("label"), oddCitations: odd.empty() ? null : odd.data("citations"),
  zincDegree: zinc.degree(),
  dataIsObject: typeof data.data === "object" && data.data !== null && !Array.isArray(data.data),
  edgeIds: cy.edges().map(e => e.id()).sort(),
  zincNumber: [typeof zinc.data("hem:atomicNumber"), zinc.data("hem:atomicNumber")],
  entailedTypes: [...new Set(cy.edges().map(e => typeof e.data("entailed")))],
}));
"""


@pytest.fixture(scope="session")
def cytoscape_module() -> str:
    """The cytoscape npm package under $HEMKG_NODE_PREFIX, installed there if missing."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are not installed (Debian packages nodejs, npm; .ci/run installs them)")
    prefix = Path(os.environ.get("HEMKG_NODE_PREFIX", "/tmp/hemkg-node"))
    module = prefix / "node_modules" / "cytoscape"
    if not (module / "package.json").is_file():
        prefix.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(prefix), "cytoscape"],
                              capture_output=True, text=True, timeout=600, check=False)
        if done.returncode != 0:
            pytest.skip(f"npm could not install cytoscape into {prefix}: {done.stderr.strip()[-300:]}")
    return str(module)


@pytest.mark.parametrize("name", [ODD_SCOPE, "all"])
def test_cytoscape_json_loads_into_cytoscape(tmp_path, cytoscape_module, name):
    path = export_file(tmp_path, name, "cytoscape")
    script = tmp_path / "load.js"
    script.write_text(NODE_SCRIPT, encoding="utf-8")
    done = subprocess.run(["node", str(script), cytoscape_module, str(path), ODD],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    counts = json.loads(done.stdout.strip().splitlines()[-1])
    nodes, edges = expected_graph(name)
    assert (counts["nodes"], counts["edges"], counts["dangling"]) == (len(nodes), sum(edges.values()), 0)
    assert counts["zincDegree"] == exporter_graph(name).degree(HEMKG + "Zn")
    assert counts["dataIsObject"] and counts["entailedTypes"] == ["boolean"] and counts["zincNumber"] == ["number", 30]
    # cytoscape.js keeps the export's edge ids (it makes up random ones for edges that have none)
    assert counts["edgeIds"] == sorted(k for *_, k in exporter_graph(name).edges(keys=True))
    if name == ODD_SCOPE:
        assert (counts["oddLabel"], counts["oddCitations"]) == (ODD_XML, "41, 48")

# ---------------------------------------------------------------- HTML pages (issue 14)
#
# The page's graph (exports/html.py) is checked in Python: a consultation in
# layers, labels in words, schema and provenance hidden, `all` opening on an
# overview. The page itself runs in headless Chromium (Debian package
# chromium, installed by .ci/run): it writes what it shows, each node's box on
# screen included, into <pre id="hem-state">, which --dump-dom reads back; the
# consultation page of (MgCoNiCuZn)O at 1400x1000 must show no two labels
# overlapping, all on screen and large enough to read, and its screenshot is
# checked as a picture.

CANDIDATE = "candidate:(MgCoNiCuZn)O"
CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
needs_chromium = pytest.mark.skipif(CHROMIUM is None,
                                    reason="Chromium is not installed (Debian package chromium; .ci/run installs it)")
# what a label must never be: a bare number, an internal id, an IRI or a blank node
NOT_WORDS = re.compile(r"^[\W\d_]*$|stmt-|https?://|^_:|/fact/|/derivation/")


@functools.cache
def page_scope(name: str) -> exports.Scope:
    """The scopes above, but the candidate with Li (the page tests read its chemistry)."""
    return exports.select_scope(CANDIDATE, "Li") if name == CANDIDATE else scope(name)


@functools.cache
def page(name: str) -> pages.Page:
    return pages.page_graph(exports.to_networkx(page_scope(name)), page_scope(name))


def page_file(tmp_path: Path, name: str) -> Path:
    path = tmp_path / "page.html"
    path.write_bytes(exports.render("html", page_scope(name)))
    return path


def shown(p: pages.Page) -> dict[str, pages.PageNode]:
    return {n: node for n, node in p.nodes.items() if node.start and not node.hide}


def shown_links(p: pages.Page) -> list[pages.PageEdge]:
    nodes = shown(p)
    return [e for e in p.edges if not e.hide and e.source in nodes and e.target in nodes]


def embedded_data(text: str) -> dict:
    """The page's graph as the page holds it (<script id="graph-data">)."""
    match = re.search(r'<script type="application/json" id="graph-data">(.*?)</script>', text, re.S)
    assert match
    return json.loads(match.group(1))


# ---------------------------------------------------------------- the page's graph


def test_consultation_page_is_in_layers():
    """candidate -> elements -> mechanisms and roles -> effects on performance -> rules -> references.

    (MgCoNiCuZn)O with Li: Zn is on Planes A and B (Fig. 6a), so it takes part in conversion and
    alloying; Mg is a listed cation off Plane A, an inactive stabiliser (Section 3.1).
    """
    p = page(CANDIDATE)
    assert p.mode == "consultation" and p.layers == pages.CONSULTATION_LAYERS
    nodes = shown(p)
    by_layer: dict[int, set[str]] = {}
    for node in nodes.values():
        by_layer.setdefault(node.layer, set()).add(node.text)
    assert by_layer[0] == {"(MgCoNiCuZn)O with Li+"}
    assert by_layer[1] == {"Mg (magnesium)", "Co (cobalt)", "Ni (nickel)", "Cu (copper)", "Zn (zinc)", "O (oxygen)"}
    assert {"conversion: accessible", "alloying: accessible", "intercalation: accessible", "space charge: accessible",
            "inactive stabilizer", "anion"} == by_layer[2]
    assert {"lowers cycling stability", "raises cycling stability", "raises specific capacity"} <= by_layer[3]
    assert {nodes[n].kind for n in nodes if nodes[n].layer == 4} == {"rule"}
    assert {nodes[n].kind for n in nodes if nodes[n].layer == 5} == {"reference"}
    assert sorted(by_layer) == [0, 1, 2, 3, 4, 5]
    links = shown_links(p)
    assert all(nodes[e.source].layer < nodes[e.target].layer for e in links)  # every link runs forward
    text = {n: node.text for n, node in nodes.items()}
    pairs = {(text[e.source], text[e.target]) for e in links}
    assert {("Zn (zinc)", "conversion: accessible"), ("Zn (zinc)", "alloying: accessible"),
            ("Mg (magnesium)", "inactive stabilizer"), ("inactive stabilizer", "raises cycling stability"),
            ("alloying: accessible", "lowers cycling stability")} <= pairs
    # every reference shown is cited by a rule shown beside it
    assert all(any(e.target == n and nodes[e.source].kind == "rule" for e in links)
               for n, node in nodes.items() if node.kind == "reference")


def test_consultation_page_hides_the_prov_record():
    p = page(CANDIDATE)
    kinds = {node.kind for node in p.nodes.values() if node.hide}
    assert {"provenance", "schema"} <= kinds
    assert all(node.hide for node in p.nodes.values() if node.kind in ("provenance", "schema"))
    graph_links = {k for *_, k in exports.to_networkx(page_scope(CANDIDATE)).edges(keys=True)}
    assert all(e.hide for e in p.edges if e.id in graph_links)  # rdf:type, prov:used, ...: behind the toggle
    assert len(shown(p)) < 100 < len(p.nodes)


@pytest.mark.parametrize("name", [ODD_SCOPE, "all", "guidelines", "ontology", "term:ref 57", CANDIDATE])
def test_labels_are_words(name):
    """No node shows a bare number, an internal id (stmt-...), an IRI or a blank node."""
    bad = [(n, node.text) for n, node in page(name).nodes.items() if NOT_WORDS.search(node.text)]
    assert bad == []


def test_statements_show_their_text_shortened():
    p = page(ODD_SCOPE)
    odd = p.nodes[ODD]
    assert odd.label == ODD_XML  # the whole text, for hover and the side panel
    assert odd.text.startswith('odd "quoted" label: a<b & c>d &lt;kept second line after tab')
    assert odd.text.endswith("\u2026") and len(odd.text) <= pages.SHORT["statement"]
    assert pages.shorten("one two three four", 12) == "one two\u2026"


def test_term_page_has_no_schema_clutter():
    """term:Zn without owl:Class, rdf:type or rank entries; Table 1's ordering of alloying cations by
    theoretical capacity (Si > Ge > Sn > Sb > Zn > Bi > In) ranks Zn 5th, shown as a link."""
    p = page(ODD_SCOPE)
    assert p.mode == "term" and p.focus == HEMKG + "Zn"
    nodes = shown(p)
    assert not [n for n, node in nodes.items() if node.type in ("owl:Class", "rank entry") or node.kind == "schema"]
    assert not [e for e in shown_links(p) if e.label in ("type", "sub class of", "has rank entry", "ranked item")]
    ranks = {(nodes[e.source].label, e.label) for e in shown_links(p) if e.target == HEMKG + "Zn" and e.label.startswith("ranks")}
    assert ("Alloying cations by theoretical capacity: Si > Ge > Sn > Sb > Zn > Bi > In", "ranks 5") in ranks
    assert nodes[HEMKG + "Zn"].layer == 0
    assert {node.layer for node in nodes.values()} == {0, 1, 2}


def test_all_opens_on_an_overview():
    """Elements in a plane or group, the planes and groups, the mechanisms: the rest on click."""
    p = page("all")
    groups = {r["g"] for r in select("SELECT ?g WHERE { ?g a hem:ElementGroup }")}
    members = {r["e"] for r in select("SELECT ?e WHERE { ?g a hem:ElementGroup ; hem:hasMember ?e }")}
    mechanisms = {r["m"] for r in select("SELECT ?m WHERE { ?m a hem:IonStorageMechanism }")}
    assert set(shown(p)) == groups | members | mechanisms
    assert len(shown(p)) < 60 and len(p.nodes) > 1000
    assert {node.layer for node in shown(p).values()} == {0, 1, 2}


# ---------------------------------------------------------------- the vendored libraries


def test_vendored_files_are_the_pinned_ones():
    libraries = vendored()
    assert set(libraries) == {"cytoscape", "dagre"}
    for lib in libraries.values():
        (code,) = package_files("exports/vendor", lib.file)
        assert hashlib.sha256(code.read_bytes()).hexdigest() == lib.sha256, lib.file
        (licence,) = package_files("exports/vendor", lib.license)
        assert "MIT" in licence.read_text(encoding="utf-8") or "Permission is hereby granted" in licence.read_text(encoding="utf-8")
        assert lib.version in lib.source


def test_page_is_one_file_with_the_licences(tmp_path):
    text = page_file(tmp_path, CANDIDATE).read_text(encoding="utf-8")
    for lib in vendored().values():
        assert f"/*! {lib.package} {lib.version}\n" in text
    assert "sourceMappingURL" not in text
    assert text.count("</script>") == 2 + len(vendored())  # libraries, data, script: no label closes one
    assert len(text.encode("utf-8")) < 1_200_000  # the consultation page: about 1.0 MB (its PROV record holds the evidence), 0.5 MB of it the libraries


def test_script_json_cannot_close_the_script_element():
    text = pages.script_json({"label": "</script><script>alert(1)</script> & \u2028"})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == {"label": "</script><script>alert(1)</script> & \u2028"}


# ---------------------------------------------------------------- in headless Chromium


def _chromium(args: list[str], url: str, profile: Path) -> subprocess.CompletedProcess:
    profile.mkdir(exist_ok=True)
    done = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
         f"--user-data-dir={profile}", "--virtual-time-budget=10000", *args, url],
        capture_output=True, text=True, timeout=180, check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done


@pytest.fixture(scope="session")
def window_chrome(tmp_path_factory) -> int:
    """How much of --window-size headless Chromium keeps for itself (its viewport is that much shorter)."""
    folder = tmp_path_factory.mktemp("probe")
    probe = folder / "probe.html"
    probe.write_text("<!DOCTYPE html><body><script>document.body.setAttribute('data-h', innerHeight)</script>",
                     encoding="utf-8")
    done = _chromium(["--window-size=1400,1000", "--dump-dom"], probe.as_uri(), folder / "profile")
    return 1000 - int(re.search(r'data-h="(\d+)"', done.stdout).group(1))


class _Page(HTMLParser):
    """The dumped DOM: the page's state, and anything it would fetch."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.state_text = ""
        self.external: list[str] = []
        self._in_state = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for attr in ("src", "href"):
            if a.get(attr) and tag in ("script", "link", "img", "iframe"):
                self.external.append(a[attr])
        self._in_state = tag == "pre" and a.get("id") == "hem-state"

    def handle_endtag(self, tag):
        self._in_state = False

    def handle_data(self, data):
        if self._in_state:
            self.state_text += data


def page_state(path: Path, tmp_path: Path, chrome: int, fragment: str = "", size=(1400, 1000)) -> tuple[dict, _Page]:
    """What the page shows in a viewport of `size`, as it wrote it into <pre id="hem-state">."""
    done = _chromium([f"--window-size={size[0]},{size[1] + chrome}", "--dump-dom"], path.resolve().as_uri() + fragment,
                     tmp_path / "profile")
    parsed = _Page()
    parsed.feed(done.stdout)
    state = json.loads(parsed.state_text)
    assert state["window"] == list(size)
    return state, parsed


def overlaps(boxes: list[dict]) -> list[tuple[str, str]]:
    return [(a["text"], b["text"]) for i, a in enumerate(boxes) for b in boxes[i + 1:]
            if a["x1"] < b["x2"] and b["x1"] < a["x2"] and a["y1"] < b["y2"] and b["y1"] < a["y2"]]


@needs_chromium
def test_consultation_page_at_1400x1000_has_no_overlapping_labels(tmp_path, window_chrome):
    path = page_file(tmp_path, CANDIDATE)
    state, parsed = page_state(path, tmp_path, window_chrome)
    assert parsed.external == []  # self-contained: nothing fetched
    assert (state["cytoscape"], state["dagre"]) == tuple(vendored()[n].version for n in ("cytoscape", "dagre"))
    boxes = state["boxes"]
    assert state["shownNodes"] == len(shown(page(CANDIDATE))) and state["edgeLabels"] == 0
    assert overlaps(boxes) == []
    outside = [b["text"] for b in boxes if b["x1"] < 0 or b["y1"] < 0 or b["x2"] > state["width"] or b["y2"] > state["height"]]
    assert outside == []
    assert state["fontPx"] >= 9.5, "labels too small to read at the first view"
    assert {b["text"] for b in boxes if b["header"]} == set(pages.CONSULTATION_LAYERS)
    assert not [b["text"] for b in boxes if NOT_WORDS.search(b["text"])]


@needs_chromium
def test_consultation_page_screenshot(tmp_path):
    """The picture: 1400x1000, drawn (not blank), the candidate's and the references' colours on it."""
    from PIL import Image

    from hemkg.exports.kinds import BY_NAME, rgb

    path = page_file(tmp_path, CANDIDATE)
    shot = tmp_path / "consultation.png"
    _chromium(["--window-size=1400,1000", f"--screenshot={shot}"], path.resolve().as_uri(), tmp_path / "profile")
    image = Image.open(io.BytesIO(shot.read_bytes())).convert("RGB")
    assert image.size == (1400, 1000)
    colours = image.getcolors(1400 * 1000)
    assert len(colours) > 200  # text, boxes and links, anti-aliased: not a blank page
    present = [c for _, c in colours]
    for kind in ("candidate", "element", "mechanism", "effect", "rule", "reference"):  # each layer's border colour
        wanted = rgb(BY_NAME[kind].colour)
        assert any(sum(abs(a - b) for a, b in zip(c, wanted, strict=True)) < 40 for c in present), kind


@needs_chromium
@pytest.mark.parametrize("name", [ODD_SCOPE, "all", "ontology"])
def test_pages_render_in_chromium(tmp_path, window_chrome, name):
    path = page_file(tmp_path, name)
    text = path.read_text(encoding="utf-8")
    if name == ODD_SCOPE:
        assert "\\u003c/script\\u003e\\u003cb\\u003e" in text
    data = embedded_data(text)
    nodes, _ = expected_graph(name)
    assert {n["id"] for n in data["nodes"]} >= nodes  # every node of the graph is on the page, shown or not
    state, parsed = page_state(path, tmp_path, window_chrome)
    assert parsed.external == []
    assert state["nodes"] == len(data["nodes"]) and state["shownNodes"] == len(shown(page(name)))
    assert overlaps(state["boxes"]) == []
    texts = {b["id"]: b["text"] for b in state["boxes"]}
    if name != "ontology":
        assert texts[HEMKG + "Zn"] == "Zn (zinc)"
    if name == ODD_SCOPE:
        full = {n["id"]: n["label"] for n in data["nodes"]}
        assert full[ODD] == ODD_XML
        assert texts[ODD].replace("\n", " ").startswith('odd "quoted" label: a<b & c>d &lt;kept second line')
    if name == "all":
        assert state["shownNodes"] < 60 and state["shownEdges"] < 150 < state["edges"]


@needs_chromium
def test_overview_expands_a_node_on_click(tmp_path, window_chrome):
    """#expand=IRI does what a click does: the node's neighbours come in, one layer on."""
    path = page_file(tmp_path, "all")
    zn = HEMKG + "Zn"
    state, _ = page_state(path, tmp_path, window_chrome, "#expand=" + quote(zn, safe=""))
    p = page("all")
    near = {e.target if e.source == zn else e.source for e in p.edges
            if zn in (e.source, e.target) and not e.hide}
    near = {n for n in near if not p.nodes[n].hide}
    assert {b["id"] for b in state["boxes"] if not b["header"]} == set(shown(p)) | near
    assert state["selected"] == [zn] and state["edgeLabels"] > 0
    assert REF + "42" not in near and any(p.nodes[n].kind == "statement" for n in near)


@needs_chromium
@pytest.mark.parametrize("name", [CANDIDATE, ODD_SCOPE])
def test_schema_toggle_shows_what_is_hidden(tmp_path, window_chrome, name):
    path = page_file(tmp_path, name)
    state, _ = page_state(path, tmp_path, window_chrome, "#schema")
    data = embedded_data(path.read_text(encoding="utf-8"))
    assert state["schema"] is True
    assert state["shownNodes"] == len(data["nodes"]) and state["shownEdges"] == len(data["edges"])


# ---------------------------------------------------------------- speed


def test_whole_graph_exports_in_a_few_seconds():
    selected = exports.select_scope("all")
    for fmt in exports.FORMATS:
        start = time.perf_counter()
        assert exports.render(fmt, selected)
        assert time.perf_counter() - start < 4, fmt


# ---------------------------------------------------------------- the command


def test_export_stdout_turtle_by_default(runner):
    result = run(runner, "export", "--scope", "term:Zn")
    assert result.exit_code == 0 and result.stderr == ""
    g = rdflib.Graph().parse(data=result.stdout, format="turtle")
    assert isomorphic(g, reference_graph(scope("term:Zn").triples))


def test_export_dash_is_stdout(runner):
    result = run(runner, "export", "--format", "nt", "--scope", "term:ref 57", "-o", "-")
    assert result.exit_code == 0
    assert len(rdflib.Graph().parse(data=result.stdout, format="nt")) == len(scope("term:ref 57").triples)


def test_export_to_file_infers_format_from_suffix(runner, tmp_path):
    target = tmp_path / "zinc.graphml"
    result = run(runner, "export", "--scope", "term:Zn", "-o", str(target))
    assert result.exit_code == 0 and result.stdout == ""
    size = target.stat().st_size
    assert result.stderr == f"wrote {target} (graphml, {size / 1000:.1f} kB, scope term:Zn)\n"  # what, where, how big
    assert nx.read_graphml(target).number_of_nodes() == len(expected_graph("term:Zn")[0])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["zinc.graphml"]  # no temporary file left


def test_export_candidate_with_ion(runner):
    result = run(runner, "export", "--format", "jsonld", "--scope", "candidate:(MgCoNiCuZn)O", "--ion", "Na")
    assert result.exit_code == 0
    g = rdflib.Graph().parse(data=result.stdout, format="json-ld")
    formulas = {str(o) for o in g.objects(None, rdflib.URIRef(HEM + "candidateFormula"))}
    labels = {str(o) for s in g.subjects(rdflib.RDF.type, rdflib.URIRef(HEM + "Consultation"))
              for o in g.objects(s, rdflib.URIRef(SKOS + "prefLabel"))}
    assert formulas == {"(MgCoNiCuZn)O"} and labels == {"consultation on (MgCoNiCuZn)O with Na+"}


def test_export_replaces_existing_file_and_keeps_its_mode(runner, tmp_path):
    target = tmp_path / "graph.ttl"
    target.write_text("old\n", encoding="utf-8")
    target.chmod(0o640)
    result = run(runner, "export", "--scope", "ontology", "-o", str(target))
    assert result.exit_code == 0
    assert len(rdflib.Graph().parse(target, format="turtle")) == len(scope("ontology").triples)
    assert target.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["graph.ttl"]


ERRORS = [
    (["--format", "png"], "unknown format 'png'"),
    (["--scope", "everything"], "unknown scope 'everything'"),
    (["--scope", "term:"], "names no term"),
    (["--scope", "term:unobtainium"], "'unobtainium' is not a term of the paper's knowledge graph"),
    (["--scope", "term:ref 300"], "reference list runs from 1 to"),
    (["--scope", "candidate:Xq2O3"], "formula 'Xq2O3'"),
    (["--scope", "candidate:"], "names no formula"),
]


@pytest.mark.parametrize(("args", "message"), ERRORS)
def test_export_errors_leave_target_untouched(runner, tmp_path, args, message):
    target = tmp_path / "graph.ttl"
    target.write_text("old\n", encoding="utf-8")
    line = assert_one_line_error(run(runner, "export", *args, "-o", str(target)))
    assert message in line
    assert target.read_text(encoding="utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["graph.ttl"]


def test_export_errors_without_output(runner):
    assert "unknown format" in assert_one_line_error(run(runner, "export", "--format", "svg"))
    assert "cannot tell the format" in assert_one_line_error(run(runner, "export", "-o", "graph.png"))


@pytest.mark.parametrize("where", ["missing-folder", "under-a-file", "is-a-folder"])
def test_export_unwritable_target(runner, tmp_path, where):
    blocker = tmp_path / "file.txt"
    blocker.write_text("x", encoding="utf-8")
    target = {"missing-folder": tmp_path / "no" / "graph.ttl", "under-a-file": blocker / "graph.ttl",
              "is-a-folder": tmp_path}[where]
    line = assert_one_line_error(run(runner, "export", "--format", "ttl", "-o", str(target)))
    assert line.startswith("error: cannot write to")
    assert blocker.read_text(encoding="utf-8") == "x"


def test_export_unwritable_folder(runner, tmp_path, monkeypatch):
    """A folder the user may not write to (simulated: the tests run as root, who may write anywhere)."""
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(outputs.tempfile, "mkstemp", refuse)
    target = tmp_path / "graph.ttl"
    target.write_text("old\n", encoding="utf-8")
    line = assert_one_line_error(run(runner, "export", "-o", str(target)))
    assert line == f"error: cannot write to '{target}': Permission denied"
    assert target.read_text(encoding="utf-8") == "old\n"


def test_export_failing_midway_leaves_target_untouched(runner, tmp_path, monkeypatch):
    """A failure while writing removes the temporary file; the old target stays whole."""
    target = tmp_path / "graph.html"
    target.write_text("old\n", encoding="utf-8")

    def broken(fmt, selected):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(exports, "render", broken)
    line = assert_one_line_error(run(runner, "export", "--scope", "term:Zn", "-o", str(target)))
    assert "disk on fire" in line
    assert target.read_text(encoding="utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["graph.html"]


def test_write_atomic_keeps_old_file_when_writer_fails(tmp_path):
    target = tmp_path / "out.nt"
    target.write_bytes(b"old")

    def writer(stream):
        stream.write(b"partial output")
        raise ValueError("stopped half-way")

    with pytest.raises(ValueError, match="half-way"):
        exports.write_atomic(target, writer)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.nt"]
    exports.write_atomic(target, lambda stream: stream.write(b"new"))
    assert target.read_bytes() == b"new"


def test_export_help_names_every_format(runner):
    result = run(runner, "export", "--help")
    assert result.exit_code == 0
    text = re.sub(r"\s+", " ", result.stdout)
    assert all(fmt in text for fmt in exports.FORMATS)
