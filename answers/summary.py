"""A consultation as the JSON answer the CLI prints and other answers build on."""

from __future__ import annotations

from typing import Any, NamedTuple

from hemkg import engine
from hemkg.consultation import evidence, literature
from hemkg.consultation.consultation import Consultation
from hemkg.consultation.estimates import rounded
from hemkg.consultation.oxidation import answer as oxidation_answer
from hemkg.consultation.rules import has_placeholders, rule_by_id, statement_text
from hemkg.engine import Source
from hemkg.graph import statements as knowledge
from hemkg.graph.store import HEMKG
from hemkg.graph.vocab import json_key, vocab
from hemkg.system import collector
from hemkg.system.kept import kept_or_made

NO_SOURCE = Source("")
# The version of the JSON answer's shape (answers/consult.schema.json describes it): raised on a change a reader
# must know of, the minor number when fields are only added.
SCHEMA_VERSION = "1.0"


# The references behind a derivation, for every consultation of the process: the rule's and its premises'.
# A premise's references are a function of the fact (a graph statement's, a reported material's; none for
# the input, estimates, conventions and a library's findings), so they are looked up once per derivation
# (Derivation.key: its rule and values bound).
_REFERENCES: dict[tuple[object, ...], frozenset[int]] = {}
REFERENCES_LIMIT = 50_000


def _references(r: engine.Result, d: engine.Derivation) -> frozenset[int]:
    return kept_or_made(_REFERENCES, d.key, REFERENCES_LIMIT, _made_references, r, d)


def _made_references(r: engine.Result, d: engine.Derivation) -> frozenset[int]:
    return frozenset(d.rule.references).union(*(r.sources.get(p, NO_SOURCE).references for p in d.premises))


class _Stated(NamedTuple):
    """What the answer states of a list of derivations: their rules' statements (placeholders filled, each once), the
    rules' ids, the references of the rules and of the graph facts they matched (a reported material's, say), and
    the bases of the rules from outside the paper."""

    text: str
    rules: tuple[str, ...]
    citations: tuple[int, ...]
    outside: tuple[str, ...]


# _Stated by the derivations' keys, for every consultation of the process: like _REFERENCES, a function of the rules
# and values bound. An answer asks for about 40; a new candidate shares most of them with earlier ones.
_STATED: dict[tuple[object, ...], _Stated] = {}


def _stated(r: engine.Result, derivations: list[engine.Derivation]) -> _Stated:
    return kept_or_made(_STATED, tuple(d.key for d in derivations), REFERENCES_LIMIT, _made_stated, r, derivations)


def _made_stated(r: engine.Result, derivations: list[engine.Derivation]) -> _Stated:
    return _Stated(" ".join(dict.fromkeys(statement_text(d) for d in derivations)),
                   tuple(sorted({d.rule.id for d in derivations})),
                   tuple(sorted(frozenset().union(*(_references(r, d) for d in derivations)))),
                   tuple(sorted({d.rule.basis for d in derivations if not d.rule.from_paper})))


def _finding(r: engine.Result, derivations: list[engine.Derivation], **extra: Any) -> dict[str, Any]:
    """A note, caution or warning: its text, the rules and citations behind it, and any outside basis."""
    stated = _stated(r, derivations)
    record = {"text": stated.text, "rules": list(stated.rules), "citations": list(stated.citations), **extra}
    if stated.outside:
        record["outside_paper"] = list(stated.outside)
    return record


@collector.paused
def summarise(c: Consultation, all_findings: bool = False) -> dict[str, Any]:
    """The consultation as the JSON object the CLI prints. With a library, its findings on related materials are
    summarised (the closest listed, the rest counted: consultation/evidence.py, literature.py said()) unless
    `all_findings` (hem consult --all-findings)."""
    r = c.result
    mechanisms = {}
    graded = evidence.graded(c, "evidence", all_findings)
    elsewhere = evidence.elsewhere(c, all_findings)
    elements_of: dict[str, list[str]] = {}
    for m, element in r.words("mechanism_element"):
        elements_of.setdefault(m, []).append(element)
    for m in vocab().mechanism_names:
        status = c.status(m)
        grade = graded.get((m,)) or evidence.ungraded()
        behind = _stated(r, c.derivations("status", m))
        mechanisms[json_key(m)] = {
            "status": json_key(status),
            "evidence": grade["evidence"],
            "elements": elements_of.get(m, []),
            "rules": list(behind.rules),
            "citations": list(behind.citations),
            "evidence_detail": grade["evidence_detail"] + elsewhere.get(m, []),
        }
    roles: dict[str, list[str]] = {s: [] for s in c.formula.composition}
    role_evidence: dict[str, dict[str, Any]] = {}
    role_grades = evidence.graded(c, "role_evidence", all_findings)
    for symbol, role in r.words("role"):
        roles[symbol].append(json_key(role))
        role_evidence.setdefault(symbol, {})[json_key(role)] = role_grades.get((symbol, role)) or evidence.ungraded()
    effects = []
    grouped: dict[tuple[str, str, str], list[str]] = {}
    for prop, direction, element in r.words("effect"):
        for d in r.derivations[("effect", (prop, direction, element))]:
            grouped.setdefault((prop, direction, d.rule.id), []).append(element)
    rules_by_id = rule_by_id()
    for (prop, direction, rule_id), elements in sorted(grouped.items()):
        rule = rules_by_id[rule_id]
        effects.append({"property": json_key(prop), "direction": direction, "elements": sorted(set(elements)),
                        "rule": rule_id, "statement": rule.statement, "citations": list(rule.references)})

    def topic_findings(predicate: str) -> list[dict[str, Any]]:
        """One finding per topic, the facts' further arguments (elements, materials) gathered in `about`;
        one per fact where the rule's statement names the values it was drawn for (a placeholder)."""
        by_key: dict[tuple, list[engine.Derivation]] = {}
        about: dict[tuple, list[str]] = {}
        for args in r.query(predicate):
            derivations = r.derivations.get((predicate, args), [])
            key = args if any(has_placeholders(d.rule) for d in derivations) else args[:1]
            by_key.setdefault(key, []).extend(derivations)
            about.setdefault(key, []).extend(str(a) for a in args[1:])
        return [_finding(r, derivations, topic=str(key[0]),
                         **({"about": sorted(set(about[key]))} if about[key] else {}))
                for key, derivations in by_key.items()]

    notes = topic_findings("note")
    for mechanism, ion in r.query("weaker"):
        derivations = r.derivations[("weaker", (mechanism, ion))]
        notes.append(_finding(r, derivations, topic=f"{mechanism}-weaker-with-{ion}"))
    notes += _orderings(c)
    cautions = topic_findings("caution")
    oxidation_states, balance_warnings = oxidation_answer(c.formula)
    warnings = topic_findings("warning") + [{"text": w, "topic": "formula"} for w in c.formula.warnings]
    warnings += balance_warnings
    notes += [{"text": n, "topic": "formula", "rules": [], "citations": []} for n in c.formula.notes]
    recommendations = []
    for (factor,) in r.words("recommend"):
        stated = _stated(r, r.derivations[("recommend", (factor,))])
        recommendations.append({"factor": factor, "label": knowledge.label(HEMKG + factor), "text": stated.text,
                                "rules": list(stated.rules), "citations": list(stated.citations)})
    techniques: dict[str, dict[str, list[str]]] = {}
    for predicate, role in (("confirm_with", "confirms"), ("complement_with", "complements")):
        for mechanism, technique in r.words(predicate):
            entry = techniques.setdefault(json_key(mechanism), {"confirms": [], "complements": []})
            entry[role].append(knowledge.label(HEMKG + technique))
    techniques = {m.json_key: {role: sorted(names) for role, names in techniques[m.json_key].items()}
                  for m in vocab().mechanisms if m.json_key in techniques}  # in the paper's order (Section 2)
    scope_derivations = c.derivations("scope", "extrapolated")
    stated = _stated(r, scope_derivations)
    scope = {"extrapolated": bool(scope_derivations), "text": stated.text, "rules": list(stated.rules),
             "citations": list(stated.citations)}
    answer = {
        "schema_version": SCHEMA_VERSION,
        "formula": c.formula.text,
        "scope": scope,
        "active_formula": c.formula.active,
        "framework": c.formula.framework or c.structure.framework,
        "ion": c.ion,
        "composition": dict(c.formula.composition),
        "oxidation_states": oxidation_states,
        "mechanisms": mechanisms,
        "roles": roles,
        "role_evidence": role_evidence,
        "entropy": c.estimates["entropy"],
        "theoretical_capacity": rounded(c.estimates["theoretical_capacity"]),
        "effects": effects,
        "recommendations": recommendations,
        "techniques": techniques,
        "notes": notes,
        "cautions": cautions,
        "warnings": warnings,
    }
    if c.library is not None:  # "What your library says": only with a library that holds findings
        answer["library"] = literature.said(c, all_findings=all_findings)
    return answer


def _orderings(c: Consultation) -> list[dict[str, Any]]:
    """Each ordering among the candidate's own elements, highest first."""
    out = []
    headings = {o.name: o.heading for o in vocab().orderings}  # hem:answerHeading (kg/orderings.ttl)
    for ordering in sorted({args[0] for args in c.result.words("ordered")}):
        pairs = c.result.words("ordered", ordering)
        above: dict[str, set[str]] = {}
        for _, hi, lo in pairs:
            above.setdefault(hi, set()).add(lo)
            above.setdefault(lo, set())
        chain = sorted(above, key=lambda x: -len(above[x]))
        derivations = [d for args in pairs for d in c.result.derivations[("ordered", args)]]
        heading = headings.get(ordering) or ordering
        stated = _stated(c.result, derivations)
        out.append({"topic": f"ordering:{ordering}", "text": f"{heading}: {' > '.join(chain)}.",
                    "rules": list(stated.rules), "citations": list(stated.citations)})
    return out
