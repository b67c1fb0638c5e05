"""Tests of `hem screen` (issue 5): the compiled rules, the streamed space, the executors, the ranking, the CLI.

The compiled path (compiled.py) must agree with the provenance-recording engine
behind `hem consult` (consult.py) on every status, role and estimate: a
differential test draws thousands of random candidates with hypothesis
(alloys, mixed and unlisted anions, unclassified cations) and compares each row
with the consultation's JSON. The rest checks what the issue promises of the
screen: the space is counted without being built and generated lazily, any
concurrent.futures.Executor (threads, processes, a Dask cluster) gives the same
answer, the top rows and the Pareto front are the true ones (checked by brute
force), every row can be reopened with `hem consult`, and the CLI writes files
and reports errors in one `error:` line.

In the style of tests/test_rules.py and tests/test_consult_cli.py: the paper's
lists are written out here (Section 3.1, Table 1, Fig. 6a), not imported from
the code under test, and the CLI runs through click's CliRunner.
"""

from __future__ import annotations

import csv
import functools
import importlib
import inspect
import itertools
import json
import math
import re
import signal
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import answer_grades, assert_one_line_error, compiled_grades, hem, kill_and_check, run, wait_for_children
from hypothesis import HealthCheck, currently_in_test_context, event, example, given, settings
from hypothesis import strategies as st

from hemkg.answers.summary import summarise
from hemkg.consultation.consultation import consult
from hemkg.consultation.facts import reported_compositions
from hemkg.consultation.formula import parse_formula
from hemkg.consultation.oxidation import signed
from hemkg.errors import FormulaError
from hemkg.screening import run as sc
from hemkg.screening import vectorised as compiled

# ------------------------------------------------------------------ the paper's lists (Section 3.1, Table 1)

CATIONS_26 = tuple("Li Mg Al Si Ca Ti V Cr Mn Fe Co Ni Cu Zn Ge Sr Mo Ru Ag In Sn Sb La Ce W Bi".split())
LISTED_ANIONS = ("P", "S", "O", "Se", "Te")
# Issue 3: anion-forming elements outside the paper's list (a project convention).
OUTSIDE_ANIONS = ("H", "B", "C", "N", "F", "Cl", "Br", "I")
# Cations the paper does not classify (Ga is in reported HEMs but not among the 26).
UNCLASSIFIED = ("Ga", "Nb", "Y", "Zr", "Na", "K", "Ba")
ANIONS = LISTED_ANIONS + OUTSIDE_ANIONS
UNIVERSE = CATIONS_26 + ANIONS + UNCLASSIFIED
PLANE_C = {"Fe", "Co", "Ni"}  # Fig. 6a: space charge

MECHANISMS = ("intercalation", "conversion", "alloying", "space-charge")
# Issue 11: the evidence scale, strongest first; the statuses; the roles (a mechanism's, or an element role)
SCALE = ("reported_here", "contradicted_here", "conflicting", "reported_related", "reported_in_hems",
         "not_shown_in_hems", "none")
STATUSES = ("accessible", "not_accessible", "undetermined")
# intercalation is the host's, never an element's role (issue 11, Section 2.1)
ROLES = ("conversion", "alloying", "space_charge", "anion", "stabilizer", "unclassified")
IONS = ("Li", "Na", "K")
AMOUNTS = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.5, 0.9, 1.0, 1.5, 2.0, 3.0, 4.0)
MIXED_ANIONS = ({"S": 0.9, "Se": 0.1}, {"O": 0.5, "F": 0.5}, {"P": 1.0, "S": 1.0}, {"Se": 0.5, "Te": 0.5},
                {"O": 1.0, "N": 0.1}, {"Cl": 1.0, "Br": 1.0})
HEM_BOUNDS = (0.05, 0.35)  # Section 1: five or more elements, each 5-35 at%
CAPACITY_TOLERANCE = 0.1 + 1e-6  # both sides round to 0.1 mAh/g
ENTROPY_TOLERANCE = 1e-3 + 1e-9  # both sides round to 0.001 R
PARETO = ("capacity", "cycling_stability", "fast_charging")


def json_key(name: str) -> str:
    """'space-charge' (the rules) -> 'space_charge' (the JSON)."""
    return name.replace("-", "_")


def formula_text(composition: dict[str, float]) -> str:
    """A formula that periodictable reads back exactly: every amount written out ('Fe0.2Co0.2O1')."""
    return "".join(f"{s}{a:g}" for s, a in composition.items())


def options(*texts: str) -> tuple[sc.AnionOption, ...]:
    return tuple(sc.AnionOption.parse(t) for t in texts)


@functools.cache
def elements_of(formula: str) -> tuple[str, ...]:
    return tuple(parse_formula(formula).composition)


def elements_in(formula: str) -> set[str]:
    return set(elements_of(formula))


def cations_in(formula: str) -> list[str]:
    return [s for s in elements_of(formula) if s not in ANIONS]


def collect(space: sc.Space, **kwargs: Any) -> tuple[sc.Summary, list[dict[str, Any]]]:
    """Screen in process; return the summary and every kept row, in the order the sink received them."""
    rows: list[dict[str, Any]] = []

    def sink(kept: dict[str, np.ndarray], batch: sc.Batch) -> None:
        rows.extend(sc.rows_of(kept, batch.ion, batch.universe))

    return sc.screen(space, sink=sink, **kwargs), rows


def objective_vector(row: dict[str, Any], objectives: tuple[str, ...]) -> tuple[float, ...]:
    return tuple(float(row[sc.OBJECTIVES[o]]) for o in objectives)


def non_dominated(points: set[tuple[float, ...]]) -> set[tuple[float, ...]]:
    """Brute force: the points no other point matches or beats in every objective."""
    return {p for p in points
            if not any(q != p and all(a >= b for a, b in zip(q, p, strict=True)) for q in points)}


# Small spaces. SMALL's pool is in the order the CLI builds it (the 26 in Table 1 order, then --include),
# so `hem screen SMALL_ARGS` screens the same rows in the same order.
SMALL = sc.Space(pool=("Mg", "Si", "Fe", "Co", "Ni", "Cu", "Zn", "Sn", "Ga"), sizes=(3,),
                 anions=options("O", "S0.9Se0.1", "F", "none"), ions=("Li", "Na"))
EXCLUDE = ",".join(s for s in CATIONS_26 if s not in SMALL.pool)  # all but Mg, Si, Fe, Co, Ni, Cu, Zn, Sn
SMALL_ARGS = ["-k", "3", "--include", "Ga", "--exclude", EXCLUDE, "--anions", "O,S0.9Se0.1,F,none", "--ions", "Li,Na"]
RANKED = sc.Space(pool=("Mg", "Ti", "Fe", "Co", "Ni", "Zn", "Sn", "Ga"), sizes=(4, 5),
                  anions=options("O", "S0.9Se0.1", "Cl", "none"), ions=("Li", "K"))
BATCH = 64  # small batches, so that every run spans several


@pytest.fixture(scope="module")
def small_rows() -> list[dict[str, Any]]:
    return collect(SMALL, batch_size=BATCH)[1]


@pytest.fixture(scope="module")
def ranked_rows() -> list[dict[str, Any]]:
    summary, rows = collect(RANKED, batch_size=100)
    assert summary.screened == summary.kept == len(rows) == RANKED.count() == 1008
    return rows


# ------------------------------------------------------------------ 1. compiled path = engine (differential)


@st.composite
def candidates(draw) -> dict[str, float]:
    """1-7 elements: cations (listed or not), then no anion (an alloy), a mixed anion pair or up to three anions."""
    n = draw(st.integers(0, 6))
    cations = draw(st.lists(st.sampled_from(CATIONS_26 + UNCLASSIFIED), min_size=n, max_size=n, unique=True))
    if draw(st.booleans()):  # one amount for every cation, as equimolar HEMs are written
        amount = draw(st.sampled_from(AMOUNTS))
        composition = {s: amount for s in cations}
    else:
        composition = {s: draw(st.sampled_from(AMOUNTS)) for s in cations}
    anions = draw(st.one_of(
        st.just({}),
        st.sampled_from(MIXED_ANIONS),
        st.dictionaries(st.sampled_from(ANIONS), st.sampled_from(AMOUNTS), min_size=1, max_size=3),
    ))
    for s, a in list(anions.items())[: 7 - len(composition)]:
        composition[s] = a
    if not composition:
        composition[draw(st.sampled_from(UNIVERSE))] = draw(st.sampled_from(AMOUNTS))
    return composition


@functools.cache
def reported() -> dict[str, dict[str, float]]:
    """The graph's reported materials (Sections 2-3) whose elements are all in UNIVERSE, normalised."""
    return {m: c for m, c in reported_compositions().items() if set(c) <= set(UNIVERSE)}


def written_as(fractions: dict[str, float], scale: float) -> dict[str, float]:
    """Amounts a formula can spell exactly (four decimals), in these proportions."""
    return {s: round(x * scale, 4) for s, x in fractions.items()}


@st.composite
def near_reported(draw) -> dict[str, float]:
    """A reported material's composition (issue 11: the same elements, fractions within 0.01 match it),
    at any scale, or with one element's amount moved a little (still matching) or too far (not matching)."""
    composition = written_as(reported()[draw(st.sampled_from(sorted(reported())))],
                             draw(st.sampled_from((1.0, 2.0, 7.0))))
    if draw(st.booleans()):
        symbol = draw(st.sampled_from(sorted(composition)))
        composition[symbol] = round(composition[symbol] * draw(st.sampled_from((0.98, 1.02, 0.7, 1.5))), 4)
    return composition


def at_hem_bound(composition: dict[str, float]) -> bool:
    """Whether a cation fraction sits on 5 or 35 at%, where float round-off decides (fixed: a tolerance of 1e-9 applies)."""
    cations = {s: a for s, a in composition.items() if s not in ANIONS}
    total = sum(cations.values())
    return any(abs(a / total - bound) < 1e-9 for a in cations.values() for bound in HEM_BOUNDS)


def compiled_view(out: dict[str, np.ndarray], i: int, composition: dict[str, float]) -> dict[str, Any]:
    return {**compiled_grades(out, i, composition, UNIVERSE, MECHANISMS),
            "plus": {p: int(out[f"plus_{p}"][i]) for p in compiled.EFFECT_PROPERTIES},
            "minus": {p: int(out[f"minus_{p}"][i]) for p in compiled.EFFECT_PROPERTIES}}


def engine_view(data: dict[str, Any]) -> dict[str, Any]:
    def contributors(prop: str, direction: str) -> int:
        return len({e for effect in data["effects"] if effect["property"] == json_key(prop)
                    and effect["direction"] == direction for e in effect["elements"]})

    return {**answer_grades(data, MECHANISMS),
            "plus": {p: contributors(p, "+") for p in compiled.EFFECT_PROPERTIES},
            "minus": {p: contributors(p, "-") for p in compiled.EFFECT_PROPERTIES}}


def assert_agree(ion: str, batch: list[dict[str, float]]) -> dict[str, np.ndarray]:
    """Evaluate the batch with the compiled rules at once, then consult each candidate and compare (statuses,
    evidence, roles, role evidence, contributor counts, capacity, entropy); then balance the batch as the screen
    does (the anions scaled to the cations' states) and compare again. Returns the compiled output as given."""
    amounts = np.zeros((len(batch), len(UNIVERSE)))
    for i, composition in enumerate(batch):
        for s, a in composition.items():
            amounts[i, UNIVERSE.index(s)] = a
    rules = compiled.compiled(ion, UNIVERSE)
    out = rules.evaluate(amounts, with_role_evidence=True)
    assert not np.where(amounts > 0, 0, out["roles"]).any(), "an absent element has a role"
    for i, composition in enumerate(batch):
        text = formula_text(composition)
        c = consult(text, ion)
        data = summarise(c)
        where = f"{text} with {ion}+"
        assert data["composition"] == composition, f"{where}: the formula was not read back exactly"
        assert compiled_view(out, i, composition) == engine_view(data), where
        if bool(out["charge_balanced"][i]):  # the screen's states meet the anions as given: the engine's reading
            assert_same_capacity(out, i, c, where)
        entropy = data["entropy"]
        assert float(out["entropy_cation_R"][i]) == pytest.approx(entropy["cation_site_R"], abs=ENTROPY_TOLERANCE), where
        assert float(out["entropy_anion_R"][i]) == pytest.approx(entropy["anion_site_R"], abs=ENTROPY_TOLERANCE), where
        if not at_hem_bound(composition):
            assert bool(out["meets_hem_definition"][i]) == entropy["meets_hem_definition"], where
    # unrounded; a screen's worker rounds to 0.1 mAh/g
    balanced = rules.evaluate(amounts, balance=True, with_role_evidence=True)
    columns = sc.columns_of(sc.evaluate(sc.Batch(ion, UNIVERSE, amounts)), ion, UNIVERSE)
    for i, text in enumerate(columns["formula"]):
        if not any(s not in ANIONS for s in batch[i]):  # anion formers alone: not a screened candidate
            continue
        try:
            c = consult(text, ion)
        except FormulaError:  # random amounts can balance only in thousands of formula units: not a screen's
            if currently_in_test_context():  # assert_agree also runs on the fixed examples, outside hypothesis
                event("balanced formula too long to write")
            continue
        where = f"{text} (balanced from {formula_text(batch[i])}) with {ion}+"
        row = {s: float(balanced["amounts"][i, UNIVERSE.index(s)]) for s in batch[i]}
        total, read = sum(row.values()), c.formula.composition
        assert {s: read[s] / sum(read.values()) for s in read} == pytest.approx({s: a / total for s, a in row.items()},
                                                                               rel=1e-9), where
        assert_same_capacity(balanced, i, c, where)
        data = summarise(c)
        assert compiled_view(balanced, i, batch[i]) == engine_view(data), where
        record = data["oxidation_states"]
        assert record["charge_balanced"] == columns["charge_balanced"][i], where
        if record["charge_balanced"] and record["reading"] == "ionic":
            engine_states = " ".join(f"{s}{signed(states[0][0])}" for s, states in record["assignment"].items()
                                     if s not in ANIONS and len(states) == 1)
            assert engine_states == columns["oxidation_states"][i], where
    return out


def assert_same_capacity(out: dict[str, np.ndarray], i: int, c: Any, where: str) -> None:
    """Each capacity of the compiled row equals the consultation's (unrounded) to 1e-9 relative; NaN where None."""
    estimate = c.estimates["theoretical_capacity"]
    for key in ("conversion", "alloying", "total"):
        value = float(out[f"capacity_{key}"][i])
        if estimate[key] is None:
            assert math.isnan(value), f"{where}: {key}"
        else:
            assert value == pytest.approx(estimate[key], rel=1e-9, abs=1e-9), f"{where}: {key}"


EXAMPLES = [
    {"Fe": 0.2, "Co": 0.2, "Ni": 0.2, "Cu": 0.2, "Zn": 0.2, "S": 0.9, "Se": 0.1},  # mixed anions
    {"Sn": 1.0, "Sb": 1.0, "Bi": 1.0, "Ge": 1.0, "Si": 1.0},  # an alloy of Plane B cations
    {"Mg": 0.2, "Co": 0.2, "Ni": 0.2, "Cu": 0.2, "Zn": 0.2, "O": 1.0},  # (MgCoNiCuZn)O, Section 3.1
    {"In": 1.0, "Ge": 1.0, "Si": 1.0, "P": 3.0},  # InGeSiP3
    {"Fe": 1.0, "Co": 1.0, "F": 3.0},  # an outside anion only
    {"Ga": 0.5, "Nb": 0.5, "Y": 1.0},  # no listed cation, no anion
    {"Na": 0.5, "K": 0.5, "Fe": 1.0, "O": 1.0, "N": 0.1},  # the carrier ions as cations
    {"Cl": 1.0}, {"Si": 1.0},
    # issue 11: the paper's materials, whose reports outrank the planes or grade the evidence
    {"Li": 0.5, "Fe": 0.5, "Zn": 0.5, "Ni": 0.5, "Co": 0.5, "Mn": 0.5, "O": 4.0},  # (LiFeZnNiCoMn)3O4, ref 41
    {"Fe": 1.0, "S": 2.0}, {"Fe": 3.0, "O": 4.0}, {"Fe": 1.0, "Se": 1.0}, {"Ni": 1.0, "S": 1.0},  # refs 59, 57, 60; Fig. 5i
    {"Fe": 0.2, "Co": 0.2, "Ni": 0.2, "Cu": 0.2, "Zn": 0.2, "O": 1.0},  # a HEM with Plane C cations (Section 2.4)
    # HEM oxides with and without a cation of a reported HEM oxide shown to intercalate as a host
    {"Mg": 0.2, "Al": 0.2, "Ti": 0.2, "Cu": 0.2, "Cr": 0.2, "O": 1.0},
    {"Mg": 0.2, "Al": 0.2, "Ti": 0.2, "Cu": 0.2, "V": 0.2, "O": 1.0},
]


@pytest.mark.parametrize("ion", IONS)
@settings(max_examples=4, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(batch=st.lists(st.one_of(candidates(), candidates(), candidates(), near_reported()), min_size=200, max_size=200))
@example(batch=EXAMPLES)
def test_compiled_agrees_with_engine(ion, batch):
    """Compiled rules and engine agree on statuses, evidence, roles, role evidence, contributor counts, capacity and
    entropy (800 random candidates per ion, a quarter of them near a reported material's composition)."""
    assert_agree(ion, batch)


def test_differential_candidates_reach_every_status_level_and_role():
    """Issue 11: the differential test covers every status, every level of the evidence scale (of a mechanism or an
    element's role) and every role, and candidates that match a reported material (Sections 2-3), whose report can
    outrank the planes (ref 41: Zn structural in (LiFeZnNiCoMn)3O4) and which the compiled path hands to the engine.
    Intercalation is the host's (Section 2.1): no element takes it as a role."""
    batch = EXAMPLES + [written_as(c, 1.0) for c in reported().values()]
    statuses, levels, roles, matched = set(), set(), set(), 0
    for ion in IONS:
        out = assert_agree(ion, batch)
        matched += int(out["matches_reported"].sum())
        statuses |= {json_key(compiled.STATUS_NAMES[int(c)]) for m in MECHANISMS for c in out[f"status_{m}"]}
        levels |= {compiled.LEVELS[int(c)] for m in MECHANISMS for c in out[f"evidence_{m}"]}
        present = np.array([[s in c for s in UNIVERSE] for c in batch])
        role_bits = out["roles"][present]
        roles |= {json_key(r) for r in compiled.ROLES if (role_bits & compiled.ROLE_BITS[r]).any()}
        for j, r in enumerate(compiled.ROLES):
            held = (role_bits & compiled.ROLE_BITS[r]) > 0
            levels |= {compiled.LEVELS[int(c)] for c in out["role_evidence"][present][held, j]}
    assert compiled.LEVELS == SCALE
    assert statuses == set(STATUSES) and levels == set(SCALE) and roles == set(ROLES)
    assert matched >= len(reported())  # each reported material at least with its own carrier ion


def test_evidence_is_the_strongest_of_the_vector_and_the_elements_items():
    """The property the compiled evidence rests on (vectorised.py's docstring): a candidate's evidence for a mechanism
    is the strongest of its switch vector's own items and the items of the elements it has. Checked on every row of
    an equimolar space of HEM oxides and sulfides (Section 1), where candidates with the same vector differ in
    evidence by their elements (Zn conversion: seen in refs 46 and 48, not in ref 41)."""
    space = sc.Space(pool=("Mg", "Li", "Mn", "Fe", "Co", "Ni", "Cu", "Zn", "Sn", "Si"), sizes=(5,),
                     anions=options("O", "S"), ions=("Li",))
    by_vector: dict[int, set[tuple[int, ...]]] = {}
    for batch in space.batches(100):
        table = compiled.compiled(batch.ion, batch.universe)
        out = table.evaluate(batch.amounts)
        kinds = np.where(out["meets_hem_definition"], table.kind_bits[True], table.kind_bits[False]).astype(np.uint64)
        vectors = out["vector"] | kinds
        levels = np.stack([out[f"evidence_{m}"] for m in compiled.MECHANISMS], axis=1)
        for i in np.flatnonzero(~out["matches_reported"]):
            held, holders = table._grades[int(vectors[i])]
            for m in range(len(compiled.MECHANISMS)):
                items = [lv for lv in range(len(SCALE)) if held[m, lv]]
                items += [lv for lv in range(len(SCALE)) for j in np.flatnonzero(batch.amounts[i])
                          if int(holders[m, lv, j // 64]) >> (j % 64) & 1]
                assert levels[i, m] == min(items, default=len(SCALE) - 1), sc.formula_of(batch.amounts[i], batch.universe)
            by_vector.setdefault(int(vectors[i]), set()).add(tuple(levels[i].tolist()))
    assert any(len(seen) > 1 for seen in by_vector.values())  # the elements' items matter, not the vector alone


# ------------------------------------------------------------------ 2. the space: counted, not built; lazy


def test_default_space_counted_without_generating_it(monkeypatch):
    """The default space (26 cations choose 5, 6 anion options, 3 ions) has 1,184,040 candidates, counted not generated."""
    def refuse(*args: Any) -> None:
        raise AssertionError("count() generated candidates")

    monkeypatch.setattr(itertools, "combinations", refuse)
    monkeypatch.setattr(sc.Space, "batches", refuse)
    assert sc.Space().count() == math.comb(26, 5) * 6 * 3 == 1_184_040


@pytest.mark.parametrize("space", [
    sc.Space(pool=RANKED.pool, sizes=(3,), ions=("Li",)),
    sc.Space(pool=RANKED.pool, sizes=(1, 2, 3), anions=options("O", "S0.9Se0.1", "none"), required=("Sn",)),
    sc.Space(pool=RANKED.pool, sizes=(1, 3), anions=options("Te"), ions=("Na",), required=("Fe", "Co")),
    sc.Space(pool=("Fe", "Co", "Ni", "Cu", "Zn", "Mg"), sizes=(5,), anions=options("none"), ions=("K",), grid_step=0.1),
    sc.Space(pool=("Fe", "Co", "Ni", "Cu"), sizes=(5,), ions=("Li",)),  # nothing to screen
], ids=["k3", "k1-3-required", "k-below-required", "grid", "empty"])
def test_count_equals_rows_generated(space):
    """count() is the number of rows the batches yield; batches hold one ion each, at most `size` rows, no repeats."""
    size = 37
    seen: dict[str, list[np.ndarray]] = {}
    for batch in space.batches(size=size):
        assert 0 < len(batch.amounts) <= size
        assert batch.universe == space.universe
        seen.setdefault(batch.ion, []).append(batch.amounts)
    rows = sum(len(a) for parts in seen.values() for a in parts)
    assert rows == space.count()
    for parts in seen.values():
        stacked = np.concatenate(parts)
        assert len(np.unique(stacked, axis=0)) == len(stacked)


def test_batches_are_generated_lazily(monkeypatch):
    """The first batch of the full default space arrives after only the cation sets it needs."""
    taken: list[tuple[str, ...]] = []
    real = itertools.combinations

    def counting(iterable, r):
        for combination in real(iterable, r):
            taken.append(combination)
            yield combination

    monkeypatch.setattr(itertools, "combinations", counting)
    space = sc.Space()
    batches = space.batches(size=60)
    assert inspect.isgenerator(batches)
    assert taken == []
    first = next(batches)
    assert first.ion == "Li" and first.amounts.shape == (60, len(space.universe))
    assert len(taken) == 10  # 60 rows = 10 cation sets x 6 anion options, of C(26, 5) = 65,780
    second = next(batches)
    assert len(second.amounts) == 60 and len(taken) == 20
    batches.close()


def grid_points(units: int, k: int, lo: int, hi: int) -> int:
    """How many ways k parts, each lo..hi, sum to units (counted, not enumerated)."""
    ways = {0: 1}
    for _ in range(k):
        nxt: Counter = Counter()
        for total, n in ways.items():
            for part in range(lo, hi + 1):
                if total + part <= units:
                    nxt[total + part] += n
        ways = nxt
    return ways.get(units, 0)


@pytest.mark.parametrize("step, k, units", [(0.05, 5, 20), (0.05, 3, 20), (0.1, 4, 10), (0.02, 5, 50), (0.25, 5, 4),
                                            (0.03, 5, None), (0.07, 6, None), (0.35, 3, None)])
def test_grid_fractions_within_hem_bounds_and_sum_to_one(step, k, units):
    """--grid: every set of cation fractions is within 5-35 at% and sums to 1; on an exact grid, every such point."""
    space = sc.Space(grid_step=step)
    sets = list(space.fraction_sets(k))
    assert len(sets) == space.fraction_count(k)  # counted without listing
    assert len(set(sets)) == len(sets)
    for fractions in sets:
        assert len(fractions) == k
        assert all(0.05 - 1e-12 <= x <= 0.35 + 1e-12 for x in fractions), fractions
        assert math.isclose(sum(fractions), 1.0, abs_tol=1e-9), fractions
    if units is not None:  # each multiple of the step from 5 to 35 at%
        assert len(sets) == grid_points(units, k, math.ceil(0.05 * units - 1e-9), math.floor(0.35 * units + 1e-9))


def test_grid_rows_hold_the_fractions_and_the_anion():
    """Rows of a --grid space: cation fractions on the grid, within 5-35 at%, summing to 1; the anion amount as given."""
    space = sc.Space(pool=("Fe", "Co", "Ni", "Cu", "Zn", "Mg"), sizes=(5,), anions=options("S0.9Se0.1"),
                     ions=("Li",), grid_step=0.05)
    u = space.universe
    cation = np.array([s in space.pool for s in u])
    for batch in space.batches(size=5000):
        x = batch.amounts[:, cation]
        assert ((x == 0) | ((x >= 0.05 - 1e-12) & (x <= 0.35 + 1e-12))).all()
        np.testing.assert_allclose(x.sum(axis=1), 1.0)
        np.testing.assert_allclose(x * 20, np.round(x * 20), atol=1e-9)
        assert ((x > 0).sum(axis=1) == 5).all()
        assert (batch.amounts[:, u.index("S")] == 0.9).all() and (batch.amounts[:, u.index("Se")] == 0.1).all()


def test_required_elements_are_in_every_row():
    """--require: every generated row holds the required elements, with the asked number of cations."""
    space = sc.Space(pool=(*RANKED.pool, "Si"), sizes=(2, 3, 4), anions=options("O", "none"), required=("Fe", "Si"))
    u = space.universe
    rows = np.concatenate([b.amounts for b in space.batches(size=100)])
    assert len(rows) == space.count() == (1 + 7 + math.comb(7, 2)) * 2 * 3
    assert (rows[:, u.index("Fe")] > 0).all() and (rows[:, u.index("Si")] > 0).all()
    cations = (rows[:, [u.index(s) for s in space.pool]] > 0).sum(axis=1)
    assert set(cations.tolist()) == {2, 3, 4}
    summary, kept = collect(space, batch_size=100, top=5)
    assert summary.kept == len(kept) == len(rows)
    assert all({"Fe", "Si"} <= elements_in(r["formula"]) for r in kept)


def test_fine_grid_first_batch_arrives_quickly():
    """--grid 0.01 -k 7: the first batch arrives within seconds, as streaming promises."""
    space = sc.Space(pool=("Fe", "Co", "Ni", "Cu", "Zn", "Mg", "Ti"), sizes=(7,), anions=options("O"),
                     ions=("Li",), grid_step=0.01)
    with time_limit(2):
        batch = next(space.batches(size=100))
    assert len(batch.amounts) == 100


@contextmanager
def time_limit(seconds: float):
    def expire(signum, frame):
        raise TimeoutError(f"more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# ------------------------------------------------------------------ 3. executors give the same answer


def both_runs(executor: Executor | None) -> tuple[sc.Summary, sc.Summary]:
    """SMALL ranked by capacity and as a Pareto front, in batches of BATCH."""
    return (sc.screen(SMALL, top=10, executor=executor, batch_size=BATCH),
            sc.screen(SMALL, pareto=PARETO, top=3, executor=executor, batch_size=BATCH))


@pytest.fixture(scope="module")
def in_process() -> tuple[sc.Summary, sc.Summary]:
    ranked, front = both_runs(None)
    assert ranked.screened == ranked.kept == front.screened == SMALL.count() == 84 * 4 * 2
    assert len(ranked.top) == 10 and front.front and not ranked.interrupted
    return ranked, front


def test_thread_pool_gives_the_same_answer(in_process):
    """A ThreadPoolExecutor: identical top rows, counts and front."""
    with ThreadPoolExecutor(max_workers=2) as executor:
        assert both_runs(executor) == in_process


def test_process_pool_gives_the_same_answer(in_process):
    """The default executor (a process pool of 2): identical top rows, counts and front."""
    assert sc.default_executor(1) is None
    executor = sc.default_executor(2)
    try:
        assert isinstance(executor, ProcessPoolExecutor)
        assert both_runs(executor) == in_process
    finally:
        executor.shutdown()


class RecordingExecutor(Executor):
    """Runs each job at once, counting submissions (an Executor with two workers, as far as screen() knows)."""

    _max_workers = 2

    def __init__(self) -> None:
        self.submitted = 0

    def submit(self, fn: Callable, /, *args: Any, **kwargs: Any) -> Future:
        self.submitted += 1
        future: Future = Future()
        future.set_result(fn(*args, **kwargs))
        return future


def test_batches_in_flight_are_bounded():
    """Memory stays flat: batches are submitted only a few (2 x workers) ahead of the one being merged."""
    executor = RecordingExecutor()
    ahead: list[int] = []
    merged = 0

    def sink(kept: dict[str, np.ndarray], batch: sc.Batch) -> None:
        nonlocal merged
        merged += 1
        ahead.append(executor.submitted - merged)

    summary = sc.screen(SMALL, executor=executor, sink=sink, batch_size=BATCH)
    assert merged == math.ceil(84 * 4 / BATCH) * 2 == 12
    assert executor.submitted == merged and summary.kept == SMALL.count()
    assert max(ahead) <= 2 * executor._max_workers
    assert ahead[0] < merged - 1  # the first batch is merged before the last is submitted


# ------------------------------------------------------------------ 4. ranking, Pareto front and filters


@pytest.mark.parametrize("rank_by", sorted(sc.OBJECTIVES))
def test_top_rows_are_the_true_maxima(ranked_rows, rank_by):
    """The top rows are sorted by the objective and are its largest values over every kept row."""
    column = sc.OBJECTIVES[rank_by]
    summary = sc.screen(RANKED, rank_by=rank_by, top=15, batch_size=100)
    values = [row[column] for row in summary.top]
    assert len(values) == 15
    assert values == sorted((row[column] for row in ranked_rows), reverse=True)[:15]
    assert all(row in ranked_rows for row in summary.top)


@pytest.mark.parametrize("objectives, filters", [
    (PARETO, sc.Filters()),
    (("entropy", "capacity"), sc.Filters()),
    (("capacity_contributors", "fast_charging", "cycling_stability", "entropy"), sc.Filters()),
    (("capacity", "fast_charging"), sc.Filters(hem_only=True)),
], ids=["capacity-stability-fast", "entropy-capacity", "four", "hem-only"])
def test_pareto_front_is_the_non_dominated_set(ranked_rows, objectives, filters):
    """The front's points are exactly the non-dominated objective vectors of the kept rows, with their counts."""
    kept = [row for row in ranked_rows if not filters.hem_only or row["meets_hem_definition"]]
    counts = Counter(objective_vector(row, objectives) for row in kept)
    expected = non_dominated(set(counts))
    summary = sc.screen(RANKED, filters, pareto=objectives, top=2, batch_size=100)
    points = [tuple(point[o] for o in objectives) for point in summary.front]
    assert set(points) == expected
    assert points == sorted(points, reverse=True)
    assert {p: point["count"] for p, point in zip(points, summary.front, strict=True)} == {p: counts[p] for p in expected}
    examples = Counter(objective_vector(row, objectives) for row in summary.top)
    assert examples == {p: min(2, counts[p]) for p in expected}
    assert all(row in kept for row in summary.top)
    assert summary.kept == len(kept)


@pytest.mark.parametrize("filters, keep", [
    # Fig. 6a: space charge with a Plane C cation once conversion runs (Fe, Co, Ni are on Plane A; a listed anion)
    (sc.Filters(("space-charge",)), lambda r: bool(PLANE_C & elements_in(r["formula"]))
     and bool(set(LISTED_ANIONS) & elements_in(r["formula"]))),
    # Section 1: five or more cations (each 20 at% here)
    (sc.Filters(hem_only=True), lambda r: len(cations_in(r["formula"])) >= 5),
    # Ga is the only cation of RANKED outside the 26
    (sc.Filters(no_unclassified=True), lambda r: "Ga" not in r["formula"]),
    (sc.Filters(("conversion", "alloying"), hem_only=True, no_unclassified=True),
     lambda r: r["conversion"] == r["alloying"] == "accessible" and r["meets_hem_definition"] and not r["unclassified"]),
    # issue 11: --evidence conversion=reported_related keeps that level or a stronger one (the scale's order)
    (sc.Filters(evidence=(sc.EvidenceFilter.parse("conversion=reported_related"),)),
     lambda r: SCALE.index(r["evidence_conversion"]) <= SCALE.index("reported_related")),
    # MECHANISM==LEVEL keeps exactly that level; two filters both hold (Section 2.4: not yet shown in HEMs)
    (sc.Filters(evidence=(sc.EvidenceFilter.parse("space_charge==not_shown_in_hems"),
                          sc.EvidenceFilter.parse("conversion=reported_in_hems"))),
     lambda r: r["evidence_space_charge"] == "not_shown_in_hems"
     and SCALE.index(r["evidence_conversion"]) <= SCALE.index("reported_in_hems")),
], ids=["space-charge", "hem-only", "no-unclassified", "combined", "evidence-at-least", "evidence-exactly"])
def test_filters_keep_exactly_the_rows_that_satisfy_them(ranked_rows, filters, keep):
    """--mechanism, --hem-only, --no-unclassified and --evidence keep exactly the rows that satisfy them, in order."""
    expected = [row for row in ranked_rows if keep(row)]
    assert 0 < len(expected) < len(ranked_rows)
    summary, rows = collect(RANKED, filters=filters, batch_size=100)
    assert rows == expected
    assert summary.kept == len(expected) and summary.screened == len(ranked_rows)


# ------------------------------------------------------------------ 5. every row can be reopened


def reopened(row: dict[str, Any]) -> dict[str, Any]:
    data = summarise(consult(row["formula"], row["ion"]))
    return {
        **{json_key(m): data["mechanisms"][json_key(m)]["status"] for m in MECHANISMS},
        "unclassified": any("unclassified" in roles for roles in data["roles"].values()),
        "capacity_total": data["theoretical_capacity"]["total"],
        "entropy_cation_R": data["entropy"]["cation_site_R"],
    }


def assert_reopens(row: dict[str, Any]) -> None:
    again = reopened(row)
    statuses = [json_key(m) for m in MECHANISMS]
    assert {k: again[k] for k in statuses} == {k: row[k] for k in statuses}, row["formula"]
    assert again["unclassified"] == row["unclassified"], row["formula"]
    assert again["capacity_total"] == pytest.approx(row["capacity_total"], abs=CAPACITY_TOLERANCE), row["formula"]
    assert again["entropy_cation_R"] == pytest.approx(row["entropy_cation_R"], abs=ENTROPY_TOLERANCE), row["formula"]


def test_screened_rows_reopen_as_consultations(ranked_rows, in_process):
    """`hem consult` on a row's formula gives its statuses, capacity and entropy: the top rows and a sample."""
    top = sc.screen(RANKED, top=10, batch_size=100).top
    sample = top + in_process[0].top + ranked_rows[::23]
    assert any(r["formula"].startswith("(") for r in sample) and any(r["unclassified"] for r in sample)
    for row in sample:
        assert_reopens(row)
        if row in ranked_rows:  # equimolar: no fraction on a 5/35 at% bound
            assert summarise(consult(row["formula"], row["ion"]))["entropy"]["meets_hem_definition"] == row["meets_hem_definition"]


def test_grid_rows_reopen_as_consultations():
    """Rows of a --grid space, written with explicit amounts, reopen with the same statuses and capacity."""
    space = sc.Space(pool=("Fe", "Co", "Ni", "Sn", "Mg", "Ga"), sizes=(5,), anions=options("S0.9Se0.1", "none"),
                     ions=("Na",), grid_step=0.1)
    summary, rows = collect(space, top=5)
    assert rows and any(not r["formula"].startswith("(") for r in rows)
    for row in summary.top + rows[::7]:
        assert_reopens(row)


def test_grid_rows_meet_the_hem_definition():
    """Section 1: five cations, each 5-35 at% on the --grid, meet the HEM definition: every grid row says so."""
    space = sc.Space(pool=("Fe", "Co", "Ni", "Cu", "Zn"), sizes=(5,), anions=options("O"), ions=("Li",), grid_step=0.05)
    _, rows = collect(space, top=1)
    assert len(rows) == space.count()
    assert [r["formula"] for r in rows if not r["meets_hem_definition"]] == []


# ------------------------------------------------------------------ 6. the CLI


def screen_json(runner, *args: str) -> dict[str, Any]:
    result = run(runner, "screen", *args, "--json")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    return json.loads(result.stdout)


def table_rows(text: str) -> list[list[str]]:
    block = text.split("\nformula ", 1)[1].split("\n\n", 1)[0]
    return [line.split() for line in block.splitlines()[1:] if not set(line) <= {"─", " "}]  # not the rule


def test_cli_screen_prints_the_table(runner, monkeypatch):
    """`hem screen -k 3 --include Ga --exclude ...` prints the counts, the table header and the top 20 rows
    (on a terminal 120 columns wide, where the two evidence columns fit)."""
    monkeypatch.setattr("hemkg.system.text.width", lambda: 120)
    result = run(runner, "screen", "-k", "3", "--include", "Ga", "--exclude", EXCLUDE, "--ions", "Li",
                 "--workers", "1")
    assert result.exit_code == 0 and result.stderr == ""
    n = math.comb(9, 3) * 6
    assert result.stdout.startswith(f"screened {n:,} candidates; {n:,} kept\n")
    assert re.search(r"^formula +ion +conv +alloy +s\.c\. +mAh/g +cap\+ +stab\+ +fast\+ +S/R +conv evid\. +s\.c\. evid\.$",
                     result.stdout, re.M)
    rows = table_rows(result.stdout)
    assert len(rows) == 20
    assert all(r[10] in SCALE and r[11] in SCALE for r in rows)
    capacities = [float(r[5]) for r in rows]
    assert capacities == sorted(capacities, reverse=True)
    assert all(r[1] == "Li" and set(cations_in(r[0])) <= set(SMALL.pool) and len(cations_in(r[0])) == 3 for r in rows)
    assert "`hem consult FORMULA --ion X` reopens any row" in " ".join(result.stdout.split())  # wrapped to fit
    top = screen_json(runner, "-k", "3", "--include", "Ga", "--exclude", EXCLUDE, "--ions", "Li", "--workers", "1")["top"]
    assert [r[0] for r in rows] == [r["formula"] for r in top]
    assert [(r[10], r[11]) for r in rows] == [(r["evidence_conversion"], r["evidence_space_charge"]) for r in top]


def test_cli_screen_json_with_required_elements(runner):
    """`--ions Li --anions O,none -k 5 --require Fe,Si --json`: counts, the ranking and Fe and Si in every top row."""
    data = screen_json(runner, "--ions", "Li", "--anions", "O,none", "-k", "5", "--require", "Fe,Si", "--top", "30",
                       "--workers", "1")
    total = math.comb(24, 3) * 2
    assert {k: data[k] for k in ("screened", "of", "kept", "interrupted", "ranked_by", "front")} == {
        "screened": total, "of": total, "kept": total, "interrupted": False, "ranked_by": "capacity", "front": []}
    assert len(data["top"]) == 30
    assert all(set(row) == set(sc.COLUMNS) for row in data["top"])
    capacities = [row["capacity_total"] for row in data["top"]]
    assert capacities == sorted(capacities, reverse=True)
    for row in data["top"]:
        elements = parse_formula(row["formula"]).composition
        assert {"Fe", "Si"} <= set(elements) and len(cations_in(row["formula"])) == 5 and row["ion"] == "Li"


def test_cli_screen_pareto(runner, ranked_rows):
    """`--pareto capacity,cycling_stability,fast_charging`: the front (as the brute force finds it) in JSON and text."""
    args = ["-k", "4-5", "--exclude", ",".join(s for s in CATIONS_26 if s not in RANKED.pool), "--include", "Ga",
            "--anions", "O,S0.9Se0.1,Cl,none", "--ions", "Li,K", "--pareto", ",".join(PARETO), "--workers", "1"]
    data = screen_json(runner, *args)
    assert data["ranked_by"] == list(PARETO) and data["kept"] == len(ranked_rows)
    counts = Counter(objective_vector(row, PARETO) for row in ranked_rows)
    front = {tuple(p[o] for o in PARETO): p["count"] for p in data["front"]}
    assert front == {p: counts[p] for p in non_dominated(set(counts))}
    text = run(runner, "screen", *args)
    assert text.exit_code == 0
    assert f"Pareto front on capacity, cycling_stability, fast_charging: {len(front)} points" in text.stdout
    assert len(re.findall(r"^  capacity [\d.]+, cycling_stability \d+, fast_charging \d+  \(\d+ candidates?\)$",
                          text.stdout, re.M)) == len(front)


def test_cli_default_workers_give_the_same_json(runner):
    """Without --workers the CLI screens on a process pool and prints what one worker prints."""
    assert screen_json(runner, *SMALL_ARGS) == screen_json(runner, *SMALL_ARGS, "--workers", "1")


def read_rows(path: Path) -> list[dict[str, Any]]:
    if path.suffix == ".csv":
        with path.open(newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            assert tuple(reader.fieldnames) == sc.COLUMNS
            return list(reader)
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    assert tuple(table.column_names) == sc.COLUMNS
    return table.to_pylist()


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_cli_writes_every_kept_row(runner, tmp_path, small_rows, suffix):
    """-o writes every kept row (CSV, JSON Lines, Parquet), read back with csv, json and pyarrow."""
    path = tmp_path / f"rows{suffix}"
    data = screen_json(runner, *SMALL_ARGS, "--mechanism", "conversion", "-o", str(path), "--workers", "1")
    expected = [row for row in small_rows if row["conversion"] == "accessible"]
    assert data["kept"] == len(expected) < data["screened"] == len(small_rows)
    rows = read_rows(path)
    assert len(rows) == data["kept"]
    if suffix == ".csv":
        assert rows == [{k: str(v) for k, v in row.items()} for row in expected]
    else:
        assert rows == expected
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no temporary file left


def test_cli_writes_an_empty_parquet_file(runner, tmp_path):
    """-o .parquet with nothing kept still writes a valid file with the columns."""
    path = tmp_path / "none.parquet"
    data = screen_json(runner, *SMALL_ARGS, "--hem-only", "-o", str(path), "--workers", "1")
    assert data["kept"] == 0 and read_rows(path) == []


CLI_ERRORS = [
    (["--include", "Xx"], "'Xx' is not an element symbol"),
    (["--require", "Qq"], "'Qq' is not an element symbol"),
    (["--require", "Ti"], "--require Ti: not in the element pool"),
    (["-k", "x"], "-k 'x' is not a number or a range"),
    (["-k", "0"], "-k must be between 1 and the pool size (9)"),
    (["-k", "10"], "-k must be between 1 and the pool size (9)"),
    (["-k", "5-3"], "-k must be between 1 and the pool size (9)"),
    (["--anions", "O,S0.9Zz"], "--anions 'S0.9Zz'"),
    (["--ions", "Li,Rb"], "--ions must be among Li, Na, K"),
    (["--ions", "li"], "--ions must be among Li, Na, K"),
    (["--pareto", "capacity,price"], "--pareto 'price' cannot be ranked"),
    (["--grid", "0.5"], "--grid must be a fraction step"),
    (["-o", "rows.txt"], "the name must end in .csv, .jsonl or .parquet"),
    (["--evidence", "conversion=strong"], "--evidence 'conversion=strong': no evidence level 'strong'"),
    (["--evidence", "charge=reported_here"], "--evidence 'charge=reported_here': no mechanism 'charge'"),
    (["--evidence", "space_charge"], "--evidence 'space_charge': not MECHANISM=LEVEL"),
    (["-o", "missing/rows.csv"], "no folder"),
]


@pytest.mark.parametrize("args, says", CLI_ERRORS, ids=[" ".join(args) for args, _ in CLI_ERRORS])
def test_cli_errors_are_one_line(runner, tmp_path, monkeypatch, args, says):
    """Bad options exit 2 with one `error:` line naming the problem, and no traceback."""
    monkeypatch.chdir(tmp_path)
    result = run(runner, "screen", *SMALL_ARGS, *args, "--workers", "1")
    assert says in assert_one_line_error(result)
    assert list(tmp_path.iterdir()) == []


def test_cli_bad_evidence_filter_names_the_mechanisms_and_the_scale(runner):
    """Issue 11: a bad --evidence says what to give, naming the four mechanisms (Section 2) and the evidence scale,
    strongest first; it exits 2 before any screening."""
    result = run(runner, "screen", *SMALL_ARGS, "--evidence", "space_charge=shown", "--workers", "1")
    assert "no evidence level 'shown'" in assert_one_line_error(result)
    hint = result.stderr.splitlines()[1]
    assert all(json_key(m) in hint for m in MECHANISMS)
    assert hint.endswith(", ".join(SCALE))


def test_cli_evidence_filter_keeps_the_rows_at_least_that_strong(runner, small_rows):
    """`--evidence conversion=reported_related` keeps the rows whose conversion evidence is that level or
    stronger on the scale (issue 11), and `==` exactly that level; repeated, both hold (Zn conversion is
    conflicting: seen in refs 46 and 48, not in ref 41; space charge is shown in non-HEM sulfides, refs 59, 70)."""
    at_least = screen_json(runner, *SMALL_ARGS, "--evidence", "conversion=reported_related", "--top", "10000",
                           "--workers", "1")
    expected = [r for r in small_rows if SCALE.index(r["evidence_conversion"]) <= SCALE.index("reported_related")]
    assert 0 < at_least["kept"] == len(expected) < len(small_rows)
    exactly = screen_json(runner, *SMALL_ARGS, "--evidence", "conversion==conflicting",
                          "--evidence", "space-charge=reported_related", "--top", "10000", "--workers", "1")
    expected = [r for r in small_rows if r["evidence_conversion"] == "conflicting"
                and SCALE.index(r["evidence_space_charge"]) <= SCALE.index("reported_related")]
    assert 0 < exactly["kept"] == len(expected) < at_least["kept"]
    assert sorted(r["formula"] + r["ion"] for r in exactly["top"]) == sorted(r["formula"] + r["ion"] for r in expected)


@pytest.mark.parametrize("args", [["--ions", ""], ["--anions", ","]], ids=["ions", "anions"])
def test_cli_empty_ions_or_anions_is_an_error(runner, args):
    """An empty --ions or --anions list is an error, not an empty screen."""
    assert_one_line_error(run(runner, "screen", *SMALL_ARGS, *args, "--workers", "1"))


def failing_after(monkeypatch, calls: int, error: BaseException) -> None:
    """Make the in-process evaluation raise `error` on batch `calls`, screening in batches of BATCH."""
    real_evaluate, real_screen, seen = sc.evaluate, sc.screen, []

    def evaluate(batch: sc.Batch, with_formulas: bool = False) -> dict[str, np.ndarray]:
        seen.append(batch)
        if len(seen) == calls:
            raise error
        return real_evaluate(batch, with_formulas)

    monkeypatch.setattr(sc, "evaluate", evaluate)
    monkeypatch.setattr(sc, "screen", functools.partial(real_screen, batch_size=BATCH))


def test_cli_failing_run_leaves_existing_output_untouched(runner, tmp_path, monkeypatch):
    """A run that fails (on bad options, or midway) leaves an existing -o file as it was, and no temporary file."""
    target = tmp_path / "rows.csv"
    target.write_text("earlier results\n", encoding="utf-8")
    bad = run(runner, "screen", *SMALL_ARGS, "--pareto", "capacity,price", "-o", str(target), "--workers", "1")
    assert_one_line_error(bad)
    failing_after(monkeypatch, 3, RuntimeError("worker lost"))
    result = run(runner, "screen", *SMALL_ARGS, "-o", str(target), "--workers", "1")
    assert "RuntimeError: worker lost" in assert_one_line_error(result)
    assert target.read_text(encoding="utf-8") == "earlier results\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rows.csv"]


def test_cli_reopen_with_consult_and_explain(runner):
    """`hem consult` and `hem explain` on screened formulas give the rows' statuses (issue 5)."""
    data = screen_json(runner, *SMALL_ARGS, "--rank-by", "fast_charging", "--top", "3", "--workers", "1")
    for row in data["top"]:
        args = [row["formula"], "--ion", row["ion"], "--json"]
        consulted = json.loads(run(runner, "consult", *args).stdout)
        explained = json.loads(run(runner, "explain", *args).stdout)
        statuses = {json_key(m): row[json_key(m)] for m in MECHANISMS}
        assert {k: v["status"] for k, v in consulted["mechanisms"].items()} == statuses
        facts = {c["fact"] for c in explained["conclusions"]}
        assert {f"status({m}, {row[json_key(m)].replace('_', '-')})" for m in MECHANISMS} <= facts  # rule words


# ------------------------------------------------------------------ 7. Ctrl-C keeps what was written


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_ctrl_c_keeps_the_rows_already_written(tmp_path, small_rows, suffix):
    """A KeyboardInterrupt after the first batch: the summary says interrupted, the sink's rows are kept."""
    writer = sc.Writer(tmp_path / f"part{suffix}")
    sizes: list[int] = []

    def progress(n: int) -> None:
        sizes.append(n)
        raise KeyboardInterrupt

    summary = sc.screen(SMALL, sink=writer, progress=progress, top=5, batch_size=BATCH)
    writer.close()
    assert summary.interrupted and sizes == [BATCH]
    assert summary.screened == summary.kept == writer.rows == BATCH
    rows = read_rows(tmp_path / f"part{suffix}")
    first = small_rows[:BATCH]
    assert rows == ([{k: str(v) for k, v in row.items()} for row in first] if suffix == ".csv" else first)
    assert summary.top and all(row in first for row in summary.top)


def test_ctrl_c_with_an_executor(small_rows):
    """Interrupted on a thread pool, the sink has exactly the batches merged before Ctrl-C."""
    merged: list[dict[str, Any]] = []

    def sink(kept: dict[str, np.ndarray], batch: sc.Batch) -> None:
        merged.extend(sc.rows_of(kept, batch.ion, batch.universe))

    def progress(n: int) -> None:
        if len(merged) >= 2 * BATCH:
            raise KeyboardInterrupt

    with ThreadPoolExecutor(max_workers=2) as executor:
        summary = sc.screen(SMALL, executor=executor, sink=sink, progress=progress, batch_size=BATCH)
    assert summary.interrupted and summary.screened == summary.kept == 2 * BATCH
    assert merged == small_rows[: 2 * BATCH]


def test_cli_ctrl_c_exits_130_and_keeps_the_rows_under_their_own_name(runner, tmp_path, monkeypatch, small_rows):
    """`hem screen -o part.jsonl` stopped by Ctrl-C: exit 130, 'stopped after', the rows screened so far in
    part.partial.jsonl, and an earlier complete part.jsonl left as it was (issue 10)."""
    path = tmp_path / "part.jsonl"
    path.write_text("earlier complete results\n", encoding="utf-8")
    failing_after(monkeypatch, 3, KeyboardInterrupt())
    result = run(runner, "screen", *SMALL_ARGS, "-o", str(path), "--workers", "1")
    assert result.exit_code == 130, result.output
    n = 2 * BATCH
    partial = tmp_path / "part.partial.jsonl"
    assert result.stdout.startswith(f"stopped after {n} of {SMALL.count()} candidates; {n} kept; "
                                    f"the rows kept so far written to {partial} ({path} is as it was)\n")
    assert read_rows(partial) == small_rows[:n]
    assert path.read_text(encoding="utf-8") == "earlier complete results\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["part.jsonl", "part.partial.jsonl"]


# ------------------------------------------------------------------ 3 (cont.). a Dask cluster (last: it starts processes)


def _importable(name: str) -> bool:
    try:
        importlib.import_module(name)
    except ImportError:
        return False
    return True


@pytest.mark.skipif(not _importable("dask.distributed"),
                    reason="dask.distributed is not installed: pip install 'hemkg[dask]' (it is in the test extra)")
def test_dask_local_cluster_gives_the_same_answer(in_process):
    """client.get_executor() of a Dask LocalCluster (2 worker processes): identical top rows, counts and front."""
    from dask.distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        executor = client.get_executor()
        assert isinstance(executor, Executor)
        assert both_runs(executor) == in_process



ANION_SYMBOLS = {"O", "S", "Se", "Te", "P", "F", "Cl", "Br", "I", "N", "H", "B", "C"}


def formula_by_hand(row: list[float], universe: tuple[str, ...]) -> str:
    """One row the plain way: equal cation amounts summing to 1 in brackets, '(FeCoNi)O', else
    each cation with its amount; then the anions, an amount only where it is not 1."""
    cats = [(s, v) for s, v in zip(universe, row, strict=True) if v and s not in ANION_SYMBOLS]
    ans = [(s, v) for s, v in zip(universe, row, strict=True) if v and s in ANION_SYMBOLS]
    equal = len(cats) > 1 and max(v for _, v in cats) - min(v for _, v in cats) < 1e-9 \
        and abs(sum(v for _, v in cats) - 1) < 1e-9
    head = "(" + "".join(s for s, _ in cats) + ")" if equal else "".join(f"{s}{v:.4g}" for s, v in cats)
    return head + "".join(s if v == 1 else f"{s}{v:g}" for s, v in ans)


@settings(max_examples=200, derandomize=True, deadline=None, database=None)
@given(st.lists(st.lists(st.sampled_from([0.0, 0.0, 0.2, 0.25, 0.5, 1.0, 1 / 3, 2.0, 0.05]), min_size=6, max_size=6),
                max_size=25), st.integers(1, 3))
def test_batch_formulas_are_each_rows_formula(rows, repeat):
    """sc.formulas formats each distinct row once; every row must still read as it would alone, and read back as
    its composition (issue 12: a balanced 7/6 O is written in whole formula units, '(FeCoNi)6O7')."""
    universe = ("Fe", "O", "Co", "S", "Ni", "F")
    amounts = np.repeat(np.array(rows, dtype=float).reshape(len(rows), 6), repeat, axis=0)
    texts = sc.formulas(amounts, universe)
    assert texts == [sc.formula_of(r, universe) for r in amounts]
    for text, row in zip(texts, amounts.tolist(), strict=True):
        if 1 / 3 not in row:  # short decimals: written as they are
            assert text == formula_by_hand(row, universe)
        if any(row):
            read = parse_formula(text).composition
            given_ = {s: v for s, v in zip(universe, row, strict=True) if v}
            assert {s: a / sum(read.values()) for s, a in read.items()} == pytest.approx(
                {s: a / sum(given_.values()) for s, a in given_.items()}, rel=1e-9), text


def test_batch_formulas_of_the_equimolar_space_read_as_hem_papers_write_them():
    """(MgCoNiCuZn)O-style names (Section 2.3) for the first batch of the default space, and every row of it."""
    batch = next(sc.Space().batches())
    names = sc.formulas(batch.amounts, batch.universe)
    assert names[0] == "(LiMgAlSiCa)P"
    assert names == [formula_by_hand(r, batch.universe) for r in batch.amounts.tolist()]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_no_pool_worker_outlives_hem_screen(sig):
    """The real command killed mid-run (a 30 s job): its pool workers go with it, none is left running."""
    with hem("screen", "--workers", "2", "-k", "4-6", "--top", "1", "--no-progress") as process:
        workers = wait_for_children(process.pid, 2)
        kill_and_check(process, workers, sig)


# ------------------------------------------------------------------ charge balance (issue 12)

BALANCE_POOL = ("Li", "Mg", "Al", "Si", "Ca", "Fe", "Co", "Ni", "Cu", "Zn", "Ge", "Sn", "Sb")


def test_top_rows_by_capacity_are_charge_balanced_compounds():
    """Issue 12: the screen's best rows were (LiMgAlSiGe)O-like non-compounds. Now each row's formula, reopened, is
    charge-balanced with the oxidation states the row reports (Section 3.1's cations, each at one common state)."""
    space = sc.Space(pool=BALANCE_POOL, sizes=(5,), ions=("Li", "Na"))
    summary = sc.screen(space, top=100)
    assert summary.unbalanced == 0 and len(summary.top) == 100
    for row in summary.top:
        balance = summarise(consult(row["formula"], row["ion"]))["oxidation_states"]
        assert row["charge_balanced"] and balance["charge_balanced"], row["formula"]
        if balance["reading"] == "ionic":
            states = " ".join(f"{s}{signed(v[0][0])}" for s, v in balance["assignment"].items() if s not in ANIONS)
            assert states == row["oxidation_states"], row["formula"]
        assert row["capacity_total"] is not None


def test_li_and_mg_add_no_conversion_capacity_in_the_screen():
    """Section 3.1 (ref 48): Mg (and Li) are off Plane A; a screened (MgCoNiCuZn)O converts with Co, Ni, Cu, Zn only,
    as hem consult counts it: 611.1 mAh/g of conversion and 76.4 of LiZn alloying."""
    space = sc.Space(pool=("Mg", "Co", "Ni", "Cu", "Zn"), sizes=(5,), anions=options("O"), ions=("Li",))
    _, (row,) = collect(space)
    assert row["formula"] == "(MgCoNiCuZn)O" and row["oxidation_states"] == "Mg2+ Co2+ Ni2+ Cu2+ Zn2+"
    cap = summarise(consult("(MgCoNiCuZn)O", "Li"))["theoretical_capacity"]
    assert (row["capacity_conversion"], row["capacity_alloying"]) == (cap["conversion"], cap["alloying"])


def test_unbalanced_candidates_are_dropped_and_counted():
    """A cation with no known positive state (Ne) gives no balanced reading: dropped and counted by default; kept,
    marked and ranked last with allow_unbalanced, its conversion capacity not computed (None)."""
    space = sc.Space(pool=("Fe", "Co", "Ni", "Ne"), sizes=(3,), anions=options("O", "S", "none"), ions=("Li",))
    summary, rows = collect(space)
    with_ne = math.comb(3, 2) * 2  # sets with Ne, with each anion (an alloy is metallic: balanced)
    assert summary.unbalanced == with_ne and summary.kept == space.count() - with_ne == len(rows)
    assert all(r["charge_balanced"] for r in rows)
    kept, everything = collect(space, filters=sc.Filters(allow_unbalanced=True))
    assert kept.kept == space.count() and kept.unbalanced == with_ne
    unbalanced = [r for r in everything if not r["charge_balanced"]]
    assert len(unbalanced) == with_ne and all(r["capacity_total"] is None for r in unbalanced)  # null in JSON
    ranked = sc.screen(space, sc.Filters(allow_unbalanced=True), top=space.count()).top
    assert all(not r["charge_balanced"] for r in ranked[-with_ne:])


def test_cli_reports_and_keeps_unbalanced_candidates(runner):
    """`hem screen` says how many candidates were not charge-balanced; --allow-unbalanced keeps them."""
    args = ["-k", "3", "--include", "Ne", "--exclude", ",".join(s for s in CATIONS_26 if s not in ("Fe", "Co", "Ni")),
            "--anions", "O,none", "--ions", "Li", "--workers", "1", "--no-progress"]
    text = run(runner, "screen", *args)
    assert text.exit_code == 0 and "screened 8 candidates (3 not charge-balanced); 5 kept" in text.stdout
    data = json.loads(run(runner, "screen", *args, "--allow-unbalanced", "--json").stdout)
    assert (data["kept"], data["unbalanced"]) == (8, 3)


def test_a_sink_that_formats_its_own_rows_gets_the_same_rows_without_the_workers_formatting():
    """sink.needs_formulas False (hem plot pareto's sink reads a few rows per batch): the batches reach it without
    the formula column the workers would format for every row, and rows_of gives the same rows, formulas and
    all, as with it (Table 1's compositions, bracketed as the paper writes them)."""
    seen: list[bool] = []
    kept_rows: list[dict[str, Any]] = []

    def sink(kept: dict[str, np.ndarray], batch: sc.Batch) -> None:
        seen.append("formula" in kept)
        kept_rows.extend(sc.rows_of(kept, batch.ion, batch.universe))

    sink.needs_formulas = False  # type: ignore[attr-defined]
    sc.screen(SMALL, sink=sink, batch_size=BATCH)
    _, formatted_rows = collect(SMALL, batch_size=BATCH)
    assert seen and not any(seen)
    assert kept_rows == formatted_rows
