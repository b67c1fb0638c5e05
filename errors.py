"""Every error a user can meet, in one place, each saying what is wrong and what to do next.

A `HemkgError` is the user's to fix (a formula, a file, a query, an option, a
term): `hem` prints its message as one `error:` line and its `hint` as one
`hint:` line, and exits 2. Any other exception that escapes a command is a bug
in hemkg, and only then does `hem` say so. Each class also derives from the
built-in type a caller would expect (ValueError, LookupError, RuntimeError),
so `except ValueError` in a notebook keeps working.

This module sits below every layer: any module may raise these.
"""

from __future__ import annotations

from typing import Any


class HemkgError(Exception):
    """Something the user gave cannot be used; `hint` says how to fix it."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def headline(self) -> str:
        """What is wrong, in one line, without the hint (the CLI prints the hint on a line of its own)."""
        return str(self)

    def __reduce__(self) -> tuple[Any, ...]:
        # Errors travel from a query's or a worker's child process to its parent: keep the class,
        # the message and every attribute, whatever the subclass's constructor takes.
        return _rebuild, (type(self), self.args, self.__dict__)


def _rebuild(cls: type[HemkgError], args: tuple[Any, ...], state: dict[str, Any]) -> HemkgError:
    err = cls.__new__(cls)
    err.args = args
    err.__dict__.update(state)
    return err


# ------------------------------------------------------------------ what the user types or gives as a file

class InputError(HemkgError, ValueError):
    """A value given on the command line or to the API: an ion, an option, a structure field."""


class InputTypeError(HemkgError, TypeError):
    """A value of a type the API cannot take (a candidate that is neither a formula, a mapping nor a Composition)."""


class FormulaError(InputError):
    """A formula that cannot be read; str() is one line: message, position, context, hint."""

    def __init__(self, message: str, *, text: str = "", position: int | None = None, hint: str = "") -> None:
        self.text = text
        self.position = position
        super().__init__(message, hint)
        self.args = (str(self),)

    def __str__(self) -> str:
        return self.headline() + (one_line(f": {self.hint}") if self.hint else "")

    def headline(self) -> str:
        out = self.message
        if self.position is not None:
            context = self.text[self.position : self.position + 12]
            if self.position + 12 < len(self.text):
                context += "..."
            out += f" at position {self.position} " + (f"('{context}')" if context else "(end of text)")
        return one_line(out)


def one_line(text: str) -> str:
    """One line whatever the user typed: line breaks and other control whitespace escaped."""
    return "".join(c.encode("unicode_escape").decode() if c.isspace() and c != " " else c for c in text)


class BatchFileError(InputError):
    """An `--input` file that cannot be read as candidates."""


class ScreenError(InputError):
    """A `hem screen` space or option that cannot be screened."""


class ExportError(InputError):
    """Something the user asked to export that cannot be exported."""


class OutputError(InputError):
    """A target (`-o`) that cannot be written."""


class UnknownTerm(HemkgError, LookupError):
    """The text names nothing in the graph; `suggestions` holds close matches."""

    def __init__(self, text: str, suggestions: list[str], reason: str = "") -> None:
        super().__init__(text)
        self.text = text
        self.suggestions = suggestions
        self.reason = reason


# ------------------------------------------------------------------ warnings of the API (the call goes on)

class HemkgWarning(UserWarning):
    """Something a caller of the Python API should know about what was given; the answer still comes."""


class CompositionWarning(HemkgWarning):
    """A pymatgen Composition whose amounts the HEM bracket convention would read differently."""


# ------------------------------------------------------------------ data files: the graph, the rules

class GraphLoadError(HemkgError):
    """A data file could not be read; the message names the file (and line), `hint` how to fix it."""

    SYNTAX_HINT = "fix the Turtle syntax at that line (every statement ends with ' .')"

    def __init__(self, message: str, hint: str = SYNTAX_HINT) -> None:
        super().__init__(message, hint)


class RuleFileError(HemkgError, ValueError):
    """A rule file is malformed; the message names the file, rule id and fix."""


# ------------------------------------------------------------------ queries

class QueryError(HemkgError, ValueError):
    """A query that cannot run."""


class QueryRefused(QueryError):
    """The query would write, or reach outside the process."""


class QuerySyntaxError(QueryError):
    """The query does not parse; `line` and `column` say where."""

    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(f"syntax error at line {line}, column {column}: {message}",
                         "the project's prefixes (hem:, hemkg:, ref:, skos:, ...) are predeclared")
        self.line, self.column = line, column


class QueryTimeout(QueryError):
    """The query (its checking included) ran past its time limit and was stopped."""


class QueryMemoryError(QueryError):
    """The query needed more memory than its child may have."""


class UnsuitableFormat(QueryError):
    """No format asked for suits the query's form (e.g. CSV for a CONSTRUCT)."""

    def __init__(self, form: str, fmt: str | None, allowed: tuple[str, ...]) -> None:
        super().__init__(f"--format {fmt} does not suit a {form.upper()} query", f"use one of {', '.join(allowed)}")
        self.form = form


class RemoteError(QueryError):
    """Another SPARQL store could not be reached, or refused what was sent."""


# ------------------------------------------------------------------ the literature library

class LibraryError(HemkgError):
    """A library that cannot be used as asked."""


class LibraryInUse(LibraryError):
    """Another process holds the library's lock."""


class LibraryDamaged(LibraryError):
    """The store does not hold what library.json says, or cannot be read: left exactly as it is."""


# ------------------------------------------------------------------ the HermiT consistency check (tests)

class ReasonerError(HemkgError, RuntimeError):
    """The HermiT check gave no answer."""


class ReasonerUnavailable(ReasonerError):
    """HermiT could not run (no Java, no owlready2, or Java failed)."""


class JavaNotFound(ReasonerUnavailable):
    """There is no `java` on the PATH: HermiT runs on Java."""


class ReasonerTimeout(ReasonerError):
    """HermiT did not finish within the time limit (its process is killed)."""


# ------------------------------------------------------------------ optional extras

class ExtraNotInstalled(HemkgError, ImportError):
    """A command or function needs an optional extra (`pip install 'hemkg[NAME]'`) that is not installed."""
