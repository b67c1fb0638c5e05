"""The consultation rules compiled for whole batches of candidates (numpy).

The compiled path is derived from the rule files by running the same engine,
never from a second copy of the rules:

1. Switches are the facts about the candidate as a whole that the rules read:
   the ground premises (`has_plane(A)`, `has_listed_anion()`, `anion(Se)` ...)
   whose predicates do not depend on a mechanism's status, and the ground
   instances of the premises a rule about one element reads of the rest of
   the candidate (existential premises): `anion(?n)` beside
   `material_anion(?mat, ?n)` gives `anion(O)`, `anion(S)` ... for each anion
   of a reported material, and `candidate_kind(?k)` (an estimate: the HEM
   definition on the cation sublattice, consultation/estimates.py) gives
   `candidate_kind(hem)` and `candidate_kind(non-hem)`. The values come from
   the graph's facts that the same rule joins them with, the reports gathered
   once for every candidate among them (`shown(...)`). (A fact about
   the candidate as a whole that any one element derives, read so only by
   evidence rules, is no switch: see 2.) Running the engine on
   each element alone
   gives that element's switch mask; a candidate's switch vector is the OR of
   its elements' masks, plus the bit of its kind, computed from its fractions
   here as estimate_facts() would give it.
2. For each switch vector met (and carrier ion), the engine runs once on a
   representative candidate: every universe element whose mask fits the
   vector, and the vector's kind. Its statuses are the vector's; each
   element's roles and effects there are that element's under the vector. The
   evidence the rules conclude there is split by derivation: one whose premises
   name an element of the candidate (beyond the graph, the switches, the
   carrier ion and the statuses) is that element's item, one that names none is
   the vector's own item (reported_in_hems, not_shown_in_hems), and one resting
   on a fact about the candidate as a whole is an item of each element that
   derives that fact (it holds where any of them is present). The results are memoised; the
   role evidence only when asked for (evaluate(with_role_evidence=True)).
3. A batch is then table look-ups and array arithmetic: the charge-balanced
   anion amounts (each cation at the state consultation/oxidation.py's
   screen_state gives it, the anion option's ratio scaled to balance them),
   statuses, role masks, counts of contributors, the theoretical capacity by
   mechanism (as consultation/estimates.py counts it) and the entropy; a
   mechanism's evidence is the strongest level (the first on the scale of
   rules/85-evidence.toml) among the vector's items and the items of the
   elements the candidate has.

Why this is the engine's answer. Statuses depend only on which switches hold,
and an element's role and effects only on the element and the switches (the
property the screen always rested on). The evidence rules conclude
`evidence(M, LEVEL)` and `role_evidence(X, ROLE, LEVEL)` from premises of four
kinds: the graph's facts (the same in every run), switches (the same in the
representative as in the candidate: the vector is theirs), statuses (the
vector's, by the property) and facts about one element X (the same in both
where X is in both, by the property), or about the candidate as a whole but
derived from any one element Y (then it holds in both iff some such Y is in
both: the candidate's elements are all in its representative). So an item
whose premises name element X holds for a candidate iff X is in it; an item
resting on such a whole-candidate fact holds iff one of its Ys is; an item
naming none holds for every candidate with the vector; and a candidate's
evidence, the strongest of its items, is the strongest of the vector's items
and its elements' items. Two things would break this, and each is refused
when a table is built (a RuntimeError naming the rule): a derivation whose
premises need two elements (a join the switches do not cover), and a
representative whose switches are not its vector (a switch that no single
element turns on). Negated premises
on predicates the screen's inputs cannot derive (`not reported_here(?mat)`)
hold in every compiled run, as they do in the engine's for a candidate that
matches no reported material.

A candidate that does match a reported material (the same elements, atom
fractions within 0.01: consultation/facts.py matching_reported) is the
exception: a report on the very material can overrule the planes and so change
statuses and roles (`overruled(X, M, mat)`). Such rows are found by batch (an
element-set bit mask against each reported material's, then the fractions of
those rows alone) and run through the full engine one by one, which decides.

A literature library (hem evidence; consultation/literature.py) joins as extra
tables: its findings are facts of reported materials `lib-KEY` beside the
graph's, so the same switches, representatives and items are read over the
graph's facts and the library's (`library_key()` names them, `compiled(ion,
universe, key)` compiles them), and a row with a contribution's composition is
run through the engine with the library, as `hem consult` consults it.

tests/test_screen.py checks all of it against the engine behind `hem consult`
on thousands of random candidates and on the reported materials' compositions;
tests/test_library_screen.py, with the library of examples/findings.csv.
"""

from __future__ import annotations

import functools
import itertools
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from hemkg import engine
from hemkg.consultation.consultation import effect_properties
from hemkg.consultation.estimates import FARADAY_MAH_PER_MOL, FRACTION_TOLERANCE, entropy, estimate_facts
from hemkg.consultation.evidence import evidence_scale
from hemkg.consultation.facts import (
    SAME_COMPOSITION_TOLERANCE,
    candidate_anions,
    matches_reported_facts,
    reported_compositions,
    shared_knowledge,
)
from hemkg.consultation.oxidation import anion_need, screen_state
from hemkg.consultation.rules import paper_rules
from hemkg.engine import Fact, Source
from hemkg.engine.language import is_variable
from hemkg.errors import LibraryError
from hemkg.graph.materials import alloy_phases, element_data
from hemkg.graph.vocab import vocab

if TYPE_CHECKING:
    from hemkg.consultation.literature import LibraryFindings

MECHANISMS = vocab().mechanism_names  # the order of the status columns
STATUS_CODES = {s.name: i for i, s in enumerate(vocab().statuses)}
STATUS_NAMES = {v: k for k, v in STATUS_CODES.items()}
ROLES = MECHANISMS + tuple(r.name for r in vocab().roles)  # role(X, M) names a mechanism, or an element role
ROLE_BITS = {r: 1 << i for i, r in enumerate(ROLES)}
EFFECT_PROPERTIES = tuple(p.name for p in effect_properties())
LEVELS = tuple(lv.id for lv in evidence_scale())  # strongest first; an evidence column holds an index into it
NO_EVIDENCE = len(LEVELS) - 1  # the scale's last level: what a mechanism or role no rule grades has
SCREEN_INPUTS = {"element", "amount", "ion"}  # what a screened candidate gives; no structure
OUTPUTS = ("status", "role", "effect", "mechanism_element")  # read per switch vector
GRADES = ("evidence", "role_evidence")  # read per switch vector with the candidate's kind


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
def switches(library: str | None = None) -> tuple[Fact, ...]:
    """The facts about the candidate as a whole that the rules read (see the module's docstring, 1.); with a
    library (its key, library_key()), the values its findings' facts add to the graph's."""
    rules = paper_rules()
    derived = {a.predicate for r in rules for a in r.then}
    tainted = _depends_on_status(rules)
    found = set()
    for r in rules:
        for a in r.when:
            if (not a.variables and a.predicate in derived and a.predicate not in tainted
                    and a.predicate not in engine.BUILTINS and "_" not in a.args):
                found.add((a.predicate, a.args))
    found |= _existential_switches(_compiled_rules(), tainted, library)
    return tuple(sorted(found, key=engine.fact_text))


@functools.cache
def _knowledge_predicates(library: str | None = None) -> frozenset[str]:
    """The predicates of the graph's facts (and the library's), and of the reports gathered from them once for
    every candidate (engine.share: disputed, shown, ...): no rule of a run derives them."""
    index = _shared(library)[1]
    derived = {a.predicate for r in paper_rules() if r not in index.derived_by for a in r.then}
    return frozenset(p for p in index.by_predicate if p not in derived)


@functools.cache
def _kind_facts() -> dict[bool, dict[Fact, Source]]:
    """For each verdict on the HEM definition, the estimate facts the compiled rules read (candidate_kind):
    estimate_facts() itself, given each verdict."""
    read = {a.predicate for r in _compiled_rules() for a in r.when}
    verdicts: dict[bool, dict[str, Any]] = {True: {"meets_hem_definition": True},
                                            False: {"meets_hem_definition": False, "why_not_hem": ""}}
    return {meets: {f: src for f, src in estimate_facts(e).items() if f[0] in read} for meets, e in verdicts.items()}


@functools.cache
def _reachable(library: str | None = None) -> frozenset[str]:
    """The predicates a compiled run can hold: from the screen's inputs, the kind estimate and the graph.
    (Those a report on the very material needs, reported_here and overruled, are not among them.)"""
    known = set(SCREEN_INPUTS) | {f[0] for facts in _kind_facts().values() for f in facts} | \
        _knowledge_predicates(library)
    changed = True
    while changed:
        changed = False
        for r in _compiled_rules():
            if all(a.negated or a.predicate in known or a.predicate in engine.BUILTINS for a in r.when):
                for h in r.then:
                    if h.predicate not in known:
                        known.add(h.predicate)
                        changed = True
    return frozenset(known)


def _existential_switches(rules: tuple[engine.Rule, ...], tainted: set[str], library: str | None = None
                          ) -> set[Fact]:
    """Ground instances of the premises a rule about an element reads of the rest of the candidate.

    A premise is existential when none of its variables is in the rule's conclusions
    (`anion(?n)` in a rule concluding role_evidence(?x, ...)). Its instances are the
    values the graph's premises of the same rule allow. A rule whose every conclusion
    is itself read only as a whole (has_anion()) is about the
    candidate, not an element, and may range over the elements freely; read so by an
    evidence rule, such a premise is no switch: the evidence it gives is an item of
    each element that derives it (_holders), so it multiplies no vectors.
    """
    knowledge, reachable = _knowledge_predicates(library), _reachable(library)
    index = _shared(library)[1].by_predicate

    def about_candidate(a: engine.Atom) -> bool:
        return (a.predicate not in knowledge and a.predicate not in engine.BUILTINS and a.predicate in reachable
                and a.predicate not in tainted)

    def head_variables(r: engine.Rule) -> set[str]:
        return set().union(*(h.variables for h in r.then))

    read = {a.predicate for r in rules for a in r.when}
    by_element = {a.predicate for r in rules for a in r.when if about_candidate(a) and a.variables & head_variables(r)}
    as_a_whole = read - by_element - {*OUTPUTS, *GRADES}  # what the screen reads is read element by element
    derived = {h.predicate for r in rules for h in r.then}
    found: set[Fact] = set()
    for r in rules:
        if all(h.predicate in as_a_whole for h in r.then):
            continue
        grading = all(h.predicate in GRADES for h in r.then)
        for a in r.when:
            if not (about_candidate(a) and (a.variables or "_" in a.args)) or a.variables & head_variables(r):
                continue
            if grading and a.predicate in as_a_whole & derived:  # an item of each element deriving it: _holders
                continue
            if "_" in a.args:
                raise RuntimeError(f"rule '{r.id}': the compiled screen cannot ground '{a}' (a wildcard)")
            values: dict[str, set] = {}
            for b in r.when:
                if b.negated or b.predicate not in knowledge:
                    continue
                for i, arg in enumerate(b.args):
                    if arg in a.variables:
                        allowed = {args[i] for args in index.get(b.predicate, ()) if len(args) == len(b.args)
                                   and all(is_variable(c) or c == args[j] for j, c in enumerate(b.args))}
                        values[str(arg)] = values.get(str(arg), allowed) & allowed
            unbound = sorted(a.variables - set(values))
            if unbound:
                raise RuntimeError(f"rule '{r.id}': '{a}' reads the rest of the candidate, and nothing in the graph "
                                   f"bounds {', '.join(unbound)}: the compiled screen cannot take it")
            names = sorted(values)
            for combo in itertools.product(*(sorted(values[n], key=str) for n in names)):
                binding = dict(zip(names, combo, strict=True))
                found.add((a.predicate, tuple(binding.get(str(x), x) for x in a.args)))
    return found


def _base(composition: dict[str, float], ion: str) -> dict[Fact, Source]:
    base: dict[Fact, Source] = {}
    for symbol, amount in composition.items():
        base[("element", (symbol,))] = Source("input", "formula")
        base[("amount", (symbol, float(amount)))] = Source("input", "formula")
    base[("ion", (ion,))] = Source("input", "ion")
    return base


@functools.cache
def _compiled_rules() -> tuple[engine.Rule, ...]:
    """Only the rules that statuses, roles, effects and evidence rest on (context, notes and the rest are skipped)."""
    return engine.rules_for({*OUTPUTS, *GRADES}, paper_rules())


@functools.cache
def element_mask(symbol: str, library: str | None = None) -> int:
    """The switches an element turns on by itself."""
    result = engine.run(_base({symbol: 1.0}, "Li"), _compiled_rules(), shared=_shared(library))
    return sum(1 << i for i, s in enumerate(switches(library)) if s in result.facts)


# --------------------------------------------------------------------------- a literature library's facts

_LIBRARIES: dict[str, LibraryFindings] = {}  # key -> the library (forked workers inherit it)


def library_key(library: LibraryFindings | None) -> str | None:
    """The key compiled tables of `library` (literature.load()) are kept under: its folder and revision."""
    if library is None:
        return None
    key = f"{library.path}\n{library.revision}"
    _LIBRARIES.setdefault(key, library)
    return key


def _library(key: str) -> LibraryFindings:
    """The library of a key; a process that did not register it (a worker started before) reads it."""
    if key not in _LIBRARIES:
        from hemkg.consultation import literature

        path, revision = key.split("\n")
        found = literature.load(path)
        if found is None or found.revision != revision:
            raise LibraryError(f"the library at {path} changed during the screen (it was at revision {revision})",
                               "run the screen again once nothing is adding to the library")
        _LIBRARIES[key] = found
    return _LIBRARIES[key]


def _shared(library: str | None) -> tuple[dict[Fact, Source], Any]:
    """The graph's facts indexed with the rules compiled over them, the library's findings' facts joined where
    the screen takes a library (as `hem consult` consults with it)."""
    return _library(library).shared if library else shared_knowledge()


@dataclass
class Compiled:
    """Memoised per-vector tables for one carrier ion over one element universe."""

    ion: str
    universe: tuple[str, ...]
    library: str | None = None  # library_key() of the library whose findings join the evidence, or None
    masks: np.ndarray = field(init=False)
    _status: dict[int, tuple[int, ...]] = field(default_factory=dict)  # a code per mechanism, in MECHANISMS order
    _roles: dict[int, np.ndarray] = field(default_factory=dict)  # vector -> role bits per universe element
    _effects: dict[int, np.ndarray] = field(default_factory=dict)  # vector -> (+ effect flags per property) per element
    _members: dict[int, np.ndarray] = field(default_factory=dict)  # vector -> mechanism_element bits per element
    # vector with kind -> (levels the vector itself holds, M x L; the elements holding each, M x L x words of
    # element bits); and, compiled only when asked for, each element's role evidence (U x roles, into LEVELS)
    _grades: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    _role_grades: dict[int, np.ndarray] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.ion not in vocab().ion_symbols:
            raise ValueError(f"unknown carrier ion '{self.ion}'")
        if len(switches(self.library)) > 63:
            raise ValueError("too many switches for a 64-bit mask")
        self.masks = np.array([element_mask(s, self.library) for s in self.universe], dtype=np.uint64)
        bits = {f: 1 << i for i, f in enumerate(switches(self.library))}
        missing = [f for facts in _kind_facts().values() for f in facts if f not in bits]
        if missing:
            raise RuntimeError(f"the rules read {', '.join(map(engine.fact_text, missing))} but no rule's premise "
                               "makes it a switch: the compiled screen cannot take the candidate's kind")
        self.kind_bits = {meets: sum(bits[f] for f in facts) for meets, facts in _kind_facts().items()}
        # statuses, roles and effects read fewer switches than the evidence (not the kind):
        # their tables are keyed by those alone, so that they are compiled for fewer vectors
        read = {a.predicate for r in engine.rules_for(OUTPUTS, paper_rules()) for a in r.when}
        self.status_mask = np.uint64(sum(bits[f] for f in switches(self.library) if f[0] in read))
        # then one run of a representative with the HEM kind gives its statuses, roles and effects too
        self._one_run = not (self.masks & ~self.status_mask).any() and not self.kind_bits[True] & int(self.status_mask)
        self._index = {s: i for i, s in enumerate(self.universe)}
        # the same in a representative as in a candidate
        self._fixed = set(switches(self.library)) | set(_base({}, self.ion))
        self._words = max(1, -(-len(self.universe) // 64))  # 64-bit words of an element-set bit mask

    def _fitting(self, vector: int, read: int = ~0) -> list[str]:
        """The representative of a vector: every universe element whose switches (of those `read`) it holds."""
        return [s for s, m in zip(self.universe, self.masks, strict=False) if int(m) & read & ~vector == 0]

    def _run(self, base: dict[Fact, Source]) -> engine.Result:
        return engine.run(base, _compiled_rules(), shared=_shared(self.library))

    def _compile(self, vector: int) -> None:
        if self._one_run:  # the HEM kind's evidence from the same run (the statuses' rules do not read the kind)
            self._compile_grades(vector | self.kind_bits[True])
            return
        result = self._run(_base({s: 1.0 for s in self._fitting(vector, int(self.status_mask))}, self.ion))
        self._status[vector], self._roles[vector], self._effects[vector], self._members[vector] = self._read(result)

    def _read(self, result: engine.Result) -> tuple[tuple[int, ...], np.ndarray, np.ndarray, np.ndarray]:
        """Statuses, each universe element's role bits, effect flags and mechanism_element bits, as a run
        concluded them."""
        statuses = []
        for m in MECHANISMS:
            found = [args[1] for args in result.words("status", m)]
            statuses.append(STATUS_CODES[found[0]])
        roles = np.zeros(len(self.universe), dtype=np.uint8)
        effects = np.zeros((len(self.universe), len(EFFECT_PROPERTIES)), dtype=np.int8)
        index = self._index
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
        return tuple(statuses), roles, effects, mechanism_bits

    def _compile_grades(self, vector: int, with_roles: bool = False) -> None:
        """The evidence items of a vector with its kind, split into the vector's own and each element's;
        with_roles, each element's role evidence too."""
        members = self._fitting(vector)
        base = _base({s: 1.0 for s in members}, self.ion)
        for meets, facts in _kind_facts().items():
            if vector & self.kind_bits[meets] == self.kind_bits[meets]:
                base.update(facts)
        result = self._run(base)
        held_switches = sum(1 << i for i, f in enumerate(switches(self.library)) if f in result.facts)
        if held_switches != vector:
            raise RuntimeError(f"the switch property fails: a representative of {vector:#x} holds {held_switches:#x} "
                               "(a switch no single element turns on)")
        holders_of = functools.partial(_holders, result=result, fixed=self._fixed, members=set(members),
                                       library=self.library)
        held = np.zeros((len(MECHANISMS), len(LEVELS)), dtype=bool)
        holders = np.zeros((len(MECHANISMS), len(LEVELS), self._words), dtype=np.uint64)
        for mechanism, level in result.words("evidence"):
            m, lv = MECHANISMS.index(mechanism), LEVELS.index(level)
            for d in result.derivations[("evidence", (mechanism, level))]:
                owners = holders_of(d)
                if owners is None:
                    held[m, lv] = True
                for j in (self._index[x] for x in owners or ()):
                    holders[m, lv, j // 64] |= np.uint64(1 << (j % 64))
        self._grades[vector] = held, holders
        if with_roles:
            role_levels = np.full((len(self.universe), len(ROLES)), NO_EVIDENCE, dtype=np.int8)
            for symbol, role, level in result.words("role_evidence"):
                for d in result.derivations[("role_evidence", (symbol, role, level))]:
                    if holders_of(d) not in (None, {symbol}):
                        raise RuntimeError(f"rule '{d.rule.id}': the evidence for {symbol}'s role rests on another "
                                           "element; the compiled screen cannot take it")
                j, r = self._index[symbol], ROLES.index(role)
                role_levels[j, r] = min(role_levels[j, r], LEVELS.index(level))
            self._role_grades[vector] = role_levels
        if self._one_run and vector & ~int(self.status_mask) == self.kind_bits[True]:
            key = vector & int(self.status_mask)
            self._status[key], self._roles[key], self._effects[key], self._members[key] = self._read(result)

    def tables(self, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """For each vector: statuses (n x 4), role bits (n x U), effect flags (n x U x P), mechanism_element bits
        (n x U); plus unique index."""
        unique, inverse = np.unique(vectors & self.status_mask, return_inverse=True)
        with self._lock:
            for v in unique.tolist():
                if v not in self._status:
                    self._compile(int(v))
        statuses = np.array([self._status[int(v)] for v in unique], dtype=np.int8)[inverse]
        roles = np.stack([self._roles[int(v)] for v in unique])[inverse]
        effects = np.stack([self._effects[int(v)] for v in unique])[inverse]
        members = np.stack([self._members[int(v)] for v in unique])[inverse]
        return statuses, roles, effects, members, inverse

    def grades(self, vectors: np.ndarray, elements: np.ndarray,
               with_roles: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
        """For each vector with its kind and element set (bit words, element_words()): each mechanism's evidence
        (n x M, an index into LEVELS), and with_roles each element's role evidence (n x U x roles)."""
        unique, inverse = np.unique(vectors, return_inverse=True)
        with self._lock:
            for v in unique.tolist():
                if v not in self._grades or (with_roles and v not in self._role_grades):
                    self._compile_grades(int(v), with_roles)
        tables = [self._grades[int(v)] for v in unique]
        held = np.stack([t[0] for t in tables])  # per unique vector: M x L
        held[:, :, NO_EVIDENCE] = True  # the scale's last level: where nothing stronger holds
        levels = held.argmax(axis=2).astype(np.int8)[inverse]  # the strongest of the vector's own items
        holders = np.stack([t[1] for t in tables])  # per unique vector: M x L x words
        for lv in np.flatnonzero(holders.any(axis=(0, 1, 3))).tolist():  # the few levels elements hold
            if self._words == 1:
                hit = (holders[:, :, lv, 0][inverse] & elements[:, :1]) != 0
            else:
                hit = ((holders[:, :, lv, :][inverse] & elements[:, None, :]) != 0).any(axis=2)
            levels = np.where(hit & (levels > lv), np.int8(lv), levels)
        role_levels = np.stack([self._role_grades[int(v)] for v in unique])[inverse] if with_roles else None
        return levels, role_levels

    def element_words(self, present: np.ndarray) -> np.ndarray:
        """Each row's element set as bit words (n x words, uint64): column j is bit j % 64 of word j // 64."""
        packed = np.packbits(present, axis=1, bitorder="little")
        packed = np.pad(packed, ((0, 0), (0, self._words * 8 - packed.shape[1])))
        return np.ascontiguousarray(packed).view("<u8").astype(np.uint64, copy=False)

    @functools.cached_property
    def _reported(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """The reported materials with elements all in the universe: (element bit words, fractions by column)."""
        found = []
        library = [] if self.library is None else list(_library(self.library).compositions.values())
        for composition in [*reported_compositions().values(), *library]:
            if all(s in self._index for s in composition):
                fractions = np.zeros(len(self.universe))
                for s, x in composition.items():
                    fractions[self._index[s]] = x
                found.append((self.element_words(fractions[None, :] > 0)[0], fractions))
        return found

    def matching(self, amounts: np.ndarray, elements: np.ndarray) -> np.ndarray:
        """Rows that may match a reported material: its very element set, atom fractions within the tolerance
        (a hair wider: the engine, run on each, decides)."""
        rows: set[int] = set()
        for words, fractions in self._reported:
            same = np.flatnonzero((elements == words[None, :]).all(axis=1))
            if len(same):
                x = amounts[same] / amounts[same].sum(axis=1, keepdims=True)
                close = (np.abs(x - fractions[None, :]) <= SAME_COMPOSITION_TOLERANCE + 1e-9).all(axis=1)
                rows.update(same[close].tolist())
        return np.array(sorted(rows), dtype=np.intp)

    def consulted(self, amounts: np.ndarray) -> tuple[Any, ...]:
        """One row through the full engine, as `hem consult` runs it: statuses, role bits, effect flags,
        mechanism_element bits, each mechanism's evidence and each element's role evidence."""
        composition = {s: float(a) for s, a in zip(self.universe, amounts.tolist(), strict=True) if a > 0}
        base = _base(composition, self.ion)
        base.update(matches_reported_facts(composition))
        if self.library is not None:
            base.update(_library(self.library).candidate_facts(composition))
        base.update(estimate_facts(entropy(composition, candidate_anions(base))))
        result = self._run(base)
        levels = np.full(len(MECHANISMS), NO_EVIDENCE, dtype=np.int8)
        for mechanism, level in result.words("evidence"):
            m = MECHANISMS.index(mechanism)
            levels[m] = min(levels[m], LEVELS.index(level))
        role_levels = np.full((len(self.universe), len(ROLES)), NO_EVIDENCE, dtype=np.int8)
        for symbol, role, level in result.words("role_evidence"):
            j, r = self._index[symbol], ROLES.index(role)
            role_levels[j, r] = min(role_levels[j, r], LEVELS.index(level))
        return (*self._read(result), levels, role_levels)

    def evaluate(self, amounts: np.ndarray, balance: bool = False, with_role_evidence: bool = False
                 ) -> dict[str, np.ndarray]:
        """Evaluate a batch: `amounts` is (n candidates x universe) formula amounts, 0 where absent.

        With `balance`, the anion amounts are a ratio to scale so that the cations' charge is balanced (the
        screen's candidates); the balanced amounts come back as out["amounts"]. Without, they are as given.
        with_role_evidence: each element's role evidence too (n x U x roles, an index into LEVELS).
        """
        present = amounts > 0
        vectors = np.bitwise_or.reduce(np.where(present, self.masks[None, :], np.uint64(0)), axis=1)
        statuses, roles, effects, members, _ = self.tables(vectors)
        charge = self._charge_balance(amounts, balance)
        roles = np.where(present, roles, 0)
        effects = np.where(present[:, :, None], effects, 0)
        entropy_ = self._entropy(charge["amounts"], roles)  # the anion role, which it reads, no report changes
        kinds = np.where(entropy_["meets_hem_definition"], np.uint64(self.kind_bits[True]),
                         np.uint64(self.kind_bits[False]))
        elements = self.element_words(present)
        levels, role_levels = self.grades(vectors | kinds, elements, with_role_evidence)
        matched = self.matching(charge["amounts"], elements)
        for i in matched.tolist():  # a report on the very material may overrule the planes: the engine decides
            row = self.consulted(charge["amounts"][i])
            statuses[i], roles[i], effects[i], members[i], levels[i] = row[:5]
            if role_levels is not None:
                role_levels[i] = row[5]
        out: dict[str, np.ndarray] = {"vector": vectors}
        for i, m in enumerate(MECHANISMS):
            out[f"status_{m}"] = statuses[:, i]
            out[f"evidence_{m}"] = levels[:, i]
        out["matches_reported"] = np.isin(np.arange(len(amounts)), matched)
        out["roles"] = roles
        if role_levels is not None:
            out["role_evidence"] = role_levels
        for j, prop in enumerate(EFFECT_PROPERTIES):
            out[f"plus_{prop}"] = ((effects[:, :, j] & 1) > 0).sum(axis=1).astype(np.int16)
            out[f"minus_{prop}"] = ((effects[:, :, j] & 2) > 0).sum(axis=1).astype(np.int16)
        out.update(charge)
        out.update(self._capacity(charge["amounts"], statuses, members, charge))
        out.update(entropy_)
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
            # in place where numpy allows (out=, where=): this runs on every row, and temporaries cost
            total = site.sum(axis=1, keepdims=True)
            x = np.divide(site, total, out=np.zeros_like(site), where=total > 0)
            logs = np.log(x, out=np.zeros_like(x), where=x > 0)
            return -np.einsum("ij,ij->i", x, logs), x

        s_cat, x = mixing(cations)
        s_an, _ = mixing(anions)
        hem = vocab().hem
        low, high = hem.fraction_range
        n = (x > 0).sum(axis=1)
        inside = ((x == 0) | ((x >= low - FRACTION_TOLERANCE) & (x <= high + FRACTION_TOLERANCE))).all(axis=1)
        return {"entropy_cation_R": np.round(s_cat, 3), "entropy_anion_R": np.round(s_an, 3) + 0.0,
                "meets_hem_definition": (n >= hem.min_elements) & inside}


def _holders(d: engine.Derivation, result: engine.Result, fixed: set[Fact],
             members: set[str], library: str | None = None) -> frozenset[str] | None:
    """Which of the candidate's elements a derivation's item belongs to: None, the vector's own (its premises are
    the graph's, switches, the carrier ion and statuses); one element, the one its premises name; or, for a premise
    about the candidate as a whole that no switch covers, each element that derives it (the
    item holds where any of them is present). A premise on a predicate the screen's inputs cannot derive (negated:
    `not reported_here(?mat)`) holds in every compiled run. Anything else raises: a join the screen cannot take."""
    (knowledge, index), reachable = _shared(library), _reachable(library)
    named: set[str] = set()
    alternatives: set[frozenset[str]] = set()
    for fact in (*d.premises, *(f for f in d.absent if f[0] in reachable)):
        if fact in knowledge or fact in index.derived or fact in fixed or fact[0] == "status":
            continue  # the graph's (the reports gathered once for every candidate too), switches, statuses
        here = {a for a in fact[1] if a in members}
        if len(here) == 1:
            named |= here
            continue
        behind = [_holders(e, result, fixed, members, library) for e in result.derivations.get(fact, [])]
        if here or not behind or any(b is not None and len(b) != 1 for b in behind):
            raise RuntimeError(f"rule '{d.rule.id}': its premise {engine.fact_text(fact)} is neither one element's "
                               "nor a switch; the compiled screen cannot take it")
        if all(b is not None for b in behind):  # else some derivation of it holds for the whole vector
            alternatives.add(frozenset().union(*(b for b in behind if b is not None)))
    if len(named) + len(alternatives) > 1:
        raise RuntimeError(f"rule '{d.rule.id}' joins two of the candidate's elements "
                           f"({engine.fact_text(d.conclusion)}), which the compiled screen cannot take")
    return frozenset(named) if named else alternatives.pop() if alternatives else None


_KEY_WEIGHTS = np.sqrt(np.arange(2, 202, dtype=float))  # irrational, so distinct rows of amounts get distinct keys


def _weighted(amounts: np.ndarray, weights: np.ndarray) -> np.ndarray:
    return np.einsum("ij,j->i", amounts, weights)


@functools.cache
def compiled(ion: str, universe: tuple[str, ...], library: str | None = None) -> Compiled:
    """The compiled tables for one carrier ion over one universe, with a library's findings (library_key())."""
    return Compiled(ion, universe, library)
