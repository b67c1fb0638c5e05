"""Formula parsing: compositions, carbon-framework suffixes, case-slip warnings and one-line errors."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from hemkg.consultation.formula import FRAMEWORKS, ParsedFormula, parse_formula
from hemkg.errors import FormulaError

EXAMPLES = {
    # a bracket of bare cation symbols is one site shared equally, as HEM papers write it
    "(MgCoNiCuZn)O": {"Mg": 0.2, "Co": 0.2, "Ni": 0.2, "Cu": 0.2, "Zn": 0.2, "O": 1},
    "(Mg0.2Co0.2Ni0.2Cu0.2Zn0.2)O": {"Mg": 0.2, "Co": 0.2, "Ni": 0.2, "Cu": 0.2, "Zn": 0.2, "O": 1},
    "(LiFeZnNiCoMn)3O4": {"Li": 0.5, "Fe": 0.5, "Zn": 0.5, "Ni": 0.5, "Co": 0.5, "Mn": 0.5, "O": 4},
    "Cu0.88Sn0.02Sb0.02Bi0.02Mn0.02S0.9Se0.1": {
        "Cu": 0.88, "Sn": 0.02, "Sb": 0.02, "Bi": 0.02, "Mn": 0.02, "S": 0.9, "Se": 0.1,
    },
    "GaCuZnInGeSiP6": {"Ga": 1, "Cu": 1, "Zn": 1, "In": 1, "Ge": 1, "Si": 1, "P": 6},
    "Sb1.4Bi0.2Sn0.2Co0.1Mn0.1Te3": {"Sb": 1.4, "Bi": 0.2, "Sn": 0.2, "Co": 0.1, "Mn": 0.1, "Te": 3},
    "SiGeSnSbBi": {"Si": 1, "Ge": 1, "Sn": 1, "Sb": 1, "Bi": 1},
    "(Mg0.2Co0.2Ni0.2Cu0.2Zn0.2)3O4": {"Mg": 0.6, "Co": 0.6, "Ni": 0.6, "Cu": 0.6, "Zn": 0.6, "O": 4},
    "[MgCo]O": {"Mg": 0.5, "Co": 0.5, "O": 1},
    "MgO·H2O": {"Mg": 1, "O": 2, "H": 2},
    "CuSO4·5H2O": {"Cu": 1, "S": 1, "O": 9, "H": 10},  # a leading count multiplies its whole '·' part
    "NiO·2Co(OH)2": {"Ni": 1, "O": 5, "Co": 2, "H": 4},
    "MgO · 0.5 H2O": {"Mg": 1, "O": 1.5, "H": 1},
    "((Mg)2O)3": {"Mg": 6, "O": 3},
    "Mg.5O": {"Mg": 0.5, "O": 1},
    "Mg2.O": {"Mg": 2, "O": 1},  # chemparse alone would drop what follows '2.'
    "RfO2": {"Rf": 1, "O": 2},  # a real element: consult, not the parser, refuses it for want of data
}


def assert_composition(parsed: ParsedFormula, expected: dict[str, float]) -> None:
    assert list(parsed.composition) == list(expected)  # order of first appearance
    assert parsed.composition == pytest.approx(expected, rel=1e-12)
    assert all(isinstance(v, float) for v in parsed.composition.values())


def raises(text: str) -> FormulaError:
    with pytest.raises(FormulaError) as info:
        parse_formula(text)
    err = info.value
    line = str(err)
    assert "\n" not in line and "\r" not in line
    assert line.startswith(err.message)
    if err.position is not None:
        assert f" at position {err.position} (" in line
    if err.hint:
        assert line.endswith(f": {err.hint}")
    return err


@pytest.mark.parametrize("text", list(EXAMPLES))
def test_example_compositions(text):
    """Each example formula parses to its composition, in order of first appearance."""
    parsed = parse_formula(text)
    assert_composition(parsed, EXAMPLES[text])
    assert parsed.text == text and parsed.active == text
    assert parsed.framework is None and parsed.warnings == ()


def test_text_is_stripped():
    """Surrounding whitespace is dropped from text and active."""
    parsed = parse_formula("  SiGeSnSbBi \n")
    assert parsed.text == parsed.active == "SiGeSnSbBi"


@pytest.mark.parametrize(
    "text, active, framework, expected",
    [
        ("FeS/C", "FeS", "C", {"Fe": 1, "S": 1}),
        ("(MgCoNiCuZn)O@C", "(MgCoNiCuZn)O", "C", EXAMPLES["(MgCoNiCuZn)O"]),
        ("SnO2/rGO", "SnO2", "rGO", {"Sn": 1, "O": 2}),
        ("SnO2 / graphene", "SnO2", "graphene", {"Sn": 1, "O": 2}),
        ("FeS@cnts", "FeS", "CNTs", {"Fe": 1, "S": 1}),
        ("Fe3O4/NC", "Fe3O4", "NC", {"Fe": 3, "O": 4}),
    ],
)
def test_composite_suffix(text, active, framework, expected):
    """'X/Y' and 'X@Y' with a known carbon framework split into active part and framework."""
    parsed = parse_formula(text)
    assert (parsed.active, parsed.framework) == (active, framework)
    assert_composition(parsed, expected)


def test_unknown_suffix():
    """An unknown framework is named, with the known ones listed, at its position."""
    err = raises("FeS/C3N4")
    assert err.position == 4 and "'C3N4'" in err.message
    assert all(f in err.hint for f in FRAMEWORKS)


@pytest.mark.parametrize(
    "text, position, fragment",
    [
        ("FeS/", 4, "missing carbon framework"),
        ("/C", 0, "missing active material"),
        ("FeS/C@rGO", 5, "only one"),
    ],
)
def test_suffix_errors(text, position, fragment):
    """A suffix without framework or active part, or a second suffix, is an error."""
    err = raises(text)
    assert err.position == position and fragment in err.message


@pytest.mark.parametrize("text", ["", "   ", "\t\n"])
def test_empty(text):
    """Empty or whitespace-only input says so and gives an example."""
    err = raises(text)
    assert err.message == "empty formula" and err.position is None and "(MgCoNiCuZn)O" in err.hint


def test_length_limit():
    """200 characters parse; 201 give an error naming the length and the limit."""
    assert parse_formula("MgO" * 66 + "Mg").composition == {"Mg": 67.0, "O": 66.0}
    err = raises("MgO" * 67)
    assert "201" in err.message and "200" in err.message


@pytest.mark.parametrize(
    "text, position, fragment",
    [
        ("Mg$O", 2, "character '$'"),
        ("Fe₂O3", 2, "character '₂'"),
        ("Mg+2O", 2, "'+' is not allowed"),
        ("MgO-", 3, "'-' is not allowed"),
        ("Fe-doped MoS2", 2, "doped"),
        ("Fe doped MoS2", 3, "doped"),
    ],
)
def test_disallowed_characters(text, position, fragment):
    """Characters, signs and doping names outside the notation are errors at their position."""
    err = raises(text)
    assert err.position == position and fragment in err.message


@pytest.mark.parametrize(
    "text, position, hint",
    [
        ("((MgCo)O", 0, "close every '(' with ')'"),
        ("(MgCoNiCuZn(O", 11, "close every '(' with ')'"),
        ("(MgCo))O", 6, "close every '(' with ')'"),
        ("[MgCo O", 0, "close every '[' with ']'"),
        ("(Mg]O", 3, "close the '(' at position 0 with ')'"),
    ],
)
def test_unbalanced_brackets(text, position, hint):
    """An unmatched bracket is reported at its own position."""
    err = raises(text)
    assert err.position == position and err.hint == hint


@pytest.mark.parametrize(
    "text, position, symbol, suggestion",
    [
        ("Xx2O", 0, "Xx", "'Xe'"),
        ("(MgCoNiCuZm)O", 9, "Zm", "'Zn'"),
        ("MGO", 0, "M", "'Mg'"),
    ],
)
def test_unknown_element(text, position, symbol, suggestion):
    """An unknown symbol is reported at its position with close real symbols."""
    err = raises(text)
    assert err.position == position and f"'{symbol}'" in err.message and suggestion in err.hint


@pytest.mark.parametrize(
    "text, position, fragment",
    [
        ("D2O", 0, "isotope"),
        ("TIO2", 0, "isotope"),  # and the hint suggests Ti
        ("mgO", 0, "lowercase"),  # chemparse would take 'mg' for a symbol
        ("SnO2 rGO", 5, "lowercase"),
        ("Mg.O", 2, "'.'"),
        ("Mg2.5.3O", 5, "follows another number"),
        ("Mg01O", 2, "leading zero"),
    ],
)
def test_notation_errors(text, position, fragment):
    """Isotopes, lowercase starts, stray dots and run-together numbers are errors at their position."""
    err = raises(text)
    assert err.position == position and fragment in err.message


def test_error_hints_suggest_fixes():
    """Hints name the likely intended spelling."""
    assert "'Ti'" in raises("TIO2").hint
    assert "'Mg'" in raises("mgO").hint
    assert "SnO2/rGO" in raises("SnO2 rGO").hint


@pytest.mark.parametrize("text, position", [
    ("Mg 2", 3), ("()", 0), ("2", 0),
    ("Mg 2O", 3), ("(Mg) 2", 5), ("(2Mg)O", 1),  # a number counts what is right before it, or leads a '·' part
    ("Mg(Co())", 5), ("Mg[]O", 2),  # empty brackets
    ("MgO·", 3), ("·MgO", 0), ("Mg··O", 2), ("MgO·2", 4),  # empty '·' parts
    ("(Mg·Co)O", 3),  # '·' joins whole parts only
])
def test_parser_errors_keep_position(text, position):
    """Text the notation cannot read is an error at the token where reading stops."""
    err = raises(text)
    assert err.position == position and err.message.startswith("cannot read the formula")


@pytest.mark.parametrize("text, position, what", [
    ("Fe2O3 ZnO", 5, "a space"), ("Mg O2", 2, "a space"), ("(Mg Co Ni Cu Zn) O", 3, "a space"),
    ("Fe2O3\nZnO", 5, "a line break"), ("Fe2O3\tZnO", 5, "a tab"), ("Fe2O3\u2028ZnO", 5, "U+2028"), ("(Mg )O", 3, "a space"),
])
def test_whitespace_inside_a_formula_is_an_error(text, position, what):
    """Whitespace between the symbols of a formula is an error that says so (issue 10: 'Fe2O3 ZnO' and a line
    break in a CSV field were read as one composition); it may still stand around '·', '/' and '@'."""
    err = raises(text)
    assert err.position == position and err.message == f"whitespace ({what}) inside the formula"
    assert "without spaces" in err.hint


@pytest.mark.parametrize("text, expected, note", [
    ("CuSO4.5H2O", {"Cu": 1, "S": 1, "O": 9, "H": 10}, "'.5H2O' at position 5 is read as water of hydration, 5 H2O"),
    ("CaSO4.0.5H2O", {"Ca": 1, "S": 1, "O": 4.5, "H": 1}, "'.0.5H2O' at position 5 is read as water of hydration, 0.5 H2O"),
    ("CuSO4.H2O/C", {"Cu": 1, "S": 1, "O": 5, "H": 2}, "'.H2O' at position 5 is read as water of hydration, 1 H2O"),
    ("CuSO4·5H2O", {"Cu": 1, "S": 1, "O": 9, "H": 10}, None),
    ("Mg0.5H2O", {"Mg": 0.5, "H": 2, "O": 1}, None),  # after a number starting with 0, '.' is a decimal point
    ("Mg2.5O", {"Mg": 2.5, "O": 1}, None),
])
def test_hydrate_dot_is_read_as_a_hydrate_with_a_note(text, expected, note):
    """'CuSO4.5H2O' is CuSO4 with 5 H2O, said in a note (before: silently O5.5, one H2O); '·' needs no note."""
    parsed = parse_formula(text)
    assert parsed.composition == pytest.approx(expected) and parsed.text == text
    hydration = [n for n in parsed.notes if "hydration" in n]
    assert (len(hydration) == 1 and hydration[0].startswith(note)) if note else hydration == []


@pytest.mark.parametrize("text, position", [("Mg0O", 2), ("Mg0.0O", 2), ("(MgCo)0O", 6), ("Mg-1O", 2)])
def test_amount_must_be_positive(text, position):
    """Zero and negative amounts are errors at the number."""
    err = raises(text)
    assert err.position == position and "amount must be positive" in err.message


@pytest.mark.parametrize("text, position", [("Mg2000O", 2), ("(Mg100)20O", 1)])
def test_enormous_amount(text, position):
    """Amounts above 1000, typed or multiplied out, are errors."""
    err = raises(text)
    assert err.position == position and "1000" in err.message


@pytest.fixture
def unparsed():
    """No formula kept parsed (parse_formula keeps each text's result): a test that fakes the parser sees it used."""
    from hemkg.consultation import formula

    formula._parsed.cache_clear()
    yield
    formula._parsed.cache_clear()


def test_a_kept_parse_hands_each_caller_its_own_composition():
    """parse_formula keeps what it parsed per text; a caller changing its composition changes no one else's
    ((MgCoNiCuZn)O, Section 3.1's rock-salt HEO), and a refused text is refused again."""
    first = parse_formula("(MgCoNiCuZn)O")
    first.composition["Mg"] = 9.0
    del first.composition["O"]
    again = parse_formula("(MgCoNiCuZn)O")
    assert_composition(again, EXAMPLES["(MgCoNiCuZn)O"])
    assert again.composition is not first.composition
    for _ in range(2):
        assert raises("Xx2O").position == 0


def test_non_finite_amount(monkeypatch, unparsed):
    """A non-finite amount from the parser is an error (the text cannot spell one, so fake the parser)."""
    import chemparse

    real = chemparse.parse_formula
    monkeypatch.setattr(chemparse, "parse_formula", lambda text: {sym: float("inf") for sym in real(text)})
    err = raises("MgO")
    assert "not a finite number" in err.message and err.position == 0


def test_parser_disagreeing_with_the_checked_text(monkeypatch, unparsed):
    """Should chemparse ever read other symbols than the checked text holds, that is an error, not a composition."""
    import chemparse

    monkeypatch.setattr(chemparse, "parse_formula", lambda text: {"M": 1.0, "gO": 1.0})
    assert "chemparse read" in raises("MgO").message


def test_element_symbols_come_from_generated_data():
    """Symbols, names and atomic numbers are read from kg/generated/elements.json: all 118 elements."""
    from hemkg.consultation.formula import _elements

    elements = _elements()
    assert len(elements) == 118 and list(elements)[:3] == ["H", "He", "Li"]
    assert elements["Co"] == (27, "cobalt") and elements["Og"][0] == 118
    assert "D" not in elements and "T" not in elements


def test_case_slip_warning():
    """'CO' parses as carbon and oxygen, with a warning that cobalt is written 'Co'."""
    parsed = parse_formula("(MgCONiCuZn)O")
    assert_composition(parsed, {"Mg": 1, "C": 1, "O": 2, "Ni": 1, "Cu": 1, "Zn": 1})
    assert parsed.warnings == ("'CO' at position 3 was read as C and O; if you meant cobalt write 'Co'",)


@pytest.mark.parametrize("text, element", [("NIO", "nickel"), ("SNO2", "tin"), ("CUO", "copper")])
def test_other_case_slips(text, element):
    """Other uppercase pairs that title-case to a real element warn."""
    (warning,) = parse_formula(text).warnings
    assert warning.startswith(f"'{text[:2]}' at position 0") and element in warning


@pytest.mark.parametrize("text", ["(MgCoNiCuZn)O", "LiFePO4", "LiNO3", "Fe2O3"])
def test_no_spurious_case_slip(text):
    """No warning where no pair title-cases to a stable element (PO is polonium, NO nobelium)."""
    assert parse_formula(text).warnings == ()


def test_error_str_is_one_line():
    """str() stays on one line even when the text holds a newline."""
    err = raises("Mg$\nCo")
    assert err.position == 2 and "('$\\nCo')" in str(err)


def test_error_is_value_error_with_fields():
    """FormulaError is a ValueError carrying text, position, message and hint."""
    err = raises("Xx2O")
    assert isinstance(err, ValueError)
    assert (err.text, err.position) == ("Xx2O", 0)
    assert str(err) == f"{err.message} at position 0 ('Xx2O'): {err.hint}"


def test_parsed_formula_is_frozen():
    """ParsedFormula cannot be reassigned."""
    parsed = parse_formula("FeS/C")
    with pytest.raises(dataclasses.FrozenInstanceError):
        parsed.framework = "rGO"


def test_import_is_lazy():
    """Importing hemkg.consultation.formula imports no parser (the CLI must start fast); parsing never needs pyparsing."""
    code = ("import sys, hemkg.consultation.formula; print('chemparse' in sys.modules); hemkg.consultation.formula.parse_formula('(MgCoNiCuZn)O'); "
            "print('chemparse' in sys.modules, 'periodictable' in sys.modules, 'pyparsing' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "True", "False", "False"]


@pytest.mark.parametrize("text, expected", [
    ("Ca(OH)2", {"Ca": 1, "O": 2, "H": 2}),
    ("K4Fe(CN)6", {"K": 4, "Fe": 1, "C": 6, "N": 6}),
    ("(MgCo)2O3", {"Mg": 1, "Co": 1, "O": 3}),
])
def test_equimolar_site_only_for_bare_cation_groups(text, expected):
    """'(OH)2' and '(CN)6' keep their meaning; only brackets of bare cation symbols share one site."""
    parsed = parse_formula(text)
    assert parsed.composition == pytest.approx(expected)
    assert bool(parsed.notes) == (text == "(MgCo)2O3")
