"""The rule engine: reads the rule files in rules/ and runs them to a fixpoint.

A rule file (TOML) holds rules with a stable id, a one-line statement, the
premises (`when`) and conclusions (`then`) as atoms, and the references and
place in the paper that justify it. The language is Datalog with stratified
negation:

    when = ["element(?c)", "on_plane(?c, A)", "not has_anion()"]
    then = ["mechanism_element(conversion, ?c)"]

`?x` is a variable, `_` matches anything in a negated atom, other words and
numbers are constants. Built-ins `lt`, `gt`, `le`, `ge` and `ne` compare
bound values. A negated atom is true when no fact matches it; rules are
grouped into strata so that everything a negation asks about is complete first.
Each rule is compiled into small generated Python functions (see "evaluation"
below); tests/test_engine.py holds them to a textbook naive evaluator.

Every fact the engine derives keeps each Derivation that produced it: the
rule, the variable bindings and the premise facts (themselves from the
knowledge graph, the user's input or earlier derivations). Explanations are
rendered from these records, never reconstructed.
"""

from __future__ import annotations

import marshal
import re
from collections import ChainMap
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import groupby
from operator import itemgetter
from types import CodeType, FunctionType
from typing import Any, NamedTuple

from hemkg.graph.diskcache import disk_cached
from hemkg.graph.store import package_files

Value = str | float
Fact = tuple[str, tuple[Value, ...]]  # (predicate, arguments)

RULE_FILES = ("rules", "*.toml")
BUILTINS = {
    "lt": lambda a, b: a < b, "gt": lambda a, b: a > b, "le": lambda a, b: a <= b,
    "ge": lambda a, b: a >= b, "ne": lambda a, b: a != b,
}
PASS_LIMIT = 50


class RuleFileError(ValueError):
    """A rule file is malformed; the message names the file, rule id and fix."""


@dataclass(frozen=True)
class Atom:
    predicate: str
    args: tuple[Value, ...]
    negated: bool = False

    def __str__(self) -> str:
        inner = ", ".join(show_value(a) for a in self.args)
        return f"{'not ' if self.negated else ''}{self.predicate}({inner})"

    @property
    def variables(self) -> set[str]:
        return {a for a in self.args if isinstance(a, str) and a.startswith("?")}


@dataclass(frozen=True)
class Rule:
    id: str
    statement: str
    when: tuple[Atom, ...]
    then: tuple[Atom, ...]
    references: tuple[int, ...]
    location: str
    basis: str  # "paper", or where outside knowledge comes from
    file: str
    note: str = ""

    @property
    def from_paper(self) -> bool:
        return self.basis == "paper"

    def __hash__(self) -> int:  # ids are unique: hashing only the id keeps compiled-program look-ups cheap
        return hash(self.id)


class Source(NamedTuple):  # a named tuple, like Derivation: a consultation makes dozens
    """Where a base fact comes from: the knowledge graph (with its statement), the input, or a convention."""

    kind: str  # "kg", "input" or "convention"
    detail: str = ""  # statement IRI, input field, or the convention's rule file
    references: tuple[int, ...] = ()
    label: str = ""


class Derivation(NamedTuple):  # a named tuple: a consultation makes hundreds, and it builds ~5x faster
    rule: Rule
    conclusion: Fact
    premises: tuple[Fact, ...]
    bindings: tuple[tuple[str, Value], ...]
    absent: tuple[Fact, ...] = ()  # the negated premises, as checked: no fact matched each


@dataclass
class Result:
    """Facts after the fixpoint, with how each was obtained. Read it; do not add to it."""

    facts: set[Fact]
    sources: Mapping[Fact, Source]  # of the facts not derived
    derivations: dict[Fact, list[Derivation]] = field(default_factory=dict)
    # the facts' arguments by predicate, in disjoint parts (shared, the run's own), for query()
    by_predicate: tuple[dict[str, list[tuple[Value, ...]]], ...] = field(default=(), repr=False, compare=False)

    def query(self, predicate: str, *pattern: Value | None) -> list[tuple[Value, ...]]:
        """Arguments of facts with `predicate` matching `pattern` (None matches anything), sorted."""
        if not self.by_predicate:
            grouped: dict[str, list[tuple[Value, ...]]] = {}
            for pred, args in self.facts:
                grouped.setdefault(pred, []).append(args)
            self.by_predicate = (grouped,)
        return sorted(
            (args for part in self.by_predicate for args in part.get(predicate, EMPTY) if len(args) >= len(pattern)
             and all(want is None or want == got for want, got in zip(pattern, args))),
            key=lambda args: tuple(str(a) for a in args),
        )

    def holds(self, predicate: str, *args: Value) -> bool:
        return (predicate, tuple(args)) in self.facts


# ------------------------------------------------------------------ parsing

_ATOM = re.compile(r"^\s*(not\s+)?([a-z_][a-z0-9_]*)\s*\((.*)\)\s*$")


def show_value(value: Value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _constant(token: str) -> Value:
    token = token.strip()
    if token.startswith('"') and token.endswith('"') and len(token) >= 2:
        return token[1:-1]
    try:
        return float(token)
    except ValueError:
        return token


def parse_atom(text: str, where: str) -> Atom:
    match = _ATOM.match(text)
    if not match:
        raise RuleFileError(f"{where}: '{text}' is not an atom; write predicate(arg, ...), e.g. element(?c)")
    negated, predicate, inner = match.groups()
    args = tuple(_constant(t) for t in inner.split(",")) if inner.strip() else ()
    if any(a == "" for a in args):
        raise RuleFileError(f"{where}: '{text}' has an empty argument")
    return Atom(predicate, args, bool(negated))


def _load_rule(entry: dict, file: str) -> Rule:
    rule_id = entry.get("id", "")
    where = f"{file}, rule '{rule_id or '?'}'"
    missing = [k for k in ("id", "statement", "when", "then", "location") if k not in entry]
    if missing:
        raise RuleFileError(f"{where}: missing {', '.join(missing)}")
    basis = entry.get("basis", "paper")
    references = tuple(int(r) for r in entry.get("references", []))
    if basis == "paper" and not references and not entry.get("rests_on_paper_alone"):
        raise RuleFileError(f"{where}: a rule from the paper needs references (or rests_on_paper_alone = true)")
    when = tuple(parse_atom(a, where) for a in entry["when"])
    then = tuple(parse_atom(a, where) for a in entry["then"])
    bound = set().union(*(a.variables for a in when if not a.negated and a.predicate not in BUILTINS))
    for atom in when:
        if (atom.negated or atom.predicate in BUILTINS) and not atom.variables <= bound:
            raise RuleFileError(f"{where}: variables of '{atom}' must be bound by a positive premise")
    for atom in then:
        if atom.negated or not atom.variables <= bound:
            raise RuleFileError(f"{where}: conclusion '{atom}' must be positive and use only bound variables")
    return Rule(rule_id, entry["statement"], when, then, references, entry["location"], basis, file,
                entry.get("note", ""))


@disk_cached
def load_rules() -> tuple[Rule, ...]:
    """Every rule of every rules/*.toml file, in file order; ids must be unique."""
    import tomllib  # here, not at the top: a cold start reads the rules from the disk cache

    rules: list[Rule] = []
    for f in package_files(*RULE_FILES):
        try:
            data = tomllib.loads(f.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as err:
            raise RuleFileError(f"{f.name}: {err}") from None
        rules += [_load_rule(entry, f.name) for entry in data.get("rule", [])]
    seen: set[str] = set()
    for rule in rules:
        if rule.id in seen:
            raise RuleFileError(f"{rule.file}: rule id '{rule.id}' is used twice; ids must be unique")
        seen.add(rule.id)
    return tuple(rules)


@disk_cached
def conventions() -> dict[str, dict]:
    """Non-rule tables of the rule files (e.g. [convention.outside_anions]), by name."""
    import tomllib

    found: dict[str, dict] = {}
    for f in package_files(*RULE_FILES):
        for name, table in tomllib.loads(f.read_text(encoding="utf-8")).get("convention", {}).items():
            found[name] = {**table, "file": f.name}
    return found


# ------------------------------------------------------------------ stratification

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
            need = max((level[a.predicate] + (1 if a.negated else 0) for a in r.when if a.predicate in level), default=0)
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
        a == b or _is_variable(a) or _is_variable(b) or b == "_" for a, b in zip(conclusion.args, premise.args))


def components(stratum: Iterable[Rule]) -> list[tuple[Rule, ...]]:
    """Order a stratum's rules so that each comes after the rules deriving its premises.

    A rule depends on another when a conclusion of that one can match one of its
    premises (status(alloying, ...) does not feed status(conversion, active)).
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
    found: list[tuple[Rule, ...]] = []
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
                found.append(tuple(rules[m] for m in sorted(members)))
    return found[::-1]


# ------------------------------------------------------------------ evaluation
# Each rule is compiled once into join plans: its positive premises in the order
# that looks facts up by the most arguments already known (constants, and
# variables bound by earlier steps), through hash tables built for exactly those
# argument positions; each negated or built-in premise is checked as soon as its
# variables are bound. A plan becomes a small Python function of nested loops,
# generated from the rule (its text is kept: `print(plan.source)`).
# Facts shared by many runs (the knowledge graph's) sit in tables built once; a
# run's own facts in tables of its own. A look-up goes straight to the one that
# can hold its predicate, and merges the two only for a predicate in both.
# Rules run in dependency order (components()): a rule outside any recursion
# runs once, when all it reads is complete, and indexes the facts it adds
# itself; rules that depend on each other run semi-naively to a fixpoint: after
# a first pass, a rule runs again only from the facts the last pass added, one
# plan per premise they can match. The compiled program is kept with the shared
# index (and pickles with it: consult.shared_knowledge caches it on disk).

Pattern = tuple[str, int, tuple[int, ...]]  # (predicate, arity, argument positions looked up)
# A look-up key is the value at the one position looked up, or the tuple of the values at
# several (none: ()), as operator.itemgetter gives it: facts are indexed without Python loops.
Table = dict[Any, list[Fact]]  # look-up key -> the facts themselves (premises are recorded as they are)
RUN_FACTS_GUESS = 4  # facts per predicate a run adds (the candidate's elements, statuses, roles, ...)
EMPTY: tuple = ()


def _is_variable(value: Value) -> bool:
    return isinstance(value, str) and value.startswith("?")


def _compare(name: str, *args: Value) -> bool:
    try:
        return BUILTINS[name](*args)
    except TypeError:  # comparing a word with a number, or a built-in given the wrong arguments
        return False


def _key_getter(positions: tuple[int, ...]) -> Callable[[tuple[Value, ...]], Any]:
    return itemgetter(*positions) if positions else _no_key


def _no_key(args: tuple[Value, ...]) -> tuple:
    return ()


def _key_text(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"({', '.join(items)})" if len(items) > 1 else "()"


def _tuple(items: list[str]) -> str:
    return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"


def _pattern(atom: Atom, bound: set[str]) -> tuple[Pattern, tuple[Value, ...]]:
    """The look-up for `atom` once `bound` variables are known: its pattern, and the key
    (constants as they are, variables by name)."""
    positions = [i for i, a in enumerate(atom.args) if a != "_" and (not _is_variable(a) or a in bound)]
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
    solve: Callable[..., None] = field(compare=False, repr=False)

    def __reduce__(self):  # pickled with its compiled code, so a cached program needs no compiling
        return _restore_plan, (self.rule, self.order, self.first, self.source, marshal.dumps(self.solve.__code__))


def _code(source: str, filename: str) -> CodeType:
    """The code of the one function `source` defines (generated from parsed atoms, never from input)."""
    return next(c for c in compile(source, filename, "exec").co_consts if isinstance(c, CodeType))


def _function(code: CodeType, rules: dict[str, Rule]) -> Callable[..., None]:
    """A generated function, with the names it uses: the rules it records, under the names it gives them."""
    return FunctionType(code, {"_compare": _compare, "DERIVATION": Derivation, "NEW": tuple.__new__, **rules}, "solve")


def _restore_plan(rule: Rule, order: tuple[int, ...], first: Pattern | None, source: str, code: bytes) -> _Plan:
    return _Plan(rule, order, first, source, _function(marshal.loads(code), {"RULE": rule}))


def _plan(rule: Rule, estimate: Callable[[Pattern, tuple], float], slots: _Slots, first: int | None = None) -> _Plan:
    """Order the positive premises greedily, the look-up expected to give fewest facts first,
    and generate the function that matches them. With `first`, that premise comes first:
    it will range over the facts a pass added (`start`)."""
    positives = [a for a in rule.when if not a.negated and a.predicate not in BUILTINS]
    bound: set[str] = set()
    order: list[int] = []
    todo = list(range(len(positives)))

    def cost(i: int) -> tuple[float, int]:
        pattern, key = _pattern(positives[i], bound)
        return estimate(pattern, tuple(None if _is_variable(k) else k for k in key)), i

    while todo:
        i = first if first is not None and not order else min(todo, key=cost)
        todo.remove(i)
        order.append(i)
        bound |= positives[i].variables
    source = _source(rule, positives, order, slots)
    first_pattern = _pattern(positives[order[0]], set())[0] if order else None
    return _Plan(rule, tuple(order), first_pattern, source, _function(_code(source, f"<rule {rule.id}>"), {"RULE": rule}))


def _source(rule: Rule, positives: list[Atom], order: list[int], slots: _Slots, within: str | None = None) -> str:
    """Python source of `solve(S, O, B, lookup, start, seen, derivations, facts, new)`.

    For every binding it records a Derivation (rule, conclusion, premise facts in the rule's
    order, bindings sorted by name, negated premises as checked) of each conclusion, and
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
        return names[arg] if _is_variable(arg) else repr(arg)

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
        if any(_is_variable(a) and n not in pattern[2] for n, a in enumerate(atom.args)):
            lines.append("    " * depth + f"a{i} = p{i}[1]")
        for position, arg in enumerate(atom.args):
            if not _is_variable(arg) or position in pattern[2]:
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
    lines.append(indent + f"bindings = {_tuple([f'({v!r}, {names[v]})' for v in sorted(names)])}")
    lines.append(indent + f"absent = {_tuple([f'({a.predicate!r}, {args(a)})' for a in checks if a.negated])}")
    for head in rule.then:
        lines += [indent + f"arguments = {args(head)}",
                  indent + f"fact = ({head.predicate!r}, arguments)",
                  indent + f"derivation = NEW(DERIVATION, ({within or 'RULE'}, fact, used, bindings, absent))",
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
                key = _key_text([value(head.args[i]) for i in positions])
                lines.append(indent + f"    O[{slot}].setdefault({key}, []).append(fact)")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class _Component:
    """Rules run together: to a fixpoint (rules that depend on each other), or once each, in order."""

    full: tuple[_Plan, ...]  # one per rule, in the rules' order: the first pass
    # for a recursive component, the later passes: per predicate, the plans that start
    # from its new facts, with (rule, premise) to sort by; None: one pass is all it needs
    by_trigger: dict[str, tuple[tuple[int, int, _Plan], ...]] | None
    # for rules that run once: one generated function running all of them, in order
    # (one call a run instead of one a rule), `solve(S, O, B, lookup, derivations, facts)`
    source: str = ""
    solve: Callable[..., None] | None = field(default=None, compare=False, repr=False)

    def __reduce__(self):
        code = marshal.dumps(self.solve.__code__) if self.solve else None
        return _restore_component, (self.full, self.by_trigger, self.source, code)


def _sequence(plans: tuple[_Plan, ...], slots: _Slots) -> _Component:
    """One function running rules that run once, in order: each rule's body in `for _ in (0,):`."""
    lines = ["def solve(S, O, B, lookup, derivations, facts):"]
    for n, plan in enumerate(plans):
        positives = [a for a in plan.rule.when if not a.negated and a.predicate not in BUILTINS]
        lines.append(f"    for _ in (0,):  # rule {plan.rule.id}")
        lines.append(_source(plan.rule, positives, list(plan.order), slots, within=f"RULE_{n}"))
    source = "\n".join(lines) + "\n"
    return _Component(plans, None, source, _function(_code(source, "<rules run once>"), _sequence_names(plans)))


def _sequence_names(plans: tuple[_Plan, ...]) -> dict[str, Rule]:
    return {f"RULE_{n}": plan.rule for n, plan in enumerate(plans)}


def _restore_component(full: tuple[_Plan, ...], by_trigger, source: str, code: bytes | None) -> _Component:
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
    indexers: dict[str, tuple[tuple[int, int, Callable[[tuple[Value, ...]], Any]], ...]]  # pred -> (slot, arity, key)


@dataclass(frozen=True)
class _RunFacts:
    """The facts one run adds, by predicate and in a table per slot of its program."""

    program: _Program
    tables: list[Table]
    by_predicate: dict[str, list[tuple[Value, ...]]] = field(default_factory=dict)

    def add(self, fact: Fact) -> None:
        pred, args = fact
        self.by_predicate.setdefault(pred, []).append(args)
        for slot, arity, key in self.program.indexers.get(pred, EMPTY):
            if arity == len(args):
                self.tables[slot].setdefault(key(args), []).append(fact)

    def lookup(self, slot: int, key: Any) -> Sequence[Fact]:
        """Both tables, for a predicate with shared facts that runs add to."""
        mine = self.tables[slot].get(key)
        theirs = self.program.shared_tables[slot].get(key, EMPTY)
        if mine is None:
            return theirs
        return theirs + mine if theirs else mine


class _Index:
    """Facts by predicate, and hash tables to look them up by given argument positions.

    Built once for the facts many runs share (the knowledge graph's); it keeps the
    programs compiled over it, their join orders chosen for these facts.
    """

    def __init__(self, facts: Iterable[Fact] = ()) -> None:
        self.by_predicate: dict[str, list[tuple[Value, ...]]] = {}
        self.tables: dict[Pattern, Table] = {}
        self.programs: dict[tuple[tuple[Rule, ...], frozenset[str]], _Program] = {}
        self._last: tuple = (None, None, None)
        for fact in facts:
            self.by_predicate.setdefault(fact[0], []).append(fact[1])

    def program(self, rules: tuple[Rule, ...], added: frozenset[str] = frozenset()) -> _Program:
        """`rules` compiled over these facts, for runs that add facts of the shared predicates `added`."""
        if rules is self._last[0] and added == self._last[1]:  # the usual case, cheaper than hashing every rule
            return self._last[2]
        program = self.programs.get((rules, added))
        if program is None:
            program = self.programs[(rules, added)] = self._compile(rules, added)
        self._last = (rules, added, program)
        return program

    def _compile(self, rules: tuple[Rule, ...], added: frozenset[str]) -> _Program:
        shared = frozenset(self.by_predicate)
        derived = {h.predicate for r in rules for h in r.then}
        slots = _Slots(shared, frozenset(shared & (derived | added)))
        full: dict[str, _Plan] = {}
        from_premise: dict[str, tuple[_Plan, ...]] = {}
        for rule in rules:
            full[rule.id] = _plan(rule, self.estimate, slots)
        order: list[_Component] = []
        for stratum in stratify(rules):
            for group in components(stratum):
                if not any(_may_match(h, a) for r in group for h in r.then for q in group for a in q.when
                           if not a.negated):
                    order.append(_Component(tuple(full[r.id] for r in group), None))
                    continue
                by_trigger: dict[str, list] = {}
                for position, rule in enumerate(group):
                    from_premise[rule.id] = tuple(_plan(rule, self.estimate, slots, first=i)
                                                  for i in range(len(full[rule.id].order)))
                    for premise, plan in enumerate(from_premise[rule.id]):
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
        order = merged
        indexers: dict[str, list] = {}
        for slot, pattern in enumerate(slots.patterns):
            indexers.setdefault(pattern[0], []).append((slot, pattern[1], _key_getter(pattern[2])))
        return _Program(tuple(order), full, from_premise, tuple(self.table(p) for p in slots.patterns),
                        {pred: tuple(v) for pred, v in indexers.items()})

    def estimate(self, pattern: Pattern, constants: tuple[Value | None, ...]) -> float:
        """How many facts a look-up by `pattern` gives: exact when every key value is a
        constant, else the average; a predicate these facts lack is guessed small."""
        if pattern[0] not in self.by_predicate:
            return RUN_FACTS_GUESS * 0.25 ** len(pattern[2])
        table = self.table(pattern)
        if None not in constants:
            return len(table.get(constants[0] if len(constants) == 1 else constants, EMPTY))
        return sum(map(len, table.values())) / max(1, len(table))

    def table(self, pattern: Pattern) -> Table:
        found = self.tables.get(pattern)
        if found is None:
            pred, arity, positions = pattern
            found, key = {}, _key_getter(positions)
            for args in self.by_predicate.get(pred, EMPTY):
                if len(args) == arity:
                    found.setdefault(key(args), []).append((pred, args))
            self.tables[pattern] = found
        return found


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
    facts = set(shared_facts)
    facts.update(base)
    result = Result(facts, ChainMap(base, shared_facts), by_predicate=(shared_index.by_predicate, own.by_predicate))
    tables = (program.shared_tables, own.tables, own.by_predicate, own.lookup)
    derivations, facts = result.derivations, result.facts
    for component in program.components:
        if component.solve is not None:  # rules that run once, indexing what they add themselves
            component.solve(*tables, derivations, facts)
            continue
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
            triggered = sorted(entry for pred in added for entry in component.by_trigger.get(pred, EMPTY))
            new = []
            for _, entries in groupby(triggered, key=itemgetter(0)):  # by rule
                plans = [plan for _, _, plan in entries]
                seen = set() if len(plans) > 1 else None
                for plan in plans:
                    plan.solve(*tables, added[plan.first[0]], seen, derivations, facts, new)
        else:
            raise RuntimeError(f"rules did not reach a fixpoint in {PASS_LIMIT} passes")
    return result


def share(facts: dict[Fact, Source]) -> tuple[dict[Fact, Source], _Index]:
    """Index a set of facts once, for `run(..., shared=...)`."""
    return facts, _Index(facts)


def fact_text(fact: Fact) -> str:
    pred, args = fact
    return f"{pred}({', '.join(show_value(a) for a in args)})"
