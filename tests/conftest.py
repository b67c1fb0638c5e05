"""Shared helpers for the test suite: the CLI runner and its checks, the rule files as written,
look-ups of statements and values in the packaged graph, queries that try the SPARQL limits,
and real hem processes killed to see that no child outlives them."""

from __future__ import annotations

import contextlib
import functools
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import version as dist_version
from pathlib import Path
from typing import Any

import psutil
import pytest
from click.testing import CliRunner, Result

from hemkg.cli import main
from hemkg.consultation.consultation import Consultation
from hemkg.graph import statements as knowledge
from hemkg.graph.store import HEMKG, package_files, select
from hemkg.graph.store import PREFIXES as CURIE_PREFIXES


def kg(name: str) -> str:
    return HEMKG + name


def statements_where(**fields) -> list[knowledge.Statement]:
    """Statements whose list/scalar fields contain each given value (IRIs as hemkg: local names)."""
    found = []
    for st in knowledge.statements().values():
        ok = True
        for name, wanted in fields.items():
            have = getattr(st, name)
            have = have if isinstance(have, list) else [have]
            if wanted not in have:
                ok = False
                break
        if ok:
            found.append(st)
    return found


def members(group: str) -> set[str]:
    return {row["e"].removeprefix(HEMKG) for row in select("SELECT ?e WHERE { ?g hem:hasMember ?e }", g=kg(group))}


def reported_values(holder: str) -> list[dict[str, str]]:
    """Reported values attached to a material or statement: number, unit, property, qualifier."""
    return select(
        """SELECT ?num ?unit ?prop ?q WHERE {
             ?h hem:hasReportedValue ?v . ?v qudt:numericValue ?num ; qudt:unit ?unit ; hem:ofProperty ?prop .
             OPTIONAL { ?v hem:valueQualifier ?q } }""",
        h=kg(holder),
    )


def has_value(holder: str, number: float, unit: str, prop: str) -> bool:
    """Whether `holder` reports `number` (to 0.1 %) in QUDT unit `unit` for property `prop`."""
    return any(
        abs(float(v["num"]) - number) <= abs(number) * 1e-3
        and v["unit"].rsplit("/", 1)[-1] == unit
        and v["prop"] == kg(prop)
        for v in reported_values(holder)
    )


@pytest.fixture(scope="session")
def statements() -> dict[str, knowledge.Statement]:
    return knowledge.statements()


# ---------------------------------------------------------------- the command line


def _click_version() -> tuple[int, int]:
    major, minor = dist_version("click").split(".")[:2]
    return int(major), int(re.match(r"\d+", minor).group())


@pytest.fixture
def own_library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A literature library folder of the test's own (HEMKG_LIBRARY, not yet created); the user's data folder is
    out of reach (XDG_DATA_HOME too)."""
    folder = tmp_path / "library"
    monkeypatch.setenv("HEMKG_LIBRARY", str(folder))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    return folder


@pytest.fixture
def runner() -> CliRunner:
    """A runner that keeps stderr apart from stdout (always so from click 8.2 on)."""
    if _click_version() < (8, 2):
        return CliRunner(mix_stderr=False)  # pragma: no cover - older click only
    return CliRunner()


def assert_no_traceback(result: Result) -> None:
    """No unexpected exception escaped, and no traceback reached the user."""
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    for text in (result.output, result.stdout, result.stderr):
        assert "Traceback" not in text


def run(runner: CliRunner, *args: str) -> Result:
    result = runner.invoke(main, list(args))
    assert_no_traceback(result)
    return result


def assert_one_line_error(result: Result) -> str:
    """Exit 2, nothing on stdout, one `error:` line on stderr (plus at most a hint); returns it."""
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines and lines[0].startswith("error: "), result.stderr
    assert sum(line.startswith("error:") for line in lines) == 1
    assert all(line.startswith("hint: ") for line in lines[1:]), result.stderr
    assert len(lines) <= 2
    return lines[0]


# ---------------------------------------------------------------- the rule files


@functools.cache
def rule_entries() -> dict[str, dict[str, Any]]:
    """Every rule of the packaged rules/*.toml as written there (read with tomllib, not the engine)."""
    entries: dict[str, dict[str, Any]] = {}
    for f in package_files("rules", "*.toml"):
        for entry in tomllib.loads(f.read_text(encoding="utf-8")).get("rule", []):
            entries[entry["id"]] = {**entry, "file": f.name}
    return entries


def fired(c: Consultation) -> set[str]:
    """The ids of every rule that drew at least one conclusion: the consultation's own, and the rules run once over
    the reports (engine.share) whose conclusions its rules read."""
    derivations = c.result.derivations
    own = {d.rule.id for ds in derivations.values() for d in ds}
    read = derivations.rested_on(p for ds in derivations.values() for d in ds for p in d.premises)
    return own | {d.rule.id for p in read for d in derivations.shared.get(p, ())}


def expand(curie: str) -> str:
    """A CURIE (hemkg:stmt-plane-B-Zn) as its full IRI; a full IRI as it is."""
    prefix, _, local = curie.partition(":")
    return CURIE_PREFIXES[prefix] + local if prefix in CURIE_PREFIXES and not curie.startswith("http") else curie


def cites(iri: str) -> list[int]:
    """The references of a node in the graph, sorted: a statement's hem:citesReference, a material's hem:reportedIn."""
    rows = select("SELECT ?r WHERE { { ?s hem:citesReference ?r } UNION { ?s a hem:ReportedMaterial ; hem:reportedIn ?r } }",
                  s=iri)
    return sorted(int(r["r"].rsplit("/", 1)[-1]) for r in rows)


def statement_citations(statement_id: str) -> list[int]:
    """hem:citesReference of a statement (its id without hemkg:), read from the graph with SPARQL."""
    rows = select("SELECT ?r WHERE { ?s hem:citesReference ?r }", s=HEMKG + statement_id)
    return sorted(int(r["r"].rsplit("/", 1)[-1]) for r in rows)


def rule_references(rule_id: str) -> list[int]:
    """What a rule cites: its file's own references and those of the statements it rests on (from the graph)."""
    entry = rule_entries()[rule_id]
    return sorted({*entry.get("references", []), *(n for s in entry.get("rests_on", []) for n in statement_citations(s))})


def rule_location(rule_id: str) -> str:
    """A rule's location: its file's, or that of the statements it rests on (sections, tables, figures, equations)."""
    entry = rule_entries()[rule_id]
    if "rests_on" not in entry:
        return entry["location"]
    found: dict[str, list[str]] = {}
    for s in entry["rests_on"]:
        for field in ("inSection", "inTable", "inFigure", "inEquation"):
            rows = select(f"SELECT ?o WHERE {{ ?s hem:{field} ?o }}", s=HEMKG + s)
            found.setdefault(field, []).extend(sorted(r["o"] for r in rows))
    sections = sorted(set(found["inSection"]))
    parts = [f"Section {', '.join(sections)}"] if sections else []
    return "; ".join(parts + [x for f in ("inTable", "inFigure", "inEquation") for x in dict.fromkeys(found[f])])


def statement_pattern(rule_id: str) -> str:
    """A regular expression for a rule's statement as shown, its {?x} and {!?x} placeholders filled with anything."""
    return "".join(".+?" if part.startswith(("{?", "{!?")) else re.escape(part)
                   for part in re.split(r"(\{!?\?[A-Za-z_][A-Za-z0-9_]*\})", rule_entries()[rule_id]["statement"]))


# ---------------------------------------------------------------- queries that try the SPARQL limits

SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"  # ~10^11 solutions: never ends in time
# A long IN (...): rdflib's checker takes ~10 s over it, pyoxigraph a few ms
SLOW_TO_CHECK = "SELECT ?o WHERE { ?s ?p ?o FILTER(?o IN (" + ", ".join(map(str, range(6000))) + ")) }"
# One row whose single GROUP_CONCAT value grows to gigabytes (labels x triples x triples)
HUGE_CONCAT = "SELECT (GROUP_CONCAT(STR(?o)) AS ?c) WHERE { ?e skos:prefLabel ?o . ?a ?b ?x . ?d ?f ?g }"
# A literal with a control character XML 1.0 cannot carry, one with a CR, and a lexical form to keep as written
ODD_LITERALS = 'SELECT ?ctl ?cr ?nan WHERE { BIND("a\\u0001b" AS ?ctl) BIND("x\\ry" AS ?cr) BIND("NaN"^^xsd:double AS ?nan) }'


# ---------------------------------------------------------------- no orphans: a real hem process, killed

HEM_COMMAND = [sys.executable, "-m", "hemkg"]


def wait_for_children(pid: int, count: int, timeout: float = 60.0) -> list[psutil.Process]:
    """The process's descendants, once there are at least `count` of them."""
    deadline = time.monotonic() + timeout
    parent = psutil.Process(pid)
    while time.monotonic() < deadline:
        children = [c for c in parent.children(recursive=True) if _alive(c)]
        if len(children) >= count:
            return children
        time.sleep(0.05)
    raise AssertionError(f"process {pid} never had {count} children")


def _alive(process: psutil.Process) -> bool:
    """Running, and not a zombie left for a reaper that may never come (PID 1 in a container)."""
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def survivors(processes: list[psutil.Process], timeout: float = 10.0) -> list[psutil.Process]:
    """Those of `processes` still alive once `timeout` seconds have passed (or none is)."""
    deadline = time.monotonic() + timeout
    alive = [p for p in processes if _alive(p)]
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = [p for p in alive if _alive(p)]
    return alive


@contextmanager
def process_tree(command: list[str], stderr: int = subprocess.DEVNULL) -> Iterator[subprocess.Popen]:
    """`command` in its own process; it and every child it still has are killed on the way out."""
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr,
                               text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    children: list[psutil.Process] = []
    try:
        yield process
    finally:
        with contextlib.suppress(psutil.NoSuchProcess):
            children = psutil.Process(process.pid).children(recursive=True)
        if process.poll() is None:
            process.kill()
        process.wait(10)
        for child in children:
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()


def hem(*args: str) -> contextlib.AbstractContextManager[subprocess.Popen]:
    """`hem ARGS` in its own process (see process_tree)."""
    return process_tree([*HEM_COMMAND, *args])


def kill_and_check(process: subprocess.Popen, children: list[psutil.Process], signal_number: int) -> None:
    """Send the signal to the parent and assert that none of its children outlives it."""
    process.send_signal(signal_number)
    process.wait(10)
    left = survivors(children)
    for child in left:  # before failing: no orphan at full CPU after the test
        child.kill()
    assert not left, f"{len(left)} of {len(children)} children outlived their parent: {[p.pid for p in left]}"


# ---------------------------------------------------------------- Turtle written by tests, HermiT

PREFIXES = """
@prefix hem: <https://w3id.org/hemkg/ontology#> .
@prefix hemkg: <https://w3id.org/hemkg/kg/> .
@prefix ref: <https://w3id.org/hemkg/ref/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
"""

needs_java = pytest.mark.skipif(shutil.which("java") is None, reason="HermiT runs on Java; install a JRE")


# ---------------------------------------------------------------- the screen's rows against consultations


def compiled_grades(out: dict[str, Any], i: int, composition: dict[str, float], universe: tuple[str, ...],
                    mechanisms: tuple[str, ...]) -> dict[str, Any]:
    """Row i of the compiled screen's output (screening/vectorised.py) in the JSON answer's words: statuses,
    evidence, each element's roles and role evidence (tests/test_screen.py, tests/test_library_screen.py)."""
    from hemkg.graph.vocab import json_key
    from hemkg.screening import vectorised as compiled

    index = {s: j for j, s in enumerate(universe)}
    held = {s: [r for r in compiled.ROLES if int(out["roles"][i, index[s]]) & compiled.ROLE_BITS[r]] for s in composition}
    return {
        "statuses": {json_key(m): json_key(compiled.STATUS_NAMES[int(out[f"status_{m}"][i])]) for m in mechanisms},
        "evidence": {json_key(m): compiled.LEVELS[int(out[f"evidence_{m}"][i])] for m in mechanisms},
        "roles": {s: sorted(json_key(r) for r in roles) for s, roles in held.items()},
        "role_evidence": {s: {json_key(r): compiled.LEVELS[int(out["role_evidence"][i, index[s], compiled.ROLES.index(r)])]
                              for r in roles} for s, roles in held.items() if roles},
    }


def answer_grades(data: dict[str, Any], mechanisms: tuple[str, ...]) -> dict[str, Any]:
    """The same of a consultation's JSON answer (answers/summary.py)."""
    from hemkg.graph.vocab import json_key

    return {
        "statuses": {json_key(m): data["mechanisms"][json_key(m)]["status"] for m in mechanisms},
        "evidence": {json_key(m): data["mechanisms"][json_key(m)]["evidence"] for m in mechanisms},
        "roles": {s: sorted(roles) for s, roles in data["roles"].items()},
        "role_evidence": {s: {r: grade["evidence"] for r, grade in by_role.items()}
                          for s, by_role in data["role_evidence"].items()},
    }


# ------------------------------------------------------------------ a library of many related findings

def related_findings_rows(candidate: tuple[str, ...], fillers: tuple[str, ...], related: int,
                          structural: int) -> list[dict[str, str]]:
    """Rows for `hem evidence add` (the columns of examples/findings.csv), made from the Joule-heated rock-salt
    HEO's findings (doi:10.26599/nr.2025.94907784, examples/findings.csv), each copy with a DOI and an equimolar
    five-cation oxide of its own, as benchmarks/bench.py generated_rows makes them:

    - one contribution on the candidate's own cations (its own composition, `candidate` read as (ABCDE)O), with
      the Cu conversion finding ("Cu2+ is difficult to oxidize back to its original state once reduced to Cu0");
    - `related` contributions with that finding on related oxides: Cu, then k = 0..3 further cations of the
      candidate (cycling), the rest from `fillers`, so that they share 1 to 4 elements with the candidate;
    - `structural` contributions with the Zn stabilizer finding ("ZnO serves as an electrochemically inactive
      structural stabilizer ..."), Zn with fillers only.
    Each row has a `shared` entry (the elements its formula shares with the candidate), which the CSV leaves out.
    """
    import csv

    with open(Path(__file__).resolve().parent.parent / "examples" / "findings.csv", newline="",
              encoding="utf-8") as f:
        base = list(csv.DictReader(f))
    cu = next(r for r in base if r["element"] == "Cu" and r["finding"] == "mechanism_observed")
    zn = next(r for r in base if r["element"] == "Zn" and r["role"] == "stabilizer")
    others = [x for x in candidate if x != "Cu"]
    rows = [{**cu, "doi": "10.5555/related.own", "formula": f"({''.join(candidate)})O", "title": "",
             "shared": str(len(candidate))}]
    for k in range(related):  # zero-padded DOIs sort as the numbers do
        shared = 1 + k % 4
        chosen = ["Cu", *others[: shared - 1], *sorted(fillers, key=lambda x: hash_of(x, k))[: 5 - shared]]
        rows.append({**cu, "doi": f"10.5555/related.{k:03d}", "formula": f"({''.join(chosen)})O", "title": "",
                     "shared": str(len(set(chosen) & set(candidate)))})
    for k in range(structural):
        chosen = ["Zn", *sorted(fillers, key=lambda x: hash_of(x, k + 100))[:4]]
        rows.append({**zn, "doi": f"10.5555/structural.{k:03d}", "formula": f"({''.join(chosen)})O", "title": "",
                     "shared": "1"})
    return rows


def hash_of(text: str, seed: int) -> int:
    """A stable pseudo-random order (Python's hash() of a str changes from run to run)."""
    import zlib

    return zlib.crc32(f"{seed}:{text}".encode())


def write_findings(path: Path, rows: list[dict[str, str]]) -> Path:
    """The rows as a findings CSV with the template's columns (extra entries such as `shared` left out)."""
    import csv

    from hemkg.library.findings import COLUMNS

    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(COLUMNS), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path
