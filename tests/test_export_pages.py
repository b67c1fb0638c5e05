"""Tests of the HTML export: pages a researcher can read (issue 14).

The page's graph (exports/html.py) is checked in Python: a consultation in
layers, labels in words, schema and provenance hidden, `all` opening on an
overview. The page itself runs in headless Chromium (Debian package
chromium, installed by .ci/run): it writes what it shows, each node's box on
screen included, into <pre id="hem-state">, which --dump-dom reads back; the
consultation page of (MgCoNiCuZn)O at 1400x1000 must show no two labels
overlapping, all on screen and large enough to read, and its screenshot is
checked as a picture.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import pytest
from test_exports import ODD, ODD_SCOPE, ODD_XML, expected_graph
from test_exports import scope as export_scope

from hemkg.exports import formats as exports
from hemkg.exports import html as pages
from hemkg.exports.libraries import vendored
from hemkg.graph.store import HEMKG, REF, package_files, select

CANDIDATE = "candidate:(MgCoNiCuZn)O"
CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
needs_chromium = pytest.mark.skipif(CHROMIUM is None,
                                    reason="Chromium is not installed (Debian package chromium; .ci/run installs it)")
# what a label must never be: a bare number, an internal id, an IRI or a blank node
NOT_WORDS = re.compile(r"^[\W\d_]*$|stmt-|https?://|^_:|/fact/|/derivation/")


@functools.cache
def scope(name: str) -> exports.Scope:
    """test_exports' scopes, but the candidate with Li (the page tests read its chemistry)."""
    return exports.select_scope(CANDIDATE, "Li") if name == CANDIDATE else export_scope(name)


@functools.cache
def page(name: str) -> pages.Page:
    return pages.page_graph(exports.to_networkx(scope(name)), scope(name))


def export_file(tmp_path: Path, name: str) -> Path:
    path = tmp_path / "page.html"
    path.write_bytes(exports.render("html", scope(name)))
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
    assert {"conversion: active", "alloying: active", "intercalation: active", "space charge: active",
            "inactive stabilizer", "anion"} == by_layer[2]
    assert {"lowers cycling stability", "raises cycling stability", "raises specific capacity"} <= by_layer[3]
    assert {nodes[n].kind for n in nodes if nodes[n].layer == 4} == {"rule"}
    assert {nodes[n].kind for n in nodes if nodes[n].layer == 5} == {"reference"}
    assert sorted(by_layer) == [0, 1, 2, 3, 4, 5]
    links = shown_links(p)
    assert all(nodes[e.source].layer < nodes[e.target].layer for e in links)  # every link runs forward
    text = {n: node.text for n, node in nodes.items()}
    pairs = {(text[e.source], text[e.target]) for e in links}
    assert {("Zn (zinc)", "conversion: active"), ("Zn (zinc)", "alloying: active"),
            ("Mg (magnesium)", "inactive stabilizer"), ("inactive stabilizer", "raises cycling stability"),
            ("alloying: active", "lowers cycling stability")} <= pairs
    # every reference shown is cited by a rule shown beside it
    assert all(any(e.target == n and nodes[e.source].kind == "rule" for e in links)
               for n, node in nodes.items() if node.kind == "reference")


def test_consultation_page_hides_the_prov_record():
    p = page(CANDIDATE)
    kinds = {node.kind for node in p.nodes.values() if node.hide}
    assert {"provenance", "schema"} <= kinds
    assert all(node.hide for node in p.nodes.values() if node.kind in ("provenance", "schema"))
    graph_links = {k for *_, k in exports.to_networkx(scope(CANDIDATE)).edges(keys=True)}
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
    text = export_file(tmp_path, CANDIDATE).read_text(encoding="utf-8")
    for lib in vendored().values():
        assert f"/*! {lib.package} {lib.version}\n" in text
    assert "sourceMappingURL" not in text
    assert text.count("</script>") == 2 + len(vendored())  # libraries, data, script: no label closes one
    assert len(text.encode("utf-8")) < 1_000_000  # the consultation page: about 0.8 MB, 0.5 MB of it the libraries


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
    path = export_file(tmp_path, CANDIDATE)
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

    path = export_file(tmp_path, CANDIDATE)
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
    path = export_file(tmp_path, name)
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
    path = export_file(tmp_path, "all")
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
    path = export_file(tmp_path, name)
    state, _ = page_state(path, tmp_path, window_chrome, "#schema")
    data = embedded_data(path.read_text(encoding="utf-8"))
    assert state["schema"] is True
    assert state["shownNodes"] == len(data["nodes"]) and state["shownEdges"] == len(data["edges"])

