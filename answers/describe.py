"""`hem describe TERM`: what does the paper say about X?

The answer is assembled from recorded statements only: each one with its
reference numbers, location and kind of evidence, grouped by the mechanism it
concerns. Nothing is paraphrased beyond the statements' own labels and notes.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, Any

from hemkg.graph import statements as k
from hemkg.graph.store import HEM, REF, select, short
from hemkg.graph.vocab import vocab

if TYPE_CHECKING:
    from hemkg.consultation.literature import LibraryFindings

GENERAL = "Beyond a single mechanism"
DIRECTION_SIGN = {HEM + "increase": "+", HEM + "decrease": "-"}


def related_terms(iri: str) -> tuple[dict[str, str], dict[str, str]]:
    """Terms whose statements also speak about `iri`, each with how they relate.

    Returns (groups, links): the element groups `iri` belongs to, whose
    statements count where the group itself acts (is the subject); and the
    carrier ion, element or battery chemistry tied to `iri`, whose statements
    count wherever they name it.
    """
    groups = {g: f"as a member of {k.label(g)}" for g in sorted(k.memberships().get(iri, ()), key=k.label)}
    links = {
        row["other"]: f"{row['how']} {k.label(row['other'])}"
        for row in sorted(select(
            """SELECT ?other ?how WHERE {
                 { ?other hem:ionOfElement ?x . BIND("as carrier ion" AS ?how) }
                 UNION { ?x hem:ionOfElement ?other . BIND("as element" AS ?how) }
                 UNION { ?other hem:usesCarrierIon ?x . BIND("as battery chemistry" AS ?how) }
                 UNION { ?x hem:usesCarrierIon ?other . BIND("as carrier ion" AS ?how) }
                 UNION { ?i hem:ionOfElement ?x . ?other hem:usesCarrierIon ?i .
                         BIND("as battery chemistry" AS ?how) } }""",
            x=iri,
        ), key=lambda r: r["other"])
    }
    return groups, links


def _via(st: k.Statement, iri: str, groups: dict[str, str], links: dict[str, str]) -> tuple[bool, str | None]:
    """Whether the statement speaks about `iri`, and through which related term."""
    if iri in st.related:
        return True, None
    for group, how in groups.items():
        if group in st.subjects:
            return True, how
    for other, how in links.items():
        if other in st.related:
            return True, how
    return False, None


def _mechanisms_of(st: k.Statement) -> list[str]:
    """The mechanisms a statement concerns, most specific role first."""
    found: list[str] = []
    mechanisms = [m.iri for m in vocab().mechanisms]
    for role in (st.objects, st.subjects, st.mentions):
        for term in role:
            for m in [term] if term in mechanisms else sorted(k.group_mechanisms().get(term, ())):
                if m in mechanisms and m not in found:
                    found.append(m)
    return found


def statement_record(st: k.Statement, via: str | None = None) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": short(st.iri),
        "statement": st.label,
        "references": st.references,
        "location": {
            "section": st.sections, "table": st.tables, "figure": st.figures, "equation": st.equations,
        },
        "evidence": k.label(st.evidence) if st.evidence else None,
        "mechanisms": [k.label(m) for m in _mechanisms_of(st)],
    }
    if st.direction:
        record["direction"] = DIRECTION_SIGN[st.direction]
        record["affects"] = [k.label(o) for o in st.objects]
    if st.predicate:
        record["relation"] = short(st.predicate)
    if st.observed_in:
        record["observed_in"] = [k.label(m) for m in st.observed_in]
        record["observed_taking_part"] = st.observed_taking_part
    if st.applies_to_ion:
        record["applies_to_ion"] = [k.label(i) for i in st.applies_to_ion]
    if st.ordering_text:
        record["ordering"] = st.ordering_text
    if st.values:
        record["values"] = [k.label(v) for v in st.values]
    if st.rests_on_paper_alone:
        record["rests_on_paper_alone"] = True
    if st.notes:
        record["notes"] = st.notes
    if st.scope_notes:
        record["quote"] = st.scope_notes
    if via:
        record["via"] = via
    return record


def _term_facts(iri: str) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    for row in select(
        """SELECT ?p ?o WHERE {
             ?x ?p ?o .
             FILTER (?p IN (hem:symbol, hem:atomicNumber, hem:atomicMass, hem:paulingElectronegativity,
                            hem:formula, hem:reactionEquation, hem:voltageWindow, skos:definition,
                            hem:crystalStructure, hem:morphology, hem:revealsAspect,
                            dcterms:bibliographicCitation, hem:citationSlip)) }""",
        x=iri,
    ):
        facts[row["p"].rsplit("#", 1)[-1].rsplit("/", 1)[-1]] = row["o"]
    groups = sorted(k.memberships().get(iri, ()), key=k.label)
    if groups:
        facts["member_of"] = [k.label(g) for g in groups]
    return facts


def _values_reported_in(iri: str) -> list[str]:
    rows = select("SELECT ?v WHERE { ?v hem:reportedIn ?r }", r=iri)
    return sorted(k.label(r["v"]) for r in rows)


def describe(text: str, library: LibraryFindings | None = None) -> dict[str, Any]:
    """The answer to 'what does the paper say about TEXT?' as a JSON-ready dict; with `library`
    (literature.read()), its findings about the term under "library", beside the paper's statements.

    Raises knowledge.UnknownTerm when TEXT names nothing in the graph.
    """
    iri = k.resolve(text)
    kinds = sorted(k.label(c) for c in k.types().get(iri, ()) if c.startswith(HEM))
    answer: dict[str, Any] = {
        "query": text,
        "term": {"id": short(iri), "iri": iri, "label": k.label(iri), "kinds": kinds, **_term_facts(iri)},
    }

    if iri.startswith(REF):
        number = int(iri.removeprefix(REF))
        citing = [st for st in k.statements().values() if number in st.references]
        answer["reference"] = k.references()[number]
        answer["values_reported"] = _values_reported_in(iri)
        answer["materials_reported"] = sorted(
            k.label(r["m"]) for r in select("SELECT ?m WHERE { ?m a hem:Material ; hem:reportedIn ?r }", r=iri)
        )
        pairs: list[tuple[k.Statement, str | None]] = [(st, None) for st in citing]
    else:
        its_groups, links = related_terms(iri)
        pairs = []
        for st in k.statements().values():
            about, via = _via(st, iri, its_groups, links)
            if about:
                pairs.append((st, via))

    _group(answer, pairs)
    answer["covered_by_paper"] = bool(pairs) or iri.startswith(REF)
    if not answer["covered_by_paper"]:
        answer["outside_paper"] = (
            f"The paper makes no statement about {k.label(iri)}. "
            "Only the data above (from an element-data library) is known here."
            if "symbol" in answer["term"] else f"The paper makes no statement about {k.label(iri)}."
        )
    if library is not None:
        from hemkg.answers.audit import about as library_findings

        answer["library"] = library_findings(library, iri)
    return answer


def _group(answer: dict[str, Any], pairs: list[tuple[k.Statement, str | None]]) -> None:
    """Sort the statements into groups by mechanism, and list the references they cite."""
    groups: dict[str, list[dict[str, Any]]] = {}
    # the term's own statements first, then reported examples, then what it inherits
    for st, via in sorted(pairs, key=lambda p: (p[1] is not None, bool(p[0].observed_in), p[0].iri)):
        mechs = _mechanisms_of(st)
        heading = k.label(mechs[0]) if mechs else GENERAL
        groups.setdefault(heading, []).append(statement_record(st, via))
    order = [m.label for m in vocab().mechanisms] + [GENERAL]
    answer["groups"] = [{"heading": h, "statements": groups[h]} for h in order if h in groups]
    cited = sorted({n for g in answer["groups"] for s in g["statements"] for n in s["references"]})
    answer["references"] = {str(n): k.references()[n]["label"] for n in cited}


def mentions(text: str) -> dict[str, Any]:
    """The paper's statements whose words or quotes mention TEXT, a word that names no term of the graph
    (graphite, SEI, ...): the answer of describe() with "term": null and "mentioned": whether any does."""
    import re

    word = " ".join(text.split())
    pattern = re.compile(r"(?<![\w-])" + re.escape(word) + r"(?![\w-])", re.IGNORECASE)
    pairs: list[tuple[k.Statement, str | None]] = [
        (st, None) for st in k.statements().values()
        if any(pattern.search(t) for t in (st.label, *st.scope_notes))]
    answer: dict[str, Any] = {"query": text, "term": None, "mentioned": bool(pairs)}
    _group(answer, pairs)
    answer["covered_by_paper"] = bool(pairs)
    if not pairs:
        answer["outside_paper"] = f"The paper does not mention {word}: no statement or quote of it names it."
    return answer


# ---------------------------------------------------------------- terminal text

def _refs(numbers: list[int]) -> str:
    from hemkg.answers.report import cite

    return cite(numbers) or "[no reference printed]"


def render(answer: dict[str, Any], width: int = 88) -> str:
    """The answer as terminal text: headed sections, references as [41]."""
    term = answer["term"] or {"id": "", "label": answer["query"], "kinds": []}

    def wrap(text: str, first: str, rest: str | None = None) -> str:
        return textwrap.fill(text, width=width, initial_indent=first, subsequent_indent=rest or " " * len(first),
                             break_on_hyphens=False)

    # the term's CURIE names it in hem sparql; a material's or statement's id is the graph's own, not the reader's
    curie = "" if term["id"].startswith(("hemkg:material-", "hemkg:stmt-")) else f"{term['id']}; "
    lines = [f"{term['label']}  ({curie}{', '.join(term['kinds']) or 'term'})"] if answer["term"] else [
        wrap(f"'{answer['query']}' is no term of the paper's knowledge graph; "
             + (f"the paper's statements that mention it ({sum(len(g['statements']) for g in answer['groups'])}):"
                if answer["groups"] else "the paper does not mention it."), "")]
    if "symbol" in term and "atomicNumber" in term:
        data = f"Z = {term['atomicNumber']}, atomic mass {term['atomicMass']} g/mol"
        if "paulingElectronegativity" in term:
            data += f", Pauling electronegativity {term['paulingElectronegativity']}"
        lines.append(f"  {data} (element-data library, not the paper)")
    for key, title in (("formula", "Formula"), ("reactionEquation", "Reaction"), ("voltageWindow", "Voltage window"),
                       ("crystalStructure", "Structure"), ("morphology", "Morphology"),
                       ("revealsAspect", "Reveals"), ("member_of", "Member of")):
        if key in term:
            value = ", ".join(term[key]) if isinstance(term[key], list) else term[key]
            lines.append(wrap(f"{title}: {value}", "  "))
    if "definition" in term:
        lines.append(wrap(term["definition"], "  "))
    if "reference" in answer:
        ref = answer["reference"]
        lines.append(wrap(ref["citation"], "  "))
        if "duplicates" in ref:
            same = ", ".join(map(str, ref["duplicates"]))
            lines.append(wrap(f"Same work as ref {same}. {ref.get('note', '')}", "  "))
        if "slip" in ref:
            lines.append(wrap(f"Citation slip: {ref['slip']}", "  "))
        for key, title in (("materials_reported", "Materials reported"), ("values_reported", "Figures reported")):
            if answer.get(key):
                lines.append(wrap(f"{title}: {'; '.join(answer[key])}", "  "))
    if "outside_paper" in answer:
        lines += ["", wrap(answer["outside_paper"], "")]
    for group in answer["groups"]:
        lines += ["", group["heading"].capitalize()]
        for s in group["statements"]:
            sign = f"({s['direction']}) " if "direction" in s else ""
            lines.append(wrap(f"{sign}{s['statement']} {_refs(s['references'])}", "  - ", "    "))
            detail = [x for x in (
                "; ".join(filter(None, (
                    "Section " + ", ".join(s["location"]["section"]) if s["location"]["section"] else "",
                    *s["location"]["table"], *s["location"]["figure"], *s["location"]["equation"],
                ))),
                s["evidence"], s.get("via"),
                ("only with " + ", ".join(s["applies_to_ion"])) if s.get("applies_to_ion") else "",
            ) if x]
            lines.append(wrap(" · ".join(detail), "      "))
            for v in s.get("values", []):
                lines.append(wrap(v, "      = ", "      "))
            for q in s.get("quote", []):
                lines.append(wrap(q, "      > "))
            for n in s.get("notes", []):
                lines.append(wrap("Note: " + n, "      "))
    if answer.get("library"):
        from hemkg.answers.audit import render_about

        lines += render_about(answer["library"], term["label"], width)
    if answer["references"]:
        lines += ["", "References"]
        lines += [wrap(f"{label}", "  ") for label in answer["references"].values()]
    return "\n".join(lines)
