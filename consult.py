"""Design consultations: a candidate anode in, the paper's guidelines applied, reasons recorded.

`consult()` turns a formula, carrier ion and optional structure into base facts,
adds the knowledge graph's facts (each with the statement and references it
comes from), runs the rules of rules/ to a fixpoint (engine.py) and reads the
conclusions into a Consultation. Every conclusion keeps the derivations that
produced it; `explain.py` renders those, and `provenance.py` turns them into
PROV-O RDF.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any

from hemkg import engine, knowledge
from hemkg.diskcache import disk_cached
from hemkg.engine import Fact, Source
from hemkg.formula import ParsedFormula, parse_formula
from hemkg.store import HEM, HEMKG, REF, select

IONS = {"Li": "Li-ion", "Na": "Na-ion", "K": "K-ion"}
MECHANISMS = ("intercalation", "conversion", "alloying", "space-charge")
STATUSES = ("active", "inactive", "undetermined")
FARADAY_MAH_PER_MOL = 96485.33212 / 3.6  # mAh per mole of electrons
HEM_FRACTION_RANGE = (0.05, 0.35)  # Section 1: each of five or more elements at 5-35 at%
FRACTION_TOLERANCE = 1e-9  # fractions computed in floating point may land a hair outside a bound they meet


def json_key(name: str) -> str:
    """'space-charge' -> 'space_charge' (the JSON spelling)."""
    return name.replace("-", "_")


@dataclass(frozen=True)
class Structure:
    """The optional structure a user gives with a candidate."""

    primary_particle_size_nm: float | None = None
    conversion_product_size_nm: float | None = None
    framework: str | None = None  # e.g. "C", "rGO"; also set by a composite suffix such as /C
    defect_rich: bool = False
    morphology: str | None = None

    def validated(self) -> Structure:
        """This structure, or ValueError naming the field that is not a plausible value."""
        for name in ("primary_particle_size_nm", "conversion_product_size_nm"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, (int, float)) and 0 < value < 1e6):
                raise ValueError(f"{name} must be a positive size in nm below 1e6, not {value}")
        for name, example in (("framework", "rGO"), ("morphology", "yolk-shell")):
            value = getattr(self, name)
            if value is not None and (not value.strip() or len(value) > 60
                                      or not all(ch.isalnum() or ch in " -_/" for ch in value)):
                raise ValueError(f"{name} '{value}' is not a name: give a short name such as {example}")
        return self

    def facts(self) -> dict[Fact, Source]:
        facts: dict[Fact, Source] = {}
        for name in ("primary_particle_size_nm", "conversion_product_size_nm"):
            value = getattr(self, name)
            if value is not None:
                facts[(name, (float(value),))] = Source("input", name, label=f"{name.replace('_', ' ')} = {value:g}")
        if self.framework:
            facts[("framework", (self.framework,))] = Source("input", "framework", label=f"conductive framework: {self.framework}")
        if self.defect_rich:
            facts[("defect_rich", ())] = Source("input", "defect_rich", label="defect-rich structure")
        if self.morphology:
            facts[("morphology", (self.morphology.lower(),))] = Source("input", "morphology", label=f"morphology: {self.morphology}")
        return facts


# ------------------------------------------------------------------ facts from the knowledge graph

def _local(iri: str) -> str:
    return iri.removeprefix(HEMKG)


def _kg_source(st: knowledge.Statement) -> Source:
    return Source("kg", st.iri, tuple(st.references), st.label)


@disk_cached
def knowledge_facts() -> dict[Fact, Source]:
    """The knowledge graph as rule facts, each with the statement it comes from."""
    facts: dict[Fact, Source] = {}
    for group, pred, text in (("listed-cations", "listed_cation", "one of the 26 cations of reported HEM anodes"),
                              ("listed-anions", "listed_anion", "one of the 5 anions of reported HEM anodes")):
        for row in select("SELECT ?e WHERE { ?g hem:hasMember ?e }", g=HEMKG + group):
            symbol = _local(row["e"])
            facts[(pred, (symbol,))] = Source("kg", HEMKG + group, (), f"{symbol} is {text} (Section 3.1, Table 1)")
    for row in select("SELECT ?g ?e WHERE { ?g a hem:ElementGroup ; hem:hasMember ?e }"):
        facts.setdefault(("in_group", (_local(row["e"]), _local(row["g"]))),
                         Source("kg", row["g"], (), f"{_local(row['e'])} is in {knowledge.label(row['g'])}"))
    for st in knowledge.statements().values():
        local = _local(st.iri).removeprefix("stmt-")
        if st.predicate == HEM + "memberOf":
            for s in st.subjects:
                for o in st.objects:
                    if o.startswith(HEMKG + "plane-"):
                        facts[("on_plane", (_local(s), _local(o).removeprefix("plane-")))] = _kg_source(st)
        if st.predicate == HEM + "reveals":
            for s in st.subjects:
                for o in st.objects:
                    facts[("reveals", (_local(s), _local(o)))] = _kg_source(st)
        if st.ordering_text:
            for rank, item in st.ranked:
                facts[("rank", (local.removeprefix("order-"), _local(item), float(rank)))] = _kg_source(st)
        if st.observed_in and st.observed_active is not None:
            for s in st.subjects:
                for o in st.objects:
                    if o in knowledge.MECHANISMS:
                        for material in st.observed_in:
                            state = "active" if st.observed_active else "inactive"
                            facts[("observed", (_local(s), _local(o), _local(material), state))] = _kg_source(st)
        for m in st.mentions:
            facts[("mentions", (local, _local(m)))] = _kg_source(st)
    for name, table in engine.conventions().items():
        for symbol in table["symbols"]:
            facts[(table["predicate"], (symbol,))] = Source("convention", f"{table['file']}: {name}", (), table["statement"])
    return facts


@disk_cached
def shared_knowledge():
    """The knowledge graph's facts, indexed once, with the rules compiled over them (kept on disk)."""
    shared = engine.share(knowledge_facts())
    shared[1].program(engine.load_rules())
    return shared


@disk_cached
def element_data() -> dict[str, dict[str, Any]]:
    """Symbol -> atomic mass and conversion-salt charge (from kg/generated and kg/capacity-data.ttl)."""
    data: dict[str, dict[str, Any]] = {}
    for row in select("""SELECT ?s ?m ?n WHERE { ?e hem:symbol ?s ; hem:atomicMass ?m .
                                                 OPTIONAL { ?e hem:conversionSaltCharge ?n } }"""):
        data[row["s"]] = {"mass": float(row["m"]), "salt_charge": int(row["n"]) if "n" in row else None}
    return data


@disk_cached
def alloy_phases() -> dict[tuple[str, str], dict[str, Any]]:
    """(host symbol, ion symbol) -> the fully alloyed phase and its source."""
    phases = {}
    for row in select("""SELECT ?phase ?label ?host ?ion ?x ?src ?srclabel WHERE {
                           ?phase a hem:AlloyPhase ; skos:prefLabel ?label ; hem:hostElement ?h ; hem:withCarrierIon ?i ;
                                  hem:ionsPerHostAtom ?x ; dcterms:source ?src .
                           ?h hem:symbol ?host . ?i hem:ionOfElement/hem:symbol ?ion .
                           OPTIONAL { ?src skos:prefLabel ?srclabel } }"""):
        source = row["src"]
        if source.startswith(REF):
            cite = f"ref {source.removeprefix(REF)}"
        elif source == HEMKG + "paper":
            cite = "the paper (Section 3.1)"
        else:
            cite = row.get("srclabel", source)
        phases[(row["host"], row["ion"])] = {"phase": row["label"], "ions_per_atom": float(row["x"]), "source": cite,
                                             "from_paper": source.startswith(REF) or source == HEMKG + "paper"}
    return phases


@disk_cached
def reported_materials() -> dict[str, dict[str, Any]]:
    """Reported material local name -> label, formula, element set, called high-entropy in its source."""
    found: dict[str, dict[str, Any]] = {}
    for row in select("""SELECT ?m ?f ?l ?he ?s ?n WHERE { ?m a hem:ReportedMaterial ; hem:formula ?f ; skos:prefLabel ?l ;
                                                       hem:hasConstituent/hem:symbol ?s .
                                                    OPTIONAL { ?m hem:isHighEntropyAsReported ?he }
                                                    OPTIONAL { ?m hem:reportedIn/hem:referenceNumber ?n } }"""):
        entry = found.setdefault(_local(row["m"]), {
            "label": row["l"], "formula": row["f"], "elements": set(), "references": set(),
            "high_entropy": {"true": True, "false": False}.get(row.get("he", "")),
        })
        entry["elements"].add(row["s"])
        if "n" in row:
            entry["references"].add(int(row["n"]))
    return found


@functools.cache
def _reported_composition(material: str) -> dict[str, float] | None:
    """The normalised composition of a reported material, or None where its formula is a description."""
    from hemkg.formula import FormulaError

    try:
        return _normalise(parse_formula(reported_materials()[material]["formula"]).composition)
    except FormulaError:
        return None


def matching_reported(composition: dict[str, float]) -> list[str]:
    """Reported materials with the same composition (only those with the same elements are parsed)."""
    elements = set(composition)
    # constituents may include a carbon framework, so they can hold more elements than the active formula
    possible = [m for m, entry in sorted(reported_materials().items()) if elements <= entry["elements"]]
    if not possible:
        return []
    normalised = _normalise(composition)
    return [m for m in possible if _reported_composition(m) == normalised]


def _normalise(composition: dict[str, float]) -> dict[str, float]:
    total = sum(composition.values())
    return {k: round(v / total, 4) for k, v in composition.items()}


# ------------------------------------------------------------------ the consultation

@dataclass
class Consultation:
    formula: ParsedFormula
    ion: str
    structure: Structure
    result: engine.Result
    estimates: dict[str, Any] = field(default_factory=dict)

    @functools.cached_property
    def _statuses(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for mechanism, status in self.result.query("status"):
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

    def to_dict(self) -> dict[str, Any]:
        return summarise(self)


def candidate_facts(parsed: ParsedFormula, ion: str, structure: Structure) -> dict[Fact, Source]:
    facts: dict[Fact, Source] = {}
    for symbol, amount in parsed.composition.items():
        facts[("element", (symbol,))] = Source("input", "formula", label=f"{symbol} is in {parsed.text}")
        facts[("amount", (symbol, float(amount)))] = Source("input", "formula", label=f"{amount:g} {symbol} per formula unit")
    facts[("ion", (ion,))] = Source("input", "ion", label=f"carrier ion {ion}+")
    framework = structure.framework or parsed.framework
    facts.update(Structure(**{**structure.__dict__, "framework": framework}).facts())
    if parsed.framework:
        facts[("framework", (parsed.framework,))] = Source("input", "formula", label=f"composite with {parsed.framework} ({parsed.text})")
    for material in matching_reported(parsed.composition):
        label = reported_materials()[material]["label"]
        facts[("matches_reported", (material,))] = Source("kg", HEMKG + material, (), f"the composition of {label}")
    return facts


def consult(formula: str | ParsedFormula, ion: str = "Li", structure: Structure | None = None) -> Consultation:
    """Apply the rules to one candidate. Raises formula.FormulaError or ValueError on bad input."""
    if ion not in IONS:
        raise ValueError(f"unknown carrier ion '{ion}': the paper covers Li, Na and K")
    parsed = formula if isinstance(formula, ParsedFormula) else parse_formula(formula)
    missing = [s for s in parsed.composition if s not in element_data()]
    if missing:
        raise ValueError(f"no element data for {', '.join(missing)}: hemkg knows elements up to Lr (Z = 103)")
    structure = (structure or Structure()).validated()
    c = Consultation(parsed, ion, structure, engine.run(candidate_facts(parsed, ion, structure), shared=shared_knowledge()))
    c.estimates = {"entropy": entropy(c), "capacity_estimate": capacity_estimate(c)}
    return c


# ------------------------------------------------------------------ beyond the paper: entropy and capacity

def _sublattices(c: Consultation) -> tuple[dict[str, float], dict[str, float]]:
    comp = c.formula.composition
    anions = {x for (x,) in c.result.query("anion")}
    return ({k: v for k, v in comp.items() if k not in anions}, {k: v for k, v in comp.items() if k in anions})


def _mixing_entropy(site: dict[str, float]) -> float:
    total = sum(site.values())
    return -sum((v / total) * math.log(v / total) for v in site.values() if v > 0) if total else 0.0


def entropy(c: Consultation) -> dict[str, Any]:
    """Ideal configurational entropy per sublattice, in units of R, and the paper's HEM definition."""
    cations, anions = _sublattices(c)
    s_cat = _mixing_entropy(cations)
    total = sum(cations.values())
    fractions = {k: v / total for k, v in cations.items()} if total else {}
    low, high = HEM_FRACTION_RANGE
    outside = sorted(k for k, x in fractions.items()
                     if not low - FRACTION_TOLERANCE <= x <= high + FRACTION_TOLERANCE)
    meets = len(fractions) >= 5 and not outside
    result: dict[str, Any] = {
        "cation_site_R": round(s_cat, 3) + 0.0,  # + 0.0 turns -0.0 into 0.0
        "anion_site_R": round(_mixing_entropy(anions), 3) + 0.0,  # + 0.0 turns -0.0 into 0.0
        "class": "high" if s_cat >= 1.5 else "medium" if s_cat >= 1.0 else "low",
        "meets_hem_definition": meets,
        "cation_fractions": {k: round(x, 4) for k, x in fractions.items()},
        "basis": "beyond the paper: ideal mixing, S/R = -sum x ln x on each sublattice; classes high >= 1.5, "
                 "medium 1.0-1.5, low < 1.0. The HEM definition (five or more elements, each 5-35 at%) is the "
                 "paper's (Section 1), applied here to the cation sublattice.",
    }
    if not meets:
        reasons = []
        if len(fractions) < 5:
            reasons.append(f"{len(fractions)} cation(s), fewer than five")
        if outside:
            reasons.append("outside 5-35 at%: " + ", ".join(f"{k} {fractions[k] * 100:.1f}%" for k in outside))
        result["why_not_hem"] = "; ".join(reasons)
    return result


def capacity_estimate(c: Consultation) -> dict[str, Any]:
    """Theoretical capacity by mechanism from Faraday's law: an upper bound, beyond the paper."""
    data = element_data()
    comp = c.formula.composition
    mass = sum(amount * data[s]["mass"] for s, amount in comp.items())
    notes: list[str] = []
    electrons_conversion = 0.0
    if c.status("conversion") == "active":
        for (anion,) in c.result.query("anion"):
            charge = data[anion]["salt_charge"]
            if charge is None:
                notes.append(f"{anion}: no conversion-salt charge known, left out of the conversion estimate")
            else:
                electrons_conversion += comp[anion] * charge
    phases = []
    electrons_alloying = 0.0
    if c.status("alloying") == "active":
        for args in c.result.query("mechanism_element", "alloying"):
            host = args[1]
            phase = alloy_phases().get((host, c.ion))
            if phase is None:
                notes.append(f"{host} with {c.ion}+: no fully alloyed phase in the graph, so no alloying estimate for it")
                continue
            electrons_alloying += comp[host] * phase["ions_per_atom"]
            phases.append({"element": host, **phase})
    for mechanism in ("conversion", "alloying"):
        if c.status(mechanism) == "undetermined":
            notes.append(f"{mechanism} is undetermined, so it is not estimated")
    per_electron = FARADAY_MAH_PER_MOL / mass if mass else 0.0
    conversion = electrons_conversion * per_electron
    alloying = electrons_alloying * per_electron
    return {
        "conversion": round(conversion, 1),
        "alloying": round(alloying, 1),
        "total": round(conversion + alloying, 1),
        "unit": "mAh/g",
        "phases": phases,
        "notes": notes,
        "basis": "beyond the paper: an upper bound from Faraday's law, Q = n F / (3.6 M), per gram of the active "
                 "formula (framework excluded). Conversion counts the charge n of each anion's salt XnN (eqn 2); "
                 "alloying counts each alloying element's fully alloyed phase with the carrier ion. Intercalation "
                 "and space charge are not estimated.",
    }


# ------------------------------------------------------------------ reading the conclusions

def _citations(derivations: list[engine.Derivation]) -> list[int]:
    return sorted({r for d in derivations for r in d.rule.references})


def _rule_ids(derivations: list[engine.Derivation]) -> list[str]:
    return sorted({d.rule.id for d in derivations})


def _finding(derivations: list[engine.Derivation], text: str, **extra: Any) -> dict[str, Any]:
    """A note, caution or warning: its text, the rules and citations behind it, and any outside basis."""
    record = {"text": text, "rules": _rule_ids(derivations), "citations": _citations(derivations), **extra}
    outside = sorted({d.rule.basis for d in derivations if not d.rule.from_paper})
    if outside:
        record["outside_paper"] = outside
    return record


def _statement_of(derivations: list[engine.Derivation]) -> str:
    return derivations[0].rule.statement if derivations else ""


def summarise(c: Consultation) -> dict[str, Any]:
    """The consultation as the JSON object the CLI prints."""
    r = c.result
    mechanisms = {}
    for m in MECHANISMS:
        elements = [args[1] for args in r.query("mechanism_element", m)]
        status = c.status(m)
        mechanisms[json_key(m)] = {
            "status": status,
            "elements": elements,
            "rules": _rule_ids(c.derivations("status", m)),
            "citations": _citations(c.derivations("status", m)),
        }
    roles: dict[str, list[str]] = {s: [] for s in c.formula.composition}
    for symbol, role in r.query("role"):
        roles[symbol].append(json_key(role))
    effects = []
    grouped: dict[tuple[str, str, str], list[str]] = {}
    for prop, direction, element in r.query("effect"):
        for d in r.derivations[("effect", (prop, direction, element))]:
            grouped.setdefault((prop, direction, d.rule.id), []).append(element)
    rules_by_id = {rule.id: rule for rule in engine.load_rules()}
    for (prop, direction, rule_id), elements in sorted(grouped.items()):
        rule = rules_by_id[rule_id]
        effects.append({"property": json_key(prop), "direction": direction, "elements": sorted(set(elements)),
                        "rule": rule_id, "statement": rule.statement, "citations": list(rule.references)})

    def topic_findings(predicate: str) -> list[dict[str, Any]]:
        """One finding per topic; the facts' further arguments (elements, materials) gathered in `about`."""
        by_topic: dict[str, list[engine.Derivation]] = {}
        about: dict[str, list[str]] = {}
        for args in r.query(predicate):
            by_topic.setdefault(str(args[0]), []).extend(r.derivations.get((predicate, args), []))
            about.setdefault(str(args[0]), []).extend(str(a) for a in args[1:])
        return [_finding(derivations, _statement_of(derivations), topic=topic,
                         **({"about": sorted(set(about[topic]))} if about[topic] else {}))
                for topic, derivations in by_topic.items()]

    notes = [n for n in topic_findings("note") if n["topic"] != "reported-material"]
    for mechanism, ion in r.query("weaker"):
        derivations = r.derivations[("weaker", (mechanism, ion))]
        notes.append(_finding(derivations, _statement_of(derivations), topic=f"{mechanism}-weaker-with-{ion}"))
    notes += _context(c)
    for (material,) in r.query("matches_reported"):
        refs = sorted(reported_materials()[material]["references"])
        notes.append({"topic": "reported-material", "about": [material],
                      "text": f"The paper reports this composition: {knowledge.label(HEMKG + material)}. "
                              f"Run `hem describe \"{knowledge.label(HEMKG + material)}\"` for its figures.",
                      "rules": ["context-same-composition"], "citations": refs})
    notes += _orderings(c)
    cautions = topic_findings("caution")
    warnings = topic_findings("warning") + [{"text": w, "topic": "formula"} for w in c.formula.warnings]
    notes += [{"text": n, "topic": "formula", "rules": [], "citations": []} for n in c.formula.notes]
    entropy_ = c.estimates["entropy"]
    for (material,) in r.query("matches_reported"):
        label, called_he = reported_materials()[material]["label"], reported_materials()[material]["high_entropy"]
        if called_he and not entropy_["meets_hem_definition"]:
            warnings.append({"topic": "hem-definition",
                             "text": f"{label} is called high-entropy in its source, but on the cation sublattice it does not "
                                     f"meet the paper's HEM definition ({entropy_.get('why_not_hem')})."})
    recommendations = []
    for (factor,) in r.query("recommend"):
        derivations = r.derivations[("recommend", (factor,))]
        recommendations.append({"factor": factor, "label": knowledge.label(HEMKG + factor),
                                "text": " ".join(dict.fromkeys(d.rule.statement for d in derivations)),
                                "rules": _rule_ids(derivations), "citations": _citations(derivations)})
    techniques: dict[str, list[str]] = {}
    for mechanism, technique in r.query("confirm_with"):
        techniques.setdefault(json_key(mechanism), []).append(knowledge.label(HEMKG + technique))
    return {
        "formula": c.formula.text,
        "active_formula": c.formula.active,
        "framework": c.formula.framework or c.structure.framework,
        "ion": c.ion,
        "composition": dict(c.formula.composition),
        "mechanisms": mechanisms,
        "roles": roles,
        "entropy": entropy_,
        "capacity_estimate": c.estimates["capacity_estimate"],
        "effects": effects,
        "recommendations": recommendations,
        "confirm_with": techniques,
        "notes": notes,
        "cautions": cautions,
        "warnings": warnings,
    }


def _context(c: Consultation) -> list[dict[str, Any]]:
    """Reported materials where the candidate's elements did, or did not, do what the planes say."""
    seen: dict[tuple[str, str], dict[str, list[tuple[str, list[int]]]]] = {}
    rule_ids: dict[tuple[str, str], set[str]] = {}
    for args in c.result.query("context"):
        element, mechanism, material, state = args
        refs = sorted({ref for d in c.result.derivations[("context", args)] for p in d.premises
                       for ref in c.result.sources.get(p, Source("")).references})
        seen.setdefault((element, mechanism), {}).setdefault(state, []).append((knowledge.label(HEMKG + material), refs))
        rule_ids.setdefault((element, mechanism), set()).update(d.rule.id for d in c.result.derivations[("context", args)])
    out = []
    for (element, mechanism), states in sorted(seen.items()):
        parts = []
        own = "the authors' own result"
        for state, verb in (("active", "seen in"), ("inactive", "NOT seen in")):
            if state in states:
                parts.append(f"{verb} " + ", ".join(
                    f"{label} [{', '.join(map(str, refs)) or own}]" for label, refs in states[state]))
        text = f"{element}, {knowledge.label(HEMKG + mechanism)}: " + "; ".join(parts) + "."
        if "inactive" in states or mechanism not in {a[0] for a in c.result.query("mechanism_element") if a[1] == element}:
            text += " The paper stresses that an element's role depends on the material."
        citations = sorted({ref for refs in states.values() for _, rs in refs for ref in rs})
        out.append({"topic": "reported-example", "about": [element, json_key(mechanism)], "text": text,
                    "rules": sorted(rule_ids[(element, mechanism)]), "citations": citations})
    return out


_ORDERING_TEXT = {
    "space-charge-strength": "Space-charge contribution among its Plane C cations",
    "anion-theoretical-capacity": "Theoretical capacity among its anions",
    "anion-conductivity": "Intrinsic conductivity among its anions",
    "alloying-cation-theoretical-capacity": "Theoretical capacity among its alloying cations",
}


def _orderings(c: Consultation) -> list[dict[str, Any]]:
    """Each ordering among the candidate's own elements, highest first."""
    out = []
    for ordering in sorted({args[0] for args in c.result.query("ordered")}):
        pairs = c.result.query("ordered", ordering)
        above = {}
        for _, hi, lo in pairs:
            above.setdefault(hi, set()).add(lo)
            above.setdefault(lo, set())
        chain = sorted(above, key=lambda x: -len(above[x]))
        derivations = [d for args in pairs for d in c.result.derivations[("ordered", args)]]
        out.append({"topic": f"ordering:{ordering}", "text": f"{_ORDERING_TEXT.get(ordering, ordering)}: {' > '.join(chain)}.",
                    "rules": _rule_ids(derivations), "citations": _citations(derivations)})
    return out
