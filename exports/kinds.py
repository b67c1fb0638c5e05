"""Kinds of node, from their classes: what the HTML page colours and hides, and GEXF's viz:color.

A node's kind is the first entry of KINDS whose classes include one of the
node's classes or their superclasses, so specific kinds come before general
ones (a guideline statement is a prov:Entity too, but a statement first).
Nodes of the ontology itself (classes, properties, OWL constructs), rank
entries, vocabulary values (evidence kinds, effect directions, units) and
other blank-node structure are `schema`; a consultation's facts and rule
applications are `provenance`. Pages hide both until asked.
"""

from __future__ import annotations

from dataclasses import dataclass

from hemkg.graph.store import HEM, PREFIXES

OWL, RDF, RDFS, XSD = PREFIXES["owl"], PREFIXES["rdf"], PREFIXES["rdfs"], PREFIXES["xsd"]
PROV, BIBO, QUDT = PREFIXES["prov"], PREFIXES["bibo"], PREFIXES["qudt"]
SCHEMA_NAMESPACES = (OWL, RDF, RDFS, XSD)


@dataclass(frozen=True)
class Kind:
    name: str
    words: str  # what the legend calls it
    colour: str  # "#rrggbb"
    classes: tuple[str, ...]


KINDS = (
    Kind("candidate", "the candidate", "#c2255c", (HEM + "Consultation",)),
    Kind("provenance", "provenance: facts and rule applications", "#868e96",
         (HEM + "Fact", HEM + "RuleApplication")),
    Kind("statement", "statement of the paper", "#5c677d", (HEM + "GuidelineStatement",)),
    Kind("rule", "consultation rule", "#6741d9", (HEM + "Rule",)),
    Kind("element", "element", "#1971c2", (HEM + "ChemicalElement",)),
    Kind("mechanism", "mechanism or role", "#e8590c", (HEM + "IonStorageMechanism",)),
    Kind("group", "plane or element group", "#9c36b5", (HEM + "ElementGroup",)),
    Kind("effect", "property, factor or outlook", "#2b8a3e",
         (HEM + "MaterialProperty", HEM + "StructuralFactor", HEM + "OutlookDirection")),
    Kind("material", "material, phase, ion or value", "#0b7285",
         (HEM + "Material", HEM + "AlloyPhase", HEM + "ReportedValue", HEM + "Anion", HEM + "AnionComponent",
          HEM + "CarrierIon", HEM + "BatteryChemistry", HEM + "OxidationStateOccurrence")),
    Kind("technique", "characterisation technique", "#e67700", (HEM + "CharacterisationTechnique",)),
    Kind("reference", "reference", "#495057", (HEM + "Reference", BIBO + "Document")),
    Kind("schema", "schema and vocabulary: classes, properties, rank entries", "#adb5bd",
         (OWL + "Class", RDFS + "Class", RDF + "Property", OWL + "ObjectProperty", OWL + "DatatypeProperty",
          OWL + "AnnotationProperty", OWL + "Ontology", OWL + "AllDifferent", OWL + "AllDisjointClasses",
          OWL + "Restriction", RDFS + "Datatype", HEM + "RankEntry", HEM + "EvidenceKind", HEM + "EffectDirection",
          QUDT + "Unit")),
    Kind("other", "other", "#74b816", ()),
)
BY_NAME = {k.name: k for k in KINDS}
HIDDEN = ("schema", "provenance")  # kinds a page shows only when asked


def kind_of(node: str, classes: set[str], blank: bool) -> str:
    """The kind of a node with these classes (each with its superclasses)."""
    for kind in KINDS:
        if classes & set(kind.classes):
            return kind.name
    if node.startswith(SCHEMA_NAMESPACES) or blank:
        return "schema"
    if any(c.startswith(PROV) for c in classes) or node.startswith(PROV):
        return "provenance"
    return "other"


def rgb(colour: str) -> tuple[int, int, int]:
    """'#1971c2' -> (25, 113, 194)."""
    value = colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)
