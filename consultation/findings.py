"""Findings for the literature library, read from a file and checked before anything is written.

The library (hemkg.library) reads the file and runs the SHACL shapes; what
needs the formula parser is checked here, one layer up: that each formula
reads, and that the element a finding names is in its formula. Every problem
carries where it is (a CSV line, or the node of an RDF file) and what to fix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from hemkg.consultation.formula import parse_formula
from hemkg.errors import FormulaError
from hemkg.library.findings import (
    Contribution,
    Description,
    Problem,
    article_triples,
    finding_triples,
    findings_in,
    group,
    read_csv,
    term,
)
from hemkg.library.nanopub import Nanopub, nanopubs_in
from hemkg.library.shapes import validate
from hemkg.library.vocabulary import HEMKG_ELEMENT, NP, RDF_TYPE, article_iri

RDF_FORMATS = {".ttl": "turtle", ".trig": "trig", ".nq": "n-quads", ".nt": "n-triples", ".jsonld": "json-ld"}


@dataclass
class Batch:
    """What a file holds: contributions (CSV, or Turtle of findings) or nanopublications (TriG export)."""

    contributions: list[Contribution] = field(default_factory=list)
    nanopubs: list[Nanopub] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def findings(self) -> int:
        return sum(len(c.findings) for c in self.contributions) + sum(
            len(n.contribution.findings) for n in self.nanopubs if n.contribution)


def read(path: Path) -> Batch:
    """Read and check every finding of a CSV, Turtle, TriG, N-Quads or JSON-LD file."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        batch = _read_csv(path)
    elif suffix in RDF_FORMATS:
        batch = _read_rdf(path, suffix)
    else:
        return Batch(problems=[Problem(path.name, f"has the suffix '{path.suffix}': give a .csv file (the template "
                                       "of hem evidence template), or Turtle (.ttl), TriG (.trig), N-Quads (.nq) "
                                       "or JSON-LD (.jsonld)")])
    contributions = batch.contributions + [n.contribution for n in batch.nanopubs if n.contribution]
    batch.problems += formula_problems(contributions)
    return batch


def formula_problems(contributions: list[Contribution]) -> list[Problem]:
    """Each formula must read, and each finding's element must be in its formula."""
    problems = []
    for c in contributions:
        if not c.formula:
            continue  # the shapes report a material without a formula
        try:
            composition = parse_formula(c.formula).composition
        except FormulaError as err:
            problems.append(Problem(c.where, f"formula '{c.formula}': {err}"))
            continue
        for f in c.findings:
            symbol = (f.element or "").removeprefix(HEMKG_ELEMENT)
            if f.element and symbol not in composition:
                problems.append(Problem(f.where, f"element {symbol} is not in the formula {c.formula}: "
                                        "name an element of the material, or fix the formula"))
    return problems


def _read_csv(path: Path) -> Batch:
    contributions, problems = read_csv(path)
    if problems:  # the rows' own problems first: the shapes would repeat them
        return Batch(contributions, problems=problems)
    import pyoxigraph as ox

    where: dict[str, str] = {}
    triples = []
    for number, c in enumerate(contributions):
        base = f"urn:hemkg:draft:{number}"  # the assertion and the paper as they will be written, under a draft IRI
        where[article_iri(c.doi)] = c.where
        where[base + "#material"] = c.where
        where.update({f"{base}#finding-{i}": f.where for i, f in enumerate(c.findings, 1)})
        triples += [ox.Triple(ox.NamedNode(s), ox.NamedNode(p), term(o))
                    for s, p, o in (*finding_triples(c, base), *article_triples(c))]
    problems = [Problem(where.get(v.focus, f"<{v.focus}>"), v.message) for v in validate(triples)]
    return Batch(contributions, problems=_sorted(problems))


def _read_rdf(path: Path, suffix: str) -> Batch:
    import pyoxigraph as ox

    data = ox.Store()
    try:
        data.load(path=str(path), format=ox.RdfFormat.from_media_type(_MEDIA[suffix]))
    except (SyntaxError, ValueError) as err:
        return Batch(problems=[Problem(path.name, f"is not valid {RDF_FORMATS[suffix]}: {err}")])
    if any(data.quads_for_pattern(None, ox.NamedNode(RDF_TYPE), ox.NamedNode(NP + "Nanopublication"))):
        nanopubs, messages = nanopubs_in(data)
        problems = [Problem(path.name, m) for m in messages]
        named = {g for n in nanopubs for g in (n.graph("assertion"), n.graph("provenance"))}
        quads = [q for q in data if isinstance(q.graph_name, ox.NamedNode) and q.graph_name.value in named]
        where: dict[str, str] = {}
        for n in nanopubs:
            for q in n.quads:
                node = str(getattr(q.subject, "value", q.subject))
                where.setdefault(node, f"nanopublication <{n.iri}>, node <{node}>")
        problems += [Problem(where.get(v.focus, f"node <{v.focus}>"), v.message) for v in validate(quads)]
        return Batch(nanopubs=nanopubs, problems=_sorted(problems))
    quads = list(data)
    singles = [c for _, c in findings_in(Description(quads))]
    if not singles:
        return Batch(problems=[Problem(path.name, "holds no hem:Finding: describe each finding with the ontology's "
                                       "terms (see hem evidence export of a library for an example)")])
    problems = [Problem(f"node <{v.focus}>", v.message) for v in validate(quads)]
    return Batch(group(singles), problems=_sorted(problems))


_MEDIA = {".ttl": "text/turtle", ".trig": "application/trig", ".nq": "application/n-quads",
          ".nt": "application/n-triples", ".jsonld": "application/ld+json"}


def _sorted(problems: list[Problem]) -> list[Problem]:
    def order(p: Problem) -> tuple[int, str]:
        head = p.where.split(":")[0]
        return (int(head.removeprefix("line ")) if head.startswith("line ") and head[5:].isdigit() else 0, str(p))
    return sorted(set(problems), key=order)
