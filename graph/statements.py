"""Read the knowledge graph into plain Python objects: statements, labels, terms.

One SPARQL pass over the packaged graph gives every guideline statement with
its fields; answers (describe, later consultations) filter these in Python.
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from hemkg.errors import UnknownTerm
from hemkg.graph.diskcache import disk_cached
from hemkg.graph.store import HEM, HEMKG, REF, select

SKOS = "http://www.w3.org/2004/02/skos/core#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


@dataclass
class Statement:
    """One guideline statement of the paper, as recorded in the graph."""

    iri: str
    label: str = ""
    kinds: set[str] = field(default_factory=set)
    subjects: list[str] = field(default_factory=list)
    predicate: str | None = None
    objects: list[str] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)
    direction: str | None = None  # hem:increase / hem:decrease IRI
    references: list[int] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)
    equations: list[str] = field(default_factory=list)
    evidence: str | None = None
    notes: list[str] = field(default_factory=list)
    scope_notes: list[str] = field(default_factory=list)
    observed_in: list[str] = field(default_factory=list)
    observed_taking_part: bool | None = None
    reports_in_hems: list[str] = field(default_factory=list)  # mechanisms the paper reports in HEM anodes in general
    not_shown_in_hems: list[str] = field(default_factory=list)  # mechanisms the paper says HEMs have not yet shown
    applies_to_ion: list[str] = field(default_factory=list)
    values: list[str] = field(default_factory=list)
    rests_on_paper_alone: bool = False
    ordering_of: str | None = None
    ordering_text: str | None = None
    ranked: list[tuple[int, str]] = field(default_factory=list)
    reversibility: str | None = None  # hem:reversible, hem:partlyReversible or hem:irreversible (reported examples)
    qualified_by: list[str] = field(default_factory=list)  # statements that hedge this one ("to a certain extent")

    @property
    def reversibility_label(self) -> str | None:
        """The reversibility in words ("only partly reversible"), where the statement records one."""
        return label(self.reversibility) if self.reversibility else None

    @property
    def related(self) -> set[str]:
        """Every term the statement is about, in any role."""
        return {
            *self.subjects, *self.objects, *self.mentions, *self.observed_in,
            *self.applies_to_ion, *(item for _, item in self.ranked),
        }

    @property
    def location(self) -> str:
        parts = [f"Section {', '.join(self.sections)}" if self.sections else ""]
        parts += self.tables + self.figures + self.equations
        return "; ".join(p for p in parts if p)


_FIELDS = {
    SKOS + "prefLabel": "label", HEM + "subject": "subjects", HEM + "predicate": "predicate",
    HEM + "object": "objects", HEM + "mentions": "mentions", HEM + "effectDirection": "direction",
    HEM + "inSection": "sections", HEM + "inTable": "tables", HEM + "inFigure": "figures",
    HEM + "inEquation": "equations", HEM + "evidenceKind": "evidence", SKOS + "editorialNote": "notes",
    SKOS + "scopeNote": "scope_notes", HEM + "observedIn": "observed_in",
    HEM + "appliesToIon": "applies_to_ion", HEM + "hasReportedValue": "values",
    HEM + "orderingOf": "ordering_of", HEM + "orderingText": "ordering_text",
    HEM + "reportsMechanismInHems": "reports_in_hems", HEM + "notShownInHems": "not_shown_in_hems",
    HEM + "reversibility": "reversibility", HEM + "qualifiedBy": "qualified_by",
}


@disk_cached
def statements() -> dict[str, Statement]:
    """Every guideline statement, keyed by IRI."""
    found: dict[str, Statement] = {}
    rows = select(
        """SELECT ?st ?p ?o WHERE {
             GRAPH <https://w3id.org/hemkg/graph/asserted> { ?st ?p ?o }
             ?st a hem:GuidelineStatement }"""
    )
    for row in rows:
        st = found.setdefault(row["st"], Statement(row["st"]))
        p, o = row["p"], row["o"]
        if p == RDF_TYPE:
            st.kinds.add(o)
        elif p == HEM + "citesReference":
            st.references.append(int(o.removeprefix(REF)))
        elif p == HEM + "restsOnPaperAlone":
            st.rests_on_paper_alone = o == "true"
        elif p == HEM + "observedTakingPart":
            st.observed_taking_part = o == "true"
        elif p in _FIELDS:
            name = _FIELDS[p]
            if isinstance(getattr(st, name), list):
                getattr(st, name).append(o)
            else:
                setattr(st, name, o)
    for row in select(
        "SELECT ?st ?rank ?item WHERE { ?st hem:hasRankEntry ?e . ?e hem:rank ?rank ; hem:rankedItem ?item }"
    ):
        found[row["st"]].ranked.append((int(row["rank"]), row["item"]))
    for st in found.values():
        st.references.sort()
        st.ranked.sort()
        for name in ("sections", "tables", "figures", "equations", "subjects", "objects", "mentions"):
            getattr(st, name).sort()
    return found


@disk_cached
def labels() -> dict[str, str]:
    """skos:prefLabel of every labelled node."""
    return {row["x"]: row["l"] for row in select("SELECT ?x ?l WHERE { ?x skos:prefLabel ?l }")}


def label(iri: str) -> str:
    return labels().get(iri) or iri.rsplit("/", 1)[-1].rsplit("#", 1)[-1]


@disk_cached
def types() -> dict[str, frozenset[str]]:
    """The (entailed) classes of every typed node."""
    acc: dict[str, set[str]] = defaultdict(set)
    for row in select("SELECT ?x ?c WHERE { ?x a ?c }"):
        acc[row["x"]].add(row["c"])
    return {k: frozenset(v) for k, v in acc.items()}


def is_a(iri: str, cls: str) -> bool:
    return HEM + cls in types().get(iri, frozenset())


@disk_cached
def group_mechanisms() -> dict[str, set[str]]:
    """Element group -> the mechanisms it enables (Plane A -> conversion, ...)."""
    acc: dict[str, set[str]] = defaultdict(set)
    for row in select("SELECT ?g ?m WHERE { ?g hem:enablesMechanism ?m }"):
        acc[row["g"]].add(row["m"])
    return acc


@disk_cached
def memberships() -> dict[str, set[str]]:
    """Element -> the groups it is a member of."""
    acc: dict[str, set[str]] = defaultdict(set)
    for row in select("SELECT ?e ?g WHERE { ?e hem:memberOf ?g }"):
        acc[row["e"]].add(row["g"])
    return acc


@disk_cached
def references() -> dict[int, dict[str, Any]]:
    """Reference number -> its label, citation text, any notes (str) and the numbers it duplicates (list)."""
    found: dict[int, dict[str, Any]] = {}
    for row in select(
        """SELECT ?n ?label ?citation ?duplicate ?slip ?note WHERE {
             ?r hem:referenceNumber ?n ; skos:prefLabel ?label ; dcterms:bibliographicCitation ?citation .
             OPTIONAL { ?r hem:duplicateOf ?d . ?d hem:referenceNumber ?duplicate }
             OPTIONAL { ?r hem:citationSlip ?slip }
             OPTIONAL { ?r skos:editorialNote ?note } }"""
    ):
        entry = found.setdefault(int(row["n"]), {"label": row["label"], "citation": row["citation"]})
        if "duplicate" in row:
            entry.setdefault("duplicates", [])
            if int(row["duplicate"]) not in entry["duplicates"]:
                entry["duplicates"].append(int(row["duplicate"]))
        for key in ("slip", "note"):
            if key in row:
                entry[key] = row[key]
    return found


@disk_cached
def paper() -> dict[str, str]:
    """The perspective itself (kg/paper.ttl): its DOI, full citation, label ('Huang et al., ...') and the short
    form answers cite it by ('Energy Environ. Sci. 2025, 18, 10286')."""
    row = select("SELECT ?label ?citation ?doi ?j ?y ?v ?p WHERE { hemkg:paper skos:prefLabel ?label ; "
                 "dcterms:bibliographicCitation ?citation ; bibo:doi ?doi ; hem:journal ?j ; dcterms:issued ?y ; "
                 "bibo:volume ?v ; bibo:pages ?p }")[0]
    return {"doi": row["doi"], "citation": row["citation"], "label": row["label"],
            "short": f"{row['j']} {row['y']}, {row['v']}, {row['p']}"}


# ---------------------------------------------------------------- term lookup


_REF_PATTERN = re.compile(r"^\s*(?:ref(?:erence)?\.?\s*:?\s*|\[)?\s*(\d{1,3})\s*\]?\s*$", re.IGNORECASE)


def _normalise(text: str) -> str:
    return re.sub(r"[\s_\-]+", " ", text.strip().lower())


@disk_cached
def _names() -> dict[str, dict[str, str]]:
    """Lookup tables: exact symbols and formulas, and normalised names, to IRIs."""
    symbols = {row["s"]: row["x"] for row in select("SELECT ?x ?s WHERE { ?x hem:symbol ?s }")}
    formulas: dict[str, str] = {}
    # where several materials share a formula (a morphology variant), the one labelled by it wins
    for row in select("""SELECT ?x ?f ?exact WHERE { ?x a hem:Material ; hem:formula ?f ; skos:prefLabel ?l
                          BIND (STR(?l) = ?f AS ?exact) } ORDER BY DESC(?exact) ?x"""):
        formulas.setdefault(row["f"].replace(" ", ""), row["x"])
    names: dict[str, str] = {}
    for row in select(
        """SELECT ?x ?name WHERE {
             ?x a ?c . FILTER (STRSTARTS(STR(?x), STR(hemkg:)))
             FILTER NOT EXISTS { ?x a ?excluded .
                                 VALUES ?excluded { hem:GuidelineStatement hem:ReportedValue bibo:Document } }
             { ?x skos:prefLabel ?name } UNION { ?x skos:altLabel ?name } }"""
    ):
        names.setdefault(_normalise(row["name"]), row["x"])
    for iri in list(types()):
        if iri.startswith(HEMKG) and not iri.startswith(HEMKG + "stmt-") and not iri.startswith(HEMKG + "value-"):
            names.setdefault(_normalise(iri.removeprefix(HEMKG)), iri)
    return {"symbols": symbols, "formulas": formulas, "names": names}


def resolve(text: str) -> str:
    """The IRI a user's word names: a symbol, formula, label, or reference number.

    Raises UnknownTerm with close matches when nothing matches.
    """
    text = text.strip()
    for prefix, namespace in (("hemkg:", HEMKG), ("ref:", REF)):  # the ids answers print
        if text.startswith(prefix) and text[len(prefix):] and namespace + text[len(prefix):] in types():
            return namespace + text[len(prefix):]
    tables = _names()
    ref = _REF_PATTERN.match(text)
    if ref:
        number = int(ref.group(1))
        if number in references():
            return f"{REF}{number}"
        raise UnknownTerm(text, [], f"the paper's reference list runs from 1 to {len(references())}")
    if text in tables["symbols"]:
        return tables["symbols"][text]
    if text.replace(" ", "") in tables["formulas"]:
        return tables["formulas"][text.replace(" ", "")]
    key = _normalise(text)
    if key in tables["names"]:
        return tables["names"][key]
    if key.rstrip("+") in tables["names"]:  # "Li+" written without the label's spacing
        return tables["names"][key.rstrip("+")]
    containing = {iri for name, iri in tables["names"].items() if len(key) >= 4 and key in name}
    if len(containing) == 1:  # "defect sites" -> "increased defect sites"
        return containing.pop()
    candidates = dict.fromkeys([*tables["symbols"], *tables["formulas"], *tables["names"]])  # each once, in order
    close: list[str] = []
    for c in [*difflib.get_close_matches(text, candidates, n=5, cutoff=0.6),
              *difflib.get_close_matches(key, candidates, n=5, cutoff=0.6)]:
        if c.lower() not in {x.lower() for x in close}:
            close.append(c)
    raise UnknownTerm(text, close[:5])
