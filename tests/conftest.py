"""Shared helpers for the test suite: look statements and values up in the packaged graph."""

from __future__ import annotations

import pytest

from hemkg.graph import statements as knowledge
from hemkg.graph.store import HEMKG, select


def kg(name: str) -> str:
    return HEMKG + name


def statements_where(**fields) -> list[knowledge.Statement]:
    """Statements whose list/scalar fields contain each given value (IRIs as hemkg: local names)."""
    found = []
    for st in knowledge.statements().values():
        ok = True
        for name, wanted in fields.items():
            have = getattr(st, name)
            have = have if isinstance(have, list) else [have]
            if wanted not in have:
                ok = False
                break
        if ok:
            found.append(st)
    return found


def members(group: str) -> set[str]:
    return {row["e"].removeprefix(HEMKG) for row in select("SELECT ?e WHERE { ?g hem:hasMember ?e }", g=kg(group))}


def reported_values(holder: str) -> list[dict[str, str]]:
    """Reported values attached to a material or statement: number, unit, property, qualifier."""
    return select(
        """SELECT ?num ?unit ?prop ?q WHERE {
             ?h hem:hasReportedValue ?v . ?v qudt:numericValue ?num ; qudt:unit ?unit ; hem:ofProperty ?prop .
             OPTIONAL { ?v hem:valueQualifier ?q } }""",
        h=kg(holder),
    )


def has_value(holder: str, number: float, unit: str, prop: str) -> bool:
    """Whether `holder` reports `number` (to 0.1 %) in QUDT unit `unit` for property `prop`."""
    return any(
        abs(float(v["num"]) - number) <= abs(number) * 1e-3
        and v["unit"].rsplit("/", 1)[-1] == unit
        and v["prop"] == kg(prop)
        for v in reported_values(holder)
    )


@pytest.fixture(scope="session")
def statements() -> dict[str, knowledge.Statement]:
    return knowledge.statements()
