"""Records the consultations read from the graph: element data, alloy phases, reported materials."""

from __future__ import annotations

from typing import Any

from hemkg.graph.diskcache import disk_cached
from hemkg.graph.store import HEMKG, REF, select


def _local(iri: str) -> str:
    return iri.removeprefix(HEMKG)


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


