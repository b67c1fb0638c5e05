"""`hem explain`: why a consultation concluded what it did, read off the derivations the engine recorded.

Nothing here re-derives a conclusion. For each conclusion asked about, the
short form gives the conclusion in words, the rule that drew it (its id,
statement, references and place in the paper), and the leaves of its
derivation: the facts from the knowledge graph (with their statement's
references) and from the user's input. A status also shows the evidence the
rules graded for its mechanism (`evidence(M, LEVEL)`, and any
`overruled(X, M, MATERIAL)`: a report on the consulted material that outranks
the plane which would give X the mechanism M); a role shows
`role_evidence(X, R, LEVEL)` for its element and role. `--full` gives the
whole tree, every intermediate conclusion with its rule. Both are rendered
from the same JSON-ready dict that `--json` prints.
"""

from __future__ import annotations

import functools
import re
import textwrap
from collections.abc import Callable, Iterable
from typing import Any

from hemkg import engine
from hemkg.answers import report
from hemkg.consultation import evidence as grading
from hemkg.consultation import literature
from hemkg.consultation.consultation import Consultation, effect_properties
from hemkg.consultation.estimates import KINDS, rounded
from hemkg.consultation.rules import statement_text
from hemkg.engine import Derivation, Fact
from hemkg.errors import InputError
from hemkg.graph import statements as knowledge
from hemkg.graph.materials import SPECIFIC_CAPACITY
from hemkg.graph.store import HEMKG, short
from hemkg.graph.vocab import Term, spoken_list, vocab

TOP_LEVEL = ("status", "role", "effect", "recommend", "note", "caution", "warning", "weaker", "ordered",
              "confirm_with", "complement_with")
# graded by the rules; shown beside a status or a role (shown_other_kind: reports of the other kind, never counted)
EVIDENCE = ("evidence", "role_evidence", "overruled", "shown_other_kind")
# How the short form counts the conclusions it does not explain one by one: predicate -> (one, several).
NOUNS = {"status": ("status", "statuses"), "role": ("role", "roles"), "effect": ("effect", "effects"),
         "recommend": ("recommendation", "recommendations"), "note": ("note", "notes"),
         "caution": ("caution", "cautions"), "warning": ("warning", "warnings"),
         "weaker": ("weakening by the carrier ion", "weakenings by the carrier ion"),
         "ordered": ("ordering", "orderings"),
         "confirm_with": ("technique", "techniques"), "complement_with": ("technique", "techniques")}


def _words(terms: Iterable[Term]) -> dict[str, str]:
    """The words a user may give to --about for each term (its name, JSON key, labels) -> the term's name."""
    return {word: t.name for t in terms for word in t.words}


def _label(name: str) -> str:
    """A term's label in the graph (its name spelled with hyphens or underscores), or the name as it is."""
    for spelling in (name, name.replace("_", "-")):
        if HEMKG + spelling in knowledge.labels():
            return knowledge.label(HEMKG + spelling)
    return literature.label(name) or name


def _a(noun: str) -> str:
    """'anion' -> 'an anion'."""
    return f"{'an' if noun[:1] in 'aeiou' else 'a'} {noun}"


def _same(a: object, b: object) -> bool:
    """Names equal up to the spelling of their separators: not-accessible and not_accessible are one name."""
    return str(a).replace("_", "-") == str(b).replace("_", "-")


def _level(level: str) -> str:
    """An evidence level in words (the rules spell it reported_here or reported-here)."""
    for name in (level, level.replace("-", "_")):
        if _label(name) != name:
            return _label(name)
    return level.replace("_", " ").replace("-", " ")


def _role_phrase(element: str, role: str, several: bool = False) -> str:
    """'Zn takes part in conversion', 'Mg is an inactive stabilizer'; for several elements, their plural."""
    roles = {r.name: r.label for r in vocab().roles}
    if role in roles:
        return f"{element} {'are each' if several else 'is'} {_a(roles[role])}"
    return f"{element} {'take' if several else 'takes'} part in {_label(role)}"


def _sentences(a: list[str]) -> dict[str, Callable[[], str]]:
    """A sentence for each predicate, filled from the arguments `a` (as shown) when called."""
    v = vocab()
    plane = {p.name: p.short_label for p in v.planes}
    statuses = {s.name: s.label for s in v.statuses}
    return {
        "status": lambda: f"{_label(a[0])} is {statuses.get(a[1], a[1].replace('-', ' '))}",
        "mechanism_element": lambda: f"{a[1]} is an element of {_label(a[0])}",
        "role": lambda: _role_phrase(a[0], a[1]),
        "effect": lambda: f"{a[2]} {'raises' if a[1] == '+' else 'lowers'} {_label(a[0])}",
        "element": lambda: f"{a[0]} is in the formula",
        "amount": lambda: f"{a[1]} {a[0]} per formula unit",
        "ion": lambda: f"the carrier ion is {a[0]}+",
        "anion": lambda: f"{a[0]} is an anion",
        "cation": lambda: f"{a[0]} is a cation",
        "candidate_listed_cation": lambda: f"{a[0]} is one of the paper's {len(v.cations)} cations",
        "listed_cation": lambda: f"{a[0]} is one of the paper's {len(v.cations)} cations",
        "listed_anion": lambda: f"{a[0]} is one of the paper's {len(v.anions)} anions",
        "outside_anion": lambda: f"{a[0]} is an anion outside the paper's list",
        "on_plane": lambda: f"{a[0]} is on {plane.get(a[1], a[1])} of Fig. 6a",
        "plane_cation": lambda: f"{a[0]} is a cation on {plane.get(a[1], a[1])}",
        "has_plane": lambda: f"the candidate has a cation on {plane.get(a[0], a[0])}",
        "has_anion": lambda: "the candidate has an anion",
        "has_listed_anion": lambda: f"the candidate has one of the paper's anions ({', '.join(v.anions)})",
        "has_outside_anion": lambda: "the candidate has an anion outside the paper's list",
        "has_listed_cation": lambda: f"the candidate has one of the paper's {len(v.cations)} cations",
        "recommend": lambda: f"recommended: {_label(a[0])}",
        "weaker": lambda: f"{_label(a[0])} is weaker with {a[1]}+ than with Li+",
        "confirm_with": lambda: f"{_label(a[1])} can confirm {_label(a[0])}",
        "complement_with": lambda: (f"{_label(a[1])} complements the study of {_label(a[0])} "
                                      f"(it does not confirm it by itself)"),
        "ordered": lambda: f"{a[1]} ranks above {a[2]} ({a[0].replace('-', ' ')})",
        "rank": lambda: f"{_label(a[1])} is number {a[2]} in the ordering {a[0].replace('-', ' ')}",
        "observed": lambda: (f"in {_label(a[2])}, {_observed_subject(a[0], a[2])} was "
                               f"{'seen' if a[3] == 'observed' else 'not seen'} in {_label(a[1])}"),
        "in_group": lambda: f"{a[0]} is among the {_label(a[1])}",
        "matches_reported": lambda: f"the candidate has the composition of {_label(a[0])}",
        "reported_high_entropy": lambda: f"{_label(a[0])} is called high-entropy in its source",
        "hem_definition_unmet": lambda: (f"on the cation sublattice the candidate does not meet the paper's HEM "
                                           f"definition ({a[0]})"),
        "framework": lambda: ("a conductive framework is given" if a[0] == "_" else
                                f"the conductive framework is {a[0]}"),
        "defect_rich": lambda: "the material is defect-rich",
        "morphology": lambda: "a morphology is given" if a[0] == "_" else f"the morphology is {a[0]}",
        "buffering_morphology": lambda: "the given morphology buffers volume change",
        "evidence": lambda: f"the evidence for {_label(a[0])} is: {_level(a[1])}",
        "role_evidence": lambda: f"the evidence that {_role_phrase(a[0], a[1])} is: {_level(a[2])}",
        "overruled": lambda: (("a report on this very material" if a[2] == "_" else f"the report on {_label(a[2])}")
                              + f" itself outranks the plane that would give {a[0]} {_label(a[1])}"),
        "reported_here": lambda: f"the candidate is {_label(a[0])}, reported with the same carrier ion",
        "structural_here": lambda: f"in {_label(a[1])} itself, {a[0]} is structural, not converting",
        "shown_other_kind": lambda: (f"{a[0]} took part in {_label(a[1])} in materials of the other kind "
                                       "(HEM or not)"),
        # the reports gathered once for every candidate (rules/85-evidence.toml)
        "disputed": lambda: f"reports disagree on whether {a[0]} takes part in {_label(a[1])}",
        "shown": lambda: f"{a[0]} took part in {_label(a[1])} in reported {_kind(a[2])} materials with {a[3]}",
        "shown_in_kind": lambda: f"{a[0]} took part in {_label(a[1])} in reported {_kind(a[2])} materials",
        "shown_in_material": lambda: (f"{a[0]} took part in {_label(a[1])} in {_label(a[4])}, a reported {_kind(a[2])} "
                                      f"material with {a[3]}"),
        "host_report": lambda: (f"{_label(a[1])} was shown in {_label(a[0])}, a reported {_kind(a[2])} material "
                                f"with {a[3]}"),
        "host_shown": lambda: f"{_label(a[0])} was shown in reported {_kind(a[1])} materials with {a[2]} and {a[3]}",
        "host_shown_in_material": lambda: (f"{_label(a[0])} was shown in {_label(a[4])}, a reported {_kind(a[1])} "
                                           f"material with {a[2]} and {a[3]}"),
        "structural": lambda: f"{a[0]} was structural, not converting, in reported {_kind(a[1])} materials with {a[2]}",
        "structural_in_material": lambda: (f"{a[0]} was structural, not converting, in {_label(a[3])}, a reported "
                                           f"{_kind(a[1])} material with {a[2]}"),
        "shown_here": lambda: f"a report on this very material shows {a[0]} in {_label(a[1])}",
        "host_shown_here": lambda: f"a report on this very material shows {_label(a[0])} in it",
        "shown_with_cation": lambda: (f"{_label(a[0])} was shown in related materials with the candidate's "
                                      f"cation {a[1]}"),
        "material_element": lambda: f"{_label(a[0])} contains {a[1]}",
        "material_anion": lambda: f"the anion of {_label(a[0])} is {a[1]}",
        "material_ion": lambda: f"{_label(a[0])} was tested with {a[1]}+",
    }


def _kind(kind: str) -> str:
    """'HEM' or 'non-HEM': a material's kind by the paper's definition, as material_kind(MAT, K) gives it."""
    return KINDS.get(kind, kind)


def _observed_subject(subject: str, material: str) -> str:
    """The element seen (or not) in a material; 'the host' for a finding on the material as a whole (the paper's
    reports on a host, such as ref 45's on (CrMnFeCoNi)3O4, and a library's)."""
    return "the host" if subject == material else subject


@functools.cache
def _has_sentence(predicate: str) -> bool:
    return predicate in _sentences([])


def _generic(fact: Fact) -> str:
    """A fact no sentence is written for, in words: 'caution: phase formation (Zn)'."""
    pred, args = fact
    words = [engine.show_value(x) for x in args]
    words = [_label(w) if w[:1].islower() else w for w in words]  # a term's label; a symbol as it is
    head = f"{pred.replace('_', ' ')}: {words[0].replace('-', ' ')}" if words else pred.replace("_", " ")
    return head + (f" ({', '.join(words[1:])})" if len(words) > 1 else "")


def fact_sentence(fact: Fact) -> str:
    """A fact as a short English sentence (never in the rule language's syntax)."""
    pred, args = fact
    sentences = _sentences([engine.show_value(x) for x in args])
    return sentences[pred]() if pred in sentences else _generic(fact)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


# ------------------------------------------------------------------ the records explained

def _rule(d: Derivation) -> dict[str, Any]:
    return {"rule": d.rule.id, "statement": statement_text(d), "citations": list(d.rule.references),
            "location": d.rule.location, "file": d.rule.file,
            **({"outside_paper": d.rule.basis} if not d.rule.from_paper else {})}


def node(c: Consultation, fact: Fact, seen: set[Fact] | None = None) -> dict[str, Any]:
    """The derivation tree of one fact, as a JSON-ready dict."""
    seen = set() if seen is None else seen
    record: dict[str, Any] = {"fact": engine.fact_text(fact), "text": _base_text(c, fact)}
    if fact in c.result.sources:
        src = c.result.sources[fact]
        record["source"] = {"kind": src.kind, "label": src.label, "citations": list(src.references)}
        if src.kind == "kg":
            record["source"]["statement"] = short(src.detail)
            statement = knowledge.statements().get(src.detail)
            if statement is not None and statement.location:
                record["source"]["location"] = statement.location
        elif src.detail:
            record["source"]["detail"] = src.detail
        return record
    if fact in seen:
        record["shown_above"] = True
        return record
    seen.add(fact)
    record["derived_by"] = [
        {
            **_rule(d),
            "premises": [node(c, p, seen) for p in d.premises],
            "absent": [{"fact": "not " + engine.fact_text(a), "text": "no fact says: " + fact_sentence(a)}
                       for a in d.absent],
        }
        for d in c.result.derivations.get(fact, [])
    ]
    return record


class _Leaves:
    """The base facts under each derived fact (its derivation tree's leaves), in the order a reader meets them."""

    def __init__(self, c: Consultation) -> None:
        self.c = c
        self.memo: dict[Fact, tuple[Fact, ...]] = {}
        self.open: set[Fact] = set()  # on the current path: a recursive rule's facts can rest on each other
        self.records: dict[Fact, tuple[str, dict[str, Any]]] = {}  # each leaf's group and record, made once

    def of(self, fact: Fact) -> tuple[Fact, ...]:
        if fact in self.c.result.sources:
            return (fact,)
        if fact in self.memo:
            return self.memo[fact]
        if fact in self.open:
            return ()
        self.open.add(fact)
        found = self.below(self.c.result.derivations.get(fact, []))
        self.open.discard(fact)
        self.memo[fact] = found
        return found

    def below(self, derivations: Iterable[Derivation], stop: frozenset[Fact] = frozenset()) -> tuple[Fact, ...]:
        """The leaves under `derivations`, not descending into a premise of `stop`."""
        return tuple(dict.fromkeys(leaf for d in derivations for p in d.premises if p not in stop
                                   for leaf in self.of(p)))

    def record(self, fact: Fact) -> tuple[str, dict[str, Any]]:
        if fact not in self.records:
            self.records[fact] = _leaf(self.c, fact)
        return self.records[fact]


def _base_text(c: Consultation, fact: Fact) -> str:
    """A fact in words; a fact of the graph or the input that no sentence is written for reads as its source's
    label (a statement's, or the input's own words)."""
    src = c.result.sources.get(fact)
    if src is not None and src.label and (src.kind == "input" or not _has_sentence(fact[0])):
        return src.label
    return fact_sentence(fact)


def _leaf(c: Consultation, fact: Fact) -> tuple[str, dict[str, Any]]:
    """Which group a base fact belongs to (graph, input or other) and its record."""
    src = c.result.sources[fact]
    record: dict[str, Any] = {"fact": engine.fact_text(fact), "text": _base_text(c, fact)}
    if src.kind == "kg":
        statement = knowledge.statements().get(src.detail)
        record.update(statement=short(src.detail), citations=list(src.references),
                      location=statement.location if statement else "")
        return "graph_facts", record
    record["detail"] = src.detail
    if src.kind == "input":
        return "input_facts", record
    finding = c.library.of_source(src) if c.library else None
    if finding is not None:  # a finding of the user's library: its paper, its words, how it was read
        record.update(doi=finding.doi, quote=finding.quote, evidence_level=finding.evidence_level)
    record["kind"] = src.kind  # a project convention, or an estimate beyond the paper
    return "other_facts", record


def _explained(c: Consultation, fact: Fact, leaves: _Leaves, tree: set[Fact] | None,
               stop: frozenset[Fact] = frozenset()) -> dict[str, Any]:
    """One conclusion: its sentence, its rules, and the facts at the leaves of its derivations. A premise in `stop`
    (the conclusion an evidence item stands beside, whose leaves are given with it) is named, not descended into.
    With `tree` (the facts whose trees the explanation has shown so far), also its derivation tree."""
    derivations = c.result.derivations.get(fact, [])
    rules = [_rule(d) for d in derivations]
    record: dict[str, Any] = {"fact": engine.fact_text(fact), "text": fact_sentence(fact)}
    if rules:
        record.update({k: rules[0][k] for k in ("rule", "statement", "citations", "location")})
    record["rules"] = rules
    record["absent"] = list(dict.fromkeys("no fact says: " + fact_sentence(a) for d in derivations for a in d.absent))
    groups: dict[str, list[dict[str, Any]]] = {"graph_facts": [], "input_facts": [], "other_facts": []}
    rests_on = list(dict.fromkeys(p for d in derivations for p in d.premises if p in stop))
    if rests_on:
        record["rests_on"] = [{"fact": engine.fact_text(p), "text": fact_sentence(p)} for p in rests_on]
    for base in leaves.below(derivations, stop):
        group, item = leaves.record(base)
        groups[group].append(item)
    order = {symbol: i for i, symbol in enumerate(c.formula.composition)}
    groups["input_facts"].sort(key=lambda i: (not i["fact"].startswith("element("),
                                              order.get(i["fact"][len("element("):-1], 0)))
    record.update(groups)
    if tree is not None:
        record["tree"] = node(c, fact, tree)
    return record


def _evidence_for(graded: list[Fact], fact: Fact) -> list[Fact]:
    """Of the evidence the rules graded (`graded`: evidence(M, LEVEL), overruled(X, M, MATERIAL),
    role_evidence(X, R, LEVEL)), what stands beside a status (its mechanism's) or a role (its element's and role's)."""
    pred, args = fact

    def beside(kind: str, given: tuple[engine.Value, ...]) -> bool:
        if pred == "status":
            return (kind == "evidence" and _same(given[0], args[0])) or (
                kind in ("overruled", "shown_other_kind") and len(given) > 1 and _same(given[1], args[0]))
        if pred != "role" or given[0] != args[0] or len(given) < 2:
            return False
        if kind == "role_evidence":
            return _same(given[1], args[1])
        # a report that took the element out of a mechanism: beside that role, or beside a role that is no
        # mechanism (a stabilizer), which is what the report left the element
        return kind == "overruled" and (_same(given[1], args[1]) or args[1] not in vocab().mechanism_names)

    return [f for f in graded if beside(*f)]


CAPACITY = SPECIFIC_CAPACITY  # the property whose explanation also shows the theoretical capacity's arithmetic


def selected_facts(c: Consultation, about: str | None) -> list[Fact]:
    """The conclusions an explanation starts from: by default the statuses and roles."""
    facts = sorted((f for f in c.result.derivations if f[0] in TOP_LEVEL), key=lambda f: (TOP_LEVEL.index(f[0]), f))
    if about is None:
        return [f for f in facts if f[0] in ("status", "role")]
    if about == "all":
        return facts
    key = about.strip()
    mechanisms, properties = _words(vocab().mechanisms), _words(effect_properties())
    if key.lower() in mechanisms:
        mechanism = mechanisms[key.lower()]
        def concerns(f: Fact) -> bool:
            """Names the mechanism, or rests on its status or elements."""
            return mechanism in f[1] or any(
                p[0] in ("status", "mechanism_element") and p[1][0] == mechanism
                for d in c.result.derivations.get(f, []) for p in d.premises)
        return [f for f in facts if concerns(f)]
    if key.lower() in properties:
        prop = properties[key.lower()]
        return [f for f in facts if f[0] == "effect" and f[1][0] == prop]
    if key in c.formula.composition:
        return [f for f in facts if key in f[1]]
    raise InputError(
        f"--about '{about}' is neither a mechanism ({', '.join(vocab().mechanism_names)}), an element of "
        f"{c.formula.text} ({', '.join(c.formula.composition)}), a property "
        f"({', '.join(sorted(properties))}) nor 'all'",
        "e.g. --about alloying, --about Zn, --about capacity",
    )


def _direct(selected: list[Fact], about: str | None) -> set[Fact]:
    """The conclusions that answer the question itself, which the short form explains one by one: the statuses
    and roles (of the mechanism or element asked about); for a property or 'all', every one selected. The others
    (effects, notes, techniques that rest on a mechanism) it only counts."""
    if about is None or about == "all":
        return set(selected)
    key = about.strip()
    mechanisms = _words(vocab().mechanisms)
    named = mechanisms.get(key.lower(), key)
    direct = {f for f in selected if f[0] in ("status", "role") and named in f[1]}
    return direct or set(selected)


class _Grades:
    """The evidence the rules graded, as the JSON answer gives it (consultation/evidence.py): for a status, its
    mechanism's level and items (with the reports of the other kind, never counted); for a role, its element's
    and role's."""

    def __init__(self, c: Consultation, all_findings: bool = False) -> None:
        def keyed(grades: dict[tuple[str, ...], dict[str, Any]]) -> dict[tuple[str, ...], dict[str, Any]]:
            return {tuple(k.replace("_", "-") for k in key): grade for key, grade in grades.items()}

        self.by = {"status": keyed(grading.graded(c, "evidence", all_findings)),
                   "role": keyed(grading.graded(c, "role_evidence", all_findings))}
        self.other = {k.replace("_", "-"): items for k, items in grading.elsewhere(c, all_findings).items()}
        self.short = grading.short_words()

    def of(self, fact: Fact) -> dict[str, Any] | None:
        """The grade beside a status or a role: the strongest level (`evidence`, with its `short` words) and every
        item (`evidence_detail`, strongest first); None for any other conclusion, or one nothing graded."""
        pred, args = fact
        if pred not in self.by:
            return None
        key = tuple(engine.show_value(a).replace("_", "-") for a in args[: 1 if pred == "status" else 2])
        grade = self.by[pred].get(key)
        other = self.other.get(key[0], []) if pred == "status" else []
        if grade is None and not other:
            return None
        grade = grade or grading.ungraded()
        return {"evidence": grade["evidence"], "short": self.short[grade["evidence"]],
                "evidence_detail": grade["evidence_detail"] + other}


def _outranked(c: Consultation, fact: Fact, leaves: _Leaves) -> str:
    """An overruled(X, M, MATERIAL) in one line: the plane that would give X the mechanism, with its statement's
    references, and the report on the material itself that outranks it, with the report's."""
    x, _, material = (engine.show_value(a) for a in fact[1])
    planes = {p.name: p.short_label for p in vocab().planes}

    def cited(facts: Iterable[Fact]) -> str:
        return _refs(sorted({n for f in facts for n in c.result.sources[f].references}))

    parts = []
    for d in c.result.derivations.get(fact, []):
        base = leaves.below([d])
        for plane in dict.fromkeys(engine.show_value(p[1][1]) for p in d.premises if p[0] == "plane_cation"):
            on = [b for b in base if b[0] == "on_plane" and engine.show_value(b[1][1]) == plane]
            reports = [b for b in base if b[0] == "observed"]
            parts.append(f"Fig. 6a places {x} on {planes.get(plane, plane)}{cited(on)}; in this very material, "
                         f"{_label(material)}{cited(reports)}, the report finds it structural and outranks the plane")
    return "; ".join(parts) or fact_sentence(fact)


def explain(c: Consultation, about: str | None = None, full: bool = False, all_findings: bool = False
            ) -> dict[str, Any]:
    """The explanation of the conclusions `about` selects (statuses and roles by default), as a JSON-ready dict;
    with `full`, each conclusion also carries its whole derivation tree. A status or a role carries its `graded`
    evidence (level, its words, every item) and its `evidence` conclusions, each explained; an overruled one
    also `outranked`, the plane and the report in one line."""
    selected = selected_facts(c, about)
    direct = _direct(selected, about)
    leaves = _Leaves(c)
    shown: set[Fact] | None = set() if full else None  # a fact's tree is shown once; later, "see above"
    graded = sorted((f for f in c.result.derivations if f[0] in EVIDENCE and f[1]),
                    key=lambda f: (EVIDENCE.index(f[0]), engine.fact_text(f)))
    grades = _Grades(c, all_findings)
    conclusions = []
    for fact in selected:
        record = _explained(c, fact, leaves, shown)
        record["direct"] = fact in direct
        grade = grades.of(fact)
        if grade is not None:
            record["graded"] = grade
        record["evidence"] = []
        for e in _evidence_for(graded, fact):
            item = _explained(c, e, leaves, shown, frozenset({fact}))
            if e[0] == "overruled":
                item["outranked"] = _outranked(c, e, leaves)
            record["evidence"].append(item)
        conclusions.append(record)
    tree = {"formula": c.formula.text, "ion": c.ion, "about": about or "statuses and roles", "full": full,
            "hem": not c.result.words("hem_definition_unmet"), "conclusions": conclusions}
    if about is not None and _words(effect_properties()).get(about.strip().lower()) == CAPACITY:
        # an estimate beyond the paper, not a rule's conclusion: its arithmetic, as the JSON answer gives it
        tree["theoretical_capacity"] = rounded(c.estimates["theoretical_capacity"])
    return tree


# ------------------------------------------------------------------ terminal text

def _refs(citations: list[int]) -> str:
    return f" [{', '.join(map(str, citations))}]" if citations else ""


def _rule_text(d: dict[str, Any], with_id: bool = True) -> str:
    """A rule as the text shows it: its statement, references and place; with its id in the full tree only
    (the short form is read by people, who know the paper's sections and references, not the rules' ids)."""
    text = (f"rule {d['rule']}: " if with_id else "rule: ") + f"{d['statement']}{_refs(d['citations'])}"
    text += f" ({d['location']})" if d["location"] else ""
    return text + (f" [outside the paper: {d['outside_paper']}]" if "outside_paper" in d else "")


def _wrap(text: str, indent: str, width: int, hang: str = "    ") -> list[str]:
    """`text` wrapped to `width`, its continuation lines indented under it by `hang` more (deeper than the two
    spaces a nested line is indented by, so that the two cannot be mistaken)."""
    return textwrap.wrap(text, width=max(width, len(indent) + 20), initial_indent=indent,
                         subsequent_indent=indent + hang, break_on_hyphens=False) or [indent]


def render(tree: dict[str, Any], width: int = 88) -> str:
    """The explanation as terminal text: the short form, or with tree['full'] the whole tree."""
    lines = [*_wrap(f"Why: {tree['formula']} with {tree['ion']}+ ({tree['about']})", "", width), ""]
    if not tree["conclusions"]:
        lines.append("No conclusion concerns that.")
    elif tree.get("full"):
        for conclusion in tree["conclusions"]:
            _render_tree(conclusion["tree"], lines, width)
            for item in conclusion["evidence"]:
                _render_tree(item["tree"], lines, width, label="Evidence: ")
            lines.append("")
    else:
        _render_short(tree, lines, width)
    if "theoretical_capacity" in tree:
        lines += ["", *_wrap("The theoretical capacity, an estimate beyond the paper: each cation, its state, its "
                             "phase.", "", width)]
        for indent, text in report.capacity_sentences(tree["theoretical_capacity"]):  # "  - " or "  "
            lines += _wrap(f"{indent.strip()} {text}".lstrip(), "  ", width)
    return "\n".join(lines).rstrip() + "\n"


def _render_tree(root: dict[str, Any], lines: list[str], width: int, label: str = "") -> None:
    def emit(prefix: str, branch: str, text: str, below: str) -> None:
        """One line of the tree; its continuation lines keep the bars of what follows (`below`)."""
        lines.extend(textwrap.wrap(text, width=max(width, len(below) + 22), initial_indent=prefix + branch,
                                   subsequent_indent=below + "  ", break_on_hyphens=False) or [prefix + branch])

    def walk(n: dict[str, Any], prefix: str, last: bool, top: bool) -> None:
        branch = "" if top else ("└─ " if last else "├─ ")
        text = (label if top else "") + n["text"]
        if "source" in n:
            src = n["source"]
            # the text names where the paper says it; the statement's id is for machines (JSON, hem sparql)
            where = {"kg": ", ".join(["the paper", *([src["location"]] if src.get("location") else [])]),
                     "input": "your input",
                     "convention": "project convention, not the paper",
                     "estimate": "an estimate beyond the paper",
                     literature.KIND: "your library"}[src["kind"]]
            text += f"  ({where}){_refs(src['citations'])}"
        elif n.get("shown_above"):
            text += "  (see above)"
        child_prefix = prefix + ("" if top else ("   " if last else "│  "))
        rules = n.get("derived_by", [])
        emit(prefix, branch, text, child_prefix + ("│" if rules else " "))
        for i, d in enumerate(rules):
            is_last = i == len(rules) - 1
            premise_prefix = child_prefix + ("   " if is_last else "│  ")
            has_below = bool(d["premises"] or d["absent"])
            emit(child_prefix, "└─ " if is_last else "├─ ", _rule_text(d), premise_prefix + ("│" if has_below else " "))
            for j, p in enumerate(d["premises"]):
                walk(p, premise_prefix, j == len(d["premises"]) - 1 and not d["absent"], False)
            for j, a in enumerate(d["absent"]):
                is_last_absent = j == len(d["absent"]) - 1
                emit(premise_prefix, "└─ " if is_last_absent else "├─ ", a["text"],
                     premise_prefix + ("   " if is_last_absent else "│  "))

    walk(root, "", True, True)


# The short form.

SUBJECT = {"role": 0, "effect": 2}  # the argument that is the sentence's subject, for conclusions said together


def _group_sentence(fact: str, subjects: list[str]) -> str:
    """The sentence of conclusions that differ only in their subject: 'X, Y and Z take part in M'."""
    pred, _, inner = fact.partition("(")
    args = [a.strip() for a in inner.rstrip(")").split(",")]
    who = spoken_list(subjects)
    if pred == "role":
        return _role_phrase(who, args[1], several=True)
    return f"{who} {'raise' if args[1] == '+' else 'lower'} {_label(args[0])}"


def _groups(conclusions: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """The conclusions in order, those that differ only in their subject and rest on the same rules taken together."""
    grouped: dict[Any, tuple[list[str], list[dict[str, Any]]]] = {}
    for record in conclusions:
        pred, _, inner = record["fact"].partition("(")
        args = [a.strip() for a in inner.rstrip(")").split(",")]
        if pred in SUBJECT and len(args) > SUBJECT[pred]:
            subject = args[SUBJECT[pred]]
            key: Any = (pred, tuple(a for i, a in enumerate(args) if i != SUBJECT[pred]),
                        tuple(r["rule"] for r in record["rules"]))
        else:
            subject, key = "", record["fact"]
        grouped.setdefault(key, ([], []))
        grouped[key][0].append(subject)
        grouped[key][1].append(record)
    return [(_group_sentence(records[0]["fact"], subjects) if len(records) > 1 else records[0]["text"], records)
            for subjects, records in grouped.values()]


def _render_short(tree: dict[str, Any], lines: list[str], width: int) -> None:
    shown: set[str] = set()  # the leaves printed so far: each is printed once

    def facts(records: list[dict[str, Any]], indent: str, dedupe: bool) -> None:
        """The leaves of one or more conclusions: from the graph, from the input, from conventions and estimates."""
        def new(group: str) -> list[dict[str, Any]]:
            items = list({i["fact"]: i for r in records for i in r[group]}.values())
            return [i for i in items if not (dedupe and i["fact"] in shown)]

        graph, given, other = new("graph_facts"), new("input_facts"), new("other_facts")
        every = {i["fact"] for r in records for g in ("graph_facts", "input_facts", "other_facts") for i in r[g]}
        absent = list(dict.fromkeys(a for r in records for a in r["absent"]))
        if graph:
            lines.append(indent + "From the knowledge graph:")
            for item in graph:
                lines.extend(_wrap(item["text"] + _refs(item["citations"]), indent + "  ", width))
        if given:
            elements = [i["fact"][len("element("):-1] for i in given if i["fact"].startswith("element(")]
            rest = [i["text"] for i in given if not i["fact"].startswith("element(")]
            words = ([f"{spoken_list(elements)} {'are' if len(elements) > 1 else 'is'} in {tree['formula']}"]
                     if elements else []) + rest
            lines.extend(_wrap("From your input: " + "; ".join(words), indent, width))
        for item in other:
            if "doi" in item:
                lines.extend(_wrap(f"From your library: {item['text']}: \"{item['quote']}\" "
                                   f"({item['evidence_level'].replace('_', ' ')})", indent, width))
                continue
            where = {"convention": "By project convention, not the paper",
                     literature.KIND: "From your library"}.get(item["kind"], "Estimated")
            lines.extend(_wrap(f"{where}: {item['text']}", indent, width))
        earlier = every & shown if dedupe else set()
        if earlier:
            lines.extend(_wrap(("From the knowledge graph and your input: the facts listed above" if not (
                graph or given or other) else f"And {len(earlier)} of the facts listed above") + ".", indent, width))
        above = list(dict.fromkeys(p["text"] for r in records for p in r.get("rests_on", [])))
        if above:
            lines.extend(_wrap(f"And on: {'; '.join(above)} (above)", indent, width))
        if absent:
            lines.extend(_wrap("And nothing says: " + "; ".join(a.removeprefix("no fact says: ") for a in absent),
                               indent, width))
        shown.update(every)

    def block(sentence: str, records: list[dict[str, Any]], indent: str, dedupe: bool) -> None:
        lines.extend(_wrap(_capital(sentence) + ".", indent, width))
        rules = list({r["rule"]: r for record in records for r in record["rules"]}.values())
        for r in rules:
            lines.extend(_wrap(_capital(_rule_text(r, with_id=False)), indent + "  ", width))
        facts(records, indent + "  ", dedupe)

    direct = [c for c in tree["conclusions"] if c["direct"]]
    printed: set[str] = set()  # the evidence items printed so far
    for sentence, records in _groups(direct):
        block(sentence, records, "", True)
        _render_evidence(records, lines, width, tree.get("hem", True), printed)
        lines.append("")
    rest = [c for c in tree["conclusions"] if not c["direct"]]
    if rest:
        counts: dict[str, int] = {}  # by noun: a technique that confirms and one that complements count together
        for c in rest:
            pred = c["fact"].partition("(")[0]
            noun = NOUNS.get(pred, (pred, pred))[0]
            counts[noun] = counts.get(noun, 0) + 1
        plural = {one: several for one, several in NOUNS.values()}
        told = [f"{n} {plural.get(noun, noun) if n > 1 else noun}" for noun, n in counts.items()]
        if NOUNS["status"][0] in counts:  # name the mechanisms: a status is what a reader looks for first
            mechanisms = [_label(c["fact"][len("status("):].split(",")[0]) for c in rest
                          if c["fact"].startswith("status(")]
            told[list(counts).index(NOUNS["status"][0])] += f" ({', '.join(mechanisms)})"
        lines.extend(_wrap(f"Resting on these: {spoken_list(told)}, which --full explains one by one.", "", width))


def _subject(record: dict[str, Any]) -> str:
    """The element of a role conclusion (its first argument); '' for a status."""
    pred, _, inner = record["fact"].partition("(")
    return inner.split(",")[0].strip() if pred == "role" else ""


def _item_lines(level: str, items: list[dict[str, Any]], elements: bool) -> list[tuple[bool, str]]:
    """The items of one evidence level, one line per report (a conflict: per element; `elements`: name the
    elements each report saw, unless what it says of reversibility names them all), or one per place in the
    paper for items that name no material; each with whether it is a place ('(Section 2.4) [57]')."""
    if level == "conflicting":
        on = dict.fromkeys(i.get("element", "") for i in items)
        return [
            (False, f"{x + ': ' if x else ''}seen in {', '.join(report.reports_by_material(its).values())}; not in "
                    f"{', '.join(report.reports_by_material(its, side=1).values())}")
            for x in on for its in [[i for i in items if i.get("element", "") == x]]]
    out = []
    for material, words in report.reports_by_material(items).items():
        seen = sorted({i["element"] for i in items if i.get("materials", [""])[0] == material and "element" in i})
        said = words[len(material):]
        named = all(re.search(rf"\b{x}\b", said) for x in seen)
        out.append((False, f"{spoken_list(seen)} in {words}" if elements and seen and not named else words))
    places = dict.fromkeys((i.get("location", ""), tuple(i["references"])) for i in items
                           if not i.get("materials") and "more" not in i)
    out += [(True, " ".join(w for w in (f"({where})" if where else "", _refs(list(refs)).strip()) if w))
            for where, refs in places]
    more = report.more_words(items)
    if more:
        out.append((False, more.removeprefix(", ")))
    return [(place, line) for place, line in out if line]


def _render_evidence(records: list[dict[str, Any]], lines: list[str], width: int, hem: bool,
                     printed: set[str]) -> None:
    """Beside a status or roles said together: the strongest level in words and its items, one line each (items
    `printed` already beside an earlier conclusion are named, not repeated); a count of the items at weaker
    levels (--full lists them); the reports of the other kind, never counted; and which report outranked which
    plane, one line each."""
    graded = [(_subject(r), r["graded"]) for r in records if "graded" in r]
    by_level: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for subject, grade in graded:
        by_level.setdefault(grade["evidence"], []).append((subject, grade))
    several = len(records) > 1 or any(r["fact"].startswith("status(") for r in records)
    rank = grading.rank()
    for level, members in sorted(by_level.items(), key=lambda kv: rank[kv[0]]):
        if level == grading.evidence_scale()[-1].id and len(by_level) == 1 and not any(
                g["evidence_detail"] for _, g in members):
            continue  # nothing graded beyond "no report": the status's own rule says all there is
        items = [i for _, g in members for i in g["evidence_detail"] if i["level"] == level]
        who = f" for {spoken_list([s for s, _ in members])}" if len(by_level) > 1 and members[0][0] else ""
        head = f"Evidence{who}: {members[0][1]['short']}"
        found = _item_lines(level, items, several)
        if len(found) > 1 and {head + line for _, line in found} <= printed:
            lines.extend(_wrap(f"{head}: the reports listed above.", "  ", width))
            continue
        printed.update(head + line for _, line in found)
        if len(found) == 1:
            place, line = found[0]
            lines.extend(_wrap(f"{head}{'' if place else ':'} {line}", "  ", width))
        else:
            lines.extend(_wrap(head + (":" if found else ""), "  ", width))
            for _, line in found:
                lines.extend(_wrap(line, "    ", width))
    weaker: dict[str, int] = {}
    for _, grade in graded:
        for i in grade["evidence_detail"]:
            if i.get("counts") is not False and i["level"] != grade["evidence"]:
                weaker[i["level"]] = weaker.get(i["level"], 0) + 1
    if weaker:
        n = sum(weaker.values())
        short = grading.short_words()
        told = "; ".join(f"{short[level]} ({k})" for level, k in sorted(weaker.items(), key=lambda kv: rank[kv[0]]))
        lines.extend(_wrap(f"{n} further item{'s at weaker levels' if n > 1 else ' at a weaker level'}: {told}; "
                           f"--full lists {'them' if n > 1 else 'it'}.", "  ", width))
    other = [i for _, g in graded for i in g["evidence_detail"] if i.get("counts") is False]
    if other:
        kind = "only in materials that are not HEMs" if hem else "in HEMs"
        named = ", ".join(report.reports_by_material(other).values()) + report.more_words(other)
        lines.extend(_wrap(f"Shown {kind} (not counted for this candidate): {named}", "  ", width))
    for text in dict.fromkeys(e["outranked"] for r in records for e in r["evidence"] if "outranked" in e):
        lines.extend(_wrap(_capital(text) + ".", "  ", width))
