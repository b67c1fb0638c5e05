"""A screen's Pareto front: every screened point faint, the non-dominated ones highlighted and joined.

The input is what `hem screen` gives: its rows as dicts (hemkg.screening.run
rows_of, or the rows of `-o results.jsonl`) or a pandas DataFrame with those
columns. Objectives are named as for `hem screen --pareto` (capacity,
cycling_stability, ...; higher is better for each), or by a column. A row may
carry a `count` (how many candidates share its point, as `hem plot pareto` passes
them); otherwise each row counts once. With three objectives the third is the
colour. The best few points of the front are labelled with a formula, each
label placed where it overlaps no other label (a greedy search over offsets).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from hemkg.errors import InputError
from hemkg.figures.base import GREY, OKABE_ITO, new_figure, style

if TYPE_CHECKING:
    from matplotlib.figure import Figure

LABELLED = 6  # front points labelled with a formula
# Label offsets in points, nearest first: tried in turn for each label until one overlaps no other label.
OFFSETS = sorted(((dx, dy) for dx in range(-72, 73, 12) for dy in range(-64, 65, 8) if abs(dx) >= 6 and dy),
                 key=lambda d: (math.hypot(*d), -d[0], -d[1]))

_AXIS = {  # objective -> axis label (units where it has one)
    "capacity": "Theoretical capacity (mAh g$^{-1}$)",
    "capacity_contributors": "Elements credited with higher {specific-capacity}",
    "cycling_stability": "Elements credited with higher {cycling-stability}",
    "fast_charging": "Elements credited with better {fast-charging}",
    "entropy": "Ideal cation-site entropy, $S/R$",
}


def axis_label(objective: str) -> str:
    """The axis label of an objective, the property names as the graph labels them."""
    from hemkg.graph.vocab import vocab

    text = _AXIS.get(objective, objective)
    for p in vocab().properties:
        text = text.replace("{" + p.name + "}", p.label)
    return text


def column_of(objective: str) -> str:
    from hemkg.screening.objectives import OBJECTIVES

    return OBJECTIVES.get(objective, objective)


def non_dominated(points: Sequence[tuple[float, ...]]) -> list[tuple[float, ...]]:
    """The distinct points no other point equals or beats in every objective and beats in one (higher is better).

    In descending order a point's dominators all come before it, and any dominator is itself on the front or
    beaten by a point that is: so each point is checked against the front found so far alone.
    """
    front: list[tuple[float, ...]] = []
    for p in sorted(set(points), reverse=True):
        if not any(all(a >= b for a, b in zip(q, p, strict=True)) for q in front):
            front.append(p)
    return front


def _records(rows: Any) -> list[Mapping[str, Any]]:
    if hasattr(rows, "to_dict"):  # a pandas DataFrame
        return list(rows.to_dict("records"))
    return list(rows)


def points_of(rows: Any, objectives: Sequence[str]) -> dict[tuple[float, ...], dict[str, Any]]:
    """Point -> {count, formulas (the first few)}, for the rows with a value in every objective."""
    columns = [column_of(o) for o in objectives]
    found: dict[tuple[float, ...], dict[str, Any]] = {}
    ions: set[Any] = set()
    for row in _records(rows):
        missing = [c for c in columns if c not in row]
        if missing:
            raise InputError(f"the rows have no column {missing[0]!r}",
                             "give rows of hem screen (or its -o file) and objectives among its columns")
        values = tuple(row[c] for c in columns)
        if any(v is None or (isinstance(v, float) and math.isnan(v)) for v in values):
            continue  # not charge-balanced: no capacity to place
        entry = found.setdefault(tuple(float(v) for v in values), {"count": 0, "formulas": []})
        entry["count"] += int(row.get("count", 1))
        if len(entry["formulas"]) < 3 and row.get("formula"):
            entry["formulas"].append((str(row["formula"]), row.get("ion")))
        ions.add(row.get("ion"))
    several = len(ions) > 1  # a screen of several carrier ions: each label names its own
    for entry in found.values():
        entry["formulas"] = [f"{formula}, {_ion_label(ion)}" if several and ion else formula
                             for formula, ion in entry["formulas"]]
    return found


def _ion_label(symbol: str) -> str:
    from hemkg.graph.vocab import vocab

    return next((i.label for i in vocab().ions if i.symbol == symbol), symbol)


def _overlaps(box: Any, placed: Iterable[Any]) -> bool:
    return any(box.overlaps(other) for other in placed)


def pareto(rows: Any, objectives: Sequence[str] = ("capacity", "cycling_stability"),
           title: str | None = None) -> Figure:
    """The Pareto front of `rows` on two or three objectives (higher is better in each)."""
    objectives = tuple(objectives)
    if len(objectives) not in (2, 3) or len(set(objectives)) < len(objectives):
        raise InputError(f"a Pareto figure takes two or three different objectives, not {', '.join(objectives)}",
                         "e.g. capacity,cycling_stability or capacity,cycling_stability,fast_charging")
    points = points_of(rows, objectives)
    if not points:
        raise InputError("no screened row has a value for every objective",
                         "widen the screen's selection (-k, --anions, --ions, --require)")
    front = non_dominated(list(points))
    with style():
        fig = new_figure(4.8 if len(objectives) == 3 else 4.2, 3.4)
        ax = fig.add_subplot()
        xs = [p[0] for p in points]
        ys = [p[1] for p in points]
        colour = {}
        if len(objectives) == 3:
            from matplotlib.colors import Normalize

            norm = Normalize(min(p[2] for p in points), max(p[2] for p in points))
            cmap = _cividis()
            colour = {p: cmap(norm(p[2])) for p in points}
            scalar = _mappable(cmap, norm)
            bar = fig.colorbar(scalar, ax=ax, pad=0.02)
            bar.set_label(axis_label(objectives[2]), fontsize=7)
            _integer_ticks(bar.ax.yaxis, [p[2] for p in points])
        faint = ax.scatter(xs, ys, s=10, c=[colour.get(p, GREY) for p in points] if colour else GREY,
                           alpha=0.35, linewidths=0, zorder=1, label="screened candidates")
        faint.set_gid("screened")
        fx = [p[0] for p in front]
        fy = [p[1] for p in front]
        if len(objectives) == 2:  # the front of two objectives as the staircase it is
            ordered = sorted(front)
            ax.step([p[0] for p in ordered], [p[1] for p in ordered], where="post", color=OKABE_ITO["vermillion"],
                    linewidth=1.0, zorder=2)
        highlighted = ax.scatter(fx, fy, s=28, c=[colour[p] for p in front] if colour else OKABE_ITO["vermillion"],
                                 edgecolors="black", linewidths=0.7, zorder=3, label="non-dominated (Pareto front)")
        highlighted.set_gid("front")
        ax.set_xlabel(axis_label(objectives[0]))
        ax.set_ylabel(axis_label(objectives[1]))
        _integer_ticks(ax.xaxis, xs)
        _integer_ticks(ax.yaxis, ys)
        total = sum(e["count"] for e in points.values())
        left_out = sum(int(r.get("count", 1)) for r in _records(rows)) - total
        ax.legend(loc="lower left", bbox_to_anchor=(0, 1.01), ncol=2, borderaxespad=0,
                  title=f"{_counted(total, 'candidate')} at {_counted(len(points), 'distinct point')}"
                  + (f" ({left_out:,} with no charge-balanced reading left out)" if left_out else ""),
                  title_fontsize=7, alignment="left")
        if title:
            ax.set_title(title)
        fig.canvas.draw()  # lay out once, so that the labels' boxes can be measured
        _label_best(fig, ax, front, points)
    return fig


def _label_best(fig: Figure, ax: Any, front: list[tuple[float, ...]], points: dict) -> None:
    """Label the best few front points (by the first objective, then the others) with a formula, no overlaps."""
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]  # the Agg canvas has one
    from matplotlib.transforms import Bbox

    centres = ax.transData.transform([(p[0], p[1]) for p in front])
    radius = 4 * fig.dpi / 72  # about a highlighted marker's radius, in pixels
    markers = [Bbox.from_extents(x - radius, y - radius, x + radius, y + radius) for x, y in centres]
    placed: list[Any] = []
    frame = ax.get_window_extent(renderer)
    for point in sorted(front, reverse=True)[:LABELLED]:
        entry = points[point]
        text = entry["formulas"][0] if entry["formulas"] else ""
        if entry["count"] > 1:
            text += f" (+{entry['count'] - 1:,} more)"
        for dx, dy in OFFSETS:
            label = ax.annotate(text, (point[0], point[1]), xytext=(dx, dy), textcoords="offset points",
                                fontsize=6, ha="left" if dx >= 0 else "right", va="bottom" if dy >= 0 else "top",
                                arrowprops={"arrowstyle": "-", "color": "#555555", "linewidth": 0.5,
                                            "shrinkA": 0, "shrinkB": 2})
            box = label_box(label, renderer)
            inside = frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
            if inside and not _overlaps(box, placed) and not _overlaps(box, markers):
                label.set_gid("front-label")
                placed.append(box)
                break
            label.remove()


def _counted(n: int, noun: str) -> str:
    """(1, 'candidate') -> '1 candidate'; (2, ...) -> '2 candidates'."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def label_box(label: Any, renderer: Any) -> Any:
    """A label's text box on the canvas, without its leader line (leader lines may cross)."""
    from matplotlib.text import Text

    label.update_positions(renderer)
    return Text.get_window_extent(label, renderer)


def _integer_ticks(axis: Any, values: Sequence[float]) -> None:
    """Whole-number ticks on an axis of counts (elements credited), not 0.5 steps."""
    if all(float(v).is_integer() for v in values):
        from matplotlib.ticker import MaxNLocator

        axis.set_major_locator(MaxNLocator(integer=True))


def _cividis() -> Any:
    from matplotlib import colormaps

    return colormaps["cividis"]  # perceptually uniform and readable with colour-vision deficiencies


def _mappable(cmap: Any, norm: Any) -> Any:
    from matplotlib.cm import ScalarMappable

    return ScalarMappable(norm=norm, cmap=cmap)


def screened_rows(space: Any, filters: Any, objectives: Sequence[str], executor: Any = None,
                  stop: Any = None) -> tuple[list[dict[str, Any]], Any]:
    """Screen `space` (hemkg.screening.run) and keep one example per distinct point of the objectives (its
    formula and objective columns) with the `count` of candidates on it: what `pareto` needs, in memory that
    grows with the distinct points, not the candidates. Returns the rows and the screen's Summary (its
    `front` is the screen's own front)."""
    import numpy as np

    from hemkg.screening import run as sc

    columns = [column_of(o) for o in objectives]
    kept: dict[tuple[float, ...], dict[str, Any]] = {}

    def sink(result: dict[str, Any], batch: Any) -> None:
        values = np.stack([np.asarray(result[c], dtype=float) for c in columns], axis=1)
        values = np.where(np.isnan(values), -np.inf, values)  # no charge-balanced reading: one key for them all
        unique, first, counts = np.unique(values, axis=0, return_index=True, return_counts=True)
        new = [i for i, point in enumerate(map(tuple, unique.tolist())) if point not in kept]
        examples = sc.rows_of({k: v[first[new]] for k, v in result.items()}, batch.ion, batch.universe) if new else []
        for i, row in zip(new, examples, strict=True):
            kept[tuple(unique[i].tolist())] = {"formula": row["formula"], "ion": row["ion"],
                                               **{c: row[c] for c in columns}, "count": 0}
        for point, n in zip(map(tuple, unique.tolist()), counts.tolist(), strict=True):
            kept[point]["count"] += n

    sink.needs_formulas = False  # type: ignore[attr-defined]  # only each new point's example (rows_of)
    summary = sc.screen(space, filters, objectives[0], tuple(objectives), 1, executor, sink, stop=stop)
    return list(kept.values()), summary
