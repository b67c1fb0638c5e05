"""The rule language: atoms and rules, and the rule files of rules/ that hold them.

A rule file (TOML) holds rules with a stable id, a one-line statement, the
premises (`when`) and conclusions (`then`) as atoms, and the references and
place in the paper that justify it. The language is Datalog with stratified
negation:

    when = ["element(?c)", "on_plane(?c, A)", "not has_anion()"]
    then = ["mechanism_element(conversion, ?c)"]

`?x` is a variable, `_` matches anything in a negated atom, other words and
numbers are constants (a word in double quotes stays a word). Built-ins `lt`,
`gt`, `le`, `ge` and `ne` compare bound values. A negated atom is true when no
fact matches it; planning.py runs the rules in strata so that everything a
negation asks about is complete first. A file's `[convention.NAME]` tables
name facts that hold by the project's convention rather than by a rule.

Loading checks each rule (required fields, references for a rule from the
paper, every variable of a negation, built-in or conclusion bound by a positive
premise, unique ids) and refuses a malformed one with a RuleFileError that
names the file, the rule and the fix.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard

from hemkg.errors import RuleFileError
from hemkg.graph.diskcache import disk_cached
from hemkg.graph.store import package_files

Value = str | float
Fact = tuple[str, tuple[Value, ...]]  # (predicate, arguments)

RULE_FILES = ("rules", "*.toml")
BUILTINS: dict[str, Callable[[Any, Any], bool]] = {
    "lt": lambda a, b: a < b, "gt": lambda a, b: a > b, "le": lambda a, b: a <= b,
    "ge": lambda a, b: a >= b, "ne": lambda a, b: a != b,
}


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
        return {a for a in self.args if is_variable(a)}


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
    # ids of what justifies the rule (the knowledge graph's statements); the engine only keeps them:
    # the domain layer gives the rule their references and location
    rests_on: tuple[str, ...] = ()

    @property
    def from_paper(self) -> bool:
        return self.basis == "paper"

    @functools.cached_property
    def positives(self) -> tuple[Atom, ...]:
        """Its positive premises that match facts (not the built-in comparisons), in the rule's order: a
        Derivation's premises."""
        return tuple(a for a in self.when if not a.negated and a.predicate not in BUILTINS)

    @functools.cached_property
    def bound_names(self) -> tuple[str, ...]:
        """The variables its positive premises bind, sorted: the names of a Derivation's `bound` values."""
        return tuple(sorted(set().union(*(a.variables for a in self.positives))))

    @functools.cached_property
    def premises_follow_bound(self) -> bool:
        """Whether a derivation's premises follow from the values bound: no positive premise has a wildcard (_)."""
        return not any("_" in a.args for a in self.positives)

    def __hash__(self) -> int:  # ids are unique: hashing only the id keeps compiled-program look-ups cheap
        return hash(self.id)


def is_variable(value: Value) -> TypeGuard[str]:
    return isinstance(value, str) and value.startswith("?")


def show_value(value: Value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def fact_text(fact: Fact) -> str:
    pred, args = fact
    return f"{pred}({', '.join(show_value(a) for a in args)})"


# ------------------------------------------------------------------ parsing

_ATOM = re.compile(r"^\s*(not\s+)?([a-z_][a-z0-9_]*)\s*\((.*)\)\s*$")


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


# ------------------------------------------------------------------ rule files

def _load_rule(entry: Mapping[str, Any], file: str) -> Rule:
    rule_id = entry.get("id", "")
    where = f"{file}, rule '{rule_id or '?'}'"
    rests_on = entry.get("rests_on", [])
    if not isinstance(rests_on, list) or not all(isinstance(s, str) and s.strip() for s in rests_on):
        raise RuleFileError(f"{where}: rests_on must be a list of ids, e.g. rests_on = [\"stmt-plane-B-Zn\"]")
    if len(set(rests_on)) < len(rests_on):
        raise RuleFileError(f"{where}: rests_on names an id twice; name each once")
    if rests_on and "location" in entry:
        raise RuleFileError(f"{where}: the location comes from what rests_on names; remove location")
    missing = [k for k in ("id", "statement", "when", "then", *(() if rests_on else ("location",))) if k not in entry]
    if missing:
        raise RuleFileError(f"{where}: missing {', '.join(missing)}")
    basis = entry.get("basis", "paper")
    references = tuple(int(r) for r in entry.get("references", []))
    if basis == "paper" and not references and not rests_on and not entry.get("rests_on_paper_alone"):
        raise RuleFileError(f"{where}: a rule from the paper needs references, rests_on or rests_on_paper_alone = true")
    when = tuple(parse_atom(a, where) for a in entry["when"])
    then = tuple(parse_atom(a, where) for a in entry["then"])
    bound: set[str] = set().union(*(a.variables for a in when if not a.negated and a.predicate not in BUILTINS))
    for atom in when:
        if (atom.negated or atom.predicate in BUILTINS) and not atom.variables <= bound:
            raise RuleFileError(f"{where}: variables of '{atom}' must be bound by a positive premise")
    for atom in then:
        if atom.negated or not atom.variables <= bound:
            raise RuleFileError(f"{where}: conclusion '{atom}' must be positive and use only bound variables")
    return Rule(rule_id, entry["statement"], when, then, references, entry.get("location", ""), basis, file,
                entry.get("note", ""), tuple(rests_on))


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
def conventions() -> dict[str, dict[str, Any]]:
    """Non-rule tables of the rule files (e.g. [convention.outside_anions]), by name."""
    import tomllib

    found: dict[str, dict[str, Any]] = {}
    for f in package_files(*RULE_FILES):
        for name, table in tomllib.loads(f.read_text(encoding="utf-8")).get("convention", {}).items():
            found[name] = {**table, "file": f.name}
    return found
