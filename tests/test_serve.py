"""hem serve: the SPARQL 1.1 Protocol endpoint, driven by real clients.

SPARQLWrapper and rdflib's SPARQLStore ask it SELECT, ASK, CONSTRUCT and
DESCRIBE in every format; the negative cases of the W3C SPARQL 1.1 Protocol
tests (bad_*) are sent byte for byte with http.client; and the guards are
tried for real: a foreign Host, an oversized body, SERVICE and FROM (with a
listening socket and a secret file that must stay untouched), a full server
(503), a runaway query (stopped at the time limit, checking included), a
query that grows past its memory cap (507), slow clients (408) and many
clients at once (they wait in the listen backlog). Fresh `hem serve` processes
take many first queries at once (the query checker must survive it), and are
killed with queries running (no query child may outlive them). Every error
body must be one line of plain text without a traceback or a file path.
"""

from __future__ import annotations

import csv
import http.client
import io
import json
import multiprocessing
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from xml.dom import minidom
from xml.dom.minidom import Document

import pytest
import rdflib
from click.testing import CliRunner
from conftest import (
    HUGE_CONCAT,
    ODD_LITERALS,
    SLOW,
    SLOW_TO_CHECK,
    assert_one_line_error,
    kill_and_check,
    process_tree,
    run,
    wait_for_children,
)
from rdflib.compare import isomorphic
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import (
    CSV,
    GET,
    JSON,
    JSONLD,
    N3,
    POST,
    POSTDIRECTLY,
    RDFXML,
    TSV,
    TURTLE,
    URLENCODED,
    XML,
    SPARQLWrapper,
)

import hemkg
from hemkg.cli import main
from hemkg.graph.store import ASSERTED_GRAPH, HEM, HEMKG
from hemkg.sparql import endpoint as serve
from hemkg.sparql import query as sparql

PLANE_C = "SELECT ?e WHERE { ?e hem:memberOf hemkg:plane-C } ORDER BY ?e"
PLANE_C_ELEMENTS = [HEMKG + e for e in ("Co", "Fe", "Ni")]  # Fig. 6a, Plane C: space charge
PACKAGE_DIR = str(Path(hemkg.__file__).resolve().parent)

# rdflib's own JSON-LD parser still builds a ConjunctiveGraph
pytestmark = pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")


# ------------------------------------------------------------------ servers and requests

@contextmanager
def running(timeout: float = 5.0, max_rows: int = 50, max_concurrent: int = 4, **limits):
    """A server on 127.0.0.1, any free port, serving in a background thread."""
    server = serve.make_server("127.0.0.1", 0, timeout, max_rows, max_concurrent, **limits)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@dataclass
class ServeProcess:
    process: subprocess.Popen
    port: int
    log: list[str]  # what it wrote to stderr after its first line


@contextmanager
def serve_process(*args: str, prelude: str = ""):
    """The real `hem serve --port 0 ARGS` in its own process, once it says where it listens."""
    # SIGINT set back to Python's default: a test run from a background job would inherit it ignored
    code = (f"{prelude}import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
            f"from hemkg.cli import main; main(['serve', '--port', '0', *{list(args)!r}])")
    with process_tree([sys.executable, "-c", code], stderr=subprocess.PIPE) as process:
        line = process.stderr.readline()
        for _ in range(20):  # past any warning the interpreter may print first
            if line.startswith("SPARQL endpoint at ") or not line:
                break
            line = process.stderr.readline()
        assert line.startswith("SPARQL endpoint at "), line
        log: list[str] = []  # read on, so that the server never blocks on a full pipe
        threading.Thread(target=lambda: log.extend(process.stderr), daemon=True).start()
        yield ServeProcess(process, urllib.parse.urlsplit(line.split()[3]).port, log)


@pytest.fixture(scope="module")
def server():
    with running() as s:
        yield s


@pytest.fixture(scope="module")
def expected():
    """Answers computed in process by sparql.run over the same dataset, to compare with the server's."""
    store, graphs = sparql.dataset()
    return lambda query, fmt: sparql.run(query, store, fmt, 10.0, 50, graphs)


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


def request(server, method: str, target: str = "/sparql", body: bytes | None = None,
            headers: dict[str, str] | None = None, host: str | None = "default") -> Response:
    """One raw HTTP request: only the headers given (plus Host and Content-Length) are sent."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        if host == "default":
            conn.putheader("Host", f"127.0.0.1:{server.port}")
        elif host is not None:
            conn.putheader("Host", host)
        for key, value in (headers or {}).items():
            conn.putheader(key, value)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        return Response(response.status, response.headers, response.read())
    finally:
        conn.close()


def get(server, query: str, accept: str | None = None, **params: str) -> Response:
    target = "/sparql?" + urllib.parse.urlencode({"query": query, **params})
    return request(server, "GET", target, headers={"Accept": accept} if accept else None)


def assert_clean_error(response: Response, status: int | None = None) -> str:
    """An error status and one line of plain text: no traceback, no file path. Returns the line."""
    assert 400 <= response.status < 600, (response.status, response.body[:300])
    if status is not None:
        assert response.status == status, (response.status, response.body[:300])
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    text = response.text
    assert text.endswith("\n") and text.count("\n") == 1 and text.strip(), repr(text)
    for leak in ("Traceback", 'File "', ".py", PACKAGE_DIR, "/tmp/", "/home/", "/work/", "/usr/"):
        assert leak not in text, f"{leak!r} in {text!r}"
    return text.strip()


def wrapper(server, query: str, fmt: str, method: str = GET, request_method: str = URLENCODED,
            accept: str | None = None) -> SPARQLWrapper:
    client = SPARQLWrapper(server.url)
    client.setQuery(query)
    client.setReturnFormat(fmt)
    client.setMethod(method)
    client.setRequestMethod(request_method)
    if accept:
        client.addCustomHttpHeader("Accept", accept)
    return client


# Every way the protocol allows to send a query: GET, a form POST, a direct POST.
METHODS = [(GET, URLENCODED), (POST, URLENCODED), (POST, POSTDIRECTLY)]
METHOD_IDS = ["get", "post-form", "post-direct"]


# ------------------------------------------------------------------ SELECT and ASK

def _values_from(fmt: str, converted) -> list[str]:
    if fmt == JSON:
        return [b["e"]["value"] for b in converted["results"]["bindings"]]
    if fmt == XML:
        assert isinstance(converted, Document)
        return [u.firstChild.data for u in converted.getElementsByTagName("uri")]
    text = converted.decode("utf-8")
    if fmt == CSV:
        rows = list(csv.reader(io.StringIO(text)))
        assert rows[0] == ["e"]
        return [r[0] for r in rows[1:]]
    lines = text.splitlines()  # TSV: terms in their N-Triples form
    assert lines[0] == "?e"
    return [line.strip("<>") for line in lines[1:]]


@pytest.mark.parametrize("fmt, media", [
    (JSON, "application/sparql-results+json"),
    (XML, "application/sparql-results+xml"),
    (CSV, "text/csv"),
    (TSV, "text/tab-separated-values"),
])
def test_select_in_every_results_format(server, fmt, media):
    """SPARQLWrapper's SELECT: the three Plane C elements (Fig. 6a), in each W3C results format."""
    result = wrapper(server, PLANE_C, fmt).query()
    assert result.info()["content-type"].split(";")[0] == media
    assert result.info()["x-hemkg-truncated"] == "false"
    assert _values_from(fmt, result.convert()) == PLANE_C_ELEMENTS


@pytest.mark.parametrize("fmt", [JSON, XML, CSV, TSV])
@pytest.mark.parametrize("query, answer", [
    ("ASK { hemkg:Zn hem:memberOf hemkg:plane-A }", True),   # Zn: conversion (Plane A, ref 42)
    ("ASK { hemkg:Zn hem:memberOf hemkg:plane-C }", False),  # ... but not space charge
])
def test_ask_in_every_results_format(server, fmt, query, answer):
    converted = wrapper(server, query, fmt).query().convert()
    if fmt == JSON:
        assert converted["boolean"] is answer
    elif fmt == XML:
        assert converted.getElementsByTagName("boolean")[0].firstChild.data == str(answer).lower()
    else:
        assert converted.decode("utf-8").strip() == str(answer).lower()


# ------------------------------------------------------------------ CONSTRUCT and DESCRIBE

GRAPH_QUERIES = {
    "construct": "CONSTRUCT { ?e hem:memberOf hemkg:plane-C } WHERE { ?e hem:memberOf hemkg:plane-C }",
    "describe": "DESCRIBE hemkg:Zn",
}


@pytest.mark.parametrize("form", ["construct", "describe"])
@pytest.mark.parametrize("fmt, accept, media, rdflib_format", [
    (TURTLE, None, "text/turtle", "turtle"),
    (N3, "application/n-triples", "application/n-triples", "nt"),
    (JSONLD, None, "application/ld+json", "json-ld"),
    (RDFXML, None, "application/rdf+xml", "xml"),
])
def test_graph_answers_in_every_rdf_format(server, expected, form, fmt, accept, media, rdflib_format):
    """SPARQLWrapper's CONSTRUCT and DESCRIBE: the same graph as `hem sparql` gives, in each syntax."""
    query = GRAPH_QUERIES[form]
    result = wrapper(server, query, fmt, accept=accept).query()
    assert result.info()["content-type"].split(";")[0] == media
    graph = rdflib.Graph().parse(data=result.response.read(), format=rdflib_format)
    want = rdflib.Graph().parse(data=expected(query, "nt").body, format="nt")
    assert len(graph) > 0 and isomorphic(graph, want)
    if form == "describe":
        assert (rdflib.URIRef(HEMKG + "Zn"), rdflib.URIRef(HEM + "memberOf"), rdflib.URIRef(HEMKG + "plane-A")) in graph


@pytest.mark.parametrize("method, request_method", METHODS, ids=METHOD_IDS)
@pytest.mark.parametrize("form", ["select", "ask", "construct", "describe"])
def test_every_query_form_by_get_and_both_posts(server, expected, form, method, request_method):
    """GET, POST of a form and POST of the query itself give the same answer."""
    query = {"select": PLANE_C, "ask": "ASK { hemkg:Zn hem:memberOf hemkg:plane-B }", **GRAPH_QUERIES}[form]
    if form in ("select", "ask"):
        converted = wrapper(server, query, JSON, method, request_method).query().convert()
        if form == "select":
            assert _values_from(JSON, converted) == PLANE_C_ELEMENTS
        else:
            assert converted["boolean"] is True  # Zn: alloying (Plane B, ref 67)
    else:
        body = wrapper(server, query, TURTLE, method, request_method).query().response.read()
        want = rdflib.Graph().parse(data=expected(query, "nt").body, format="nt")
        assert isomorphic(rdflib.Graph().parse(data=body, format="turtle"), want)


def test_rdflib_sparqlstore_select_ask_construct_describe(server):
    """rdflib's own SPARQL client reads the answers back as rdflib results and graphs."""
    store = SPARQLStore(server.url)
    prologue = f"PREFIX hem: <{HEM}> PREFIX hemkg: <{HEMKG}> "
    select = store.query(prologue + PLANE_C)
    assert sorted(str(row.e) for row in select) == PLANE_C_ELEMENTS
    assert store.query(prologue + "ASK { hemkg:Zn hem:memberOf hemkg:plane-A }").askAnswer is True
    assert len(store.query(prologue + GRAPH_QUERIES["construct"]).graph) == 3
    describe = store.query(prologue + GRAPH_QUERIES["describe"]).graph
    assert (rdflib.URIRef(HEMKG + "Zn"), rdflib.URIRef(HEM + "memberOf"), rdflib.URIRef(HEMKG + "plane-B")) in describe
    # and as the store behind an rdflib Graph
    graph = rdflib.Graph(store=store)
    assert (rdflib.URIRef(HEMKG + "Fe"), rdflib.URIRef(HEM + "memberOf"), rdflib.URIRef(HEMKG + "plane-C")) in graph


# ------------------------------------------------------------------ content negotiation

@pytest.mark.parametrize("query, accept, media", [
    (PLANE_C, None, "application/sparql-results+json"),
    (PLANE_C, "*/*", "application/sparql-results+json"),
    (PLANE_C, "application/json", "application/sparql-results+json"),
    (PLANE_C, "text/csv;q=0.5, application/sparql-results+xml", "application/sparql-results+xml"),
    (PLANE_C, "text/*", "text/csv"),
    (PLANE_C, "application/sparql-results+json;q=0, */*;q=0.1", "application/sparql-results+xml"),
    (GRAPH_QUERIES["construct"], None, "text/turtle"),
    (GRAPH_QUERIES["construct"], "application/json", "application/ld+json"),
    (GRAPH_QUERIES["describe"], "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
     "application/rdf+xml"),
])
def test_content_negotiation(server, query, accept, media):
    response = get(server, query, accept)
    assert response.status == 200, response.body
    assert response.headers["Content-Type"].split(";")[0] == media
    assert response.headers["Vary"] == "Accept"


@pytest.mark.parametrize("query, accept", [
    (PLANE_C, "image/png"),
    (PLANE_C, "text/turtle"),  # an RDF syntax for a SELECT
    (GRAPH_QUERIES["construct"], "application/sparql-results+json"),
])
def test_no_acceptable_format_is_406(server, query, accept):
    error = assert_clean_error(get(server, query, accept), 406)
    assert "Accept one of" in error


def test_description_page_without_query(server):
    for target in ("/", "/sparql"):
        response = request(server, "GET", target)
        assert response.status == 200
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
        assert "SPARQL" in response.text and "X-Hemkg-Truncated" in response.text


def test_unknown_path_is_404(server):
    assert_clean_error(request(server, "GET", "/etc/passwd?query=ASK%20%7B%7D"), 404)


# ------------------------------------------------------------------ the W3C protocol tests' negative cases

QUERY_FORM = "application/x-www-form-urlencoded"
W3C_FORM_TYPO = "application/x-www-url-form-urlencoded"  # as the W3C tests spell it
UPDATE = ("\t\tPREFIX foaf:  <http://xmlns.com/foaf/0.1/>\n\t\tWITH <http://example/addresses>\n"
          "\t\tDELETE { ?person foaf:givenName 'Bill' }\n\t\tINSERT { ?person foaf:givenName 'William' }\n"
          "\t\tWHERE {\n\t\t\t?person foaf:givenName 'Bill'\n\t\t}\n")

BAD_REQUESTS = {
    # name: (method, target, headers, body, status)
    "bad_query_method": ("PUT", "/sparql?query=ASK%20%7B%7D", {}, None, 405),
    "bad_query_method_delete": ("DELETE", "/sparql?query=ASK%20%7B%7D", {}, None, 405),
    "bad_multiple_queries": ("GET", "/sparql?query=ASK%20%7B%7D&query=SELECT%20%2A%20%7B%7D", {}, None, 400),
    "bad_multiple_queries_post": ("POST", "/sparql", {"Content-Type": QUERY_FORM},
                                  b"query=ASK%20%7B%7D&query=SELECT%20%2A%20%7B%7D", 400),
    "bad_query_wrong_media_type": ("POST", "/sparql/", {"Content-Type": "text/plain"}, b"ASK {}", 415),
    "bad_query_missing_form_type": ("POST", "/sparql/", {}, b"query=ASK%20%7B%7D", 400),
    "bad_query_missing_direct_type": ("POST", "/sparql/", {}, b"ASK {}", 400),
    "bad_query_non_utf8": ("POST", "/sparql/", {"Content-Type": "application/sparql-query; charset=UTF-16"},
                           "ASK {}".encode("utf-16"), 415),
    "bad_query_non_utf8_latin1": ("POST", "/sparql/", {"Content-Type": "application/sparql-query; charset=ISO-8859-1"},
                                  'ASK { ?s ?p "caf\u00e9" }'.encode("latin-1"), 415),
    "bad_query_invalid_utf8": ("POST", "/sparql/", {"Content-Type": "application/sparql-query"},
                               'ASK { ?s ?p "caf\u00e9" }'.encode("latin-1"), 400),
    "bad_query_invalid_utf8_form": ("POST", "/sparql/", {"Content-Type": QUERY_FORM},
                                    b"query=ASK%20%7B%20%3Fs%20%3Fp%20%22caf%E9%22%20%7D", 400),
    "bad_query_invalid_utf8_get": ("GET", "/sparql?query=ASK%20%7B%20%3Fs%20%3Fp%20%22caf%E9%22%20%7D", {}, None, 400),
    "bad_query_syntax": ("GET", "/sparql?query=ASK%20%7B", {}, None, 400),
    "bad_query_empty": ("GET", "/sparql?query=", {}, None, 400),
    "bad_query_dataset_params": ("GET", "/sparql?query=ASK%20%7B%7D&default-graph-uri=http%3A%2F%2Fexample.org%2F",
                                 {}, None, 400),
    "bad_update_get": ("GET", "/sparql?update=CLEAR%20ALL", {}, None, 403),
    "bad_multiple_updates": ("POST", "/sparql/", {"Content-Type": W3C_FORM_TYPO},
                             b"update=CLEAR%20NAMED&update=CLEAR%20DEFAULT", 403),
    "bad_multiple_updates_form": ("POST", "/sparql/", {"Content-Type": QUERY_FORM},
                                  b"update=CLEAR%20NAMED&update=CLEAR%20DEFAULT", 403),
    "bad_update_wrong_media_type": ("POST", "/sparql/", {"Content-Type": "text/plain"}, b"CLEAR NAMED", 403),
    "bad_update_missing_form_type": ("POST", "/sparql/", {}, b"update=CLEAR%20NAMED", 403),
    "bad_update_missing_direct_type": ("POST", "/sparql/", {}, b"CLEAR NAMED", 403),
    "bad_update_non_utf8": ("POST", "/sparql/", {"Content-Type": "application/sparql-update; charset=UTF-16"},
                            "CLEAR NAMED".encode("utf-16"), 403),
    "bad_update_syntax": ("POST", "/sparql/", {"Content-Type": W3C_FORM_TYPO}, b"update=CLEAR%20XYZ", 403),
    "bad_update_syntax_form": ("POST", "/sparql/", {"Content-Type": QUERY_FORM}, b"update=CLEAR%20XYZ", 403),
    "bad_update_dataset_conflict": ("POST", "/sparql/", {"Content-Type": W3C_FORM_TYPO},
                                    ("using-named-graph-uri=http%3A%2F%2Fexample%2Fpeople&update="
                                     + urllib.parse.quote(UPDATE)).encode(), 403),
    "update_direct": ("POST", "/sparql", {"Content-Type": "application/sparql-update"}, b"CLEAR ALL", 403),
    "update_as_query_get": ("GET", "/sparql?" + urllib.parse.urlencode({"query": "DELETE WHERE { ?s ?p ?o }"}),
                            {}, None, 403),
    "update_as_query_direct": ("POST", "/sparql", {"Content-Type": "application/sparql-query"},
                               b"INSERT DATA { <http://x/a> <http://x/b> <http://x/c> }", 403),
    "update_load_file": ("POST", "/sparql", {"Content-Type": QUERY_FORM},
                         b"query=LOAD%20%3Cfile%3A%2F%2F%2Fetc%2Fpasswd%3E", 403),
}


@pytest.mark.parametrize("name", list(BAD_REQUESTS))
def test_w3c_protocol_negative_cases_are_refused(server, name):
    """The W3C SPARQL 1.1 Protocol tests' bad_* requests (and kin): a 4xx, updates 403, one clean line."""
    method, target, headers, body, status = BAD_REQUESTS[name]
    response = request(server, method, target, body, headers)
    error = assert_clean_error(response, status)
    if status == 403:
        assert "read-only" in error
    if status == 405:
        assert response.headers["Allow"] == "GET, POST"


def test_updates_left_the_graph_as_it_was(server):
    """After every refused update (each test above) the graph still answers as before."""
    for method, target, headers, body, status in BAD_REQUESTS.values():
        if status == 403:
            request(server, method, target, body, headers)
    counted = json.loads(get(server, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }").body)
    store, _ = sparql.dataset()
    assert int(counted["results"]["bindings"][0]["n"]["value"]) == len(store)


def test_syntax_error_names_line_and_column(server):
    error = assert_clean_error(get(server, "SELECT ?s WHERE {\n  ?s ?p }"), 400)
    assert "line 2, column" in error


def test_query_with_many_patterns_is_answered(server):
    """rdflib's parser recurses once per triple pattern; 300 patterns in one group still pass the checker."""
    query = "SELECT * WHERE { " + " ".join(f"hemkg:Zn hem:symbol ?o{i} ." for i in range(300)) + " }"
    response = request(server, "POST", "/sparql", query.encode(), {"Content-Type": "application/sparql-query"})
    assert response.status == 200


# The README's queries and others that use much of the grammar, each parse action met for the first time
FIRST_QUERIES = [
    PLANE_C,
    "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }",
    "SELECT ?rule WHERE { ?a prov:hadPlan/hem:ruleId ?rule }",
    "SELECT DISTINCT ?s WHERE { ?s ?p ?o FILTER(REGEX(STR(?s), 'Zn')) } LIMIT 5",
    "SELECT ?s ?l WHERE { ?s a ?t OPTIONAL { ?s skos:prefLabel ?l } BIND(STRLEN(?l) AS ?n) } LIMIT 3",
    "SELECT ?x WHERE { VALUES ?x { hemkg:Zn hemkg:Fe } }",
    "ASK { ?s ?p ?o FILTER NOT EXISTS { ?s a ?t } }",
    "SELECT ?s WHERE { { ?s a ?t } UNION { ?s skos:prefLabel ?l } MINUS { ?s hem:memberOf ?p } } LIMIT 2",
    "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } LIMIT 2",
    "DESCRIBE hemkg:Zn",
    "SELECT ?t (SAMPLE(?s) AS ?x) WHERE { ?s a ?t } GROUP BY ?t HAVING (COUNT(?s) > 1)",
    "SELECT (UCASE(CONCAT('a', 'b')) AS ?u) (1 + 2 * 3 AS ?n) WHERE {}",
]


def _status(port: int, query: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", "/sparql?" + urllib.parse.urlencode({"query": query}))
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def test_many_concurrent_first_queries_on_fresh_servers():
    """rdflib's parser learns each parse action's arity on first use, which two threads cannot do at once:
    a fresh server that checked queries in its threads answered 500 to some, then to every later query.
    Threads switch as often as they can here, to make the race as likely as it can be."""
    for _ in range(3):
        with serve_process("--max-concurrent", "64", prelude="import sys; sys.setswitchinterval(1e-6); ") as hem_serve:
            statuses: list[int] = []
            threads = [threading.Thread(target=lambda q=q, out=statuses: out.append(_status(hem_serve.port, q)))
                       for q in FIRST_QUERIES * 2]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(120)
            assert statuses == [200] * len(threads), Counter(statuses)
            assert [_status(hem_serve.port, q) for q in FIRST_QUERIES] == [200] * len(FIRST_QUERIES)


def test_unexpected_failure_is_500_without_details(server, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError(f"boom in {PACKAGE_DIR}/sparql.py")

    monkeypatch.setattr(sparql, "run", broken)
    error = assert_clean_error(get(server, "ASK {}"), 500)
    assert "boom" not in error


# ------------------------------------------------------------------ Host header (DNS rebinding)

@pytest.mark.parametrize("host", [
    "evil.example:{port}", "evil.example", "localhost.evil.example:{port}", "127.0.0.1:{other}",
    "localhost", "127.0.0.1", "[::1]:{other}", "127.0.0.2:{port}",
])
def test_foreign_host_header_is_refused(server, host):
    value = host.format(port=server.port, other=server.port + 1 if server.port < 65535 else 1)
    error = assert_clean_error(request(server, "GET", "/sparql?query=ASK%20%7B%7D", host=value), 403)
    assert "Host" in error
    assert_clean_error(request(server, "GET", "/", host=value), 403)


@pytest.mark.parametrize("headers", [None, ["127.0.0.1:{port}", "evil.example:{port}"]])
def test_missing_or_repeated_host_header_is_400(server, headers):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.putrequest("GET", "/sparql?query=ASK%20%7B%7D", skip_host=True)
        for value in headers or []:
            conn.putheader("Host", value.format(port=server.port))
        conn.endheaders()
        response = conn.getresponse()
        assert_clean_error(Response(response.status, response.headers, response.read()), 400)
    finally:
        conn.close()


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "LOCALHOST:{port}", "[::1]:{port}"])
def test_own_host_names_are_served(server, host):
    response = request(server, "GET", "/sparql?query=ASK%20%7B%7D", host=host.format(port=server.port))
    assert response.status == 200


# ------------------------------------------------------------------ size, rows, time, concurrency

def test_oversized_body_is_413(server):
    body = b"ASK {}\n#" + b"x" * (150 * 1024)
    error = assert_clean_error(request(server, "POST", "/sparql", body, {"Content-Type": "application/sparql-query"}), 413)
    assert str(serve.MAX_BODY_BYTES) in error


def test_body_just_under_the_limit_is_served(server):
    body = b"ASK { ?s ?p ?o }\n#" + b"x" * 95_000
    assert request(server, "POST", "/sparql", body, {"Content-Type": "application/sparql-query"}).status == 200


def test_post_without_content_length_is_411(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.putrequest("POST", "/sparql")
        conn.putheader("Content-Type", "application/sparql-query")
        conn.endheaders()
        response = conn.getresponse()
        assert_clean_error(Response(response.status, response.headers, response.read()), 411)
    finally:
        conn.close()


@pytest.mark.parametrize("query, accept", [
    ("SELECT ?s ?p ?o WHERE { ?s ?p ?o }", "application/sparql-results+json"),
    ("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", "application/n-triples"),
])
def test_row_cap_cuts_and_says_so(server, query, accept):
    response = get(server, query, accept)
    assert response.status == 200
    assert response.headers["X-Hemkg-Truncated"] == "true"
    assert response.headers["X-Hemkg-Rows"] == "50"
    if accept.endswith("json"):
        assert len(json.loads(response.body)["results"]["bindings"]) == 50
    else:
        assert len(response.text.strip().splitlines()) == 50


def test_answer_under_the_row_cap_is_not_marked_cut(server):
    response = get(server, PLANE_C)
    assert response.headers["X-Hemkg-Truncated"] == "false"
    assert response.headers["X-Hemkg-Rows"] == "3"


def test_runaway_query_is_stopped_at_the_time_limit():
    """The query's child is killed at the limit: an error status within the limit plus a margin."""
    with running(timeout=0.5) as server:
        start = time.monotonic()
        response = get(server, SLOW)
        elapsed = time.monotonic() - start
        error = assert_clean_error(response, 504)
        assert "stopped" in error and "0.5 s" in error
        assert elapsed < 0.5 + 2.5
        assert multiprocessing.active_children() == []  # no query process left running
        assert get(server, "ASK { ?s ?p ?o }").status == 200


def test_query_slow_to_check_is_stopped_at_the_time_limit():
    """The limit covers checking: a long IN (...) that takes rdflib ~10 s to parse is stopped at 1 s."""
    with running(timeout=1.0) as server:
        start = time.monotonic()
        response = request(server, "POST", "/sparql", SLOW_TO_CHECK.encode(), {"Content-Type": "application/sparql-query"})
        elapsed = time.monotonic() - start
        assert "stopped" in assert_clean_error(response, 504)
        assert elapsed < 1.0 + 2.5
        assert server.busy == 0 and get(server, "ASK { ?s ?p ?o }").status == 200


def test_query_over_its_memory_cap_is_507():
    """A single-row GROUP_CONCAT that would grow to gigabytes stops at the cap; the server carries on."""
    with running(timeout=60.0, max_memory=64 * 1024**2) as server:
        error = assert_clean_error(get(server, HUGE_CONCAT), 507)
        assert "more than the server's limit of 64 MiB of memory" in error
        assert get(server, PLANE_C).status == 200


def _slow_request(server, head: bytes, body: bytes = b"", gap: float = 0.2, give_up: float = 10.0) -> tuple[bytes, float]:
    """Send the request line, then the rest a byte at a time; the server's answer and when it came."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=give_up)
    start = time.monotonic()
    try:
        rest = head + body
        sock.sendall(rest[: rest.index(b"\r\n") + 2])
        rest = rest[rest.index(b"\r\n") + 2:]
        sock.settimeout(gap)
        answer = b""
        while time.monotonic() - start < give_up:
            try:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                answer += chunk
                continue
            except TimeoutError:
                pass
            if rest:
                try:
                    sock.send(rest[:1])
                except OSError:
                    pass
                rest = rest[1:]
        return answer, time.monotonic() - start
    finally:
        sock.close()


@pytest.mark.parametrize("part", ["headers", "body"])
def test_slow_client_is_cut_off_after_the_request_time(part):
    """A client sending a byte now and then (never silent as long as the per-recv timeout) is answered 408
    and cut off once the whole request has taken longer than the request time."""
    with running(request_time=1.0) as server:
        host = f"Host: 127.0.0.1:{server.port}\r\n".encode()
        if part == "headers":
            head = b"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\n" + host + b"Accept: text/csv\r\n" * 40 + b"\r\n"
            answer, elapsed = _slow_request(server, head)
        else:
            body = b"ASK { ?s ?p ?o }" + b" " * 100
            head = (b"POST /sparql HTTP/1.1\r\n" + host + b"Content-Type: application/sparql-query\r\n"
                    + f"Content-Length: {len(body)}\r\n\r\n".encode())
            answer, elapsed = _slow_request(server, head, body)
        assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
        assert b"longer than 1 s to arrive" in answer
        assert elapsed < 1.0 + 2.5
        assert get(server, "ASK { ?s ?p ?o }").status == 200


def test_twenty_clients_wait_in_the_listen_backlog():
    """20 clients connecting before the server accepts any (a burst): all get in, then all are answered.
    A backlog of 5 (socketserver's default) left the others' connections hanging or refused."""
    server = serve.make_server("127.0.0.1", 0, 5.0, 50, 4)
    sockets: list[socket.socket] = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    try:
        for _ in range(20):
            sockets.append(socket.create_connection(("127.0.0.1", server.port), timeout=0.5))
        thread.start()
        statuses = []
        for sock in sockets:
            sock.settimeout(30)
            sock.sendall(f"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n\r\n".encode())
            statuses.append(sock.makefile("rb").readline().split()[1])
        assert statuses == [b"200"] * 20
    finally:
        for sock in sockets:
            sock.close()
        if thread.is_alive():
            server.shutdown()
        server.server_close()


def test_full_server_answers_503_at_once():
    """With max_concurrent=1 and a slow query running, the next query is turned away at once."""
    with running(timeout=1.0, max_concurrent=1) as server:
        slow: list[Response] = []
        thread = threading.Thread(target=lambda: slow.append(get(server, SLOW)))
        thread.start()
        deadline = time.monotonic() + 5
        while server.busy == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server.busy == 1
        start = time.monotonic()
        response = get(server, "ASK { ?s ?p ?o }")
        assert time.monotonic() - start < 1.0
        assert "busy" in assert_clean_error(response, 503)
        assert response.headers["Retry-After"] == "1"
        thread.join(10)
        assert slow and slow[0].status == 504
        assert get(server, "ASK { ?s ?p ?o }").status == 200  # the slot was given back


# ------------------------------------------------------------------ SERVICE and FROM never reach out

@pytest.fixture
def listener():
    """A local socket that would see any connection a SERVICE or FROM <http://...> made."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(4)
    sock.settimeout(0.05)  # checked after the answer came: a connection would be waiting by then
    yield sock
    sock.close()


def assert_no_connection(sock: socket.socket) -> None:
    with pytest.raises(socket.timeout):
        sock.accept()


@pytest.mark.parametrize("template", [
    "SELECT * WHERE {{ SERVICE <http://127.0.0.1:{port}/sparql> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ ?s ?p ?o OPTIONAL {{ SERVICE SILENT <http://127.0.0.1:{port}/sparql> {{ ?s ?q ?r }} }} }}",
    "ASK {{ SERVICE <http://127.0.0.1:{port}/> {{ ?s ?p ?o }} }}",
])
@pytest.mark.parametrize("send", ["get", "post-direct"])
def test_service_is_refused_before_any_connection(server, listener, template, send):
    query = template.format(port=listener.getsockname()[1])
    if send == "get":
        response = get(server, query)
    else:
        response = request(server, "POST", "/sparql", query.encode(), {"Content-Type": "application/sparql-query"})
    error = assert_clean_error(response, 400)
    assert "SERVICE" in error and "refused" in error
    assert_no_connection(listener)


@pytest.mark.parametrize("clause", ["FROM", "FROM NAMED"])
def test_from_file_is_refused_and_not_read(server, tmp_path: Path, clause):
    secret = tmp_path / "secret.nt"
    secret.write_text('<http://x/a> <http://x/b> "SECRET-CONTENT" .\n', encoding="utf-8")
    for uri in (secret.as_uri(), f"file://{secret}"):
        response = get(server, f"SELECT * {clause} <{uri}> WHERE {{ ?s ?p ?o }}")
        error = assert_clean_error(response, 400)
        assert "FROM" in error and "refused" in error
        assert b"SECRET" not in response.body and str(tmp_path) not in error


def test_from_url_is_refused_before_any_connection(server, listener):
    query = f"SELECT * FROM <http://127.0.0.1:{listener.getsockname()[1]}/data.ttl> WHERE {{ ?s ?p ?o }}"
    assert "FROM" in assert_clean_error(get(server, query), 400)
    assert_no_connection(listener)


@pytest.mark.parametrize("query", [
    "SELECT (COUNT(*) AS ?n) FROM <https://w3id.org/hemkg/graph/entailed> WHERE { ?s ?p ?o }",
    f"SELECT (COUNT(*) AS ?n) FROM NAMED <{ASSERTED_GRAPH}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
])
def test_own_named_graphs_may_be_named(server, query):
    assert get(server, query).status == 200


def test_from_named_of_another_graph_is_refused_as_from_named(server):
    error = assert_clean_error(get(server, "SELECT * FROM NAMED <http://example.org/g> WHERE { GRAPH ?g { ?s ?p ?o } }"), 400)
    assert "FROM NAMED <http://example.org/g> is refused" in error


def test_xml_results_are_well_formed_with_a_control_character(server):
    """A literal holding U+0001 (which XML 1.0 cannot carry) comes back as U+FFFD; "NaN" as written."""
    response = get(server, ODD_LITERALS, accept="application/sparql-results+xml")
    assert response.status == 200
    literals = [n.firstChild.data for n in minidom.parseString(response.body).getElementsByTagName("literal")]
    assert literals == ["a\ufffdb", "x\ry", "NaN"]


def test_put_says_the_endpoint_is_read_only(server):
    """A Graph Store Protocol upload (hem kg push) is told where to go, its body read so it hears it."""
    body = b"<http://x/a> <http://x/b> <http://x/c> .\n" * 20_000
    response = request(server, "PUT", f"/sparql?graph={urllib.parse.quote(ASSERTED_GRAPH)}", body,
                       {"Content-Type": "application/n-triples"})
    error = assert_clean_error(response, 405)
    assert "hem serve is read-only" in error and "Graph Store Protocol" in error


# ------------------------------------------------------------------ the hem serve command

def test_push_to_hem_serve_says_it_is_read_only(runner):
    """hem kg push to hem serve: not a bare 405, but what hem serve is and where to push instead."""
    with running() as server:
        result = run(runner, "kg", "push", "--endpoint", server.url)
    error = assert_one_line_error(result)
    assert "is hem serve, which is read-only" in error
    assert "oxigraph serve" in result.stderr and "/store" in result.stderr


def test_serve_help():
    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0
    assert "SPARQL 1.1 Protocol" in result.output and "--port" in result.output


def test_serve_warns_when_not_bound_to_loopback(monkeypatch):
    started = []

    def stop_at_once(self, *args, **kwargs):
        started.append(self)
        raise KeyboardInterrupt

    monkeypatch.setattr(serve.SparqlServer, "serve_forever", stop_at_once)
    result = CliRunner().invoke(main, ["serve", "--host", "0.0.0.0", "--port", "0"])
    assert result.exit_code == 0, result.output
    assert "warning: listening on 0.0.0.0" in result.stderr
    assert f"evil.example:{started[0].port}" not in started[0].allowed_hosts
    result = CliRunner().invoke(main, ["serve", "--port", "0"])
    assert result.exit_code == 0 and "warning" not in result.stderr
    assert "SPARQL endpoint at http://127.0.0.1:" in result.stderr


def test_serve_on_a_port_in_use_is_one_line_error():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        result = CliRunner().invoke(main, ["serve", "--port", str(taken.getsockname()[1])])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: cannot listen on 127.0.0.1:")
    assert "Traceback" not in result.output + result.stderr


def test_hem_serve_process_answers_and_stops_on_ctrl_c():
    """The real command in its own process: it says where it listens, answers, and stops on SIGINT."""
    with serve_process() as hem_serve:
        conn = http.client.HTTPConnection("127.0.0.1", hem_serve.port, timeout=10)
        conn.request("GET", "/sparql?" + urllib.parse.urlencode({"query": PLANE_C}), headers={"Accept": "text/csv"})
        response = conn.getresponse()
        assert response.status == 200
        assert response.read().decode().split() == ["e", *PLANE_C_ELEMENTS]
        conn.close()
        hem_serve.process.send_signal(signal.SIGINT)
        assert hem_serve.process.wait(10) == 0
        time.sleep(0.2)  # the log reader catches up
        assert "Traceback" not in "".join(hem_serve.log)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_no_query_child_outlives_hem_serve(sig):
    """hem serve killed while three runaway queries run: their children go with it, none left under PID 1."""
    with serve_process("--timeout", "600") as hem_serve:
        for _ in range(3):
            threading.Thread(target=lambda: _ignore_errors(_status, hem_serve.port, SLOW), daemon=True).start()
        children = wait_for_children(hem_serve.process.pid, 3)
        kill_and_check(hem_serve.process, children, sig)


def _ignore_errors(function, *args) -> None:
    try:
        function(*args)
    except OSError:  # the server was killed under the request
        pass


# ------------------------------------------------------------------ Service Description, VoID, CORS (issue 14)

def test_service_description_is_turtle_rdflib_reads(server):
    """GET of the endpoint URL with Accept: text/turtle and no query: a SPARQL 1.1 Service Description naming the
    endpoint, SPARQL 1.1 Query and a VoID dataset whose triple count is the served dataset's."""
    response = request(server, "GET", "/sparql", headers={"Accept": "text/turtle"})
    assert response.status == 200 and response.headers["Content-Type"].startswith("text/turtle")
    g = rdflib.Graph().parse(data=response.text, format="turtle")
    SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
    VOID = rdflib.Namespace("http://rdfs.org/ns/void#")
    (service,) = g.subjects(rdflib.RDF.type, SD.Service)
    assert g.value(service, SD.endpoint) == rdflib.URIRef(server.url)
    assert (service, SD.supportedLanguage, SD.SPARQL11Query) in g
    assert rdflib.URIRef("http://www.w3.org/ns/formats/SPARQL_Results_JSON") in set(g.objects(service, SD.resultFormat))
    dataset = g.value(service, SD.defaultDataset)
    assert (dataset, rdflib.RDF.type, VOID.Dataset) in g
    store, _ = sparql.dataset()
    assert int(g.value(dataset, VOID.triples)) == len(store)
    predicates = {q.predicate for q in store.quads_for_pattern(None, None, None, None)}
    assert int(g.value(dataset, VOID.properties)) == len(predicates)
    assert all(int(g.value(dataset, VOID[k])) > 0 for k in ("entities", "classes"))


def test_no_cors_header_unless_asked(server):
    plain = request(server, "GET", "/sparql?" + urllib.parse.urlencode({"query": "ASK {}"}),
                    headers={"Origin": "https://example.org"})
    assert plain.status == 200 and "Access-Control-Allow-Origin" not in plain.headers
    assert request(server, "OPTIONS", "/sparql", headers={"Origin": "https://example.org"}).status == 405


def test_cors_origin_on_answers_and_preflight():
    with running(cors="https://example.org") as s:
        answer = request(s, "GET", "/sparql?" + urllib.parse.urlencode({"query": "ASK {}"}),
                         headers={"Origin": "https://example.org"})
        assert answer.status == 200 and answer.headers["Access-Control-Allow-Origin"] == "https://example.org"
        preflight = request(s, "OPTIONS", "/sparql", headers={
            "Origin": "https://example.org", "Access-Control-Request-Method": "POST"})
        assert preflight.status == 204
        assert preflight.headers["Access-Control-Allow-Origin"] == "https://example.org"
        assert "POST" in preflight.headers["Access-Control-Allow-Methods"]


def test_serve_cli_passes_cors(runner, monkeypatch):
    seen = {}

    def fake(*args, **kwargs):
        seen.update(kwargs)
        raise OSError(98, "stop here")

    monkeypatch.setattr(serve, "make_server", fake)
    result = runner.invoke(__import__("hemkg.cli", fromlist=["main"]).main, ["serve", "--cors", "*"])
    assert result.exit_code == 2 and seen["cors"] == "*"
