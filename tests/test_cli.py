"""Tests of the `hem` command line: invoke it, check the exit code, read the answer.

In the style of datasette's CLI tests: every command runs through click's
CliRunner, `--json` output is parsed with json.loads and checked for content,
and each assertion that rests on the paper (Huang et al., Energy Environ. Sci.
2025, 18, 10286) names where in the paper it comes from.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from importlib.metadata import version as dist_version
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import assert_one_line_error, run

import hemkg

# ---------------------------------------------------------------- helpers


def describe_json(runner: CliRunner, term: str) -> dict[str, Any]:
    result = run(runner, "describe", term, "--json")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    return json.loads(result.stdout)


def group(answer: dict[str, Any], heading: str) -> list[dict[str, Any]]:
    """The statements of the answer's group with this heading (fails if there is none)."""
    found = [g["statements"] for g in answer["groups"] if g["heading"] == heading]
    assert found, f"no group {heading!r} in {[g['heading'] for g in answer['groups']]}"
    return found[0]


def all_statements(answer: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for g in answer["groups"] for s in g["statements"]]


def by_id(answer: dict[str, Any], statement_id: str) -> dict[str, Any]:
    found = [s for s in all_statements(answer) if s["id"] == statement_id]
    assert len(found) == 1, f"{statement_id} appears {len(found)} times"
    return found[0]


def text_sections(text: str) -> dict[str, str]:
    """The terminal answer's sections after the header, keyed by their heading line."""
    blocks = [b for b in text.split("\n\n")[1:] if b.strip()]
    return {b.splitlines()[0]: b for b in blocks}



# ---------------------------------------------------------------- 1. describe Zn


def test_describe_zn_text_cites_conversion_42_and_alloying_67(runner):
    """Section 3.1, Fig. 6a: Zn on Plane A (conversion, ref 42) and Plane B (alloying, ref 67)."""
    result = run(runner, "describe", "Zn")
    assert result.exit_code == 0
    assert result.stderr == ""
    assert result.stdout.startswith("zinc  (hemkg:Zn;")
    sections = text_sections(result.stdout)
    conversion_lines = [line for line in sections["Conversion"].splitlines() if "[42]" in line]
    alloying_lines = [line for line in sections["Alloying"].splitlines() if "[67]" in line]
    assert any("conversion" in line for line in conversion_lines), sections["Conversion"]
    assert any("alloys" in line for line in alloying_lines), sections["Alloying"]


def test_describe_zn_json_groups_conversion_42_alloying_67(runner):
    """Section 3.1, Fig. 6a, Table 1 row Cations: Zn's plane statements sit under their mechanisms."""
    answer = describe_json(runner, "Zn")
    assert answer["term"]["id"] == "hemkg:Zn"
    assert answer["term"]["symbol"] == "Zn"
    assert answer["covered_by_paper"] is True
    # Zn's own plane statements (not inherited from a group: no "via")
    plane_a = [s for s in group(answer, "conversion")
               if 42 in s["references"] and "via" not in s and s.get("relation") == "hem:memberOf"]
    plane_b = [s for s in group(answer, "alloying")
               if 67 in s["references"] and "via" not in s and s.get("relation") == "hem:memberOf"]
    assert len(plane_a) == 1 and len(plane_b) == 1
    for statement in (plane_a[0], plane_b[0]):
        assert "3.1" in statement["location"]["section"]
        assert "Fig. 6a" in statement["location"]["figure"]
    assert {"42", "67"} <= set(answer["references"])
    assert {"Plane A (conversion cations)", "Plane B (alloying cations)"} <= set(answer["term"]["member_of"])


def test_describe_zn_json_context_matters_example_ref_41(runner):
    """Section 3.1 (refs 41, 48): in (LiFeZnNiCoMn)3O4 Zn is structural, in (MgCoNiCuZn)O it converts."""
    answer = describe_json(runner, "Zn")
    conversion = group(answer, "conversion")
    structural = [s for s in conversion if s.get("observed_in") == ["(LiFeZnNiCoMn)3O4"]]
    assert len(structural) == 1
    example = structural[0]
    assert example["references"] == [41]
    assert example["observed_taking_part"] is False
    assert example["evidence"] == "reported example"
    assert example["applies_to_ion"] == ["Li+"]
    assert "relation" not in example  # a reported example asserts no general fact
    assert "41" in answer["references"]
    # the same element converts in another material: context decides
    active = [s for s in conversion if s.get("observed_taking_part") is True and s["references"] == [48]]
    assert any(s["observed_in"] == ["(MgCoNiCuZn)O"] for s in active)
    context = by_id(answer, "hemkg:stmt-context-dependent-role")
    assert {41, 48} <= set(context["references"])
    assert any("active or inactive" in q for q in context["quote"])
    assert context in group(answer, "Beyond a single mechanism")


# ---------------------------------------------------------------- 2. each kind of term


def test_describe_anion_se_fast_charging_and_sib(runner):
    """Section 3.1, Fig. 6d, 7d, 7f: Se raises fast charging (refs 44, 49); selenides suit SIBs."""
    answer = describe_json(runner, "Se")
    assert answer["term"]["id"] == "hemkg:Se"
    assert "anion element" in answer["term"]["kinds"]
    fast = [s for s in all_statements(answer) if s.get("affects") == ["fast-charging performance"]
            and {44, 49} <= set(s["references"])]
    assert len(fast) == 1
    assert fast[0]["direction"] == "+"
    assert "Fig. 6d" in fast[0]["location"]["figure"]
    sib = by_id(answer, "hemkg:stmt-selenides-suit-sib")
    assert sib["relation"] == "hem:suits"
    assert sib["applies_to_ion"] == ["Na+"]
    assert {49, 74} <= set(sib["references"])
    text = " ".join(run(runner, "describe", "Se").stdout.split())  # unwrapped: the text fits 80 columns piped
    assert "fast charging" in text and "[44, 49]" in text
    assert "Selenides suit SIBs" in text


@pytest.mark.parametrize("spelling", ["space-charge", "space charge", "Space_Charge"])
def test_describe_mechanism_space_charge_spellings(runner, spelling):
    """Section 2.4, eqn (4): the space-charge mechanism, however it is spelled (ref 57)."""
    answer = describe_json(runner, spelling)
    assert answer["query"] == spelling
    assert answer["term"]["id"] == "hemkg:space-charge"
    assert answer["term"]["kinds"] == ["ion-storage mechanism"]
    assert answer["term"]["voltageWindow"] == "0.01-1 V"
    eqn4 = by_id(answer, "hemkg:stmt-space-charge-eqn4")
    assert eqn4 in group(answer, "space charge")
    assert 57 in eqn4["references"]
    assert eqn4["location"]["equation"] == ["eqn (4)"]


def test_describe_structural_factor_smaller_initial_particle_size(runner):
    """Section 3.2, Table 1 row Smaller initial particle size: raises intercalation and conversion (refs 9, 35)."""
    answer = describe_json(runner, "smaller initial particle size")
    assert answer["term"]["id"] == "hemkg:smaller-initial-particle-size"
    assert answer["term"]["kinds"] == ["structural factor"]
    row = by_id(answer, "hemkg:stmt-table1-smaller-initial-particle-size")
    assert row["direction"] == "+"
    assert sorted(row["affects"]) == ["conversion", "intercalation"]
    assert {9, 35} <= set(row["references"])
    assert row["location"]["table"] == ["Table 1, row Smaller initial particle size"]
    assert row["notes"]  # a damaged-table reading says how it was read


def test_describe_carrier_ion_na(runner):
    """Section 3.1-3.2, Fig. 7b (ref 73): space-charge capacity with Na is 163.0 mAh/g, LIB > SIB > PIB."""
    answer = describe_json(runner, "Na+")
    assert answer["term"]["id"] == "hemkg:Na-ion"
    assert answer["term"]["kinds"] == ["carrier ion"]
    order = by_id(answer, "hemkg:stmt-order-space-charge-by-ion")
    assert order in group(answer, "space charge")
    assert 73 in order["references"]
    assert any("Na: 163.0 mAh/g" in v for v in order["values"])
    assert "hemkg:stmt-selenides-suit-sib" in {s["id"] for s in all_statements(answer)}
    # sodium examples are here; examples scoped to other ions only are not
    scoped = [s["applies_to_ion"] for s in all_statements(answer) if s.get("applies_to_ion")]
    assert scoped and all("Na+" in ions for ions in scoped)


def test_describe_battery_chemistry_sib_inherits_from_na(runner):
    """Section 3.1 (refs 40, 45, 49, 74): SIB gets its own statements and those of its carrier ion Na+."""
    sib = describe_json(runner, "SIB")
    na = describe_json(runner, "Na+")
    assert sib["term"]["id"] == "hemkg:SIB"
    assert sib["term"]["kinds"] == ["battery chemistry"]
    assert {s["id"] for s in all_statements(na)} <= {s["id"] for s in all_statements(sib)}
    own = by_id(sib, "hemkg:stmt-selenides-suit-sib")
    assert "via" not in own
    inherited = by_id(sib, "hemkg:stmt-order-space-charge-by-ion")
    assert inherited["via"] == "as carrier ion Na+"


def test_describe_reported_material_mgconicuzn_o(runner):
    """Section 3.1 (ref 48): in (MgCoNiCuZn)O, Co, Cu, Ni and Zn convert, Zn also alloys, Mg does not."""
    answer = describe_json(runner, "(MgCoNiCuZn)O")
    assert answer["term"]["id"] == "hemkg:material-MgCoNiCuZnO"
    assert "reported anode material" in answer["term"]["kinds"]
    assert answer["term"]["formula"] == "(MgCoNiCuZn)O"
    assert "48" in answer["references"]
    assert all(48 in s["references"] for s in all_statements(answer))
    conversion = group(answer, "conversion")
    active = {s["statement"].split(", ")[1].split()[0] for s in conversion if s["observed_taking_part"]}
    inactive = {s["statement"].split(", ")[1].split()[0] for s in conversion if not s["observed_taking_part"]}
    assert active == {"Co", "Cu", "Ni", "Zn"}
    assert inactive == {"Mg"}
    assert [s["id"] for s in group(answer, "alloying")] == ["hemkg:stmt-example-MgCoNiCuZnO-Zn-alloying"]


@pytest.mark.parametrize("spelling", ["ref 57", "[57]", "57"])
def test_describe_reference_57_spellings_and_duplicate(runner, spelling):
    """Reference list: ref 57 and ref 72 are the same work (Q. Li et al., Nat. Mater. 20, 76-83)."""
    answer = describe_json(runner, spelling)
    assert answer["term"]["id"] == "ref:57"
    assert answer["reference"]["duplicates"] == [72]
    assert "72" in answer["reference"]["note"]
    assert answer["materials_reported"] == ["Fe3O4"]
    statements = all_statements(answer)
    assert statements and all(57 in s["references"] for s in statements)
    assert answer["covered_by_paper"] is True


def test_describe_reference_57_text_says_same_work(runner):
    """Reference list: the text answer for ref 57 says it is the same work as ref 72."""
    result = run(runner, "describe", "ref 57")
    assert result.exit_code == 0
    assert result.stdout.startswith("[57] Q. Li et al., Nat. Mater., 2021  (ref:57;")
    assert "Same work as ref 72." in result.stdout


def test_describe_reference_76_citation_slip(runner):
    """Section 3.1: the text cites 'Lun et al.76', but ref 76 is by Y. Liu et al. (Lun is ref 75)."""
    answer = describe_json(runner, "ref 76")
    assert answer["term"]["id"] == "ref:76"
    slip = answer["reference"]["slip"]
    assert "Lun et al." in slip and "Y. Liu" in slip and "75" in slip
    assert answer["term"]["citationSlip"] == slip
    text = run(runner, "describe", "ref 76").stdout
    assert "Citation slip:" in text
    assert "duplicates" not in answer["reference"]


# ---------------------------------------------------------------- 3. outside the paper


@pytest.mark.parametrize(("term", "name"), [("Xe", "xenon"), ("H", "hydrogen")])
def test_describe_element_outside_paper(runner, term, name):
    """An element the paper never names gets library data only and a plain 'no statement'."""
    answer = describe_json(runner, term)
    assert answer["term"]["symbol"] == term
    assert answer["covered_by_paper"] is False
    assert answer["groups"] == [] and answer["references"] == {}
    assert answer["outside_paper"].startswith(f"The paper makes no statement about {name}.")
    text = run(runner, "describe", term)
    assert text.exit_code == 0
    assert f"The paper makes no statement about {name}." in text.stdout
    assert "(element-data library, not the paper)" in " ".join(text.stdout.split())  # wrapped to fit 80 columns
    assert "References" not in text.stdout


def test_describe_element_in_paper_is_covered(runner):
    """Control for the test above: Fe, on Planes A and C (Section 3.1), is covered by the paper."""
    answer = describe_json(runner, "Fe")
    assert answer["covered_by_paper"] is True
    assert "outside_paper" not in answer


# ---------------------------------------------------------------- 4. errors


@pytest.mark.parametrize("flags", [[], ["--json"]], ids=["text", "json"])
def test_describe_unknown_term_suggests(runner, flags):
    """A misspelt symbol exits 2 with a one-line error and suggests the right one."""
    error = assert_one_line_error(run(runner, "describe", "Znn", *flags))
    assert "'Znn'" in error
    hint = run(runner, "describe", "Znn", *flags).stderr.splitlines()[1]
    assert re.search(r"\bZn\b", hint)


@pytest.mark.parametrize("flags", [[], ["--json"]], ids=["text", "json"])
def test_describe_reference_out_of_range(runner, flags):
    """The paper has 98 references: ref 99 exits 2 and the hint names the last one."""
    result = run(runner, "describe", "ref 99", *flags)
    error = assert_one_line_error(result)
    assert "ref 99" in error
    assert "1 to 98" in error


@pytest.mark.parametrize("term", ["", "   "], ids=["empty", "blank"])
def test_describe_empty_term(runner, term):
    """An empty TERM exits 2 with a one-line error saying so."""
    error = assert_one_line_error(run(runner, "describe", term))
    assert "empty" in error


def test_describe_overlong_term(runner):
    """A 500-character TERM exits 2 with a one-line error giving its length."""
    error = assert_one_line_error(run(runner, "describe", "x" * 500, "--json"))
    assert "500 characters" in error


def test_describe_unexpected_exception_is_one_line_error(runner, monkeypatch):
    """A bug inside a command reaches the user as a one-line error, exit 2, not a traceback."""
    from hemkg.answers import describe as d

    def broken(text: str) -> dict[str, Any]:
        raise RuntimeError("boom")

    monkeypatch.setattr(d, "describe", broken)
    error = assert_one_line_error(run(runner, "describe", "Zn"))
    assert error == "error: RuntimeError: boom"


# ---------------------------------------------------------------- 5. kg validate

UNSOURCED_STATEMENT = """\
@prefix hem:   <https://w3id.org/hemkg/ontology#> .
@prefix hemkg: <https://w3id.org/hemkg/kg/> .
@prefix skos:  <http://www.w3.org/2004/02/skos/core#> .

hemkg:stmt-test-unsourced a hem:GuidelineStatement ;
    skos:prefLabel "Test statement without reference or location"@en ;
    hem:subject hemkg:Zn ;
    hem:evidenceKind hem:textStatement .
"""

SOURCED_STATEMENT = """\
@prefix hem:   <https://w3id.org/hemkg/ontology#> .
@prefix hemkg: <https://w3id.org/hemkg/kg/> .
@prefix ref:   <https://w3id.org/hemkg/ref/> .
@prefix skos:  <http://www.w3.org/2004/02/skos/core#> .

hemkg:stmt-test-sourced a hem:GuidelineStatement ;
    skos:prefLabel "Test statement with reference and location"@en ;
    hem:subject hemkg:Zn ;
    hem:citesReference ref:42 ;
    hem:inSection "3.1" ;
    hem:evidenceKind hem:textStatement .
"""

UNSOURCED_IRI = "https://w3id.org/hemkg/kg/stmt-test-unsourced"


@pytest.fixture
def unsourced_file(tmp_path: Path) -> Path:
    path = tmp_path / "unsourced.ttl"
    path.write_text(UNSOURCED_STATEMENT, encoding="utf-8")
    return path


def test_kg_validate_conforms(runner):
    """The packaged graph passes every SHACL shape and violation query."""
    result = run(runner, "kg", "validate")
    assert result.exit_code == 0, result.output
    assert "conforms" in result.stdout
    assert "problem" not in result.stdout


def test_kg_validate_json_conforms(runner):
    """`hem kg validate --json` parses and reports conforms with no problems."""
    result = run(runner, "kg", "validate", "--json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report == {"conforms": True, "problems": []}


def test_kg_validate_statement_without_reference_or_location(runner, unsourced_file):
    """README: every statement needs a reference and a location; one lacking both fails, exit 1."""
    result = run(runner, "kg", "validate", str(unsourced_file))
    assert result.exit_code == 1, result.output
    assert result.stdout.startswith("2 problem(s) found:")
    problem_lines = result.stdout.splitlines()[1:]
    assert len(problem_lines) == 2
    assert all("hemkg:stmt-test-unsourced" in line for line in problem_lines)
    reference = [line for line in problem_lines if "[hemsh:StatementHasReference]" in line]
    location = [line for line in problem_lines if "[hemsh:StatementHasLocation]" in line]
    assert len(reference) == 1 and "cites no reference" in reference[0]
    assert len(location) == 1 and "no location" in location[0]


def test_kg_validate_json_statement_without_reference_or_location(runner, unsourced_file):
    """`--json` names the statement and both missing parts, and says it does not conform."""
    result = run(runner, "kg", "validate", "--json", str(unsourced_file))
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["conforms"] is False
    assert {(p["check"], p["entity"]) for p in report["problems"]} == {
        ("hemsh:StatementHasReference", UNSOURCED_IRI),
        ("hemsh:StatementHasLocation", UNSOURCED_IRI),
    }


def test_kg_validate_labels_statement_from_extra_file(runner, unsourced_file):
    """A problem in an extra file is reported with that statement's own skos:prefLabel."""
    report = json.loads(run(runner, "kg", "validate", "--json", str(unsourced_file)).stdout)
    assert {p["label"] for p in report["problems"]} == {"Test statement without reference or location"}


def test_kg_validate_sourced_statement_conforms(runner, tmp_path):
    """Control: the same kind of statement with a reference and a section conforms, exit 0."""
    path = tmp_path / "sourced.ttl"
    path.write_text(SOURCED_STATEMENT, encoding="utf-8")
    result = run(runner, "kg", "validate", "--json", str(path))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["conforms"] is True


@pytest.mark.parametrize("flags", [[], ["--json"]], ids=["text", "json"])
def test_kg_validate_invalid_turtle(runner, tmp_path, flags):
    """A file that is not Turtle exits 2 with a one-line error naming the file."""
    path = tmp_path / "broken-statement.ttl"
    path.write_text("@prefix hem: <https://w3id.org/hemkg/ontology#> .\nhem:a hem:b\n", encoding="utf-8")
    error = assert_one_line_error(run(runner, "kg", "validate", *flags, str(path)))
    assert "broken-statement.ttl" in error


def test_kg_validate_missing_file(runner, tmp_path):
    """A file path that does not exist exits 2 and the message names it."""
    path = tmp_path / "no-such-file.ttl"
    result = run(runner, "kg", "validate", str(path))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "no-such-file.ttl" in result.stderr
    assert "no file" in result.stderr
    assert_one_line_error(result)


# ---------------------------------------------------------------- 6. kg stats

DUPLICATE_PAIRS = [(10, 16), (20, 52), (57, 72), (70, 95), (74, 88)]


def test_kg_stats_text(runner):
    """Reference list (98 entries, 5 duplicate pairs); Table 1 (26 cations, 5 anions); 4 mechanisms."""
    result = run(runner, "kg", "stats")
    assert result.exit_code == 0
    text = result.stdout
    terms = {m["label"]: int(m["n"]) for m in re.finditer(r"^ +(?P<n>\d+)  (?P<label>[a-z][^\n]*)$", text, re.M)}
    assert terms["cation element"] == 26
    assert terms["anion element"] == 5
    assert terms["ion-storage mechanism"] == 4
    assert re.search(r"^References: 98, ", text, re.M)
    total = int(re.search(r"^Guideline statements: (\d+)$", text, re.M).group(1))
    assert total > 100
    pairs_line = re.search(r"^  duplicate pairs: (.*)$", text, re.M).group(1)
    pairs = [tuple(map(int, p.split(" = "))) for p in pairs_line.split(", ")]
    assert pairs == DUPLICATE_PAIRS


def test_kg_stats_json(runner):
    """`--json`: 98 references, 26 cations, 5 anions, 4 mechanisms, >100 statements, 5 duplicate pairs."""
    result = run(runner, "kg", "stats", "--json")
    assert result.exit_code == 0
    figures = json.loads(result.stdout)
    assert figures["references"]["total"] == 98
    assert figures["terms_by_type"]["cited reference"] == 98
    assert figures["terms_by_type"]["cation element"] == 26
    assert figures["terms_by_type"]["anion element"] == 5
    assert figures["terms_by_type"]["ion-storage mechanism"] == 4
    assert figures["statements"]["total"] > 100
    assert figures["statements"]["total"] == figures["terms_by_type"]["guideline statement"]
    assert sum(figures["statements"]["by_evidence"].values()) == figures["statements"]["total"]
    assert [tuple(p) for p in figures["references"]["duplicate_pairs"]] == DUPLICATE_PAIRS
    assert figures["triples"]["asserted"] > 0 and figures["triples"]["entailed"] > 0


# ---------------------------------------------------------------- 7. version and help


def test_version(runner):
    """`hem --version` prints hemkg.__version__, which is also the installed distribution's version."""
    result = run(runner, "--version")
    assert result.exit_code == 0
    assert result.stdout == f"hem, version {hemkg.__version__}\n"
    assert dist_version("hemkg") == hemkg.__version__


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_lists_commands(runner, flag):
    """`hem --help` lists every command: describe, consult, explain, compare and kg."""
    result = run(runner, flag)
    assert result.exit_code == 0
    commands = result.stdout.split("Commands:", 1)[1]
    names = {line.split()[0] for line in commands.splitlines() if line.strip()}
    assert {"describe", "consult", "explain", "compare", "sparql", "ask", "kg"} <= names


def test_kg_help_lists_subcommands(runner):
    """`hem kg --help` lists validate and stats."""
    result = run(runner, "kg", "--help")
    assert result.exit_code == 0
    commands = result.stdout.split("Commands:", 1)[1]
    assert {line.split()[0] for line in commands.splitlines() if line.strip()} >= {"stats", "validate", "push"}


HELP_EXAMPLES = [
    ("Zn", "hemkg:Zn"),
    ("Se", "hemkg:Se"),
    ("space-charge", "hemkg:space-charge"),
    pytest.param("defect sites", "hemkg:increased-defect-sites"),
    ("Na+", "hemkg:Na-ion"),
    ("SIB", "hemkg:SIB"),
    ("(MgCoNiCuZn)O", "hemkg:material-MgCoNiCuZnO"),
    ("ref 57", "ref:57"),
]


@pytest.mark.parametrize(("example", "expected_id"), HELP_EXAMPLES)
def test_describe_help_examples_resolve(runner, example, expected_id):
    """Every example term that `hem describe --help` shows is answered."""
    help_text = " ".join(run(runner, "describe", "--help").stdout.split())
    assert f"({example})" in help_text
    result = run(runner, "describe", example, "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["term"]["id"] == expected_id


# ---------------------------------------------------------------- other bugs found


def test_describe_reference_72_reports_duplicate_of_57(runner):
    """Reference list: ref 72 is the same work as ref 57, seen from the higher number too."""
    answer = describe_json(runner, "ref 72")
    assert answer["reference"].get("duplicates") == [57]


def test_describe_formula_names_the_material_with_that_label(runner):
    """Section 3.1 (ref 41): `(LiFeZnNiCoMn)3O4`, the material's own label, names that material."""
    answer = describe_json(runner, "(LiFeZnNiCoMn)3O4")
    assert answer["term"]["id"] == "hemkg:material-LiFeZnNiCoMn3O4"
    assert "hemkg:stmt-example-LiFeZnNiCoMn3O4-Zn-conversion" in {s["id"] for s in all_statements(answer)}


# ---------------------------------------------------------------- 8. installed script


def _hem_command() -> list[str]:
    script = Path(sys.executable).parent / "hem"
    if script.is_file():
        return [str(script)]
    found = shutil.which("hem")
    return [found] if found else [sys.executable, "-m", "hemkg.cli"]


def test_installed_hem_reads_packaged_data_not_cwd(runner, tmp_path):
    """The console script answers from any directory: data come from importlib.resources, not cwd."""
    # decoys: if anything were read relative to the working directory it would fail to parse
    for folder in ("kg", "ontology", "kg/generated", "kg/checks"):
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
        (tmp_path / folder / "decoy.ttl").write_text("this is not Turtle\n", encoding="utf-8")
    completed = subprocess.run(
        [*_hem_command(), "describe", "Zn", "--json"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "Traceback" not in completed.stderr
    answer = json.loads(completed.stdout)
    assert answer["term"]["id"] == "hemkg:Zn"
    assert any(s["references"] == [42] for s in group(answer, "conversion"))
    # the same answer as in this process, statement by statement
    here = describe_json(runner, "Zn")
    assert answer["term"] == here["term"] and answer["references"] == here["references"]
    assert [(g["heading"], [s["id"] for s in g["statements"]]) for g in answer["groups"]] == [
        (g["heading"], [s["id"] for s in g["statements"]]) for g in here["groups"]
    ]


def test_installed_hem_answer_is_reproducible(tmp_path):
    """Section 3.1 (ref 63): `hem describe Zn --json` gives the same answer in every run."""
    outputs = set()
    for seed in ("0", "1", "2", "3"):
        completed = subprocess.run(
            [*_hem_command(), "describe", "Zn", "--json"], cwd=tmp_path, capture_output=True, text=True,
            timeout=120, check=False, env={**os.environ, "PYTHONHASHSEED": seed},
        )
        assert completed.returncode == 0, completed.stderr
        outputs.add(completed.stdout)
    assert len(outputs) == 1


def test_python_dash_m_hemkg_runs_the_cli(tmp_path):
    """Issue 9: `python -m hemkg` is the `hem` command (same answer as `hem describe Zn --json`)."""
    via_module = subprocess.run([sys.executable, "-m", "hemkg", "describe", "Zn", "--json"], cwd=tmp_path,
                                capture_output=True, text=True, timeout=120, check=False)
    via_script = subprocess.run([*_hem_command(), "describe", "Zn", "--json"], cwd=tmp_path,
                                capture_output=True, text=True, timeout=120, check=False)
    assert via_module.returncode == 0 and via_module.stderr == "", via_module.stderr
    assert json.loads(via_module.stdout)["term"]["id"] == "hemkg:Zn" and via_module.stdout == via_script.stdout
