"""The periodic table of Fig. 6a: the planes of the paper and the graph's other element groups, in colour.

The planes are the graph's hem:MechanismPlane groups, each the cations of one
mechanism; the non-converting cations (the paper's
inactive stabilizers, the graph's reading), the anions of reported HEM anodes
and the anion formers outside the paper's list are its other element groups
(hemkg.graph.vocab). An element in several groups is drawn split, one stripe per
group (Zn is on two planes). Bold symbols are the 26 cations and the anions
of reported HEM anodes (Table 1). With a candidate, its elements are outlined
and a panel gives each one's roles in the consultation with their evidence.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hemkg.figures.base import GREY, LIGHT, OKABE_ITO, answer_of, new_figure, style

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# The graph's element groups drawn beside the planes, by local name (kg/elements.ttl), and their colours.
STABILIZERS, LISTED_ANIONS, OUTSIDE_ANIONS, LISTED_CATIONS = (
    "non-converting-cations", "listed-anions", "outside-anions", "listed-cations")
PLANE_COLOURS = (OKABE_ITO["orange"], OKABE_ITO["sky blue"], OKABE_ITO["bluish green"])  # planes in name order
GROUP_COLOURS = {STABILIZERS: OKABE_ITO["yellow"], LISTED_ANIONS: OKABE_ITO["reddish purple"],
                 OUTSIDE_ANIONS: "#E8D3E0"}
LAST_ELEMENT = 86  # periods 1-6, the lanthanides in their own row below
F_ROW = 7.4


@dataclass(frozen=True)
class Category:
    """One colour of the table: a plane or a group, its legend text and members."""

    key: str  # the gid prefix of its stripes: 'plane-A', 'group-non-converting-cations'
    legend: str
    colour: str
    members: frozenset[str]
    hatch: str | None = None  # a second cue besides colour, for the palest


def categories() -> list[Category]:
    """The planes of Fig. 6a, then the stabilizers, anions and outside anions, as the graph has them."""
    from hemkg.graph.vocab import vocab

    v = vocab()
    found = [Category(f"plane-{p.name}", p.short_label, colour, frozenset(p.members))
             for p, colour in zip(v.planes, PLANE_COLOURS, strict=False)]
    stabilizer = v.role("stabilizer").label
    for name in (STABILIZERS, LISTED_ANIONS, OUTSIDE_ANIONS):
        group = v.group(name)
        legend = f"{group.label}: {stabilizer}s" if name == STABILIZERS else group.label
        found.append(Category(f"group-{name}", legend[0].upper() + legend[1:], GROUP_COLOURS[name],
                              frozenset(group.members), "...." if name == OUTSIDE_ANIONS else None))
    return found


def position(z: int) -> tuple[float, float] | None:
    """Atomic number -> (column, row) of the usual 18-column table; lanthanides Ce-Lu on row 7.4."""
    starts = ((1, 1), (3, 2), (11, 3), (19, 4), (37, 5), (55, 6), (87, 7))
    period, first = max((p, s) for s, p in starts if s <= z)
    offset = z - first
    if period == 1:
        return (1.0, 1.0) if z == 1 else (18.0, 1.0)
    if period in (2, 3):
        return (float(offset + 1), float(period)) if offset < 2 else (float(offset + 11), float(period))
    if period in (4, 5):
        return float(offset + 1), float(period)
    if period == 6:
        if offset <= 2:  # Cs, Ba, La
            return float(offset + 1), 6.0
        if offset <= 16:  # Ce-Lu
            return float(offset + 1), F_ROW
        return float(offset - 13), 6.0
    return None


def _elements() -> dict[str, int]:
    from hemkg.graph.store import select

    rows = select("SELECT ?s ?z WHERE { ?e a hem:ChemicalElement ; hem:symbol ?s ; hem:atomicNumber ?z }")
    return {r["s"]: int(r["z"]) for r in rows if int(r["z"]) <= LAST_ELEMENT}


def _role_lines(answer: dict[str, Any]) -> list[tuple[str, str]]:
    """(symbol, 'conversion: reported for this very material; alloying: ...') for each element of the answer."""
    from hemkg.consultation.evidence import short_words
    from hemkg.graph.vocab import vocab

    v = vocab()
    words = {m.json_key: m.label for m in v.mechanisms} | {r.json_key: r.label for r in v.roles}
    short = short_words()
    lines = []
    order = {name: i for i, name in enumerate(words)}  # mechanisms in the order of Section 2, then other roles
    for symbol, roles in answer["roles"].items():
        parts = []
        for role in sorted(roles, key=lambda r: order.get(r, len(order))):
            level = answer["role_evidence"].get(symbol, {}).get(role, {}).get("evidence")
            parts.append(f"{words.get(role, role)}" + (f" ({short.get(level, level)})" if level else ""))
        lines.append((symbol, "; ".join(parts) or "no role concluded"))
    return lines


def periodic_table(candidate: str | Mapping[str, Any] | None = None, ion: str = "Li") -> Figure:
    """The table of Fig. 6a; with `candidate` (a formula, consulted for `ion`, or a JSON answer of
    summarise(consult(...))), its elements outlined and their roles listed with their evidence."""
    from matplotlib.patches import Patch, Rectangle

    answer = None if candidate is None else answer_of(candidate, ion)
    cats = categories()
    from hemkg.graph.vocab import vocab

    v = vocab()
    bold = set(v.group(LISTED_CATIONS).members) | set(v.anions)
    lines = _role_lines(answer) if answer else []
    cell = 0.42  # inches
    table_h = 7.9 * cell
    panel_h = (0.35 + 0.16 * len(lines)) if lines else 0.0
    with style():
        fig = new_figure(18.4 * cell, table_h + panel_h, layout=None)
        ax = fig.add_axes((0.0, panel_h / (table_h + panel_h), 1.0, table_h / (table_h + panel_h)))
        ax.set_xlim(0.4, 18.8)
        ax.set_ylim(7.95, 0.45)
        ax.set_axis_off()
        ax.set_gid("periodic-table")
        outlined = set(answer["composition"]) if answer else set()
        for symbol, z in sorted(_elements().items(), key=lambda item: item[1]):
            where = position(z)
            if where is None:
                continue
            x, y = where
            mine = [c for c in cats if symbol in c.members]
            width = 0.92 / max(1, len(mine))
            for i, c in enumerate(mine):
                ax.add_patch(Rectangle((x - 0.46 + i * width, y - 0.46), width, 0.92, facecolor=c.colour,
                                       edgecolor=GREY if c.hatch else "none", linewidth=0, hatch=c.hatch,
                                       gid=f"{symbol}:{c.key}"))
            if not mine:
                ax.add_patch(Rectangle((x - 0.46, y - 0.46), 0.92, 0.92, facecolor=LIGHT, edgecolor="none",
                                       gid=f"{symbol}:none"))
            ax.add_patch(Rectangle((x - 0.46, y - 0.46), 0.92, 0.92, facecolor="none",
                                   edgecolor="black" if symbol in outlined else "white",
                                   linewidth=2.0 if symbol in outlined else 0.6, gid=f"{symbol}:outline",
                                   zorder=3 if symbol in outlined else 2))
            ax.text(x - 0.38, y - 0.38, str(z), fontsize=4, va="top", ha="left", color="#333333")
            ax.text(x, y + 0.08, symbol, fontsize=8, ha="center", va="center",
                    fontweight="bold" if symbol in bold else "normal",
                    color="black" if mine or symbol in bold else "#777777", gid=f"symbol-{symbol}")
        ax.text(3.0, F_ROW, "Ce-Lu", fontsize=5, ha="center", va="center", color="#555555")
        handles = [Patch(facecolor=c.colour, edgecolor=GREY if c.hatch else "none", hatch=c.hatch, label=c.legend)
                   for c in cats]
        handles.append(Patch(facecolor=LIGHT, edgecolor=GREY, label="Not in the paper's element lists"))
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(2.6, 0.55), bbox_transform=ax.transData,
                  ncol=1, handlelength=1.2, handleheight=0.9, borderaxespad=0, fontsize=6,
                  title="Fig. 6a (bold: elements of reported HEM anodes, Table 1)", title_fontsize=6,
                  alignment="left")
        if answer:
            panel = fig.add_axes((0.02, 0.0, 0.96, panel_h / (table_h + panel_h)))
            panel.set_axis_off()
            panel.set_xlim(0, 1)
            panel.set_ylim(len(lines) + 1.2, 0)
            panel.text(0, 0.5, f"{answer['formula']} with {v.ion(answer['ion']).label}: roles in this consultation "
                       "(evidence)", fontsize=7, fontweight="bold", va="center")
            for i, (symbol, text) in enumerate(lines, start=1):
                panel.text(0.0, i + 0.5, symbol, fontsize=7, fontweight="bold", va="center", gid=f"role-{symbol}")
                panel.text(0.04, i + 0.5, text, fontsize=6.5, va="center")
    return fig
