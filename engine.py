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

Every fact the engine derives keeps each Derivation that produced it: the
rule, the variable bindings and the premise facts (themselves from the
knowledge graph, the user's input or earlier derivations). Explanations are
rendered from these records, never reconstructed.
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass, field
from typing import Iterable, Iterator

from hemkg.diskcache import disk_cached
from hemkg.store import package_files

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
        inner = ", ".join(_show(a) for a in self.args)
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


@dataclass(frozen=True)
class Source:
    """Where a base fact comes from: the knowledge graph (with its statement), the input, or a convention."""

    kind: str  # "kg", "input" or "convention"
    detail: str = ""  # statement IRI, input field, or the convention's rule file
    references: tuple[int, ...] = ()
    label: str = ""


@dataclass(frozen=True)
class Derivation:
    rule: Rule
    conclusion: Fact
    premises: tuple[Fact, ...]
    bindings: tuple[tuple[str, Value], ...]
    absent: tuple[Fact, ...] = ()  # the negated premises, as checked: no fact matched each


@dataclass
class Result:
    """Facts after the fixpoint, with how each was obtained."""

    facts: set[Fact]
    sources: dict[Fact, Source]
    derivations: dict[Fact, list[Derivation]] = field(default_factory=dict)

    def query(self, predicate: str, *pattern: Value | None) -> list[tuple[Value, ...]]:
        """Arguments of facts with `predicate` matching `pattern` (None matches anything), sorted."""
        return sorted(
            (args for p, args in self.facts if p == predicate and len(args) >= len(pattern)
             and all(want is None or want == got for want, got in zip(pattern, args))),
            key=lambda args: tuple(str(a) for a in args),
        )

    def holds(self, predicate: str, *args: Value) -> bool:
        return (predicate, tuple(args)) in self.facts


# ------------------------------------------------------------------ parsing

_ATOM = re.compile(r"^\s*(not\s+)?([a-z_][a-z0-9_]*)\s*\((.*)\)\s*$")


def _show(value: Value) -> str:
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


# ------------------------------------------------------------------ evaluation

def _match(atom: Atom, fact_args: tuple[Value, ...], binding: dict[str, Value]) -> dict[str, Value] | None:
    if len(atom.args) != len(fact_args):
        return None
    new = dict(binding)
    for want, got in zip(atom.args, fact_args):
        if isinstance(want, str) and want.startswith("?"):
            if want in new and new[want] != got:
                return None
            new[want] = got
        elif want != "_" and want != got:
            return None
    return new


def _substitute(atom: Atom, binding: dict[str, Value]) -> tuple[Value, ...]:
    return tuple(binding.get(a, a) if isinstance(a, str) else a for a in atom.args)


class _Index:
    """Facts by predicate, and by (predicate, argument position, value) for bound lookups.

    `layer()` gives a copy that shares the lists until it adds to them, so the
    index of the knowledge graph's facts is built once and each run adds its own.
    """

    def __init__(self) -> None:
        self.by_predicate: dict[str, list[tuple[Value, ...]]] = {}
        self.by_argument: dict[tuple[str, int, Value], list[tuple[Value, ...]]] = {}
        self._owned: set = set()

    def layer(self) -> "_Index":
        copy = _Index()
        copy.by_predicate = dict(self.by_predicate)
        copy.by_argument = dict(self.by_argument)
        return copy

    def _append(self, table: dict, key, args: tuple[Value, ...]) -> None:
        if key not in self._owned:
            table[key] = list(table.get(key, ()))
            self._owned.add(key)
        table[key].append(args)

    def add(self, predicate: str, args: tuple[Value, ...]) -> None:
        self._append(self.by_predicate, predicate, args)
        for i, value in enumerate(args):
            self._append(self.by_argument, (predicate, i, value), args)

    def candidates(self, atom: Atom, binding: dict[str, Value]) -> list[tuple[Value, ...]]:
        """The facts that can match `atom` under `binding`: the shortest list among its bound arguments."""
        best = self.by_predicate.get(atom.predicate, [])
        for i, arg in enumerate(atom.args):
            if isinstance(arg, str) and arg.startswith("?"):
                if arg not in binding:
                    continue
                arg = binding[arg]
            elif arg == "_":
                continue
            found = self.by_argument.get((atom.predicate, i, arg), [])
            if len(found) < len(best):
                best = found
        return best


def _solutions(rule: Rule, index: _Index) -> Iterator[tuple[dict[str, Value], tuple[Fact, ...], tuple[Fact, ...]]]:
    """Every binding of the rule's premises against the facts, with the facts it matched
    and the negated premises that held."""
    positives = [a for a in rule.when if not a.negated and a.predicate not in BUILTINS]
    checks = [a for a in rule.when if a.negated or a.predicate in BUILTINS]

    def extend(i: int, binding: dict[str, Value], used: tuple[Fact, ...]):
        if i == len(positives):
            yield binding, used
            return
        atom = positives[i]
        for args in index.candidates(atom, binding):
            b = _match(atom, args, binding)
            if b is not None:
                yield from extend(i + 1, b, used + ((atom.predicate, args),))

    for binding, used in extend(0, {}, ()):
        ok = True
        absent: list[Fact] = []
        for atom in checks:
            args = _substitute(atom, binding)
            if atom.predicate in BUILTINS:
                try:
                    ok = BUILTINS[atom.predicate](*args)
                except TypeError:  # comparing a word with a number
                    ok = False
            else:
                pattern = Atom(atom.predicate, args)
                ok = not any(_match(pattern, have, {}) is not None for have in index.candidates(pattern, {}))
                absent.append((atom.predicate, args))
            if not ok:
                break
        if ok:
            yield binding, used, tuple(absent)


@functools.cache
def _strata(rules: tuple[Rule, ...]) -> tuple[tuple[Rule, ...], ...]:
    return tuple(tuple(s) for s in stratify(rules))


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


def _indexed(facts: Iterable[Fact]) -> _Index:
    index = _Index()
    for pred, args in facts:
        index.add(pred, args)
    index._owned = set()  # layers copy before they add
    return index


def run(base: dict[Fact, Source], rules: Iterable[Rule] | None = None,
        shared: tuple[dict[Fact, Source], _Index] | None = None) -> Result:
    """Run the rules over the base facts to a fixpoint, recording every derivation.

    `shared` is a set of facts (with its index, from `share()`) that many runs
    start from, such as the knowledge graph's; `base` then holds only the rest.
    A rule is tried again in a pass only if one of its premises gained facts in
    the pass before (a negated premise is complete within its stratum).
    """
    if shared is not None:
        shared_facts, shared_index = shared
        result = Result(set(shared_facts) | set(base), {**shared_facts, **base})
        index = shared_index.layer()
        for pred, args in base:
            if (pred, args) not in shared_facts:
                index.add(pred, args)
    else:
        result = Result(set(base), dict(base))
        index = _indexed(result.facts).layer()
    seen: set[tuple[str, Fact, tuple[Fact, ...]]] = set()
    strata = _strata(load_rules() if rules is None else tuple(rules))
    for stratum in strata:
        changed: set[str] | None = None  # None: the first pass tries every rule
        for _ in range(PASS_LIMIT):
            new: list[Fact] = []
            for rule in stratum:
                if changed is not None and not any(a.predicate in changed for a in rule.when if not a.negated):
                    continue
                for binding, used, absent in _solutions(rule, index):
                    for head in rule.then:
                        fact = (head.predicate, _substitute(head, binding))
                        key = (rule.id, fact, used)
                        if key not in seen:
                            seen.add(key)
                            result.derivations.setdefault(fact, []).append(
                                Derivation(rule, fact, used, tuple(sorted(binding.items())), absent))
                        if fact not in result.facts:
                            result.facts.add(fact)
                            new.append(fact)
            if not new:
                break
            for pred, args in new:
                index.add(pred, args)
            changed = {pred for pred, _ in new}
        else:
            raise RuntimeError(f"rules did not reach a fixpoint in {PASS_LIMIT} passes")
    return result


def share(facts: dict[Fact, Source]) -> tuple[dict[Fact, Source], _Index]:
    """Index a set of facts once, for `run(..., shared=...)`."""
    return facts, _indexed(facts)


def fact_text(fact: Fact) -> str:
    pred, args = fact
    return f"{pred}({', '.join(_show(a) for a in args)})"
