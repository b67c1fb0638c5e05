"""The graph as one self-contained HTML page a researcher can read: layered, labelled in words.

The page draws with cytoscape.js and lays out with dagre (a layered layout),
both inlined from exports/vendor/ (pinned copies: libraries.py, and the
README there), so it is one file that needs no network. Its own script and
style are exports/page/page.js and page.css.

What the page shows depends on the scope:

- candidate:FORMULA - the consultation in layers: the candidate, its
  elements, the mechanisms and roles they take part in, the effects on
  performance those lead to, the rules behind them (by their statements) and the
  references those cite. The PROV-O record underneath (facts, rule
  applications) is on the page but hidden.
- term:X - the term, what links to it and what those link to, in layers by
  distance; rank entries become "ranks N" links from the ordering.
- all, guidelines - an overview (elements, planes and groups, mechanisms);
  a click on a node brings in its neighbours.
- ontology - the class hierarchy.

Everywhere, schema and vocabulary (classes, properties, rdf:type and
subclass links, rank entries, evidence kinds), provenance plumbing and
entailed links that repeat an asserted one are hidden until the reader ticks
"schema and provenance". Labels are words: statements by their text
(shortened; the full text on hover and in the side panel), references as
"[41] X. Liu et al., 2024", elements as "Zn (zinc)".

After each layout the page writes what it shows (each node's on-screen box,
the zoom, the counts) as JSON into <pre id="hem-state">, for tests and for
anyone checking a layout; the URL fragment `#schema`, `#expand=IRI` and
`#select=IRI` (joined with '&') opens it with the toggle on or a node expanded
or selected.
"""

from __future__ import annotations

import html
import json
import re
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hemkg.exports.kinds import BY_NAME, HIDDEN, KINDS, OWL, PROV, RDF, RDFS
from hemkg.exports.libraries import inline_scripts
from hemkg.graph.store import HEM, HEMKG, REF, package_files

if TYPE_CHECKING:
    import networkx

    from hemkg.consultation.consultation import Consultation
    from hemkg.exports.formats import Scope

SKOS = "http://www.w3.org/2004/02/skos/core#"
SKOS_LABEL = SKOS + "prefLabel"
RULES = "https://w3id.org/hemkg/rule/"
# links that are schema, typing or PROV plumbing: hidden until asked
SCHEMA_LINKS = {RDF + "type", RDFS + "subClassOf", RDFS + "subPropertyOf", RDFS + "domain", RDFS + "range",
                RDF + "first", RDF + "rest", HEM + "predicate", HEM + "inConsultation", HEM + "hasRankEntry",
                HEM + "rankedItem", "http://purl.org/dc/terms/source", SKOS + "closeMatch", SKOS + "exactMatch"}
CITING = {HEM + "citesReference", HEM + "justifiedBy"}
SHOWN_FIRST = ("label", "type", "kind", "iri", "citations", "location")
SHORT = {"statement": 100, "rule": 100}  # characters a node shows before "..."; others 64
CONSULTATION_LAYERS = ["candidate", "elements", "mechanisms and roles", "effects on performance",
                       "rules", "references"]
OVERVIEW_LAYERS = ["elements", "planes and element groups", "mechanisms"]


# ---------------------------------------------------------------- the page's graph


@dataclass
class PageNode:
    id: str
    label: str  # the whole label, for hover and the side panel
    text: str  # what the node shows
    kind: str
    type: str = ""
    info: list[tuple[str, str]] = field(default_factory=list)
    layer: int | None = None
    hide: bool = False  # schema or provenance: shown only when asked
    start: bool = True  # shown when the page opens (an overview shows a few, the rest on click)
    classes: str = ""

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "label": self.label, "text": self.text, "kind": self.kind}
        for key, value, default in (("type", self.type, ""), ("info", self.info, []), ("layer", self.layer, None),
                                    ("hide", int(self.hide), 0), ("start", int(self.start), 1),
                                    ("classes", self.classes, "")):
            if value != default:
                out[key] = value
        return out


@dataclass
class PageEdge:
    id: str
    source: str
    target: str
    label: str
    hide: bool = False
    entailed: bool = False
    classes: str = ""
    iri: str = ""  # the predicate, for a link of the graph


@dataclass
class Page:
    title: str
    mode: str  # consultation, term, overview, ontology
    nodes: dict[str, PageNode]
    edges: list[PageEdge]
    layers: list[str] = field(default_factory=list)
    focus: str | None = None

    def as_json(self) -> dict[str, Any]:
        index = {n: i for i, n in enumerate(self.nodes)}
        kinds = {k.name: {"words": k.words, "colour": k.colour, "hidden": k.name in HIDDEN} for k in KINDS}
        return {
            "title": self.title, "mode": self.mode, "layers": self.layers, "focus": self.focus, "kinds": kinds,
            "nodes": [n.as_json() for n in self.nodes.values()],
            "edges": [[e.id, index[e.source], index[e.target], e.label, int(e.hide), int(e.entailed), e.classes]
                      for e in self.edges],
        }


def _words(iri: str, labels: dict[str, str]) -> str:
    """A link's predicate in words: its label, else its local name split ('hasMember' -> 'has member')."""
    if iri in labels:
        return labels[iri]
    local = iri.rstrip("/#").rsplit("/", 1)[-1].rsplit("#", 1)[-1]
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", local).lower()


def shorten(text: str, limit: int) -> str:
    """`text` on one line, cut at a word before `limit` characters with an ellipsis."""
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0] if " " in text[: limit - 1] else text[: limit - 1]
    return cut.rstrip(" ,;:") + "\u2026"


_SYMBOL = re.compile(r"[A-Z][a-z]{0,2}")
_REFERENCE = re.compile(r"\[(\d+)\]\s*(.+?),\s*[^,]+,\s*(\d{4}[a-z]?)\s*$")


def display_text(data: dict[str, Any]) -> str:
    """What a node shows: words, never a bare number or an internal id."""
    label, kind = str(data.get("label", "")), data.get("kind", "other")
    local = str(data.get("iri", "")).removeprefix(HEMKG)
    symbol = data.get("hem:symbol") or (local if _SYMBOL.fullmatch(local) else None)
    if kind == "element" and symbol and symbol != label:
        text = f"{symbol} ({label})"
    elif kind == "reference" and _REFERENCE.match(label):
        number, authors, year = _REFERENCE.match(label).groups()  # type: ignore[union-attr]
        text = f"[{number}] {authors}, {year}"
    elif data.get("type") == "rank entry" and "hem:rank" in data:
        text = f"rank {data['hem:rank']}"
    else:
        text = label
    text = shorten(text, SHORT.get(kind, 64))
    if not re.search(r"[^\W\d_]", text):  # no letter at all: say what it is
        text = f"{data.get('type') or BY_NAME[kind].words} {text}".strip()
    return text


def _info(data: dict[str, Any]) -> list[tuple[str, str]]:
    rows = [("type", data.get("type", "")), ("references", data.get("citations", "")),
            ("in the paper", data.get("location", "")), ("IRI", data.get("iri", ""))]
    rows += [(k, _value_text(v)) for k, v in sorted(data.items()) if k not in SHOWN_FIRST]
    return [(k, v) for k, v in rows if v != ""]


def _value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def page_graph(g: networkx.MultiDiGraph, scope: Scope) -> Page:
    """The page's nodes, links, layers and what shows first, for the scope's kind."""
    from hemkg.exports.formats import parse_scope

    labels = _predicate_labels(scope, {d["iri"] for _, _, d in g.edges(data=True)})
    nodes = {n: PageNode(n, str(d.get("label", n)), display_text(d), d.get("kind", "other"), d.get("type", ""),
                         _info(d), hide=d.get("kind", "other") in HIDDEN)
             for n, d in g.nodes(data=True)}
    asserted_pairs = {frozenset((s, o)) for s, o, d in g.edges(data=True) if not d.get("entailed")}
    # of two nodes linked only by entailed links, the one direction kept (the other repeats it)
    entailed_direction: dict[frozenset[str], tuple[str, str]] = {}
    for s, o, d in sorted(g.edges(data=True), key=lambda x: (x[0], x[1], x[2]["iri"])):
        if d.get("entailed"):
            entailed_direction.setdefault(frozenset((s, o)), (s, o))
    edges = []
    for s, o, key, d in g.edges(keys=True, data=True):
        pair = frozenset((s, o))
        repeats = bool(d.get("entailed")) and (pair in asserted_pairs or entailed_direction[pair] != (s, o))
        hide = (d["iri"] in SCHEMA_LINKS or d["iri"].startswith((OWL, PROV)) or repeats
                or nodes[s].hide or nodes[o].hide)
        edges.append(PageEdge(key, s, o, _words(d["iri"], labels), hide, bool(d.get("entailed")), iri=d["iri"]))
    edges += _rank_links(g, nodes)
    _hide_schema_only(nodes, edges, scope.focus)
    kind, _ = parse_scope(scope.name)
    title = f"hemkg: {scope.name}"
    if scope.consultation is not None and scope.focus in nodes:
        page = Page(title, "consultation", nodes, edges, CONSULTATION_LAYERS, scope.focus)
        _consultation_view(page, g, scope.consultation)
    elif kind == "term" and scope.focus in nodes:
        page = Page(title, "term", nodes, edges, focus=scope.focus)
        _term_layers(page)
    elif kind == "ontology":
        page = Page(title, "ontology", nodes, edges)
        _class_layers(page)
    else:
        page = Page(title, "overview", nodes, edges, OVERVIEW_LAYERS)
        _overview(page)
    return page


def _hide_schema_only(nodes: dict[str, PageNode], edges: list[PageEdge], focus: str | None) -> None:
    """Hide the nodes that are on the page only through hidden links (a property's range, an alignment target)."""
    shown: dict[str, bool] = {}
    for e in edges:
        for n in (e.source, e.target):
            shown[n] = shown.get(n, False) or not e.hide
    for n, visible in shown.items():
        if not visible and n != focus:
            nodes[n].hide = True


def _predicate_labels(scope: Scope, predicates: set[str]) -> dict[str, str]:
    import pyoxigraph as ox

    found = {}
    for p in predicates:
        for q in scope.store.quads_for_pattern(ox.NamedNode(p), ox.NamedNode(SKOS_LABEL), None, None):
            if isinstance(q.object, ox.Literal) and q.object.language in (None, "en"):
                found[p] = q.object.value
    return found


def _rank_links(g: networkx.MultiDiGraph, nodes: dict[str, PageNode]) -> list[PageEdge]:
    """An ordering's rank entries as links from the ordering to each item: "ranks 3"."""
    links: list[PageEdge] = []
    for s, entry, d in g.edges(data=True):
        if d["iri"] != HEM + "hasRankEntry":
            continue
        rank = g.nodes[entry].get("hem:rank")
        for _, item, e in g.out_edges(entry, data=True):
            if e["iri"] == HEM + "rankedItem":
                links.append(PageEdge(f"rank-{entry}-{len(links)}", s, item, f"ranks {rank}" if rank else "ranks",
                                      hide=nodes[s].hide or nodes[item].hide))
    return links


def _bfs_layers(page: Page, roots: list[str]) -> None:
    """Each shown node's layer: its distance from the roots over shown links, in both directions."""
    around: dict[str, set[str]] = defaultdict(set)
    for e in page.edges:
        if not e.hide:
            around[e.source].add(e.target)
            around[e.target].add(e.source)
    distance = {r: 0 for r in roots}
    todo = deque(roots)
    while todo:
        n = todo.popleft()
        for m in sorted(around[n]):
            if m not in distance and not page.nodes[m].hide:
                distance[m] = distance[n] + 1
                todo.append(m)
    far = max(distance.values(), default=0) + 1
    for n, node in page.nodes.items():
        if not node.hide:
            node.layer = distance.get(n, far)


def _term_layers(page: Page) -> None:
    assert page.focus is not None
    _bfs_layers(page, [page.focus])
    depth = max((n.layer for n in page.nodes.values() if n.layer is not None), default=0)
    page.layers = [page.nodes[page.focus].text, "linked to it"] + [f"{k} links away" for k in range(2, depth + 1)]


def _overview(page: Page) -> None:
    """Elements in planes or groups, the planes and groups, the mechanisms: the rest comes on click."""
    groups = {n for n, node in page.nodes.items() if node.kind == "group"}
    grouped = {x for e in page.edges if not e.hide for x in (e.source, e.target)
               if {e.source, e.target} & groups and page.nodes[x].kind == "element"}
    if not grouped:  # guidelines: no membership links, so every element the statements name
        grouped = {n for n, node in page.nodes.items() if node.kind == "element"}
    layer = {"element": 0, "group": 1, "mechanism": 2}
    for n, node in page.nodes.items():
        node.start = (node.kind in ("group", "mechanism") or n in grouped) and not node.hide
        node.layer = layer[node.kind] if node.start else None


def _class_layers(page: Page) -> None:
    """The ontology's classes by depth below their superclasses; its individuals one layer below their class."""
    classes = {e.source for e in page.edges if e.iri == RDF + "type" and e.target == OWL + "Class"}
    classes |= {x for e in page.edges if e.iri == RDFS + "subClassOf" for x in (e.source, e.target)}
    supers: dict[str, set[str]] = defaultdict(set)
    for e in page.edges:
        if e.iri == RDFS + "subClassOf":
            e.hide = False
            supers[e.source].add(e.target)
    for c in classes:
        page.nodes[c].hide = False

    def depth(c: str, seen: frozenset[str] = frozenset()) -> int:
        above = supers[c] - seen - {c}
        return 0 if not above else 1 + max(depth(s, seen | {c}) for s in above)

    for c in classes:
        page.nodes[c].layer = depth(c)
    for e in page.edges:  # an individual of the ontology (a performance property, say) beside its class
        individual = page.nodes[e.source]
        if e.iri == RDF + "type" and e.target in classes and e.target.startswith(HEM) and not individual.hide:
            e.hide = False
            individual.layer = max(individual.layer or 0, (page.nodes[e.target].layer or 0) + 1)
    deepest = max((n.layer or 0 for n in page.nodes.values()), default=0)
    page.layers = ["classes"] + [f"{k} level{'s' if k > 1 else ''} down" for k in range(1, deepest + 1)]


# ---------------------------------------------------------------- a consultation in layers


def _consultation_view(page: Page, g: networkx.MultiDiGraph, c: Consultation) -> None:
    """Candidate -> elements -> mechanisms and roles -> effects on performance -> rules -> references.

    Built from the consultation's own derivations; every node of the view is
    the graph's node where the graph has one (elements, mechanisms, rules,
    statements, references), so the hidden PROV record links to it.
    """
    from hemkg.graph import statements as knowledge
    from hemkg.graph.vocab import vocab

    base = page.focus
    assert base is not None
    view: dict[str, int] = {}
    links: list[PageEdge] = []
    seen_links: set[tuple[str, str]] = set()

    def node(iri: str, layer: int, text: str | None = None, kind: str | None = None, type_: str = "",
             info: list[tuple[str, str]] | None = None, classes: str = "") -> str:
        if iri not in page.nodes:
            label = text or knowledge.label(iri)
            page.nodes[iri] = PageNode(iri, label, shorten(label, SHORT.get(kind or "other", 64)), kind or "other",
                                       type_, info or [])
        n = page.nodes[iri]
        if text is not None:
            n.text = shorten(text, SHORT.get(n.kind, 64))
        if info:
            n.info = info + n.info
        n.classes = classes or n.classes
        view[iri] = layer
        return iri

    def link(source: str, target: str, words: str, classes: str = "", hide: bool = False) -> None:
        if (source, target) not in seen_links:
            seen_links.add((source, target))
            links.append(PageEdge(f"view-{len(links)}", source, target, words, hide=hide, classes=classes))

    r = c.result
    estimate, entropy = c.estimates.get("theoretical_capacity", {}), c.estimates.get("entropy", {})
    facts = [("formula", c.formula.text), ("carrier ion", f"{c.ion}+")]
    if estimate:
        total = estimate.get("total")
        facts.append(("theoretical capacity (accessible reactions; beyond the paper)",
                      "cannot be computed (not charge-balanced)" if total is None
                      else f"{total:.1f} {estimate.get('unit', '')} (conversion {estimate['conversion']:.1f} + "
                           f"alloying {estimate['alloying']:.1f})"))
    if entropy.get("cation_site_R") is not None:
        facts.append(("configurational entropy",
                      f"{entropy['cation_site_R']} R on the cation site ({entropy.get('class')})"))
    candidate = node(base, 0, f"{c.formula.text} with {c.ion}+", info=facts)
    for symbol, amount in c.formula.composition.items():
        element = node(HEMKG + symbol, 1, kind="element", type_="element",
                       info=[("amount", f"{amount:g} per formula unit")])
        page.nodes[element].text = display_text({"label": knowledge.label(element), "kind": "element", "iri": element})
        link(candidate, element, "contains")

    def rule_node(rule_id: str, statement: str) -> str:
        return node(RULES + rule_id, 4, statement, kind="rule", type_="consultation rule")

    def statements_behind(fact: Any, depth: int = 3) -> set[str]:
        """The graph's statements that a fact's premises come from, a few derivation steps back."""
        found: set[str] = set()
        for d in r.derivations.get(fact, []):
            for p in d.premises:
                source = r.sources.get(p)
                if source is not None and source.kind == "kg" and page.nodes.get(source.detail, None) is not None \
                        and page.nodes[source.detail].kind == "statement":
                    found.add(source.detail)
                elif depth > 1 and p[0] != "status":
                    found |= statements_behind(p, depth - 1)
        return found

    mechanism_of: dict[tuple[str, str], str] = {}
    terms = vocab()
    for term in terms.mechanisms:
        m, status = term.name, c.status(term.name)
        mechanism = node(term.iri, 2, f"{term.label}: {status}", kind="mechanism",
                         type_="ion-storage mechanism", classes=f"status-{status}")
        for d in c.derivations("status", m):
            link(mechanism, rule_node(d.rule.id, d.rule.statement), "status from rule")
        for _, found in r.query("mechanism_element", m):
            symbol = str(found)
            mechanism_of[(symbol, m)] = mechanism
            link(HEMKG + symbol, mechanism, "takes part in", "" if status == "accessible" else "not accessible")
            for st in sorted(statements_behind(("mechanism_element", (m, symbol)))):
                # the rule says why; the graph's statements behind it are one click away (side panel, toggle)
                link(mechanism, st, f"{symbol}: statement behind it", hide=True)
    for symbol_, role_ in r.query("role"):
        symbol, role = str(symbol_), str(role_)
        if role in terms.mechanism_names:
            continue
        try:
            label = terms.role(role).label
        except KeyError:  # a role the ontology does not name (yet): the rules' own word
            label = role
        role_node = node(f"{base}/role/{role}", 2, label, kind="mechanism", type_="element role")
        mechanism_of[(symbol, role)] = role_node
        link(HEMKG + symbol, role_node, "acts as")
        for d in r.derivations[("role", (symbol, role))]:
            link(role_node, rule_node(d.rule.id, d.rule.statement), "role from rule")
    for prop_, direction, symbol_ in r.query("effect"):
        prop, symbol = str(prop_), str(symbol_)
        verb = "raises" if direction == "+" else "lowers"
        effect = node(f"{base}/effect/{prop}/{verb}", 3, f"{verb} {knowledge.label(HEMKG + prop)}", kind="effect",
                      type_="effect on performance", classes=f"effect-{verb}")
        for d in r.derivations[("effect", (prop, direction, symbol))]:
            # the effect follows from the element's mechanism (or role) the rule's premises name
            named = [str(p[1][0]) for p in d.premises if p[0] == "mechanism_element"]
            named += [str(p[1][1]) for p in d.premises if p[0] == "role"]
            causes = [mechanism_of[(symbol, m)] for m in named if (symbol, m) in mechanism_of]
            for cause in causes or [HEMKG + symbol]:
                link(cause, effect, verb)
            link(effect, rule_node(d.rule.id, d.rule.statement), "per rule")
    for source, layer in list(view.items()):
        if layer != 4 or source not in g:
            continue
        for _, ref, d in g.out_edges(source, data=True):
            if d["iri"] in CITING and ref.startswith(REF):
                node(ref, 5)
                link(source, ref, "cites")
    for n in page.nodes.values():
        n.layer, n.hide = view.get(n.id), n.id not in view
    for e in page.edges:
        e.hide = True  # the PROV record and the graph's own links: behind the toggle
    page.edges += links


# ---------------------------------------------------------------- the page


def script_json(data: dict) -> str:
    """JSON that is safe inside a <script> element: no '<', '>', '&' or line separators as such."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                         ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escape)
    return text


def _asset(name: str) -> str:
    (found,) = package_files("exports/page", name)
    return found.read_text(encoding="utf-8")


def render(g: networkx.MultiDiGraph, scope: Scope) -> str:
    """The page for the scope's graph `g` (formats.to_networkx) as one HTML document."""
    page = page_graph(g, scope)
    summary = f"{g.number_of_nodes()} nodes, {g.number_of_edges()} links"  # the script says how many it shows
    parts = {
        "TITLE": html.escape(page.title),
        "SUMMARY": html.escape(summary),
        "STYLE": _asset("page.css"),
        "LIBRARIES": inline_scripts(),
        "DATA": script_json(page.as_json()),
        "SCRIPT": _asset("page.js"),
    }
    return re.sub(r"__([A-Z]+)__", lambda m: parts[m[1]], _asset("page.html"))
