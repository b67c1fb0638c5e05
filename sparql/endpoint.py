"""`hem serve`: the graph as a read-only SPARQL 1.1 Protocol endpoint.

Standard library only (http.server's ThreadingHTTPServer). Each query is
checked, matched to a format and run in its own forked, killable child, as in
`hem sparql` (sparql.run over sparql.dataset()): the server process holds the
dataset and every query's child inherits it. No server thread ever parses a
query (rdflib's parser is not thread-safe): the server only checks its warm-up
queries, before it serves, so that children start with a parser that is ready.

What the server guards against, and how it answers (errors are one line of
plain text, never a traceback or a file path):

- updates (application/sparql-update, an `update` field, an update as the
  query): 403;
- a Host header other than the bound address, localhost, 127.0.0.1 or [::1]
  with the server's port (DNS rebinding): 403;
- a request body over MAX_BODY_BYTES: 413; no Content-Length: 411;
- a request not read in full within `request_time` seconds (a slow client): 408,
  and the connection is closed;
- a query (checking included) running longer than the time limit: stopped, 504;
- a query needing more memory than its cap: stopped, 507;
- more rows than the row cap: cut, with `X-Hemkg-Truncated: true`;
- more than `max_concurrent` queries at once: 503 at once, with Retry-After
  (connections beyond those queue in a listen backlog of REQUEST_QUEUE_SIZE);
- SERVICE, FROM of files or URLs, a syntax error (line and column): 400.
"""

from __future__ import annotations

import contextlib
import html
import ipaddress
import os
import re
import signal
import socket
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TextIO

from hemkg import __version__
from hemkg.graph.store import PREFIXES
from hemkg.sparql import query as sparql

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7878
DEFAULT_MAX_CONCURRENT = 4
MAX_BODY_BYTES = 100 * 1024
DRAIN_LIMIT = 16 * 1024 * 1024  # a refused body up to this size is read and dropped, so the client sees the 413 or 405
SOCKET_TIMEOUT = 30.0  # seconds a client may stay silent while sending its request or reading the answer
REQUEST_TIME = 30.0  # seconds a client may take to send its whole request
REQUEST_QUEUE_SIZE = 128  # connections waiting to be accepted (socketserver's default is 5)
ENDPOINT_PATHS = ("/", "/sparql", "/query")
FORM_TYPE = "application/x-www-form-urlencoded"
QUERY_TYPE = "application/sparql-query"
UPDATE_TYPE = "application/sparql-update"
UTF8_CHARSETS = ("utf-8", "utf8", "us-ascii")
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
WILDCARD_HOSTS = ("", "0.0.0.0", "::")

# Each format with the media types it is served for; the first format of a table is the default.
RESULT_TYPES = {
    "json": ("application/sparql-results+json", "application/json"),
    "xml": ("application/sparql-results+xml", "application/xml", "text/xml"),
    "csv": ("text/csv",),
    "tsv": ("text/tab-separated-values",),
}
GRAPH_TYPES = {
    "ttl": ("text/turtle", "application/turtle", "application/x-turtle"),
    "nt": ("application/n-triples", "text/plain"),
    "jsonld": ("application/ld+json", "application/json"),
    "rdfxml": ("application/rdf+xml", "application/xml", "text/xml"),
}

# An update, told from a query by its first keyword (after comments, PREFIX and BASE); used only to
# answer 403 rather than 415 to an update sent with a wrong media type, which is refused either way.
_UPDATE_START = re.compile(
    r"\A(?:\s+|#[^\n]*\n?|(?:PREFIX\s+[^\s:]*:\s*|BASE\s+)<[^>]*>)*"
    r"(?:INSERT|DELETE|LOAD|CLEAR|CREATE|DROP|COPY|MOVE|ADD|WITH)\b",
    re.IGNORECASE,
)

# No log line is written while a query's child is being forked: a child that inherited the
# stderr lock held by another thread would hang when it flushes its streams at exit.
_log_lock = threading.Lock()
os.register_at_fork(before=_log_lock.acquire, after_in_parent=_log_lock.release,
                    after_in_child=_log_lock.release)


class HttpError(Exception):
    """An answer other than 200: status, one line of text, extra headers."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


# ------------------------------------------------------------------ content negotiation

def _accept_ranges(header: str) -> list[tuple[str, float, int]]:
    """The media ranges of an Accept header: (range, q, position)."""
    ranges = []
    for position, item in enumerate(header.split(",")):
        media, *params = (part.strip() for part in item.split(";"))
        media = media.lower()
        if media.count("/") != 1:
            continue
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = min(1.0, max(0.0, float(value.strip())))
                except ValueError:
                    q = 0.0
        ranges.append((media, q, position))
    return ranges


def negotiate(accept: str | None, form: str) -> str | None:
    """The format (a key of sparql.MEDIA_TYPES) to answer a query of this form in, or None (406).

    The highest q wins; then an exact media type over a wildcard, then the
    client's order, then a format's own media type over an alias (text/* gives
    CSV, not XML as text/xml), then the server's order (JSON results, Turtle
    graphs first).
    """
    table = GRAPH_TYPES if form in ("construct", "describe") else RESULT_TYPES
    default = next(iter(table))
    ranges = _accept_ranges(accept or "")
    if not ranges:
        return default
    best: tuple[tuple, str] | None = None
    for order, (fmt, types) in enumerate(table.items()):
        for media in types:
            match = None
            for accepted, q, position in ranges:
                specificity = (2 if accepted == media else 1 if accepted == media.split("/")[0] + "/*"
                               else 0 if accepted == "*/*" else -1)
                if specificity >= 0 and (match is None or specificity > match[0]):
                    match = (specificity, q, position)
            if match is None or match[1] <= 0:
                continue
            key = (match[1], match[0], -match[2], media == types[0], -order)
            if best is None or key > best[0]:
                best = (key, fmt)
    return best[1] if best else None


def content_type(fmt: str) -> str:
    media = sparql.MEDIA_TYPES[fmt]
    return media + "; charset=utf-8" if media.startswith("text/") else media


# ------------------------------------------------------------------ the server

class SparqlServer(ThreadingHTTPServer):
    """A threading HTTP server holding the dataset, the limits and the query slots."""

    daemon_threads = True
    request_queue_size = REQUEST_QUEUE_SIZE
    cors: str | None = None  # hem serve --cors ORIGIN: the origin browsers may query from (off: no CORS header)
    _void: dict[str, int] | None = None

    def __init__(self, address: tuple[str, int], family: int, timeout: float, max_rows: int,
                 max_concurrent: int, log: TextIO | None = None, max_memory: int = sparql.DEFAULT_MAX_MEMORY,
                 request_time: float = REQUEST_TIME, library: tuple[str | None, bool] = (None, True)):
        self.address_family = family
        super().__init__(address, Handler)  # binds and listens
        self.query_timeout = timeout
        self.max_rows = max_rows
        self.max_memory = max_memory
        self.request_time = request_time
        self.max_concurrent = max_concurrent
        self.slots = threading.BoundedSemaphore(max_concurrent)
        self.busy = 0  # queries being checked or run now
        self._busy_lock = threading.Lock()
        self.log = log
        self.host = address[0]
        self.port = self.server_address[1]
        bound = self.server_address[0]
        assert isinstance(bound, str)  # an IP address (socketserver's type also covers Unix sockets)
        self.allowed_hosts = _allowed_hosts(address[0], bound, self.port)
        try:
            self.store, self.graphs = sparql.dataset(None, "Li", *library)
            _warm_up(self.store, self.graphs)
        except BaseException:
            self.server_close()
            raise

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks the host name up in DNS (getfqdn); nothing here needs it
        import socketserver

        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), self.server_address[1]

    @property
    def url(self) -> str:
        host = self.host if self.host not in WILDCARD_HOSTS else DEFAULT_HOST
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}/sparql"

    def write_log(self, line: str) -> None:
        if self.log is None:
            return
        with _log_lock:
            try:
                self.log.write(line[:300].replace("\n", " ") + "\n")
                self.log.flush()
            except (OSError, ValueError):
                pass

    def handle_error(self, request, client_address) -> None:
        """A connection-level failure (e.g. the client went away): one log line, no traceback."""
        err = sys.exc_info()[1]
        self.write_log(f"{client_address[0]} connection error: {type(err).__name__}")

    def acquire_slot(self) -> bool:
        if not self.slots.acquire(blocking=False):
            return False
        with self._busy_lock:
            self.busy += 1
        return True

    def release_slot(self) -> None:
        with self._busy_lock:
            self.busy -= 1
        self.slots.release()


def _allowed_hosts(given: str, bound: str, port: int) -> frozenset[str]:
    """The Host header values accepted: the bound address and the loopback names, with the port."""
    names = {n.lower() for n in LOOPBACK_NAMES}
    for host in (given, bound):
        if host and host not in WILDCARD_HOSTS:
            names.add(f"[{host}]".lower() if ":" in host else host.lower())
    if given in WILDCARD_HOSTS or bound in WILDCARD_HOSTS:
        # bound to every interface: the machine's own names and addresses also reach it
        for name in {socket.gethostname(), socket.getfqdn()}:
            names.add(name.lower())
            try:
                for info in socket.getaddrinfo(name, None):
                    address = info[4][0]
                    if isinstance(address, str):  # an IPv4 or IPv6 address (the type also allows others')
                        names.add(f"[{address}]" if ":" in address else address)
            except OSError:
                pass
    allowed = {f"{n}:{port}" for n in names}
    if port == 80:
        allowed |= names
    return frozenset(allowed)


# Queries that use much of the grammar: checked once here, before any thread serves, so that
# every query's child inherits a parser that has already met those parse actions.
WARM_UP_QUERIES = (
    "SELECT DISTINCT ?s (COUNT(?o) AS ?n) WHERE { ?s a/rdfs:subClassOf* ?t ; skos:prefLabel ?o "
    "OPTIONAL { ?s hem:memberOf ?p } FILTER(REGEX(STR(?o), 'a') && ?o != 'b') BIND(STRLEN(?o) + 1 AS ?l) "
    "VALUES ?t { hem:Element } { ?s ?q ?r } UNION { GRAPH ?g { ?s ?q ?r } } MINUS { ?s hem:x ?y } "
    "FILTER NOT EXISTS { ?s hem:y ?z } } GROUP BY ?s HAVING (COUNT(?o) > 0) ORDER BY DESC(?n) ?s LIMIT 1 OFFSET 0",
    "ASK { ?s ?p ?o }",
    "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } LIMIT 1",
    "DESCRIBE hemkg:Zn",
)


def _warm_up(store, graphs) -> None:
    """Load in this process what a query's child needs (the checker, pyoxigraph's results
    writers, the forking machinery), so children start fast and never import."""
    for query in WARM_UP_QUERIES:
        sparql.check(query, graphs)
    for fmt in RESULT_TYPES:
        sparql.run("SELECT ?s WHERE { ?s ?p ?o } LIMIT 1", store, fmt, 30.0, 1, graphs)
    sparql.run("ASK { ?s ?p ?o }", store, "json", 30.0, 1, graphs)


def is_loopback(host: str) -> bool:
    """Whether binding to `host` keeps the server to this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        try:
            return all(ipaddress.ip_address(info[4][0]).is_loopback for info in socket.getaddrinfo(host, None))
        except OSError:
            return False


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


_hooks_installed = False


def make_server(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, timeout: float = sparql.DEFAULT_TIMEOUT,
                max_rows: int = sparql.DEFAULT_MAX_ROWS, max_concurrent: int = DEFAULT_MAX_CONCURRENT,
                *, log: TextIO | None = None, max_memory: int = sparql.DEFAULT_MAX_MEMORY,
                request_time: float = REQUEST_TIME, library: tuple[str | None, bool] = (None, True),
                cors: str | None = None) -> SparqlServer:
    """A bound server over sparql.dataset(); call serve_forever() on it (port 0: any free port). `library`:
    (--library DIR, whether to read it) for the literature library's named graphs; `cors`: the origin
    browsers may query from (hem serve --cors), none by default.

    Raises OSError when the address cannot be bound.
    """
    global _hooks_installed
    if not _hooks_installed:
        # a query's child leaves Ctrl-C to the server, which stops it (no traceback from the child)
        os.register_at_fork(after_in_child=_ignore_sigint)
        _hooks_installed = True
    host = host.strip("[]")
    families = [info[0] for info in socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM,
                                                        flags=socket.AI_PASSIVE)]
    family = socket.AF_INET if socket.AF_INET in families else families[0]
    server = SparqlServer((host, port), family, timeout, max_rows, max_concurrent, log, max_memory, request_time,
                          library)
    server.cors = cors
    return server


# ------------------------------------------------------------------ Service Description and VoID

SERVICE_DESCRIPTION_TYPE = "text/turtle"


def void_statistics(server: SparqlServer) -> dict[str, int]:
    """VoID's figures for the default dataset (every graph but the literature library's, whose findings sit in
    named graphs of their own): triples, entities (distinct IRI subjects), classes (distinct objects of
    rdf:type) and properties (distinct predicates). Computed once."""
    if server._void is None:
        import pyoxigraph as ox

        rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
        triples, subjects, classes, properties = 0, set(), set(), set()
        for quad in server.store.quads_for_pattern(None, None, None, None):
            if isinstance(quad.graph_name, ox.NamedNode) and sparql.is_library_graph(quad.graph_name.value):
                continue
            triples += 1
            if isinstance(quad.subject, ox.NamedNode):
                subjects.add(quad.subject.value)
            properties.add(quad.predicate.value)
            if quad.predicate == rdf_type:
                classes.add(str(quad.object))
        server._void = {"triples": triples, "entities": len(subjects), "classes": len(classes),
                        "properties": len(properties)}
    return server._void


def service_description(server: SparqlServer) -> str:
    """The endpoint's SPARQL 1.1 Service Description, in Turtle, with VoID statistics of its default dataset."""
    from hemkg import __version__
    from hemkg.graph.statements import paper as the_paper

    stats, paper = void_statistics(server), the_paper()
    formats = "".join(f",\n        <http://www.w3.org/ns/formats/{f}>" for f in (
        "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV", "Turtle", "N-Triples", "JSON-LD",
        "RDF_XML"))
    return f"""@prefix sd: <http://www.w3.org/ns/sparql-service-description#> .
@prefix void: <http://rdfs.org/ns/void#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .

<{server.url}> a sd:Service ;
    sd:endpoint <{server.url}> ;
    sd:supportedLanguage sd:SPARQL11Query ;
    sd:feature sd:UnionDefaultGraph ;
    sd:resultFormat <http://www.w3.org/ns/formats/SPARQL_Results_JSON>{formats} ;
    dcterms:description "Read-only SPARQL endpoint of hemkg {__version__}: the design guidelines of \
high-entropy-material battery anodes from {paper['label']} (doi:{paper['doi']}), with their entailments." ;
    sd:defaultDataset [
        a sd:Dataset, void:Dataset ;
        sd:defaultGraph [ a sd:Graph, void:Dataset ;
            void:triples "{stats['triples']}"^^xsd:integer ] ;
        void:sparqlEndpoint <{server.url}> ;
        void:triples "{stats['triples']}"^^xsd:integer ;
        void:entities "{stats['entities']}"^^xsd:integer ;
        void:classes "{stats['classes']}"^^xsd:integer ;
        void:properties "{stats['properties']}"^^xsd:integer
    ] .
"""


# ------------------------------------------------------------------ requests

def _one_line(text: str, limit: int = 500) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _no_paths(text: str) -> str:
    """A message without local file paths, even those the query named (FROM <file:///...>)."""
    return re.sub(r"<file:[^>]*>", "<file:...>", text)


def _media_type(header: str | None) -> tuple[str, dict[str, str]]:
    """'text/plain; charset=UTF-8' -> ('text/plain', {'charset': 'utf-8'})."""
    media, *params = (header or "").split(";")
    values = {}
    for param in params:
        key, _, value = param.partition("=")
        values[key.strip().lower()] = value.strip().strip('"').lower()
    return media.strip().lower(), values


def _parse_form(text: str) -> dict[str, list[str]]:
    try:
        return urllib.parse.parse_qs(text, keep_blank_values=True, encoding="utf-8", errors="strict",
                                     max_num_fields=100)
    except UnicodeDecodeError:
        raise HttpError(400, "the parameters are not valid UTF-8 once percent-decoded") from None
    except ValueError:
        raise HttpError(400, "too many parameters") from None


def _looks_like_update(body: bytes) -> bool:
    text = body.decode("utf-8", "replace")
    if _UPDATE_START.match(text):
        return True
    try:
        fields = urllib.parse.parse_qs(text, keep_blank_values=True, errors="replace", max_num_fields=100)
    except ValueError:
        return False
    return "update" in fields or any(_UPDATE_START.match(v) for v in fields.get("query", []))


UPDATE_REFUSED = "updates are refused: this endpoint is read-only (use SELECT, ASK, CONSTRUCT or DESCRIBE)"
DATASET_PARAMS = ("default-graph-uri", "named-graph-uri")
UPDATE_PARAMS = ("update", "using-graph-uri", "using-named-graph-uri")


class Handler(BaseHTTPRequestHandler):
    server: SparqlServer
    server_version = f"hemkg/{__version__}"
    protocol_version = "HTTP/1.1"  # for Expect: 100-continue; every connection is still closed after one answer
    timeout = SOCKET_TIMEOUT

    def version_string(self) -> str:
        return self.server_version

    # -------------------------------------------------------------- the request's clock

    def setup(self) -> None:
        super().setup()
        # a per-recv timeout alone lets a client that sends a byte now and then hold a thread for ever
        self.read_expired = False
        self._read_clock = threading.Timer(self.server.request_time, self._stop_reading)
        self._read_clock.daemon = True
        self._read_clock.start()

    def _stop_reading(self) -> None:
        """The client took too long to send its request: what is still being read ends (EOF)."""
        self.read_expired = True
        with contextlib.suppress(OSError):  # the connection is already closed
            self.connection.shutdown(socket.SHUT_RD)

    def _request_read(self) -> None:
        """The whole request is in (or reading stopped): stop its clock; 408 if it ran out."""
        self._read_clock.cancel()
        if self.read_expired:
            self.close_connection = True
            raise HttpError(408, f"the request took longer than {self.server.request_time:g} s to arrive; "
                                 "send it in one go")

    def finish(self) -> None:
        self._read_clock.cancel()
        super().finish()

    # -------------------------------------------------------------- methods

    def do_GET(self) -> None:
        self._dispatch(self._get)

    def do_POST(self) -> None:
        self._dispatch(self._post)

    def do_OPTIONS(self) -> None:
        self._dispatch(self._options)

    def _options(self) -> None:
        """A CORS preflight: answered when hem serve --cors allows it, else 405 as any other method."""
        if not self.server.cors:
            return self._not_allowed()
        self._drain()
        self._reply(204, b"", "text/plain; charset=utf-8", {
            "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
            "Access-Control-Allow-Headers": "Content-Type, Accept", "Access-Control-Max-Age": "600"})

    def __getattr__(self, name: str):
        # any other method (PUT, DELETE, HEAD, ...): 405, not http.server's 501
        if name.startswith("do_"):
            return lambda: self._dispatch(self._not_allowed)
        raise AttributeError(name)

    def handle_expect_100(self) -> bool:
        """A client waiting to send its body hears 413 at once when the body would be too large."""
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = 0
        if length > MAX_BODY_BYTES:
            self._dispatch(lambda: self._too_large(length))
            return False
        return super().handle_expect_100()

    def _too_large(self, length: int) -> None:
        raise HttpError(413, f"the request body is {length} bytes; the limit is {MAX_BODY_BYTES}")

    def _not_allowed(self) -> None:
        self._drain()
        method = _one_line(self.command, 20)
        if method in ("PUT", "DELETE", "PATCH"):  # e.g. hem kg push, a Graph Store Protocol upload
            raise HttpError(405, f"method {method} is not allowed: hem serve is read-only; upload the graph to a "
                                 "store that accepts Graph Store Protocol uploads (e.g. oxigraph serve) instead",
                            {"Allow": "GET, POST"})
        raise HttpError(405, f"method {method} is not allowed: query with GET or POST", {"Allow": "GET, POST"})

    # -------------------------------------------------------------- the protocol

    def _dispatch(self, handler) -> None:
        try:
            try:
                if self.read_expired:
                    self._request_read()
                self._check_host()
                handler()
            except HttpError as err:
                self._reply(err.status, (err.message + "\n").encode("utf-8"), "text/plain; charset=utf-8",
                            err.headers)
            except Exception as err:
                self.server.write_log(f"{self.client_address[0]} internal error: {type(err).__name__}")
                self._reply(500, b"internal error: the query could not be answered\n", "text/plain; charset=utf-8")
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.close_connection = True

    def _check_host(self) -> None:
        hosts = self.headers.get_all("Host") or []
        if len(hosts) != 1:
            raise HttpError(400, "the request needs exactly one Host header")
        if hosts[0].strip().lower() not in self.server.allowed_hosts:
            raise HttpError(403, f"Host '{_one_line(hosts[0], 100)}' is refused: "
                                 f"use {self.server.url.split('/sparql')[0]} or localhost")

    def _endpoint(self) -> dict[str, list[str]]:
        """The URL's parameters, once the path is checked to be the endpoint's."""
        url = urllib.parse.urlsplit(self.path)
        if (url.path.rstrip("/") or "/") not in ENDPOINT_PATHS:
            raise HttpError(404, f"no such page; the SPARQL endpoint is {self.server.url}")
        return _parse_form(url.query)

    def _get(self) -> None:
        self._request_read()
        params = self._endpoint()
        if any(p in params for p in UPDATE_PARAMS):
            raise HttpError(403, UPDATE_REFUSED)
        if not params:
            if SERVICE_DESCRIPTION_TYPE in (self.headers.get("Accept") or ""):  # SPARQL 1.1 Service Description
                return self._reply(200, service_description(self.server).encode("utf-8"),
                                   "text/turtle; charset=utf-8")
            return self._reply(200, _description(self.server).encode("utf-8"), "text/html; charset=utf-8")
        self._query(params)

    def _post(self) -> None:
        params = self._endpoint()
        body = self._read_body()
        self._request_read()
        media, options = _media_type(self.headers.get("Content-Type"))
        if media == UPDATE_TYPE or any(p in params for p in UPDATE_PARAMS):
            raise HttpError(403, UPDATE_REFUSED)
        if media not in (FORM_TYPE, QUERY_TYPE):
            if _looks_like_update(body):
                raise HttpError(403, UPDATE_REFUSED)
            if not media:
                raise HttpError(400, f"the request has no Content-Type: send {QUERY_TYPE} or {FORM_TYPE}")
            raise HttpError(415, f"Content-Type {_one_line(media, 80)} is not accepted: "
                                 f"send {QUERY_TYPE} or {FORM_TYPE}")
        charset = options.get("charset", "utf-8")
        if charset not in UTF8_CHARSETS:
            raise HttpError(415, f"charset {_one_line(charset, 40)} is not accepted: send UTF-8")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise HttpError(400, "the request body is not valid UTF-8") from None
        if media == FORM_TYPE:
            form = _parse_form(text)
            if "update" in form:
                raise HttpError(403, UPDATE_REFUSED)
            if "query" in form and "query" in params:
                raise HttpError(400, "give the query once, in the body or in the URL")
            self._query({**params, **form})
        else:
            if "query" in params:
                raise HttpError(400, "give the query once: in the body of an application/sparql-query POST")
            self._query({**params, "query": [text]})

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding"):
            raise HttpError(411, "send the request body with a Content-Length, not chunked")
        length_header = self.headers.get("Content-Length")
        if length_header is None:
            raise HttpError(411, "a POST needs a Content-Length")
        try:
            length = int(length_header)
        except ValueError:
            length = -1
        if length < 0:
            raise HttpError(400, "the Content-Length is not a number of bytes")
        if length > MAX_BODY_BYTES:
            self._drain()
            self._too_large(length)
        body = self.rfile.read(length)
        if len(body) != length:
            self._request_read()
            raise HttpError(400, "the request body is shorter than its Content-Length")
        return body

    def _drain(self) -> None:
        """Read and drop a body that will not be used, so the client can read the answer that refuses it
        rather than see its upload cut off (a body larger than DRAIN_LIMIT is left unread)."""
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            return
        if 0 < length <= DRAIN_LIMIT and not self.headers.get("Transfer-Encoding"):
            self.rfile.read(length)

    def _query(self, params: dict[str, list[str]]) -> None:
        queries = params.get("query", [])
        if len(queries) != 1:
            raise HttpError(400, "give exactly one query parameter" if queries
                            else "no query parameter: give query=...")
        for name in DATASET_PARAMS:
            if name in params:
                raise HttpError(400, f"{name} is not supported: the dataset is fixed "
                                     "(the asserted and entailed graphs, their union as the default graph)")
        server = self.server
        if not server.acquire_slot():
            raise HttpError(503, f"the server is busy ({server.max_concurrent} queries running); try again shortly",
                            {"Retry-After": "1"})
        try:
            answer, fmt = self._run(queries[0])
        finally:
            server.release_slot()
        self._reply(200, answer.body, content_type(fmt), {
            "Vary": "Accept",
            "X-Hemkg-Rows": str(answer.count),
            "X-Hemkg-Truncated": "true" if answer.cut else "false",
        })

    def _run(self, query: str) -> tuple[sparql.Answer, str]:
        server = self.server
        accept = ",".join(self.headers.get_all("Accept") or [])
        try:
            # checked, negotiated and run in the query's own child, all within the time limit
            answer = sparql.run(query, server.store, lambda form: negotiate(accept, form), server.query_timeout,
                                server.max_rows, server.graphs, max_memory=server.max_memory)
            return answer, answer.format
        except sparql.UnsuitableFormat as err:
            table = GRAPH_TYPES if err.form in ("construct", "describe") else RESULT_TYPES
            raise HttpError(406, f"no acceptable format for a {err.form.upper()} answer: Accept one of "
                                 + ", ".join(types[0] for types in table.values())) from None
        except sparql.QueryTimeout:
            raise HttpError(504, f"the query ran longer than the server's limit of {server.query_timeout:g} s "
                                 "and was stopped; narrow it (LIMIT, more specific patterns)") from None
        except sparql.QueryMemoryError:
            raise HttpError(507, f"the query needed more than the server's limit of "
                                 f"{sparql.format_size(server.max_memory)} of memory and was stopped; "
                                 "narrow it (LIMIT, fewer rows into GROUP_CONCAT)") from None
        except sparql.QueryRefused as err:
            if str(err).startswith("updates"):
                raise HttpError(403, UPDATE_REFUSED) from None
            raise HttpError(400, _one_line(f"refused: {_no_paths(str(err))}")) from None
        except sparql.QueryError as err:
            hint = f" ({err.hint})" if err.hint and "--" not in err.hint else ""
            raise HttpError(400, _one_line(_no_paths(f"{err}{hint}"))) from None

    # -------------------------------------------------------------- writing

    def _reply(self, status: int, body: bytes, media: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", media)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-store")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if self.server.cors:
            self.send_header("Access-Control-Allow-Origin", self.server.cors)
            self.send_header("Vary", "Origin")
        self.send_header("Connection", "close")
        self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own errors (a malformed request line, overlong headers): one line of text too."""
        self.close_connection = True
        if self.read_expired:  # a request cut short by its clock, not a malformed one
            code, message = 408, f"the request took longer than {self.server.request_time:g} s to arrive"
        text = _one_line(message or self.responses.get(code, ("error",))[0], 200)
        with contextlib.suppress(OSError):
            self._reply(code, (text + "\n").encode("utf-8", "replace"), "text/plain; charset=utf-8")

    def log_message(self, format: str, *args) -> None:
        self.server.write_log(f"{self.client_address[0]} [{time.strftime('%Y-%m-%d %H:%M:%S')}] {format % args}")


def _description(server: SparqlServer) -> str:
    """The page for GET / without a query: what the endpoint is and how to ask it."""
    e = html.escape
    example = "SELECT ?e WHERE { ?e hem:memberOf hemkg:plane-C }"
    prefixes = ", ".join(f"{p}:" for p in PREFIXES)
    graphs = ", ".join(f"&lt;{e(g)}&gt;" for g in sorted(server.graphs))
    results = ", ".join(types[0] for types in RESULT_TYPES.values())
    rdf = ", ".join(types[0] for types in GRAPH_TYPES.values())
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>hemkg SPARQL endpoint</title></head>
<body>
<h1>hemkg SPARQL endpoint</h1>
<p>A read-only SPARQL 1.1 Protocol endpoint over the knowledge graph of the design guidelines for
high-entropy-material battery anodes (hemkg {e(__version__)}; Huang et al., Energy Environ. Sci. 2025, 18, 10286).</p>
<form method="get" action="/sparql">
<textarea name="query" rows="6" cols="80">{e(example)}</textarea><br>
<button type="submit">Run</button>
</form>
<ul>
<li>Query with <code>GET /sparql?query=...</code>, <code>POST</code> of <code>{FORM_TYPE}</code>
(<code>query=...</code>) or <code>POST</code> of <code>{QUERY_TYPE}</code>.</li>
<li>SELECT and ASK answers: {e(results)}; CONSTRUCT and DESCRIBE answers: {e(rdf)}. Choose with the Accept header;
the first of each list is the default.</li>
<li>Predeclared prefixes: {e(prefixes)}.</li>
<li>Named graphs: {graphs}; the default graph is their union.</li>
<li>Limits: {server.query_timeout:g} s per query, checking included (504), {server.max_rows} rows (a cut answer carries
<code>X-Hemkg-Truncated: true</code>), {e(sparql.format_size(server.max_memory))} of memory per query (507),
{server.max_concurrent} queries at once (503), {MAX_BODY_BYTES // 1024} KB of request body (413),
{server.request_time:g} s to send a whole request (408).
Updates, SERVICE and FROM of files or URLs are refused.</li>
</ul>
</body></html>
"""
