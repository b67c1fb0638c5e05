"""The literature library (issue 13): hem evidence template, add, list, show, remove, export.

Every test works on a library in a temporary folder (HEMKG_LIBRARY is set for
each test): the user's own data folder is never touched. The example file,
examples/findings.csv, holds findings of real primary papers the perspective
does not cite, each with its DOI and the words of its abstract.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import run

from hemkg.library import store as lib
from hemkg.library.findings import COLUMNS, EXAMPLE, parse_csv, template

# rdflib's own TriG and JSON-LD parsers use its deprecated ConjunctiveGraph: not ours to fix.
pytestmark = [pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning"),
              pytest.mark.filterwarnings("ignore:Dataset.default_context is deprecated:DeprecationWarning")]

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "findings.csv"
NPX = "http://purl.org/nanopub/x/"
# The papers of examples/findings.csv (each finding's quote is from its abstract).
JOULE_HEO = "10.26599/nr.2025.94907784"  # Fe0.2Co0.2Ni0.2Cu0.2Zn0.2O: ZnO an inactive stabilizer, Cu hardly re-oxidised
ZNGESIP3 = "10.1039/d4ee01329h"  # ZnGeSiP3: intercalation and conversion
SPINEL_MGTI = "10.1039/d0ra00255k"  # (Mg0.2Ti0.2Zn0.2Cu0.2Fe0.2)3O4: 504 mAh/g after 300 cycles
SPINEL_CRMN = "10.3390/inorganics12070198"  # (Cr0.2Mn0.2Co0.2Ni0.2Zn0.2)3O4: 107 mAh/g after 1000 cycles


@pytest.fixture(autouse=True)
def library_dir(own_library: Path) -> Path:
    """Each test's own library (conftest.py own_library)."""
    return own_library


def evidence(runner, *args: str):
    return run(runner, "evidence", *args)


def added(runner, path: Path, *extra: str):
    result = evidence(runner, "add", str(path), *extra)
    assert result.exit_code == 0, result.stderr
    return result


def rows_of(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def write_rows(path: Path, rows: list[dict[str, str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


def exported(runner, fmt: str = "trig", *extra: str) -> bytes:
    result = evidence(runner, "export", "--format", fmt, *extra)
    assert result.exit_code == 0, result.stderr
    return result.stdout_bytes


def graphs_of(trig: bytes, fmt: str = "trig") -> dict[str, object]:
    """Each named graph of a TriG or JSON-LD text, read by rdflib."""
    import rdflib

    dataset = rdflib.Dataset()
    dataset.parse(data=trig, format=fmt)
    out = {}
    for g in dataset.graphs():
        if len(g):
            copy = rdflib.Graph()
            for t in g:
                copy.add(t)
            out[str(g.identifier)] = copy
    return out


def quads_of(data: bytes, fmt: str = "trig") -> set:
    import pyoxigraph as ox

    store = ox.Store()
    store.load(data, format={"trig": ox.RdfFormat.TRIG, "jsonld": ox.RdfFormat.JSON_LD}[fmt])
    return set(store)


def library_files(folder: Path) -> dict[str, bytes]:
    """Every file of a library but the lock (which names the last PID to hold it) and RocksDB's info logs
    (which it rotates even on a read-only open)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.name.startswith("LOG") and p.name != "lock"}


# ---------------------------------------------------------------- the template and the example file


def test_template_prints_the_header_and_one_example_row(runner):
    result = evidence(runner, "template")
    assert result.exit_code == 0
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == list(COLUMNS)
    assert len(rows) == 2 and dict(zip(COLUMNS, rows[1], strict=True)) == EXAMPLE
    contributions, problems = parse_csv(result.stdout)
    assert problems == [] and len(contributions) == 1 and contributions[0].doi == ZNGESIP3


def test_the_example_file_is_real_findings_with_doi_and_quote():
    """examples/findings.csv: 5-10 findings of papers outside the perspective, each with a DOI and a quote."""
    rows = rows_of(EXAMPLES)
    assert 5 <= len(rows) <= 10
    assert {r["doi"] for r in rows} == {JOULE_HEO, ZNGESIP3, SPINEL_MGTI, SPINEL_CRMN}
    assert all(r["quote"] and r["evidence_level"] for r in rows)
    paper = next((ROOT.parent / "shared" / "paper").glob("*.txt"), None) if (ROOT.parent / "shared").is_dir() else None
    if paper is not None:  # none of them is among the perspective's references
        text = paper.read_text(encoding="utf-8").lower()
        assert not any(r["doi"] in text for r in rows)


def test_example_file_is_added_and_listed(runner, library_dir):
    result = added(runner, EXAMPLES)
    assert "4 contribution(s) added" in result.stdout and "(9 finding(s) read)" in result.stdout
    listing = json.loads(evidence(runner, "list", "--json").stdout)
    by_doi = {c["doi"]: c for c in listing["contributions"]}
    assert set(by_doi) == {JOULE_HEO, ZNGESIP3, SPINEL_MGTI, SPINEL_CRMN}
    assert by_doi[JOULE_HEO]["findings"] == 4 and by_doi[ZNGESIP3]["year"] == 2024
    assert listing["library"] == str(library_dir)


def test_show_gives_each_finding_with_its_quote(runner):
    """The Joule-heated HEO (10.26599/nr.2025.94907784): ZnO is an inactive stabilizer, Cu hardly re-oxidised."""
    added(runner, EXAMPLES)
    shown = json.loads(evidence(runner, "show", "https://doi.org/10.26599/NR.2025.94907784", "--json").stdout)
    (contribution,) = shown["contributions"]
    assert contribution["formula"] == "Fe0.2Co0.2Ni0.2Cu0.2Zn0.2O" and contribution["status"] == "current"
    zinc = next(f for f in contribution["findings"] if f["element"] == "Zn")
    assert (zinc["finding"], zinc["role"], zinc["ion"], zinc["electrode"]) == ("element_role", "stabilizer", "Li", "anode")
    assert "electrochemically inactive structural stabilizer" in zinc["quote"]
    performance = next(f for f in contribution["findings"] if f["finding"] == "performance")
    assert (performance["capacity_mAh_g"], performance["current_A_g"], performance["cycles"]) == ("1310", "0.1", "200")
    text = evidence(runner, "show", JOULE_HEO).stdout
    assert "element_role: Zn stabilizer" in text and '"Cu2+ is difficult to oxidize back' in text


def test_show_of_an_unknown_doi_is_an_error(runner):
    added(runner, EXAMPLES)
    result = evidence(runner, "show", "10.1000/nothing")
    assert result.exit_code == 2 and "holds no findings of 10.1000/nothing" in result.stderr


def test_an_empty_library_lists_nothing_and_is_not_created(runner, library_dir):
    result = evidence(runner, "list")
    assert result.exit_code == 0 and "holds no findings yet" in result.stdout
    assert not library_dir.exists()
    assert exported(runner) == b""


# ---------------------------------------------------------------- round trips


def _same_graphs(first: bytes, second: bytes, fmt: str = "trig") -> None:
    from rdflib.compare import isomorphic

    a, b = graphs_of(first, fmt), graphs_of(second, fmt)
    assert set(a) == set(b)
    for name in a:
        assert isomorphic(a[name], b[name]), name


@pytest.mark.parametrize("source", ["template", "examples"])
def test_add_export_reimport_gives_the_same_graphs(runner, tmp_path, monkeypatch, source):
    """Add, export as TriG, add the TriG to a fresh library: every named graph is the same (rdflib isomorphism)."""
    path = EXAMPLES if source == "examples" else tmp_path / "template.csv"
    if source == "template":
        path.write_text(template(), encoding="utf-8")
    added(runner, path)
    first = exported(runner)
    names = graphs_of(first)
    assert len(names) == 4 * len({r["doi"] for r in rows_of(path)})  # Head, assertion, provenance, pubinfo each
    (tmp_path / "first.trig").write_bytes(first)
    monkeypatch.setenv("HEMKG_LIBRARY", str(tmp_path / "fresh"))
    added(runner, tmp_path / "first.trig")
    second = exported(runner)
    _same_graphs(first, second)
    assert quads_of(first) == quads_of(second)  # pyoxigraph reads it too, to the very quad


def test_jsonld_export_holds_the_same_quads_as_trig(runner, tmp_path):
    """JSON-LD is read by rdflib and pyoxigraph alike, to the same graphs as the TriG export."""
    added(runner, EXAMPLES)
    trig, jsonld = exported(runner, "trig"), exported(runner, "jsonld")
    assert quads_of(jsonld, "jsonld") == quads_of(trig)
    _same_graphs(trig, trig)
    assert set(graphs_of(jsonld, "json-ld")) == set(graphs_of(trig))
    target = tmp_path / "out.jsonld"
    assert evidence(runner, "export", "--format", "jsonld", "-o", str(target)).exit_code == 0
    assert quads_of(target.read_bytes(), "jsonld") == quads_of(trig)


def test_each_contribution_is_a_nanopublication(runner):
    """Head, assertion, provenance and pubinfo graphs; the assertion derived from the paper's DOI."""
    import pyoxigraph as ox

    added(runner, EXAMPLES)
    store = ox.Store()
    store.load(exported(runner), format=ox.RdfFormat.TRIG)
    ask = store.query("""PREFIX np: <http://www.nanopub.org/nschema#> PREFIX prov: <http://www.w3.org/ns/prov#>
        PREFIX hem: <https://w3id.org/hemkg/ontology#>
        SELECT ?np ?doi (COUNT(?f) AS ?n) WHERE {
          GRAPH ?h { ?np a np:Nanopublication ; np:hasAssertion ?a ; np:hasProvenance ?p ; np:hasPublicationInfo ?i }
          GRAPH ?p { ?a prov:wasDerivedFrom ?paper . ?paper <http://purl.org/ontology/bibo/doi> ?doi }
          GRAPH ?i { ?np <http://purl.org/dc/terms/created> ?when }
          GRAPH ?a { ?f a hem:Finding ; hem:reportedIn ?paper ; hem:quote ?q } } GROUP BY ?np ?doi""")
    counts = {s["doi"].value: int(s["n"].value) for s in ask}
    assert counts == {JOULE_HEO: 4, ZNGESIP3: 3, SPINEL_MGTI: 1, SPINEL_CRMN: 1}


def test_a_nanopublication_of_a_trig_file_is_checked_like_a_row(runner, tmp_path, monkeypatch):
    """An exported nanopublication whose finding lost its quote is refused, naming the nanopublication."""
    added(runner, EXAMPLES)
    trig = exported(runner).decode()
    quoted = [line for line in trig.splitlines() if "hem:quote" in line]
    broken = tmp_path / "broken.trig"
    broken.write_text(trig.replace(quoted[0], quoted[0].replace("hem:quote", "rdfs:seeAlso"), 1), encoding="utf-8")
    monkeypatch.setenv("HEMKG_LIBRARY", str(tmp_path / "fresh"))
    result = evidence(runner, "add", str(broken))
    assert result.exit_code == 2
    assert any("broken.trig nanopublication <https://w3id.org/hemkg/library/np/" in line
               and "needs the paper's words it rests on" in line for line in result.stderr.splitlines()), result.stderr


def test_a_nanopublication_never_changes(runner, tmp_path):
    """A TriG file holding a library's nanopublication with other content is refused: add changes as CSV."""
    added(runner, EXAMPLES)
    trig = exported(runner).decode()
    changed = tmp_path / "changed.trig"
    changed.write_text(trig.replace("1310", "1311"), encoding="utf-8")
    result = evidence(runner, "add", str(changed))
    assert result.exit_code == 2 and "holds a nanopublication with this IRI and other content" in result.stderr
    same = tmp_path / "same.trig"
    same.write_text(trig, encoding="utf-8")
    assert "0 contribution(s) added" in added(runner, same).stdout


def test_turtle_with_the_ontology_terms_is_added(runner, tmp_path):
    """A finding written in Turtle with hem: terms, not as a nanopublication, is added like a CSV row."""
    ttl = tmp_path / "finding.ttl"
    ttl.write_text("""@prefix hem: <https://w3id.org/hemkg/ontology#> . @prefix hemkg: <https://w3id.org/hemkg/kg/> .
        @prefix bibo: <http://purl.org/ontology/bibo/> .
        <urn:x:f1> a hem:Finding ; hem:findingKind hem:mechanismObserved ; hem:aboutMechanism hemkg:conversion ;
            hem:carrierIon hemkg:Li-ion ; hem:electrode hem:anode ; hem:evidenceLevel hem:abstractLevel ;
            hem:quote "confirm the reversible storage of Li-ions within ZnGeSiP3 via intercalation and subsequent conversion reactions" ;
            hem:aboutMaterial <urn:x:m> ; hem:reportedIn <https://doi.org/10.1039/d4ee01329h> .
        <urn:x:m> a hem:Material ; hem:formula "ZnGeSiP3" .
        <https://doi.org/10.1039/d4ee01329h> a bibo:AcademicArticle ; bibo:doi "10.1039/d4ee01329h" .
        """, encoding="utf-8")
    result = added(runner, ttl)
    assert "added      10.1039/d4ee01329h  ZnGeSiP3" in result.stdout
    (finding,) = json.loads(evidence(runner, "show", ZNGESIP3, "--json").stdout)["contributions"][0]["findings"]
    assert (finding["finding"], finding["mechanism"]) == ("mechanism_observed", "conversion")


def test_a_triple_term_is_refused_and_nothing_is_added(runner, tmp_path, library_dir):
    """An RDF 1.2 triple term, which pyoxigraph reads and rdflib (the shapes) cannot: before, the
    shapes' conversion raised AttributeError and hem said "this is a bug in hemkg"."""
    ttl = tmp_path / "finding.ttl"
    ttl.write_text("""@prefix hem: <https://w3id.org/hemkg/ontology#> .
        <urn:x:f1> a hem:Finding ; hem:quote "q" .
        << <urn:x:f1> hem:quote "q" >> hem:quote "said so" .
        """, encoding="utf-8")
    result = evidence(runner, "add", str(ttl))
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.splitlines()[0] == ("error: finding.ttl finding.ttl: holds a triple term (<< ... >>, RDF 1.2), "
                                             "which rdflib and so SHACL cannot check: state the triple itself, "
                                             "or describe it with a node of its own")
    assert not library_dir.exists() or not (library_dir / "store").exists()


def test_a_cathode_finding_is_kept_as_such(runner, tmp_path):
    rows = rows_of(EXAMPLES)[:1]
    rows[0]["electrode"] = "cathode"
    added(runner, write_rows(tmp_path / "cathode.csv", rows))
    (finding,) = json.loads(evidence(runner, "show", JOULE_HEO, "--json").stdout)["contributions"][0]["findings"]
    assert finding["electrode"] == "cathode"


# ---------------------------------------------------------------- bad input: line, fix, exit 2, nothing added

BAD_ROWS = [
    # (column, value, words the message must hold)
    ("doi", "not-a-doi", "write it as 10.NNNN/suffix"),
    ("finding", "mechanism_seen", "did you mean mechanism_observed?"),
    ("evidence_level", "abstrct", "did you mean abstract?"),
    ("ion", "Mg", "ion 'Mg' is not one of Li, Na, K"),
    ("electrode", "separator", "is not one of anode, cathode"),
    ("mechanism", "alloy", "did you mean alloying?"),
    ("element", "Zx", "is not an element symbol"),
    ("element", "Mo", "element Mo is not in the formula"),
    ("formula", "Fe0.2Co0.2Ni0.2Cu0.2Zn0.2O)", "formula 'Fe0.2Co0.2Ni0.2Cu0.2Zn0.2O)'"),
    ("capacity_mAh_g", "1,310", "without thousands separators"),
    ("capacity_mAh_g", "-5", "capacity_mAh_g' (hem:specificCapacity) is one number of mAh per gram, above 0"),
    ("cycles", "2.5", "is not a whole number"),
    ("year", "20", "is not a year"),
    ("quote", "", "needs the paper's words it rests on: column 'quote'"),
    ("role", "stabilizer", "Only an element_role finding has a role"),
]


@pytest.mark.parametrize(("column", "value", "wanted"), BAD_ROWS, ids=[f"{c}={v}" for c, v, _ in BAD_ROWS])
def test_a_bad_row_is_reported_with_its_line_and_nothing_is_added(runner, tmp_path, library_dir, column, value, wanted):
    added(runner, EXAMPLES)
    before = library_files(library_dir)
    rows = rows_of(EXAMPLES)
    rows[3] = {**rows[3], column: value}  # line 5 of the file (the header is line 1); row 4 is a performance finding
    if column == "formula":
        rows = [{**r, "formula": value} if r["doi"] == JOULE_HEO else r for r in rows]
    result = evidence(runner, "add", str(write_rows(tmp_path / "bad.csv", rows)))
    assert result.exit_code == 2 and result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert any("bad.csv line " in line and wanted in line for line in errors[:-1]), result.stderr
    line = 2 if column == "formula" else 5
    assert any(f"line {line}:" in e for e in errors[:-1]), result.stderr
    assert errors[-1] == f"error: {len(errors) - 1} problem(s) in bad.csv; nothing was added"
    assert library_files(library_dir) == before


@pytest.mark.parametrize(("change", "wanted"), [
    ({"finding": "mechanism_observed", "mechanism": ""}, "needs a mechanism: fill column 'mechanism'"),
    ({"finding": "element_role", "element": "Zn", "role": ""}, "needs a role: fill column 'role'"),
    ({"finding": "element_role", "element": "", "role": "inactive"}, "needs an element: fill column 'element'"),
    ({"finding": "performance", "capacity_mAh_g": "", "retention_pct": ""}, "A performance finding needs a figure"),
    ({"retention_pct": "1200"}, "is one percentage, from 0 to 1000"),
])
def test_the_finding_shapes_catch_what_a_kind_needs(runner, tmp_path, library_dir, change, wanted):
    """The SHACL shapes of kg/checks/finding-shapes.ttl, reported on the CSV line."""
    rows = rows_of(EXAMPLES)
    rows[3] = {**rows[3], **change}
    result = evidence(runner, "add", str(write_rows(tmp_path / "bad.csv", rows)))
    assert result.exit_code == 2
    assert any(line.startswith("error: bad.csv line 5:") and wanted in line for line in result.stderr.splitlines()), \
        result.stderr
    assert not library_dir.exists() or not (library_dir / "store").exists()


def test_the_header_is_checked_first(runner, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("doi,formula,ion,electrode,finding,evidence_level,quotes\n10.1/x,ZnO,Li,anode,performance,table,q\n",
                    encoding="utf-8")
    result = evidence(runner, "add", str(path))
    assert result.exit_code == 2
    assert "bad.csv line 1: column 'quotes' is not a column of the template: did you mean 'quote'?" in result.stderr
    assert "lacks the column(s) quote" in result.stderr


def test_one_contribution_has_one_title(runner, tmp_path):
    rows = rows_of(EXAMPLES)
    rows[5]["title"] = "Another title"  # line 7, a second row of 10.1039/d4ee01329h
    result = evidence(runner, "add", str(write_rows(tmp_path / "bad.csv", rows)))
    assert result.exit_code == 2 and "bad.csv line 7: title differs from line 6's" in result.stderr


@pytest.mark.parametrize(("name", "content", "wanted"), [
    ("findings.xlsx", "x", "give a .csv file"),
    ("broken.ttl", "this is not turtle", "is not valid turtle"),
    ("empty.ttl", "@prefix hem: <https://w3id.org/hemkg/ontology#> .\n", "holds no hem:Finding"),
])
def test_unreadable_files_are_refused(runner, tmp_path, name, content, wanted):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    result = evidence(runner, "add", str(path))
    assert result.exit_code == 2 and wanted in result.stderr


def test_a_missing_file_is_one_line(runner, tmp_path):
    result = evidence(runner, "add", str(tmp_path / "none.csv"))
    assert result.exit_code == 2 and result.stderr.startswith("error: no file")


# ---------------------------------------------------------------- adding again, replacing, removing


def revision(folder: Path) -> str:
    with lib.Library.open(folder) as library:
        return library.revision


def test_adding_the_same_findings_twice_changes_nothing(runner, tmp_path, library_dir):
    added(runner, EXAMPLES)
    before, first = exported(runner), revision(library_dir)
    shuffled = list(reversed(rows_of(EXAMPLES)))  # the same findings in another order
    result = added(runner, write_rows(tmp_path / "again.csv", shuffled))
    assert "0 contribution(s) added, 0 replaced, 4 unchanged" in result.stdout
    assert exported(runner) == before
    assert revision(library_dir) == first  # what a cache of the library's findings is keyed by
    evidence(runner, "remove", ZNGESIP3)
    assert revision(library_dir) != first


def test_other_findings_for_a_held_contribution_need_replace(runner, tmp_path):
    """--replace supersedes the contribution: the old version stays, recorded as superseded."""
    import pyoxigraph as ox

    added(runner, EXAMPLES)
    rows = [r for r in rows_of(EXAMPLES) if r["doi"] == SPINEL_CRMN]
    rows[0]["note"] = "Solution combustion synthesis"
    path = write_rows(tmp_path / "changed.csv", rows)
    refused = evidence(runner, "add", str(path))
    assert refused.exit_code == 2 and "pass --replace to supersede them" in refused.stderr
    result = added(runner, path, "--replace")
    assert f"replaced   {SPINEL_CRMN}" in result.stdout
    history = json.loads(evidence(runner, "show", SPINEL_CRMN, "--json").stdout)["contributions"]
    assert [c["status"] for c in history] == ["superseded", "current"]
    assert history[1]["supersedes"] == [history[0]["nanopublication"]]
    assert history[0]["superseded_or_retracted_by"] == history[1]["nanopublication"]
    store = ox.Store()
    store.load(exported(runner), format=ox.RdfFormat.TRIG)
    assert ox.Quad(ox.NamedNode(history[1]["nanopublication"]), ox.NamedNode(NPX + "supersedes"),
                   ox.NamedNode(history[0]["nanopublication"]),
                   ox.NamedNode(history[1]["nanopublication"] + "#pubinfo")) in store
    current = json.loads(evidence(runner, "list", "--json").stdout)["contributions"]
    assert len(current) == 4
    assert len(json.loads(evidence(runner, "list", "--all", "--json").stdout)["contributions"]) == 5


def test_remove_records_a_retraction(runner):
    """hem evidence remove publishes a retraction; the retracted findings stay in the export."""
    import pyoxigraph as ox

    added(runner, EXAMPLES)
    result = evidence(runner, "remove", SPINEL_MGTI, "--reason", "duplicate entry")
    assert result.exit_code == 0 and f"retracted  {SPINEL_MGTI}" in result.stdout
    assert SPINEL_MGTI not in {c["doi"] for c in json.loads(evidence(runner, "list", "--json").stdout)["contributions"]}
    (old,) = json.loads(evidence(runner, "show", SPINEL_MGTI, "--json").stdout)["contributions"]
    assert old["status"] == "retracted"
    store = ox.Store()
    store.load(exported(runner), format=ox.RdfFormat.TRIG)
    retractions = list(store.query(f"SELECT ?g WHERE {{ GRAPH ?g {{ ?who <{NPX}retracts> <{old['nanopublication']}> }} }}"))
    assert len(retractions) == 1
    assert any(store.quads_for_pattern(None, None, None, ox.NamedNode(old["nanopublication"] + "#assertion")))
    again = evidence(runner, "remove", SPINEL_MGTI)
    assert again.exit_code == 2 and "holds no current findings" in again.stderr
    readded = added(runner, EXAMPLES)  # after a retraction, the same findings can come back as a new version
    assert f"added      {SPINEL_MGTI}" in readded.stdout


def test_a_retraction_survives_export_and_reimport(runner, tmp_path, monkeypatch):
    added(runner, EXAMPLES)
    evidence(runner, "remove", ZNGESIP3)
    (tmp_path / "lib.trig").write_bytes(exported(runner))
    monkeypatch.setenv("HEMKG_LIBRARY", str(tmp_path / "fresh"))
    result = added(runner, tmp_path / "lib.trig")
    assert "1 retraction(s)" in result.stdout
    assert ZNGESIP3 not in {c["doi"] for c in json.loads(evidence(runner, "list", "--json").stdout)["contributions"]}


# ---------------------------------------------------------------- where the library lives


def test_library_option_and_environment_choose_the_folder(runner, tmp_path, library_dir):
    added(runner, EXAMPLES)
    assert (library_dir / "library.json").is_file()
    other = tmp_path / "other"
    added(runner, EXAMPLES, "--library", str(other))  # --library wins over HEMKG_LIBRARY
    assert (other / "library.json").is_file()
    assert len(json.loads(evidence(runner, "list", "--json", "--library", str(other)).stdout)["contributions"]) == 4


def test_the_default_is_the_user_data_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("HEMKG_LIBRARY")
    assert lib.location() == tmp_path / "xdg-data" / "hemkg" / "library"  # platformdirs honours XDG_DATA_HOME
    assert lib.location("/some/where") == Path("/some/where")


def test_a_folder_that_is_not_a_library_is_refused(runner, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "holiday.jpg").write_bytes(b"\xff\xd8")
    result = evidence(runner, "add", str(EXAMPLES), "--library", str(folder))
    assert result.exit_code == 2 and "is not a hemkg library" in result.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["holiday.jpg"]


# ---------------------------------------------------------------- nothing lost: processes, kills, damage


def _env(library_dir: Path) -> dict[str, str]:
    return {**os.environ, "HEMKG_LIBRARY": str(library_dir)}


def _hem(library_dir: Path, *args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hemkg", *args], env=_env(library_dir), capture_output=True,
                          text=True, timeout=300, check=False, **kwargs)


HOLD_LOCK = """
import sys, time
from pathlib import Path
from hemkg.library.store import locked
with locked(Path(sys.argv[1]), 0, "a test holding the lock"):
    print("holding", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def _holder(library_dir: Path, seconds: float) -> subprocess.Popen:
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(library_dir), str(seconds)],
                              env=_env(library_dir), stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
    return holder


def test_a_second_process_is_told_which_pid_holds_the_library(runner, library_dir):
    added(runner, EXAMPLES)
    holder = _holder(library_dir, 30)
    try:
        result = _hem(library_dir, "evidence", "add", str(EXAMPLES), "--wait", "0")
        assert result.returncode == 2
        assert f"error: the library at {library_dir} is in use by PID {holder.pid} (a test holding the lock)" \
            in result.stderr
        assert "Traceback" not in result.stderr and "IO error" not in result.stderr
    finally:
        holder.kill()
        holder.wait()


def test_a_second_process_waits_for_the_first(runner, library_dir, tmp_path):
    """Two processes add at the same time: the second waits for the lock, and both additions are kept."""
    added(runner, write_rows(tmp_path / "first.csv", rows_of(EXAMPLES)[:4]))
    holder = _holder(library_dir, 2)
    result = _hem(library_dir, "evidence", "add", str(EXAMPLES), "--wait", "60")
    holder.wait()
    assert result.returncode == 0, result.stderr
    assert "3 contribution(s) added, 0 replaced, 1 unchanged" in result.stdout
    two = [subprocess.Popen([sys.executable, "-m", "hemkg", "evidence", "remove", doi], env=_env(library_dir),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for doi in (ZNGESIP3, SPINEL_MGTI)]
    assert [p.wait(timeout=120) for p in two] == [0, 0], [p.stderr.read() for p in two if p.stderr]
    listed = json.loads(_hem(library_dir, "evidence", "list", "--json").stdout)["contributions"]
    assert {c["doi"] for c in listed} == {JOULE_HEO, SPINEL_CRMN}


def _many_findings(path: Path, count: int) -> Path:
    base = rows_of(EXAMPLES)[4]
    rows = [{**base, "doi": f"10.5555/generated.{i}", "title": f"Generated paper {i}"} for i in range(count)]
    return write_rows(path, rows)


@pytest.mark.parametrize("delay", [0.0, 0.25], ids=["as-the-write-begins", "mid-write"])
def test_kill_9_during_an_add_leaves_the_last_committed_state(runner, library_dir, tmp_path, delay):
    """A real `hem evidence add` is killed (SIGKILL) as its write begins, or a quarter second into writing
    34,500 quads (which takes most of a second): all its findings, or none, and the library opens as usual."""
    added(runner, EXAMPLES)
    before = quads_of(exported(runner))
    big = _many_findings(tmp_path / "big.csv", 1500)
    process = subprocess.Popen([sys.executable, "-m", "hemkg", "evidence", "add", str(big)], env=_env(library_dir),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    state = library_dir / "library.json"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if json.loads(state.read_text())["pending"]:
                break  # the write has begun: library.json names the state it is going to
        except (OSError, ValueError):
            pass
        time.sleep(0.002)
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the add finished before it could be killed"
    listed = evidence(runner, "list", "--json")
    assert listed.exit_code == 0, listed.stderr
    count = len(json.loads(listed.stdout)["contributions"])
    after = quads_of(exported(runner))
    assert count in (4, 1504)
    assert (after == before) if count == 4 else (after > before)
    added(runner, _many_findings(tmp_path / "one.csv", 1))  # and the library takes the next add as usual
    assert len(json.loads(evidence(runner, "list", "--json").stdout)["contributions"]) == count + (count == 4)


@pytest.mark.parametrize("damage", ["current-file", "rolled-back-store", "state-file", "store-missing"])
def test_a_damaged_library_is_reported_and_left_as_it_is(runner, library_dir, tmp_path, damage):
    store = library_dir / "store"
    if damage == "rolled-back-store":  # an older copy of the store: RocksDB opens it happily, the checksum does not
        added(runner, write_rows(tmp_path / "first.csv", rows_of(EXAMPLES)[:4]))
        shutil.copytree(store, tmp_path / "older-store")
    added(runner, EXAMPLES)
    if damage == "current-file":
        (store / "CURRENT").write_bytes(b"garbage")
    elif damage == "rolled-back-store":
        shutil.rmtree(store)
        shutil.copytree(tmp_path / "older-store", store)
    elif damage == "state-file":
        (library_dir / "library.json").write_text("{", encoding="utf-8")
    else:
        shutil.rmtree(store)
    before = library_files(library_dir)
    for args in (["list"], ["add", str(EXAMPLES)], ["remove", JOULE_HEO], ["export"]):
        result = evidence(runner, *args)
        assert result.exit_code == 2, (args, result.output)
        assert f"error: the library at {library_dir} is damaged" in result.stderr
        assert "hint: it was left exactly as it is" in result.stderr
        assert library_files(library_dir) == before, args


# ---------------------------------------------------------------- no library, no cost


def test_a_consultation_loads_nothing_of_the_library():
    """Without a library folder, hem consult imports neither the library's store code, pyoxigraph, platformdirs
    nor pySHACL: only where the library would live (hemkg.library.place)."""
    code = ("import sys\nfrom hemkg.cli import main\n"
            "try:\n    main(['consult', '(MgCoNiCuZn)O', '--json'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.startswith(('hemkg.library', 'platformdirs', 'pyshacl', "
            "'pyoxigraph', 'hemkg.consultation.findings')) and m not in ('hemkg.library', 'hemkg.library.place')), "
            "file=sys.stderr)")
    env = {**os.environ, "HEMKG_LIBRARY": "/nonexistent/never-used"}
    # the first run may build the disk cache, which reads the graph with pyoxigraph; the second is the cold
    # start a user has every day
    for _ in range(2):
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                                check=False, env=env)
    assert result.returncode == 0
    assert result.stderr.strip().splitlines()[-1] == "[]"
