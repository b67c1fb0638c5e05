"""The consultation rules compiled for whole batches of candidates (numpy).

The compiled path is derived from the rule files by running the same engine,
never from a second copy of the rules:

1. Switches are the ground premises of the rules (`has_plane(A)`,
   `has_listed_anion()`, `anion(Se)`, `cation(Si)` ...) whose predicates do not
   depend on a mechanism's status. Running the engine on each element alone
   gives that element's switch mask; a candidate's switch vector is the OR of
   its elements' masks, a bit mask per candidate.
2. For each switch vector met (and carrier ion), the engine runs once on a
   representative candidate: every pool element whose mask fits the vector.
   Its statuses are the vector's; each element's roles and effects there are
   that element's under the vector. The results are memoised.
3. A batch is then table look-ups and array arithmetic: the charge-balanced
   anion amounts (each cation at the state consultation/oxidation.py's
   screen_state gives it, the anion option's ratio scaled to balance them),
   statuses, role masks, counts of contributors, the theoretical capacity by
   mechanism (as consultation/estimates.py counts it) and the entropy.

This rests on one property of the rules: a status depends only on which
switches hold, and an element's role and effects only on the element and the
switches. tests/test_screen.py checks it against the full engine on thousands
of random candidates.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass, field

import numpy as np

from hemkg import engine
from hemkg.consultation.consultation import effect_properties
from hemkg.consultation.estimates import FARADAY_MAH_PER_MOL, FRACTION_TOLERANCE
from hemkg.consultation.facts import shared_knowledge
from hemkg.consultation.oxidation import anion_need, screen_state
from hemkg.consultation.rules import paper_rules
from hemkg.engine import Fact, Source
from hemkg.graph.materials import alloy_phases, element_data
from hemkg.graph.vocab import vocab

MECHANISMS = vocab().mechanism_names  # the order of the status columns
STATUS_CODES = {s.name: i for i, s in enumerate(vocab().statuses)}
STATUS_NAMES = {v: k for k, v in STATUS_CODES.items()}
ROLES = MECHANISMS + tuple(r.name for r in vocab().roles)  # role(X, M) names a mechanism, or an element role
ROLE_BITS = {r: 1 << i for i, r in enumerate(ROLES)}
EFFECT_PROPERTIES = tuple(p.name for p in effect_properties())
SCREEN_INPUTS = {"element", "amount", "ion"}  # what a screened candidate gives; no structure


def _depends_on_status(rules: tuple[engine.Rule, ...]) -> set[str]:
    """Predicates whose derivation involves a mechanism's status (directly or through other rules)."""
    tainted = {"status"}
    changed = True
    while changed:
        changed = False
        for r in rules:
            if any(a.predicate in tainted for a in r.when):
                for h in r.then:
                    if h.predicate not in tainted:
                        tainted.add(h.predicate)
                        changed = True
    return tainted


@functools.cache
def switches() -> tuple[Fact, ...]:
    """The ground premises that decide statuses: element-existential, status-free, screen-relevant."""
    rules = paper_rules()
    derived = {a.predicate for r in rules for a in r.then}
    tainted = _depends_on_status(rules)
    found = set()
    for r in rules:
        for a in r.when:
            if (not a.variables and a.predicate in derived and a.predicate not in tainted
                    and a.predicate not in engine.BUILTINS and "_" not in a.args):
                found.add((a.predicate, a.args))
    return tuple(sorted(found, key=engine.fact_text))


def _base(composition: dict[str, float], ion: str) -> dict[Fact, Source]:
    base: dict[Fact, Source] = {}
    for symbol, amount in composition.items():
        base[("element", (symbol,))] = Source("input", "formula")
        base[("amount", (symbol, float(amount)))] = Source("input", "formula")
    base[("ion", (ion,))] = Source("input", "ion")
    return base


@functools.cache
def _compiled_rules() -> tuple[engine.Rule, ...]:
    """Only the rules that statuses, roles and effects rest on (context, notes and the rest are skipped)."""
    return engine.rules_for({"status", "role", "effect", "mechanism_element"}, paper_rules())


@functools.cache
def element_mask(symbol: str) -> int:
    """The switches an element turns on by itself."""
    result = engine.run(_base({symbol: 1.0}, "Li"), _compiled_rules(), shared=shared_knowledge())
    return sum(1 << i for i, s in enumerate(switches()) if s in result.facts)


@dataclass
class Compiled:
    """Memoised per-vector tables for one carrier ion over one element universe."""

    ion: str
    universe: tuple[str, ...]
    masks: np.ndarray = field(init=False)
    _status: dict[int, tuple[int, ...]] = field(default_factory=dict)  # a code per mechanism, in MECHANISMS order
    _roles: dict[int, np.ndarray] = field(default_factory=dict)  # vector -> role bits per universe element
    _effects: dict[int, np.ndarray] = field(default_factory=dict)  # vector -> (+ effect flags per property) per element
    _members: dict[int, np.ndarray] = field(default_factory=dict)  # vector -> mechanism_element bits per element
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.ion not in vocab().ion_symbols:
            raise ValueError(f"unknown carrier ion '{self.ion}'")
        if len(switches()) > 63:
            raise ValueError("too many switches for a 64-bit mask")
        self.masks = np.array([element_mask(s) for s in self.universe], dtype=np.uint64)

    def _compile(self, vector: int) -> None:
        members = [s for s, m in zip(self.universe, self.masks, strict=False) if int(m) & ~vector == 0]
        result = engine.run(_base({s: 1.0 for s in members}, self.ion), _compiled_rules(), shared=shared_knowledge())
        statuses = []
        for m in MECHANISMS:
            found = [args[1] for args in result.words("status", m)]
            statuses.append(STATUS_CODES[found[0]])
        roles = np.zeros(len(self.universe), dtype=np.uint8)
        effects = np.zeros((len(self.universe), len(EFFECT_PROPERTIES)), dtype=np.int8)
        index = {s: i for i, s in enumerate(self.universe)}
        for symbol, role in result.words("role"):
            if symbol in index:
                roles[index[symbol]] |= ROLE_BITS[role]
        mechanism_bits = np.zeros(len(self.universe), dtype=np.uint8)
        for mechanism, symbol in result.words("mechanism_element"):
            if symbol in index:
                mechanism_bits[index[symbol]] |= 1 << MECHANISMS.index(mechanism)
        for prop, direction, symbol in result.words("effect"):
            if symbol in index and prop in EFFECT_PROPERTIES:
                effects[index[symbol], EFFECT_PROPERTIES.index(prop)] |= 1 if direction == "+" else 2
        self._status[vector] = tuple(statuses)
        self._roles[vector] = roles
        self._effects[vector] = effects
        self._members[vector] = mechanism_bits

    def tables(self, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """For each vector: statuses (n x 4), role bits (n x U), effect flags (n x U x P), mechanism_element bits
        (n x U); plus unique index."""
        unique, inverse = np.unique(vectors, return_inverse=True)
        with self._lock:
            for v in unique.tolist():
                if v not in self._status:
                    self._compile(int(v))
        statuses = np.array([self._status[int(v)] for v in unique], dtype=np.int8)[inverse]
        roles = np.stack([self._roles[int(v)] for v in unique])[inverse]
        effects = np.stack([self._effects[int(v)] for v in unique])[inverse]
        members = np.stack([self._members[int(v)] for v in unique])[inverse]
        return statuses, roles, effects, members, inverse

    def evaluate(self, amounts: np.ndarray, balance: bool = False) -> dict[str, np.ndarray]:
        """Evaluate a batch: `amounts` is (n candidates x universe) formula amounts, 0 where absent.

        With `balance`, the anion amounts are a ratio to scale so that the cations' charge is balanced (the
        screen's candidates); the balanced amounts come back as out["amounts"]. Without, they are as given.
        """
        present = amounts > 0
        vectors = np.bitwise_or.reduce(np.where(present, self.masks[None, :], np.uint64(0)), axis=1)
        statuses, roles, effects, members, _ = self.tables(vectors)
        charge = self._charge_balance(amounts, balance)
        roles = np.where(present, roles, 0)
        effects = np.where(present[:, :, None], effects, 0)
        out: dict[str, np.ndarray] = {"vector": vectors}
        for i, m in enumerate(MECHANISMS):
            out[f"status_{m}"] = statuses[:, i]
        out["roles"] = roles
        for j, prop in enumerate(EFFECT_PROPERTIES):
            out[f"plus_{prop}"] = ((effects[:, :, j] & 1) > 0).sum(axis=1).astype(np.int16)
            out[f"minus_{prop}"] = ((effects[:, :, j] & 2) > 0).sum(axis=1).astype(np.int16)
        out.update(charge)
        out.update(self._capacity(charge["amounts"], statuses, members, charge))
        out.update(self._entropy(charge["amounts"], roles))
        return out

    @functools.cached_property
    def _element_arrays(self) -> dict[str, np.ndarray]:
        data = element_data()
        phases = alloy_phases()
        formers = vocab().anion_formers
        states = [screen_state(s) if s not in formers else None for s in self.universe]
        return {
            "mass": np.array([data[s]["mass"] for s in self.universe]),
            "phase_ions": np.array([phases.get((s, self.ion), {}).get("ions_per_atom", 0.0) for s in self.universe]),
            "anion": np.array([s in formers for s in self.universe], dtype=bool),
            "state": np.array([x[0] if x else 0 for x in states], dtype=float),
            "stateless": np.array([x is None and s not in formers for s, x in zip(self.universe, states, strict=True)]),
            "less_common": np.array([bool(x and x[1]) for x in states]),
            "tier": np.array([x[2] if x else 1 for x in states], dtype=float),
            "cation_columns": np.array([i for i, s in enumerate(self.universe) if s not in formers], dtype=np.intp),
            "anion_columns": np.array([i for i, s in enumerate(self.universe) if s in formers], dtype=np.intp),
        }

    def _charge_balance(self, amounts: np.ndarray, balance: bool) -> dict[str, np.ndarray]:
        """Each cation at its screen state; the anions scaled (with `balance`) to the charge those give.

        charge_balanced: every cation has a positive state (an alloy, no anion, is metallic and balanced); with
        anions as given (no `balance`), also that the charges meet. other_assignments: how many other choices of
        the cations' states of the same tier there are (each would give another anion amount). A row of anion
        formers alone (P2S5) is not read here: charge_balanced False."""
        arrays = self._element_arrays
        cat, an = arrays["cation_columns"], arrays["anion_columns"]
        cations, anions = amounts[:, cat], amounts[:, an]
        present = cations > 0
        has_anion = (anions > 0).any(axis=1)
        has_cation = present.any(axis=1)
        give = _weighted(cations, arrays["state"][cat])
        need = self._need(anions)  # the charge the anions as given need
        ok = has_cation.copy()
        if arrays["stateless"].any():  # an element with no known positive state (a noble gas, say)
            ok &= ~(present & arrays["stateless"][cat]).any(axis=1)
        if balance:
            with np.errstate(divide="ignore", invalid="ignore"):
                scale = np.where(has_anion & ok & (need > 0), give / need, 1.0)
            amounts = amounts.copy()
            amounts[:, an] = anions * scale[:, None]
            balanced = ~has_anion | ok
        else:
            balanced = ~has_anion | (ok & np.isclose(give, need, rtol=1e-9, atol=1e-12))
        ways = np.exp(_weighted(present.astype(float), np.log(arrays["tier"][cat])))
        other = np.where(has_anion, np.rint(ways) - 1, 0).astype(np.int64)
        less = np.zeros(len(amounts), dtype=bool)
        if arrays["less_common"].any():
            less = has_anion & (present & arrays["less_common"][cat]).any(axis=1)
        return {"amounts": amounts, "charge_balanced": np.asarray(balanced), "other_assignments": other,
                "less_common_states": np.asarray(less), "metallic": np.asarray(~has_anion)}

    def _need(self, anions: np.ndarray) -> np.ndarray:
        """The positive charge each row's anions need, read as charge balance reads them (once per distinct row)."""
        columns = self._element_arrays["anion_columns"]
        block = anions
        # rows told apart by one float key each (a 1-d unique is far faster than np.unique(axis=0)), checked exact
        keys = _weighted(block, _KEY_WEIGHTS[: len(columns)])
        _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        if not np.array_equal(block[first][inverse], block):  # two distinct rows with one key: never in practice
            _, first, inverse = np.unique(block, axis=0, return_index=True, return_inverse=True)
        symbols = [self.universe[j] for j in columns]
        needs = np.array([anion_need({s: a for s, a in zip(symbols, row, strict=True) if a > 0}) if any(row) else 0.0
                          for row in block[first].tolist()])
        return needs[inverse.ravel()]

    def _capacity(self, amounts: np.ndarray, statuses: np.ndarray, members: np.ndarray,
                  charge: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Theoretical capacity by mechanism, in mAh/g, as consultation/estimates.py counts it: conversion, each
        conversion element's state times its amount (NaN where not charge-balanced); alloying, each alloying
        element's ions per atom in its most alloyed known phase times its amount."""
        arrays = self._element_arrays
        # row sums by einsum, not `@`: a matrix product calls BLAS, whose threads (one per core
        # in every worker process) fight over the cores and made two workers slower than one
        mass = _weighted(amounts, arrays["mass"])
        conversion_active = statuses[:, MECHANISMS.index("conversion")] == STATUS_CODES["accessible"]
        alloying_active = statuses[:, MECHANISMS.index("alloying")] == STATUS_CODES["accessible"]
        converting = (members & (1 << MECHANISMS.index("conversion"))) > 0
        alloying_member = (members & (1 << MECHANISMS.index("alloying"))) > 0
        e_conv = np.where(conversion_active, _weighted(amounts * converting, arrays["state"]), 0.0)
        e_conv = np.where(conversion_active & ~charge["charge_balanced"], np.nan, e_conv)
        e_alloy = np.where(alloying_active, _weighted(amounts * alloying_member, arrays["phase_ions"]), 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            per_electron = np.where(mass > 0, FARADAY_MAH_PER_MOL / mass, 0.0)
        conversion, alloying = e_conv * per_electron, e_alloy * per_electron
        return {"capacity_conversion": conversion, "capacity_alloying": alloying,
                "capacity_total": conversion + alloying}

    def _entropy(self, amounts: np.ndarray, roles: np.ndarray) -> dict[str, np.ndarray]:
        anion = (roles & ROLE_BITS["anion"]) > 0
        cations = np.where(anion, 0.0, amounts)
        anions = np.where(anion, amounts, 0.0)

        def mixing(site: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            total = site.sum(axis=1, keepdims=True)
            with np.errstate(divide="ignore", invalid="ignore"):
                x = np.where(total > 0, site / total, 0.0)
                s = -np.where(x > 0, x * np.log(np.where(x > 0, x, 1.0)), 0.0).sum(axis=1)
            return s, x

        s_cat, x = mixing(cations)
        s_an, _ = mixing(anions)
        hem = vocab().hem
        low, high = hem.fraction_range
        n = (x > 0).sum(axis=1)
        inside = ((x == 0) | ((x >= low - FRACTION_TOLERANCE) & (x <= high + FRACTION_TOLERANCE))).all(axis=1)
        return {"entropy_cation_R": np.round(s_cat, 3), "entropy_anion_R": np.round(s_an, 3) + 0.0,
                "meets_hem_definition": (n >= hem.min_elements) & inside}


_KEY_WEIGHTS = np.sqrt(np.arange(2, 202, dtype=float))  # irrational, so distinct rows of amounts get distinct keys


def _weighted(amounts: np.ndarray, weights: np.ndarray) -> np.ndarray:
    return np.einsum("ij,j->i", amounts, weights)


@functools.cache
def compiled(ion: str, universe: tuple[str, ...]) -> Compiled:
    return Compiled(ion, universe)
