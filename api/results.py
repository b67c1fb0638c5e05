"""The typed results of the Python API: frozen dataclasses read off the JSON answer the CLI prints.

Each result keeps that answer whole: `to_dict()` gives it (for a consultation,
exactly `hem consult --json`, `schema_version` included). A short `repr` and,
in Jupyter, an HTML card (`_repr_html_`, hemkg.api.card).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hemkg.consultation.consultation import Consultation as Internal


@dataclass(frozen=True)
class Mechanism:
    """One ion-storage mechanism for the candidate: its status, the evidence graded for it and its elements."""

    name: str  # the JSON spelling, e.g. space_charge
    status: str  # accessible, not_accessible or undetermined
    evidence: str  # the strongest level of the evidence scale (rules/85-evidence.toml)
    evidence_detail: tuple[Mapping[str, Any], ...]  # each item: level, rule, text, references, location, ...
    elements: tuple[str, ...]  # the candidate's elements that give it
    rules: tuple[str, ...]  # the rules that drew the status
    citations: tuple[int, ...]  # the paper's reference numbers behind it

    @property
    def accessible(self) -> bool:
        return self.status == "accessible"


@dataclass(frozen=True)
class Effect:
    """An effect on a performance property: which elements raise (+) or lower (-) it, by which rule."""

    property: str
    direction: str
    elements: tuple[str, ...]
    rule: str
    statement: str
    citations: tuple[int, ...]


@dataclass(frozen=True)
class Finding:
    """A note, caution, warning or recommendation: its text, topic, and the rules and references behind it."""

    text: str
    topic: str
    rules: tuple[str, ...] = ()
    citations: tuple[int, ...] = ()


@dataclass(frozen=True)
class Capacity:
    """The theoretical capacity of the reactions element selection makes accessible, by mechanism (an estimate
    beyond the paper: Faraday's law on the charge-balanced oxidation states and the most alloyed known phases)."""

    total: float | None  # None: no charge-balanced reading to compute it from
    by_mechanism: Mapping[str, float | None]  # the mechanisms whose capacity the composition gives
    unit: str
    arithmetic: Mapping[str, str]  # mechanism -> the sum written out, e.g. 'Co2+ 0.2 x 2 + ... = 611.1 mAh/g'
    not_estimable: Mapping[str, str]  # mechanism -> why its capacity cannot be estimated from a composition
    reported: tuple[Mapping[str, Any], ...]  # the capacities the paper reports for the material or related ones
    basis: str

    @classmethod
    def from_answer(cls, cap: Mapping[str, Any]) -> Capacity:
        return cls(total=cap.get("total"), by_mechanism={k: v.get("mAh_g") for k, v in cap["arithmetic"].items()},
                   unit=cap.get("unit", ""), arithmetic={k: v.get("text", "") for k, v in cap["arithmetic"].items()},
                   not_estimable=dict(cap.get("not_estimable", {})), reported=tuple(cap.get("reported", ())),
                   basis=cap.get("basis", ""))


def _short(text: str) -> str:
    """A repr under 200 characters, whatever the formulas' length."""
    return text if len(text) < 200 else text[:195] + "...>"


class _Printed:
    """A result that prints as the terminal answer (`_text()`), and shows it as preformatted text in Jupyter."""

    def _text(self) -> str:
        raise NotImplementedError

    def __str__(self) -> str:
        return self._text()

    def _repr_html_(self) -> str:
        import html

        return f"<pre style='white-space: pre-wrap'>{html.escape(self._text())}</pre>"


def _finding(item: Mapping[str, Any], topic: str = "") -> Finding:
    return Finding(text=item.get("text", ""), topic=str(item.get("topic", item.get("factor", topic))),
                   rules=tuple(item.get("rules", ())), citations=tuple(item.get("citations", ())))


@dataclass(frozen=True, repr=False)
class Consultation:
    """A design consultation: `hem consult` as a Python object.

    `mechanisms["conversion"].status`, `.evidence`, `.elements`; `roles["Zn"]`;
    `effects`; `capacity`; `explanation(about=...)`; `to_dict()` (the CLI's JSON).
    """

    formula: str
    ion: str
    mechanisms: Mapping[str, Mechanism]
    roles: Mapping[str, tuple[str, ...]]  # element -> its roles (JSON spelling): mechanisms, stabilizer, anion, ...
    effects: tuple[Effect, ...]
    capacity: Capacity
    entropy: Mapping[str, Any]
    recommendations: tuple[Finding, ...]
    notes: tuple[Finding, ...]
    cautions: tuple[Finding, ...]
    warnings: tuple[Finding, ...]
    extrapolated: bool  # the candidate is not a HEM: the paper's guidelines are extrapolated to it
    answer: Mapping[str, Any] = field(compare=False)  # the JSON answer (to_dict() gives a copy)
    internal: Internal | None = field(default=None, compare=False)  # the engine's consultation, for explanations

    @classmethod
    def from_answer(cls, answer: dict[str, Any], internal: Internal | None = None) -> Consultation:
        """The typed view of a JSON answer (answers/summary.py summarise)."""
        mechanisms = {name: Mechanism(name=name, status=m["status"], evidence=m["evidence"],
                                      evidence_detail=tuple(m["evidence_detail"]), elements=tuple(m["elements"]),
                                      rules=tuple(m["rules"]), citations=tuple(m["citations"]))
                      for name, m in answer["mechanisms"].items()}
        effects = tuple(Effect(property=e["property"], direction=e["direction"], elements=tuple(e["elements"]),
                               rule=e["rule"], statement=e["statement"], citations=tuple(e["citations"]))
                        for e in answer["effects"])
        return cls(formula=answer["formula"], ion=answer["ion"], mechanisms=mechanisms,
                   roles={s: tuple(r) for s, r in answer["roles"].items()}, effects=effects,
                   capacity=Capacity.from_answer(answer["theoretical_capacity"]), entropy=answer["entropy"],
                   recommendations=tuple(_finding(r) for r in answer["recommendations"]),
                   notes=tuple(_finding(n) for n in answer["notes"]),
                   cautions=tuple(_finding(c) for c in answer["cautions"]),
                   warnings=tuple(_finding(w) for w in answer["warnings"]),
                   extrapolated=bool(answer["scope"]["extrapolated"]), answer=answer, internal=internal)

    def to_dict(self) -> dict[str, Any]:
        """The answer as `hem consult --json` prints it (a copy: change it freely)."""
        return copy.deepcopy(dict(self.answer))

    def explanation(self, about: str | None = None, full: bool = False, all_findings: bool = False) -> Explanation:
        """Why the consultation concluded what it did (`hem explain`): about a mechanism, an element of the
        formula, a property or 'all'; `full` gives every intermediate conclusion with its rule; `all_findings`
        every library finding on related materials."""
        if self.internal is None:
            from hemkg.errors import InputError

            raise InputError("this consultation was built from a JSON answer alone, without the derivations",
                             "consult the candidate again with hemkg.consult")
        return Explanation.of(self.internal, about, full, all_findings)

    def __repr__(self) -> str:
        statuses = ", ".join(f"{name}={m.status}" for name, m in self.mechanisms.items())
        total = self.capacity.total
        text = f"<Consultation {self.formula} {self.ion}+: {statuses}; {'n/a' if total is None else f'{total:g}'} " \
               f"{self.capacity.unit}>"
        return _short(text)

    def _repr_html_(self) -> str:
        from hemkg.api import card

        return card.consultation_card(self)


@dataclass(frozen=True, repr=False)
class Explanation(_Printed):
    """`hem explain` as an object: `text` as the terminal prints it, `to_dict()` as `--json` does."""

    formula: str
    ion: str
    about: str
    full: bool
    text: str
    tree: Mapping[str, Any] = field(compare=False)

    @classmethod
    def of(cls, c: Internal, about: str | None, full: bool = False, all_findings: bool = False) -> Explanation:
        """The explanation of a consultation's derivations (answers/explain.py), as hem explain gives it."""
        from hemkg.answers import explain as ex

        tree = ex.explain(c, about, full=full, all_findings=all_findings)
        return cls(formula=c.formula.text, ion=c.ion, about=tree.get("about", about or ""), full=full,
                   text=ex.render(tree), tree=tree)

    def to_dict(self) -> dict[str, Any]:
        return copy.deepcopy(dict(self.tree))

    def _text(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"<Explanation of {self.formula} {self.ion}+ about {self.about}: {len(self.text.splitlines())} lines>"


@dataclass(frozen=True, repr=False)
class Comparison(_Printed):
    """Candidates side by side (`hem compare`): a sequence of Consultations."""

    consultations: tuple[Consultation, ...]

    def __iter__(self) -> Iterator[Consultation]:
        return iter(self.consultations)

    def __len__(self) -> int:
        return len(self.consultations)

    def __getitem__(self, index: int) -> Consultation:
        return self.consultations[index]

    def to_dict(self) -> list[dict[str, Any]]:
        """As `hem compare --json` prints it: one answer per candidate."""
        return [c.to_dict() for c in self.consultations]

    @property
    def text(self) -> str:
        from hemkg.answers import report

        return report.render_comparison([dict(c.answer) for c in self.consultations])  # read only: no deep copy

    def __repr__(self) -> str:
        text = f"<Comparison of {', '.join(c.formula for c in self.consultations)}>"
        return _short(text)

    def _text(self) -> str:
        return self.text

    def _repr_html_(self) -> str:  # a table, not the terminal's text
        from hemkg.api import card

        return card.comparison_table(self)


@dataclass(frozen=True, repr=False)
class Description(_Printed):
    """What the paper says about a term (`hem describe`): `text` as printed, `to_dict()` as `--json` gives it."""

    query: str
    term: Mapping[str, Any]  # id, iri, label, kinds and the term's own facts
    covered_by_paper: bool
    groups: tuple[Mapping[str, Any], ...]  # statements by mechanism: heading, statements
    references: Mapping[str, str]  # reference number -> its record's label
    answer: Mapping[str, Any] = field(compare=False)

    @classmethod
    def from_answer(cls, answer: dict[str, Any]) -> Description:
        return cls(query=answer["query"], term=answer["term"], covered_by_paper=answer["covered_by_paper"],
                   groups=tuple(answer["groups"]), references=answer["references"], answer=answer)

    @property
    def text(self) -> str:
        from hemkg.answers import describe

        return describe.render(dict(self.answer))

    def _text(self) -> str:
        return self.text

    def to_dict(self) -> dict[str, Any]:
        return copy.deepcopy(dict(self.answer))

    def __repr__(self) -> str:
        n = sum(len(g["statements"]) for g in self.groups)
        label = self.term.get("label", self.query)
        return f"<Description of {label}: {n} statements, {len(self.references)} references>"
