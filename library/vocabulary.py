"""The terms of the library: namespaces, IRIs, and the ontology's words for the CSV template.

The fixed vocabularies (finding kinds, element roles, evidence levels,
electrodes) are read from ontology/hem.ttl, where each value carries its CSV
word as skos:notation; mechanisms, carrier ions and elements from the
knowledge graph. No other module spells them out.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from hemkg.graph.diskcache import disk_cached
from hemkg.graph.store import HEMKG, PREFIXES, select

LIB = "https://w3id.org/hemkg/library/"
NP = "http://www.nanopub.org/nschema#"
NPX = "http://purl.org/nanopub/x/"
PROV = "http://www.w3.org/ns/prov#"
DCTERMS = "http://purl.org/dc/terms/"
BIBO = "http://purl.org/ontology/bibo/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_COMMENT = "http://www.w3.org/2000/01/rdf-schema#comment"
XSD = "http://www.w3.org/2001/XMLSchema#"
DOI_RESOLVER = "https://doi.org/"
HEMKG_ELEMENT = HEMKG  # an element of the graph is hemkg:SYMBOL
CURATOR = LIB + "curator"  # the agent that retracts: whoever keeps this library

# Prefixes for exported TriG and JSON-LD: the project's, plus the nanopublication terms.
EXPORT_PREFIXES: dict[str, str] = {**PREFIXES, "np": NP, "npx": NPX, "lib": LIB}

DOI_PATTERN = re.compile(r"^10\.\d{4,9}/\S+$")
DOI_PREFIXES = ("https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "http://dx.doi.org/", "doi:")


@dataclass(frozen=True)
class Vocabulary:
    """CSV word -> IRI for each column with a fixed vocabulary, from the ontology and the graph."""

    kinds: dict[str, str]
    roles: dict[str, str]
    levels: dict[str, str]
    electrodes: dict[str, str]
    mechanisms: dict[str, str]  # 'space_charge' -> hemkg:space-charge
    ions: dict[str, str]  # 'Li' -> hemkg:Li-ion
    elements: dict[str, str]  # 'Zn' -> hemkg:Zn
    types: dict[str, tuple[str, ...]]  # rdf:type of each of these IRIs, for the SHACL data graph

    @functools.cached_property
    def _words(self) -> dict[str, str]:
        tables = (self.kinds, self.roles, self.levels, self.electrodes, self.mechanisms, self.ions, self.elements)
        return {iri: word for table in tables for word, iri in table.items()}

    def word(self, iri: str) -> str:
        """The CSV word of an IRI of any column ('' when it has none)."""
        return self._words.get(iri, "")


def _notations(cls: str) -> dict[str, str]:
    rows = select(f"SELECT ?x ?n WHERE {{ ?x a hem:{cls} ; skos:notation ?n }} ORDER BY ?n")
    return {row["n"]: row["x"] for row in rows}


@disk_cached
def vocabulary() -> Vocabulary:
    mechanisms = {row["m"].removeprefix(HEMKG).replace("-", "_"): row["m"]
                  for row in select("SELECT ?m WHERE { ?m a hem:IonStorageMechanism } ORDER BY ?m")}
    ions = {row["s"]: row["i"] for row in select(
        "SELECT ?i ?s WHERE { ?i a hem:CarrierIon ; hem:ionOfElement ?e . ?e hem:symbol ?s ; hem:atomicNumber ?z } "
        "ORDER BY ?z")}
    elements = {row["s"]: row["e"] for row in select("SELECT ?e ?s WHERE { ?e a hem:ChemicalElement ; hem:symbol ?s }")}
    vocab = Vocabulary(_notations("FindingKind"), _notations("ElementRole"), _notations("EvidenceLevel"),
                       _notations("Electrode"), mechanisms, ions, elements, {})
    listed = {iri for table in (vocab.kinds, vocab.roles, vocab.levels, vocab.electrodes, mechanisms, ions, elements)
              for iri in table.values()}
    types: dict[str, list[str]] = {}
    for row in select("SELECT ?x ?c WHERE { ?x a ?c . FILTER (STRSTARTS(STR(?c), STR(hem:))) }"):
        if row["x"] in listed:
            types.setdefault(row["x"], []).append(row["c"])
    return Vocabulary(vocab.kinds, vocab.roles, vocab.levels, vocab.electrodes, mechanisms, ions, elements,
                      {k: tuple(sorted(v)) for k, v in types.items()})


def normalise_doi(text: str) -> str:
    """'https://doi.org/10.1039/D4EE01329H' -> '10.1039/d4ee01329h' (DOIs are case-insensitive)."""
    doi = text.strip()
    for prefix in DOI_PREFIXES:
        if doi.lower().startswith(prefix):
            doi = doi[len(prefix):]
            break
    return doi.strip().lower()


def article_iri(doi: str) -> str:
    """The resolvable IRI of a DOI, with the characters an IRI may not hold escaped."""
    from urllib.parse import quote

    return DOI_RESOLVER + quote(doi, safe="/:;()._-")

