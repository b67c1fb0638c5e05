"""The literature library's findings as rule facts: the paper's evidence rules grade them as they grade its reports.

Each current anode contribution of the library (hem evidence add) becomes a
reported material of its own, named `lib-KEY` (KEY: the contribution's key,
stable per DOI and formula), with the facts rules/85-evidence.toml reads of the
paper's reported materials: material_ion, material_element, material_anion and
material_kind from its formula, and observed(X, M, MATERIAL, observed |
not-observed) from its findings:

    mechanism_observed M (element X, else the host)   observed(X, M, lib-KEY, observed)
    mechanism_not_observed M                          observed(X, M, lib-KEY, not-observed)
    element_role X, the role of a mechanism M         observed(X, M, lib-KEY, observed)
    element_role X stabilizer | inactive              observed(X, C, lib-KEY, not-observed), C: conversion

A candidate with a contribution's composition gets matches_reported(lib-KEY),
so that its findings outrank the planes exactly as a report of the paper on the
very material does. Cathode findings are kept in the library but never become
facts. Each fact's Source is of kind "library" and names the finding
(`Source.detail`), whose DOI, quote and evidence level `LibraryFindings.findings`
holds.

The knowledge graph's facts stay disk-cached as they are; the library's join
them in an index of their own, built once per library revision and kept in the
disk cache (`load`). Building it runs once the evidence rules that gather the
reports (which disagree on an element, which materials show it), so that a
consultation reads one gathered fact per element and mechanism, not every
finding. Without a library folder nothing here opens the store or imports
pyoxigraph.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hemkg import engine
from hemkg.engine import Fact, Source
from hemkg.graph.store import HEM, HEMKG, local
from hemkg.system.kept import kept_or_made

if TYPE_CHECKING:
    from hemkg.consultation.consultation import Consultation
    from hemkg.library.findings import Contribution

PREFIX = "lib-"  # the local name of a library contribution as a reported material: lib-KEY
KIND = "library"  # Source.kind of a library fact
OBSERVED, NOT_OBSERVED = "observed", "not-observed"
# Findings on related materials an answer lists per subject (evidence_detail: per mechanism, per element and role;
# "What your library says": per verdict, mechanism and role), the closest first; the rest are counted, and
# `--all-findings` (all_findings=True) lists every one.
RELATED_SHOWN = 5


@dataclass(frozen=True)
class LibraryFinding:
    """One finding of the library, as a consultation cites it."""

    id: str  # Source.detail of its facts: lib-KEY#N
    material: str  # lib-KEY
    doi: str
    formula: str
    title: str | None
    kind: str  # the CSV word: mechanism_observed, mechanism_not_observed, element_role, performance
    mechanism: str | None  # the graph's name (space-charge), as the rules spell it
    element: str | None
    role: str | None  # the CSV word
    evidence_level: str  # the CSV word: abstract, full_text, figure, table
    quote: str
    ion: str | None
    anode: bool

    @functools.cached_property
    def statement(self) -> str:
        """What the finding says, in a sentence: 'In Fe0.2Co0.2Ni0.2Cu0.2Zn0.2O (doi:...), Zn: stabilizer'."""
        what = self.kind.replace("_", " ")
        about = ", ".join(x.replace("_", " ").replace("-", " ") for x in (self.mechanism, self.element, self.role)
                          if x)
        return f"In {self.label}: {what}" + (f" ({about})" if about else "")

    @functools.cached_property
    def label(self) -> str:
        """The material with its paper: 'Fe0.2Co0.2Ni0.2Cu0.2Zn0.2O (doi:10.26599/nr.2025.94907784)'."""
        return f"{self.formula} (doi:{self.doi})"


# What said() weighs an observation on (_weighing: the element or None for the host, the mechanism, the state,
# whether structural) and its finding's role (the CSV word, or "")
Weighed = tuple[tuple[str | None, str, str, bool], str]
# said()'s verdict on a weighing: the mechanism it bears on, the element's planes (and their mechanisms), the planes
# that put the element in it, and whether the finding agrees with the paper
Verdict = tuple[str, dict[str, set[str]], list[str], bool]


LEVELS_KEPT = 10_000  # candidates' element sets a library revision keeps closest_first() for, then starts afresh


@dataclass(frozen=True)
class Ranked:
    """A library's observations numbered in the order said() lists them (by DOI, then finding id). A set of them is
    an int with the bit of each number set (`bits`), which a consultation unites, intersects and counts in C."""

    order: tuple[tuple[Fact, LibraryFinding], ...]
    place: dict[Fact, int]  # observation -> its number
    weighed: tuple[Weighed, ...]  # by number
    of_material: dict[str, int]  # lib-KEY -> its observations (bits)
    with_element: tuple[int, ...]  # by element bit (LibraryFindings.mask): the observations on materials with it


def bits(numbers: Iterable[int]) -> int:
    """A set of observation numbers as an int (Ranked)."""
    return sum(1 << n for n in set(numbers))


def union(sets: Iterable[int]) -> int:
    """The union of sets of observation numbers (Ranked)."""
    found = 0
    for members in sets:
        found |= members
    return found


def numbers(members: int, limit: int | None = None) -> list[int]:
    """The observation numbers of a set (Ranked), lowest first, at most `limit` of them."""
    out: list[int] = []
    while members and (limit is None or len(out) < limit):
        out.append((members ^ (members - 1)).bit_length() - 1)  # the lowest bit set (no negative ints: slow)
        members &= members - 1
    return out


def closest_first(ranked: Ranked, wanted: int) -> list[int]:
    """The observations by the elements their material shares with the candidate's (`wanted`: mask()), most
    first (each a set, Ranked): within one, the lowest numbers come first (by DOI)."""
    return by_shared((1 << len(ranked.order)) - 1, ranked.with_element, wanted)


def by_shared(every: int, with_element: tuple[int, ...], wanted: int) -> list[int]:
    """A set (an int, one bit per member) split by how many of the elements `wanted` (mask()) each member has, most
    first; `with_element[b]`: the members with the element of bit b."""
    at_least = [every]  # at_least[k]: sharing k elements or more
    bit = 0
    while wanted >> bit:
        if wanted >> bit & 1:
            having = with_element[bit]
            at_least.append(0)
            for k in range(len(at_least) - 1, 0, -1):
                at_least[k] |= at_least[k - 1] & having
        bit += 1
    at_least.append(0)
    return [at_least[k] ^ (at_least[k] & at_least[k + 1]) for k in range(len(at_least) - 2, -1, -1)]


@dataclass
class LibraryFindings:
    """The findings of one library revision, and the rule facts of its anode contributions."""

    path: Path
    revision: str
    findings: dict[str, LibraryFinding]  # by id; cathode and performance findings too
    facts: dict[Fact, Source]
    compositions: dict[str, dict[str, float]]  # lib-KEY -> normalised composition (anode contributions)
    ions: dict[str, frozenset[str]] = field(default_factory=dict)  # lib-KEY -> its findings' carrier ions
    labels: dict[str, str] = field(default_factory=dict)  # lib-KEY -> its formula and DOI
    # evidence items built for consultations with this library (consultation/evidence.py _item), by derivation
    items: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)
    # the grades and lists of evidence_detail made of those items (evidence.py _kept_detail), by what they list
    details: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)
    # by derivation (Derivation.key): the library material it matched and the observations it rests on
    # (consultation/evidence.py _on_library)
    on_library: dict[Any, tuple[str | None, frozenset[Fact]]] = field(default_factory=dict, repr=False,
                                                                      compare=False)
    # by derivation (Derivation.key): what an item over gathered reports takes from each derivation gathered behind
    # it, with the library materials among theirs (evidence.py _members), and from one of those (_member)
    gathered_members: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)
    members: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)
    # by derivation (Derivation.key) and candidate's elements (mask()): the library materials an item lists (_kept)
    closest: dict[tuple[Any, int], tuple[str, ...] | None] = field(default_factory=dict, repr=False, compare=False)
    _under: dict[Fact, frozenset[Fact]] = field(default_factory=dict, repr=False, compare=False)
    _behind: dict[Fact, dict[Weighed, int]] = field(default_factory=dict, repr=False, compare=False)
    # by candidate's elements (mask()): the observations by elements shared (closest_first), and the materials
    # (material_bits: by_shared)
    levels: dict[int, list[int]] = field(default_factory=dict, repr=False, compare=False)
    material_levels: dict[int, list[int]] = field(default_factory=dict, repr=False, compare=False)
    _entry_parts: dict[Fact, tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=dict, repr=False,
                                                                           compare=False)

    @functools.cached_property
    def shared(self) -> tuple[dict[Fact, Source], Any]:
        """The knowledge graph's facts and the library's, indexed once, the paper's rules compiled over them and those
        that read these facts alone run once (which findings disagree on an element, whatever the candidate)."""
        from hemkg.consultation.facts import knowledge_facts
        from hemkg.consultation.rules import paper_rules

        return engine.share({**knowledge_facts(), **self.facts}, paper_rules())

    def matching(self, composition: dict[str, float]) -> list[str]:
        """The contributions with the candidate's composition (the same elements, atom fractions within 0.01,
        as consultation/facts.py matching_reported compares the paper's reported materials)."""
        from hemkg.consultation.facts import normalised, same_composition

        wanted = normalised(composition)
        return [m for m in self._by_elements.get(frozenset(wanted), ()) if same_composition(self.compositions[m],
                                                                                           wanted)]

    @functools.cached_property
    def _by_elements(self) -> dict[frozenset[str], list[str]]:
        """The contributions by their set of elements, in the library's order (matching() compares only those)."""
        found: dict[frozenset[str], list[str]] = {}
        for m, comp in self.compositions.items():
            found.setdefault(frozenset(comp), []).append(m)
        return found

    def mask(self, composition: dict[str, float] | frozenset[str] | set[str]) -> int:
        """Elements as bits, one per element of the library's materials (in the symbols' sorted order), for
        nearest(): an element no material of the library has shares nothing with them. Few bits keep the
        numbers small, and said() works them out for every finding it weighs."""
        bits = self._element_bits
        return sum(1 << bits[x] for x in composition if x in bits)

    @functools.cached_property
    def _element_bits(self) -> dict[str, int]:
        return {x: i for i, x in enumerate(sorted({x for comp in self.compositions.values() for x in comp}))}

    def under(self, gathered: Fact, derivations: engine.Derivations) -> frozenset[Fact]:
        """The library's observations behind a fact gathered from the reports for every candidate (disputed(X, M),
        shown(...), shown_in_material(...): what its derivations, recorded once by engine.share, rest on), found once
        per library revision; none for any other fact."""
        found = self._under.get(gathered)
        if found is None:
            below = derivations.shared.get(gathered)
            if not below:
                return frozenset()
            observations = self.observations
            found = self._under[gathered] = frozenset(q for d in below for q in derivations.leaves(d)
                                                       if q in observations)
        return found

    def behind(self, gathered: Fact, derivations: engine.Derivations) -> dict[Weighed, int]:
        """The observations under() a gathered fact, as a set of their numbers in `ranked`, grouped by what said()
        weighs them on and their finding's role."""
        found = self._behind.get(gathered)
        if found is None:
            place, weighed = self.ranked.place, self.ranked.weighed
            groups: dict[Weighed, int] = {}
            for q in self.under(gathered, derivations):
                i = place[q]
                groups[weighed[i]] = groups.get(weighed[i], 0) | 1 << i
            found = self._behind[gathered] = groups
        return found

    def rests_on(self, d: engine.Derivation, derivations: engine.Derivations) -> frozenset[Fact]:
        """The library's observations a derivation rests on: its premises that are one, and those under() the
        premises gathered from them."""
        observations = self.observations
        found = frozenset(p for p in d.premises if p in observations)
        shared = derivations.shared
        gathered = [self.under(p, derivations) for p in d.premises if p in shared]
        return found.union(*gathered) if gathered else found

    def candidate_facts(self, composition: dict[str, float]) -> dict[Fact, Source]:
        return {("matches_reported", (m,)): Source(KIND, m, (), f"the composition of {self.labels[m]}")
                for m in self.matching(composition)}

    @functools.cached_property
    def observations(self) -> dict[Fact, LibraryFinding]:
        """The library's observed(...) facts, each with its finding (said() looks premises up here)."""
        return {fact: self.findings[source.detail] for fact, source in self.facts.items()
                if fact[0] == "observed" and source.detail in self.findings}

    @functools.cached_property
    def _by_place(self) -> tuple[str, ...]:
        """The lib-KEYs of the materials with findings, by DOI, then name: the order of nearest() between equals."""
        dois = {f.material: f.doi for f in self.findings.values()}
        return tuple(sorted(dois, key=lambda m: (dois[m], m)))

    @functools.cached_property
    def _closeness_data(self) -> dict[str, tuple[int, int]]:
        """lib-KEY -> its elements as bits (mask(); none without a composition) and its place in _by_place."""
        return {m: (self.mask(self.compositions.get(m, {})), place) for place, m in enumerate(self._by_place)}

    def material_mask(self, material: str) -> int:
        """A library material's elements as bits (mask())."""
        return self._closeness_data.get(material, (0, 0))[0]

    def material_bits(self, materials: Iterable[str]) -> int:
        """Library materials as a set held as an int, one bit per place in _by_place (nearest())."""
        data = self._closeness_data
        return bits(data[m][1] for m in materials)

    def nearest(self, materials: Iterable[str] | int, wanted: int, count: int) -> list[str]:
        """Of library materials (names, or material_bits()), the `count` that share the most elements with the
        candidate's (`wanted`: their mask()), closest first, then by DOI."""
        members = materials if isinstance(materials, int) else self.material_bits(materials)
        picked: list[int] = []
        for level in kept_or_made(self.material_levels, wanted, LEVELS_KEPT, by_shared, self._every_material,
                                  self._materials_with_element, wanted):
            picked += numbers(level & members, count - len(picked))
            if len(picked) == count:
                break
        by_place = self._by_place
        return [by_place[n] for n in picked]

    @functools.cached_property
    def _every_material(self) -> int:
        return (1 << len(self._by_place)) - 1

    @functools.cached_property
    def _materials_with_element(self) -> tuple[int, ...]:
        """By element bit (mask()): the materials with the element, as material_bits()."""
        data = self._closeness_data
        return tuple(bits(place for mask, place in data.values() if mask >> b & 1)
                     for b in range(len(self._element_bits)))

    @functools.cached_property
    def gathered_predicates(self) -> frozenset[str]:
        """The predicates of the facts engine.share gathered from the reports once (disputed, shown, host_report,
        host_shown, ...): what a consultation's rules read of the reports on other materials."""
        return frozenset(f[0] for f in self.shared[1].derived)

    @functools.cached_property
    def gathering_readers(self) -> frozenset[str]:
        """The ids of the paper's rules that read a gathered fact: their evidence items list the library's closest
        materials, so they are kept per materials listed (evidence.py _kept). (Ids: the rules a run recorded are the
        library's program's, unpickled apart from paper_rules(), and equal rules compare field by field.)"""
        from hemkg.consultation.rules import paper_rules

        gathered = self.gathered_predicates
        return frozenset(r.id for r in paper_rules() if any(a.predicate in gathered for a in r.when))

    @functools.cached_property
    def ranked(self) -> Ranked:
        """The observations in the order said() lists them (by DOI, then finding), each with what it is weighed on,
        so that a consultation gathers, counts and picks the closest of them as numbers."""
        order = sorted(self.observations.items(), key=lambda kv: (kv[1].doi, kv[1].id))
        ranks_of: dict[str, list[int]] = {}
        for i, (_, finding) in enumerate(order):
            ranks_of.setdefault(finding.material, []).append(i)
        masks = [self.material_mask(finding.material) for _, finding in order]
        return Ranked(tuple(order), {fact: i for i, (fact, _) in enumerate(order)},
                      tuple((_weighing(fact, finding), finding.role or "") for fact, finding in order),
                      {m: bits(v) for m, v in ranks_of.items()},
                      tuple(bits(i for i, mask in enumerate(masks) if mask >> b & 1)
                            for b in range(len(self._element_bits))))

    def entry_parts(self, observation: Fact) -> tuple[dict[str, Any], dict[str, Any]]:
        """What said()'s entry for an observation says of its finding whatever the consultation: the finding, its
        sentence, DOI, quote, evidence level and material; then its element (not for the host) and role."""
        found = self._entry_parts.get(observation)
        if found is None:
            finding = self.observations[observation]
            subject, _, material, _ = observation[1]
            head = {"finding": finding.kind, "statement": finding.statement, "sentence": self.facts[observation].label,
                    "doi": finding.doi, "quote": finding.quote, "evidence_level": finding.evidence_level,
                    "material": finding.formula}
            tail = {**({"element": subject} if subject != material else {}),
                    **({"role": finding.role} if finding.role else {})}
            found = self._entry_parts[observation] = (head, tail)
        return found

    def of_source(self, source: Source) -> LibraryFinding | None:
        return self.findings.get(source.detail) if source.kind == KIND else None


def _weighing(fact: Fact, finding: LibraryFinding) -> tuple[str | None, str, str, bool]:
    """What said() weighs an observation on: the element (None for the host), the mechanism, whether it was seen,
    and whether its finding calls the element structural (stabilizer, inactive)."""
    subject, mechanism, material, state = map(str, fact[1])
    return subject if subject != material else None, mechanism, state, finding.role in STRUCTURAL_WORDS


_LABELS: dict[str, str] = {}  # lib-KEY -> label, for every library loaded in this process (answers name them)


def is_library_name(value: object) -> bool:
    """Whether a rule value names a library contribution (lib-KEY), whose label depends on the library."""
    return isinstance(value, str) and value.startswith(PREFIX)


def label(name: str) -> str | None:
    """'Fe0.2Co0.2Ni0.2Cu0.2Zn0.2O (doi:10.26599/nr.2025.94907784)' for a library contribution's name, else None."""
    return _LABELS.get(name) if name.startswith(PREFIX) else None


_LOADED: dict[tuple[str, str], LibraryFindings] = {}


def load(option: str | os.PathLike[str] | None = None, wait: float = 10.0) -> LibraryFindings | None:
    """The library at --library DIR, $HEMKG_LIBRARY or the user's data folder, or None where there is none or it
    holds no findings. Read once per process and revision. A folder that is no library, a damaged store or one
    locked for longer than `wait` seconds raises LibraryError (hemkg.errors)."""
    found = read(option, wait)
    return found if found is not None and found.facts else None  # cathode or performance findings alone: no facts


def read(option: str | os.PathLike[str] | None = None, wait: float = 10.0) -> LibraryFindings | None:
    """Every current finding of the library (cathode and performance ones too), or None where there is no library
    folder or its store was never written (`load` keeps only a library with facts to grade)."""
    from hemkg.library.place import absent, location

    path = location(option)
    if absent(path):
        return None  # nothing to read: neither the store nor pyoxigraph is touched
    from hemkg.library.state import revision_at

    revision = revision_at(path)
    if revision is None:
        return None
    key = (str(path.resolve()), revision)
    if key not in _LOADED:
        from hemkg.graph.diskcache import keyed

        found = keyed(_read_store, "\n".join(key), path, wait)
        _LABELS.update(found.labels)
        _LOADED[key] = found
    return _LOADED[key]


def _read_store(path: Path, wait: float) -> LibraryFindings:
    """The findings of the library's store, read under its lock, with the rules compiled over their facts (the
    disk cache keeps the whole, keyed by the folder and the revision, so that a start need not open the store)."""
    from hemkg.library import store as lib

    with lib.Library.open(path, wait=wait, command="hem consult") as library:
        contributions = [n.contribution for n in library.current().values() if n.contribution is not None]
        revision = library.revision
    found = from_contributions(contributions, path, revision)
    if found.facts:  # made now, so that the disk cache keeps them: a start reads them rather than making them
        for made_once in ("shared", "observations", "gathered_predicates", "gathering_readers", "_by_place",
                          "_closeness_data", "_by_elements", "ranked", "_element_bits", "_every_material",
                          "_materials_with_element"):
            getattr(found, made_once)
    return found


def from_contributions(contributions: list[Contribution], path: Path, revision: str) -> LibraryFindings:
    """The findings and rule facts of these contributions (current ones of a library)."""
    from hemkg.consultation.facts import composition_facts, normalised
    from hemkg.consultation.formula import parse_formula
    from hemkg.errors import FormulaError
    from hemkg.library.vocabulary import vocabulary

    words = vocabulary()
    mechanism_of_role = {iri: words.mechanisms[w] for w, iri in words.roles.items() if w in words.mechanisms}
    structural = {HEM + "stabilizerRole", HEM + "inactiveRole"}  # no part in storing ions: not converting
    conversion = local(mechanism_of_role[HEM + "conversionRole"])
    found = LibraryFindings(path, revision, {}, {}, {})
    for c in sorted(contributions, key=lambda c: (c.doi, c.formula)):
        material = PREFIX + c.key
        try:
            composition = parse_formula(c.formula).composition
        except FormulaError:
            composition = None  # checked when added; a formula a later parser refuses is skipped, not fatal
        anode_ions: set[str] = set()
        for number, f in enumerate(c.findings, 1):
            finding = LibraryFinding(
                f"{material}#{number}", material, c.doi, c.formula, c.title, words.word(f.kind or ""),
                local(f.mechanism) if f.mechanism else None, local(f.element) if f.element else None,
                words.word(f.role) if f.role else None, words.word(f.evidence_level or ""), f.quote or "",
                words.word(f.ion) if f.ion else None, f.electrode == HEM + "anode")
            found.findings[finding.id] = finding
            if not finding.anode or composition is None:
                continue  # cathode findings are kept, never used for an anode consultation
            if finding.ion:
                anode_ions.add(finding.ion)
            subject = finding.element or material
            facts: list[tuple[str, str]] = []  # (mechanism, observed | not-observed)
            if f.kind == HEM + "mechanismObserved" and finding.mechanism:
                facts.append((finding.mechanism, OBSERVED))
            elif f.kind == HEM + "mechanismNotObserved" and finding.mechanism:
                facts.append((finding.mechanism, NOT_OBSERVED))
            elif f.kind == HEM + "elementRoleReported" and finding.element and f.role:
                if f.role in mechanism_of_role:
                    facts.append((local(mechanism_of_role[f.role]), OBSERVED))
                elif f.role in structural:
                    facts.append((conversion, NOT_OBSERVED))
            for mechanism, state in facts:
                found.facts[("observed", (subject, mechanism, material, state))] = Source(
                    KIND, finding.id, (), _sentence(finding.label, subject, mechanism, state, material))
        if composition is None or not anode_ions:
            continue
        found.labels[material] = _LABELS[material] = f"{c.formula} (doi:{c.doi})"
        found.compositions[material] = normalised(composition)
        found.ions[material] = frozenset(anode_ions)
        found.facts[("library_material", (material,))] = Source(KIND, material, (), found.labels[material])
        found.facts.update(composition_facts(material, composition, sorted(anode_ions),
                                             Source(KIND, material, (), found.labels[material])))
    return found



def _sentence(where: str, subject: str, mechanism: str, state: str, material: str) -> str:
    """'in Fe0.2Co0.2Ni0.2Cu0.2Zn0.2O (doi:10.26599/nr.2025.94907784), Zn was not seen in conversion'."""
    from hemkg.graph import statements as knowledge

    who = "the host" if subject == material else subject
    seen = "seen" if state == OBSERVED else "not seen"
    return f"in {where}, {who} was {seen} in {knowledge.label(HEMKG + mechanism)}"


# --------------------------------------------------------------------------- what the library says


def said(c: Consultation, materials: frozenset[str] | None = None, all_findings: bool = False
         ) -> list[dict[str, Any]]:
    """"What your library says": each library finding a rule of this consultation used, and whether it agrees
    or disagrees with the paper's rule or status it bears on (only the findings of `materials`, lib-KEY names,
    where given: hem evidence conflicts asks for a contribution's own).

    Agrees: the mechanism (with that element) was seen and the consultation finds it accessible (with that
    element among its elements by Fig. 6a); a mechanism not seen where the consultation does not make it
    accessible, or not by that element. Disagrees: not seen (or the element a stabilizer) where the planes put
    the element in the mechanism, or the mechanism not accessible; seen where the status is not accessible, or
    by an element the planes do not put in it.

    Every finding on the candidate's own composition is listed in full; of the findings on related materials, the
    RELATED_SHOWN closest per verdict, mechanism and role (most elements shared with the candidate, then by DOI),
    the rest counted in one entry per verdict, mechanism and role (`more`), unless `all_findings` (hem evidence
    conflicts lists every disagreeing one too).
    Only the listed entries are built."""
    library = c.library
    if library is None:
        return []
    r = c.result
    ranked = library.ranked
    readers, concluded = _observed_readers(library.gathered_predicates)
    # the observations the rules used (Ranked: sets of their numbers), by what they are weighed on and their role
    gathered: dict[Weighed, int] = {}
    expanded: set[Fact] = set()
    for (predicate, _), derivations in r.derivations.items():
        if predicate not in concluded:
            continue  # no rule with an observation among its premises concludes it
        for d in derivations:
            at = readers.get(d.rule.id)
            if at is None:
                continue
            premises = d.premises
            for i in at:  # only the premises that are or gather observations: the others are many
                p = premises[i]
                if p in expanded:
                    continue
                expanded.add(p)
                if p[0] == "observed":
                    n = ranked.place.get(p)  # None: one of the paper's reports
                    if n is not None:
                        gathered[ranked.weighed[n]] = gathered.get(ranked.weighed[n], 0) | 1 << n
                else:  # reports gathered once for every candidate: their observations
                    for weighed, members in library.behind(p, r.derivations).items():
                        gathered[weighed] = gathered.get(weighed, 0) | members
    matched = {str(m) for (m,) in r.query("reported_here")}
    enables: dict[str, set[str]] = {}
    for plane, mechanism in r.words("plane_enables"):
        enables.setdefault(plane, set()).add(mechanism)
    planes_of = functools.cache(lambda subject: {p: enables.get(p, set()) for _, p in r.words("plane_cation", subject)})

    def judge(subject: str | None, mechanism: str, state: str, structural: bool) -> Verdict:
        planes = planes_of(subject) if subject is not None else {}
        if structural:  # a stabilizer takes part in none of the planes' mechanisms
            mechanism = next((m for p in sorted(planes) for m in sorted(planes[p])), mechanism)
        in_planes = sorted(p for p, ms in planes.items() if mechanism in ms or structural)
        accessible = c.status(mechanism) == "accessible"
        if state == OBSERVED:
            agrees = accessible and (subject is None or bool(in_planes))
        else:
            agrees = not (accessible and (subject is None or bool(in_planes)))
        return mechanism, planes, in_planes, agrees

    # one verdict per weighing (judge()'s arguments); the findings grouped by verdict, mechanism and role
    verdicts: dict[tuple[str | None, str, str, bool], Verdict] = {}
    groups: dict[tuple[bool, str, str], int] = {}
    for (weighing, role), members in gathered.items():
        verdict = verdicts.get(weighing)
        if verdict is None:
            verdict = verdicts[weighing] = judge(*weighing)
        group = (verdict[3], verdict[0], role)
        groups[group] = groups.get(group, 0) | members
    of_material = ranked.of_material
    kept = None if materials is None else union(of_material.get(m, 0) for m in materials)
    here = union(of_material.get(m, 0) for m in matched)
    levels: list[int] | None = None  # closest_first(), worked out where a group has more than RELATED_SHOWN
    listed: list[int] = []
    counted: dict[tuple[bool, str, str], int] = {}
    for group, members in groups.items():
        if kept is not None:
            members &= kept
        if all_findings:
            listed += numbers(members)
            continue
        listed += numbers(members & here)  # findings on this very material: every one
        related = members ^ (members & here)
        more = related.bit_count() - RELATED_SHOWN
        if more > 0:  # on related materials: the closest (the lowest numbers of those: by DOI)
            counted[group] = more
            if levels is None:
                levels = kept_or_made(library.levels, c.library_mask, LEVELS_KEPT, closest_first, ranked,
                                      c.library_mask)
            picked: list[int] = []
            for level in levels:
                picked += numbers(related & level, RELATED_SHOWN - len(picked))
                if len(picked) == RELATED_SHOWN:
                    break
            listed += picked
        else:
            listed += numbers(related)
    listed.sort()  # by DOI, then finding
    outranked = {str(args[2]) for args in r.query("overruled")}  # materials whose report outranks a plane
    behind = _RuleIds(c)
    bearing: dict[tuple[Any, ...], list[str]] = {}  # the same for every material but those outranked
    entry_parts = library.entry_parts
    out = []
    for n in listed:
        fact, finding = ranked.order[n]
        subject, _, material, state = map(str, fact[1])
        mechanism, planes, in_planes, agrees = verdicts[ranked.weighed[n][0]]
        asked = (subject == material, subject, mechanism, material if material in outranked else None, state,
                 tuple(in_planes))
        bears = bearing.get(asked)
        if bears is None:
            bears = bearing[asked] = _bears(c, behind, *asked)
        head, tail = entry_parts(fact)
        out.append({
            "verdict": "agrees" if agrees else "disagrees", **head, "this_material": material in matched, **tail,
            "mechanism": mechanism, "status": c.status(mechanism).replace("-", "_"),
            **({"planes": in_planes, "plane_mechanisms": sorted({m for p in in_planes for m in planes[p]})
                if finding.role in STRUCTURAL_WORDS else [mechanism]} if in_planes else {}),
            "rule": bears[0] if bears else None, "rules": list(bears),
        })
    for (agrees, mechanism, role), more in sorted(counted.items(), key=lambda kv: (not kv[0][0], kv[0][1:])):
        about = mechanism.replace("-", " ") + (f", {role.replace('_', ' ')}" if role else "")
        word = "agrees" if agrees else "disagrees"
        also = "" if agrees else " (and hem evidence conflicts)"
        out.append({"verdict": word, "more": more, "mechanism": mechanism, **({"role": role} if role else {}),
                    "this_material": False,
                    "text": f"and {more} more {word[:-1]}ing finding{'s' if more != 1 else ''} on related "
                            f"materials ({about}); hem consult --all-findings{also} lists them"})
    return out




class _RuleIds(dict[tuple[str, ...], list[str]]):
    """The ids of the rules behind the facts of a predicate whose first arguments are given (status(M, _),
    mechanism_element(M, X), plane_cation(X, _), overruled(X, M, MATERIAL)), sorted, each asked once per
    consultation: _bears names them."""

    def __init__(self, c: Consultation) -> None:
        super().__init__()
        self.c = c

    def __missing__(self, key: tuple[str, ...]) -> list[str]:
        found = self[key] = sorted({d.rule.id for d in self.c.derivations(*key)})
        return found


def _bears(c: Consultation, behind: _RuleIds, host: bool, subject: str, mechanism: str, material: str | None,
           state: str, in_planes: tuple[str, ...]) -> list[str]:
    """The rules a finding bears on: the mechanism's status, the planes' rules on its element, and those by which
    a report on `material` outranks a plane (None: a material with no such report)."""
    status = behind["status", mechanism]
    accessible = c.status(mechanism) == "accessible"
    bears = list(status) if state == OBSERVED and not (accessible and not (host or in_planes)) else []
    if not host and in_planes:
        bears += behind["mechanism_element", mechanism, subject] or behind["plane_cation", subject]
        if material is not None:
            bears += behind["overruled", subject, mechanism, material]
    return list(dict.fromkeys(bears or status))


@functools.cache
def _observed_readers(gathered: frozenset[str]) -> tuple[dict[str, tuple[int, ...]], frozenset[str]]:
    """The rules whose premises are observations, or facts gathered from them (`gathered`: the predicates
    LibraryFindings.gathered_predicates names), the only derivations said() reads, by id with the places of those
    premises in a derivation's premises (Rule.positives), and the predicates they conclude."""
    from hemkg.consultation.rules import paper_rules

    gathering = {"observed"} | gathered
    readers = {}
    for rule in paper_rules():
        at = tuple(i for i, a in enumerate(rule.positives) if a.predicate in gathering)
        if at:
            readers[rule.id] = at
    concluded = frozenset(a.predicate for r in paper_rules() if r.id in readers for a in r.then)
    return readers, concluded

STRUCTURAL_WORDS = frozenset(("stabilizer", "inactive"))  # the CSV words of hem:stabilizerRole, hem:inactiveRole
