"""Read-only SPARQL over the knowledge graph: checks, a killable time limit, a row cap, result formats.

Every query is checked before it runs: it must parse as a SPARQL 1.1 query (not
an update), and may not reach outside the process: no SERVICE, and no FROM /
FROM NAMED except the dataset's own named graphs (pyoxigraph would call a
SERVICE over HTTP). Checking and running both happen in a forked child process
that the parent kills when the time limit passes (a query cannot be interrupted
inside a thread, and checking a long query can take longer than running it),
under a memory cap (RLIMIT_AS), and that the kernel kills if the parent dies.
Parsing only in children also keeps rdflib's parser, which is not thread-safe,
out of the threads of `hem serve`. SELECT and ASK results are written in the
W3C results formats, graphs (CONSTRUCT, DESCRIBE) in RDF syntaxes; every term
keeps its lexical form, and the XML formats replace the characters XML 1.0
cannot carry.
"""

from __future__ import annotations

import faulthandler
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hemkg.errors import QueryError, QueryMemoryError, QueryRefused, QuerySyntaxError, QueryTimeout, UnsuitableFormat
from hemkg.graph.store import ASSERTED_GRAPH, ENTAILED_GRAPH, PREFIXES, serialized, short

if TYPE_CHECKING:
    import pyoxigraph

    from hemkg.graph.store import Term

MAX_QUERY_CHARS = 100_000
DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_ROWS = 10_000
DEFAULT_MAX_MEMORY = 2 * 1024**3  # bytes a query's child may map beyond what its parent already had
RESULT_FORMATS = ("table", "csv", "tsv", "json", "xml")
GRAPH_FORMATS = ("table", "ttl", "nt", "jsonld", "rdfxml")
MEDIA_TYPES = {
    "csv": "text/csv", "tsv": "text/tab-separated-values", "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml", "ttl": "text/turtle", "nt": "application/n-triples",
    "jsonld": "application/ld+json", "rdfxml": "application/rdf+xml",
}
PROLOGUE = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in PREFIXES.items())


@dataclass
class Answer:
    kind: str  # "select", "ask", "graph"
    body: bytes = b""
    format: str = "table"
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


# rdflib's parser (pyparsing) is not thread-safe: its parse actions learn their arity on first
# use, and two threads doing so at once break them for good. One thread parses at a time, and
# no process forks while one does, so a child never inherits a parser caught half-way.
_parser_lock = threading.Lock()
os.register_at_fork(before=_parser_lock.acquire, after_in_parent=_parser_lock.release,
                    after_in_child=_parser_lock.release)


def load_checker() -> None:
    """Import the query checker (rdflib's SPARQL grammar) now, e.g. before forking children."""
    import rdflib.plugins.sparql.parser  # noqa: F401


def check(query: str, allowed_graphs: AbstractSet[str] = frozenset()) -> str:
    """Refuse what the query may not do; return its form: 'select', 'ask', 'construct' or 'describe'."""
    with _parser_lock:
        return _check(query, allowed_graphs)


def _check(query: str, allowed_graphs: AbstractSet[str]) -> str:
    from pyparsing import ParseException
    from rdflib.plugins.sparql.parser import parseQuery, parseUpdate

    if not query.strip():
        raise QueryError("the query is empty", "e.g. SELECT ?e WHERE { ?e hem:memberOf hemkg:plane-C }")
    if len(query) > MAX_QUERY_CHARS:
        raise QueryError(f"the query is {len(query)} characters long; the limit is {MAX_QUERY_CHARS}")
    full = PROLOGUE + query
    offset = PROLOGUE.count("\n")
    # rdflib's grammar recurses once per triple pattern of a group; raised once and left raised
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
            # FROM and FROM NAMED of the dataset's own graphs only choose among them: allowed
            clause, target = ("FROM NAMED", node["named"]) if "named" in node else ("FROM", node["default"])
            if str(target) not in allowed:
                raise QueryRefused(f"{clause} <{target}> is refused: queries may not load files or URLs",
                                   f"leave out {clause}, or name one of the dataset's graphs: "
                                   + ", ".join(f"<{g}>" for g in sorted(allowed)))
    form = tree[1].name.removesuffix("Query").lower()
    return form


# ------------------------------------------------------------------ the dataset

def dataset(candidate: str | None = None, ion: str = "Li", library_dir: str | None = None,
            use_library: bool = True) -> tuple[pyoxigraph.Store, set[str]]:
    """The knowledge graph with its entailments, plus a candidate's consultation and derivations
    in a named graph of their own, plus the literature library's nanopublications (--library DIR, else
    $HEMKG_LIBRARY or the user's data folder; none with `use_library` False), each in its own named graphs,
    outside the default graph; returns the store and the names of its graphs."""
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
    if use_library:
        quads = library_quads(library_dir)
        store.extend(quads)
        graphs |= {q.graph_name.value for q in quads if isinstance(q.graph_name, ox.NamedNode)}
    return store, graphs


def library_quads(library_dir: str | None = None) -> list[pyoxigraph.Quad]:
    """The library's quads (every nanopublication's graphs), or none where there is no library. A damaged or locked
    library raises LibraryError (hemkg.errors), the user's to fix."""
    from hemkg.library.place import absent, location

    path = location(library_dir)
    if absent(path):
        return []  # no library: neither the store nor its code is touched
    from hemkg.library.store import Library

    with Library.open(path, command="hem sparql") as library:
        return library.quads()


def is_library_graph(iri: str) -> bool:
    """A named graph of the literature library (a nanopublication's), which the default graph leaves out."""
    from hemkg.library.vocabulary import LIB

    return iri.startswith(LIB)


# ------------------------------------------------------------------ running

def _display(term: Term | None) -> str:
    import pyoxigraph as ox

    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        return short(term.value)
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, ox.Triple):  # RDF 1.2; the query checker (SPARQL 1.1) lets no query make one
        return f"<< {_display(term.subject)} {_display(term.predicate)} {_display(term.object)} >>"
    return term.value


def _execute(store: pyoxigraph.Store, query: str, fmt: str, max_rows: int, bindings: dict[str, str]) -> Answer:
    """Run the query and write its answer (in the child process)."""
    import pyoxigraph as ox

    from hemkg.graph.xmlsafe import xml_safe_triples

    substitutions: dict[pyoxigraph.Variable, Term] = {
        ox.Variable(name): ox.NamedNode(iri) for name, iri in bindings.items()}
    graphs = list(store.named_graphs())
    if any(is_library_graph(g.value) for g in graphs):  # the default graph stays the paper's (and a candidate's)
        default: list[Any] = [ox.DefaultGraph(), *(g for g in graphs if not is_library_graph(g.value))]
        result = store.query(query, prefixes=PREFIXES, default_graph=default, substitutions=substitutions)
    else:
        result = store.query(query, prefixes=PREFIXES, use_default_graph_as_union=True, substitutions=substitutions)
    if isinstance(result, ox.QueryBoolean):  # ASK
        answer = Answer("ask", format=fmt, boolean=bool(result), count=1)
        if fmt != "table":
            body = result.serialize(format=_results_format(fmt))
            assert body is not None  # serialize without an output returns the bytes
            answer.body = body
        return answer
    if isinstance(result, ox.QuerySolutions):  # SELECT
        variables = [v.value for v in result.variables]
        solutions: list[list[Term | None]] = []
        for solution in result:
            if len(solutions) == max_rows:
                cut = True
                break
            solutions.append([solution[v] for v in variables])
        else:
            cut = False
        answer = Answer("select", format=fmt, variables=variables, count=len(solutions), cut=cut)
        if fmt == "table":
            answer.rows = [[_display(t) for t in row] for row in solutions]
        else:
            answer.body = SOLUTION_WRITERS[fmt](variables, solutions)
        return answer
    triples: list[pyoxigraph.Triple] = []  # CONSTRUCT, DESCRIBE
    cut = False
    for t in result:
        if len(triples) == max_rows:
            cut = True
            break
        triples.append(t)
    answer = Answer("graph", format=fmt, count=len(triples), cut=cut, variables=["subject", "predicate", "object"])
    if fmt == "table":
        answer.rows = [[_display(t.subject), _display(t.predicate), _display(t.object)] for t in triples]
    else:
        rdf = {"ttl": ox.RdfFormat.TURTLE, "nt": ox.RdfFormat.N_TRIPLES, "jsonld": ox.RdfFormat.JSON_LD,
               "rdfxml": ox.RdfFormat.RDF_XML}[fmt]
        if fmt == "rdfxml":
            triples = xml_safe_triples(triples)
        prefixes = PREFIXES if fmt in ("ttl", "rdfxml", "jsonld") else None
        answer.body = serialized(triples, format=rdf, prefixes=prefixes)
    return answer


def _results_format(fmt: str):
    import pyoxigraph as ox

    return {"csv": ox.QueryResultsFormat.CSV, "tsv": ox.QueryResultsFormat.TSV, "json": ox.QueryResultsFormat.JSON,
            "xml": ox.QueryResultsFormat.XML}[fmt]


# ------------------------------------------------------------------ the W3C results formats
# Written here, for a (possibly cut) list of solutions, with every term as pyoxigraph holds it:
# a literal keeps its lexical form ("NaN" stays "NaN", "01" stays "01").

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"


def _json_term(term: Any) -> dict[str, Any]:
    import pyoxigraph as ox

    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Triple):
        parts = {"subject": term.subject, "predicate": term.predicate, "object": term.object}
        return {"type": "triple", "value": {k: _json_term(t) for k, t in parts.items()}}
    literal: dict[str, Any] = {"type": "literal", "value": term.value}
    if term.language:
        literal["xml:lang"] = term.language
    elif term.datatype.value not in (XSD_STRING, RDF_LANG_STRING):
        literal["datatype"] = term.datatype.value
    return literal


def _json_solutions(variables: list[str], solutions: list[list[Any]]) -> bytes:
    import json

    bindings = [{v: _json_term(t) for v, t in zip(variables, row, strict=True) if t is not None} for row in solutions]
    answer = {"head": {"vars": variables}, "results": {"bindings": bindings}}
    return json.dumps(answer, ensure_ascii=False).encode("utf-8")


def _xml_text(text: str) -> str:
    """Element or attribute text: escaped, CR kept as a reference, the characters XML 1.0
    cannot carry (most C0 controls) replaced by U+FFFD so the answer stays well-formed."""
    from hemkg.graph.xmlsafe import REPLACEMENT, XML_FORBIDDEN

    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    return XML_FORBIDDEN.sub(REPLACEMENT, text.replace("\r", "&#13;"))


def _xml_term(term: Any) -> str:
    import pyoxigraph as ox

    if isinstance(term, ox.NamedNode):
        return f"<uri>{_xml_text(term.value)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{_xml_text(term.value)}</bnode>"
    if isinstance(term, ox.Triple):
        return (f"<triple><subject>{_xml_term(term.subject)}</subject><predicate>{_xml_term(term.predicate)}"
                f"</predicate><object>{_xml_term(term.object)}</object></triple>")
    if term.language:
        return f'<literal xml:lang="{_xml_text(term.language)}">{_xml_text(term.value)}</literal>'
    if term.datatype.value in (XSD_STRING, RDF_LANG_STRING):
        return f"<literal>{_xml_text(term.value)}</literal>"
    return f'<literal datatype="{_xml_text(term.datatype.value)}">{_xml_text(term.value)}</literal>'


def _xml_solutions(variables: list[str], solutions: list[list[Any]]) -> bytes:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<sparql xmlns="http://www.w3.org/2005/sparql-results#">',
             "<head>"]
    lines += [f'<variable name="{_xml_text(v)}"/>' for v in variables]
    lines += ["</head>", "<results>"]
    for row in solutions:
        bindings = "".join(f'<binding name="{_xml_text(v)}">{_xml_term(t)}</binding>'
                           for v, t in zip(variables, row, strict=True) if t is not None)
        lines.append(f"<result>{bindings}</result>")
    lines += ["</results>", "</sparql>", ""]
    return "\n".join(lines).encode("utf-8")


def _csv_value(term: Any) -> str:
    """SPARQL 1.1 CSV: an IRI or a literal's lexical form as it is, a blank node as _:label."""
    import pyoxigraph as ox

    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, ox.Triple):
        return str(term)
    return term.value


def _csv_solutions(variables: list[str], solutions: list[list[Any]]) -> bytes:
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(variables)
    writer.writerows([_csv_value(t) for t in row] for row in solutions)
    return out.getvalue().encode("utf-8")


def _tsv_solutions(variables: list[str], solutions: list[list[Any]]) -> bytes:
    """SPARQL 1.1 TSV: each term in its N-Triples form, tab-separated."""
    lines = ["\t".join(f"?{v}" for v in variables)]
    lines += ["\t".join("" if t is None else str(t) for t in row) for row in solutions]
    return ("\n".join(lines) + "\n").encode("utf-8")


SOLUTION_WRITERS: dict[str, Callable[[list[str], list[list[Any]]], bytes]] = {
    "json": _json_solutions, "xml": _xml_solutions, "csv": _csv_solutions, "tsv": _tsv_solutions,
}


# ------------------------------------------------------------------ the query's child process

def _answer(store: pyoxigraph.Store, query: str, fmt: str | Callable[[str], str | None], max_rows: int,
            allowed_graphs: AbstractSet[str], bindings: dict[str, str]) -> Answer:
    """Check the query, choose its format and run it (in the child process)."""
    form = check(query, allowed_graphs)
    chosen = fmt(form) if callable(fmt) else fmt
    allowed = RESULT_FORMATS if form in ("select", "ask") else GRAPH_FORMATS
    if chosen not in allowed:
        raise UnsuitableFormat(form, chosen, allowed)
    return _execute(store, query, chosen, max_rows, bindings)


def _limit_memory(max_memory: int) -> None:
    """Cap this process's address space at what it maps now plus `max_memory` bytes."""
    import resource

    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            mapped = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:  # no /proc: cap the whole address space
        mapped = 0
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = mapped + max_memory
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    if soft == resource.RLIM_INFINITY or limit < soft:
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _child(conn, parent: int, max_memory: int, function: Callable, args: tuple) -> None:
    from hemkg.system.processes import die_with_parent

    die_with_parent(parent)
    # what the child has to say goes through the pipe: no Rust "memory allocation failed" backtrace
    # (nor a faulthandler dump, as under pytest) when an allocation fails past the cap
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    faulthandler.disable()
    try:
        _limit_memory(max_memory)
        outcome: tuple[str, Any] = ("ok", function(*args))
    except QueryError as err:
        outcome = ("error", err)
    except MemoryError:
        outcome = ("memory", None)
    except Exception as err:
        outcome = ("failed", f"{type(err).__name__}: {err}")
    try:
        conn.send(outcome)
    except MemoryError:
        conn.send(("memory", None))
    finally:
        conn.close()


def format_size(size: int) -> str:
    """2147483648 -> '2 GiB'."""
    for unit, scale in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if size >= scale:
            return f"{size / scale:.3g} {unit}"
    return f"{size} bytes"


def in_child(function: Callable, args: tuple, timeout: float, max_memory: int = DEFAULT_MAX_MEMORY) -> Any:
    """`function(*args)` in a forked child that is killed at `timeout` seconds, may map at most
    `max_memory` more bytes than this process, and dies with it; QueryError passes through.

    Fork from a thread that waits for the child (see system.processes.die_with_parent).
    """
    import hemkg.system.processes  # noqa: F401 - loaded here, not in every child

    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(sender, os.getpid(), max_memory, function, args), daemon=True)
    process.start()
    sender.close()
    try:
        if not receiver.poll(timeout):
            raise QueryTimeout(f"the query ran longer than {timeout:g} s and was stopped",
                               "narrow it (LIMIT, more specific patterns) or give --timeout more seconds")
        try:
            status, payload = receiver.recv()
        except EOFError:  # the child died without a word
            status, payload = "died", None
    finally:
        if process.is_alive():
            process.kill()
        process.join()
        receiver.close()
    if status == "ok":
        return payload
    if status == "error":
        raise payload
    # Rust (pyoxigraph) aborts when an allocation fails; Python raises MemoryError
    if status == "memory" or process.exitcode == -signal.SIGABRT:
        raise QueryMemoryError(f"the query needed more than {format_size(max_memory)} of memory and was stopped",
                               "narrow it (LIMIT, fewer rows into GROUP_CONCAT) or give --max-memory more")
    if status == "failed":
        raise QueryError(f"the query failed: {payload}")
    raise RuntimeError(f"the query's process ended without an answer (exit code {process.exitcode})")


def run(query: str, store: pyoxigraph.Store, fmt: str | Callable[[str], str | None] = "table",
        timeout: float = DEFAULT_TIMEOUT, max_rows: int = DEFAULT_MAX_ROWS,
        allowed_graphs: AbstractSet[str] = frozenset(), bindings: dict[str, str] | None = None,
        max_memory: int = DEFAULT_MAX_MEMORY) -> Answer:
    """Check and run a query under a time limit and a memory cap that really stop it, checking included.

    `fmt` is a format, or a function from the query's form ('select', ...) to one (None: none
    suits; UnsuitableFormat is raised). `bindings` pre-bind projected variables to IRIs (SPARQL
    SEP-0007 substitution).
    """
    load_checker()  # the grammar's import is not the query's cost: done once, here
    return in_child(_answer, (store, query, fmt, max_rows, set(allowed_graphs), bindings or {}), timeout, max_memory)


def render_table(answer: Answer, width: int = 120) -> str:
    """An aligned text table (or the boolean of an ASK), sized to its content and `width` (rich folds the
    widest cells to fit; nothing is cut), with the row count under it."""
    from hemkg.system.text import table

    if answer.kind == "ask":
        return ("yes" if answer.boolean else "no") + "\n"
    text = table(answer.variables, [[v.replace("\n", " ") for v in r] for r in answer.rows], width)
    cut = ", cut at the row limit: raise --max-rows" if answer.cut else ""
    return text + f"({answer.count} {'row' if answer.count == 1 else 'rows'}{cut})\n"
