"""`hem kg validate FILE` on odd user files (issue 10): each is a one-line user error (exit 2), never a
traceback, a "conforms" over data SHACL could not read, or "this is a bug in hemkg"."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import assert_one_line_error, run

from hemkg.graph import checks
from hemkg.graph import store as kgstore

PREFIXES = ("@prefix hem: <https://w3id.org/hemkg/ontology#> .\n@prefix hemkg: <https://w3id.org/hemkg/kg/> .\n"
            "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n")


CONFORMING = 'hemkg:Zn rdfs:comment "mine" .\n'


def turtle(tmp_path: Path, body: str, name: str = "mine.ttl", bom: bool = False) -> Path:
    path = tmp_path / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + (PREFIXES + body).encode("utf-8"))
    return path


def validate(runner, *args: str):
    return run(runner, "kg", "validate", *args)


def test_a_5000_digit_integer_is_a_user_error(runner, tmp_path):
    """Before: a traceback from rdflib, then 'conforms'."""
    path = turtle(tmp_path, f"hemkg:x hem:note {'9' * 5000} .\n")
    line = assert_one_line_error(validate(runner, str(path)))
    assert line == "error: cannot read mine.ttl line 5: an integer of 5,000 digits, more than the 4,300 hemkg reads"


@pytest.mark.parametrize("literal, says", [
    ('"abc"^^xsd:integer', "'abc' is not a valid xsd:integer"),
    ('"2020-13-45"^^xsd:date', "'2020-13-45' is not a valid xsd:date"),
    ('"zz"^^xsd:hexBinary', "'zz' is not a valid xsd:hexBinary"),
    ('"x"^^xsd:boolean', "'x' is not a valid xsd:boolean"),
])
def test_an_ill_typed_literal_is_a_user_error(runner, tmp_path, literal, says):
    """rdflib logged a traceback for each and SHACL went on without its value."""
    path = turtle(tmp_path, f"hemkg:x hem:note\n    {literal} .\n")
    assert assert_one_line_error(validate(runner, str(path))) == f"error: cannot read mine.ttl line 6: {says}"


def test_a_bom_prefixed_file_is_read(runner, tmp_path):
    """A UTF-8 byte-order mark, as editors write it, is dropped (before: refused, quoting the invisible mark)."""
    path = turtle(tmp_path, CONFORMING, bom=True)
    result = validate(runner, str(path))
    assert result.exit_code == 0 and "conforms" in result.stdout


def test_an_invisible_character_is_named_in_words(runner, tmp_path):
    path = turtle(tmp_path, "hemkg:x\u200b hem:note 1 .\n")
    line = assert_one_line_error(validate(runner, str(path)))
    assert "U+200B" in line and line.isprintable()


def test_a_utf16_file_says_so(runner, tmp_path):
    path = tmp_path / "mine.ttl"
    path.write_bytes((PREFIXES + "hemkg:x hem:note 1 .\n").encode("utf-16"))
    assert assert_one_line_error(validate(runner, str(path))) == (
        f"error: '{path}' is UTF-16 text (it starts with a UTF-16 byte-order mark)")


def test_statements_that_build_statements_are_a_user_error(runner, tmp_path):
    """Found by fuzzing small files: a chain of statements each completing the next one's triples kept the
    entailment rules going past their pass limit, reported as 'RuntimeError ... this is a bug in hemkg'."""
    lines = ["hemkg:s1 hem:subject hemkg:s2 ; hem:predicate hem:object ; hem:object hemkg:z ."]
    lines += [f"hemkg:s{i} hem:subject hemkg:s{i + 1} ; hem:predicate hem:object ." for i in range(2, 14)]
    path = turtle(tmp_path, "\n".join(lines) + "\n")
    assert len(path.read_text(encoding="utf-8").splitlines()) == 17  # as the file
    line = assert_one_line_error(validate(runner, str(path)))
    assert line == "error: the triples of mine.ttl keep the entailment rules adding triples for more than 10 passes"


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(runner, tmp_path, monkeypatch):
    """A 2 GB file used to be read whole (2.1 GB of memory): its size is checked first (here a sparse file)."""
    path = tmp_path / "huge.ttl"
    with path.open("wb") as f:
        f.truncate(2_000_000_000)

    def no_reading(*args, **kwargs):
        raise AssertionError("the file was opened")

    monkeypatch.setattr(kgstore, "open", no_reading, raising=False)
    line = assert_one_line_error(validate(runner, str(path)))
    assert line == f"error: '{path}' is 2,000,000,000 bytes, more than the 50,000,000 a file to check may be"
    small = turtle(tmp_path, "hemkg:x hem:note 1 .\n")
    assert "more than the 100 a file" in assert_one_line_error(validate(runner, "--max-bytes", "100", str(small)))


def test_max_bytes_raises_the_limit(runner, tmp_path):
    path = turtle(tmp_path, CONFORMING * 20)
    assert os.path.getsize(path) > 300
    assert assert_one_line_error(validate(runner, "--max-bytes", "300", str(path))).startswith(f"error: '{path}' is ")
    assert validate(runner, "--max-bytes", "100000000", str(path)).exit_code == 0


def test_help_states_the_default_limit(runner):
    text = " ".join(run(runner, "kg", "validate", "--help").stdout.split())
    assert f"(default {kgstore.MAX_USER_FILE_BYTES:,})" in text


def test_a_refused_file_leaves_the_graph_unchanged(tmp_path):
    before = len(kgstore.knowledge_graph())
    with pytest.raises(kgstore.GraphLoadError):
        checks.validate([turtle(tmp_path, f"hemkg:Zn hem:note {'9' * 5000} .\n")])
    assert len(kgstore.knowledge_graph()) == before and checks.validate() == []


ODD = ['"1e999"^^xsd:double', '"x"@a-b-c-d-e-f-g', '"x"@123', '<http://ex.org/a b>', '"\\u0000"', '( 1 2 )',
       '"NaN"^^xsd:float', '"1"^^<http://example.org/odd datatype>']


@pytest.mark.parametrize("value", ODD)
def test_odd_small_files_get_an_answer_not_a_traceback(runner, tmp_path, value):
    """Small odd inputs from the fuzz that found the pass-limit bug: an answer (0 or 1) or one error line."""
    result = validate(runner, str(turtle(tmp_path, f"hemkg:x hem:note {value} .\n")))
    assert result.exit_code in (0, 1, 2) and "Traceback" not in result.stderr and "bug in hemkg" not in result.stderr
    if result.exit_code == 2:
        assert_one_line_error(result)
