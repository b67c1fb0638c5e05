"""The HTML a notebook shows for a result: a card that reads like the terminal answer, in a few tables.

Every value is escaped (html.escape); the card lists levels, elements and
reference numbers, never the evidence's quotes, so it stays small (a few KB).
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hemkg.api.results import Comparison, Consultation

STYLE = ("font-family: system-ui, sans-serif; font-size: 13px; border: 1px solid #ccc; border-radius: 6px; "
         "padding: 8px 12px; max-width: 920px")
CELL = "text-align: left; padding: 2px 10px 2px 0; vertical-align: top"


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _refs(numbers: Iterable[int]) -> str:
    numbers = list(numbers)
    return f"[{', '.join(str(n) for n in numbers)}]" if numbers else ""


def _table(head: list[str], rows: list[list[str]]) -> str:
    """A table of already escaped cells."""
    out = ["<table style='border-collapse: collapse'><tr>", *(f"<th style='{CELL}'>{h}</th>" for h in head), "</tr>"]
    for row in rows:
        out += ["<tr>", *(f"<td style='{CELL}'>{c}</td>" for c in row), "</tr>"]
    return "".join([*out, "</table>"])


def _words() -> tuple[dict[str, str], dict[str, str], dict[str, str], dict[str, str], dict[str, str]]:
    """JSON spelling -> words: mechanisms, statuses, evidence levels, roles, properties."""
    from hemkg.answers.report import property_names
    from hemkg.consultation.evidence import short_words
    from hemkg.graph.vocab import vocab

    v = vocab()
    mechanisms = {m.json_key: m.label for m in v.mechanisms}
    statuses = {t.json_key: t.label for t in v.statuses}
    levels = short_words()
    roles = {**mechanisms, **{t.json_key: t.label for t in v.roles}}
    return mechanisms, statuses, levels, roles, property_names()


def consultation_card(c: Consultation) -> str:
    """The consultation as an HTML card: mechanisms with status and evidence, roles, effects with references,
    the theoretical capacity by mechanism, and the warnings."""
    from hemkg.graph.statements import paper

    mechanisms, statuses, levels, roles, properties = _words()
    parts = [f"<div style='{STYLE}'>", f"<h3 style='margin: 4px 0'>{_e(c.formula)} with {_e(c.ion)}<sup>+</sup></h3>"]
    if c.extrapolated:
        parts.append(f"<p><b>Outside the paper's HEMs:</b> {_e(c.answer['scope']['text'])} "
                     f"{_e(_refs(c.answer['scope']['citations']))}</p>")
    parts.append("<h4 style='margin: 8px 0 2px'>Mechanisms</h4>")
    parts.append(_table(["mechanism", "status", "evidence", "elements", "references"], [
        [_e(mechanisms.get(name, name)), _e(statuses.get(m.status, m.status)),
         _e(levels.get(m.evidence, m.evidence)), _e(", ".join(m.elements) or "-"), _e(_refs(m.citations))]
        for name, m in c.mechanisms.items()]))
    parts.append("<h4 style='margin: 8px 0 2px'>What each element does</h4>")
    parts.append(_table(["element", "roles"], [
        [_e(symbol), _e(", ".join(roles.get(r, r) for r in its) or "-")] for symbol, its in c.roles.items()]))
    if c.effects:
        parts.append("<h4 style='margin: 8px 0 2px'>Effects on performance</h4>")
        parts.append(_table(["property", "effect", "elements", "why", "references"], [
            [_e(properties.get(e.property, e.property)), "raises" if e.direction == "+" else "lowers",
             _e(", ".join(e.elements)), _e(e.statement), _e(_refs(e.citations))] for e in c.effects]))
    cap = c.capacity
    if cap.total is None:
        total = "cannot be computed (no charge-balanced reading)"
    else:
        total = f"{cap.total:g} {cap.unit} (" + " + ".join(
            f"{mechanisms.get(k, k)} {'n/a' if v is None else f'{v:g}'}" for k, v in cap.by_mechanism.items()) + ")"
    parts.append("<h4 style='margin: 8px 0 2px'>Theoretical capacity (an estimate beyond the paper)</h4>")
    parts.append(f"<p style='margin: 2px 0'>{_e(total)}</p><ul style='margin: 2px 0'>"
                 + "".join(f"<li>{_e(text)}</li>" for text in [*cap.arithmetic.values(), *cap.not_estimable.values()])
                 + "</ul>")
    if c.warnings or c.cautions:
        parts.append("<h4 style='margin: 8px 0 2px'>Warnings and cautions</h4><ul style='margin: 2px 0'>")
        parts += [f"<li>{_e(f.text)} {_e(_refs(f.citations))}</li>" for f in (*c.warnings, *c.cautions)]
        parts.append("</ul>")
    parts.append(f"<p style='color: #666; margin: 6px 0 2px'>{len(c.recommendations)} recommendations, "
                 f"{len(c.notes)} notes: <code>.explanation()</code> says why, <code>.to_dict()</code> gives "
                 f"everything. Reference numbers are those of {_e(paper()['label'])}.</p>")
    parts.append("</div>")
    return "".join(parts)


def comparison_table(comparison: Comparison) -> str:
    """Candidates side by side: each mechanism's status and evidence, and the theoretical capacity."""
    mechanisms, statuses, levels, _, _ = _words()
    names = list(comparison[0].mechanisms) if len(comparison) else []
    rows = [[_e(c.formula), _e(c.ion),
             *(_e(f"{statuses.get(m.status, m.status)} ({levels.get(m.evidence, m.evidence)})")
               for m in (c.mechanisms[n] for n in names)),
             _e("n/a" if c.capacity.total is None else f"{c.capacity.total:g}")] for c in comparison]
    head = ["formula", "ion", *(_e(mechanisms.get(n, n)) for n in names), "mAh/g"]
    return f"<div style='{STYLE}'>{_table(head, rows)}</div>"
