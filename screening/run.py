"""Screening the composition space with the consultation rules (compiled.py), in streaming batches.

Candidates are generated lazily (cation sets x anion options x carrier ions x
stoichiometries), evaluated in batches by the compiled rules on any
`concurrent.futures.Executor` (processes by default; a Dask client's
`get_executor()` runs the same job on a cluster), written out as they come,
and ranked with a bounded top-N heap or a Pareto front, so memory stays flat
however large the space.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import math
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from hemkg.errors import ScreenError
from hemkg.graph.vocab import json_key, vocab
from hemkg.screening.objectives import OBJECTIVES
from hemkg.screening.vectorised import LEVELS, MECHANISMS, ROLE_BITS, STATUS_CODES, STATUS_NAMES, compiled

if TYPE_CHECKING:
    from pathlib import Path

    import pyarrow.parquet

BATCH = 20_000


@dataclass(frozen=True)
class AnionOption:
    """One anion choice: {} for an alloy, {'O': 1}, or mixed such as {'S': 0.9, 'Se': 0.1}."""

    amounts: tuple[tuple[str, float], ...]

    @property
    def text(self) -> str:
        return "".join(f"{s}{'' if a == 1 else f'{a:g}'}" for s, a in self.amounts) or "none"

    @classmethod
    def parse(cls, text: str) -> AnionOption:
        from hemkg.consultation.formula import parse_formula
        from hemkg.errors import FormulaError

        if text.strip().lower() in ("none", "alloy", "-"):
            return cls(())
        try:
            parsed = parse_formula(text)
        except FormulaError as err:
            raise ScreenError(f"--anions '{text}': {err}") from None
        return cls(tuple(parsed.composition.items()))


def default_anions() -> tuple[AnionOption, ...]:
    """The screen's anion options by default: each of the paper's listed anions, then none (an alloy)."""
    return (*(AnionOption(((a, 1.0),)) for a in vocab().anions), AnionOption(()))


@dataclass(frozen=True)
class Space:
    """The candidates a screen covers."""

    pool: tuple[str, ...] = field(default_factory=lambda: vocab().cations)  # the paper's listed cations
    sizes: tuple[int, ...] = field(default_factory=lambda: (vocab().hem.min_elements,))
    anions: tuple[AnionOption, ...] = field(default_factory=default_anions)
    ions: tuple[str, ...] = field(default_factory=lambda: vocab().ion_symbols)
    required: tuple[str, ...] = ()
    grid_step: float | None = None  # None: equimolar; else cation fractions on this grid within the HEM range
    library: str | None = None  # vectorised.library_key() of the literature library whose findings join, or None

    def validate(self) -> Space:
        from hemkg.graph.materials import element_data

        for s in (*self.pool, *self.required, *(a for o in self.anions for a, _ in o.amounts)):
            if s not in element_data():
                raise ScreenError(f"'{s}' is not an element symbol hemkg knows", "use symbols such as Fe, Co, Ni")
        missing = [s for s in self.required if s not in self.pool]
        if missing:
            raise ScreenError(f"--require {','.join(missing)}: not in the element pool", "add them with --include")
        if not self.pool or not self.sizes or min(self.sizes) < 1 or max(self.sizes) > len(self.pool):
            raise ScreenError(f"-k must be between 1 and the pool size ({len(self.pool)})")
        if not self.ions or not self.anions:
            raise ScreenError("give at least one carrier ion (--ions) "
                              "and one anion option (--anions; 'none' for alloys)")
        ions = vocab().ion_symbols
        if any(i not in ions for i in self.ions):
            raise ScreenError(f"--ions must be among {', '.join(ions)}, not {','.join(self.ions)}")
        low, high = vocab().hem.fraction_range
        if self.grid_step is not None and not (0.01 <= self.grid_step <= high):
            raise ScreenError(f"--grid must be a fraction step between 0.01 and {high:g}, e.g. {low:g}")
        return self

    @property
    def universe(self) -> tuple[str, ...]:
        listed = vocab().anions
        anions = sorted({a for o in self.anions for a, _ in o.amounts}, key=lambda s: (s not in listed, s))
        return tuple(self.pool) + tuple(a for a in anions if a not in self.pool)

    @staticmethod
    def _grid(step: float) -> tuple[int, int, int]:
        """(units making 1, least and most units per cation: the HEM definition's bounds, 5 and 35 at%)."""
        units = round(1 / step)
        low, high = vocab().hem.fraction_range
        return units, math.ceil(low * units - 1e-9), math.floor(high * units + 1e-9)

    def fraction_sets(self, k: int) -> Iterator[tuple[float, ...]]:
        """The cation fractions for k cations, lazily: equimolar, or each grid point in the HEM range summing to 1."""
        if self.grid_step is None:
            yield tuple([1.0 / k] * k)
            return
        units, lo, hi = self._grid(self.grid_step)

        def parts(remaining: int, slots: int) -> Iterator[tuple[int, ...]]:
            if slots == 0:
                if remaining == 0:
                    yield ()
                return
            for first in range(max(lo, remaining - hi * (slots - 1)), min(hi, remaining - lo * (slots - 1)) + 1):
                for rest in parts(remaining - first, slots - 1):
                    yield (first, *rest)

        for p in parts(units, k):
            yield tuple(x / units for x in p)

    def fraction_count(self, k: int) -> int:
        """How many fraction sets `fraction_sets(k)` yields, counted without listing them."""
        if self.grid_step is None:
            return 1
        units, lo, hi = self._grid(self.grid_step)

        @functools.cache
        def ways(remaining: int, slots: int) -> int:
            if slots == 0:
                return int(remaining == 0)
            return sum(ways(remaining - first, slots - 1) for first in range(lo, hi + 1) if first <= remaining)

        return ways(units, k)

    def count(self) -> int:
        per = sum(self._sets(k) * self.fraction_count(k) for k in self.sizes)
        return per * len(self.anions) * len(self.ions)

    def _sets(self, k: int) -> int:
        free = len(self.pool) - len(self.required)
        return math.comb(free, k - len(self.required)) if k >= len(self.required) else 0

    def batches(self, size: int = BATCH) -> Iterator[Batch]:
        """Candidates in batches of one carrier ion each, generated lazily.

        Cation sets are drawn from itertools.combinations a chunk at a time and
        written into the amount matrix with numpy fancy indexing, so the parent
        does no per-candidate Python work. Rows come in the order: ion, size k,
        (a chunk of fraction sets and anion options), cation set, option.
        """
        universe = self.universe
        index = {s: i for i, s in enumerate(universe)}
        free = [index[s] for s in self.pool if s not in self.required]
        required = [index[s] for s in self.required]
        for ion in self.ions:
            pending: list[np.ndarray] = []
            waiting = 0
            for k in self.sizes:
                if k < len(required):
                    continue
                all_options = ((anion, fr) for fr in self.fraction_sets(k) for anion in self.anions)
                while options := list(itertools.islice(all_options, size)):  # a fine --grid has many: chunk them too
                    per_set = len(options)
                    block = np.zeros((per_set, len(universe)))  # the anion part, one row per option
                    cation_fractions = np.array([fr for _, fr in options])
                    for row, (anion, _) in enumerate(options):
                        for symbol, amount in anion.amounts:
                            block[row, index[symbol]] += amount
                    combos = itertools.combinations(free, k - len(required))
                    chunk_sets = max(1, size // per_set)
                    while chunk := list(itertools.islice(combos, chunk_sets)):
                        sets = np.array(chunk, dtype=np.intp).reshape(len(chunk), k - len(required))
                        sets = np.hstack([np.tile(np.array(required, dtype=np.intp), (len(sets), 1)), sets])
                        rows = np.repeat(sets, per_set, axis=0)  # one row per (set, option)
                        amounts = np.tile(block, (len(sets), 1))
                        # a row's cation columns are distinct, so a plain fancy += (not the slow np.add.at)
                        # adds each once
                        amounts[np.arange(len(rows))[:, None], rows] += np.tile(cation_fractions, (len(sets), 1))
                        pending.append(amounts)
                        waiting += len(amounts)
                        while waiting >= size:
                            stacked = np.vstack(pending)
                            yield Batch(ion, universe, stacked[:size], self.library)
                            rest = stacked[size:]
                            pending, waiting = ([rest] if len(rest) else []), len(rest)
            if waiting:
                yield Batch(ion, universe, np.vstack(pending), self.library)


@dataclass
class Batch:
    ion: str
    universe: tuple[str, ...]
    amounts: np.ndarray
    library: str | None = None  # the key of the library's compiled tables (vectorised.library_key)


def evaluate(batch: Batch, with_formulas: bool = False) -> dict[str, np.ndarray]:
    """The compiled rules on one batch (runs in a worker); with_formulas: each row's formula
    too, when every row will be written (formatting is the writer's largest cost)."""
    out = compiled(batch.ion, batch.universe, batch.library).evaluate(batch.amounts, balance=True)
    for key in ("capacity_conversion", "capacity_alloying", "capacity_total"):  # ranked as written: to 0.1 mAh/g
        out[key] = np.round(out[key], 1)
    out["capacity_contributors"] = out["plus_specific-capacity"]
    out["stability_contributors"] = out["plus_cycling-stability"]
    out["fast_charging_contributors"] = out["plus_fast-charging"]
    # np.asarray: numpy's stubs give any() an array or a scalar type; with an axis it is an array
    out["unclassified"] = np.asarray(((out["roles"] & ROLE_BITS["unclassified"]) > 0).any(axis=1))
    if with_formulas:
        out["formula"] = np.array(formulas(out["amounts"], batch.universe), dtype=object)
    return out


def formula_of(amounts: np.ndarray, universe: tuple[str, ...]) -> str:
    """A chemist's formula for one row: equimolar cations in brackets, '(FeCoNiCuZn)O'."""
    return formulas(amounts[None, :], universe)[0]


def rows_of(result: dict[str, np.ndarray], ion: str, universe: tuple[str, ...]) -> Iterator[dict[str, Any]]:
    """The kept rows as dicts (for printing and ranking): columns_of, row by row."""
    columns = columns_of(result, ion, universe)
    for values in zip(*(columns[c] for c in COLUMNS), strict=True):
        yield dict(zip(COLUMNS, values, strict=True))


@dataclass(frozen=True)
class EvidenceFilter:
    """--evidence MECHANISM=LEVEL: the mechanism's evidence is LEVEL or stronger, by the order of the scale
    in rules/85-evidence.toml (strongest first); MECHANISM==LEVEL: exactly LEVEL."""

    mechanism: str  # as the rules name it (space-charge)
    level: str
    exactly: bool = False

    @classmethod
    def parse(cls, text: str) -> EvidenceFilter:
        by_key = {json_key(m): m for m in MECHANISMS}
        exactly = "==" in text
        name, _, level = (t.strip() for t in text.partition("==" if exactly else "="))
        mechanism = by_key.get(name.replace("-", "_"))
        if mechanism is None or level not in LEVELS:
            what = ("not MECHANISM=LEVEL" if "=" not in text else f"no mechanism '{name}'" if mechanism is None
                    else f"no evidence level '{level}'")
            raise ScreenError(f"--evidence '{text}': {what}",
                              f"give MECHANISM=LEVEL (LEVEL or stronger) or MECHANISM==LEVEL (exactly), with a "
                              f"mechanism among {', '.join(by_key)} and a level among, strongest first, "
                              f"{', '.join(LEVELS)}")
        return cls(mechanism, level, exactly)

    def mask(self, result: dict[str, np.ndarray]) -> np.ndarray:
        levels, wanted = result[f"evidence_{self.mechanism}"], LEVELS.index(self.level)
        return np.asarray(levels == wanted if self.exactly else levels <= wanted)


@dataclass
class Filters:
    mechanisms: tuple[str, ...] = ()  # each must be accessible
    hem_only: bool = False
    no_unclassified: bool = False
    allow_unbalanced: bool = False  # keep candidates with no charge-balanced reading (marked in their columns)
    evidence: tuple[EvidenceFilter, ...] = ()  # each must hold

    def mask(self, result: dict[str, np.ndarray]) -> np.ndarray:
        keep = np.ones(len(result["vector"]), dtype=bool)
        if not self.allow_unbalanced:
            keep &= result["charge_balanced"]
        for m in self.mechanisms:
            keep &= result[f"status_{m}"] == STATUS_CODES["accessible"]
        for e in self.evidence:
            keep &= e.mask(result)
        if self.hem_only:
            keep &= result["meets_hem_definition"]
        if self.no_unclassified:
            keep &= ~result["unclassified"]
        return keep


# ------------------------------------------------------------------ `hem screen` options, from the CLI or API

def names(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """'A, B' (as the CLI takes it) or ['A', 'B'] (as the API does) -> ('A', 'B')."""
    items = value.split(",") if isinstance(value, str) else list(value or ())
    return tuple(t.strip() for t in items if isinstance(t, str) and t.strip())


def sizes_of(value: int | str | Iterable[int] | None) -> tuple[int, ...]:
    """-k: 5, '5', '4-6' or [4, 5, 6] -> the numbers of cations; None: the paper's HEM minimum."""
    if value is None:
        return (vocab().hem.min_elements,)
    if isinstance(value, bool):
        raise ScreenError(f"-k must be a number of cations, not {value}", "e.g. -k 5 or -k 4-6")
    if isinstance(value, int):
        return (value,)
    try:
        if isinstance(value, str):
            low, _, high = value.partition("-")
            return tuple(range(int(low), int(high or low) + 1))
        return tuple(int(v) for v in value)
    except (TypeError, ValueError):
        raise ScreenError(f"-k '{value}' is not a number or a range", "e.g. -k 5 or -k 4-6") from None


def from_options(*, include: str | Iterable[str] | None = None, exclude: str | Iterable[str] | None = None,
                 require: str | Iterable[str] | None = None, k: int | str | Iterable[int] | None = None,
                 anions: str | Iterable[str] | None = None, ions: str | Iterable[str] | None = None,
                 grid: float | None = None, mechanisms: str | Iterable[str] = (),
                 evidence: str | Iterable[str] | Mapping[str, str] = (), hem_only: bool = False,
                 no_unclassified: bool = False, allow_unbalanced: bool = False,
                 pareto: str | Iterable[str] = (), library: str | None = None
                 ) -> tuple[Space, Filters, tuple[str, ...]]:
    """The space, filters and Pareto objectives that `hem screen`'s options (or the same keyword arguments of
    hemkg.screen) name, checked: ScreenError says which option is wrong. None: the option's default. `library`:
    the key of a literature library's compiled tables (vectorised.library_key), whose findings join the evidence."""
    sizes = sizes_of(k)
    v = vocab()
    pool = [s for s in [*v.cations, *names(include)] if s not in names(exclude)]
    anion_options = tuple(AnionOption.parse(a) for a in names(anions)) if anions is not None else default_anions()
    space = Space(pool=tuple(dict.fromkeys(pool)), sizes=sizes, anions=anion_options,
                  ions=names(ions) if ions is not None else v.ion_symbols, required=names(require),
                  grid_step=grid, library=library).validate()
    objectives = names(pareto)
    for name in objectives:
        if name not in OBJECTIVES:
            raise ScreenError(f"--pareto '{name}' cannot be ranked", f"use some of {', '.join(OBJECTIVES)}")
    by_word = {word: m.name for m in v.mechanisms for word in (m.name, m.json_key)}
    wanted = names(mechanisms)
    unknown = [m for m in wanted if m not in by_word]
    if unknown:
        raise ScreenError(f"--mechanism '{unknown[0]}' is no mechanism",
                          f"use some of {', '.join(m.json_key for m in v.mechanisms)}")
    levels = ([f"{m}={lv}" for m, lv in evidence.items()] if isinstance(evidence, Mapping)
              else [evidence] if isinstance(evidence, str) else list(evidence))
    filters = Filters(tuple(by_word[m] for m in wanted), hem_only, no_unclassified, allow_unbalanced,
                      tuple(EvidenceFilter.parse(e) for e in levels))
    return space, filters, objectives


@dataclass
class Summary:
    screened: int = 0
    kept: int = 0
    unbalanced: int = 0  # screened candidates with no charge-balanced reading (dropped unless allow_unbalanced)
    interrupted: bool = False
    top: list[dict[str, Any]] = field(default_factory=list)  # ranked rows, or examples of the Pareto front
    front: list[dict[str, Any]] = field(default_factory=list)  # Pareto: each non-dominated point, its count


def _dominated(points: np.ndarray) -> np.ndarray:
    """For each row, whether another row is at least as good in every objective and better in one.

    Only the best row in the first objective among rows equal in the others can
    be on the front, so the quadratic comparison runs on those few alone.
    """
    n = len(points)
    dominated = np.ones(n, dtype=bool)
    rest, group = np.unique(points[:, 1:], axis=0, return_inverse=True)
    group = group.ravel()
    best_first = np.full(len(rest), -np.inf)
    np.maximum.at(best_first, group, points[:, 0])
    contenders = np.flatnonzero(points[:, 0] == best_first[group])
    unique, inverse = np.unique(points[contenders], axis=0, return_inverse=True)
    ge = (unique[:, None, :] >= unique[None, :, :]).all(axis=2)
    gt = (unique[:, None, :] > unique[None, :, :]).any(axis=2)
    dominated[contenders] = np.asarray((ge & gt).any(axis=0))[inverse.ravel()]  # np.asarray: as in evaluate()
    return dominated


def screen(space: Space, filters: Filters | None = None, rank_by: str = "capacity", pareto: tuple[str, ...] = (),
           top: int = 20, executor: Executor | None = None,
           sink: Callable[[dict[str, np.ndarray], Batch], None] | None = None,
           progress: Callable[[int], None] | None = None, batch_size: int = BATCH,
           stop: Callable[[], bool] | None = None) -> Summary:
    """Screen the space; `sink` receives each batch's kept columns, `progress` each batch's size.

    The workers format every kept row's formula for `sink` (a writer needs them all), unless the sink says it
    reads only a few rows (`sink.needs_formulas` False: rows_of and columns_of format those), which saves most of
    a screen's time.

    Returns the screened and kept counts and the ranked top rows (or the Pareto front).
    Ctrl-C, or `stop()` turning true (checked after each batch: see StopRequest),
    stops it, keeping what `sink` has received. A pool whose worker died raises
    ScreenError (unless a stop was asked for: Ctrl-C reaches the workers too).
    """
    from concurrent.futures import BrokenExecutor

    space.validate()
    filters = filters or Filters()
    for name in (rank_by, *pareto):
        if name not in OBJECTIVES:
            raise ScreenError(f"'{name}' cannot be ranked", f"use one of {', '.join(OBJECTIVES)}")
    summary = Summary()
    best: list[dict[str, Any]] = []
    front: dict[tuple[float, ...], dict[str, Any]] = {}  # Pareto point -> count and example rows
    window = 2 * (getattr(executor, "_max_workers", None) or os.cpu_count() or 1)
    try:
        formatted = sink is not None and getattr(sink, "needs_formulas", True)
        for batch, result in _bounded_map(executor, space.batches(batch_size), window, formatted):
            keep = filters.mask(result)
            summary.screened += len(keep)
            summary.unbalanced += int((~result["charge_balanced"]).sum())
            kept = {k: v[keep] for k, v in result.items()}
            n = int(keep.sum())
            summary.kept += n
            if sink and n:
                sink(kept, batch)
            if n and pareto:
                _merge_front(front, kept, batch, pareto, top)
            elif n:
                chosen = _top(_rankable(kept[OBJECTIVES[rank_by]]), top)
                rows = list(rows_of({k: v[chosen] for k, v in kept.items()}, batch.ion, batch.universe))
                best = sorted(best + rows, key=lambda r: -_rank_value(r[OBJECTIVES[rank_by]]))[:top]
            if progress:
                progress(len(keep))
            if stop is not None and stop():
                summary.interrupted = True
                break
    except KeyboardInterrupt:
        summary.interrupted = True
    except BrokenExecutor:
        if stop is None or not stop():
            raise ScreenError("a worker process died before the screen was done (killed, or out of memory)",
                              "run it again, perhaps with fewer --workers; nothing was written") from None
        summary.interrupted = True
    if pareto:
        points = sorted(front, reverse=True)
        summary.front = [{**dict(zip(pareto, p, strict=True)), "count": front[p]["count"]} for p in points]
        summary.top = [row for p in points for row in front[p]["examples"]]
    else:
        summary.top = best
    return summary


class StopRequest:
    """SIGINT (Ctrl-C) and SIGTERM while screening: the first asks `screen` to stop after the batch
    in hand, so that what was written is whole batches; a second stops at once (KeyboardInterrupt).

    Use as `with StopRequest() as stop: screen(..., stop=stop)`; `signal` is the
    first signal received, or None. Processes forked meanwhile (pool workers)
    ignore SIGINT, which a terminal sends to them too (the parent stops them
    cleanly, without a traceback from each), and die of SIGTERM as by default.
    """

    SIGNALS = ("SIGINT", "SIGTERM")

    def __init__(self) -> None:
        self.signal: int | None = None
        self._previous: dict[int, Any] = {}
        self._pid = os.getpid()

    def __enter__(self) -> StopRequest:
        import signal
        import threading

        if threading.current_thread() is threading.main_thread():
            for name in self.SIGNALS:
                number = getattr(signal, name)
                self._previous[number] = signal.signal(number, self._received)
        return self

    def __exit__(self, *exc: object) -> None:
        import signal

        for number, handler in self._previous.items():
            signal.signal(number, handler)
        self._previous.clear()

    def _received(self, number: int, frame: object) -> None:
        import signal

        if os.getpid() != self._pid:  # a forked worker: Ctrl-C (sent to the whole group) is for the parent,
            if number == signal.SIGINT:  # which stops the pool cleanly; SIGTERM ends it as if no handler were here
                return
            signal.signal(number, signal.SIG_DFL)
            os.kill(os.getpid(), number)
            return
        if self.signal is not None:
            raise KeyboardInterrupt
        self.signal = number

    def __call__(self) -> bool:
        return self.signal is not None

    @property
    def exit_code(self) -> int:
        """130 after Ctrl-C, 143 after SIGTERM (128 + the signal's number), as shells report them."""
        return 128 + (self.signal or 2)


def _rankable(values: np.ndarray) -> np.ndarray:
    """Values to rank by: a capacity that cannot be computed (NaN, not charge-balanced) ranks last."""
    return np.nan_to_num(values.astype(float), nan=-np.inf)


def _rank_value(value: float | None) -> float:
    return -math.inf if value is None or math.isnan(value) else value


def _top(values: np.ndarray, n: int) -> np.ndarray:
    """Indices of the n largest values, ties in row order: a stable sort of the whole batch,
    but sorting only the values at or above the n-th largest."""
    if len(values) > n > 0:
        threshold = np.partition(values, len(values) - n)[len(values) - n]
        candidates = np.flatnonzero(values >= threshold)
        return candidates[np.argsort(-values[candidates], kind="stable")][:n]
    return np.argsort(-values, kind="stable")[:n]


def _merge_front(front: dict[tuple[float, ...], dict[str, Any]], kept: dict[str, np.ndarray], batch: Batch,
                 objectives: tuple[str, ...], examples: int) -> None:
    """Add a batch to the running Pareto front: its points, how many candidates sit on each, a few examples.

    Many candidates tie on the same point (the counts are small integers), so the
    front is kept as points with counts rather than as every tied row.
    """
    points = np.stack([_rankable(kept[OBJECTIVES[o]]) for o in objectives], axis=1)
    on_front = ~_dominated(points)  # within the batch first: only these can join the running front
    kept = {k: v[on_front] for k, v in kept.items()}
    points = points[on_front]
    unique, inverse, counts = np.unique(points, axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.ravel()
    for i, point in enumerate(map(tuple, unique.tolist())):
        entry = front.setdefault(point, {"count": 0, "examples": []})
        entry["count"] += int(counts[i])
        if len(entry["examples"]) < examples:
            take = np.flatnonzero(inverse == i)[: examples - len(entry["examples"])]
            entry["examples"] += list(rows_of({k: v[take] for k, v in kept.items()}, batch.ion, batch.universe))
    all_points = np.array(list(front))
    for point, dominated in zip(list(front), _dominated(all_points), strict=True):
        if dominated:
            del front[point]


def _bounded_map(executor: Executor | None, batches: Iterator[Batch], window: int,
                 with_formulas: bool) -> Iterator[tuple[Batch, dict]]:
    """Evaluate batches in order with at most `window` in flight, so memory stays flat.

    Works with any concurrent.futures.Executor (a Dask client's get_executor() included);
    without one, in this process.
    """
    if executor is None:
        for batch in batches:
            yield batch, evaluate(batch, with_formulas)
        return
    from collections import deque

    pending: deque = deque()
    for batch in batches:
        pending.append((batch, executor.submit(evaluate, batch, with_formulas)))
        if len(pending) >= window:
            done_batch, future = pending.popleft()
            yield done_batch, _result(executor, future)
    while pending:
        done_batch, future = pending.popleft()
        yield done_batch, _result(executor, future)


def _result(executor: Executor, future: Any) -> dict:
    """future.result(), but never waiting forever on a process pool whose worker died.

    A worker killed while it sends its result leaves ProcessPoolExecutor's
    manager thread blocked reading the rest of that message, so the future
    never completes and shutdown() never returns. Its processes are watched
    here instead: on a death, the rest are killed and the parent's end of the
    result pipe closed, so that the manager thread reads end-of-file and marks
    the pool broken, and BrokenExecutor is raised.
    """
    from concurrent.futures import BrokenExecutor

    processes = getattr(executor, "_processes", None)
    if processes is None:  # not a process pool (threads, Dask): its own result() is enough
        return future.result()
    while True:
        try:
            return future.result(timeout=0.5)
        except TimeoutError:
            if any(p.exitcode is not None for p in list(processes.values())):
                _unblock(executor)
                raise BrokenExecutor("a worker process died") from None


def _unblock(executor: Executor) -> None:
    for process in list(getattr(executor, "_processes", {}).values()):
        process.kill()
        process.join(5)
    with contextlib.suppress(AttributeError, OSError):
        executor._result_queue._writer.close()  # type: ignore[attr-defined]


def default_executor(workers: int | None) -> Executor | None:
    """A process pool of `workers` (all cores by default); None for one worker (in process).

    The workers die with this process, even when it is killed (SIGTERM, SIGKILL); create the
    pool and submit to it from a thread that outlives it (the main thread).
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from hemkg.system.processes import die_with_parent

    workers = workers or os.cpu_count() or 1
    if workers == 1:
        return None
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"),
                               initializer=die_with_parent, initargs=(os.getpid(),))


# ------------------------------------------------------------------ writing every row

def formulas(amounts: np.ndarray, universe: tuple[str, ...]) -> list[str]:
    """formula_of for a whole batch: the cation and the anion part are each formatted once per distinct value (a
    cation set recurs with every anion option), then joined. Amounts that are not short decimals (the 7/6 O of a
    balanced (FeCoNi)O) are written in whole formula units, '(FeCoNi)6O7', so that `hem consult` reads back
    exactly the screened composition."""
    if not len(amounts):
        return []
    formers = vocab().anion_formers
    anion = np.array([s in formers for s in universe], dtype=bool)
    cations, anions = amounts[:, ~anion], amounts[:, anion]
    cation_symbols = [s for s, a in zip(universe, anion, strict=True) if not a]
    anion_symbols = [s for s, a in zip(universe, anion, strict=True) if a]
    shared = _shared_site(cations)
    m = _multipliers(np.where(shared[:, None], 0.0, cations), anions)
    heads = _formatted(np.hstack([cations, m[:, None], shared[:, None]]),
                       lambda row: _cation_part(cation_symbols, row[:-2], int(row[-2]), bool(row[-1])))
    tails = _formatted(np.hstack([anions, m[:, None]]), lambda row: _anion_part(anion_symbols, row[:-1], int(row[-1])))
    return [c + a for c, a in zip(heads, tails, strict=True)]


def _formatted(block: np.ndarray, format_row: Callable[[list[float]], str]) -> list[str]:
    """format_row of each row, computed once per distinct row."""
    first, inverse = _distinct(block)
    texts = [format_row(row) for row in block[first].tolist()]
    return [texts[i] for i in inverse.tolist()]


_KEY_WEIGHTS = np.sqrt(np.arange(2, 2 + 512, dtype=float))  # irrational: distinct rows get distinct keys


def _distinct(block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The first index of each distinct row and each row's distinct-row number: rows told apart by one float key
    (a 1-d unique is far faster than np.unique(axis=0)), checked exactly."""
    starts = np.flatnonzero(np.r_[True, np.any(block[1:] != block[:-1], axis=1)])  # runs of equal rows first
    runs = block[starts]
    keys = np.einsum("ij,j->i", runs, _KEY_WEIGHTS[: block.shape[1]])
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    if not np.array_equal(runs[first][inverse.ravel()], runs):  # two rows with one key: never seen, but exact
        _, first, inverse = np.unique(runs, axis=0, return_index=True, return_inverse=True)
    marks = np.zeros(len(block), dtype=np.intp)
    marks[starts] = 1
    run_of_row = np.cumsum(marks) - 1
    return starts[first], inverse.ravel()[run_of_row]


def _shared_site(cations: np.ndarray) -> np.ndarray:
    """Rows whose cations share one site: two or more at equal amounts summing to 1, written '(FeCoNi)'."""
    present = cations > 0
    high = cations.max(axis=1, initial=0.0)
    low = np.where(present, cations, np.inf).min(axis=1, initial=np.inf)
    return (present.sum(axis=1) > 1) & (high - low < 1e-9) & (np.abs(cations.sum(axis=1) - 1) < 1e-9)


SHORT_DECIMAL = 10**4  # amounts are written with at most four decimals


def _multipliers(*blocks: np.ndarray) -> np.ndarray:
    """Per row, the least whole number of formula units in which every amount of the blocks is a short decimal:
    1 for almost every row (checked at once); the others one by one, by fractions."""
    values = np.hstack(blocks)
    scaled = values * SHORT_DECIMAL
    m = np.ones(len(values))
    odd = np.flatnonzero((np.abs(scaled - np.rint(scaled)) > 1e-6).any(axis=1))
    if len(odd):
        first, inverse = _distinct(values[odd])
        m[odd] = np.array([_multiplier(row) for row in values[odd][first].tolist()])[inverse]
    return m


def _multiplier(amounts: list[float]) -> int:
    from fractions import Fraction

    m = 1
    for v in amounts:
        if v:
            q = Fraction(v).limit_denominator(10**6) * m
            if SHORT_DECIMAL % q.denominator:
                m *= q.denominator
    return m


def _cation_part(symbols: list[str], amounts: list[float], m: int, shared: bool) -> str:
    """'(FeCoNiCuZn)' for a shared site ('(FeCoNi)6' in six formula units), else 'Fe0.3Co0.7'."""
    cats = [(s, v) for s, v in zip(symbols, amounts, strict=True) if v != 0]
    if shared:
        return "(" + "".join(c for c, _ in cats) + ")" + (str(m) if m > 1 else "")
    return "".join(f"{c}{_number(v * m)}" for c, v in cats)


def _anion_part(symbols: list[str], amounts: list[float], m: int) -> str:
    return "".join(a if round(v * m, 9) == 1 else f"{a}{_number(v * m)}"
                   for a, v in zip(symbols, amounts, strict=True) if v != 0)


def _number(x: float) -> str:
    """A short decimal as written: 1.1 (not 1.0999999999999999), 7 (not 7.0)."""
    return f"{round(x, 4):.4f}".rstrip("0").rstrip(".")


def _states_text(amounts: np.ndarray, universe: tuple[str, ...]) -> list[str]:
    """Each row's cations at the states the screen gives them, 'Fe3+ Co2+ Ni2+'; 'metallic' for an alloy (all 0)."""
    from hemkg.consultation.oxidation import screen_state, signed

    if not len(amounts):
        return []
    formers = vocab().anion_formers
    cation = [i for i, s in enumerate(universe) if s not in formers]
    anion = [i for i, s in enumerate(universe) if s in formers]
    labels = []
    for i in cation:
        state = screen_state(universe[i])
        labels.append(f"{universe[i]}{signed(state[0]) if state else '?'}")
    block = amounts[:, cation]
    first, inverse = _distinct(block)
    texts = [" ".join(labels[j] for j in np.flatnonzero(row).tolist()) for row in block[first]]
    metallic = np.asarray(~(amounts[:, anion] > 0).any(axis=1))  # np.asarray: as in evaluate()
    return ["metallic" if alloy else texts[i] for i, alloy in zip(inverse.tolist(), metallic.tolist(), strict=True)]


def columns_of(result: dict[str, np.ndarray], ion: str, universe: tuple[str, ...]) -> dict[str, list]:
    """The kept rows as columns (what Writer writes), built from the arrays, not row by row."""
    names = np.array([json_key(STATUS_NAMES[i]) for i in range(len(STATUS_NAMES))])
    n = len(result["vector"])
    names_given = result["formula"].tolist() if "formula" in result else formulas(result["amounts"], universe)
    columns: dict[str, list] = {"formula": names_given, "ion": [ion] * n}
    for m in MECHANISMS:
        columns[json_key(m)] = names[result[f"status_{m}"].astype(int)].tolist()
    levels = np.array(LEVELS)
    for m in MECHANISMS:
        columns[f"evidence_{json_key(m)}"] = levels[result[f"evidence_{m}"].astype(int)].tolist()
    for key in ("capacity_conversion", "capacity_alloying", "capacity_total"):  # None: not charge-balanced
        values = result[key].astype(float)
        columns[key] = [None if math.isnan(v) else v for v in values.tolist()] if np.isnan(values).any() \
            else values.tolist()
    columns["entropy_cation_R"] = result["entropy_cation_R"].astype(float).tolist()
    columns["oxidation_states"] = _states_text(result["amounts"], universe)
    columns["other_assignments"] = result["other_assignments"].astype(int).tolist()
    for key in ("capacity_contributors", "stability_contributors", "fast_charging_contributors"):
        columns[key] = result[key].astype(int).tolist()
    for key in ("charge_balanced", "less_common_states", "meets_hem_definition", "unclassified"):
        columns[key] = result[key].astype(bool).tolist()
    return columns


UNITS = {"capacity_conversion": "mAh/g", "capacity_alloying": "mAh/g", "capacity_total": "mAh/g",
         "entropy_cation_R": "R (ideal configurational entropy per cation site, in units of the gas constant)"}


def run_metadata(parameters: dict[str, Any]) -> dict[str, Any]:
    """What a screen's output file says of itself: the options it ran with, the columns' units, the hemkg
    version and the paper its rules come from (DOI and citation, read from the graph)."""
    from hemkg import __version__
    from hemkg.graph.statements import paper

    return {"hemkg_version": __version__,
            "paper": {"doi": paper()["doi"], "citation": paper()["citation"]},
            "parameters": {k: (list(v) if isinstance(v, tuple) else v if v is None or isinstance(v, (bool, int, float))
                               else str(v)) for k, v in parameters.items() if k != "output"},
            "units": UNITS}


COLUMNS = ("formula", "ion", "charge_balanced", "oxidation_states", "other_assignments", "less_common_states",
           *(json_key(m) for m in MECHANISMS), *(f"evidence_{json_key(m)}" for m in MECHANISMS),
           "capacity_conversion", "capacity_alloying", "capacity_total", "capacity_contributors",
           "stability_contributors", "fast_charging_contributors", "entropy_cation_R", "meets_hem_definition",
           "unclassified")


class Collector:
    """A `sink` for screen() that keeps the rows screen() returns, as whole columns (columns_of) plus each element's
    amount per formula unit (`x_Fe`; the cations sum to 1): the rows a ranking's top could hold (each batch's own
    top), or those on a batch's own Pareto front. `rows(summary)` gives the returned rows, in their order; with
    `top=None` every kept row is kept, ranked (memory grows with them)."""

    def __init__(self, rank_by: str = "capacity", pareto: tuple[str, ...] = (), top: int | None = 20) -> None:
        self.rank_by, self.pareto, self.top = rank_by, pareto, top
        self.needs_formulas = top is None  # a batch's top or front: columns_of formats those rows alone
        self.columns: dict[str, list] = {}
        self.universe: tuple[str, ...] = ()

    def __call__(self, kept: dict[str, np.ndarray], batch: Batch) -> None:
        if self.pareto:
            points = np.stack([_rankable(kept[OBJECTIVES[o]]) for o in self.pareto], axis=1)
            chosen = np.flatnonzero(~_dominated(points))
        elif self.top is not None:
            chosen = _top(_rankable(kept[OBJECTIVES[self.rank_by]]), self.top)
        else:
            chosen = np.arange(len(kept["vector"]))
        part = {k: v[chosen] for k, v in kept.items()}
        columns = columns_of(part, batch.ion, batch.universe)
        self.universe = self.universe or batch.universe
        for i, symbol in enumerate(batch.universe):
            columns[f"x_{symbol}"] = part["amounts"][:, i].astype(float).round(6).tolist()
        for name, values in columns.items():
            self.columns.setdefault(name, []).extend(values)

    def names(self) -> list[str]:
        """The columns in order: those a screen writes (COLUMNS), then each element's amount."""
        return [*COLUMNS, *(f"x_{s}" for s in self.universe)]

    def rows(self, summary: Summary) -> dict[str, list]:
        """The rows screen() returned (summary.top: its ranking or its front's examples), as columns; with
        `top=None`, every kept row, ranked as screen() ranks (a stable sort, highest first)."""
        if not self.columns:
            return {name: [] for name in self.names()}
        if self.pareto or self.top is not None:
            where = {(f, i): n for n, (f, i) in enumerate(zip(self.columns["formula"], self.columns["ion"],
                                                              strict=True))}
            order = [where[(row["formula"], row["ion"])] for row in summary.top]
        else:
            ranked = self.columns[OBJECTIVES[self.rank_by]]
            order = sorted(range(len(ranked)), key=lambda n: -_rank_value(ranked[n]))
        return {name: [self.columns[name][n] for n in order] for name in self.names()}


class Writer:
    """Writes kept rows to CSV, JSON Lines or Parquet, checking the target first (system/outputs.py).

    A regular file is written through a locked temporary file in the target's
    folder: `close()` moves it into place, or with `partial=True` (a stopped
    run) to its own name, RESULTS.partial.SUFFIX, so that an earlier complete
    file is never replaced by a partial one; `abandon()` (after an error)
    removes it. A FIFO is written directly. Standard output is refused, since
    `hem screen` prints its summary there.
    """

    def __init__(self, path: os.PathLike[str] | str, metadata: dict[str, Any] | None = None):
        from pathlib import Path

        from hemkg.system import outputs

        self.metadata = metadata  # Parquet: the run's parameters, units, version (run_metadata), under b"hemkg"
        self.path = Path(path)
        self.kind = {".csv": "csv", ".jsonl": "jsonl", ".parquet": "parquet"}.get(self.path.suffix.lower())
        if str(path) == "-":
            raise ScreenError("-o -: hem screen prints its summary on standard output, so the rows cannot go there too",
                              "give a file name ending in .csv, .jsonl or .parquet, "
                              "or a FIFO so named (mkfifo rows.csv)")
        if self.kind is None:
            raise ScreenError(f"cannot write '{self.path.name}': the name must end in .csv, .jsonl or .parquet")
        try:
            target = outputs.check(self.path)
        except outputs.OutputError as err:
            raise ScreenError(err.message, err.hint) from None
        if target.fd is not None:
            raise ScreenError(f"-o {path}: that is standard output or error, where hem screen prints its summary",
                              "give a file name ending in .csv, .jsonl or .parquet, or a FIFO so named")
        if self.kind == "parquet":
            try:
                import pyarrow  # noqa: F401
            except ImportError:
                raise ScreenError("writing Parquet needs pyarrow",
                                  "pip install 'hemkg[parquet]', or write .csv or .jsonl") from None
        try:
            self._output = outputs.Output(target)
        except outputs.OutputError as err:
            raise ScreenError(err.message, err.hint) from None
        assert self._output.path is not None  # a file or a FIFO: standard streams were refused above
        self.tmp: Path = self._output.path  # where the rows go while the run lasts (the FIFO itself for a FIFO)
        self.rows = 0
        self.damaged = False  # a write stopped half-way: the file must not be kept
        self._parquet: pyarrow.parquet.ParquetWriter | None = None
        self._file: IO[Any] | None = None  # open from here until close() or abandon()
        try:
            # Parquet too goes through a Python file: pyarrow's own (by path) seeks, which a FIFO cannot.
            # The file stays open across batches, so no `with`: close() and abandon() close it.
            if self.kind == "parquet":
                self._file = open(self.tmp, "wb")  # noqa: SIM115 - open until close() or abandon()
            else:
                self._file = text = open(self.tmp, "w", encoding="utf-8", newline="")  # noqa: SIM115 - the same
                if self.kind == "csv":
                    import csv

                    self._csv = csv.writer(text)
                    self._csv.writerow(COLUMNS)
        except OSError as err:
            self.abandon()
            raise self._error(err) from None

    @property
    def partial_path(self) -> Path:
        """Where a stopped run's rows go: results.partial.parquet beside results.parquet."""
        return self.path.with_name(f"{self.path.stem}.partial{self.path.suffix}")

    def __call__(self, kept: dict[str, np.ndarray], batch: Batch) -> None:
        columns = columns_of(kept, batch.ion, batch.universe)
        self.damaged = True  # until this batch is written whole
        try:
            self._write_columns(columns)
        except OSError as err:
            raise self._error(err) from None
        self.damaged = False
        self.rows += len(columns["formula"])

    def _write_columns(self, columns: dict[str, list]) -> None:
        file = self._file
        assert file is not None  # batches come between __init__ and close()
        if self.kind == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = self._with_metadata(pa.table({c: columns[c] for c in COLUMNS}))
            if self._parquet is None:
                self._parquet = pq.ParquetWriter(file, table.schema)
            self._parquet.write_table(table)
        else:
            rows = zip(*(columns[c] for c in COLUMNS), strict=True)
            if self.kind == "csv":
                self._csv.writerows(rows)
            else:
                import json

                file.writelines(json.dumps(dict(zip(COLUMNS, row, strict=True))) + "\n" for row in rows)

    def _with_metadata(self, table: Any) -> Any:
        """The Arrow table with the run's metadata as the file's key-value metadata (JSON under b"hemkg")."""
        if not self.metadata:
            return table
        import json

        return table.replace_schema_metadata({b"hemkg": json.dumps(self.metadata, ensure_ascii=False).encode()})

    def _error(self, err: OSError) -> ScreenError:
        import errno

        full = err.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))
        return ScreenError(f"cannot write to '{self.path}': {err.strerror or err}",
                           "free some space on that disk, or write somewhere else; nothing was kept" if full
                           else "check the folder's permissions and the disk; nothing was kept")

    def close(self, partial: bool = False) -> Path | None:
        """Finish the file and put it in place: over the target, or with `partial` (a stopped run) at
        `partial_path`. Returns where the rows are; None if a half-written batch meant nothing was kept."""
        from hemkg.system import outputs

        if self.damaged:
            self.abandon()
            return None
        try:
            self._finish()
        except OSError as err:
            self.abandon()
            raise self._error(err) from None
        try:
            if partial and not self._output.target.direct:
                if outputs.check(self.partial_path).direct:
                    raise outputs.OutputError(f"cannot write to '{self.partial_path}': it is a FIFO or standard output",
                                              "remove it, so that a stopped run can keep its rows there")
                self._output.commit(to=self.partial_path)
                return self.partial_path
            self._output.commit()
            return self.path
        except outputs.OutputError as err:
            self.abandon()
            raise ScreenError(err.message, err.hint) from None

    def _finish(self) -> None:
        file, parquet, self._file, self._parquet = self._file, self._parquet, None, None
        assert file is not None  # close() comes once, before any abandon()
        if parquet is not None:
            parquet.close()
        elif self.kind == "parquet":  # nothing kept: still write a valid, empty file
            import pyarrow as pa
            import pyarrow.parquet as pq

            pq.write_table(self._with_metadata(pa.table({c: [] for c in COLUMNS})), file)
        file.close()

    def abandon(self) -> None:
        """Remove the temporary file (after an error or a half-written batch); an earlier target is untouched."""
        for closing in (self._parquet, self._file):
            try:
                if closing is not None:
                    closing.close()
            except OSError:
                pass
        self._file = self._parquet = None
        self._output.discard()
