"""The errors a user can meet live in one module, hemkg/errors.py (issue 9).

Each carries the message a user acts on and a hint; `hem` prints both as one
line each and exits 2, and says "this is a bug in hemkg" only for what is not
a HemkgError.
"""

from __future__ import annotations

import ast
import inspect
import pickle
from pathlib import Path

import pytest
from conftest import assert_one_line_error, run

from hemkg import errors
from hemkg.answers import describe as d

PACKAGE = Path(__file__).resolve().parent.parent
NOT_CODE = {"tests", "benchmarks", "examples", "build", "dist"}
# Exceptions that are not the user's to fix, kept beside the code that raises them.
INTERNAL = {
    "sparql/endpoint.py": {"HttpError"},  # an HTTP status on its way to the client, never shown by `hem`
    "graph/store.py": {"EntailmentLimit"},  # the packaged graph's entailment not settling: a bug
}


def error_classes_outside_errors_module() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] in NOT_CODE or relative.as_posix() == "errors.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                    (b.id if isinstance(b, ast.Name) else b.attr if isinstance(b, ast.Attribute) else "").endswith(
                        ("Error", "Exception")) for b in node.bases):
                if node.name not in INTERNAL.get(relative.as_posix(), set()):
                    found.append(f"{relative}:{node.lineno} class {node.name}")
    return found


def test_every_user_facing_error_type_is_defined_in_errors_py():
    assert error_classes_outside_errors_module() == [], "move these to hemkg/errors.py (or list them in INTERNAL with why)"


def test_a_planted_error_class_is_found(tmp_path, monkeypatch):
    (tmp_path / "graph").mkdir()
    (tmp_path / "graph" / "x.py").write_text("class TermError(ValueError):\n    pass\n")
    monkeypatch.setattr(__import__(__name__), "PACKAGE", tmp_path)
    assert error_classes_outside_errors_module() == ["graph/x.py:1 class TermError"]


ERROR_TYPES = [cls for _, cls in inspect.getmembers(errors, inspect.isclass)
               if issubclass(cls, errors.HemkgError) and cls.__module__ == "hemkg.errors"]


def _example(cls: type[errors.HemkgError]) -> errors.HemkgError:
    if cls is errors.FormulaError:
        return cls("unknown element 'Xx'", text="XxO", position=0, hint="write element symbols as in the periodic table")
    if cls is errors.UnknownTerm:
        return cls("Znn", ["Zn"], "a typo?")
    if cls is errors.QuerySyntaxError:
        return cls("expected WHERE", 1, 9)
    if cls is errors.UnsuitableFormat:
        return cls("construct", "csv", ("ttl", "nt"))
    return cls(f"{cls.__name__} happened", "do this instead")


@pytest.mark.parametrize("cls", ERROR_TYPES, ids=lambda c: c.__name__)
def test_each_error_survives_a_trip_between_processes(cls):
    """Query children and screening workers send errors to their parent by pickle: class, message, hint kept."""
    err = _example(cls)
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is cls and str(back) == str(err) and back.hint == err.hint and back.__dict__ == err.__dict__
    assert str(err) and "\n" not in str(err)


def test_errors_are_also_the_built_in_types_callers_expect():
    assert issubclass(errors.FormulaError, ValueError) and issubclass(errors.InputError, ValueError)
    assert issubclass(errors.UnknownTerm, LookupError) and issubclass(errors.QueryError, ValueError)


def test_a_hemkg_error_from_any_command_is_a_one_line_user_error(runner, monkeypatch):
    """Raised deep inside a command, a HemkgError still reaches the user as error + hint, exit 2, no 'bug'."""
    def refuse(text):
        raise errors.GraphLoadError("kg/elements.ttl line 3: bad IRI", "fix the IRI")

    monkeypatch.setattr(d, "describe", refuse)
    result = run(runner, "describe", "Zn")
    line = assert_one_line_error(result)
    assert line == "error: kg/elements.ttl line 3: bad IRI" and "hint: fix the IRI" in result.stderr
    assert "bug" not in result.stderr


def test_anything_else_is_reported_as_a_bug(runner, monkeypatch):
    def broken(text):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(d, "describe", broken)
    result = run(runner, "describe", "Zn")
    assert_one_line_error(result)
    assert "this is a bug in hemkg" in result.stderr


def test_a_formula_error_gives_its_hint_once(runner, tmp_path):
    """A formula error reaching the command group (hem plot capacity) prints what is wrong on the error line and
    the fix on the hint line, not both on both: 'Xx' is no element (the paper's formulas, Table 1, use symbols)."""
    line = assert_one_line_error(run(runner, "plot", "capacity", "Xx2O", "-o", str(tmp_path / "c.png")))
    hint = run(runner, "plot", "capacity", "Xx2O", "-o", str(tmp_path / "c.png")).stderr.splitlines()[1]
    assert "'Xx'" in line and "did you mean" not in line
    assert hint.startswith("hint: ") and "'Xe'" in hint
    assert str(errors.FormulaError("no", text="Xx", position=0, hint="fix")).endswith(": fix")  # str() keeps it
