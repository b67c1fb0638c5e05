"""The paper's rules: those of rules/*.toml, each with the references and location of what it rests on.

A rule names the knowledge graph's statements that justify it
(`rests_on = ["stmt-plane-B-Zn"]`); the engine only keeps those ids. Here each
id is looked up among the graph's statements (graph/statements.py), and the
rule gets their references (with any of its own that no statement holds) and
their location, so that derivations, explanations and PROV-O carry them.
`paper_rules()` is what domain code runs; `engine.load_rules()` is the rule
files as written.

A rule's statement may hold placeholders `{?x}`: `statement_text()` fills them
with what a derivation bound to ?x (a graph term's label, or the value), so
that a note's sentence comes from the rule file, not from code.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import re

from hemkg import engine
from hemkg.consultation import literature
from hemkg.engine import Derivation, Rule
from hemkg.errors import RuleFileError
from hemkg.graph import statements as knowledge
from hemkg.graph.diskcache import disk_cached
from hemkg.graph.store import HEMKG

PLACEHOLDER = re.compile(r"\{!?(\?[A-Za-z_][A-Za-z0-9_]*)\}")  # {?x}: a term's label; {!?x}: the value as it is


@disk_cached
def paper_rules() -> tuple[Rule, ...]:
    """Every rule of rules/, with the references and location of the statements it rests on."""
    from hemkg.consultation.evidence import check_rules

    rules = resolve(engine.load_rules(), knowledge.statements())
    check_rules(rules)
    return rules


@functools.cache
def rule_by_id() -> dict[str, Rule]:
    """paper_rules() by their stable ids."""
    return {rule.id: rule for rule in paper_rules()}


def resolve(rules: tuple[Rule, ...], statements: dict[str, knowledge.Statement]) -> tuple[Rule, ...]:
    """`rules` with each `rests_on` id replaced by its statement's references and location.

    Raises RuleFileError for an id that names no statement, for a reference the
    rule lists although its statements already cite it (the copy this replaces),
    and for a placeholder whose variable no premise binds.
    """
    return tuple(_resolved(rule, statements) for rule in rules)


def _resolved(rule: Rule, statements: dict[str, knowledge.Statement]) -> Rule:
    where = f"{rule.file}, rule '{rule.id}'"
    bound = {v for atom in rule.when if not atom.negated and atom.predicate not in engine.BUILTINS
             for v in atom.variables}
    unbound = [v for v in PLACEHOLDER.findall(rule.statement) if v not in bound]
    if unbound:
        raise RuleFileError(f"{where}: the statement's placeholder {{{unbound[0]}}} names a variable no positive "
                            f"premise binds; use one of {', '.join(sorted(bound)) or '(none)'}")
    if not rule.rests_on:
        return rule
    found = []
    for name in rule.rests_on:
        st = statements.get(HEMKG + name)
        if st is None:
            known = [iri.removeprefix(HEMKG) for iri in statements]
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"did you mean '{close[0]}'?" if close else "give the id of a hem:GuidelineStatement of kg/*.ttl"
            raise RuleFileError(f"{where}: rests_on names '{name}', which is no statement of the knowledge graph; "
                                f"{hint}")
        found.append(st)
    held = {n for st in found for n in st.references}
    copied = sorted(held & set(rule.references))
    if copied:
        raise RuleFileError(f"{where}: references {', '.join(map(str, copied))} are already cited by the statements "
                            f"it rests on; remove them from references (keep only those no statement holds)")
    return dataclasses.replace(rule, references=tuple(sorted(held | set(rule.references))), location=location(found))


def location(found: list[knowledge.Statement]) -> str:
    """Where in the paper the statements stand, in the form of Statement.location."""

    def gathered(name: str) -> list[str]:
        return list(dict.fromkeys(x for st in found for x in getattr(st, name)))

    return knowledge.Statement("", sections=sorted(set(gathered("sections"))), tables=gathered("tables"),
                               figures=gathered("figures"), equations=gathered("equations")).location


def has_placeholders(rule: Rule) -> bool:
    """Whether the rule's statement names values a derivation binds ({?x}): its text differs per conclusion."""
    return "{" in rule.statement and PLACEHOLDER.search(rule.statement) is not None


def statement_text(derivation: Derivation) -> str:
    """The rule's statement with each placeholder {?x} filled from the derivation's bindings."""
    rule = derivation.rule
    statement = rule.statement
    if "{" not in statement:
        return statement
    if any(literature.is_library_name(v) for v in derivation.bound):
        return _filled(statement, rule.bound_names, derivation.bound)  # a library's names can change with it
    return _filled_from_the_graph(statement, rule.bound_names, derivation.bound)


@functools.lru_cache(maxsize=8192)
def _filled_from_the_graph(statement: str, names: tuple[str, ...], values: tuple[engine.Value, ...]) -> str:
    return _filled(statement, names, values)


def _filled(statement: str, names: tuple[str, ...], values: tuple[engine.Value, ...]) -> str:
    bindings = dict(zip(names, values, strict=True))

    def shown(match: re.Match[str]) -> str:
        value = engine.show_value(bindings[match.group(1)])
        if match.group(0).startswith("{!"):
            return value
        return knowledge.labels().get(HEMKG + value) or literature.label(value) or value

    return PLACEHOLDER.sub(shown, statement)
