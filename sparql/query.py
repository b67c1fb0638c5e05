"""Read-only SPARQL over the knowledge graph: checks, a killable time limit, a row cap, result formats.

Every query is checked before it runs: it must parse as a SPARQL 1.1 query (not
an update), and may not reach outside the process: no SERVICE, and no FROM /
FROM NAMED except the dataset's own named graphs (pyoxigraph would call a
SERVICE over HTTP). It then runs in a forked child process that the parent
kills when the time limit passes, since a query cannot be interrupted inside a
thread. SELECT and ASK results are written in the W3C results formats, graphs
(CONSTRUCT, DESCRIBE) in RDF syntaxes.
"""

from __future__ import annotations

import multiprocessing
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hemkg.graph.store import ASSERTED_GRAPH, ENTAILED_GRAPH, PREFIXES, short, to_rdflib_term

if TYPE_CHECKING:
    import pyoxigraph

MAX_QUERY_CHARS = 100_000
DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_ROWS = 10_000
RESULT_FORMATS = ("table", "csv", "tsv", "json", "xml")
GRAPH_FORMATS = ("table", "ttl", "nt", "jsonld", "rdfxml")
MEDIA_TYPES = {
    "csv": "text/csv", "tsv": "text/tab-separated-values", "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml", "ttl": "text/turtle", "nt": "application/n-triples",
    "jsonld": "application/ld+json", "rdfxml": "application/rdf+xml",
}
PROLOGUE = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in PREFIXES.items())


class QueryError(ValueError):
    """A query that cannot run; `hint` says how to fix it."""

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.hint = hint


class QueryRefused(QueryError):
    """The query would write, or reach outside the process."""


class QuerySyntaxError(QueryError):
    def __init__(self, message: str, line: int, column: int):
        super().__init__(f"syntax error at line {line}, column {column}: {message}",
                         "the project's prefixes (hem:, hemkg:, ref:, skos:, ...) are predeclared")
        self.line, self.column = line, column


class QueryTimeout(QueryError):
    pass


@dataclass
class Answer:
    kind: str  # "select", "ask", "graph"
    body: bytes = b""
    variables: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)  # for the terminal table
    count: int = 0
    cut: bool = False
    boolean: bool | None = None


# ------------------------------------------------------------------ checking

def _walk(node: Any):
    """Every CompValue in rdflib's parse tree (iteratively: long queries nest deeply)."""
    from rdflib.plugins.sparql.parserutils import CompValue

    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, CompValue):
            yield item
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)) or type(item).__name__ == "ParseResults":
            stack.extend(item)


def check(query: str, allowed_graphs: set[str] = frozenset()) -> str:
    """Refuse what the query may not do; return its form: 'select', 'ask', 'construct' or 'describe'."""
    from pyparsing import ParseException
    from rdflib.plugins.sparql.parser import parseQuery, parseUpdate

    if not query.strip():
        raise QueryError("the query is empty", "e.g. SELECT ?e WHERE { ?e hem:memberOf hemkg:plane-C }")
    if len(query) > MAX_QUERY_CHARS:
        raise QueryError(f"the query is {len(query)} characters long; the limit is {MAX_QUERY_CHARS}")
    full = PROLOGUE + query
    offset = PROLOGUE.count("\n")
    # rdflib's grammar recurses once per triple pattern of a group; raised once and left raised,
    # since restoring it would race with queries checked in other threads (hem serve)
    if sys.getrecursionlimit() < 20_000:
        sys.setrecursionlimit(20_000)
    try:
        tree = parseQuery(full)
    except RecursionError:
        raise QueryError("the query is too deeply nested for the query checker",
                         "split it into smaller queries, or group the patterns with { }") from None
    except ParseException as err:
        try:
            parseUpdate(full)
        except ParseException:
            raise QuerySyntaxError(err.msg, err.lineno - offset, err.col) from None
        raise QueryRefused("updates (INSERT, DELETE, LOAD, CLEAR, ...) are refused: the graph is read-only",
                           "use SELECT, ASK, CONSTRUCT or DESCRIBE") from None
    allowed = set(allowed_graphs) | {ASSERTED_GRAPH, ENTAILED_GRAPH}
    for node in _walk(tree):
        if node.name == "ServiceGraphPattern":
            raise QueryRefused(f"SERVICE <{node.get('term')}> is refused: queries may not reach other endpoints",
                               "query this graph only, or use --endpoint to query another store directly")
        if node.name == "DatasetClause":
            target = str(node.get("default") or node.get("named"))
            if target not in allowed:
                raise QueryRefused(f"FROM <{target}> is refused: queries may not load files or URLs",
                                   "leave out FROM; the dataset's graphs are " + ", ".join(f"<{g}>" for g in sorted(allowed)))
    form = tree[1].name.removesuffix("Query").lower()
    return form


# ------------------------------------------------------------------ the dataset

def dataset(candidate: str | None = None, ion: str = "Li") -> tuple["pyoxigraph.Store", set[str]]:
    """The knowledge graph with its entailments, plus a candidate's consultation and derivations
    in a named graph of their own; returns the store and the names of its graphs."""
    import pyoxigraph as ox

    from hemkg.consultation import provenance
    from hemkg.consultation.consultation import consult
    from hemkg.graph.store import build_store

    store = build_store()
    graphs = {ASSERTED_GRAPH, ENTAILED_GRAPH}
    if candidate is not None:
        c = consult(candidate, ion)
        graph = ox.NamedNode(provenance.consultation_iri(c))
        store.extend(ox.Quad(t.subject, t.predicate, t.object, graph) for t in provenance.triples(c))
        graphs.add(graph.value)
    return store, graphs


# ------------------------------------------------------------------ running

def _display(term: "pyoxigraph.Term | None") -> str:
    import pyoxigraph as ox

    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        return short(term.value)
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    return term.value


def _execute(store: "pyoxigraph.Store", query: str, form: str, fmt: str, max_rows: int,
             bindings: dict[str, str]) -> Answer:
    """Run the query and write its answer (in the child process)."""
    import pyoxigraph as ox

    substitutions = {ox.Variable(name): ox.NamedNode(iri) for name, iri in bindings.items()}
    result = store.query(query, prefixes=PREFIXES, use_default_graph_as_union=True, substitutions=substitutions)
    if form == "ask":
        answer = Answer("ask", boolean=bool(result), count=1)
        if fmt != "table":
            answer.body = result.serialize(format=_results_format(fmt))
        return answer
    if form == "select":
        variables = [v.value for v in result.variables]
        solutions = []
        for solution in result:
            if len(solutions) == max_rows:
                cut = True
                break
            solutions.append([solution[v] for v in variables])
        else:
            cut = False
        answer = Answer("select", variables=variables, count=len(solutions), cut=cut)
        if fmt == "table":
            answer.rows = [[_display(t) for t in row] for row in solutions]
        else:
            answer.body = _serialize_solutions(variables, solutions, fmt)
        return answer
    triples = []
    cut = False
    for t in result:
        if len(triples) == max_rows:
            cut = True
            break
        triples.append(t)
    answer = Answer("graph", count=len(triples), cut=cut, variables=["subject", "predicate", "object"])
    if fmt == "table":
        answer.rows = [[_display(t.subject), _display(t.predicate), _display(t.object)] for t in triples]
    else:
        rdf = {"ttl": ox.RdfFormat.TURTLE, "nt": ox.RdfFormat.N_TRIPLES, "jsonld": ox.RdfFormat.JSON_LD,
               "rdfxml": ox.RdfFormat.RDF_XML}[fmt]
        answer.body = ox.serialize(triples, format=rdf, prefixes=PREFIXES if fmt in ("ttl", "rdfxml", "jsonld") else None)
    return answer


def _results_format(fmt: str):
    import pyoxigraph as ox

    return {"csv": ox.QueryResultsFormat.CSV, "tsv": ox.QueryResultsFormat.TSV, "json": ox.QueryResultsFormat.JSON,
            "xml": ox.QueryResultsFormat.XML}[fmt]


def _serialize_solutions(variables: list[str], solutions: list[list[Any]], fmt: str) -> bytes:
    """The W3C results formats for a (possibly cut) list of solutions: rdflib's serializers for CSV,
    JSON and XML; TSV (which rdflib only reads) is each term in its N-Triples form, tab-separated."""
    import rdflib
    from rdflib.query import Result

    if fmt == "tsv":
        lines = ["\t".join(f"?{v}" for v in variables)]
        lines += ["\t".join("" if t is None else str(t) for t in row) for row in solutions]
        return ("\n".join(lines) + "\n").encode("utf-8")

    result = Result("SELECT")
    result.vars = [rdflib.Variable(v) for v in variables]
    result.bindings = [
        {rdflib.Variable(v): to_rdflib_term(t) for v, t in zip(variables, row) if t is not None} for row in solutions
    ]
    return result.serialize(format=fmt) or b""


def _child(conn, store, query, form, fmt, max_rows, bindings) -> None:
    try:
        conn.send(("ok", _execute(store, query, form, fmt, max_rows, bindings)))
    except Exception as err:  # noqa: BLE001 - reported to the parent as a message
        conn.send(("error", f"{type(err).__name__}: {err}"))
    finally:
        conn.close()


def run(query: str, store: "pyoxigraph.Store", fmt: str = "table", timeout: float = DEFAULT_TIMEOUT,
        max_rows: int = DEFAULT_MAX_ROWS, allowed_graphs: set[str] = frozenset(),
        bindings: dict[str, str] | None = None) -> Answer:
    """Check and run a query under a time limit that really stops it.

    `bindings` pre-bind projected variables to IRIs (SPARQL SEP-0007 substitution).
    """
    form = check(query, allowed_graphs)
    allowed_formats = RESULT_FORMATS if form in ("select", "ask") else GRAPH_FORMATS
    if fmt not in allowed_formats:
        raise QueryError(f"--format {fmt} does not suit a {form.upper()} query",
                         f"use one of {', '.join(allowed_formats)}")
    context = multiprocessing.get_context("fork")
    parent, child = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(child, store, query, form, fmt, max_rows, bindings or {}), daemon=True)
    process.start()
    child.close()
    try:
        if not parent.poll(timeout):
            raise QueryTimeout(f"the query ran longer than {timeout:g} s and was stopped",
                               "narrow it (LIMIT, more specific patterns) or give --timeout more seconds")
        status, payload = parent.recv()
    finally:
        if process.is_alive():
            process.kill()
        process.join()
        parent.close()
    if status == "error":
        raise QueryError(f"the query failed: {payload}")
    return payload


def render_table(answer: Answer, width: int = 120) -> str:
    """An aligned text table (or the boolean of an ASK)."""
    if answer.kind == "ask":
        return ("yes" if answer.boolean else "no") + "\n"
    columns = answer.variables
    widths = [min(60, max([len(c)] + [len(r[i]) for r in answer.rows])) for i, c in enumerate(columns)]
    clip = lambda s, w: s if len(s) <= w else s[: w - 1] + "…"  # noqa: E731
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths)), "  ".join("-" * w for w in widths)]
    lines += ["  ".join(clip(v.replace("\n", " "), w).ljust(w) for v, w in zip(r, widths)).rstrip() for r in answer.rows]
    lines.append(f"({answer.count} {'row' if answer.count == 1 else 'rows'}" + (", cut at the row limit: raise --max-rows" if answer.cut else "") + ")")
    return "\n".join(lines) + "\n"
