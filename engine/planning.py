"""The order rules run in: rules over shared facts alone first, strata for negation, and components in
dependency order within each.

shared_only() picks the rules that read nothing a run adds: evaluation.share()
runs them once over the shared facts, and runs read their conclusions. Then
stratify() puts a rule no earlier than the rules deriving its premises, and
strictly after every rule deriving a predicate it negates, so that a negation
is checked only once what it asks about is complete. components() then orders
a stratum's rules by what feeds what: rules that depend on each other form one
recursive component, run to a fixpoint together; every other rule runs once,
when all it reads is complete.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from hemkg.engine.language import BUILTINS, Atom, Rule, is_variable
from hemkg.errors import RuleFileError


def shared_only(rules: Iterable[Rule], shared: frozenset[str]) -> tuple[Rule, ...]:
    """The rules whose every premise (negated ones too) is a fact of the `shared` predicates or a conclusion of
    such rules, and never a conclusion of another rule: they conclude the same facts in every run over those
    facts (for runs that add no facts of what they read, which run() checks)."""
    rules = tuple(rules)
    kept = {r.id for r in rules}
    while True:
        theirs = {h.predicate for r in rules if r.id in kept for h in r.then}
        others = {h.predicate for r in rules if r.id not in kept for h in r.then}
        dropped = {r.id for r in rules if r.id in kept and any(
            a.predicate not in BUILTINS and (a.predicate in others or a.predicate not in shared | theirs)
            for a in r.when)}
        if not dropped:
            return tuple(r for r in rules if r.id in kept)
        kept -= dropped


def stratify(rules: Iterable[Rule]) -> list[list[Rule]]:
    """Group rules into strata: a rule runs no earlier than the rules deriving its premises,
    and strictly after every rule deriving a predicate it negates."""
    rules = list(rules)
    stratum = {r.id: 0 for r in rules}
    for _ in range(len(rules) + 1):
        level: dict[str, int] = {}  # a predicate is complete after the last rule deriving it
        for r in rules:
            for head in r.then:
                level[head.predicate] = max(level.get(head.predicate, 0), stratum[r.id])
        changed = False
        for r in rules:
            need = max((level[a.predicate] + (1 if a.negated else 0) for a in r.when if a.predicate in level),
                       default=0)
            if need > stratum[r.id]:
                stratum[r.id] = need
                changed = True
        if not changed:
            break
    else:
        raise RuleFileError("the rules negate a predicate they also derive through that negation (not stratifiable)")
    groups: dict[int, list[Rule]] = {}
    for r in rules:
        groups.setdefault(stratum[r.id], []).append(r)
    return [groups[k] for k in sorted(groups)]


def _may_match(conclusion: Atom, premise: Atom) -> bool:
    """Whether a fact the conclusion derives can match the premise: no two constants differ."""
    return conclusion.predicate == premise.predicate and len(conclusion.args) == len(premise.args) and all(
        a == b or is_variable(a) or is_variable(b) or b == "_"
        for a, b in zip(conclusion.args, premise.args, strict=True))


@dataclass(frozen=True)
class Component:
    """Rules of a stratum that run together; iterating over it gives them, in their files' order.

    `recursive`: some conclusion of its rules can match a positive premise of its rules (the
    rules depend on each other, or one on itself), so they run to a fixpoint; else the one
    rule runs once.
    """

    rules: tuple[Rule, ...]
    recursive: bool

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)


def components(stratum: Iterable[Rule]) -> list[Component]:
    """Order a stratum's rules so that each comes after the rules deriving its premises.

    A rule depends on another when a conclusion of that one can match one of its
    premises (status(alloying, ...) does not feed status(conversion, accessible)).
    Rules that depend on each other (recursion) form one component, to be run to
    a fixpoint together; every other rule is a component of its own and runs
    once, when all it reads is complete. Components come in dependency order
    (Tarjan's algorithm), rules within one in their files' order.
    """
    rules = list(stratum)
    readers: dict[str, list[tuple[int, Atom]]] = {}
    for i, r in enumerate(rules):
        for atom in r.when:
            if not atom.negated:
                readers.setdefault(atom.predicate, []).append((i, atom))
    edges = [sorted({j for h in r.then for j, atom in readers.get(h.predicate, ()) if _may_match(h, atom)})
             for r in rules]
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    stack: list[int] = []
    on_stack: set[int] = set()
    found: list[Component] = []
    for root in range(len(rules)):
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, next_edge = work.pop()
            if next_edge == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            if next_edge < len(edges[node]):
                work.append((node, next_edge + 1))
                child = edges[node][next_edge]
                if child not in index:
                    work.append((child, 0))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            if work:  # returning to the parent
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                members = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    members.append(member)
                    if member == node:
                        break
                # several members feed each other by construction; a single one only through an edge to itself
                recursive = len(members) > 1 or node in edges[node]
                found.append(Component(tuple(rules[m] for m in sorted(members)), recursive))
    return found[::-1]
