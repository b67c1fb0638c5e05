"""The rule engine against a plain reference evaluator.

engine.run compiles each rule into join plans (generated Python functions) and
evaluates semi-naively over tables shared between runs. Here a reference
evaluator written the textbook way (naive fixpoint per stratum, premises
matched in the written order by scanning every fact) must agree with it on
every fact and on every derivation: rule, conclusion, premise facts, bindings
and the negated premises that held. Candidates come from hypothesis; so do
small graphs for rules that exercise recursion, repeated variables, wildcards,
built-ins and negation, which the paper's rules use only lightly.
"""

from __future__ import annotations

import functools
import pickle
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hemkg
from hemkg import engine
from hemkg.consultation.consultation import Structure
from hemkg.consultation.facts import candidate_facts, knowledge_facts, shared_knowledge
from hemkg.consultation.formula import parse_formula
from hemkg.engine import Atom, Fact, Source

# ------------------------------------------------------------------ the reference evaluator


def _bind(atom: Atom, args: tuple, binding: dict[str, Any]) -> dict[str, Any] | None:
    if len(atom.args) != len(args):
        return None
    out = dict(binding)
    for want, got in zip(atom.args, args, strict=True):
        if isinstance(want, str) and want.startswith("?"):
            if out.setdefault(want, got) != got:
                return None
        elif want != "_" and want != got:
            return None
    return out


def _ground(atom: Atom, binding: dict[str, Any]) -> tuple:
    return tuple(binding.get(a, a) if isinstance(a, str) else a for a in atom.args)


def _matches(positives: list[Atom], facts: set[Fact], binding: dict, used: tuple) -> Iterator[tuple[dict, tuple]]:
    if not positives:
        yield binding, used
        return
    atom = positives[0]
    for pred, args in facts:
        if pred == atom.predicate and (b := _bind(atom, args, binding)) is not None:
            yield from _matches(positives[1:], facts, b, (*used, (pred, args)))


def reference_run(base: dict[Fact, Source], rules: tuple[engine.Rule, ...]) -> tuple[set[Fact], set[tuple]]:
    facts = set(base)
    derivations: set[tuple] = set()
    for stratum in engine.stratify(rules):
        while True:
            new: set[Fact] = set()
            for rule in stratum:
                positives = [a for a in rule.when if not a.negated and a.predicate not in engine.BUILTINS]
                for binding, used in _matches(positives, facts, {}, ()):
                    absent, ok = [], True
                    for atom in (a for a in rule.when if a.negated or a.predicate in engine.BUILTINS):
                        args = _ground(atom, binding)
                        if atom.predicate in engine.BUILTINS:
                            try:
                                ok = engine.BUILTINS[atom.predicate](*args)
                            except TypeError:
                                ok = False
                        else:
                            ok = not any(p == atom.predicate and _bind(Atom(p, args), a, {}) is not None
                                         for p, a in facts)
                            absent.append((atom.predicate, args))
                        if not ok:
                            break
                    if not ok:
                        continue
                    for head in rule.then:
                        fact = (head.predicate, _ground(head, binding))
                        derivations.add((rule.id, fact, used, tuple(sorted(binding.items())), tuple(absent)))
                        if fact not in facts:
                            new.add(fact)
            if not new:
                break
            facts |= new
    return facts, derivations


def recorded(result: engine.Result, shared_too: bool = False) -> set[tuple]:
    """The run's derivations as tuples; with `shared_too`, those share() recorded once for the shared facts too."""
    out = set()
    layers = [result.derivations.own, result.derivations.shared] if shared_too else [result.derivations.own]
    for fact, found in (item for layer in layers for item in layer.items()):
        assert len(found) == len(set(found)), f"{fact} has a derivation recorded twice"
        out |= {(d.rule.id, d.conclusion, d.premises, d.bindings, d.absent) for d in found}
    return out


# ------------------------------------------------------------------ the packaged rules on random candidates

SYMBOLS = ("Li Mg Al Si Ca Ti V Cr Mn Fe Co Ni Cu Zn Ge Sr Mo Ru Ag In Sn Sb La Ce W Bi "  # the 26 cations
           "O S Se Te P "  # the listed anions
           "F Cl N C B "  # outside anions
           "Ga Nb Ta Pb").split()  # cations the paper does not classify


@st.composite
def candidates(draw) -> tuple[str, str, Structure]:
    symbols = draw(st.permutations(SYMBOLS))[: draw(st.integers(1, 7))]
    formula = "".join(f"{s}{draw(st.sampled_from(['1', '2', '0.5', '1.4']))}" for s in symbols)
    structure = Structure(
        primary_particle_size_nm=draw(st.sampled_from([None, 5.0, 50.0, 500.0])),
        conversion_product_size_nm=draw(st.sampled_from([None, 3.0, 30.0])),
        framework=draw(st.sampled_from([None, "C", "rGO"])),
        defect_rich=draw(st.booleans()),
        morphology=draw(st.sampled_from([None, "yolk-shell", "hollow"])),
    )
    return formula, draw(st.sampled_from(["Li", "Na", "K"])), structure


@settings(max_examples=150, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(candidates())
def test_engine_agrees_with_the_reference_on_random_candidates(candidate):
    """Every fact and every derivation of the packaged rules, for random candidates with structures."""
    formula, ion, structure = candidate
    base = candidate_facts(parse_formula(formula), ion, structure)
    rules = engine.load_rules()
    result = engine.run(base, rules, shared=shared_knowledge())
    facts, derivations = reference_run({**knowledge_facts(), **base}, rules)
    assert result.facts == facts
    assert recorded(result) == derivations


def test_engine_agrees_with_the_reference_on_the_papers_examples():
    """(MgCoNiCuZn)O (Section 2.3) and InGeSiP3 (ref 47), with and without the shared index."""
    for formula, ion in (("(MgCoNiCuZn)O", "Li"), ("InGeSiP3", "Li"), ("Sb1.4Bi0.2Sn0.2Co0.1Mn0.1Te3", "K")):
        base = candidate_facts(parse_formula(formula), ion, Structure())
        everything = {**knowledge_facts(), **base}
        facts, derivations = reference_run(everything, engine.load_rules())
        for result in (engine.run(base, shared=shared_knowledge()), engine.run(everything)):
            assert result.facts == facts and recorded(result) == derivations, formula


@functools.cache
def word_predicates() -> frozenset[str]:
    """The predicates the package reads through Result.words(), found in its sources."""
    root = Path(hemkg.__file__).resolve().parent
    reads = re.compile(r'\.words\(\s*"([A-Za-z_-]+)"')
    return frozenset(m.group(1) for path in root.rglob("*.py") if not {"tests", "benchmarks"} & set(path.parts)
                     for m in reads.finditer(path.read_text(encoding="utf-8")))


@settings(max_examples=60, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(candidates())
def test_what_the_package_reads_as_words_is_words(candidate):
    """Result.words() is typed list[tuple[str, ...]] and, being on every answer's path, not checked as it
    runs: for random candidates, the packaged rules give each predicate read through it words only."""
    # consultation/evidence.py reads these two through a parameter, which the scan cannot see
    predicates = word_predicates() | {"evidence", "role_evidence"}
    assert {"status", "role", "effect", "shown_other_kind"} <= predicates  # the scan finds them
    formula, ion, structure = candidate
    result = engine.run(candidate_facts(parse_formula(formula), ion, structure), shared=shared_knowledge())
    for predicate in sorted(predicates):
        for args in result.query(predicate):
            assert all(isinstance(a, str) for a in args), (predicate, args)


# ------------------------------------------------------------------ rules the paper's rules use only lightly


def rule(rule_id: str, when: list[str], then: list[str]) -> engine.Rule:
    return engine.language._load_rule({"id": rule_id, "statement": rule_id, "when": when, "then": then,
                              "location": "test", "basis": "test"}, "test.toml")


GRAPH_RULES = (
    rule("reach-start", ["root(?x)"], ["reached(?x)"]),
    rule("reach-step", ["reached(?x)", "edge(?x, ?y)"], ["reached(?y)"]),
    rule("path-edge", ["edge(?x, ?y)"], ["path(?x, ?y)"]),
    rule("path-join", ["path(?x, ?y)", "path(?y, ?z)"], ["path(?x, ?z)"]),  # recursion through two premises
    rule("loop", ["path(?x, ?x)"], ["on_cycle(?x)"]),  # one variable twice in a premise
    rule("lonely", ["node(?x)", "not reached(?x)"], ["lonely(?x)", "flag(?x, lonely)"]),  # two conclusions
    rule("sink", ["node(?x)", "not edge(?x, _)"], ["sink(?x)"]),  # a wildcard in a negation
    rule("has-out", ["edge(?x, _)"], ["has_out(?x)"]),  # a wildcard in a positive premise
    rule("heavy", ["weight(?x, ?w)", "ge(?w, 5)", "ne(?x, n0)"], ["heavy(?x)"]),
    rule("odd-weight", ["weight(?x, ?w)", "lt(?w, low)"], ["odd(?x)"]),  # a number against a word: never true
    rule("no-root", ["not root(_)"], ["rootless()"]),  # no positive premise at all
    rule("triangle", ["edge(?a, ?b)", "edge(?b, ?c)", "edge(?c, ?a)", "ne(?a, ?b)"], ["triangle(?a, ?b, ?c)"]),
    rule("arity", ["edge(?x)"], ["never(?x)"]),  # the same predicate with another arity matches nothing
)

NODES = [f"n{i}" for i in range(6)]


@st.composite
def graphs(draw) -> dict[Fact, Source]:
    base: list[Fact] = [("node", (n,)) for n in NODES]
    base += [("edge", e) for e in draw(st.sets(st.tuples(st.sampled_from(NODES), st.sampled_from(NODES)), max_size=12))]
    base += [("root", (r,)) for r in draw(st.sets(st.sampled_from(NODES), max_size=2))]
    base += [("weight", (n, float(w))) for n, w in draw(st.dictionaries(st.sampled_from(NODES), st.integers(0, 9)))
             .items()]
    return {f: Source("input", "test") for f in base}


@settings(max_examples=300, derandomize=True, deadline=None, database=None)
@given(graphs(), st.integers(0, 5))
def test_engine_agrees_with_the_reference_on_random_graphs(base, shared_share):
    """Recursive, multi-premise and negated rules; part of the facts shared, the rest per run."""
    facts, derivations = reference_run(base, GRAPH_RULES)
    items = sorted(base.items(), key=repr)
    shared = engine.share(dict(items[: shared_share * len(items) // 5]))
    result = engine.run(dict(items[shared_share * len(items) // 5:]), GRAPH_RULES, shared=shared)
    assert result.facts == facts
    assert recorded(result) == derivations


@settings(max_examples=300, derandomize=True, deadline=None, database=None)
@given(graphs())
def test_rules_over_shared_facts_alone_run_once_and_agree_with_the_reference(base):
    """share(facts, rules) runs once the rules that read only the shared facts (here edges, nodes and weights:
    paths, cycles, sinks, triangles; not what depends on a run's roots), and every run over it holds the
    reference's facts and derivations: its own, and those recorded once in the index. (A predicate the shared
    facts lack may still come with a run, so an edge and a weight are always shared here.)"""
    base = {**base, ("edge", ("n4", "n5")): Source("input", "test"), ("weight", ("n5", 6.0)): Source("input", "test")}
    facts, derivations = reference_run(base, GRAPH_RULES)
    shared = engine.share({f: s for f, s in base.items() if f[0] != "root"}, GRAPH_RULES)
    once = {r.id for r in shared[1].derived_by}
    assert once == {"path-edge", "path-join", "loop", "sink", "has-out", "heavy", "odd-weight", "triangle", "arity"}
    result = engine.run({f: s for f, s in base.items() if f[0] == "root"}, GRAPH_RULES, shared=shared)
    assert result.facts == facts
    assert recorded(result, shared_too=True) == derivations
    assert not {d.rule.id for ds in result.derivations.own.values() for d in ds} & once  # not run again
    for fact in shared[1].derived:  # a shared fact's derivations are reached by looking it up
        assert result.derivations[fact] == shared[1].derivations[fact] and fact in result.derivations
        for d in result.derivations[fact]:  # and down to the given facts, through cycles of paths too
            assert set(result.derivations.leaves(d)) <= set(base)


def test_a_conclusion_that_is_a_shared_fact_is_not_new():
    """A run's check that a conclusion is new looks among the shared facts too where a rule concludes a predicate
    they hold (here edges made symmetric over shared edges): the shared edge is not added again, so no rule
    reading edges meets it twice, and the run agrees with the reference."""
    symmetric = (*GRAPH_RULES, rule("symmetric", ["edge(?x, ?y)", "root(?x)"], ["edge(?y, ?x)"]))
    base = {("edge", ("n0", "n1")): Source("input", "t"), ("edge", ("n1", "n0")): Source("input", "t"),
            ("edge", ("n1", "n2")): Source("input", "t"), ("node", ("n0",)): Source("input", "t")}
    shared = engine.share(base)
    run_base = {("root", ("n0",)): Source("input", "t"), ("root", ("n1",)): Source("input", "t")}
    facts, derivations = reference_run({**base, **run_base}, symmetric)
    result = engine.run(run_base, symmetric, shared=shared)
    assert shared[1].program(symmetric).concludes_shared
    assert result.facts == facts and recorded(result) == derivations
    assert result.derivations[("edge", ("n0", "n1"))]  # derived, and a shared fact all the same


def test_a_run_may_not_add_what_the_rules_run_once_read():
    """Rules run once over the shared edges would be wrong for a run that adds an edge: refused, not ignored."""
    shared = engine.share({("edge", ("n0", "n1")): Source("input", "test")}, GRAPH_RULES)
    with pytest.raises(RuntimeError, match="edge"):
        engine.run({("edge", ("n1", "n2")): Source("input", "test")}, GRAPH_RULES, shared=shared)


def test_a_run_leaves_the_shared_facts_as_they_were():
    """Runs add to their own tables only: a second run over the same shared index sees none of the first's facts."""
    shared = engine.share({("root", ("n0",)): Source("input", "test"), ("edge", ("n0", "n1")): Source("input", "test")})
    first = engine.run({("edge", ("n1", "n2")): Source("input", "test")}, GRAPH_RULES, shared=shared)
    second = engine.run({}, GRAPH_RULES, shared=shared)
    assert first.holds("reached", "n2") and not second.holds("reached", "n2")
    assert second.query("reached") == [("n0",), ("n1",)]


def test_each_plan_is_a_readable_function_of_its_rule():
    """The generated code names the rule's predicates and keeps the written premise order in what it records."""
    program = engine.share({})[1].program(GRAPH_RULES)
    plan = program.full["triangle"]
    assert plan.source.startswith("def solve(") and "# rule triangle" in plan.source
    assert "# edge(?c, ?a)" in plan.source  # each loop names the premise it matches
    assert len(re.findall(r"^\s+for p\d in ", plan.source, re.MULTILINE)) == 3  # one loop per premise
    assert "_compare('ne'" in plan.source
    result = engine.run({("edge", e): Source("input", "t") for e in [("a", "b"), ("b", "c"), ("c", "a")]}, GRAPH_RULES)
    (d,) = result.derivations[("triangle", ("a", "b", "c"))]
    assert d.premises == (("edge", ("a", "b")), ("edge", ("b", "c")), ("edge", ("c", "a")))


def test_components_run_each_rule_after_what_it_reads():
    """Rules come in dependency order whatever the file order; only mutual recursion is grouped, and
    a conclusion feeds a premise only when their constants agree (status(alloying, ...) does not feed
    status(conversion, accessible), as in rules/20-mechanisms.toml)."""
    late = rule("late", ["reached(?x)", "not blocked(?x)"], ["done(?x)"])
    step = rule("step", ["reached(?x)", "edge(?x, ?y)"], ["reached(?y)"])
    start = rule("start", ["root(?x)"], ["reached(?x)"])
    ordered = [c for s in engine.stratify([late, step, start]) for c in engine.components(s)]
    assert [[r.id for r in c] for c in ordered] == [["start"], ["step"], ["late"]]
    a = rule("a", ["p(?x)"], ["q(?x)"])
    b = rule("b", ["q(?x)"], ["p(?x)"])
    assert [[r.id for r in c] for c in engine.components([a, b])] == [["a", "b"]]
    conversion = rule("conversion", ["x()"], ["status(conversion, accessible)"])
    alloying = rule("alloying", ["status(conversion, accessible)"], ["status(alloying, accessible)"])
    assert [[r.id for r in c] for c in engine.components([alloying, conversion])] == [["conversion"], ["alloying"]]


def test_a_pickled_program_runs_like_the_compiled_one():
    """The knowledge graph's index is cached on disk with its compiled plans (consult.shared_knowledge):
    after a pickle round trip every plan still runs, with the same facts and derivations."""
    shared = engine.share({f: Source("input", "t") for f in [("root", ("n0",)), ("edge", ("n0", "n1"))]})
    shared[1].program(GRAPH_RULES)
    copy = pickle.loads(pickle.dumps(shared))
    assert copy[1].programs and copy[1].programs[(GRAPH_RULES, frozenset())].full["triangle"].source
    base = {("edge", ("n1", "n0")): Source("input", "t"), ("weight", ("n1", 7.0)): Source("input", "t")}
    a, b = engine.run(base, GRAPH_RULES, shared=shared), engine.run(base, GRAPH_RULES, shared=copy)
    assert a.facts == b.facts and recorded(a) == recorded(b) and a.holds("on_cycle", "n0")
