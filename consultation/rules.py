"""The paper's rules: those of rules/*.toml, each with the references and location of what it rests on.

A rule names the knowledge graph's statements that justify it
(`rests_on = ["stmt-plane-B-Zn"]`); the engine only keeps those ids. Here each
id is looked up among the graph's statements (graph/statements.py), and the
rule gets their references (with any of its own that no statement holds) and
their location, so that derivations, explanations and PROV-O carry them.
`paper_rules()` is what domain code runs; `engine.load_rules()` is the rule
files as written.
"""

from __future__ import annotations

import dataclasses
import difflib

from hemkg import engine
from hemkg.engine import Rule, RuleFileError
from hemkg.graph import statements as knowledge
from hemkg.graph.diskcache import disk_cached
from hemkg.graph.store import HEMKG


@disk_cached
def paper_rules() -> tuple[Rule, ...]:
    """Every rule of rules/, with the references and location of the statements it rests on."""
    return resolve(engine.load_rules(), knowledge.statements())


def resolve(rules: tuple[Rule, ...], statements: dict[str, knowledge.Statement]) -> tuple[Rule, ...]:
    """`rules` with each `rests_on` id replaced by its statement's references and location.

    Raises RuleFileError for an id that names no statement, and for a reference
    the rule lists although its statements already cite it (the copy this replaces).
    """
    return tuple(_resolved(rule, statements) for rule in rules)


def _resolved(rule: Rule, statements: dict[str, knowledge.Statement]) -> Rule:
    if not rule.rests_on:
        return rule
    where = f"{rule.file}, rule '{rule.id}'"
    found = []
    for name in rule.rests_on:
        st = statements.get(HEMKG + name)
        if st is None:
            known = [iri.removeprefix(HEMKG) for iri in statements]
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"did you mean '{close[0]}'?" if close else "give the id of a hem:GuidelineStatement of kg/*.ttl"
            raise RuleFileError(f"{where}: rests_on names '{name}', which is no statement of the knowledge graph; {hint}")
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
