"""The evidence scale of rules/ and the evidence a consultation's rules concluded, strongest first.

The scale (`[[evidence_level]]` tables of the rule files, strongest first) is
data with stable ids; the rules conclude `evidence(M, LEVEL)` for a mechanism
and `role_evidence(X, ROLE, LEVEL)` for an element's role. Here the strongest
level of each is picked by the scale's order, and each conclusion becomes one
item of `evidence_detail` with its rule, material and sources. Nothing here
decides a level.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from hemkg import engine
from hemkg.consultation.literature import RELATED_SHOWN, is_library_name
from hemkg.errors import RuleFileError
from hemkg.graph import statements as knowledge
from hemkg.graph.diskcache import disk_cached
from hemkg.graph.store import HEMKG, package_files
from hemkg.system.kept import kept_or_made

if TYPE_CHECKING:
    from hemkg.consultation.consultation import Consultation
    from hemkg.consultation.literature import LibraryFinding, LibraryFindings

NO_SOURCE = engine.Source("")
QUOTE_CHARS = 200  # a quote in evidence_detail is cut to this many characters (the full one: `hem describe`)


@dataclass(frozen=True)
class Level:
    id: str
    meaning: str
    short: str  # what an answer prints beside a status


@disk_cached
def evidence_scale() -> tuple[Level, ...]:
    """The evidence levels of the rule files, strongest first; the last is the level of no evidence."""
    import tomllib

    levels: list[Level] = []
    for f in package_files("rules", "*.toml"):
        for entry in tomllib.loads(f.read_text(encoding="utf-8")).get("evidence_level", []):
            missing = [k for k in ("id", "meaning", "short") if not entry.get(k)]
            if missing:
                raise RuleFileError(f"{f.name}: an [[evidence_level]] lacks {', '.join(missing)}",
                                    "give each level an id, a one-line meaning and the short words answers print")
            levels.append(Level(entry["id"], entry["meaning"], entry["short"]))
    ids = [lv.id for lv in levels]
    if len(set(ids)) < len(ids) or not levels:
        raise RuleFileError(f"the evidence scale must name each level once (found {ids})",
                            "keep one [[evidence_level]] table per level in rules/85-evidence.toml")
    return tuple(levels)


@functools.cache
def short_words() -> dict[str, str]:
    """Level id -> the words answers print beside a status or role."""
    return {lv.id: lv.short for lv in evidence_scale()}


@functools.cache
def rank() -> dict[str, int]:
    """Level id -> its place on the scale (0 is the strongest)."""
    return {lv.id: i for i, lv in enumerate(evidence_scale())}


def check_rules(rules: tuple[engine.Rule, ...]) -> None:
    """Refuse a rule that concludes an evidence level not on the scale (a RuleFileError naming it)."""
    for rule in rules:
        for atom in rule.then:
            if atom.predicate in ("evidence", "role_evidence"):
                level = atom.args[-1]
                if not (isinstance(level, str) and level.startswith("?")) and level not in rank():
                    raise RuleFileError(f"{rule.file}, rule '{rule.id}': '{level}' is not an evidence level",
                                        f"use one of {', '.join(rank())}")


def strongest(levels: list[str]) -> str:
    """The strongest of the levels on the scale, or the scale's last (no evidence) when there are none."""
    return min(levels, key=rank().__getitem__) if levels else evidence_scale()[-1].id


# An item, with the library's observations it lists and those it leaves out (counted, each once, in its level's
# `more` item)
Item = tuple[dict[str, Any], frozenset[engine.Fact], frozenset[engine.Fact]]
# The library materials an item over gathered reports lists (_closest), sorted: a tuple of words, which the cycle
# collector stops tracking, where a frozenset stays in its sight as long as a cache keeps it
Listed = tuple[str, ...]
# items by derivation (Derivation.key) and, for an item over gathered reports of which only the closest are listed,
# the library materials listed (_closest)
Items = dict[tuple[tuple[object, ...], Listed | None], Item]
NO_FACTS: frozenset[engine.Fact] = frozenset()

# Items that rest on the paper alone, for every consultation of the process: such an item is a function of its
# rule, premises and bindings (a premise's source is a function of the fact), so the same item in the next
# consultation is not built again. A consultation with a library keeps its items with the library
# (LibraryFindings.items), whose findings and names are fixed for one revision. Callers copy an item; nobody
# changes it.
_PAPER_ITEMS: Items = {}
PAPER_ITEMS_LIMIT = 50_000  # about 2,500 distinct candidates' worth; then the cache starts afresh


def _item(c: Consultation, level: str | None, derivation: engine.Derivation, all_findings: bool = False
          ) -> Item:
    """One item of evidence_detail: the level, the rule's sentence, and the sources the rule matched; with the
    library's observations it lists and those it leaves out.

    A rule that grades a mechanism and an element's role at once (evidence(M, L) and role_evidence(X, M, L))
    gives both the same item, built once: per process for the paper's, per library (of one revision) with one.
    A rule that reads reports gathered once for every candidate (engine.share; rules/85-evidence.toml: disputes,
    the materials showing an element's mechanism) lists the reports behind them: every one of the paper's, and of a
    library's those on the RELATED_SHOWN materials sharing most elements with the candidate (unless
    `all_findings`), the rest counted."""
    items = c.library.items if c.library else _PAPER_ITEMS
    closest = _listed_closest(c, derivation, all_findings)
    found = kept_or_made(items, (derivation.key, closest), PAPER_ITEMS_LIMIT, _made_item, c, derivation, closest)
    return {"level": level, **found[0]}, found[1], found[2]


def _listed_closest(c: Consultation, derivation: engine.Derivation, all_findings: bool) -> Listed | None:
    """The library materials the item of a rule over gathered reports lists (_kept), or None where it lists every
    one (no library, `all_findings`, or a rule that reads no gathered reports)."""
    library = c.library
    if library is None or all_findings or derivation.rule.id not in library.gathering_readers:
        return None
    return _kept(library, c, derivation)


def _made_item(c: Consultation, derivation: engine.Derivation, closest: Listed | None) -> Item:
    behind = _members(c, derivation)
    if behind.members:
        return _gathered_item(c, derivation, behind, closest)
    sources = tuple(c.result.sources.get(p, NO_SOURCE) for p in derivation.premises)
    listed = c.library.rests_on(derivation, c.result.derivations) if c.library else NO_FACTS
    return _from(c.library, derivation, sources), listed, NO_FACTS


def gathered(c: Consultation, derivation: engine.Derivation) -> list[engine.Derivation]:
    """The derivations of a derivation's premises that the engine derived once from the reports alone (the
    reports a candidate's rule reads as one gathered fact: engine.share), or none."""
    shared = c.result.derivations.shared
    if not shared:
        return []
    return [m for p in derivation.premises for m in shared.get(p, ())]


def _kept(library: LibraryFindings, c: Consultation, derivation: engine.Derivation) -> Listed | None:
    """_closest() of a derivation's gathered reports, once per library revision for the candidate's elements among
    the library's (LibraryFindings.mask): the same for each candidate that differs only in others."""
    return kept_or_made(library.closest, (derivation.key, c.library_mask), PAPER_ITEMS_LIMIT, _closest,
                        library, c, derivation)


def _closest(library: LibraryFindings, c: Consultation, derivation: engine.Derivation) -> Listed | None:
    """Of the library's materials behind a rule's gathered reports, the RELATED_SHOWN nearest the candidate's
    elements (LibraryFindings.nearest), or None where there are no more than that: every one is listed. The item
    over those reports is the same for every candidate with the same closest materials."""
    behind = _members(c, derivation)
    if len(behind.naming) <= RELATED_SHOWN:
        return None
    return tuple(sorted(library.nearest(behind.naming_bits, c.library_mask, RELATED_SHOWN)))


class _Member(NamedTuple):
    """What an item over gathered reports takes from one of their derivations, whatever the candidate."""

    names: tuple[str, ...]  # the reported materials it matched (materials_bound)
    labels: tuple[str, ...]  # theirs, as answers name them
    library_names: tuple[str, ...]  # those of them that are library contributions
    cites: _Cites  # what the sources of the facts it rests on say an item cites
    reports: tuple[tuple[tuple[str, str], dict[str, Any]], ...]  # its reports, each with (material, statement)
    observations: frozenset[engine.Fact]  # the library's observations it rests on (LibraryFindings.rests_on)


def _member(c: Consultation, m: engine.Derivation) -> _Member:
    """A gathered derivation as _Member, made once per library revision (engine.share recorded it once)."""
    library = c.library
    found = library.members.get(m.key) if library else None
    if found is None:
        names = materials_bound(m)
        rests = tuple(c.result.derivations.leaves(m))
        sources = c.result.sources
        found = _Member(names, tuple(_material_label(x) for x in names), tuple(x for x in names if is_library_name(x)),
                        _cites(library, tuple(dict.fromkeys(sources.get(p, NO_SOURCE) for p in rests))),
                        _member_reports(c, len(names) > 1, rests),
                        library.rests_on(m, c.result.derivations) if library else NO_FACTS)
        if library:
            if len(library.members) >= PAPER_ITEMS_LIMIT:
                library.members.clear()
            library.members[m.key] = found
    return found


class _Gathered(NamedTuple):
    """The derivations gathered() behind a derivation's premises, as an item over them reads them."""

    members: tuple[_Member, ...]
    unnamed: tuple[int, ...]  # the places of the members that name no library material: always listed
    naming: dict[str, tuple[int, ...]]  # library material -> the places of the members naming it
    naming_bits: int  # those library materials as LibraryFindings.material_bits
    observations: frozenset[engine.Fact]  # the library's observations all of them rest on


def _members(c: Consultation, derivation: engine.Derivation) -> _Gathered:
    """_Gathered, once per library revision and derivation (by its key)."""
    library = c.library
    found = library.gathered_members.get(derivation.key) if library else None
    if found is None:
        members = tuple(_member(c, m) for m in gathered(c, derivation))
        naming: dict[str, list[int]] = {}
        for i, member in enumerate(members):
            for x in member.library_names:
                naming.setdefault(x, []).append(i)
        unnamed = tuple(i for i, member in enumerate(members) if not member.library_names)
        found = _Gathered(members, unnamed, {x: tuple(places) for x, places in naming.items()},
                          library.material_bits(naming) if library else 0,
                          NO_FACTS.union(*(member.observations for member in members)))
        if library:
            if len(library.gathered_members) >= PAPER_ITEMS_LIMIT:
                library.gathered_members.clear()
            library.gathered_members[derivation.key] = found
    return found


def _gathered_item(c: Consultation, derivation: engine.Derivation, behind: _Gathered,
                   kept: Listed | None) -> Item:
    """The item of a rule over gathered reports: its sentence, and the reports behind it (see _item); with `kept`,
    only the members whose library materials are all among them are listed."""
    library = c.library
    if kept is None:
        shown = behind.members
    else:
        members, places = behind.members, set(behind.unnamed)
        for x in kept:
            places.update(i for i in behind.naming.get(x, ()) if all(y in kept for y in members[i].library_names))
        shown = tuple(behind.members[i] for i in sorted(places))  # in the members' order
    item = _head(derivation, _united([member.cites for member in shown]).references(derivation.rule))
    materials: dict[str, str] = {}  # in the members' order, each once
    for member in shown:
        for x, label in zip(member.names, member.labels, strict=True):
            materials.setdefault(x, label)
    if materials:
        item["materials"] = list(materials.values())
    reports: dict[tuple[str, str], dict[str, Any]] = {}
    for member in shown:
        for at, report in member.reports:
            reports.setdefault(at, report)
    if reports:
        item["reports"] = list(reports.values())
    if library is None:
        return item, NO_FACTS, NO_FACTS
    listed = NO_FACTS.union(*(member.observations for member in shown))
    return item, listed, behind.observations - listed  # those the members left out rest on, listed by none shown


def _member_reports(c: Consultation, pair: bool, rests: tuple[engine.Fact, ...]
                    ) -> tuple[tuple[tuple[str, str], dict[str, Any]], ...]:
    """The reports among the facts a gathered derivation rests on, each once, with the material it is on
    (`material`) and, for a dispute (`pair`: a member with ?mat and ?other), its side: 0 where the element took
    part, 1 where it did not; each with its material and statement, by which an item lists it once."""
    statements = knowledge.statements()
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for p in rests:
        if p[0] != "observed":
            continue
        source = c.result.sources.get(p, NO_SOURCE)
        finding = c.library.of_source(source) if c.library else None
        if finding is not None:
            report = library_report(finding)
        elif source.kind == "kg" and source.detail in statements and statements[source.detail].observed_in:
            report = dict(_report(source.detail))
        else:
            continue
        report["material"] = _material_label(str(p[1][2]))
        if pair:
            report["side"] = 0 if p[1][3] == "observed" else 1
        out.setdefault((report["material"], report["statement"]), report)
    return tuple(out.items())


def _material_label(name: str) -> str:
    from hemkg.consultation.literature import label as library_label

    return library_label(name) or knowledge.label(HEMKG + name)


class _Cites(NamedTuple):
    """What an item's sources say it cites: a report's own references say where it was seen (the rule's, Section
    3.1's examples, are in `rule`); a library finding names its paper by DOI (in `reports`), not by a reference
    number of the paper; an item with neither cites its rule's references and its sources'."""

    reported: tuple[str, ...]  # the paper's reports among the sources (statement IRIs), each once
    report_references: frozenset[int]
    found: tuple[LibraryFinding, ...]  # the library's findings among them
    source_references: frozenset[int]

    def references(self, rule: engine.Rule) -> list[int]:
        if self.reported or self.found:
            return sorted(self.report_references)
        return sorted(self.source_references.union(rule.references))


def _cites(library: LibraryFindings | None, sources: tuple[engine.Source, ...]) -> _Cites:
    statements = knowledge.statements()
    reported = tuple(dict.fromkeys(s.detail for s in sources if s.kind == "kg" and s.detail in statements
                                   and statements[s.detail].observed_in))
    found = tuple(f for f in (library.of_source(s) for s in sources) if f is not None) if library else ()
    return _Cites(reported, frozenset(n for iri in reported for n in statements[iri].references), found,
                  frozenset(n for s in sources for n in s.references))


def _united(cites: list[_Cites]) -> _Cites:
    """The _Cites of several members' sources together (an item over gathered reports)."""
    if len(cites) == 1:
        return cites[0]
    return _Cites(tuple(dict.fromkeys(iri for c in cites for iri in c.reported)),
                  frozenset().union(*(c.report_references for c in cites)), tuple(f for c in cites for f in c.found),
                  frozenset().union(*(c.source_references for c in cites)))


def _from(library: LibraryFindings | None, derivation: engine.Derivation, sources: tuple[engine.Source, ...]
          ) -> dict[str, Any]:
    """An item's _head, with the reports among `sources` (the paper's and the library's findings)."""
    cites = _cites(library, sources)
    item = _head(derivation, cites.references(derivation.rule))
    if cites.reported or cites.found:
        item["reports"] = [dict(_report(iri)) for iri in cites.reported] + [library_report(f) for f in cites.found]
    return item


def _head(derivation: engine.Derivation, references: list[int]) -> dict[str, Any]:
    """An item's rule, sentence, references and location, with its element and materials from the bindings."""
    from hemkg.consultation.rules import statement_text

    bindings = dict(derivation.bindings)
    item: dict[str, Any] = {
        "rule": derivation.rule.id,
        "text": statement_text(derivation),
        "references": references,
        "location": derivation.rule.location,
    }
    if "?x" in bindings:
        item["element"] = str(bindings["?x"])
    materials = [_material_label(m) for m in materials_bound(derivation)]
    if materials:
        item["materials"] = materials
    return item


def library_report(finding: LibraryFinding) -> dict[str, Any]:
    """A library finding as a report: what it says, its paper's DOI, its quote (cut to QUOTE_CHARS) and the
    evidence level the library records for it (abstract, full_text, figure or table)."""
    return {"statement": finding.statement, "references": [], "location": "", "source": "library",
            "doi": finding.doi, "quote": _cut(finding.quote), "evidence_level": finding.evidence_level}


def _cut(quote: str) -> str:
    """The quote, or its first QUOTE_CHARS characters with an ellipsis."""
    return quote if len(quote) <= QUOTE_CHARS else quote[: QUOTE_CHARS - 1].rstrip() + "…"


@functools.cache
def _report(iri: str) -> dict[str, Any]:
    """A reported example as evidence: what it says, where, and its quote cut to QUOTE_CHARS (copy before use)."""
    st = knowledge.statements()[iri]
    report: dict[str, Any] = {"statement": st.label, "references": st.references, "location": st.location,
                              "source": "paper"}
    if st.reversibility_label:  # ref 46: Co and Ni convert but are only partly re-oxidised
        report["reversibility"] = st.reversibility_label
    quote = " ".join(st.scope_notes)
    if quote:
        report["quote"] = _cut(quote)
    return report


RELATED = "reported_related"  # the levels whose library items are summarised beyond RELATED_SHOWN: reports on
CONFLICTING = "conflicting"    # related materials, and library findings that disagree with a report in the same way
Pairs = list[tuple[Any, engine.Derivation]]  # (level, derivation), in the rules' order


def graded(c: Consultation, predicate: str, all_findings: bool = False
           ) -> dict[tuple[str, ...], dict[str, Any]]:
    """For each subject the rules graded with `predicate` (a mechanism for evidence(M, LEVEL); an element and
    role for role_evidence(X, ROLE, LEVEL)): the strongest level and the conclusions behind it, strongest first.

    The strongest level is read from every conclusion. Of the library's materials behind an item over gathered
    reports (the disputes on an element: ref 46's Zn converting against each library stabilizer finding; the
    materials showing its mechanism), and of the library's materials matched one by one beside a report on this
    very material (`summarised`), only the RELATED_SHOWN closest are listed (unless `all_findings`), the rest
    counted in one item per level."""
    found: dict[tuple[str, ...], Pairs] = {}
    for args in c.result.words(predicate):
        for d in c.result.derivations.get((predicate, args), []):
            found.setdefault(args[:-1], []).append((args[-1], d))
    out: dict[tuple[str, ...], dict[str, Any]] = {}
    for key, pairs in found.items():
        grade = _kept_detail(c, pairs, all_findings, _grade, (CONFLICTING, RELATED))
        out[key] = {"evidence": grade["evidence"], "evidence_detail": [dict(i) for i in grade["evidence_detail"]]}
    return out


_PAPER_DETAILS: dict[Any, Any] = {}  # _kept_detail's without a library, for every consultation of the process


def _kept_detail(c: Consultation, pairs: Pairs, all_findings: bool, make: Callable[[Consultation, Pairs, bool], Any],
                 cut_levels: tuple[str | None, ...]) -> Any:
    """What `make` makes of the pairs (a grade, a list of items), once per process and library revision for what
    it is made of (_shared_detail). Found first under the pairs and the candidate's elements, so that a candidate
    consulted again finds its own without working out what its items list. Callers copy the items; nobody changes
    them."""
    details = c.library.details if c.library is not None else _PAPER_DETAILS
    pairs_key = tuple((level, d.key) for level, d in pairs)
    # keys of words and numbers alone (the maker by name), which the cycle collector stops tracking
    return kept_or_made(details, (make.__name__, all_findings, c.library_mask, pairs_key), PAPER_ITEMS_LIMIT,
                        _shared_detail, details, c, pairs, all_findings, make, cut_levels, pairs_key)


def _shared_detail(details: dict[Any, Any], c: Consultation, pairs: Pairs, all_findings: bool,
                   make: Callable[[Consultation, Pairs, bool], Any], cut_levels: tuple[str | None, ...],
                   pairs_key: tuple[Any, ...]) -> Any:
    """_kept_detail's, kept under what it is made of: the pairs (levels and Derivation.key: like _item's, a function
    of them), the library materials each of their items lists (_listed_closest) and, where summarised() may cut
    the pairs of a level in `cut_levels`, the candidate's elements among the library's (LibraryFindings.mask).
    Most grades list no library material picked for the candidate, so a new candidate shares them with others."""
    cuts = c.library is not None and not all_findings and any(
        sum(1 for level, _ in pairs if level == cut) > RELATED_SHOWN for cut in cut_levels)
    at = (make.__name__, all_findings, c.library_mask if cuts else None, pairs_key,
          tuple(_listed_closest(c, d, all_findings) for _, d in pairs))
    return kept_or_made(details, at, PAPER_ITEMS_LIMIT, make, c, pairs, all_findings)


def _grade(c: Consultation, pairs: Pairs, all_findings: bool) -> dict[str, Any]:
    """graded()'s grade of one subject: the strongest level of the pairs, and their items, strongest first."""
    shown = pairs
    # by level: the library's observations left out, and those listed (united only where some are left out)
    left: dict[str, list[frozenset[engine.Fact]]] = {}
    listed: dict[str, list[frozenset[engine.Fact]]] = {}
    if not all_findings and c.library is not None:
        present = {lv for lv, _ in pairs}
        for level in (lv for lv in (CONFLICTING, RELATED) if lv in present):
            shown, cut = summarised(c, shown, level)
            if cut:
                left.setdefault(level, []).append(cut)
    detail: list[dict[str, Any]] = []
    for level, d in shown:
        item, has, cut = _item(c, level, d, all_findings)
        detail.append(item)
        if has:
            listed.setdefault(level, []).append(has)
        if cut:
            left.setdefault(level, []).append(cut)
    for level, cuts in left.items():
        more = _left_out(cuts, listed.get(level, []))
        if more:
            detail.append(more_item(level, more))
    order = rank()
    return {"evidence": strongest([level for level, _ in pairs]),
            "evidence_detail": sorted(detail, key=lambda i: order[i["level"]])}  # stable: the count last


def _left_out(cut: list[frozenset[engine.Fact]], listed: list[frozenset[engine.Fact]]) -> int:
    """How many library observations the items of a level leave out and none of them lists: each counted once."""
    return len(NO_FACTS.union(*cut).difference(*listed))


def summarised(c: Consultation, pairs: Pairs, level: object) -> tuple[Pairs, frozenset[engine.Fact]]:
    """The pairs to list and the library's observations the others rest on: every pair but those of `level` on a
    library material (the ?mat or ?other of the rule), of which those on the RELATED_SHOWN materials that share
    the most elements with the candidate (then by DOI): every pair of a listed material is listed (a library
    stabilizer finding that disagrees with ref 46 and with ref 48 shows both). Decided from the bindings alone:
    a cut item is never built."""
    library = c.library
    if library is None or [lv for lv, _ in pairs].count(level) <= RELATED_SHOWN:
        return pairs, NO_FACTS  # each pair names one library material at most: none to cut
    seen = {i: _on_library(library, d, c.result.derivations) for i, (lv, d) in enumerate(pairs) if lv == level}
    ours = [(i, material) for i, (material, _) in seen.items() if material is not None]
    materials = {m for _, m in ours}
    if len(materials) <= RELATED_SHOWN:
        return pairs, NO_FACTS
    place = {m: k for k, m in enumerate(library.nearest(materials, c.library_mask, RELATED_SHOWN))}
    mine = {i for i, _ in ours}
    cut = {i for i, m in ours if m not in place}
    kept = [p for i, p in enumerate(pairs) if i not in mine]  # the others in place, then the listed, closest first
    kept += [pairs[i] for i, m in sorted(((i, m) for i, m in ours if m in place), key=lambda x: (place[x[1]], x[0]))]
    return kept, NO_FACTS.union(*(seen[i][1] for i in cut))  # those a listed item shows too: graded() subtracts them


def _on_library(library: LibraryFindings, d: engine.Derivation, derivations: engine.Derivations
                ) -> tuple[str | None, frozenset[engine.Fact]]:
    """The library contribution a derivation's rule matched as ?mat or ?other (or None), and the library's
    observations the derivation rests on: the same for every derivation of the rule and values bound (its key),
    so kept per library revision."""
    return kept_or_made(library.on_library, d.key, PAPER_ITEMS_LIMIT, _made_on_library, library, d, derivations)


def _made_on_library(library: LibraryFindings, d: engine.Derivation, derivations: engine.Derivations
                     ) -> tuple[str | None, frozenset[engine.Fact]]:
    return library_material(d), library.rests_on(d, derivations)


MATERIAL_VARIABLES = ("?mat", "?other")  # the variables by which the evidence rules name reported materials


def materials_bound(d: engine.Derivation) -> tuple[str, ...]:
    """The reported materials a derivation's rule matched (as ?mat, then ?other), by their names."""
    places = _MATERIAL_PLACES.get(d.rule.id)
    if places is None:
        names = d.rule.bound_names
        places = _MATERIAL_PLACES[d.rule.id] = tuple(names.index(v) for v in MATERIAL_VARIABLES if v in names)
    bound = d.bound
    return tuple(str(bound[i]) for i in places)


_MATERIAL_PLACES: dict[str, tuple[int, ...]] = {}  # rule id -> where ?mat, then ?other, are among its values bound


def library_material(d: engine.Derivation) -> str | None:
    """The library contribution (lib-KEY) a derivation's rule matched as ?mat or ?other, or None."""
    return next((m for m in materials_bound(d) if is_library_name(m)), None)


def more_item(level: str | None, more: int) -> dict[str, Any]:
    """The one item that counts the library findings not listed: on related materials, on materials of the other
    kind, or disagreeing with a report as those listed do."""
    findings = f"{more} more finding{'s' if more != 1 else ''} in your library"
    what = {RELATED: f"{findings} on related materials", CONFLICTING: f"{findings} that disagree likewise",
            None: f"{findings} on materials of the other kind (not counted)"}[level]
    return {"level": level, "source": "library", "more": more,
            "text": f"{what}, none on a material sharing more of the candidate's elements than those listed; "
                    "hem consult --all-findings lists them"}


def ungraded() -> dict[str, Any]:
    """The grade of a subject no rule concluded evidence for."""
    return {"evidence": evidence_scale()[-1].id, "evidence_detail": []}


def elsewhere(c: Consultation, all_findings: bool = False) -> dict[str, list[dict[str, Any]]]:
    """By mechanism: reports on materials of the other kind (HEM or not) that show it. Listed, never counted;
    of the library's, the RELATED_SHOWN closest (unless `all_findings`), the rest counted in one item."""
    found: dict[str, Pairs] = {}
    for args in c.result.words("shown_other_kind"):
        for d in c.result.derivations.get(("shown_other_kind", args), []):
            found.setdefault(args[1], []).append((None, d))
    return {m: [dict(i) for i in _kept_detail(c, pairs, all_findings, _elsewhere, (None,))]
            for m, pairs in found.items()}


def _elsewhere(c: Consultation, pairs: Pairs, all_findings: bool) -> list[dict[str, Any]]:
    """elsewhere()'s items of one mechanism."""
    shown, cut = (pairs, NO_FACTS) if all_findings else summarised(c, pairs, None)
    left, listed = [cut], []
    out = []
    for _, d in shown:
        item, has, item_cut = _item(c, None, d, all_findings)
        out.append({**item, "counts": False})
        left.append(item_cut)
        listed.append(has)
    more = _left_out(left, listed)
    if more:
        out.append({**more_item(None, more), "counts": False})
    return out
