"""Rule facts: the knowledge graph's statements and a candidate's input, each with its source.

`knowledge_facts()` turns graph statements into the facts the rules of rules/
match (each keeping the statement and references it comes from);
`candidate_facts()` does the same for a formula, carrier ion and structure.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import TYPE_CHECKING

from hemkg import engine
from hemkg.consultation.formula import ParsedFormula, parse_formula
from hemkg.engine import Fact, Source
from hemkg.graph import statements as knowledge
from hemkg.graph.diskcache import disk_cached
from hemkg.graph.materials import reported_materials
from hemkg.graph.store import HEM, HEMKG, select

if TYPE_CHECKING:
    from hemkg.consultation.consultation import Structure


def _local(iri: str) -> str:
    return iri.removeprefix(HEMKG)


def _kg_source(st: knowledge.Statement) -> Source:
    return Source("kg", st.iri, tuple(st.references), st.label)


@disk_cached
def knowledge_facts() -> dict[Fact, Source]:
    """The knowledge graph as rule facts, each with the statement it comes from."""
    facts: dict[Fact, Source] = {}
    for group, pred, text in (("listed-cations", "listed_cation", "one of the 26 cations of reported HEM anodes"),
                              ("listed-anions", "listed_anion", "one of the 5 anions of reported HEM anodes")):
        for row in select("SELECT ?e WHERE { ?g hem:hasMember ?e }", g=HEMKG + group):
            symbol = _local(row["e"])
            facts[(pred, (symbol,))] = Source("kg", HEMKG + group, (), f"{symbol} is {text} (Section 3.1, Table 1)")
    for row in select("SELECT ?g ?e WHERE { ?g a hem:ElementGroup ; hem:hasMember ?e }"):
        facts.setdefault(("in_group", (_local(row["e"]), _local(row["g"]))),
                         Source("kg", row["g"], (), f"{_local(row['e'])} is in {knowledge.label(row['g'])}"))
    for st in knowledge.statements().values():
        local = _local(st.iri).removeprefix("stmt-")
        if st.predicate == HEM + "memberOf":
            for s in st.subjects:
                for o in st.objects:
                    if o.startswith(HEMKG + "plane-"):
                        facts[("on_plane", (_local(s), _local(o).removeprefix("plane-")))] = _kg_source(st)
        if st.predicate == HEM + "reveals":
            for s in st.subjects:
                for o in st.objects:
                    facts[("reveals", (_local(s), _local(o)))] = _kg_source(st)
        if st.ordering_text:
            for rank, item in st.ranked:
                facts[("rank", (local.removeprefix("order-"), _local(item), float(rank)))] = _kg_source(st)
        if st.observed_in and st.observed_active is not None:
            for s in st.subjects:
                for o in st.objects:
                    if o in knowledge.MECHANISMS:
                        for material in st.observed_in:
                            state = "active" if st.observed_active else "inactive"
                            facts[("observed", (_local(s), _local(o), _local(material), state))] = _kg_source(st)
        for m in st.mentions:
            facts[("mentions", (local, _local(m)))] = _kg_source(st)
    for name, table in engine.conventions().items():
        for symbol in table["symbols"]:
            facts[(table["predicate"], (symbol,))] = Source("convention", f"{table['file']}: {name}", (), table["statement"])
    return facts


@disk_cached
def shared_knowledge() -> "tuple[dict[Fact, Source], engine.core._Index]":
    """The knowledge graph's facts, indexed once, with the rules compiled over them (kept on disk)."""
    shared = engine.share(knowledge_facts())
    shared[1].program(engine.load_rules())
    return shared


@functools.cache
def _reported_composition(material: str) -> dict[str, float] | None:
    """The normalised composition of a reported material, or None where its formula is a description."""
    from hemkg.consultation.formula import FormulaError

    try:
        return _normalise(parse_formula(reported_materials()[material]["formula"]).composition)
    except FormulaError:
        return None


def matching_reported(composition: dict[str, float]) -> list[str]:
    """Reported materials with the same composition (only those with the same elements are parsed)."""
    elements = set(composition)
    # constituents may include a carbon framework, so they can hold more elements than the active formula
    possible = [m for m, entry in sorted(reported_materials().items()) if elements <= entry["elements"]]
    if not possible:
        return []
    normalised = _normalise(composition)
    return [m for m in possible if _reported_composition(m) == normalised]


def _normalise(composition: dict[str, float]) -> dict[str, float]:
    total = sum(composition.values())
    return {k: round(v / total, 4) for k, v in composition.items()}


def candidate_facts(parsed: ParsedFormula, ion: str, structure: Structure) -> dict[Fact, Source]:
    facts: dict[Fact, Source] = {}
    for symbol, amount in parsed.composition.items():
        facts[("element", (symbol,))] = Source("input", "formula", label=f"{symbol} is in {parsed.text}")
        facts[("amount", (symbol, float(amount)))] = Source("input", "formula", label=f"{amount:g} {symbol} per formula unit")
    facts[("ion", (ion,))] = Source("input", "ion", label=f"carrier ion {ion}+")
    framework = structure.framework or parsed.framework
    facts.update(dataclasses.replace(structure, framework=framework).facts())
    if parsed.framework:
        facts[("framework", (parsed.framework,))] = Source("input", "formula", label=f"composite with {parsed.framework} ({parsed.text})")
    for material in matching_reported(parsed.composition):
        label = reported_materials()[material]["label"]
        facts[("matches_reported", (material,))] = Source("kg", HEMKG + material, (), f"the composition of {label}")
    return facts

