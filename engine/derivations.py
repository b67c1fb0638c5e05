"""What a run records: where each base fact comes from, and how each other fact was derived.

Every fact the engine derives keeps each Derivation that produced it: the
rule, the variable bindings and the premise facts (themselves from the
knowledge graph, the user's input or earlier derivations), and the negated
premises as they were checked. Explanations are rendered from these records,
never reconstructed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

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
    bindings: tuple[tuple[str, Value], ...]
    absent: tuple[Fact, ...] = ()  # the negated premises, as checked: no fact matched each


ByPredicate = dict[str, list[tuple[Value, ...]]]  # the arguments of facts, by predicate


@dataclass
class Result:
    """Facts after the fixpoint, with how each was obtained. Read it; do not add to it."""

    facts: set[Fact]
    sources: Mapping[Fact, Source]  # of the facts not derived
    derivations: dict[Fact, list[Derivation]] = field(default_factory=dict)
    # the facts' arguments by predicate, in disjoint parts (shared, the run's own), for query()
    by_predicate: tuple[ByPredicate, ...] = field(default=(), repr=False, compare=False)

    def query(self, predicate: str, *pattern: Value | None) -> list[tuple[Value, ...]]:
        """Arguments of facts with `predicate` matching `pattern` (None matches anything), sorted."""
        if not self.by_predicate:
            grouped: ByPredicate = {}
            for pred, args in self.facts:
                grouped.setdefault(pred, []).append(args)
            self.by_predicate = (grouped,)
        return sorted(
            (args for part in self.by_predicate for args in part.get(predicate, ()) if len(args) >= len(pattern)
             and all(want is None or want == got for want, got in zip(pattern, args, strict=False))),
            key=lambda args: tuple(str(a) for a in args),
        )

    def holds(self, predicate: str, *args: Value) -> bool:
        return (predicate, tuple(args)) in self.facts
