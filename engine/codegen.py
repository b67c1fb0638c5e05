"""Rules turned into generated Python: join plans, each a small function of nested loops.

Each rule is compiled once into join plans: its positive premises in the order
that looks facts up by the most arguments already known (constants, and
variables bound by earlier steps), through hash tables built for exactly those
argument positions; each negated or built-in premise is checked as soon as its
variables are bound. A plan becomes a small Python function of nested loops,
generated from the rule (its text is kept: `print(plan.source)`).

A program is rules compiled over one index of shared facts (evaluation.py),
their join orders chosen for those facts. Each look-up gets a slot, and the
generated code reads it from the table that can hold its predicate: S, the
shared facts' tables, built once; O, the run's own; or both, through
`lookup`, only for a predicate in both. Each stretch of rules that run once
(planning.components) becomes one function, one call a run, in which each rule
indexes the facts it adds itself; a rule of a recursive component gets, beside
its full plan, one plan per positive premise, to start from the facts the last
pass added (semi-naive evaluation).

The program is kept with the shared index and pickles with it
(consultation.facts.shared_knowledge caches it on disk): a generated function
pickles as its marshalled code, so a cached program needs no compiling.
"""

from __future__ import annotations

import functools
import marshal
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import groupby
from operator import itemgetter
from types import CodeType, FunctionType
from typing import Any

from hemkg.engine.derivations import ByPredicate, Derivation
from hemkg.engine.language import BUILTINS, Atom, Fact, Rule, Value, is_variable
from hemkg.engine.planning import components, stratify

Pattern = tuple[str, int, tuple[int, ...]]  # (predicate, arity, argument positions looked up)
# A look-up key is the value at the one position looked up, or the tuple of the values at
# several (none: ()), as operator.itemgetter gives it: facts are indexed without Python loops.
Table = dict[Any, list[Fact]]  # look-up key -> the facts themselves (premises are recorded as they are)
KeyGetter = Callable[[tuple[Value, ...]], Any]
# How many facts a look-up by a pattern gives, given the constants of its key (None: a variable)
Estimate = Callable[[Pattern, tuple[Value | None, ...]], float]
Lookup = Callable[[int, Any], Sequence[Fact]]  # a slot's facts of both tables, by key
# The generated functions, with the names their parameters have in the generated code:
# solve(S, O, B, lookup, start, seen, derivations, facts, new), one rule's plan, and
PlanFunction = Callable[[Sequence[Table], Sequence[Table], ByPredicate, Lookup, Sequence[Fact] | None,
                         set[tuple[Fact, ...]] | None, dict[Fact, list[Derivation]], set[Fact], list[Fact]], None]
# solve(S, O, B, lookup, derivations, facts), rules that run once, in order
SequenceFunction = Callable[[Sequence[Table], Sequence[Table], ByPredicate, Lookup, dict[Fact, list[Derivation]],
                             set[Fact]], None]


def _compare(name: str, *args: Value) -> bool:
    try:
        return BUILTINS[name](*args)
    except TypeError:  # comparing a word with a number, or a built-in given the wrong arguments
        return False


def key_getter(positions: tuple[int, ...]) -> KeyGetter:
    return itemgetter(*positions) if positions else _no_key


def _no_key(args: tuple[Value, ...]) -> tuple[()]:
    return ()


def _key_text(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"({', '.join(items)})" if len(items) > 1 else "()"


def _tuple(items: list[str]) -> str:
    return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"


def _pattern(atom: Atom, bound: set[str]) -> tuple[Pattern, tuple[Value, ...]]:
    """The look-up for `atom` once `bound` variables are known: its pattern, and the key
    (constants as they are, variables by name)."""
    positions = [i for i, a in enumerate(atom.args) if a != "_" and (not is_variable(a) or a in bound)]
    return (atom.predicate, len(atom.args), tuple(positions)), tuple(atom.args[i] for i in positions)


class _Slots:
    """Numbers the look-ups of a program and writes each as an expression on the table that
    holds its predicate's facts: S (shared), O (the run's own), or both through `lookup`."""

    def __init__(self, shared: frozenset[str], mixed: frozenset[str]) -> None:
        self.shared, self.mixed = shared, mixed
        self.patterns: list[Pattern] = []
        self.number: dict[Pattern, int] = {}

    def of(self, predicate: str) -> list[tuple[int, Pattern]]:
        return [(slot, p) for slot, p in enumerate(self.patterns) if p[0] == predicate]

    def expression(self, pattern: Pattern, key_text: str) -> str:
        if pattern not in self.number:
            self.number[pattern] = len(self.patterns)
            self.patterns.append(pattern)
        slot, pred = self.number[pattern], pattern[0]
        if pred in self.mixed:
            return f"lookup({slot}, {key_text})"
        return f"{'S' if pred in self.shared else 'O'}[{slot}].get({key_text}, ())"


@dataclass(frozen=True)
class _Plan:
    rule: Rule
    order: tuple[int, ...]  # the positive premises (by position among them) in the order they are matched
    first: Pattern | None  # the first premise's look-up (None: the rule has no positive premise)
    source: str  # the generated function `solve(S, O, B, lookup, start, seen, derivations, facts, new)`
    code: bytes = field(compare=False, repr=False)  # its compiled code, marshalled

    @functools.cached_property
    def solve(self) -> PlanFunction:
        """The generated function, made from its code when first asked for: a cached program is read at every
        start, and a rule that runs once only runs inside its component's function, never through its plan."""
        return _function(marshal.loads(self.code), {"RULE": self.rule})

    def __reduce__(self) -> tuple[type[_Plan], tuple[Rule, tuple[int, ...], Pattern | None, str, bytes]]:
        # pickled with its compiled code, so a cached program needs no compiling
        return _Plan, (self.rule, self.order, self.first, self.source, self.code)


def _code(source: str, filename: str) -> CodeType:
    """The code of the one function `source` defines (generated from parsed atoms, never from input)."""
    return next(c for c in compile(source, filename, "exec").co_consts if isinstance(c, CodeType))


def _function(code: CodeType, rules: dict[str, Rule]) -> FunctionType:
    """A generated function, with the names it uses: the rules it records, under the names it gives them."""
    return FunctionType(code, {"_compare": _compare, "DERIVATION": Derivation, "NEW": tuple.__new__, **rules}, "solve")


def _plan(rule: Rule, estimate: Estimate, slots: _Slots, first: int | None = None) -> _Plan:
    """Order the positive premises greedily, the look-up expected to give fewest facts first,
    and generate the function that matches them. With `first`, that premise comes first:
    it will range over the facts a pass added (`start`)."""
    positives = list(rule.positives)
    bound: set[str] = set()
    order: list[int] = []
    todo = list(range(len(positives)))

    def cost(i: int) -> tuple[float, int]:
        pattern, key = _pattern(positives[i], bound)
        return estimate(pattern, tuple(None if is_variable(k) else k for k in key)), i

    while todo:
        i = first if first is not None and not order else min(todo, key=cost)
        todo.remove(i)
        order.append(i)
        bound |= positives[i].variables
    source = _source(rule, positives, order, slots)
    first_pattern = _pattern(positives[order[0]], set())[0] if order else None
    return _Plan(rule, tuple(order), first_pattern, source, marshal.dumps(_code(source, f"<rule {rule.id}>")))


def _source(rule: Rule, positives: list[Atom], order: list[int], slots: _Slots, within: str | None = None) -> str:
    """Python source of `solve(S, O, B, lookup, start, seen, derivations, facts, new)`.

    For every binding it records a Derivation (rule, conclusion, premise facts in the rule's
    order, the values bound, by the variables' names, negated premises as checked) of each conclusion, and
    adds conclusions not yet in `facts` to it and to `new`. `seen`, when given, holds the
    premise facts of bindings found already: several plans of one rule can meet the same
    binding when it uses more than one fact from `start`.

    With `within` (the name the rule has there), only the body for a function that runs
    rules once each (see _sequence): inside `for _ in (0,):`, it leaves by `continue`, and
    adds its new facts to the run's tables O and facts by predicate B at once."""
    once = within is not None
    names: dict[str, str] = {}  # variable -> local name
    checks = [a for a in rule.when if a.negated or a.predicate in BUILTINS]

    def value(arg: Value) -> str:
        return names[arg] if is_variable(arg) else repr(arg)

    def args(atom: Atom) -> str:
        return _tuple([value(a) for a in atom.args])

    def fails(atom: Atom) -> str:
        if atom.predicate in BUILTINS:
            return f"not _compare({atom.predicate!r}, {', '.join(value(a) for a in atom.args)})"
        pattern, key = _pattern(atom, atom.variables)
        return slots.expression(pattern, _key_text([value(k) for k in key]))

    lines = [] if within else [f"def solve(S, O, B, lookup, start, seen, derivations, facts, new):  # rule {rule.id}"]
    depth = 2 if within else 1
    pending = list(checks)

    def emit_ready_checks(exit_word: str) -> None:
        for atom in list(pending):
            if atom.variables <= names.keys():
                lines.append("    " * depth + f"if {fails(atom)}: {exit_word}  # {atom}")
                pending.remove(atom)

    emit_ready_checks("continue" if within else "return")
    for n, i in enumerate(order):
        atom = positives[i]
        pattern, key = _pattern(atom, set(names))
        found = slots.expression(pattern, _key_text([value(k) for k in key]))
        if n == 0 and not once:
            same_key = f" and {_key_text([f'x[1][{p}]' for p in pattern[2]])} == {_key_text([value(k) for k in key])}" \
                if pattern[2] else ""
            lines.append("    " * depth + f"matches = {found} if start is None else "
                         f"[x for x in start if len(x[1]) == {pattern[1]}{same_key}]")
            found = "matches"
        lines.append("    " * depth + f"for p{i} in {found}:  # {atom}")
        depth += 1
        if any(is_variable(a) and n not in pattern[2] for n, a in enumerate(atom.args)):
            lines.append("    " * depth + f"a{i} = p{i}[1]")
        for position, arg in enumerate(atom.args):
            if not is_variable(arg) or position in pattern[2]:
                continue
            if arg in names:  # the same new variable twice in this premise
                lines.append("    " * depth + f"if a{i}[{position}] != {names[arg]}: continue")
            else:
                names[arg] = f"v{len(names)}"
                lines.append("    " * depth + f"{names[arg]} = a{i}[{position}]")
        emit_ready_checks("continue")
    indent = "    " * depth
    lines.append(indent + f"used = {_tuple([f'p{i}' for i in range(len(positives))])}")
    if order and not once:
        lines += [indent + "if seen is not None:",
                  indent + "    if used in seen: continue",
                  indent + "    seen.add(used)"]
    lines.append(indent + f"bound = {_tuple([names[v] for v in sorted(names)])}")
    lines.append(indent + f"absent = {_tuple([f'({a.predicate!r}, {args(a)})' for a in checks if a.negated])}")
    for head in rule.then:
        lines += [indent + f"arguments = {args(head)}",
                  indent + f"fact = ({head.predicate!r}, arguments)",
                  indent + f"derivation = NEW(DERIVATION, ({within or 'RULE'}, fact, used, bound, absent))",
                  indent + "recorded = derivations.get(fact)",
                  indent + "if recorded is None: derivations[fact] = [derivation]",
                  indent + "else: recorded.append(derivation)",
                  indent + "if fact not in facts:",
                  indent + "    facts.add(fact)"]
        if not once:
            lines.append(indent + "    new.append(fact)")
            continue
        lines.append(indent + f"    B.setdefault({head.predicate!r}, []).append(arguments)")
        for slot, (_, arity, positions) in slots.of(head.predicate):
            if arity == len(head.args):
                key_text = _key_text([value(head.args[i]) for i in positions])
                lines.append(indent + f"    O[{slot}].setdefault({key_text}, []).append(fact)")
    return "\n".join(lines) + "\n"


# predicate -> (rule's position, premise's position, plan) of each plan that starts from that predicate's new facts
Triggers = dict[str, tuple[tuple[int, int, _Plan], ...]]


@dataclass(frozen=True)
class _Component:
    """Rules run together: to a fixpoint (rules that depend on each other), or once each, in order."""

    full: tuple[_Plan, ...]  # one per rule, in the rules' order: the first pass
    # for a recursive component, the later passes: per predicate, the plans that start
    # from its new facts, with (rule, premise) to sort by; None: one pass is all it needs
    by_trigger: Triggers | None
    # for rules that run once: one generated function running all of them, in order
    # (one call a run instead of one a rule), `solve(S, O, B, lookup, derivations, facts)`
    source: str = ""
    solve: SequenceFunction | None = field(default=None, compare=False, repr=False)

    def __reduce__(self) -> tuple[Callable[..., _Component],
                                  tuple[tuple[_Plan, ...], Triggers | None, str, bytes | None]]:
        code = marshal.dumps(self.solve.__code__) if self.solve else None
        return _restore_component, (self.full, self.by_trigger, self.source, code)


def _sequence(plans: tuple[_Plan, ...], slots: _Slots) -> _Component:
    """One function running rules that run once, in order: each rule's body in `for _ in (0,):`."""
    lines = ["def solve(S, O, B, lookup, derivations, facts):"]
    for n, plan in enumerate(plans):
        positives = list(plan.rule.positives)
        lines.append(f"    for _ in (0,):  # rule {plan.rule.id}")
        lines.append(_source(plan.rule, positives, list(plan.order), slots, within=f"RULE_{n}"))
    source = "\n".join(lines) + "\n"
    return _Component(plans, None, source, _function(_code(source, "<rules run once>"), _sequence_names(plans)))


def _sequence_names(plans: tuple[_Plan, ...]) -> dict[str, Rule]:
    return {f"RULE_{n}": plan.rule for n, plan in enumerate(plans)}


def _restore_component(full: tuple[_Plan, ...], by_trigger: Triggers | None, source: str,
                       code: bytes | None) -> _Component:
    solve = _function(marshal.loads(code), _sequence_names(full)) if code else None
    return _Component(full, by_trigger, source, solve)


@dataclass(frozen=True)
class _Program:
    """Rules compiled for evaluation over one shared index: components in the order they run,
    per rule a full plan, and for recursive rules one plan per positive premise."""

    components: tuple[_Component, ...]  # in the order they run
    full: dict[str, _Plan]
    from_premise: dict[str, tuple[_Plan, ...]]  # for the rules of recursive components
    shared_tables: tuple[Table, ...]  # by slot (empty for a predicate the shared facts lack)
    indexers: dict[str, tuple[tuple[int, int, KeyGetter], ...]]  # pred -> (slot, arity, key)
    # whether a rule concludes a predicate the shared facts hold: only then must a run's check that a conclusion
    # is new look among the shared facts too
    concludes_shared: bool = True

def compile_program(rules: tuple[Rule, ...], added: frozenset[str], shared: frozenset[str], estimate: Estimate,
                    table: Callable[[Pattern], Table]) -> _Program:
    """`rules` compiled over an index of facts of the predicates `shared` (with its `estimate` of a
    look-up and its `table` for a pattern), for runs that add facts of the shared predicates `added`."""
    derived = {h.predicate for r in rules for h in r.then}
    slots = _Slots(shared, frozenset(shared & (derived | added)))
    full: dict[str, _Plan] = {}
    from_premise: dict[str, tuple[_Plan, ...]] = {}
    for rule in rules:
        full[rule.id] = _plan(rule, estimate, slots)
    order: list[_Component] = []
    for stratum in stratify(rules):
        for group in components(stratum):
            if not group.recursive:
                order.append(_Component(tuple(full[r.id] for r in group), None))
                continue
            by_trigger: dict[str, list[tuple[int, int, _Plan]]] = {}
            for position, rule in enumerate(group):
                from_premise[rule.id] = tuple(_plan(rule, estimate, slots, first=i)
                                              for i in range(len(full[rule.id].order)))
                for premise, plan in enumerate(from_premise[rule.id]):
                    assert plan.first is not None  # a plan from a premise has one first
                    by_trigger.setdefault(plan.first[0], []).append((position, premise, plan))
            order.append(_Component(tuple(full[r.id] for r in group), {p: tuple(v) for p, v in by_trigger.items()}))
    # now that every look-up has its slot, each stretch of rules that run once (between
    # recursive components) becomes one function, in which each rule indexes its own facts
    merged: list[_Component] = []
    for recursive, stretch in groupby(order, key=lambda c: c.by_trigger is not None):
        if recursive:
            merged += stretch
        else:
            merged.append(_sequence(tuple(p for c in stretch for p in c.full), slots))
    indexers: dict[str, list[tuple[int, int, KeyGetter]]] = {}
    for slot, pattern in enumerate(slots.patterns):
        indexers.setdefault(pattern[0], []).append((slot, pattern[1], key_getter(pattern[2])))
    return _Program(tuple(merged), full, from_premise, tuple(table(p) for p in slots.patterns),
                    {pred: tuple(v) for pred, v in indexers.items()}, bool(derived & shared))
