"""Rule facts: the knowledge graph's statements and a candidate's input, each with its source.

`knowledge_facts()` turns graph statements into the facts the rules of rules/
match (each keeping the statement and references it comes from);
`candidate_facts()` does the same for a formula, carrier ion and structure.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from hemkg import engine
from hemkg.consultation.formula import ParsedFormula, parse_formula
from hemkg.consultation.rules import paper_rules
from hemkg.engine import Fact, Source
from hemkg.graph import statements as knowledge
from hemkg.graph.diskcache import disk_cached
from hemkg.graph.materials import reported_materials
from hemkg.graph.store import HEM, HEMKG, local, select
from hemkg.graph.vocab import vocab

if TYPE_CHECKING:
    from hemkg.consultation.consultation import Structure



def _kg_source(st: knowledge.Statement) -> Source:
    return Source("kg", st.iri, tuple(st.references), st.label)


@disk_cached
def knowledge_facts() -> dict[Fact, Source]:
    """The knowledge graph as rule facts, each with the statement it comes from."""
    facts: dict[Fact, Source] = {}
    v = vocab()
    for group, pred, kind in (("listed-cations", "listed_cation", "cations"),
                              ("listed-anions", "listed_anion", "anions")):
        symbols = v.group(group).members
        for symbol in symbols:
            facts[(pred, (symbol,))] = Source("kg", HEMKG + group, (), f"{symbol} is one of the {len(symbols)} {kind} "
                                                                       "of reported HEM anodes (Section 3.1, Table 1)")
    for row in select("SELECT ?g ?e WHERE { ?g a hem:ElementGroup ; hem:hasMember ?e }"):
        facts.setdefault(("in_group", (local(row["e"]), local(row["g"]))),
                         Source("kg", row["g"], (), f"{local(row['e'])} is in {knowledge.label(row['g'])}"))
    mechanisms = {m.iri for m in v.mechanisms}
    for st in knowledge.statements().values():
        name = local(st.iri).removeprefix("stmt-")
        if st.predicate == HEM + "enablesMechanism":  # Plane A enables conversion ... (Fig. 6a)
            for s in st.subjects:
                if s.startswith(HEMKG + "plane-"):
                    for o in st.objects:
                        facts[("plane_enables", (local(s).removeprefix("plane-"), local(o)))] = _kg_source(st)
        if st.predicate == HEM + "memberOf":
            for s in st.subjects:
                for o in st.objects:
                    if o.startswith(HEMKG + "plane-"):
                        facts[("on_plane", (local(s), local(o).removeprefix("plane-")))] = _kg_source(st)
        if st.predicate == HEM + "reveals":
            for s in st.subjects:
                for o in st.objects:
                    facts[("reveals", (local(s), local(o)))] = _kg_source(st)
        if st.ordering_text:
            for rank, item in st.ranked:
                facts[("rank", (name.removeprefix("order-"), local(item), float(rank)))] = _kg_source(st)
        if st.observed_in and st.observed_taking_part is not None:
            for s in st.subjects:
                for o in st.objects:
                    if o in mechanisms:
                        for material in st.observed_in:
                            state = "observed" if st.observed_taking_part else "not-observed"
                            facts[("observed", (local(s), local(o), local(material), state))] = _kg_source(st)
        for m in st.mentions:
            facts[("mentions", (name, local(m)))] = _kg_source(st)
        for m in st.reports_in_hems:
            facts[("reported_in_hems", (local(m),))] = _kg_source(st)
        for m in st.not_shown_in_hems:
            facts[("not_shown_in_hems", (local(m),))] = _kg_source(st)
    facts.update(_material_facts())
    for material, entry in reported_materials().items():
        if entry["high_entropy"]:
            facts[("reported_high_entropy", (material,))] = Source(
                "kg", HEMKG + material, tuple(sorted(entry["references"])),
                f"{entry['label']} is called high-entropy in its source")
    for name, table in engine.conventions().items():
        # a convention lists its values, or names a group of the graph (the outside anions, kg/conventions.ttl)
        for symbol in table["symbols"] if "symbols" in table else v.group(table["group"]).members:
            facts[(table["predicate"], (symbol,))] = Source("convention", f"{table['file']}: {name}", (),
                                                            table["statement"])
    return facts


def _material_facts() -> dict[Fact, Source]:
    """What the evidence rules compare a candidate with, for each reported material: its carrier ion, elements
    and anions, and its kind by the paper's HEM definition (Section 1), judged on its formula as a candidate's
    is (material_kind(M, hem|non-hem)); a material the graph only describes ('Fe-doped MoS2') where its
    constituents settle the kind."""
    v = vocab()
    anion_symbols = v.anion_formers
    facts: dict[Fact, Source] = {}
    for material, entry in reported_materials().items():
        parsed = _reported_composition(material)
        described = parsed is None  # a description ('Fe-doped MoS2'): constituents but no amounts
        if parsed is None:
            cations = entry["elements"] - anion_symbols
            if len(cations) >= v.hem.min_elements:
                continue  # its kind would depend on amounts it does not give
            # fewer cations than any HEM has: not a HEM; its anions are left out, as its constituents mix the
            # active material's with a framework's (N,O-co-doped carbon)
            parsed = dict.fromkeys(cations, 1.0)
        source = Source("kg", HEMKG + material, tuple(sorted(entry["references"])), entry["label"])
        facts.update(composition_facts(material, parsed, entry["ions"], source, anions=not described))
    return facts


def composition_facts(material: str, composition: dict[str, float], ions: Iterable[str], source: Source,
                      anions: bool = True) -> dict[Fact, Source]:
    """A reported material as the evidence rules compare it with a candidate: material_ion, material_element,
    material_anion (unless `anions` is false) and material_kind, its kind by the paper's HEM definition judged on
    its composition as a candidate's is. `source.label` names the material (the kind's sentence starts with it)."""
    from hemkg.consultation.estimates import entropy, kind

    anion_symbols = vocab().anion_formers
    facts: dict[Fact, Source] = {}
    for ion in ions:
        facts[("material_ion", (material, ion))] = source
    for symbol in composition:
        facts[("material_element", (material, symbol))] = source
        if symbol in anion_symbols and anions:
            facts[("material_anion", (material, symbol))] = source
    measured = entropy(composition, anion_symbols & frozenset(composition))
    facts[("material_kind", (material, kind(measured)))] = source._replace(
        label=f"{source.label} {'meets' if measured['meets_hem_definition'] else 'does not meet'} the paper's HEM "
              "definition on its cation sublattice (an estimate beyond the paper)")
    return facts


@disk_cached
def shared_knowledge() -> tuple[dict[Fact, Source], engine.evaluation._Index]:
    """The knowledge graph's facts, indexed once, with the rules compiled over them and those that read the graph
    alone run once (kept on disk)."""
    return engine.share(knowledge_facts(), paper_rules())


@disk_cached
def anion_knowledge() -> tuple[tuple[engine.Rule, ...], tuple[dict[Fact, Source], Any], frozenset[str]]:
    """The rules that find a candidate's anions, the graph facts they read (indexed, the rules compiled over
    them) and the predicates of the candidate's facts they read.

    An index of their own: run between the full runs on shared_knowledge(), they would
    make its compiled program be looked up afresh each time. Kept in one pickle, so
    that the rules are the very objects the program was compiled for.
    """
    rules = engine.rules_for({"anion"}, paper_rules())
    premises = {a.predicate for r in rules for a in r.when}
    shared = engine.share({f: s for f, s in knowledge_facts().items() if f[0] in premises}, rules)
    return rules, shared, frozenset(premises - set(shared[1].by_predicate))


def candidate_anions(base: dict[Fact, Source]) -> frozenset[str]:
    """The candidate's anions as the rules deriving anion() find them, run on their own before the full run
    (an estimate the rules judge needs them). Remembered by the candidate facts those rules read."""
    return _anions(frozenset(f for f in base if f[0] in anion_knowledge()[2]))


@functools.lru_cache(maxsize=4096)
def _anions(facts: frozenset[Fact]) -> frozenset[str]:
    rules, shared, _ = anion_knowledge()
    found = engine.run(dict.fromkeys(facts, Source("input", "formula")), rules, shared=shared).query("anion")
    return frozenset(str(x) for (x,) in found)


@functools.cache
def _reported_composition(material: str) -> dict[str, float] | None:
    """The normalised composition of a reported material, or None where its formula is a description."""
    from hemkg.errors import FormulaError

    try:
        return normalised(parse_formula(reported_materials()[material]["formula"]).composition)
    except FormulaError:
        return None


def reported_compositions() -> dict[str, dict[str, float]]:
    """Each reported material whose formula parses, with its normalised composition: what matching_reported
    compares a candidate with (the screen finds its candidates' matches with these, a batch at a time)."""
    found = {m: _reported_composition(m) for m in sorted(reported_materials())}
    return {m: c for m, c in found.items() if c is not None}


SAME_COMPOSITION_TOLERANCE = 0.01  # issue 11: atom fractions equal within 0.01 after normalising


def matching_reported(composition: dict[str, float]) -> list[str]:
    """Reported materials with the candidate's composition: the same elements, and every atom fraction within
    SAME_COMPOSITION_TOLERANCE after normalising (only materials with the candidate's elements are parsed)."""
    elements = set(composition)
    # constituents may include a carbon framework, so they can hold more elements than the active formula
    possible = [m for m, entry in sorted(reported_materials().items()) if elements <= entry["elements"]]
    if not possible:
        return []
    wanted = normalised(composition)
    return [m for m in possible if same_composition(_reported_composition(m), wanted)]


def same_composition(reported: dict[str, float] | None, candidate: dict[str, float]) -> bool:
    return (reported is not None and reported.keys() == candidate.keys()
            and all(abs(reported[k] - x) <= SAME_COMPOSITION_TOLERANCE for k, x in candidate.items()))


def normalised(composition: dict[str, float]) -> dict[str, float]:
    total = sum(composition.values())
    return {k: v / total for k, v in composition.items()}


def candidate_facts(parsed: ParsedFormula, ion: str, structure: Structure) -> dict[Fact, Source]:
    facts: dict[Fact, Source] = {}
    for symbol, amount in parsed.composition.items():
        facts[("element", (symbol,))] = Source("input", "formula", label=f"{symbol} is in {parsed.text}")
        facts[("amount", (symbol, float(amount)))] = Source("input", "formula",
                                                            label=f"{amount:g} {symbol} per formula unit")
    facts[("ion", (ion,))] = Source("input", "ion", label=f"carrier ion {ion}+")
    framework = structure.framework or parsed.framework
    facts.update(dataclasses.replace(structure, framework=framework).facts())
    if parsed.framework:
        facts[("framework", (parsed.framework,))] = Source("input", "formula",
                                                           label=f"composite with {parsed.framework} ({parsed.text})")
    facts.update(matches_reported_facts(parsed.composition))
    return facts


def matches_reported_facts(composition: dict[str, float]) -> dict[Fact, Source]:
    """matches_reported(mat) for each reported material with the candidate's composition (matching_reported)."""
    facts: dict[Fact, Source] = {}
    for material in matching_reported(composition):
        entry = reported_materials()[material]
        facts[("matches_reported", (material,))] = Source("kg", HEMKG + material, tuple(sorted(entry["references"])),
                                                          f"the composition of {entry['label']}")
    return facts

