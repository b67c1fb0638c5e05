"""Findings and contributions: the CSV template, and findings to and from RDF.

A finding is one row of the template; the rows with the same DOI and formula
are one contribution, which the library keeps as one nanopublication. Values
are kept as the ontology's IRIs (hem:mechanismObserved, hemkg:conversion,
hemkg:Li-ion ...), numbers as Decimal so that they round-trip exactly.

Reading checks what the file's syntax decides (columns, the words of the
fixed vocabularies, numbers, DOI syntax); what a finding must hold is decided
by the SHACL shapes (library/shapes.py), and whether its formula parses by
consultation/findings.py.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import io
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, fields
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hemkg.graph.store import HEM
from hemkg.library.vocabulary import (
    BIBO,
    DCTERMS,
    DOI_PATTERN,
    RDF_TYPE,
    RDFS_COMMENT,
    XSD,
    Vocabulary,
    article_iri,
    normalise_doi,
    vocabulary,
)

if TYPE_CHECKING:
    import pyoxigraph

COLUMNS = ("doi", "title", "year", "formula", "ion", "electrode", "finding", "mechanism", "element", "role",
           "evidence_level", "quote", "capacity_mAh_g", "current_A_g", "cycles", "retention_pct", "note")
REQUIRED_COLUMNS = ("doi", "formula", "ion", "electrode", "finding", "evidence_level", "quote")
MAX_TEXT = 5000  # characters of a quote, title or note

# The template's example: a real finding (examples/findings.csv holds it with the others).
EXAMPLE = {
    "doi": "10.1039/d4ee01329h",
    "title": "Enhancing lithium storage rate and durability in sphalerite GeP by engineering configurational entropy",
    "year": "2024", "formula": "ZnGeSiP3", "ion": "Li", "electrode": "anode", "finding": "mechanism_observed",
    "mechanism": "intercalation", "element": "", "role": "", "evidence_level": "abstract",
    "quote": ("confirm the reversible storage of Li-ions within ZnGeSiP3 via intercalation and subsequent "
              "conversion reactions"),
    "capacity_mAh_g": "", "current_A_g": "", "cycles": "", "retention_pct": "", "note": "",
}


@dataclass(frozen=True)
class Problem:
    """One thing to fix in the input, where it is ('line 4', or the node of an RDF file) and how."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass(frozen=True)
class Finding:
    """One finding; IRIs for the vocabulary columns. `where` (not compared) says where it was read."""

    kind: str | None
    ion: str | None
    electrode: str | None
    evidence_level: str | None
    quote: str | None
    mechanism: str | None = None
    element: str | None = None
    role: str | None = None
    capacity_mAh_g: Decimal | None = None
    current_A_g: Decimal | None = None
    cycles: int | None = None
    retention_pct: Decimal | None = None
    note: str | None = None
    where: str = field(default="", compare=False)

    def row(self, vocab: Vocabulary) -> dict[str, str]:
        """The finding's columns of the CSV template, as words."""
        def text(attr: str) -> str:
            value = getattr(self, attr)
            if value is None:
                return ""
            if isinstance(value, Decimal):
                return decimal_text(value)
            return (vocab.word(value) or value) if attr in _VOCABULARY_ATTRIBUTES else str(value)

        return {name: text(attr) for name, attr in _FINDING_COLUMNS.items()}


_FINDING_COLUMNS = {"finding": "kind", "ion": "ion", "electrode": "electrode", "mechanism": "mechanism",
                    "element": "element", "role": "role", "evidence_level": "evidence_level", "quote": "quote",
                    "capacity_mAh_g": "capacity_mAh_g", "current_A_g": "current_A_g", "cycles": "cycles",
                    "retention_pct": "retention_pct", "note": "note"}
_VOCABULARY_ATTRIBUTES = ("kind", "ion", "electrode", "mechanism", "element", "role", "evidence_level")


@dataclass(frozen=True)
class Contribution:
    """The findings of one paper about one material: the unit the library adds, supersedes and retracts."""

    doi: str
    formula: str
    title: str | None
    year: int | None
    findings: tuple[Finding, ...]
    where: str = field(default="", compare=False)

    @property
    def key(self) -> str:
        """A stable id of (DOI, formula): every version of this contribution shares it."""
        return hashlib.sha256(f"{self.doi}\n{self.formula}".encode()).hexdigest()[:16]

    def same_as(self, other: Contribution) -> bool:
        """The same paper, material and findings, in any order (adding it again changes nothing)."""
        return ((self.doi, self.formula, self.title, self.year) == (other.doi, other.formula, other.title, other.year)
                and Counter(self.findings) == Counter(other.findings))

    def canonical(self) -> str:
        """A text that differs exactly when the contribution's content does (for nanopublication ids)."""
        rows = sorted(repr(tuple(getattr(f, a.name) for a in fields(Finding) if a.compare)) for f in self.findings)
        return "\n".join([self.doi, self.formula, self.title or "", str(self.year or ""), *rows])


def decimal_text(value: Decimal) -> str:
    """The plain lexical form of a number: Decimal('1310.0') -> '1310'."""
    text = format(value.normalize(), "f")
    return text


# --------------------------------------------------------------------------- the CSV template


def template() -> str:
    """The template's header and one example row, as CSV."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerow(EXAMPLE)
    return out.getvalue()


def read_csv(path: Path) -> tuple[list[Contribution], list[Problem]]:
    """The contributions of a CSV file, and every problem its syntax has (line numbers from 1, the header's)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        return [], [Problem(path.name, f"is not UTF-8 text (byte {err.start}): save it as CSV UTF-8")]
    return parse_csv(text)


def parse_csv(text: str) -> tuple[list[Contribution], list[Problem]]:
    first = text.split("\n", 1)[0]
    delimiter = "," if "," in first or not (";" in first or "\t" in first) else (";" if ";" in first else "\t")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, skipinitialspace=True)
    try:
        header = next(reader)
    except StopIteration:
        return [], [Problem("line 1", "the file is empty: start it with the template's header (hem evidence template)")]
    except csv.Error as err:
        return [], [Problem("line 1", f"is not CSV ({err})")]
    names = [h.strip() for h in header]
    problems = _check_header(names)
    if problems:
        return [], problems
    vocab = vocabulary()
    rows: list[tuple[int, dict[str, str]]] = []
    line = 1
    try:
        for record in reader:
            start, line = line + 1, reader.line_num
            if not any(v.strip() for v in record) or record[0].lstrip().startswith("#"):
                continue
            if len(record) > len(names):
                problems.append(Problem(f"line {start}", f"has {len(record)} values for {len(names)} columns: "
                                        "quote any value that holds a comma (\"like, this\")"))
                continue
            rows.append((start, {n: (record[i].strip() if i < len(record) else "") for i, n in enumerate(names)}))
    except csv.Error as err:
        problems.append(Problem(f"line {line + 1}", f"cannot be read as CSV ({err}): check its quotes"))
        return [], problems
    if not rows and not problems:
        problems.append(Problem("line 2", "the file has a header but no finding: add one row per finding"))
    groups: dict[tuple[str, str], list[tuple[int, dict[str, str], Finding]]] = {}
    for start, values in rows:
        where = f"line {start}"
        finding, row_problems = _finding_from_row(values, vocab, where)
        problems += row_problems
        doi, formula = normalise_doi(values.get("doi", "")), " ".join(values.get("formula", "").split())
        if doi and formula and finding is not None:
            groups.setdefault((doi, formula), []).append((start, values, finding))
    contributions = []
    for (doi, formula), members in groups.items():
        title, year, group_problems = _shared_fields(members)
        problems += group_problems
        contributions.append(Contribution(doi, formula, title, year, tuple(f for _, _, f in members),
                                          where=f"line {members[0][0]}"))
    return contributions, problems


def _check_header(names: list[str]) -> list[Problem]:
    problems = []
    for name in names:
        if name not in COLUMNS:
            close = difflib.get_close_matches(name, COLUMNS, n=1)
            problems.append(Problem("line 1", f"column '{name}' is not a column of the template"
                                    + (f": did you mean '{close[0]}'?" if close
                                       else ": hem evidence template shows them")))
    duplicated = sorted({n for n in names if names.count(n) > 1})
    problems += [Problem("line 1", f"column '{n}' appears twice: keep one") for n in duplicated]
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        problems.append(Problem("line 1", f"the header lacks the column(s) {', '.join(missing)}: "
                                "start the file with the template's header (hem evidence template)"))
    return problems


def _choose(column: str, text: str, table: dict[str, str], where: str, problems: list[Problem],
            normalise=lambda t: t.lower().replace("-", "_").replace(" ", "_")) -> str | None:
    """The IRI of a word of a fixed vocabulary, or None (and a problem naming the choices) if it is not one."""
    if not text:
        return None
    word = normalise(text)
    if word in table:
        return table[word]
    close = difflib.get_close_matches(word, table, n=1, cutoff=0.6)
    problems.append(Problem(where, f"{column} '{text}' is not one of {', '.join(table)}"
                            + (f": did you mean {close[0]}?" if close else "")))
    return None


def _ion_word(text: str) -> str:
    word = text.strip().removesuffix("+").removesuffix("-ion").removesuffix(" ion").strip()
    return word[:1].upper() + word[1:].lower()


def _element_word(text: str) -> str:
    return text[:1].upper() + text[1:].lower()


def _number(column: str, text: str, where: str, problems: list[Problem], integer: bool = False) -> Decimal | None:
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        hint = "write it without thousands separators or units, e.g. 1310" if "," in text or " " in text else \
            "write a plain number, e.g. 1310 or 0.5"
        problems.append(Problem(where, f"{column} '{text}' is not a number: {hint}"))
        return None
    if not value.is_finite():
        problems.append(Problem(where, f"{column} '{text}' is not a finite number: give the value the paper reports"))
        return None
    if integer and value != value.to_integral_value():
        problems.append(Problem(where, f"{column} '{text}' is not a whole number: give the number of cycles"))
        return None
    return value


def _finding_from_row(values: dict[str, str], vocab: Vocabulary, where: str) -> tuple[Finding | None, list[Problem]]:
    problems: list[Problem] = []
    raw_doi = values.get("doi", "")
    if not raw_doi:
        problems.append(Problem(where, "doi is empty: give the paper's DOI, e.g. 10.1039/d4ee01329h"))
    elif not DOI_PATTERN.match(normalise_doi(raw_doi)):
        problems.append(Problem(where, f"doi '{raw_doi}' is not a DOI: write it as 10.NNNN/suffix, "
                                "e.g. 10.1039/d4ee01329h"))
    if not values.get("formula"):
        problems.append(Problem(where, "formula is empty: give the material's composition, e.g. ZnGeSiP3"))
    year = values.get("year", "")
    if year and not (year.isdigit() and len(year) == 4):
        problems.append(Problem(where, f"year '{year}' is not a year: give the four digits of the publication year"))
    for column in ("title", "quote", "note"):
        if len(values.get(column, "")) > MAX_TEXT:
            problems.append(Problem(where, f"{column} is {len(values[column])} characters long, more than {MAX_TEXT}: "
                                    "quote only the sentence the finding rests on"))
    element_text = values.get("element", "")
    element = None
    if element_text:
        element = vocab.elements.get(_element_word(element_text)) if element_text.isalpha() else None
        if element is None:
            problems.append(Problem(where, f"element '{element_text}' is not an element symbol: "
                                    "write it as Zn, Fe, Si ..."))
    finding = Finding(
        kind=_choose("finding", values.get("finding", ""), vocab.kinds, where, problems),
        ion=_choose("ion", values.get("ion", ""), vocab.ions, where, problems, normalise=_ion_word),
        electrode=_choose("electrode", values.get("electrode", ""), vocab.electrodes, where, problems),
        evidence_level=_choose("evidence_level", values.get("evidence_level", ""), vocab.levels, where, problems),
        quote=values.get("quote") or None,
        mechanism=_choose("mechanism", values.get("mechanism", ""), vocab.mechanisms, where, problems),
        element=element,
        role=_choose("role", values.get("role", ""), vocab.roles, where, problems),
        capacity_mAh_g=_number("capacity_mAh_g", values.get("capacity_mAh_g", ""), where, problems),
        current_A_g=_number("current_A_g", values.get("current_A_g", ""), where, problems),
        cycles=_int(_number("cycles", values.get("cycles", ""), where, problems, integer=True)),
        retention_pct=_number("retention_pct", values.get("retention_pct", ""), where, problems),
        note=values.get("note") or None,
        where=where,
    )
    return (None if problems else finding), problems


def _int(value: Decimal | None) -> int | None:
    return None if value is None else int(value)


def _shared_fields(members: list[tuple[int, dict[str, str], Finding]]) -> tuple[str | None, int | None, list[Problem]]:
    """The title and year of a contribution: given on one row or more, the same wherever given."""
    problems = []
    chosen: dict[str, tuple[int, str]] = {}
    for start, values, _ in members:
        for column in ("title", "year"):
            value = " ".join(values.get(column, "").split())
            if not value:
                continue
            if column in chosen and chosen[column][1] != value:
                problems.append(Problem(f"line {start}", f"{column} differs from line {chosen[column][0]}'s for the "
                                        "same doi and formula: give one contribution one " + column))
            chosen.setdefault(column, (start, value))
    year = chosen.get("year", (0, ""))[1]
    return chosen.get("title", (0, None))[1], int(year) if year.isdigit() else None, problems


# --------------------------------------------------------------------------- findings as RDF


def finding_triples(contribution: Contribution, base: str) -> Iterator[tuple[str, str, object]]:
    """(subject, predicate, object) of the assertion: findings `base#finding-N` and the material `base#material`.

    Objects are IRIs (str), or Python values for literals (str, int, Decimal).
    """
    material = base + "#material"
    yield material, RDF_TYPE, HEM + "Material"
    yield material, HEM + "formula", Literal(contribution.formula)
    article = article_iri(contribution.doi)
    for number, f in enumerate(contribution.findings, 1):
        node = f"{base}#finding-{number}"
        yield node, RDF_TYPE, HEM + "Finding"
        yield node, HEM + "aboutMaterial", material
        yield node, HEM + "reportedIn", article
        for predicate, value in (("findingKind", f.kind), ("carrierIon", f.ion), ("electrode", f.electrode),
                                 ("evidenceLevel", f.evidence_level), ("aboutMechanism", f.mechanism),
                                 ("aboutElement", f.element), ("elementRole", f.role)):
            if value is not None:
                yield node, HEM + predicate, value
        for predicate, literal in (("quote", f.quote), ("specificCapacity", f.capacity_mAh_g),
                                   ("currentDensity", f.current_A_g), ("cycleCount", f.cycles),
                                   ("capacityRetention", f.retention_pct)):
            if literal is not None:
                yield node, HEM + predicate, Literal(literal)
        if f.note is not None:
            yield node, RDFS_COMMENT, Literal(f.note)


def article_triples(contribution: Contribution) -> Iterator[tuple[str, str, object]]:
    """The paper: its DOI, title and year (the provenance of the assertion)."""
    article = article_iri(contribution.doi)
    yield article, RDF_TYPE, BIBO + "AcademicArticle"
    yield article, BIBO + "doi", Literal(contribution.doi)
    if contribution.title:
        yield article, DCTERMS + "title", Literal(contribution.title)
    if contribution.year:
        yield article, DCTERMS + "issued", Literal(str(contribution.year), XSD + "gYear")


@dataclass(frozen=True)
class Literal:
    """A literal to be written: a Python value and, for strings, an optional datatype."""

    value: object
    datatype: str | None = None

    def term(self) -> pyoxigraph.Literal:
        import pyoxigraph as ox

        if self.datatype:
            return ox.Literal(str(self.value), datatype=ox.NamedNode(self.datatype))
        if isinstance(self.value, bool):
            raise TypeError("no boolean literals in findings")
        if isinstance(self.value, int):
            return ox.Literal(str(self.value), datatype=ox.NamedNode(XSD + "integer"))
        if isinstance(self.value, Decimal):
            return ox.Literal(decimal_text(self.value), datatype=ox.NamedNode(XSD + "decimal"))
        return ox.Literal(str(self.value))


def term(value: object) -> pyoxigraph.NamedNode | pyoxigraph.Literal:
    import pyoxigraph as ox

    return value.term() if isinstance(value, Literal) else ox.NamedNode(str(value))


class Description:
    """The triples of a set of graphs, by subject: what findings_in reads."""

    def __init__(self, quads: Iterable[pyoxigraph.Quad]) -> None:
        self.by_subject: dict[str, dict[str, list[Any]]] = {}
        for q in quads:
            subject: Any = q.subject
            self.by_subject.setdefault(subject.value, {}).setdefault(q.predicate.value, []).append(q.object)

    def values(self, subject: str, predicate: str) -> list[Any]:
        return self.by_subject.get(subject, {}).get(predicate, [])

    def one(self, subject: str, predicate: str) -> Any | None:
        found = self.values(subject, predicate)
        return found[0] if found else None

    def subjects_of_type(self, cls: str) -> list[str]:
        return sorted(s for s, props in self.by_subject.items()
                      if any(getattr(o, "value", None) == cls for o in props.get(RDF_TYPE, [])))


def _python(term_: Any) -> str | int | Decimal | None:
    """An RDF term as the value a Finding holds: IRI text, str, int or Decimal."""
    import pyoxigraph as ox

    if term_ is None:
        return None
    if isinstance(term_, ox.Literal):
        datatype = term_.datatype.value
        try:
            if datatype == XSD + "integer":
                return int(term_.value)
            if datatype in (XSD + "decimal", XSD + "double", XSD + "float"):
                return Decimal(term_.value)
        except (ValueError, InvalidOperation):
            return term_.value
        return term_.value
    return str(getattr(term_, "value", term_))


def findings_in(description: Description, where: Callable[[str], str] = lambda node: f"finding <{node}>"
                ) -> list[tuple[str, Contribution]]:
    """(finding node, a one-finding contribution) for every hem:Finding described, in node order.

    Lenient: a missing or malformed value becomes None, for the shapes to report.
    """
    out = []
    for node in description.subjects_of_type(HEM + "Finding"):
        def text(prop: str, subject: str = node) -> str | None:
            value = _python(description.one(subject, prop))
            return None if value is None else str(value)

        def number(prop: str, subject: str = node) -> Decimal | None:
            value = _python(description.one(subject, prop))
            return value if isinstance(value, Decimal) else None

        material = text(HEM + "aboutMaterial")
        article = text(HEM + "reportedIn")
        cycles = _python(description.one(node, HEM + "cycleCount"))
        finding = Finding(
            kind=text(HEM + "findingKind"), ion=text(HEM + "carrierIon"), electrode=text(HEM + "electrode"),
            evidence_level=text(HEM + "evidenceLevel"), quote=text(HEM + "quote"),
            mechanism=text(HEM + "aboutMechanism"), element=text(HEM + "aboutElement"), role=text(HEM + "elementRole"),
            capacity_mAh_g=number(HEM + "specificCapacity"), current_A_g=number(HEM + "currentDensity"),
            cycles=cycles if isinstance(cycles, int) else None, retention_pct=number(HEM + "capacityRetention"),
            note=text(RDFS_COMMENT), where=where(node),
        )
        formula = text(HEM + "formula", material) if material else None
        doi = text(BIBO + "doi", article) if article else None
        year = text(DCTERMS + "issued", article) if article else None
        title = text(DCTERMS + "title", article) if article else None
        out.append((node, Contribution(normalise_doi(doi or ""), " ".join((formula or "").split()), title,
                                       int(year) if year and year.isdigit() else None, (finding,), where=where(node))))
    return out


def group(singles: Iterable[Contribution]) -> list[Contribution]:
    """One contribution per (DOI, formula) from one-finding contributions, in their order."""
    merged: dict[tuple[str, str], Contribution] = {}
    for c in singles:
        key = (c.doi, c.formula)
        if key in merged:
            old = merged[key]
            merged[key] = Contribution(old.doi, old.formula, old.title or c.title, old.year or c.year,
                                       old.findings + c.findings, where=old.where)
        else:
            merged[key] = c
    return list(merged.values())
