"""Design consultations: a candidate anode in, the paper's guidelines applied, reasons recorded.

`consult()` turns a formula, carrier ion and optional structure into base facts,
adds the knowledge graph's facts (each with the statement and references it
comes from; facts.py), runs the rules of rules/ to a fixpoint (hemkg.engine)
and reads the conclusions into a Consultation. Every conclusion keeps the
derivations that produced it; answers/explain.py renders those, and
provenance.py turns them into PROV-O RDF; answers/summary.py gives the JSON.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, fields
from typing import Any

from hemkg import engine
from hemkg.consultation.estimates import entropy, estimate_facts, theoretical_capacity
from hemkg.consultation.facts import candidate_anions, candidate_facts, shared_knowledge
from hemkg.consultation.formula import ParsedFormula, parse_formula
from hemkg.consultation.literature import LibraryFindings
from hemkg.consultation.oxidation import assignment_facts
from hemkg.consultation.rules import paper_rules
from hemkg.engine import Fact, Source
from hemkg.errors import InputError
from hemkg.graph.materials import element_data
from hemkg.graph.vocab import Term, spoken_list, vocab
from hemkg.system import collector
from hemkg.system.kept import kept_when_asked_again


@dataclass(frozen=True)
class Structure:
    """The optional structure a user gives with a candidate."""

    primary_particle_size_nm: float | None = None
    conversion_product_size_nm: float | None = None
    framework: str | None = None  # e.g. "C", "rGO"; also set by a composite suffix such as /C
    defect_rich: bool = False
    morphology: str | None = None

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """The structure's input fields: the CSV columns of `hem consult --input` and the CLI's options."""
        return tuple(f.name for f in fields(cls))

    def validated(self) -> Structure:
        """This structure, or ValueError naming the field that is not a plausible value."""
        for name in ("primary_particle_size_nm", "conversion_product_size_nm"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, (int, float)) and 0 < value < 1e6):
                raise InputError(f"{name} must be a positive size in nm below 1e6, not {value}")
        for name, example in (("framework", "rGO"), ("morphology", "yolk-shell")):
            value = getattr(self, name)
            if value is not None and (not value.strip() or len(value) > 60
                                      or not all(ch.isalnum() or ch in " -_/" for ch in value)):
                raise InputError(f"{name} '{value}' is not a name: give a short name such as {example}")
        return self

    def facts(self) -> dict[Fact, Source]:
        facts: dict[Fact, Source] = {}
        for name in ("primary_particle_size_nm", "conversion_product_size_nm"):
            value = getattr(self, name)
            if value is not None:
                facts[(name, (float(value),))] = Source("input", name, label=f"{name.replace('_', ' ')} = {value:g}")
        if self.framework:
            facts[("framework", (self.framework,))] = Source("input", "framework",
                                                             label=f"conductive framework: {self.framework}")
        if self.defect_rich:
            facts[("defect_rich", ())] = Source("input", "defect_rich", label="defect-rich structure")
        if self.morphology:
            facts[("morphology", (self.morphology.lower(),))] = Source("input", "morphology",
                                                                       label=f"morphology: {self.morphology}")
        return facts


# ------------------------------------------------------------------ the consultation

@dataclass
class Consultation:
    formula: ParsedFormula
    ion: str
    structure: Structure
    result: engine.Result
    estimates: dict[str, Any] = field(default_factory=dict)
    library: LibraryFindings | None = None  # the library whose findings the rules graded beside the paper's

    @functools.cached_property
    def library_mask(self) -> int:
        """The candidate's elements as the library's closeness bits (LibraryFindings.mask; 0 without a library)."""
        return self.library.mask(self.formula.composition) if self.library is not None else 0

    @functools.cached_property
    def _statuses(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for mechanism, status in self.result.words("status"):
            found.setdefault(mechanism, []).append(status)
        return found

    def status(self, mechanism: str) -> str:
        found = self._statuses.get(mechanism, [])
        if len(found) != 1:
            raise RuntimeError(f"rules gave {mechanism} {len(found)} statuses ({found}): a rule file is inconsistent")
        return found[0]

    def derivations(self, predicate: str, *pattern: str) -> list[engine.Derivation]:
        out = []
        for args in self.result.query(predicate, *pattern):
            out += self.result.derivations.get((predicate, args), [])
        return out


@functools.cache
def effect_properties() -> tuple[Term, ...]:
    """The performance properties the rules conclude effects on (effect(P, +|-, X)), in the vocabulary's order."""
    named = {a.args[0] for r in engine.load_rules() for a in r.then if a.predicate == "effect"}
    return tuple(p for p in vocab().properties if p.name in named)


@collector.paused
def consult(formula: str | ParsedFormula, ion: str = "Li", structure: Structure | None = None,
            library: LibraryFindings | None = None) -> Consultation:
    """Apply the rules to one candidate. Raises formula.FormulaError or ValueError on bad input.

    With `library` (literature.load()), its findings are evidence beside the paper's reports (issue 13)."""
    ions = vocab().ion_symbols
    if ion not in ions:
        raise InputError(f"unknown carrier ion '{ion}': the paper covers {spoken_list(ions)}")
    parsed = formula if isinstance(formula, ParsedFormula) else parse_formula(formula)
    missing = [s for s in parsed.composition if s not in element_data()]
    if missing:
        raise InputError(f"no element data for {', '.join(missing)}: hemkg knows elements up to Lr (Z = 103)")
    structure = (structure or Structure()).validated()
    base, measured = input_facts(parsed, ion, structure)
    if library is not None:  # the library's index holds the graph's facts too: the graph's own is not read
        base.update(library.candidate_facts(parsed.composition))
        shared = library.shared
    else:
        shared = shared_knowledge()
    c = Consultation(parsed, ion, structure, engine.run(base, paper_rules(), shared=shared), library=library)
    c.estimates = {"entropy": measured, "theoretical_capacity": theoretical_capacity(c)}
    return c


# input_facts by formula (text, composition, framework), ion and structure, for every consultation of the process
# that asks for the same candidate a second time (kept_when_asked_again: those asked for once, in _INPUTS_ASKED)
_INPUTS: dict[tuple[Any, ...], tuple[dict[Fact, Source], dict[str, Any]]] = {}
_INPUTS_ASKED: set[tuple[Any, ...]] = set()
INPUTS_KEPT = 4096


def input_facts(parsed: ParsedFormula, ion: str, structure: Structure) -> tuple[dict[Fact, Source], dict[str, Any]]:
    """Everything the rules see of one candidate besides the knowledge graph: its formula, ion and structure,
    the estimates a rule judges (the entropy, returned too) and the charge balance's oxidation states.

    Kept per process for a candidate consulted more than once (about 0.4 million instructions, a tenth of a
    consultation); each caller gets facts of its own, to add to, and the entropy, which nobody changes."""
    key = (parsed.text, tuple(parsed.composition.items()), parsed.framework, ion, structure)
    base, measured = kept_when_asked_again(_INPUTS, _INPUTS_ASKED, key, INPUTS_KEPT, _input_facts, parsed, ion,
                                           structure)
    return dict(base), measured


def _input_facts(parsed: ParsedFormula, ion: str, structure: Structure
                 ) -> tuple[dict[Fact, Source], dict[str, Any]]:
    base = candidate_facts(parsed, ion, structure)
    measured = entropy(parsed.composition, candidate_anions(base))  # an estimate a rule judges: a fact for the run
    base.update(estimate_facts(measured))
    base.update(assignment_facts(parsed))  # the charge balance's oxidation states, for rules about named ions
    return base, measured


