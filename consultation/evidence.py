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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hemkg import engine
from hemkg.consultation.literature import RELATED_SHOWN, is_library_name
from hemkg.errors import RuleFileError
from hemkg.graph import statements as knowledge
from hemkg.graph.diskcache import disk_cached
from hemkg.graph.store import HEMKG, package_files

if TYPE_CHECKING:
    from hemkg.consultation.consultation import Consultation
    from hemkg.consultation.literature import LibraryFinding

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


Items = dict[tuple[str, tuple[engine.Fact, ...], tuple], dict[str, Any]]  # items by rule, premises and bindings

# Items that rest on the paper alone, for every consultation of the process: such an item is a function of its
# rule, premises and bindings (a premise's source is a function of the fact), so the same item in the next
# consultation is not built again. A consultation with a library keeps its items with the library
# (LibraryFindings.items), whose findings and names are fixed for one revision. Callers copy an item; nobody
# changes it.
_PAPER_ITEMS: Items = {}
PAPER_ITEMS_LIMIT = 50_000  # about 2,500 distinct candidates' worth; then the cache starts afresh


def _item(c: Consultation, level: str | None, derivation: engine.Derivation) -> dict[str, Any]:
    """One item of evidence_detail: the level, the rule's sentence, and the sources the rule matched.

    A rule that grades a mechanism and an element's role at once (evidence(M, L) and role_evidence(X, M, L))
    gives both the same item, built once: per process for the paper's, per library (of one revision) with one."""
    items = c.library.items if c.library else _PAPER_ITEMS
    key = (derivation.rule.id, derivation.premises, derivation.bindings)
    found = items.get(key)
    if found is None:
        if len(items) >= PAPER_ITEMS_LIMIT:
            items.clear()
        sources = tuple(c.result.sources.get(p, NO_SOURCE) for p in derivation.premises)
        found = items[key] = _from(c if c.library else None, derivation, sources)
    return {"level": level, **found}


def _from(c: Consultation | None, derivation: engine.Derivation, sources: tuple[engine.Source, ...]) -> dict[str, Any]:
    from hemkg.consultation.literature import label as library_label
    from hemkg.consultation.rules import statement_text

    statements = knowledge.statements()
    bindings = dict(derivation.bindings)
    reported = [s.detail for s in sources if s.kind == "kg" and s.detail in statements
                and statements[s.detail].observed_in]
    found = [f for f in (c.library.of_source(s) for s in sources) if f is not None] if c and c.library else []
    # a report's own references say where it was seen; the rule's (Section 3.1's examples) are in `rule`;
    # a library finding names its paper by DOI (in `reports`), not by a reference number of the paper
    cited = {n for iri in reported for n in statements[iri].references} if reported or found else \
        set(derivation.rule.references) | {n for s in sources for n in s.references}
    item: dict[str, Any] = {
        "rule": derivation.rule.id,
        "text": statement_text(derivation),
        "references": sorted(cited),
        "location": derivation.rule.location,
    }
    if "?x" in bindings:
        item["element"] = str(bindings["?x"])
    materials = [library_label(str(bindings[v])) or knowledge.label(HEMKG + str(bindings[v]))
                 for v in ("?mat", "?other") if v in bindings]
    if materials:
        item["materials"] = materials
    if reported or found:
        item["reports"] = [dict(_report(iri)) for iri in reported] + [library_report(f) for f in found]
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

    The strongest level is read from every conclusion. Of the library's reported_related items, and of its
    findings in conflicting items (one per library material that disagrees with one of the paper's reports:
    ref 46's Zn converting against each library stabilizer finding), only the RELATED_SHOWN closest are listed
    (unless `all_findings`), the rest counted in one item per level (`summarised`)."""
    found: dict[tuple[str, ...], Pairs] = {}
    for args in c.result.words(predicate):
        for d in c.result.derivations.get((predicate, args), []):
            found.setdefault(args[:-1], []).append((args[-1], d))
    order = rank()
    out: dict[tuple[str, ...], dict[str, Any]] = {}
    for key, pairs in found.items():
        shown, counted = pairs, []
        if not all_findings:
            for level in (CONFLICTING, RELATED):
                shown, more = summarised(c, shown, level)
                counted += [(level, more)] if more else []
        detail: list[dict[str, Any]] = [_item(c, level, d) for level, d in shown]
        detail += [more_item(level, more) for level, more in counted]
        out[key] = {"evidence": strongest([level for level, _ in pairs]),
                    "evidence_detail": sorted(detail, key=lambda i: order[i["level"]])}  # stable: the count last
    return out


def summarised(c: Consultation, pairs: Pairs, level: object) -> tuple[Pairs, int]:
    """The pairs to list and how many library findings the rest rest on: every pair but those of `level` on a
    library material (the ?mat or ?other of the rule), of which those on the RELATED_SHOWN materials that share
    the most elements with the candidate (then by DOI): every pair of a listed material is listed (a library
    stabilizer finding that disagrees with ref 46 and with ref 48 shows both). Decided from the bindings alone:
    a cut item is never built."""
    library = c.library
    if library is None:
        return pairs, 0
    ours = [(i, material) for i, (lv, d) in enumerate(pairs) if lv == level
            for material in (library_material(d),) if material is not None]
    elements = set(c.formula.composition)
    close = library.closeness
    materials = sorted({m for _, m in ours}, key=lambda m: close(m, elements))
    if len(materials) <= RELATED_SHOWN:
        return pairs, 0
    place = {m: k for k, m in enumerate(materials[:RELATED_SHOWN])}
    mine = {i for i, _ in ours}
    cut = {i for i, m in ours if m not in place}
    kept = [p for i, p in enumerate(pairs) if i not in mine]  # the others in place, then the listed, closest first
    kept += [pairs[i] for i, m in sorted(((i, m) for i, m in ours if m in place), key=lambda x: (place[x[1]], x[0]))]
    observations = library.observations
    listed = {f for _, d in kept for f in d.premises if f in observations}
    behind = {f for i in cut for f in pairs[i][1].premises if f in observations} - listed
    return kept, len(behind)


def library_material(d: engine.Derivation) -> str | None:
    """The library contribution (lib-KEY) a derivation's rule matched as ?mat or ?other, or None."""
    for name, value in d.bindings:
        if name in ("?mat", "?other") and is_library_name(value):
            return str(value)
    return None


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
    out = {}
    for m, pairs in found.items():
        shown, more = (pairs, 0) if all_findings else summarised(c, pairs, None)
        out[m] = [{**_item(c, None, d), "counts": False} for _, d in shown]
        if more:
            out[m].append({**more_item(None, more), "counts": False})
    return out
