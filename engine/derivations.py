"""What a run records: where each base fact comes from, and how each other fact was derived.

Every fact the engine derives keeps each Derivation that produced it: the
rule, the variable bindings and the premise facts (themselves from the
knowledge graph, the user's input or earlier derivations), and the negated
premises as they were checked. Explanations are rendered from these records,
never reconstructed.
"""

from __future__ import annotations

from collections.abc import Collection, ItemsView, Iterable, Iterator, Mapping, Set, ValuesView
from dataclasses import dataclass, field
from typing import NamedTuple, TypeVar, cast, overload

from hemkg.engine.language import Fact, Rule, Value


class Source(NamedTuple):  # a named tuple, like Derivation: a consultation makes dozens
    """Where a base fact comes from: the knowledge graph (with its statement), the input, or a convention."""

    kind: str  # "kg", "input", "convention" or "estimate" (a value the domain computed for the rules)
    detail: str = ""  # statement IRI, input field, or the convention's rule file
    references: tuple[int, ...] = ()
    label: str = ""


class Derivation(NamedTuple):  # a named tuple: a consultation makes hundreds, and it builds ~5x faster
    rule: Rule
    conclusion: Fact
    premises: tuple[Fact, ...]
    bound: tuple[Value, ...]  # the values of the rule's variables, in the order of rule.bound_names
    absent: tuple[Fact, ...] = ()  # the negated premises, as checked: no fact matched each

    @property
    def bindings(self) -> tuple[tuple[str, Value], ...]:
        """Each variable with its value, sorted by name (kept as values alone: a consultation records hundreds of
        derivations, and a library's index thousands)."""
        return tuple(zip(self.rule.bound_names, self.bound, strict=True))

    @property
    def key(self) -> tuple[object, ...]:
        """What makes the derivation what it is, to key caches of what answers make of it: the rule and the values
        bound, which give the premises (with the premises too where a wildcard premise's value is not bound)."""
        rule = self.rule
        return (rule.id, self.bound) if rule.premises_follow_bound else (rule.id, self.bound, self.premises)


_T = TypeVar("_T")
ByPredicate = dict[str, list[tuple[Value, ...]]]  # the arguments of facts, by predicate


def _text_key(args: tuple[Value, ...]) -> tuple[str, ...]:
    return tuple(map(str, args))


class _TwoLayers:
    """Membership, iteration and size of a run's own facts over the shared ones, each fact once."""

    __slots__ = ("own", "shared")
    own: Collection[Fact]
    shared: Collection[Fact]

    def __contains__(self, fact: object) -> bool:
        return fact in self.own or fact in self.shared

    def __iter__(self) -> Iterator[Fact]:
        yield from self.own
        yield from (fact for fact in self.shared if fact not in self.own)

    def __len__(self) -> int:
        return len(self.own) + sum(1 for fact in self.shared if fact not in self.own)


class Layered(_TwoLayers, Mapping[Fact, Source]):
    """A run's own sources over the shared ones: a read-only view like ChainMap, whose get() is two dict
    look-ups (ChainMap's goes through __contains__ and a generator; answers call it thousands of times)."""

    __slots__ = ()
    own: Mapping[Fact, Source]
    shared: Mapping[Fact, Source]

    def __init__(self, own: Mapping[Fact, Source], shared: Mapping[Fact, Source]) -> None:
        self.own, self.shared = own, shared

    def __getitem__(self, fact: Fact) -> Source:
        found = self.own.get(fact)
        return self.shared[fact] if found is None else found

    def get(self, fact: Fact, default: Source | None = None) -> Source | None:  # type: ignore[override]
        found = self.own.get(fact)
        return self.shared.get(fact, default) if found is None else found


class Facts(_TwoLayers, Set[Fact]):
    """A run's facts: its own (the base, then what its rules derive) beside the shared ones, which are not copied
    (a set of thousands with a library). Read-only like any Result."""

    __slots__ = ()

    def __init__(self, own: set[Fact], shared: frozenset[Fact]) -> None:
        self.own, self.shared = own, shared


class Derivations(Mapping[Fact, list[Derivation]]):
    """A run's derivations over those share() recorded once for the shared facts it read.

    Looking a fact up (`get`, `[]`, `in`) sees both, a fact derived in both layers with the shared derivations
    first; iterating (len, items, values) gives the run's own facts and the derivations it recorded: what this run
    derived, from which a shared fact's derivations are reached through the premises, without walking every shared
    derivation in each answer."""

    __slots__ = ("own", "shared")

    def __init__(self, own: dict[Fact, list[Derivation]], shared: Mapping[Fact, list[Derivation]]) -> None:
        self.own, self.shared = own, shared

    def __getitem__(self, fact: Fact) -> list[Derivation]:
        found = self.get(fact)
        if found is None:
            raise KeyError(fact)
        return found

    @overload
    def get(self, fact: Fact, /) -> list[Derivation] | None: ...

    @overload
    def get(self, fact: Fact, default: list[Derivation] | _T, /) -> list[Derivation] | _T: ...

    def get(self, fact: Fact, default: object = None, /) -> object:
        mine = self.own.get(fact)
        theirs = self.shared.get(fact) if self.shared else None
        if theirs is None:
            return default if mine is None else mine
        return theirs if mine is None else theirs + mine

    def __contains__(self, fact: object) -> bool:
        return fact in self.own or fact in self.shared

    def __iter__(self) -> Iterator[Fact]:
        return iter(self.own)

    def __len__(self) -> int:
        return len(self.own)

    def leaves(self, derivation: Derivation, _expanded: set[Fact] | None = None) -> Iterator[Fact]:
        """The facts a derivation rests on: its premises, each one share() derived replaced by the premises of its
        derivations, and so on down to facts that were given (a host's report behind the hosts gathered by
        element, rules/85-evidence.toml). Each derived fact is expanded once, so recursive rules end too."""
        expanded = set() if _expanded is None else _expanded
        for premise in derivation.premises:
            below = self.shared.get(premise) if self.shared else None
            if below is None:
                yield premise
            elif premise not in expanded:
                expanded.add(premise)
                for d in below:
                    yield from self.leaves(d, expanded)

    def rested_on(self, facts: Iterable[Fact]) -> set[Fact]:
        """`facts` and every fact they rest on through the derivations share() recorded, down to the given ones."""
        found: set[Fact] = set()
        todo = list(facts)
        while todo:
            fact = todo.pop()
            if fact not in found:
                found.add(fact)
                todo += [p for d in self.shared.get(fact, ()) for p in d.premises]
        return found

    def items(self) -> ItemsView[Fact, list[Derivation]]:
        """The run's own facts with the derivations it recorded (answers walk them; a dict's view, no copies)."""
        return self.own.items()

    def values(self) -> ValuesView[list[Derivation]]:
        return self.own.values()


@dataclass
class Result:
    """Facts after the fixpoint, with how each was obtained. Read it; do not add to it."""

    facts: Set[Fact]  # a set, or Facts: the run's own beside the shared ones
    sources: Mapping[Fact, Source]  # of the facts not derived
    derivations: Derivations = field(default_factory=lambda: Derivations({}, {}))
    # the facts' arguments by predicate, in disjoint parts (shared, the run's own), for query()
    by_predicate: tuple[ByPredicate, ...] = field(default=(), repr=False, compare=False)
    # each predicate's arguments, sorted, once asked for: an answer asks for the same predicates many times
    _sorted: dict[str, list[tuple[Value, ...]]] = field(default_factory=dict, repr=False, compare=False)

    def query(self, predicate: str, *pattern: Value | None) -> list[tuple[Value, ...]]:
        """Arguments of facts with `predicate` matching `pattern` (None matches anything), sorted."""
        rows = self._sorted.get(predicate)
        if rows is None:
            rows = self._sorted[predicate] = sorted(self._rows(predicate), key=_text_key)
        return self._matching(rows, pattern)

    def _rows(self, predicate: str) -> list[tuple[Value, ...]]:
        if not self.by_predicate:
            grouped: ByPredicate = {}
            for pred, args in self.facts:
                grouped.setdefault(pred, []).append(args)
            self.by_predicate = (grouped,)
        return [args for part in self.by_predicate for args in part.get(predicate, ())]

    @staticmethod
    def _matching(rows: list[tuple[Value, ...]], pattern: tuple[Value | None, ...]) -> list[tuple[Value, ...]]:
        if not pattern:
            return list(rows)
        if len(pattern) == 1 and pattern[0] is not None:  # the usual question: facts about one thing
            want = pattern[0]
            return [args for args in rows if args and args[0] == want]
        n = len(pattern)
        if None not in pattern:  # every value given: the first n arguments compared at once
            return [args for args in rows if args[:n] == pattern]
        return [args for args in rows if len(args) >= n
                and all(want is None or want == got for want, got in zip(pattern, args, strict=False))]

    def words(self, predicate: str, *pattern: Value | None) -> list[tuple[str, ...]]:
        """query() for a predicate whose arguments are all words (symbols, names), never numbers.

        Which predicates those are, the rule files decide, out of a type checker's sight; a check here
        would cost every answer, so tests/test_engine.py checks the packaged rules instead.
        """
        rows = self._sorted.get(predicate)
        if rows is None:  # words only: their own order is the text order, without a key per row
            rows = self._sorted[predicate] = sorted(self._rows(predicate))
        return cast("list[tuple[str, ...]]", self._matching(rows, pattern))

    def holds(self, predicate: str, *args: Value) -> bool:
        return (predicate, tuple(args)) in self.facts
