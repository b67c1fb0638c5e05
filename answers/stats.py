"""`hem kg stats`: what the knowledge graph holds, in figures."""

from __future__ import annotations

from typing import Any

from hemkg.graph import statements as k
from hemkg.graph.store import ASSERTED_GRAPH, ENTAILED_GRAPH, knowledge_graph, select


def stats() -> dict[str, Any]:
    store = knowledge_graph()

    def count(graph: str) -> int:
        return sum(1 for _ in store.quads_for_pattern(None, None, None, _node(graph)))

    terms = {
        row["label"]: int(row["n"])
        for row in select(
            """SELECT ?label (COUNT(DISTINCT ?x) AS ?n) WHERE {
                 ?x a ?c . ?c skos:prefLabel ?label . FILTER (STRSTARTS(STR(?c), STR(hem:)))
               } GROUP BY ?label ORDER BY DESC(?n)"""
        )
    }
    statements = list(k.statements().values())
    by_evidence: dict[str, int] = {}
    for st in statements:
        key = k.label(st.evidence) if st.evidence else "unspecified"
        by_evidence[key] = by_evidence.get(key, 0) + 1
    cited = {n for st in statements for n in st.references}
    refs = k.references()
    return {
        "triples": {"asserted": count(ASSERTED_GRAPH), "entailed": count(ENTAILED_GRAPH)},
        "terms_by_type": terms,
        "statements": {
            "total": len(statements),
            "by_evidence": dict(sorted(by_evidence.items(), key=lambda kv: -kv[1])),
            "with_effect_direction": sum(1 for st in statements if st.direction),
            "with_editorial_note": sum(1 for st in statements if st.notes),
            "resting_on_paper_alone": sum(1 for st in statements if st.rests_on_paper_alone),
        },
        "references": {
            "total": len(refs),
            "cited_by_statements": len(cited),
            "not_cited_by_any_statement": sorted(set(refs) - cited),
            "duplicate_pairs": sorted({tuple(sorted((n, d)))
                                       for n, r in refs.items() for d in r.get("duplicates", [])}),
        },
    }


def _node(iri: str):
    import pyoxigraph as ox

    return ox.NamedNode(iri)


def render(figures: dict[str, Any], width: int = 80) -> str:
    """The figures as text; the two counts by kind as tables (rich, sized to their content)."""
    from hemkg.system.text import table

    def counts(by: dict[str, int], what: str) -> list[str]:
        text = table(["count", what], [[str(n), label] for label, n in by.items()], width - 2, right=(0,))
        return ["  " + line if line else line for line in text.rstrip("\n").split("\n")]

    t, s, r = figures["triples"], figures["statements"], figures["references"]
    lines = [f"Triples: {t['asserted']} asserted, {t['entailed']} entailed", "", "Terms by type:"]
    lines += counts(figures["terms_by_type"], "type")
    lines += ["", f"Guideline statements: {s['total']}"]
    lines += counts(s["by_evidence"], "evidence kind")
    lines += [
        f"  with an effect direction: {s['with_effect_direction']}; with an editorial note: {s['with_editorial_note']};"
        f" resting on the paper alone: {s['resting_on_paper_alone']}",
        "",
        f"References: {r['total']}, of which {r['cited_by_statements']} are cited by statements",
        "  duplicate pairs: " + ", ".join(f"{a} = {b}" for a, b in r["duplicate_pairs"]),
        "  not yet cited by any statement: " + (", ".join(map(str, r["not_cited_by_any_statement"])) or "none"),
    ]
    return "\n".join(lines)
