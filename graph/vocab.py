"""The paper's vocabulary, read from the graph: the one home of its elements, planes, ions and mechanisms.

Every other module asks `vocab()` rather than spelling these out, so that an
edit to ontology/ or kg/ reaches the code, the CLI's help and its messages:

    >>> v = vocab()
    >>> len(v.cations), v.anions, v.ion_symbols
    (26, ('P', 'S', 'O', 'Se', 'Te'), ('Li', 'Na', 'K'))
    >>> v.mechanism("space-charge").json_key
    'space_charge'

Where each part comes from: the cations and anions of reported HEM anodes are
the members of hemkg:listed-cations and hemkg:listed-anions, in the order the
paper prints them (hem:printedList); the anion formers outside that list are
the project convention of kg/conventions.ttl; planes are the hem:MechanismPlane
groups of Fig. 6a; carrier ions carry their radius and battery chemistry;
mechanisms are listed in the order of the paper's Section 2; statuses and
element roles are the ontology's hem:MechanismStatus and hem:ConsultationRole; the
HEM definition's bounds are those of hemkg:stmt-hem-definition (Section 1).
A term's name is its local name, as the rules of rules/ spell it; its JSON key
has '_' for '-'.
"""

# No `from __future__ import annotations`: NamedTuple checks its field types when the class is made, and
# string annotations would each be compiled there, a few milliseconds at every start.

from collections import defaultdict
from collections.abc import Sequence
from typing import NamedTuple, TypeVar

from hemkg.graph.diskcache import disk_cached
from hemkg.graph.store import HEM, HEMKG, select


def json_key(name: str) -> str:
    """'space-charge' -> 'space_charge' (the JSON spelling of a term's name)."""
    return name.replace("-", "_")


def spoken_list(words: Sequence[str], last: str = "and") -> str:
    """('Li', 'Na', 'K') -> 'Li, Na and K'; with last='or', 'Li, Na or K'."""
    words = list(words)
    return f"{', '.join(words[:-1])} {last} {words[-1]}" if len(words) > 1 else "".join(words)


_NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def number_word(n: int) -> str:
    """5 -> 'five' (up to ten; digits beyond)."""
    return _NUMBER_WORDS[n] if 0 <= n < len(_NUMBER_WORDS) else str(n)


class Term(NamedTuple):
    """A mechanism, status, role or property: its IRI, the name the rules use, and its labels."""

    iri: str
    name: str  # the local name, as rules/ spells it: "space-charge"
    label: str  # skos:prefLabel: "space charge"
    short_label: str | None = None  # hem:shortLabel, where answers print a shorter name
    hidden_labels: tuple[str, ...] = ()  # skos:hiddenLabel: further words a user may type

    @property
    def json_key(self) -> str:
        return json_key(self.name)

    @property
    def words(self) -> frozenset[str]:
        """What a user may type for the term (lower case): its name, JSON key, short label and hidden labels."""
        words = (self.name, self.json_key, self.short_label or self.label, *self.hidden_labels)
        return frozenset(w.lower() for w in words)


class Plane(NamedTuple):
    """A plane of Fig. 6a: the cations taking part in one mechanism."""

    iri: str
    name: str  # "A", as rules/ spells it: on_plane(Zn, A)
    label: str  # "Plane A (conversion cations)"
    short_label: str  # "Plane A (conversion)"
    mechanism: str  # the name of the mechanism it enables: "conversion"
    members: tuple[str, ...]  # element symbols, in the order of the listed cations


class Group(NamedTuple):
    """An element group other than a plane: its name (local name), label and member symbols."""

    iri: str
    name: str
    label: str
    members: tuple[str, ...]


class CarrierIon(NamedTuple):
    """A carrier ion with its radius (Section 3.1) and its battery chemistry."""

    iri: str
    name: str  # the graph's local name: "Li-ion"
    symbol: str  # "Li": what --ion takes and the rules' ion(Li)
    label: str  # "Li+"
    radius_nm: float
    chemistry: str  # the battery chemistry's local name: "LIB"
    chemistry_label: str  # "lithium-ion battery (LIB)"


class Ordering(NamedTuple):
    """An ordering the paper states, as the rules' rank(O, X, n) facts name it."""

    iri: str
    name: str  # the statement's local name without stmt-order-: "anion-conductivity"
    label: str
    text: str  # as printed: "Se > Te > P > S > O"
    heading: str | None  # hem:answerHeading: how a consultation heads it, where it applies it


class HemDefinition(NamedTuple):
    """Section 1: five or more principal elements, each at 5-35 at%."""

    statement: str  # the statement's IRI
    section: str  # where the paper gives it: "1"
    min_elements: int
    min_percent: float
    max_percent: float
    structure: str = ""  # hem:structuralRequirement: what it asks beyond composition (single-phase formation)

    @property
    def fraction_range(self) -> tuple[float, float]:
        return self.min_percent / 100, self.max_percent / 100

    @property
    def percent_text(self) -> str:
        """'5-35 at%'."""
        return f"{self.min_percent:g}-{self.max_percent:g} at%"

    @property
    def text(self) -> str:
        """'five or more elements, each 5-35 at%'."""
        return f"{number_word(self.min_elements)} or more elements, each {self.percent_text}"


class Vocabulary(NamedTuple):
    """Everything the code names of the paper, read once from the graph (see the module's docstring)."""

    cations: tuple[str, ...]  # the listed cations of reported HEM anodes, as printed
    anions: tuple[str, ...]  # the listed anions, as printed
    outside_anions: tuple[str, ...]  # anion formers outside that list (a convention), by atomic number
    planes: tuple[Plane, ...]
    groups: tuple[Group, ...]
    ions: tuple[CarrierIon, ...]  # by atomic number of the element
    mechanisms: tuple[Term, ...]  # in the order of the paper's Section 2
    statuses: tuple[Term, ...]  # by name
    roles: tuple[Term, ...]  # element roles besides the mechanisms, by name
    properties: tuple[Term, ...]  # performance properties: those with a short label first, by it; then by label
    orderings: tuple[Ordering, ...]  # by name
    hem: HemDefinition

    @property
    def anion_formers(self) -> frozenset[str]:
        """Every element a candidate's anion site may hold: the listed anions and those outside the list."""
        return frozenset(self.anions) | frozenset(self.outside_anions)

    @property
    def ion_symbols(self) -> tuple[str, ...]:
        return tuple(i.symbol for i in self.ions)

    @property
    def mechanism_names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.mechanisms)

    def mechanism(self, name: str) -> Term:
        return _named(self.mechanisms, name)

    def plane(self, name: str) -> Plane:
        return _named(self.planes, name)

    def group(self, name: str) -> Group:
        return _named(self.groups, name)

    def ion(self, symbol: str) -> CarrierIon:
        return next(i for i in self.ions if i.symbol == symbol)

    def role(self, name: str) -> Term:
        return _named(self.roles, name)

    def ordering(self, name: str) -> Ordering:
        return _named(self.orderings, name)


_Named = TypeVar("_Named", Term, Plane, Group, Ordering)


def _named(items: tuple[_Named, ...], name: str) -> _Named:
    for item in items:
        if item.name == name:
            return item
    raise KeyError(f"the graph has no {name!r}")


def _local(iri: str) -> str:
    return iri.removeprefix(HEMKG).removeprefix(HEM)


class _Reader:
    """The lookups the parts of the vocabulary share, each read from the graph once."""

    def __init__(self) -> None:
        rows = select("SELECT ?s ?z WHERE { ?e hem:symbol ?s ; hem:atomicNumber ?z }")
        self.numbers = {r["s"]: int(r["z"]) for r in rows}
        self.members: dict[str, list[str]] = defaultdict(list)
        for r in select("SELECT ?g ?s WHERE { ?g a hem:ElementGroup ; hem:hasMember/hem:symbol ?s }"):
            self.members[r["g"]].append(r["s"])
        self.printed = {r["g"]: r["l"].split(", ") for r in select("SELECT ?g ?l WHERE { ?g hem:printedList ?l }")}
        self.labels = {r["x"]: r["l"] for r in select("SELECT ?x ?l WHERE { ?x skos:prefLabel ?l }")}
        self.shorts = {r["x"]: r["l"] for r in select("SELECT ?x ?l WHERE { ?x hem:shortLabel ?l }")}
        self.hidden: dict[str, list[str]] = defaultdict(list)
        for r in select("SELECT ?x ?l WHERE { ?x skos:hiddenLabel ?l } ORDER BY ?l"):
            self.hidden[r["x"]].append(r["l"])

    def group_members(self, group: str) -> tuple[str, ...]:
        """The members in the order the paper prints them (hem:printedList); any others after, by atomic number."""
        rank = {s: i for i, s in enumerate(self.printed.get(group, []))}
        return tuple(sorted(set(self.members[group]),
                            key=lambda s: (s not in rank, rank.get(s, 0), self.numbers.get(s, 0), s)))

    def terms(self, cls: str) -> list[Term]:
        """Every instance of `cls` (a prefixed class name) as a Term."""
        return [Term(iri, _local(iri), self.labels.get(iri, _local(iri)), self.shorts.get(iri), tuple(self.hidden[iri]))
                for iri in (r["x"] for r in select(f"SELECT DISTINCT ?x WHERE {{ ?x a {cls} }}"))]

    def mechanisms(self) -> tuple[Term, ...]:
        """In the order of the sections that define them (2.1 intercalation ... 2.4 space charge)."""
        rows = select("""SELECT ?m (MIN(STR(?src)) AS ?s) WHERE {
                           ?m a hem:IonStorageMechanism ; dcterms:source ?src } GROUP BY ?m""")
        sections = {r["m"]: r["s"] for r in rows}
        return tuple(sorted(self.terms("hem:IonStorageMechanism"), key=lambda m: (sections.get(m.iri, ""), m.name)))

    def planes(self, cations: tuple[str, ...]) -> tuple[Plane, ...]:
        rows = select("SELECT ?p ?m WHERE { ?p a hem:MechanismPlane ; hem:enablesMechanism ?m }")
        enables = {r["p"]: r["m"] for r in rows}
        position = {s: i for i, s in enumerate(cations)}
        planes = []
        for iri in (r["p"] for r in select("SELECT ?p WHERE { ?p a hem:MechanismPlane }")):
            members = tuple(sorted(set(self.members[iri]), key=lambda s: (position.get(s, len(position)), s)))
            label = self.labels.get(iri, _local(iri))
            planes.append(Plane(iri, _local(iri).removeprefix("plane-"), label, self.shorts.get(iri, label),
                                _local(enables.get(iri, "")), members))
        return tuple(sorted(planes, key=lambda p: p.name))

    def groups(self, planes: tuple[Plane, ...]) -> tuple[Group, ...]:
        plane_iris = {p.iri for p in planes}
        return tuple(sorted((Group(g, _local(g), self.labels.get(g, _local(g)), self.group_members(g))
                             for g in self.members if g not in plane_iris), key=lambda g: g.name))

    def ions(self) -> tuple[CarrierIon, ...]:
        rows = select("""SELECT ?i ?s ?r ?c WHERE {
                           ?i a hem:CarrierIon ; hem:ionOfElement/hem:symbol ?s ; hem:hasReportedValue ?v .
                           ?v hem:ofProperty hemkg:ionic-radius ; qudt:numericValue ?r . ?c hem:usesCarrierIon ?i }""")
        ions = [CarrierIon(r["i"], _local(r["i"]), r["s"], self.labels.get(r["i"], r["s"]), float(r["r"]),
                           _local(r["c"]), self.labels.get(r["c"], _local(r["c"]))) for r in rows]
        return tuple(sorted(ions, key=lambda i: self.numbers.get(i.symbol, 0)))

    def orderings(self) -> tuple[Ordering, ...]:
        rows = select("""SELECT ?o ?text ?heading WHERE { ?o a hem:OrderingStatement ; hem:orderingText ?text .
                                                       OPTIONAL { ?o hem:answerHeading ?heading } }""")
        return tuple(sorted((Ordering(r["o"], _local(r["o"]).removeprefix("stmt-order-"), self.labels.get(r["o"], ""),
                                      r["text"], r.get("heading")) for r in rows), key=lambda o: o.name))

    def hem_definition(self) -> HemDefinition:
        (row,) = select("""SELECT ?st ?section ?n ?lo ?hi ?structure WHERE {
                             ?st hem:minimumElementCount ?n ; hem:minimumAtomicPercent ?lo ;
                                 hem:maximumAtomicPercent ?hi ; hem:inSection ?section .
                             OPTIONAL { ?st hem:structuralRequirement ?structure } }""")
        return HemDefinition(row["st"], row["section"], int(row["n"]), float(row["lo"]), float(row["hi"]),
                             row.get("structure", ""))


@disk_cached
def vocab() -> Vocabulary:
    """The vocabulary, built once from the graph and kept in the disk cache like the graph's other readings."""
    read = _Reader()
    cations = read.group_members(HEMKG + "listed-cations")
    planes = read.planes(cations)
    return Vocabulary(
        cations=cations,
        anions=read.group_members(HEMKG + "listed-anions"),
        outside_anions=read.group_members(HEMKG + "outside-anions"),
        planes=planes,
        groups=read.groups(planes),
        ions=read.ions(),
        mechanisms=read.mechanisms(),
        statuses=tuple(sorted(read.terms("hem:MechanismStatus"), key=lambda t: t.name)),
        roles=tuple(sorted(read.terms("hem:ConsultationRole"), key=lambda t: t.name)),
        properties=tuple(sorted(read.terms("hem:PerformanceProperty"),
                                key=lambda t: (t.short_label is None, t.short_label or t.label))),
        orderings=read.orderings(),
        hem=read.hem_definition(),
    )
