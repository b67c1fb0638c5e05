"""A candidate's theoretical capacity by mechanism, beside the specific capacities the paper reports.

From the JSON answer's `theoretical_capacity` (answers/summary.py): one bar per
mechanism in the order of Section 2 (those its `arithmetic` estimates from the
composition by Faraday's law, beyond the paper; those it lists as `not_estimable`
marked so), the estimated total, and then one bar per
specific capacity the graph holds for a reported material of the same
composition or the same elements, labelled with its reference number and its
qualifier ("> 1200": more than 1200 mAh/g).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from hemkg.figures.base import GREY, OKABE_ITO, answer_of, new_figure, style

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# The mechanisms' colours: as their planes in the periodic table (figures/periodic.py), intercalation grey.
MECHANISM_COLOURS = {"conversion": OKABE_ITO["orange"], "alloying": OKABE_ITO["sky blue"],
                     "space_charge": OKABE_ITO["bluish green"]}
REPORTED_COLOUR = OKABE_ITO["blue"]
QUALIFIER_SIGNS = {"more than": "> ", "less than": "< ", "exactly": "", "about": "~ "}
NOT_ESTIMABLE = "not estimable\nfrom composition"


def capacity(candidate: str | Mapping[str, Any], ion: str = "Li") -> Figure:
    """The theoretical capacity of `candidate` (a formula, consulted for `ion`, or a JSON answer of
    summarise(consult(...))) by mechanism, and the reported capacities beside it."""
    from hemkg.graph.vocab import vocab

    answer = answer_of(candidate, ion)
    v = vocab()
    record = answer["theoretical_capacity"]
    mechanisms = answer["mechanisms"]
    reported = record.get("reported", [])
    bars = len(v.mechanisms) + 1 + max(1, len(reported))
    statuses = {s.json_key: s.label for s in v.statuses}  # 'not_accessible' -> 'not accessible'
    not_accessible = next(s.label for s in v.statuses if s.name == "not-accessible")
    with style():
        fig = new_figure(max(4.6, 0.75 * bars + 1.0), 3.4)
        ax = fig.add_subplot()
        ticks: list[float] = []
        labels: list[str] = []
        tallest = max([record.get("total") or 0.0, *(r["mAh_g"] for r in reported), 100.0])
        for x, m in enumerate(v.mechanisms):
            status = statuses.get(mechanisms[m.json_key]["status"], mechanisms[m.json_key]["status"])
            ticks.append(x)
            labels.append(m.label.replace(" ", "\n"))
            value = record.get(m.json_key) if m.json_key in record["arithmetic"] else None
            colour = MECHANISM_COLOURS.get(m.json_key, GREY)
            if status == not_accessible and not value:
                ax.text(x, tallest * 0.02, not_accessible, rotation=90, ha="center", va="bottom", fontsize=6,
                        color="#444444", style="italic", gid=f"not-accessible-{m.json_key}")
            elif m.json_key in record.get("not_estimable", {}):
                ax.text(x, tallest * 0.02, NOT_ESTIMABLE, rotation=90, ha="center", va="bottom", fontsize=6,
                        color="#444444", style="italic", gid=f"not-estimable-{m.json_key}")
            elif value is None:
                ax.text(x, tallest * 0.02, "not estimated", rotation=90, ha="center", va="bottom", fontsize=6)
            else:
                ax.bar(x, value, width=0.7, color=colour, gid=f"bar-{m.json_key}")
                ax.text(x, value + tallest * 0.015, f"{value:.0f}", ha="center", va="bottom", fontsize=6.5)
        x_total = len(v.mechanisms)
        ticks.append(x_total)
        labels.append("estimated\ntotal")
        bottom = 0.0
        for key in record["arithmetic"]:
            value = record.get(key) or 0.0
            if value:
                ax.bar(x_total, value, width=0.7, bottom=bottom, color=MECHANISM_COLOURS.get(key, GREY),
                       edgecolor="white", linewidth=0.5, gid=f"bar-total-{key}")
                bottom += value
        if record.get("total") is not None:
            ax.text(x_total, record["total"] + tallest * 0.015, f"{record['total']:.0f}", ha="center", va="bottom",
                    fontsize=6.5, fontweight="bold")
        ax.axvline(x_total + 0.75, color="#888888", linewidth=0.6, linestyle=(0, (3, 2)))
        start = x_total + 1.5
        for i, r in enumerate(reported):
            x_reported = start + i
            sign = QUALIFIER_SIGNS.get(r["qualifier"], r["qualifier"] + " ")
            refs = ", ".join(str(n) for n in r["references"])
            ax.bar(x_reported, r["mAh_g"], width=0.7, color=REPORTED_COLOUR, gid=f"bar-reported-{i}")
            ax.text(x_reported, r["mAh_g"] + tallest * 0.015, f"{sign}{r['mAh_g']:.0f}\nref {refs}", ha="center",
                    va="bottom", fontsize=6.5, gid=f"reported-label-{i}")
            ticks.append(x_reported)
            relation = r["relation"].replace(", ", ",\n")
            labels.append(f"{r['label']}\n({relation})")
        if not reported:
            ax.text(start, tallest * 0.5, "The graph holds no specific\ncapacity reported for this\ncomposition "
                    "or these elements", ha="left", va="center", fontsize=6.5, color="#444444", wrap=True)
        ax.set_xlim(-0.6, start + (len(reported) - 0.4 if reported else 2.6))
        ax.set_xticks(ticks, labels, fontsize=6)
        ax.set_ylim(0, tallest * 1.22)
        ax.set_ylabel("Specific capacity (mAh g$^{-1}$)")
        ax.set_title(f"{answer['formula']} with {v.ion(answer['ion']).label}\n"
                     "left: theoretical, Faraday's law on the composition (beyond the paper)\n"
                     "right: specific capacities reported in the paper", fontsize=6.5, loc="left")
    return fig
