"""Tests of `hem export`: every format is read back by a real reader.

RDF formats re-parse with rdflib to a graph isomorphic to the scope's triples;
GraphML and GEXF read back through networkx; DOT renders with Graphviz; the
Cytoscape JSON loads into the cytoscape npm package under Node; the HTML page
renders in headless Chromium with one SVG node per graph node. A guideline
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
import json
import os
import re
import shutil
import subprocess
import time
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree

import networkx as nx
import pyoxigraph as ox
import pytest
import rdflib
from conftest import assert_one_line_error, run
from rdflib.compare import isomorphic

from hemkg.exports import formats as exports
from hemkg.system import outputs
from hemkg.graph.store import ENTAILED_GRAPH, HEM, HEMKG, REF, knowledge_graph, to_rdflib_term

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
        "SELECT ?s WHERE { ?s a <%sGuidelineStatement> }" % HEM, use_default_graph_as_union=True)}
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

NODE_SCRIPT = r"""
const cytoscape = require(process.argv[2]);
const data = JSON.parse(require("fs").readFileSync(process.argv[3], "utf8"));
const cy = cytoscape({ elements: data.elements, headless: true });
const dangling = cy.edges().filter(e => e.source().empty() || e.target().empty()).length;
const odd = cy.getElementById(process.argv[4]);
console.log(JSON.stringify({
  nodes: cy.nodes().length, edges: cy.edges().length, dangling: dangling,
  oddLabel: odd.empty() ? null : odd.data("label"), oddCitations: odd.empty() ? null : odd.data("citations"),
  zincDegree: cy.getElementById("https://w3id.org/hemkg/kg/Zn").degree(),
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
    if name == ODD_SCOPE:
        assert (counts["oddLabel"], counts["oddCitations"]) == (ODD_XML, "41, 48")


# ---------------------------------------------------------------- HTML in headless Chromium

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)


class _SvgNodes(HTMLParser):
    """The node groups of the drawn graph, with the text of each."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.nodes: list[dict[str, str]] = []
        self.rendered: str | None = None
        self.external: list[str] = []
        self._in: str | None = None
        self._depth = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "body":
            self.rendered = a.get("data-rendered")
        for attr in ("src", "href"):
            if a.get(attr) and tag in ("script", "link", "img", "iframe"):
                self.external.append(a[attr])
        if tag == "g" and "node" in (a.get("class") or "").split():
            self.nodes.append({"text": "", "title": ""})
            self._depth = 1
        elif self._depth:
            self._depth += 1
            self._in = tag if tag in ("text", "title") else self._in

    def handle_endtag(self, tag):
        if self._depth:
            self._depth -= 1
            self._in = None if tag in ("text", "title") else self._in

    def handle_data(self, data):
        if self._depth and self._in:
            self.nodes[-1][self._in] += data


def chromium_dom(path: Path, tmp_path: Path) -> str:
    profile = tmp_path / "chromium-profile"
    profile.mkdir(exist_ok=True)
    done = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
         "--window-size=1400,900", "--dump-dom", path.resolve().as_uri()],
        capture_output=True, text=True, timeout=180, check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (Debian package chromium; .ci/run installs it)")
@pytest.mark.parametrize("name", [ODD_SCOPE, "all"])
def test_html_renders_in_chromium(tmp_path, name):
    path = export_file(tmp_path, name, "html")
    page = path.read_text(encoding="utf-8")
    assert page.count("</script>") == 2  # the data and the script: no label closes either
    if name == ODD_SCOPE:
        assert "\\u003c/script\\u003e\\u003cb\\u003e" in page
    parsed = _SvgNodes()
    parsed.feed(chromium_dom(path, tmp_path))
    nodes, edges = expected_graph(name)
    assert parsed.external == []  # self-contained: nothing fetched
    assert parsed.rendered == str(len(nodes))
    assert len(parsed.nodes) == len(nodes)
    assert any(n["title"].startswith("zinc\ncation element") for n in parsed.nodes)
    if name == ODD_SCOPE:
        odd = [n for n in parsed.nodes if n["title"].startswith('odd "quoted" label: a<b & c>d &lt;kept')]
        assert len(odd) == 1
        assert odd[0]["title"] == ODD_XML + "\nguideline statement\nrefs 41, 48\nSection 3.1; Fig. 6a"
        assert odd[0]["text"].startswith('odd "quoted" label: a<b & c>d &lt;kept \u21b5 second')


def test_script_json_cannot_close_the_script_element():
    text = exports_html_script_json({"label": "</script><script>alert(1)</script> & \u2028"})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == {"label": "</script><script>alert(1)</script> & \u2028"}


def exports_html_script_json(data):
    from hemkg.exports import html as exports_html

    return exports_html.script_json(data)


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
    assert result.exit_code == 0 and result.stdout == "" and result.stderr == ""
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
