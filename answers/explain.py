"""`hem explain`: the reasoning chain of a consultation, as a tree.

The tree is read off the derivations the engine recorded: each conclusion,
the rule that drew it (with the rule file's references), and the premises it
matched, down to facts from the knowledge graph (with their statement and
references) or from the user's input. Nothing here re-derives a conclusion.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from hemkg import engine
from hemkg.consultation.consultation import Consultation, effect_properties
from hemkg.consultation.rules import statement_text
from hemkg.engine import Fact
from hemkg.errors import InputError
from hemkg.graph import statements as knowledge
from hemkg.graph.store import HEMKG, short
from hemkg.graph.vocab import Term, vocab

TOP_LEVEL = ("status", "role", "effect", "recommend", "note", "caution", "warning", "weaker", "context",
             "ordered", "confirm_with")


def _words(terms: Iterable[Term]) -> dict[str, str]:
    """The words a user may give to --about for each term (its name, JSON key, labels) -> the term's name."""
    return {word: t.name for t in terms for word in t.words}


def _label(name: str) -> str:
    return knowledge.label(HEMKG + name) if HEMKG + name in knowledge.labels() else name


def _a(noun: str) -> str:
    """'anion' -> 'an anion'."""
    return f"{'an' if noun[:1] in 'aeiou' else 'a'} {noun}"


def fact_sentence(fact: Fact) -> str:
    """A fact as a short English sentence."""
    pred, args = fact
    a = [engine.show_value(x) for x in args]
    v = vocab()
    plane = {p.name: p.short_label for p in v.planes}
    roles = {r.name: r.label for r in v.roles}
    sentences = {
        "status": lambda: f"{_label(a[0])} is {a[1]}",
        "mechanism_element": lambda: f"{a[1]} is an element of {_label(a[0])}",
        "role": lambda: f"{a[0]} is {_a(roles[a[1]])}" if a[1] in roles else f"{a[0]} takes part in {_label(a[1])}",
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
        "ordered": lambda: f"{a[1]} ranks above {a[2]} ({a[0].replace('-', ' ')})",
        "context": lambda: (f"in {_label(a[2])}, {a[0]} "
                            f"{'took part in' if a[3] == 'observed' else 'did not take part in'} {_label(a[1])}"),
        "rank": lambda: f"{_label(a[1])} is number {a[2]} in the ordering {a[0].replace('-', ' ')}",
        "observed": lambda: (f"in {_label(a[2])}, {a[0]} was "
                             f"{'seen' if a[3] == 'observed' else 'not seen'} in {_label(a[1])}"),
        "in_group": lambda: f"{a[0]} is among the {_label(a[1])}",
        "matches_reported": lambda: f"the candidate has the composition of {_label(a[0])}",
        "reported_high_entropy": lambda: f"{_label(a[0])} is called high-entropy in its source",
        "hem_definition_unmet": lambda: f"on the cation sublattice the candidate does not meet the paper's HEM "
                                        f"definition ({a[0]})",
    }
    return sentences[pred]() if pred in sentences else engine.fact_text(fact)


def node(c: Consultation, fact: Fact, seen: set[Fact] | None = None) -> dict[str, Any]:
    """The derivation tree of one fact, as a JSON-ready dict."""
    seen = set() if seen is None else seen
    record: dict[str, Any] = {"fact": engine.fact_text(fact), "text": fact_sentence(fact)}
    if fact in c.result.sources:
        src = c.result.sources[fact]
        record["source"] = {"kind": src.kind, "label": src.label, "citations": list(src.references)}
        if src.kind == "kg":
            record["source"]["statement"] = short(src.detail)
        elif src.detail:
            record["source"]["detail"] = src.detail
        return record
    if fact in seen:
        record["shown_above"] = True
        return record
    seen.add(fact)
    record["derived_by"] = [
        {
            "rule": d.rule.id,
            "statement": statement_text(d),
            "citations": list(d.rule.references),
            "location": d.rule.location,
            "file": d.rule.file,
            **({"outside_paper": d.rule.basis} if not d.rule.from_paper else {}),
            "premises": [node(c, p, seen) for p in d.premises],
            "absent": [{"fact": "not " + engine.fact_text(a), "text": "no fact says: " + fact_sentence(a)}
                       for a in d.absent],
        }
        for d in c.result.derivations.get(fact, [])
    ]
    return record


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


def explain(c: Consultation, about: str | None = None) -> dict[str, Any]:
    seen: set[Fact] = set()
    return {
        "formula": c.formula.text,
        "ion": c.ion,
        "about": about or "statuses and roles",
        "conclusions": [node(c, f, seen) for f in selected_facts(c, about)],
    }


# ------------------------------------------------------------------ terminal tree

def _refs(citations: list[int]) -> str:
    return f" [{', '.join(map(str, citations))}]" if citations else ""


def render(tree: dict[str, Any]) -> str:
    lines = [f"Why: {tree['formula']} with {tree['ion']}+ ({tree['about']})", ""]

    def walk(n: dict[str, Any], prefix: str, last: bool, top: bool) -> None:
        branch = "" if top else ("└─ " if last else "├─ ")
        text = n["text"]
        if "source" in n:
            src = n["source"]
            where = {"kg": f"knowledge graph, {src.get('statement', '')}", "input": "your input",
                     "convention": "project convention, not the paper",
                     "estimate": "an estimate beyond the paper"}[src["kind"]]
            text += f"  ({where}){_refs(src['citations'])}"
        elif n.get("shown_above"):
            text += "  (see above)"
        lines.append(prefix + branch + text)
        child_prefix = prefix + ("" if top else ("   " if last else "│  "))
        rules = n.get("derived_by", [])
        for i, d in enumerate(rules):
            is_last = i == len(rules) - 1
            rule_line = f"rule {d['rule']}: {d['statement']}{_refs(d['citations'])} ({d['location']})"
            if "outside_paper" in d:
                rule_line += f" [outside the paper: {d['outside_paper']}]"
            lines.append(child_prefix + ("└─ " if is_last else "├─ ") + rule_line)
            premise_prefix = child_prefix + ("   " if is_last else "│  ")
            for j, p in enumerate(d["premises"]):
                walk(p, premise_prefix, j == len(d["premises"]) - 1 and not d["absent"], False)
            for j, a in enumerate(d["absent"]):
                lines.append(premise_prefix + ("└─ " if j == len(d["absent"]) - 1 else "├─ ") + a["text"])

    for conclusion in tree["conclusions"]:
        walk(conclusion, "", True, True)
        lines.append("")
    if not tree["conclusions"]:
        lines.append("No conclusion concerns that.")
    return "\n".join(lines).rstrip() + "\n"
