"""hem sparql, hem ask and hem kg push: read-only queries, refused escapes, time and memory limits, formats,
children that die with their parent, a real store."""

from __future__ import annotations

import csv
import io
import json
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from xml.dom import minidom

import pytest
from click.testing import CliRunner
from conftest import HUGE_CONCAT, ODD_LITERALS, SLOW, SLOW_TO_CHECK, hem, kill_and_check, wait_for_children

from hemkg.cli import main
from hemkg.graph.store import ASSERTED_GRAPH, ENTAILED_GRAPH, HEM, knowledge_graph
from hemkg.sparql import query as sparql
from hemkg.sparql import questions

PLANE_C = "SELECT ?e WHERE { ?e hem:memberOf hemkg:plane-C } ORDER BY ?e"


@pytest.fixture(scope="module")
def store():
    return sparql.dataset()[0]


def run_cli(*args: str):
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output + (result.stderr or "")
    return result


def one_line_error(result) -> str:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.stderr
    return lines[0]


# ------------------------------------------------------------------ answers

def test_select_table_names_plane_c():
    """Fig. 6a, Plane C: Fe, Co, Ni give space charge."""
    result = run_cli("sparql", PLANE_C)
    assert result.exit_code == 0
    assert [line.split()[0] for line in result.stdout.splitlines()[2:5]] == ["hemkg:Co", "hemkg:Fe", "hemkg:Ni"]
    assert "(3 rows)" in result.stdout


@pytest.mark.parametrize("fmt", ["csv", "tsv", "json", "xml"])
def test_select_result_formats_parse(fmt):
    """The W3C results formats re-read with their standard readers to the same three rows."""
    out = run_cli("sparql", PLANE_C, "--format", fmt).stdout_bytes
    if fmt == "json":
        values = [b["e"]["value"] for b in json.loads(out)["results"]["bindings"]]
    elif fmt == "csv":
        values = [row["e"] for row in csv.DictReader(io.StringIO(out.decode()))]
    elif fmt == "tsv":
        values = [line.strip("<>") for line in out.decode().splitlines()[1:]]
    else:
        from rdflib.query import Result

        values = [str(row[0]) for row in Result.parse(io.BytesIO(out), format="xml")]
    assert [v.rsplit("/", 1)[-1] for v in values] == ["Co", "Fe", "Ni"]


def test_ask():
    """ASK: Zn is on Plane B (Section 3.1, ref 67)."""
    assert run_cli("sparql", "ASK { hemkg:Zn hem:memberOf hemkg:plane-B }").stdout == "yes\n"
    assert run_cli("sparql", "ASK { hemkg:Mg hem:memberOf hemkg:plane-A }").stdout == "no\n"
    body = run_cli("sparql", "ASK { hemkg:Zn hem:memberOf hemkg:plane-B }", "--format", "json").stdout
    assert json.loads(body)["boolean"] is True


@pytest.mark.parametrize("fmt, rdflib_format", [("ttl", "turtle"), ("nt", "nt"), ("jsonld", "json-ld"), ("rdfxml", "xml")])
def test_construct_formats_reparse(fmt, rdflib_format):
    """CONSTRUCT answers re-parse with rdflib to the 5 anions (Section 3.1)."""
    import rdflib

    out = run_cli("sparql", "CONSTRUCT { ?e a hem:AnionElement } WHERE { ?e a hem:AnionElement }", "--format", fmt).stdout
    g = rdflib.Graph().parse(data=out, format=rdflib_format)
    assert len(g) == 5


def test_describe_query():
    """DESCRIBE returns the triples about a term."""
    out = run_cli("sparql", "DESCRIBE hemkg:Zn", "--format", "nt").stdout
    assert "<https://w3id.org/hemkg/kg/Zn>" in out and "atomicNumber" in out


def test_query_from_file(tmp_path: Path):
    query = tmp_path / "q.rq"
    query.write_text(PLANE_C, encoding="utf-8")
    assert "(3 rows)" in run_cli("sparql", "--file", str(query)).stdout


def test_candidate_derivations_are_queryable():
    """--candidate adds the consultation's PROV-O record: the rule that made Zn alloy is there (ref 48 example)."""
    query = """SELECT DISTINCT ?rule WHERE { ?f hem:factText "role(Zn, alloying)" ; prov:wasGeneratedBy/prov:hadPlan/hem:ruleId ?rule }"""
    out = run_cli("sparql", "--candidate", "(MgCoNiCuZn)O", query, "--format", "json").stdout
    assert [b["rule"]["value"] for b in json.loads(out)["results"]["bindings"]] == ["role-from-accessible-mechanism"]


def test_row_cap_says_the_answer_was_cut():
    result = run_cli("sparql", "SELECT ?s WHERE { ?s ?p ?o }", "--max-rows", "5", "--format", "csv")
    assert result.exit_code == 0
    assert len(result.stdout.strip().splitlines()) == 6  # header + 5
    assert "cut at 5 rows" in result.stderr


# ------------------------------------------------------------------ refused before evaluation

def test_service_is_refused_before_any_connection():
    """A SERVICE call would reach out over HTTP (pyoxigraph follows it): refused, and nothing connects."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    try:
        error = one_line_error(run_cli("sparql", f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{port}/sparql> {{ ?s ?p ?o }} }}"))
        assert "SERVICE" in error and "refused" in error
        with pytest.raises(socket.timeout):
            listener.accept()
    finally:
        listener.close()


@pytest.mark.parametrize("clause", ["FROM", "FROM NAMED"])
def test_from_file_is_refused_and_not_read(tmp_path: Path, clause):
    secret = tmp_path / "secret.nt"
    secret.write_text('<http://x/a> <http://x/b> "SECRET-CONTENT" .\n', encoding="utf-8")
    result = run_cli("sparql", f"SELECT * {clause} <{secret.as_uri()}> WHERE {{ ?s ?p ?o }}")
    error = one_line_error(result)
    assert "FROM" in error and "refused" in error
    assert "SECRET-CONTENT" not in result.output


@pytest.mark.parametrize("update", [
    "LOAD <file:///etc/passwd>",
    "INSERT DATA { <http://x/a> <http://x/b> <http://x/c> }",
    "DELETE WHERE { ?s ?p ?o }",
    "CLEAR ALL",
])
def test_updates_are_refused(update):
    error = one_line_error(run_cli("sparql", update))
    assert "read-only" in error
    assert run_cli("sparql", "ASK { ?s ?p ?o }").stdout == "yes\n"  # nothing was cleared


def test_syntax_error_names_line_and_column():
    error = one_line_error(run_cli("sparql", "SELECT ?s WHERE {\n  ?s ?p }"))
    assert "line 2, column" in error


def test_own_graphs_may_be_named():
    """FROM of the dataset's own named graphs is allowed."""
    result = run_cli("sparql", f"SELECT (COUNT(*) AS ?n) FROM <{ENTAILED_GRAPH}> WHERE {{ ?s ?p ?o }}", "--format", "csv")
    assert result.exit_code == 0


def _count(query: str) -> int:
    result = run_cli("sparql", query, "--format", "csv")
    assert result.exit_code == 0, result.stderr
    return int(result.stdout.split()[1])


def test_from_named_of_own_graph_chooses_among_them():
    """FROM NAMED of one of the dataset's own graphs is safe (nothing is loaded): it restricts GRAPH ?g to it."""
    per_graph = "SELECT (COUNT(*) AS ?n) FROM NAMED <{}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"
    asserted, entailed = _count(per_graph.format(ASSERTED_GRAPH)), _count(per_graph.format(ENTAILED_GRAPH))
    assert asserted > 0 and entailed > 0
    assert asserted + entailed == _count("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")


def test_from_named_of_another_graph_is_refused_as_from_named():
    error = one_line_error(run_cli("sparql", "SELECT * FROM NAMED <http://example.org/g> WHERE { GRAPH ?g { ?s ?p ?o } }"))
    assert "FROM NAMED <http://example.org/g> is refused" in error


def test_timeout_really_stops_the_query(store):
    """A runaway query is killed at the time limit (not left running in a thread)."""
    start = time.monotonic()
    with pytest.raises(sparql.QueryTimeout):
        sparql.run("SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }", store, timeout=1.0)
    assert time.monotonic() - start < 5


def test_timeout_covers_checking(store):
    """A query slow to check (a long IN list) is stopped at the limit too: checking runs in the killed child."""
    start = time.monotonic()
    with pytest.raises(sparql.QueryTimeout):
        sparql.run(SLOW_TO_CHECK, store, timeout=1.0)
    assert time.monotonic() - start < 5


@pytest.mark.parametrize("command", [
    ["sparql", SLOW_TO_CHECK],
    ["sparql", SLOW_TO_CHECK, "--endpoint", "http://127.0.0.1:9/sparql"],  # checked before anything is sent
    ["ask", "slow-to-check"],
])
def test_cli_timeout_covers_checking(monkeypatch, command):
    """hem sparql and hem ask: --timeout bounds the whole query, checking included."""
    slow = questions.Question("slow-to-check", "A slow check", "Checks for seconds.", SLOW_TO_CHECK)
    monkeypatch.setattr(questions, "questions", lambda: {slow.name: slow})
    start = time.monotonic()
    error = one_line_error(run_cli(*command, "--timeout", "1"))
    assert "longer than 1 s" in error
    assert time.monotonic() - start < 5


@pytest.mark.parametrize("command", [["sparql", HUGE_CONCAT], ["ask", "huge"]])
def test_memory_cap_stops_a_growing_query(monkeypatch, command):
    """A single-row GROUP_CONCAT that would grow to gigabytes stops at the cap with a one-line error."""
    huge = questions.Question("huge", "A huge answer", "Grows for ever.", HUGE_CONCAT)
    monkeypatch.setattr(questions, "questions", lambda: {huge.name: huge})
    result = run_cli(*command, "--max-memory", "64M", "--timeout", "60")
    error = one_line_error(result)
    assert "more than 64 MiB of memory" in error
    assert "--max-memory" in result.stderr  # the hint says how to give it more


def test_memory_cap_leaves_ordinary_queries_alone(store):
    assert sparql.run(PLANE_C, store, "csv", max_memory=64 * 1024**2).count == 3


@pytest.mark.parametrize("value, needle", [("lots", "not a size"), ("1K", "at least 16M")])
def test_bad_max_memory_is_one_line_error(value, needle):
    assert needle in one_line_error(run_cli("sparql", PLANE_C, "--max-memory", value))


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_query_child_dies_with_hem_sparql(sig):
    """The real command, killed while its query's child runs: the child goes with it."""
    with hem("sparql", SLOW, "--timeout", "600") as process:
        children = wait_for_children(process.pid, 1)
        kill_and_check(process, children, sig)


# ------------------------------------------------------------------ answers as written

def test_xml_answers_are_well_formed_with_a_control_character():
    """SPARQL XML results and RDF/XML: a control character XML 1.0 forbids becomes U+FFFD, a CR stays a CR."""
    xml = run_cli("sparql", ODD_LITERALS, "--format", "xml").stdout_bytes
    literals = [node.firstChild.data for node in minidom.parseString(xml).getElementsByTagName("literal")]
    assert literals == ["a\ufffdb", "x\ry", "NaN"]
    construct = 'CONSTRUCT { hemkg:x hem:note ?v } WHERE { BIND("a\\u0001b" AS ?v) }'
    rdfxml = run_cli("sparql", construct, "--format", "rdfxml").stdout_bytes
    assert minidom.parseString(rdfxml).getElementsByTagNameNS(HEM, "note")[0].firstChild.data == "a\ufffdb"


def test_lexical_forms_are_kept_as_written():
    """"NaN" stays "NaN" (not Python's "nan") in every results format; JSON and CSV keep every character."""
    bindings = json.loads(run_cli("sparql", ODD_LITERALS, "--format", "json").stdout)["results"]["bindings"][0]
    assert {k: v["value"] for k, v in bindings.items()} == {"ctl": "a\x01b", "cr": "x\ry", "nan": "NaN"}
    assert bindings["nan"]["datatype"] == "http://www.w3.org/2001/XMLSchema#double"
    rows = list(csv.reader(io.StringIO(run_cli("sparql", ODD_LITERALS, "--format", "csv").stdout, newline="")))
    assert rows == [["ctl", "cr", "nan"], ["a\x01b", "x\ry", "NaN"]]
    tsv = run_cli("sparql", ODD_LITERALS, "--format", "tsv").stdout.splitlines()[1]
    assert '"NaN"^^<http://www.w3.org/2001/XMLSchema#double>' in tsv


@pytest.mark.parametrize("args, needle", [
    (["sparql"], "one of the two"),
    (["sparql", PLANE_C, "--file", "x.rq"], "one of the two"),
    (["sparql", "--file", "/no/such/file.rq"], "no file"),
    (["sparql", "   "], "empty"),
    (["sparql", PLANE_C, "--format", "ttl"], "does not suit"),
    (["sparql", "SELECT * WHERE { ?s ?p ?o }", "--candidate", "Xx2O"], "Xx"),
    (["sparql", PLANE_C, "--endpoint", "ftp://example.org/"], "http"),
])
def test_bad_input_is_one_line_error(args, needle):
    error = one_line_error(run_cli(*args))
    assert needle in error


# ------------------------------------------------------------------ named questions

def test_ask_list_names_every_question():
    out = run_cli("ask", "--list").stdout
    for name in questions.questions():
        assert name in out
    assert len(questions.questions()) >= 6


@pytest.mark.parametrize("name", sorted(questions.questions()))
def test_every_question_runs_with_its_defaults(name):
    result = run_cli("ask", name, "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["results"]["bindings"], name


def test_ask_with_parameter_alloying_elements():
    """Fig. 6a, Plane B: Sn, Bi, Sb, Zn, In, Ge, Si alloy after conversion."""
    out = run_cli("ask", "elements-enabling-mechanism", "--param", "mechanism=alloying", "--format", "json").stdout
    assert {b["element"]["value"] for b in json.loads(out)["results"]["bindings"]} == set("Sn Bi Sb Zn In Ge Si".split())


def test_ask_reference_parameter():
    """Statements resting on ref 67 include Zn alloying (Section 3.1)."""
    out = run_cli("ask", "statements-citing-reference", "--param", "ref=67", "--format", "json").stdout
    assert any("Zn alloys" in b["statement"]["value"] for b in json.loads(out)["results"]["bindings"])


def test_ask_show_prints_sparql():
    out = run_cli("ask", "elements-enabling-mechanism", "--show").stdout
    assert "SELECT" in out and "# bound: ?mechanism = <https://w3id.org/hemkg/kg/conversion>" in out


@pytest.mark.parametrize("args, needle", [
    (["ask", "no-such-question"], "no question"),
    (["ask", "elements-enabling-mechanism", "--param", "mechanism"], "NAME=VALUE"),
    (["ask", "elements-enabling-mechanism", "--param", "colour=red"], "no parameter"),
    (["ask", "elements-enabling-mechanism", "--param", "mechanism=flux-capacitor"], "not a term"),
])
def test_ask_errors(args, needle):
    assert needle in one_line_error(run_cli(*args))


# ------------------------------------------------------------------ a real store: Oxigraph's server

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def oxigraph_server(tmp_path_factory):
    binary = shutil.which("oxigraph") or str(Path(sys.executable).with_name("oxigraph"))
    if not Path(binary).exists():
        pytest.skip("the oxigraph server is a test dependency: pip install -e '.[test]'")
    port = _free_port()
    location = tmp_path_factory.mktemp("oxigraph")
    process = subprocess.Popen([binary, "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60  # a loaded machine (a parallel benchmark, CI) can take seconds to start it
    while True:
        try:
            urllib.request.urlopen(base + "/", timeout=0.5)
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"the oxigraph server did not answer at {base} (exit code {process.poll()})")
            time.sleep(0.1)
    yield base
    process.terminate()
    process.wait(timeout=10)


def test_push_then_query_the_remote_store(oxigraph_server):
    """hem kg push uploads both graphs through the Graph Store Protocol; hem sparql --endpoint reads them back."""
    result = run_cli("kg", "push", "--endpoint", oxigraph_server + "/store")
    assert result.exit_code == 0, result.stderr
    assert f"<{ASSERTED_GRAPH}>" in result.stdout and f"<{ENTAILED_GRAPH}>" in result.stdout
    count = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{ASSERTED_GRAPH}> {{ ?s ?p ?o }} }}"
    out = run_cli("sparql", count, "--endpoint", oxigraph_server + "/query", "--format", "json").stdout
    local = sum(1 for _ in knowledge_graph().quads_for_pattern(None, None, None, None)
                if _.graph_name.value == ASSERTED_GRAPH)
    assert int(json.loads(out)["results"]["bindings"][0]["n"]["value"]) == local
    table = run_cli("sparql", f"SELECT ?e WHERE {{ GRAPH <{ENTAILED_GRAPH}> {{ ?e hem:memberOf hemkg:plane-C }} }} ORDER BY ?e",
                    "--endpoint", oxigraph_server + "/query").stdout
    assert "hemkg:Fe" in table and "(3 rows)" in table


def test_remote_query_is_checked_too(oxigraph_server):
    """The same refusals apply before anything is sent to a remote store."""
    error = one_line_error(run_cli("sparql", "CLEAR ALL", "--endpoint", oxigraph_server + "/query"))
    assert "read-only" in error


def test_push_to_unreachable_store_is_one_line_error():
    error = one_line_error(run_cli("kg", "push", "--endpoint", f"http://127.0.0.1:{_free_port()}/store", "--timeout", "2"))
    assert "cannot reach" in error
