"""Running rules over facts to a fixpoint, recording every derivation.

Facts shared by many runs (the knowledge graph's) are indexed once (share()):
an index keeps the facts by predicate, hash tables built on demand for the
argument positions a look-up gives, and the programs compiled over it
(codegen.py), their join orders chosen for these facts. Given the rules,
share() also runs once the rules that read shared facts alone
(planning.shared_only: which reports disagree on an element, whatever the
candidate), keeping their conclusions in the index and their derivations
beside it; a run reads those as it reads the shared facts, and its Result
reaches their derivations through Derivations. A run's own facts sit
in tables of its own; a look-up goes straight to the one that can hold its
predicate, and merges the two only for a predicate in both, so a run never
changes the shared index.

Rules run in dependency order (planning.py): a rule outside any recursion runs
once, when all it reads is complete, and indexes the facts it adds itself;
rules that depend on each other run semi-naively to a fixpoint: after a first
pass, a rule runs again only from the facts the last pass added, one plan per
premise they can match. tests/test_engine.py holds run() to a textbook naive
evaluator.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence, Set
from dataclasses import dataclass, field
from itertools import groupby
from operator import itemgetter
from typing import Any

from hemkg.engine.codegen import Pattern, Table, _Program, compile_program, key_getter
from hemkg.engine.derivations import ByPredicate, Derivation, Derivations, Facts, Layered, Result, Source
from hemkg.engine.language import Fact, Rule, Value, load_rules
from hemkg.engine.planning import shared_only

PASS_LIMIT = 50
RUN_FACTS_GUESS = 4  # facts per predicate a run adds (the candidate's elements, statuses, roles, ...)


@dataclass(frozen=True)
class _RunFacts:
    """The facts one run adds, by predicate and in a table per slot of its program."""

    program: _Program
    tables: list[Table]
    by_predicate: ByPredicate = field(default_factory=dict)

    def add(self, fact: Fact) -> None:
        pred, args = fact
        self.by_predicate.setdefault(pred, []).append(args)
        for slot, arity, key in self.program.indexers.get(pred, ()):
            if arity == len(args):
                self.tables[slot].setdefault(key(args), []).append(fact)

    def lookup(self, slot: int, key: Any) -> Sequence[Fact]:
        """Both tables, for a predicate with shared facts that runs add to."""
        mine = self.tables[slot].get(key)
        theirs = self.program.shared_tables[slot].get(key, ())
        if mine is None:
            return theirs
        return theirs + mine if theirs else mine


class _Index:
    """Facts by predicate, and hash tables to look them up by given argument positions.

    Built once for the facts many runs share (the knowledge graph's); it keeps the
    programs compiled over it, their join orders chosen for these facts.
    """

    def __init__(self, facts: Iterable[Fact] = ()) -> None:
        self.by_predicate: ByPredicate = {}
        self.tables: dict[Pattern, Table] = {}
        self.programs: dict[tuple[tuple[Rule, ...], frozenset[str]], _Program] = {}
        self._last: tuple[tuple[Rule, ...] | None, frozenset[str] | None, _Program | None] = (None, None, None)
        # what share() derived once from these facts alone: the rules, the facts and their derivations
        self.derived_by: frozenset[Rule] = frozenset()
        self.derived: frozenset[Fact] = frozenset()
        self.derivations: dict[Fact, list[Derivation]] = {}
        self.read_by_derived: frozenset[str] = frozenset()  # the predicates those rules read
        self._facts: frozenset[Fact] | None = None
        for fact in facts:
            self.by_predicate.setdefault(fact[0], []).append(fact[1])

    def facts(self, base: dict[Fact, Source]) -> frozenset[Fact]:
        """These facts (`base`, as share() was given them) and those share() derived, as one set, made once per
        process (not pickled: it is only the two together)."""
        if self._facts is None:
            self._facts = frozenset(base).union(self.derived)
        return self._facts

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_facts": None}

    def derive(self, facts: dict[Fact, Source], rules: tuple[Rule, ...]) -> None:
        """Run once the rules that read these facts alone (planning.shared_only), keeping what they derive."""
        once = shared_only(rules, frozenset(self.by_predicate))
        if not once:
            return
        result = run({}, once, shared=(facts, self))
        self.derived = frozenset(f for f in result.facts if f not in facts)
        self.derivations = dict(result.derivations.own)
        for pred, args in sorted(self.derived, key=str):  # sorted: the same index, and pickle, in every process
            self.by_predicate.setdefault(pred, []).append(args)
        self.derived_by = frozenset(once)
        self._facts = None
        self.read_by_derived = frozenset(a.predicate for r in once for a in r.when)
        self.tables.clear()  # built for the facts before; the programs' join orders too
        self.programs.clear()
        self._last = (None, None, None)

    def program(self, rules: tuple[Rule, ...], added: frozenset[str] = frozenset()) -> _Program:
        """`rules` compiled over these facts, for runs that add facts of the shared predicates `added`; the rules
        share() ran once are left out (their conclusions are among these facts)."""
        last_rules, last_added, last = self._last
        if rules is last_rules and added == last_added and last is not None:  # the usual case, cheaper than hashing
            return last
        program = self.programs.get((rules, added))
        if program is None:
            if added & self.read_by_derived:
                raise RuntimeError(f"a run adds facts of {', '.join(sorted(added & self.read_by_derived))}, which "
                                   "rules share() ran once over the shared facts read: share those facts instead")
            program = self.programs[(rules, added)] = compile_program(
                tuple(r for r in rules if r not in self.derived_by), added, frozenset(self.by_predicate),
                self.estimate, self.table)
        self._last = (rules, added, program)
        return program

    def estimate(self, pattern: Pattern, constants: tuple[Value | None, ...]) -> float:
        """How many facts a look-up by `pattern` gives: exact when every key value is a
        constant, else the size of the list a key drawn from the facts themselves finds (the mean
        weighted by size: a join's keys come from facts, so they find the long lists more often
        than an average over keys says); a predicate these facts lack is guessed small."""
        if pattern[0] not in self.by_predicate:
            return RUN_FACTS_GUESS * 0.25 ** len(pattern[2])
        table = self.table(pattern)
        if None not in constants:
            return len(table.get(constants[0] if len(constants) == 1 else constants, ()))
        sizes = [len(facts) for facts in table.values()]
        return sum(n * n for n in sizes) / max(1, sum(sizes))

    def table(self, pattern: Pattern) -> Table:
        found = self.tables.get(pattern)
        if found is None:
            pred, arity, positions = pattern
            found, key = {}, key_getter(positions)
            for args in self.by_predicate.get(pred, ()):
                if len(args) == arity:
                    found.setdefault(key(args), []).append((pred, args))
            self.tables[pattern] = found
        return found


def share(facts: dict[Fact, Source], rules: Iterable[Rule] | None = None) -> tuple[dict[Fact, Source], _Index]:
    """Index a set of facts once, for `run(..., shared=...)`; with `rules`, run once those of them that read
    these facts alone, and compile the rest over them."""
    index = _Index(facts)
    if rules is not None:
        rules = tuple(rules)
        index.derive(facts, rules)
        program = index.program(rules)
        kept = {id(t) for t in program.shared_tables}  # those the estimates alone asked for: built again if asked
        index.tables = {pattern: t for pattern, t in index.tables.items() if id(t) in kept}
    return facts, index


def rules_for(predicates: Iterable[str], rules: tuple[Rule, ...] | None = None) -> tuple[Rule, ...]:
    """The rules needed to derive `predicates`: those deriving them, and those deriving their premises."""
    rules = load_rules() if rules is None else rules
    needed = set(predicates)
    chosen: dict[str, Rule] = {}
    changed = True
    while changed:
        changed = False
        for r in rules:
            if r.id not in chosen and any(h.predicate in needed for h in r.then):
                chosen[r.id] = r
                needed |= {a.predicate for a in r.when}
                changed = True
    return tuple(r for r in rules if r.id in chosen)


def run(base: dict[Fact, Source], rules: Iterable[Rule] | None = None,
        shared: tuple[dict[Fact, Source], _Index] | None = None) -> Result:
    """Run the rules over the base facts to a fixpoint, recording every derivation.

    `shared` is a set of facts (with its index, from `share()`) that many runs
    start from, such as the knowledge graph's; `base` then holds only the rest.
    """
    rules = load_rules() if rules is None else tuple(rules)
    shared_facts, shared_index = share(base) if shared is None else shared
    own_base = [fact for fact in base if fact not in shared_facts]
    program = shared_index.program(rules, frozenset(p for p, _ in own_base if p in shared_index.by_predicate))
    own = _RunFacts(program, [{} for _ in program.shared_tables])
    for fact in own_base:
        own.add(fact)
    everything = shared_index.facts(shared_facts)
    if program.concludes_shared:  # a conclusion may be a shared fact: the check that it is new needs them all
        facts = set(everything)
        facts.update(base)
        held: Set[Fact] = facts
    else:  # the run's own facts, beside the shared ones (not copied: thousands with a library)
        facts = set(base)
        held = Facts(facts, everything)
    derivations: dict[Fact, list[Derivation]] = {}
    result = Result(held, Layered(base, shared_facts), Derivations(derivations, shared_index.derivations),
                    by_predicate=(shared_index.by_predicate, own.by_predicate))
    tables = (program.shared_tables, own.tables, own.by_predicate, own.lookup)
    for component in program.components:
        if component.solve is not None:  # rules that run once, indexing what they add themselves
            component.solve(*tables, derivations, facts)
            continue
        by_trigger = component.by_trigger
        assert by_trigger is not None  # a component without one function for all its rules is recursive
        new: list[Fact] = []
        for plan in component.full:
            plan.solve(*tables, None, None, derivations, facts, new)
        for _ in range(PASS_LIMIT):
            added: dict[str, list[Fact]] = {}
            for fact in new:
                own.add(fact)
                added.setdefault(fact[0], []).append(fact)
            if not new:
                break
            triggered = sorted(entry for pred in added for entry in by_trigger.get(pred, ()))
            new = []
            for _, entries in groupby(triggered, key=itemgetter(0)):  # by rule
                plans = [plan for _, _, plan in entries]
                seen: set[tuple[Fact, ...]] | None = set() if len(plans) > 1 else None
                for plan in plans:
                    assert plan.first is not None  # it starts from the facts of one premise
                    plan.solve(*tables, added[plan.first[0]], seen, derivations, facts, new)
        else:
            raise RuntimeError(f"rules did not reach a fixpoint in {PASS_LIMIT} passes")
    return result
