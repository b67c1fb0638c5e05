"""Records the consultations read from the graph: element data, alloy phases, reported materials."""

from __future__ import annotations

import re
from typing import Any

from hemkg.graph.diskcache import disk_cached
from hemkg.graph.store import HEMKG, REF, local, select


@disk_cached
def element_data() -> dict[str, dict[str, Any]]:
    """Symbol -> atomic mass and conversion-salt charge (from kg/generated and kg/anions.ttl).

    The salt charge is n in the salt XnN of eqn (2): minus the formal charge of
    the monatomic anion, for the paper's five anions only.
    """
    data: dict[str, dict[str, Any]] = {}
    for row in select("""SELECT ?s ?m ?z WHERE { ?e hem:symbol ?s ; hem:atomicMass ?m .
                           OPTIONAL { ?e a hem:AnionElement . ?a hem:anionOfElement ?e ; hem:formalCharge ?z } }"""):
        data[row["s"]] = {"mass": float(row["m"]), "salt_charge": -int(row["z"]) if "z" in row else None}
    return data


_PHASE_FORMULA = re.compile(r"([A-Z][a-z]?)(\d*)([A-Z][a-z]?)(\d*)")


@disk_cached
def alloy_phases() -> dict[tuple[str, str], dict[str, Any]]:
    """(host symbol, ion symbol) -> the most alloyed phase known for the pair (kg/capacity-data.ttl) and its
    source; `on_the_way` lists the phases a reported material forms before it (the paper's Na9Sn4).

    Ions per host atom come from the phase formula as whole atoms (Li13In3: 13 and 3), not from a decimal.
    """
    phases: dict[tuple[str, str], dict[str, Any]] = {}
    others: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in select("""SELECT ?phase ?label ?formula ?most ?host ?ion ?src ?srclabel ?citation ?note WHERE {
                           ?phase a hem:AlloyPhase ; skos:prefLabel ?label ; hem:phaseFormula ?formula ;
                                  hem:isMostAlloyedKnownPhase ?most ;
                                  hem:hostElement ?h ; hem:withCarrierIon ?i ; dcterms:source ?src .
                           ?h hem:symbol ?host . ?i hem:ionOfElement/hem:symbol ?ion .
                           OPTIONAL { ?src skos:prefLabel ?srclabel }
                           OPTIONAL { ?src dcterms:bibliographicCitation ?citation }
                           OPTIONAL { ?phase skos:editorialNote ?note } }"""):
        match = _PHASE_FORMULA.fullmatch(row["formula"])
        if match is None or (match.group(1), match.group(3)) != (row["ion"], row["host"]):
            raise ValueError(f"{row['phase']}: phase formula {row['formula']} is not {row['ion']}x{row['host']}y")
        ions, hosts = int(match.group(2) or 1), int(match.group(4) or 1)
        source = row["src"]
        from_paper = source.startswith(REF) or source == HEMKG + "paper"
        if source.startswith(REF):
            cite = f"ref {source.removeprefix(REF)}"
        elif source == HEMKG + "paper":
            cite = "the paper (Section 3.1, Fig. 6b)"
        else:
            cite = row.get("citation") or row.get("srclabel", source)
        entry = {"phase": row["formula"], "label": row["label"], "ions": ions, "hosts": hosts,
                 "ions_per_atom": ions / hosts, "source": cite, "from_paper": from_paper,
                 "references": [int(source.removeprefix(REF))] if source.startswith(REF) else [],
                 "note": row.get("note", "")}
        key = (row["host"], row["ion"])
        if row["most"] == "true":
            if key in phases:
                raise ValueError(f"two most alloyed phases for {key}: {phases[key]['phase']}, {row['formula']}")
            phases[key] = entry
        else:
            others.setdefault(key, []).append(entry)
    for key, entries in others.items():
        if key in phases:
            phases[key]["on_the_way"] = sorted(entries, key=lambda e: e["ions_per_atom"])
    return phases


SPECIFIC_CAPACITY = "specific-capacity"  # the property (hemkg:specific-capacity) of the capacities read below


@disk_cached
def reported_capacities() -> dict[str, list[dict[str, Any]]]:
    """Reported material local name -> the specific capacities the paper reports for it (kg/materials.ttl):
    number, unit (mAh/g), qualifier, condition, references."""
    found: dict[str, list[dict[str, Any]]] = {}
    for row in select("""SELECT ?m ?v ?x ?q ?c ?n WHERE {
                           ?m a hem:ReportedMaterial ; hem:hasReportedValue ?v .
                           ?v hem:ofProperty hemkg:PROPERTY ; qudt:numericValue ?x ;
                              qudt:unit unit:MilliA-HR-PER-GM .
                           OPTIONAL { ?v hem:valueQualifier ?q }
                           OPTIONAL { ?v hem:measurementCondition ?c }
                           OPTIONAL { ?v hem:reportedIn/hem:referenceNumber ?n } }
                         ORDER BY ?m ?v""".replace("PROPERTY", SPECIFIC_CAPACITY)):
        values = found.setdefault(local(row["m"]), [])
        if values and values[-1]["value"] == local(row["v"]):
            values[-1]["references"] = sorted({*values[-1]["references"], int(row["n"])})
            continue
        values.append({"value": local(row["v"]), "mAh_g": float(row["x"]), "qualifier": row.get("q", "exactly"),
                       "condition": row.get("c", ""), "references": [int(row["n"])] if "n" in row else []})
    return found


@disk_cached
def reported_materials() -> dict[str, dict[str, Any]]:
    """Reported material local name -> label, formula, element set, called high-entropy in its source."""
    found: dict[str, dict[str, Any]] = {}
    for row in select("""SELECT ?m ?f ?l ?he ?s ?n ?ion WHERE {
                           ?m a hem:ReportedMaterial ; hem:formula ?f ; skos:prefLabel ?l ;
                              hem:hasConstituent/hem:symbol ?s .
                           OPTIONAL { ?m hem:isHighEntropyAsReported ?he }
                           OPTIONAL { ?m hem:testedWith/hem:ionOfElement/hem:symbol ?ion }
                           OPTIONAL { ?m hem:reportedIn/hem:referenceNumber ?n } }"""):
        entry = found.setdefault(local(row["m"]), {
            "label": row["l"], "formula": row["f"], "elements": set(), "references": set(), "ions": set(),
            "high_entropy": {"true": True, "false": False}.get(row.get("he", "")),
        })
        entry["elements"].add(row["s"])
        if "n" in row:
            entry["references"].add(int(row["n"]))
        if "ion" in row:
            entry["ions"].add(row["ion"])
    return found


@disk_cached
def named_ions() -> dict[tuple[str, int], str]:
    """(element symbol, oxidation state) -> the local name of the hem:NamedIon the paper's statements mention
    (Mg2+ of Section 3.1 is ("Mg", 2) -> "ion-Mg-2")."""
    return {(row["s"], int(row["z"])): local(row["i"])
            for row in select("""SELECT ?i ?s ?z WHERE { ?i a hem:NamedIon ; hem:ionElement/hem:symbol ?s ;
                                                          hem:ionCharge ?z }""")}


@disk_cached
def oxidation_data() -> dict[str, Any]:
    """What charge balance reads (consultation/oxidation.py): per element its common and other oxidation
    states, their ICSD counts and its electronegativity (kg/generated); the anions of kg/anions.ttl.

    Polyatomic anions come in the order they are tried: charged before neutral, then by formula.
    """
    elements: dict[str, dict[str, Any]] = {}

    def entry(symbol: str) -> dict[str, Any]:
        return elements.setdefault(symbol, {"common": set(), "other": set(), "occurrence": {}, "chi": None})

    for row in select("""SELECT ?s ?c ?o WHERE { ?e hem:symbol ?s .
                           { ?e hem:commonOxidationState ?c } UNION { ?e hem:otherOxidationState ?o } }"""):
        kind = "common" if "c" in row else "other"
        entry(row["s"])[kind].add(int(row["c" if kind == "common" else "o"]))
    for row in select("""SELECT ?s ?state ?n WHERE { ?e hem:symbol ?s ; hem:oxidationStateOccurrence ?x .
                           ?x hem:oxidationState ?state ; hem:icsdOccurrenceCount ?n }"""):
        entry(row["s"])["occurrence"][int(row["state"])] = int(row["n"])
    for row in select("SELECT ?s ?x WHERE { ?e hem:symbol ?s ; hem:paulingElectronegativity ?x }"):
        entry(row["s"])["chi"] = float(row["x"])
    for data in elements.values():
        data["common"], data["other"] = tuple(sorted(data["common"])), tuple(sorted(data["other"]))
    monatomic = {row["s"]: {"charge": int(row["z"]), "label": row["l"]}
                 for row in select("""SELECT ?s ?z ?l WHERE { ?a a hem:MonatomicAnion ; hem:formalCharge ?z ;
                                        hem:anionOfElement/hem:symbol ?s ; skos:prefLabel ?l }""")}
    units: dict[str, dict[str, Any]] = {}
    for row in select("""SELECT ?f ?z ?l ?s ?n WHERE { ?a a hem:PolyatomicAnion ; hem:anionFormula ?f ;
                           hem:formalCharge ?z ; skos:prefLabel ?l ; hem:hasComponent ?c .
                           ?c hem:componentElement/hem:symbol ?s ; hem:componentCount ?n }"""):
        unit = units.setdefault(row["f"], {"formula": row["f"], "charge": int(row["z"]), "label": row["l"],
                                           "components": {}})
        unit["components"][row["s"]] = int(row["n"])
    polyatomic = sorted(units.values(), key=lambda u: (u["charge"] == 0, u["formula"]))
    for unit in polyatomic:  # in the order the formula writes them
        unit["components"] = tuple(sorted(unit["components"].items(), key=lambda kv: unit["formula"].index(kv[0])))
    return {"elements": elements, "monatomic": monatomic, "polyatomic": polyatomic}
