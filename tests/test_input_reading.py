"""Input read as the user wrote it (issue 10): `hem consult --input` keeps one record per input line,
whatever characters a line holds, and formulas are read as typed, never merged or guessed."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import assert_one_line_error, run
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hemkg.consultation import batch
from hemkg.consultation.consultation import Structure

# What str.splitlines() also splits at, besides \n and \r\n
ODD_BREAKS = ["\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\r"]
PIECES = ["MgO", "Fe2O3", "(MgCoNiCuZn)O", "SnO2/C", "Xq2O3", " ", "#", *ODD_BREAKS]


def candidates(path: Path) -> list[batch.Candidate]:
    return list(batch.read_candidates(path, "Li", Structure()))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.lists(st.sampled_from(PIECES), max_size=4).map("".join), min_size=1, max_size=6),
       endings=st.lists(st.sampled_from(["\n", "\r\n"]), min_size=6, max_size=6))
def test_every_record_is_one_input_line_with_its_number(tmp_path, lines, endings):
    """Fuzzed lines holding U+2028, U+2029, \\x85, \\x0b, \\x0c, \\x1c-\\x1e and \\r: one record per line that is
    not blank or a comment, carrying that line's number and text (before: 152 of 5,000 lines were split)."""
    path = tmp_path / "candidates.txt"
    path.write_bytes("".join(line + end for line, end in zip(lines, endings)).encode("utf-8"))
    expected = [(n, line.strip()) for n, line in enumerate(lines, start=1) if line.strip() and not line.strip().startswith("#")]
    assert [(c.line, c.text) for c in candidates(path)] == expected


def test_a_line_with_a_line_separator_is_one_error_on_its_own_line(runner, tmp_path):
    path = tmp_path / "candidates.txt"
    path.write_text("MgO\u2028ZnO\n(MgCoNiCuZn)O\n", encoding="utf-8")
    result = run(runner, "consult", "--input", str(path), "--json")
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["line"] for r in records] == [1, 2] and "whitespace (U+2028) inside the formula" in records[0]["error"]
    assert records[1]["formula"] == "(MgCoNiCuZn)O" and result.exit_code == 1


def test_whitespace_inside_a_formula_argument_is_an_error(runner):
    """`hem consult "Fe2O3 ZnO"` used to consult one merged composition, FeZnO4."""
    line = assert_one_line_error(run(runner, "consult", "Fe2O3 ZnO"))
    assert line.startswith("error: formula 'Fe2O3 ZnO': whitespace (a space) inside the formula at position 5")


def test_a_line_break_in_a_csv_field_is_an_error_on_its_line(tmp_path):
    """A quoted field running over a line break merged two formulas into one composition; now its line is an
    error that says the quote is not closed, and the records after it are read as they are."""
    path = tmp_path / "candidates.csv"
    path.write_text('formula,ion\n"Fe2O3\nZnO",Li\nMgO,Na\n', encoding="utf-8")
    first, second, third = candidates(path)
    assert (first.line, first.consultation) == (2, None)
    assert first.error.startswith("malformed CSV record (a quote opens a field that this line does not close)")
    assert (second.line, second.consultation) == (3, None) and "stray quote" in second.error
    assert third.line == 4 and third.consultation is not None and third.consultation.ion == "Na"


def test_one_stray_quote_spoils_only_its_own_record(tmp_path):
    """Before: one stray quote swallowed 990 of 1,000 records into one error."""
    rows = [f"{'MgO' if i % 2 else 'ZnO'},Li" for i in range(40)]
    rows[9] = '"MgO,Li'
    path = tmp_path / "candidates.csv"
    path.write_text("formula,ion\n" + "\n".join(rows) + "\n", encoding="utf-8")
    found = candidates(path)
    assert [c.line for c in found] == list(range(2, 42))
    assert [c.line for c in found if c.error] == [11]
    assert found[9].text == '"MgO,Li' and "write a quote inside a quoted field twice" in found[9].error


def test_cli_names_the_malformed_record_and_how_to_fix_it(runner, tmp_path):
    path = tmp_path / "candidates.csv"
    path.write_text('formula,ion\nMgO,Li\n"ZnO,Li\n', encoding="utf-8")
    result = run(runner, "consult", "--input", str(path))
    assert result.exit_code == 1
    (line,) = [l for l in result.stderr.splitlines() if l.startswith("error:")]
    assert line.startswith("error: candidates.csv line 3: malformed CSV record (a quote opens a field that this line "
                           "does not close): quote a whole field or none of it")
