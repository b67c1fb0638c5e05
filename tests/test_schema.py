"""The JSON Schema of the consult answer (answers/consult.schema.json, issue 14), shipped with the package.

Every golden case of tests/cases (each anchored on a place in Huang et al., Energy Environ. Sci. 2025, 18, 10286,
or constructed for a reason it gives) is consulted and its answer validated; the schema's enumerations are the
vocabulary's, so that neither can change without the other.
"""

from __future__ import annotations

import copy
import functools
import json
import tomllib
from pathlib import Path

import jsonschema
import pytest
from conftest import run

import hemkg
from hemkg.answers.summary import SCHEMA_VERSION
from hemkg.consultation.evidence import evidence_scale
from hemkg.graph.store import package_files
from hemkg.graph.vocab import vocab

CASES = sorted((Path(__file__).parent / "cases").glob("*.toml"))


@functools.cache
def schema() -> dict:
    (path,) = package_files("answers", "consult.schema.json")
    return json.loads(path.read_text(encoding="utf-8"))


@functools.cache
def validator() -> jsonschema.Draft202012Validator:
    jsonschema.Draft202012Validator.check_schema(schema())
    return jsonschema.Draft202012Validator(schema())


def errors(answer: dict) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator().iter_errors(answer)]


@functools.cache
def answer_of(path: Path) -> dict:
    case = tomllib.loads(path.read_text(encoding="utf-8"))
    return hemkg.consult(case["formula"], case["ion"], case.get("structure"), library=False).to_dict()


def test_the_schema_is_package_data_and_names_its_version():
    """pyproject ships answers/*.json; the schema's version is the answer's."""
    import tomllib as toml

    pyproject = toml.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text(encoding="utf-8"))
    assert "answers/*.json" in pyproject["tool"]["setuptools"]["package-data"]["hemkg"]
    assert schema()["properties"]["schema_version"] == {"const": SCHEMA_VERSION}
    assert SCHEMA_VERSION in schema()["$id"]


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_every_golden_case_is_valid(path):
    """Each golden case's answer, as hem consult --json gives it, is valid under the schema."""
    answer = answer_of(path)
    assert answer["schema_version"] == SCHEMA_VERSION
    assert errors(answer) == []


def test_the_enumerations_are_the_vocabularys():
    """Statuses, evidence levels, mechanisms, roles and ions as the ontology and rules/85-evidence.toml name them."""
    defs = schema()["$defs"]
    v = vocab()
    mechanisms = [m.json_key for m in v.mechanisms]
    assert defs["mechanism_name"]["enum"] == mechanisms
    assert sorted(defs["status"]["enum"]) == sorted(t.json_key for t in v.statuses)
    assert defs["level"]["enum"] == [lv.id for lv in evidence_scale()]
    assert sorted(defs["role"]["enum"]) == sorted([*mechanisms, *(t.json_key for t in v.roles)])
    assert defs["ion"]["enum"] == list(v.ion_symbols)


@pytest.mark.parametrize(("change", "where"), [
    (lambda a: a.pop("schema_version"), ": 'schema_version' is a required property"),
    (lambda a: a.update(schema_version="0.9"), "schema_version"),
    (lambda a: a["mechanisms"]["conversion"].update(status="active"), "mechanisms/conversion/status"),
    (lambda a: a["mechanisms"]["alloying"].update(evidence="strong"), "mechanisms/alloying/evidence"),
    (lambda a: a["mechanisms"]["conversion"]["citations"].append("46"), "mechanisms/conversion/citations"),
    (lambda a: a["roles"]["Mg"].append("converter"), "roles/Mg"),
    (lambda a: a["effects"][0].update(direction="up"), "effects/0/direction"),
    (lambda a: a["theoretical_capacity"].update(total=-1), "theoretical_capacity/total"),
    (lambda a: a.update(composition={"Mg": 0}), "composition/Mg"),
    (lambda a: a.update(extra=1), ": Additional properties are not allowed ('extra'"),
])
def test_a_broken_answer_is_invalid(change, where):
    """The schema can fail: each change to (MgCoNiCuZn)O's answer (Section 3.1, ref 48) is reported where it is."""
    answer = copy.deepcopy(answer_of(next(p for p in CASES if p.stem == "paper-mgconicuzno-li")))
    change(answer)
    found = errors(answer)
    assert found and any(e.startswith(where) for e in found), found


def test_an_answer_with_a_library_is_valid(own_library, runner):
    """With the example library (examples/findings.csv: the Joule-heated rock-salt HEO, doi:10.26599/nr.2025.94907784,
    finds Zn a stabilizer where Fig. 6a puts it on Plane A and B), the answer's library section and its library
    reports are valid; a library section that is not a list is not."""
    examples = Path(__file__).resolve().parent.parent / "examples" / "findings.csv"
    assert run(runner, "evidence", "add", str(examples)).exit_code == 0
    answer = hemkg.consult("(FeCoNiCuZn)O", "Li").to_dict()
    assert answer["library"] and errors(answer) == []
    answer["library"] = {"findings": answer["library"]}
    assert any(e.startswith("library") for e in errors(answer))
