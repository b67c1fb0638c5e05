"""SPARQL sees the literature library (issue 13): hem sparql, hem ask, hem serve and hem kg push.

The library's nanopublications join the dataset as named graphs of their own
(GRAPH ?g { ... } finds the findings); the default graph stays the paper's
(Energy Environ. Sci. 2025, 18, 10286: its statements and their entailments).
The library is examples/findings.csv; the finding looked for is
doi:10.26599/nr.2025.94907784's "ZnO serves as an electrochemically inactive
structural stabilizer" in Fe0.2Co0.2Ni0.2Cu0.2Zn0.2O.
"""

from __future__ import annotations

import http.server
import json
import threading
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from conftest import assert_one_line_error, run

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "findings.csv"
JOULE_HEO = "10.26599/nr.2025.94907784"
ZN_STABILIZER = """SELECT ?g ?quote ?article WHERE { GRAPH ?g {
    ?f a hem:Finding ; hem:aboutElement hemkg:Zn ; hem:elementRole hem:stabilizerRole ; hem:quote ?quote ;
       hem:reportedIn ?article } }"""
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


@pytest.fixture(autouse=True)
def library_dir(own_library: Path) -> Path:
    return own_library


def add(runner) -> None:
    result = run(runner, "evidence", "add", str(EXAMPLES))
    assert result.exit_code == 0, result.stderr


def bindings(runner, *args: str) -> list[dict]:
    result = run(runner, "sparql", *args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["results"]["bindings"]


def test_sparql_finds_findings_in_named_graphs(runner) -> None:
    """GRAPH ?g finds doi:10.26599/nr.2025.94907784's Zn stabilizer finding in a nanopublication's assertion graph;
    --no-library leaves the library out."""
    add(runner)
    rows = bindings(runner, ZN_STABILIZER)
    assert len(rows) == 1
    assert rows[0]["quote"]["value"].startswith("ZnO serves as an electrochemically inactive structural stabilizer")
    assert rows[0]["article"]["value"].endswith(JOULE_HEO)
    assert rows[0]["g"]["value"].startswith("https://w3id.org/hemkg/library/np/")
    assert bindings(runner, ZN_STABILIZER, "--no-library") == []


def test_default_graph_stays_the_papers(runner, own_library: Path) -> None:
    """With a library, the default graph holds exactly the triples it holds without one, and no finding."""
    without = bindings(runner, COUNT, "--no-library")[0]["n"]["value"]
    add(runner)
    assert bindings(runner, COUNT)[0]["n"]["value"] == without
    assert bindings(runner, "SELECT ?f WHERE { ?f a hem:Finding }") == []
    assert "not both" in assert_one_line_error(run(runner, "sparql", COUNT, "--library", str(own_library),
                                                    "--no-library"))


def test_ask_runs_over_the_same_dataset(runner) -> None:
    """hem ask with a library: the paper's questions answer from the default graph as before (Fig. 6a, Plane C:
    Fe, Co, Ni)."""
    add(runner)
    before = run(runner, "ask", "elements-enabling-mechanism", "--param", "mechanism=space-charge", "--no-library")
    after = run(runner, "ask", "elements-enabling-mechanism", "--param", "mechanism=space-charge")
    assert before.exit_code == after.exit_code == 0, after.stderr
    assert after.stdout == before.stdout and "Plane C" in after.stdout


def test_serve_includes_library_graphs(runner) -> None:
    """hem serve: a query over HTTP finds the finding with GRAPH ?g, as hem sparql does."""
    from hemkg.sparql import endpoint as serve

    add(runner)
    server = serve.make_server("127.0.0.1", 0, 5.0, 50, 2)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = server.url + "?" + urllib.parse.urlencode({"query": ZN_STABILIZER})
        request = urllib.request.Request(url, headers={"Accept": "application/sparql-results+json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            rows = json.loads(response.read())["results"]["bindings"]
        assert [r["article"]["value"].endswith(JOULE_HEO) for r in rows] == [True]
    finally:
        server.shutdown()
        server.server_close()


class _Store(http.server.BaseHTTPRequestHandler):
    """A Graph Store Protocol stand-in that records each PUT's graph and body."""

    received: dict[str, bytes] = {}

    def do_PUT(self) -> None:
        graph = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)["graph"][0]
        self.received[graph] = self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_push_sends_library_graphs(runner) -> None:
    """hem kg push: the paper's two graphs, then every graph of the library's nanopublications, each PUT to its own
    graph IRI; the assertion graph holding doi:10.26599/nr.2025.94907784's Zn quote among them."""
    add(runner)
    _Store.received = {}
    server = http.server.HTTPServer(("127.0.0.1", 0), _Store)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        result = run(runner, "kg", "push", "--endpoint", f"http://127.0.0.1:{server.server_address[1]}/store")
    finally:
        server.shutdown()
        server.server_close()
    assert result.exit_code == 0, result.stderr
    library = {g: body for g, body in _Store.received.items() if g.startswith("https://w3id.org/hemkg/library/")}
    assert any("ZnO serves as an electrochemically inactive" in body.decode() for body in library.values())
    assert len(_Store.received) - len(library) == 2  # asserted and entailed
    assert all(f"<{g}>" in result.stdout for g in _Store.received)
