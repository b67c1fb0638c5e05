"""Formal oxidation states that balance a formula's charge: an addition beyond the paper.

    >>> charge_balance({"Fe": 3.0, "O": 4.0}).assignment.text()
    '1 Fe2+ + 2 Fe3+, 4 O2-'

The data are pymatgen's (generated into kg/generated/element-data.ttl: each
element's common and less common oxidation states and the ICSD count of each)
and the anions of kg/anions.ttl; nothing here imports pymatgen or rdflib.

How a composition is read:
- No anion former (an element with a monatomic anion in kg/anions.ttl): metallic,
  every element at 0. One element alone: elemental, 0.
- Only anion formers (P2S5, CO): the most electronegative is the anion, the
  others take positive states.
- Otherwise the anion formers are the anions and every other element a cation
  with a positive state. The anion formers are read first as monatomic anions,
  then with polyatomic anions (PS3 2-, PO4 3-, CN-, S2 2-, neutral H2O): a unit
  takes as many atoms as the formula allows, in the order of
  graph.materials.oxidation_data, what is left stays monatomic. Where charged
  units of two or more elements take every anion-forming atom (P:S = 1:3,
  P:O = 1:4, C:N = 1:1, with any water), only such readings are tried: MPS3 is
  a thiophosphate M2P2S6, not a phosphide-sulfide, and CoVMnFeZnPS3 does not
  balance as five cations to one PS3 2-.
- Common states first: every cation at one of pymatgen's common oxidation
  states, with every reading of the anions; only if none balances, all its
  known states ("less common", said in the answer).
- Mixed valence: one element may split its atoms over two of its states in
  whole atoms of the smallest formula unit with whole numbers of atoms (Fe3O4:
  1 Fe2+ + 2 Fe3+; (CrMnFeCoNi)3O4 is Cr3Mn3Fe3Co3Ni3O20, so 1 + 2 of 3). At
  most one element splits: without a limit any charge between the lowest and
  the highest states could be met by splitting, which says nothing.
- The assignment used, among the balanced ones of the first reading and tier
  that has any: fewest less common states, then no split over a split, then the
  most probable by the ICSD counts (the sum over atoms of the log of how often
  the element is found in that state, add-one smoothed; pymatgen's
  Composition.oxi_state_guesses ranks by the same counts). The others are
  counted and the next few given as examples.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from collections.abc import Mapping
from fractions import Fraction
from typing import TYPE_CHECKING, Any, NamedTuple

from hemkg.engine import Fact, Source
from hemkg.graph.materials import named_ions, oxidation_data
from hemkg.system.kept import kept_when_asked_again

if TYPE_CHECKING:
    from hemkg.consultation.formula import ParsedFormula

EXAMPLES = 3  # alternatives shown beside the assignment used
MAX_DENOMINATOR = 10**6  # amounts are read as fractions with at most this denominator
BASIS = ("beyond the paper: formal oxidation states from pymatgen's element data (its common states first, then its "
         "other known states; ranked by how often ICSD structures have them), anion charges from kg/anions.ttl; one "
         "element may split over two states in whole atoms of the smallest whole formula unit")

Key = tuple[int, int, float]  # (less common states, splits, -log prior): smaller is preferred
Parts = tuple[tuple[int, int, int], ...]  # (cation index, state, atoms in the whole formula unit)
Ranked = list[tuple[Key, Parts]]  # the best few assignments, best first
States = tuple[tuple[int, int, float], ...]  # a cation's (state, less common?, log prior), see _states


def signed(charge: int) -> str:
    """2 -> '2+', -1 -> '-', 0 -> '0' (the way pymatgen writes species)."""
    if charge == 0:
        return "0"
    return f"{'' if abs(charge) == 1 else abs(charge)}{'+' if charge > 0 else '-'}"


def _amount(x: float) -> str:
    return f"{x:.4g}"


class Site(NamedTuple):
    """Atoms of one element at one oxidation state, per formula unit."""

    element: str
    state: int
    amount: float
    common: bool  # one of pymatgen's common states (anions: always, their charge is kg/anions.ttl's)

    def name(self) -> str:
        return f"{self.element}{signed(self.state)}"


class Unit(NamedTuple):
    """A polyatomic anion of the reading, per formula unit."""

    formula: str
    charge: int
    amount: float
    label: str

    def name(self) -> str:
        return f"{self.formula}{signed(self.charge)}" if abs(self.charge) == 1 else (
            f"{self.formula} {signed(self.charge)}" if self.charge else self.formula)


class Assignment(NamedTuple):
    """Every element's state (polyatomic anions as whole units), per formula unit."""

    sites: tuple[Site, ...]
    units: tuple[Unit, ...] = ()

    def charge(self) -> float:
        return sum(s.state * s.amount for s in self.sites) + sum(u.charge * u.amount for u in self.units)

    def less_common(self) -> tuple[str, ...]:
        return tuple(s.name() for s in self.sites if not s.common)

    def states(self) -> dict[str, list[list[float]]]:
        """{"Fe": [[2, 1.0], [3, 2.0]], "O": [[-2, 4.0]]}: element -> [state, amount per formula unit]."""
        out: dict[str, list[list[float]]] = {}
        for s in self.sites:
            out.setdefault(s.element, []).append([s.state, s.amount])
        return out

    def text(self) -> str:
        """'1 Fe2+ + 2 Fe3+, 4 O2-': the sites of one element joined by '+'."""
        by_element: dict[str, list[str]] = {}
        for s in self.sites:
            by_element.setdefault(s.element, []).append(f"{_amount(s.amount)} {s.name()}")
        return ", ".join([" + ".join(parts) for parts in by_element.values()]
                         + [f"{_amount(u.amount)} {u.name()}" for u in self.units])


class Balance(NamedTuple):
    """The charge-balanced reading of a composition, or why there is none."""

    kind: str  # "ionic", "metallic", "elemental" or "none"
    assignment: Assignment | None
    alternatives: int = 0  # other balanced assignments in the same reading and tier
    examples: tuple[Assignment, ...] = ()
    reason: str = ""  # kind "none": why no assignment balances

    @property
    def balanced(self) -> bool:
        return self.kind != "none"

    @property
    def used_less_common(self) -> bool:
        return bool(self.assignment and self.assignment.less_common())

    def text(self) -> str:
        """One line for the answer."""
        if self.kind == "metallic":
            return "metallic (0): no anion-forming element, so every element is at oxidation state 0"
        if self.kind == "elemental":
            return "elemental (0): a single element"
        if self.assignment is None:
            return f"not charge-balanced with any known oxidation states: {self.reason}"
        less = self.assignment.less_common()
        head = (f"charge-balanced only with less common oxidation states ({', '.join(less)})" if less
                else "charge-balanced with common oxidation states")
        others = ("the only balanced assignment" if not self.alternatives
                  else f"{self.alternatives} other balanced assignment{'s' if self.alternatives > 1 else ''}")
        return f"{head}: {self.assignment.text()} ({others})"


# ------------------------------------------------------------------ solving


# Balances by composition: the last few asked for (a consultation asks three times: its input facts, its answer,
# its capacity), and those asked for again after that, kept per process (system/kept.py kept_when_asked_again:
# a stream of new candidates keeps none of their Sites, which the cycle collector never stops tracking)
_RECENT: dict[tuple[tuple[str, float], ...], Balance] = {}
RECENT_KEPT = 8
_KEPT: dict[tuple[tuple[str, float], ...], Balance] = {}
_ASKED: set[tuple[tuple[str, float], ...]] = set()
BALANCES_KEPT = 4096


def charge_balance(composition: Mapping[str, float]) -> Balance:
    """The balanced reading of a composition (symbol -> amount). Nobody changes it."""
    key = tuple(composition.items())
    found = _RECENT.get(key)
    if found is None:
        found = kept_when_asked_again(_KEPT, _ASKED, key, BALANCES_KEPT, _balance, key)
        if len(_RECENT) >= RECENT_KEPT:
            _RECENT.clear()
        _RECENT[key] = found
    return found


def _balance(items: tuple[tuple[str, float], ...]) -> Balance:
    data = oxidation_data()
    monatomic = data["monatomic"]
    symbols = [s for s, _ in items]
    amounts = {s: _fraction(a) for s, a in items}
    formers = [s for s in symbols if s in monatomic]
    if not formers:
        return Balance("metallic", Assignment(tuple(Site(s, 0, float(amounts[s]), True) for s in symbols)))
    if len(symbols) == 1:
        return Balance("elemental", Assignment((Site(symbols[0], 0, float(amounts[symbols[0]]), True),)))
    if len(formers) == len(symbols):  # no metal: the most electronegative element is the anion
        anion = max(symbols, key=lambda s: data["elements"].get(s, {}).get("chi") or 0.0)
        cations = [s for s in symbols if s != anion]
        readings: tuple[Reading, ...] = (_reading((), {anion: amounts[anion]}, monatomic),)
    else:
        cations = [s for s in symbols if s not in monatomic]
        readings = _readings(tuple((s, amounts[s]) for s in formers))
    whole = []  # each reading in whole atoms: (reading, atoms per formula unit, cation atoms, charge they need)
    for reading in readings:
        if reading.need > 0:
            scale = math.lcm(reading.need.denominator, *(amounts[s].denominator for s in cations))
            atoms = [amounts[s].numerator * (scale // amounts[s].denominator) for s in cations]
            whole.append((reading, scale, atoms, reading.need.numerator * (scale // reading.need.denominator)))
    for common_only in (True, False):
        options = [_states(s, common_only) for s in cations]
        if not all(options):
            continue
        for reading, scale, atoms, target in whole:
            count, best = _assignments(options, atoms, target)
            if count:
                common = [{x for x, less, _ in opts if not less} for opts in options]
                found = [_assignment(parts, cations, common, scale, reading, monatomic) for _, parts in best]
                return Balance("ionic", found[0], count - 1, tuple(found[1:]))
    return Balance("none", None, reason=_why_not(cations, amounts, readings[0], formers, data))


class Reading(NamedTuple):
    """One way to read the anion formers: polyatomic anions and their counts, the atoms left monatomic,
    and the positive charge the cations must then give (per formula unit)."""

    units: tuple[tuple[dict[str, Any], Fraction], ...]
    left: dict[str, Fraction]
    need: Fraction


def _reading(units, left: dict[str, Fraction], monatomic: dict[str, dict[str, Any]]) -> Reading:
    need = -(sum((count * unit["charge"] for unit, count in units), Fraction(0))
             + sum((amount * monatomic[s]["charge"] for s, amount in left.items()), Fraction(0)))
    return Reading(units, left, need)


@functools.lru_cache(maxsize=1024)
def _fraction(amount: float) -> Fraction:
    """The amount as a fraction: 0.333333333333 (an equimolar site of three) is 1/3."""
    return Fraction(amount).limit_denominator(MAX_DENOMINATOR)


@functools.lru_cache(maxsize=1024)
def _readings(amounts: tuple[tuple[str, Fraction], ...]) -> tuple[Reading, ...]:
    """Ways to read the anion formers (symbol, amount), in the order they are tried: all monatomic, then with each
    set of polyatomic anions that fit; but if charged units of two or more elements (with any neutral ones) take
    every anion-forming atom, only such readings: MPS3 is a thiophosphate, not a phosphide-sulfide. Kept per
    anion amounts: most candidates of a screen or a list share theirs (O, S2, P3)."""
    data = oxidation_data()
    polyatomic, monatomic = data["polyatomic"], data["monatomic"]
    anions = dict(amounts)
    fitting = [u for u in polyatomic if all(s in anions for s, _ in u["components"])]
    out = [_reading((), dict(anions), monatomic)]
    for size in range(1, len(fitting) + 1):
        for combination in itertools.combinations(fitting, size):
            left, used = dict(anions), []
            for unit in combination:
                count = min(left[s] / n for s, n in unit["components"])
                if count <= 0:
                    break
                for s, n in unit["components"]:
                    left[s] -= count * n
                used.append((unit, count))
            else:
                out.append(_reading(tuple(used), left, monatomic))
    whole = [r for r in out if not any(r.left.values())
             and any(u["charge"] and len(u["components"]) > 1 for u, _ in r.units)]
    return tuple(whole or out)


@functools.cache
def _states(symbol: str, common_only: bool) -> States:
    """A cation's positive states: (state, 1 if less common else 0, log of how often ICSD structures have the
    element in it, add-one smoothed over its known states)."""
    element = oxidation_data()["elements"].get(symbol, {"common": (), "other": (), "occurrence": {}})
    known = set(element["common"]) | set(element["other"])
    total = sum(element["occurrence"].get(x, 0) for x in known) + len(known)
    common = {x for x in element["common"] if x > 0}
    states = sorted(common if common_only else common | {x for x in element["other"] if x > 0})
    return tuple((x, int(x not in common), math.log((element["occurrence"].get(x, 0) + 1) / total)) for x in states)


def _assignments(options: list[States], atoms: list[int], target: int) -> tuple[int, Ranked]:
    """How many assignments reach `target` and the best few, each cation at one state or one cation split."""
    keep = EXAMPLES + 1
    singles: list[list[tuple[int, Key, Parts]]] = [
        [(n * x, (less, 0, -n * prior), ((i, x, n),)) for x, less, prior in opts]
        for i, (opts, n) in enumerate(zip(options, atoms, strict=True))]
    count, best = _table(singles, target, target).get(target, (0, []))
    found = list(best)
    for i, (opts, n) in enumerate(zip(options, atoms, strict=True)):
        if n < 2 or len(opts) < 2:
            continue
        low, high = n * opts[0][0], n * opts[-1][0]
        others = _table(singles[:i] + singles[i + 1:], target - high, target - low)
        for (x1, less1, prior1), (x2, less2, prior2) in itertools.combinations(opts, 2):
            step = x2 - x1
            for total, (ways, partial) in others.items():
                k, rest = divmod(target - total - n * x1, step)
                if rest or not 0 < k < n:
                    continue
                key = (less1 + less2, 1, -((n - k) * prior1 + k * prior2))
                split = ((i, x1, n - k), (i, x2, k))
                count += ways
                found += [(_add(partial_key, key), parts + split) for partial_key, parts in partial]
    return count, sorted(found)[:keep]


def _add(a: Key, b: Key) -> Key:
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2])


def _table(options: list[list[tuple[int, Key, Parts]]], low: int, high: int) -> dict[int, tuple[int, Ranked]]:
    """Sum of charges -> (how many ways, the best few) over one option per element, sums kept in [low, high]."""
    keep = EXAMPLES + 1
    reach = [(0, 0)] * (len(options) + 1)  # the least and most the options after each position add
    for i in range(len(options) - 1, -1, -1):
        charges = [c for c, _, _ in options[i]]
        reach[i] = (reach[i + 1][0] + min(charges), reach[i + 1][1] + max(charges))
    table: dict[int, tuple[int, Ranked]] = {0: (1, [((0, 0, 0.0), ())])}
    for i, opts in enumerate(options):
        least, most = reach[i + 1]
        grown: dict[int, tuple[int, Ranked]] = {}
        for total, (ways, best) in table.items():
            for charge, (less, splits, prior), parts in opts:
                t = total + charge
                if t + least > high or t + most < low:
                    continue
                merged = [((a + less, b + splits, c + prior), p + parts) for (a, b, c), p in best]
                if t in grown:
                    old_ways, old_best = grown[t]
                    grown[t] = (old_ways + ways, sorted(old_best + merged)[:keep])
                else:
                    grown[t] = (ways, merged)
        table = grown
    return table


def _assignment(parts: Parts, cations: list[str], common: list[set[int]], scale: int, reading: Reading,
                monatomic: dict[str, dict[str, Any]]) -> Assignment:
    """The assignment of `parts`; `common[i]`: the common states of cation i."""
    sites = [Site(cations[i], x, n / scale, x in common[i]) for i, x, n in sorted(parts) if n]
    sites += [Site(s, monatomic[s]["charge"], float(amount), True) for s, amount in reading.left.items() if amount]
    units = tuple(Unit(u["formula"], u["charge"], float(c), u["label"]) for u, c in reading.units)
    return Assignment(tuple(sites), units)


def _why_not(cations: list[str], amounts: dict[str, Fraction], reading: Reading, formers: list[str],
             data: dict[str, Any]) -> str:
    """One clause: why no assignment balances, for the first reading of the anions."""
    units, left, need = reading
    ranges = {}
    for s in cations:
        element = data["elements"].get(s, {"common": (), "other": ()})
        positive = [x for x in element["common"] + element["other"] if x > 0]
        if not positive:
            return f"{s} has no known positive oxidation state in pymatgen's data"
        ranges[s] = (min(positive), max(positive))
    low = sum(amounts[s] * lo for s, (lo, _) in ranges.items())
    high = sum(amounts[s] * hi for s, (_, hi) in ranges.items())
    anion_text = " + ".join([f"{_amount(float(c))} {Unit(u['formula'], u['charge'], 0, '').name()}" for u, c in units]
                            + [f"{_amount(float(a))} {s}{signed(data['monatomic'][s]['charge'])}"
                               for s, a in left.items() if a])
    needed = _amount(float(need))
    if need < low:
        why = f"its cations give at least +{_amount(float(low))} but its anions ({anion_text}) need only +{needed}"
    elif need > high:
        why = f"its anions ({anion_text}) need +{needed} but its cations give at most +{_amount(float(high))}"
    else:
        why = (f"no choice of whole states, with at most one element split over two, gives its cations exactly "
               f"+{needed} for its anions ({anion_text})")
    if len(formers) > 1 and not units:
        known = ", ".join(u["formula"] for u in data["polyatomic"])
        why += (f"; if {', '.join(formers)} form a polyatomic anion, hemkg reads only {known} (kg/anions.ttl), "
                "so give the formula another way or read its charges yourself")
    return why


# ------------------------------------------------------------------ suggestions and the answer

_TOKEN = re.compile(r"([A-Z][a-z]?)(\d+(?:\.\d+)?|\.\d+)?")


def suggestions(parsed: ParsedFormula) -> list[str]:
    """Balanced readings of an unbracketed high-entropy formula: 'MgCoNiCuZnO' -> '(MgCoNiCuZn)O', and for an
    oxide also the spinel, '(CrMnFeCoNi)3O4'. Those balanced with common states come first; one that needs less
    common states is left out when a simpler one (the site bracket before the spinel) balances with common ones."""
    return list(_suggestions(parsed.active, parsed.text))


@functools.lru_cache(maxsize=1024)
def _suggestions(active: str, text: str) -> tuple[str, ...]:
    from hemkg.consultation.formula import parse_formula

    tokens = list(_TOKEN.finditer(active))
    if "".join(t.group() for t in tokens) != active:  # brackets, '·', spaces: no obvious fix
        return ()
    formers = oxidation_data()["monatomic"]
    run = 0
    while run < len(tokens) and tokens[run].group(1) not in formers and not tokens[run].group(2):
        run += 1
    cations = [t.group(1) for t in tokens[:run]]
    rest = "".join(t.group() for t in tokens[run:])
    if len(cations) < 2 or len(set(cations)) < len(cations) or not rest:
        return ()
    if any(t.group(1) not in formers for t in tokens[run:]):
        return ()
    site = "(" + "".join(cations) + ")"
    candidates = [site + rest] + ([site + "3O4"] if rest == "O" else [])
    suffix = text[len(active):]
    offered: list[tuple[bool, str]] = []
    for candidate in candidates:  # built from the tokens of a formula that parsed, so they parse too
        balance = charge_balance(parse_formula(candidate).composition)
        if balance.balanced and not (balance.used_less_common and any(not less for less, _ in offered)):
            offered.append((balance.used_less_common, candidate + suffix))
    return tuple(candidate for _, candidate in sorted(offered, key=lambda x: x[0]))


def sentence(text: str) -> str:
    """The text with a full stop, unless it ends in a question."""
    return text if text.endswith("?") else text + "."


def answer(parsed: ParsedFormula) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The JSON record `oxidation_states` of a consultation, and its warning if the formula is not balanced.

    assignment: element -> [[oxidation state, atoms per formula unit], ...] (two entries where the element
    splits), for every element not in a polyatomic anion; polyanions: the polyatomic anions of the reading;
    examples: other balanced assignments of the same reading, in the same shape.
    """
    balance = charge_balance(parsed.composition)
    suggested = [] if balance.balanced else suggestions(parsed)
    text = balance.text()
    if suggested:
        text += f"; did you mean {' or '.join(suggested)}?"
    a = balance.assignment
    record = {
        "charge_balanced": balance.balanced,
        "reading": balance.kind,
        "assignment": a.states() if a else None,
        "polyanions": [{"formula": u.formula, "charge": u.charge, "amount": u.amount, "label": u.label}
                       for u in (a.units if a else ())],
        "used_less_common": balance.used_less_common,
        "less_common": list(a.less_common()) if a else [],
        "alternatives": balance.alternatives,
        "examples": [e.states() for e in balance.examples],
        "suggestion": suggested[0] if suggested else None,
        "suggestions": suggested,
        "text": text,
        "basis": BASIS,
    }
    warnings = [] if balance.balanced else [{"topic": "charge-balance", "text": sentence(f"{parsed.active}: {text}"),
                                             "rules": [], "citations": [], "outside_paper": [BASIS]}]
    return record, warnings



def assignment_facts(parsed: ParsedFormula) -> dict[Fact, Source]:
    """The assignment `answer()` reports, as rule facts (an estimate beyond the paper, with its basis):

    - oxidation_state(X, n): the assignment puts atoms of X at state n (two facts where X splits);
    - assigned_ion(X, I): ... and X at that state is the ion I that a statement of the graph names
      (a hem:NamedIon such as ion-Mg-2 for Mg2+), so a finding about I applies to this X;
    - oxidation_states_unfixed(): no assignment balances the formula's charge, so no state is fixed.

    Polyatomic anions are whole units with no element states, and give no facts.
    """
    balance = charge_balance(parsed.composition)
    if not balance.balanced or balance.assignment is None:
        return {("oxidation_states_unfixed", ()): Source(
            "estimate", "oxidation", label=f"{parsed.active}: no charge-balanced oxidation states ({BASIS})")}
    named = named_ions()
    facts: dict[Fact, Source] = {}
    for site in balance.assignment.sites:
        label = f"the charge balance puts {site.element} at {site.name()} ({BASIS})"
        facts[("oxidation_state", (site.element, float(site.state)))] = Source("estimate", "oxidation", label=label)
        ion = named.get((site.element, site.state))
        if ion is not None:
            facts[("assigned_ion", (site.element, ion))] = Source("estimate", "oxidation", label=label)
    return facts


# ------------------------------------------------------------------ what the screen reads (screening/vectorised.py)


@functools.cache
def screen_state(symbol: str) -> tuple[int, bool, int] | None:
    """The oxidation state a screened cation takes: its most probable common positive state by the ICSD counts
    (ties: the lower state, as charge_balance breaks them), else its most probable less common one; with whether
    it is less common and how many states of its tier there are. None: no positive state is known."""
    for common_only in (True, False):
        states = _states(symbol, common_only)
        tier = [(x, less, prior) for x, less, prior in states if less == int(not common_only)]
        if tier:
            state, less, _ = max(tier, key=lambda s: (s[2], -s[0]))
            return state, bool(less), len(tier)
    return None


def anion_need(anions: Mapping[str, float]) -> float:
    """The positive charge the cations must give for these anion amounts, read as charge_balance reads them
    first (a polyatomic unit where one takes every atom: PS3 2-, else monatomic anions)."""
    reading = _readings(tuple((s, _fraction(a)) for s, a in anions.items()))[0]
    return float(reading.need)
