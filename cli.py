"""The `hem` command: design consultations on the HEM anode knowledge graph.

Exit codes (as pySHACL's): 0 success or conforms, 1 does not conform, 2 error
in what the user gave. Heavy libraries are imported inside the commands so that
`hem --help` and simple answers start fast.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from hemkg import __version__


def fail(message: str, hint: str | None = None) -> NoReturn:
    """Print a one-line error (and how to fix it) and exit with code 2."""
    click.echo(f"error: {message}", err=True)
    if hint:
        click.echo(f"hint: {hint}", err=True)
    sys.exit(2)


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


class Group(click.Group):
    """A click group that turns any unexpected exception into a one-line error, exit 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except Exception as err:  # noqa: BLE001 - the user must never see a traceback
            fail(f"{type(err).__name__}: {err}", "this is a bug in hemkg; please report it with the command you ran")


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="hem")
def main() -> None:
    """Design guidelines for high-entropy-material (HEM) battery anodes, from
    Huang et al., Energy Environ. Sci. 2025, 18, 10286, as a knowledge graph."""


@main.command()
@click.argument("term")
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON.")
def describe(term: str, as_json: bool) -> None:
    """What does the paper say about TERM?

    TERM is an element (Zn), anion (Se), mechanism (space-charge), structural
    factor (defect sites), carrier ion (Na+), battery chemistry (SIB), reported
    material ((MgCoNiCuZn)O) or reference number (ref 57).
    """
    from hemkg import describe as d
    from hemkg.knowledge import UnknownTerm

    if not term.strip():
        fail("TERM is empty", "name an element, mechanism, material or reference, e.g. hem describe Zn")
    if len(term) > 200:
        fail(f"TERM is {len(term)} characters long; the longest name in the graph is far shorter",
             "give one element, mechanism, material or reference number")
    try:
        answer = d.describe(term)
    except UnknownTerm as err:
        hint = f"did you mean: {', '.join(err.suggestions)}?" if err.suggestions else (
            "try an element symbol (Zn), a mechanism (conversion), a reported formula or 'ref 41'")
        fail(f"'{err.text}' is not a term of the paper's knowledge graph" + (f": {err.reason}" if err.reason else ""), hint)
    if as_json:
        emit_json(answer)
    else:
        click.echo(d.render(answer, width=_width()))


def _width() -> int:
    """The terminal's width, capped for readability; 88 when not a terminal."""
    import shutil

    return min(100, shutil.get_terminal_size((88, 24)).columns) if sys.stdout.isatty() else 88


@main.group(cls=Group)
def kg() -> None:
    """Check and summarise the knowledge graph."""


@kg.command()
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the problems as JSON.")
def validate(files: tuple[str, ...], as_json: bool) -> None:
    """Run the SHACL shapes and violation queries on the graph (plus FILES, Turtle).

    Exit 0 when it conforms, 1 when it does not, 2 on an unreadable file.
    """
    from hemkg import checks
    from hemkg.store import GraphLoadError

    for f in files:
        if not f.is_file():
            fail(f"no file '{f}'" + (" (it is a folder)" if f.is_dir() else ""), "give the path of a Turtle (.ttl) file")
    try:
        problems = checks.validate(files)
    except GraphLoadError as err:
        fail(f"cannot parse {err}", "fix the Turtle syntax at that line (every statement ends with ' .')")
    except OSError as err:
        fail(f"cannot read {err.filename}: {err.strerror}", "check the file's permissions")
    if as_json:
        emit_json({"conforms": not problems, "problems": [
            {"check": p.check, "entity": p.entity, "label": p.label, "message": p.message} for p in problems
        ]})
    elif problems:
        click.echo(f"{len(problems)} problem(s) found:")
        for p in problems:
            click.echo("  " + p.describe())
    else:
        click.echo("The knowledge graph conforms: every SHACL shape and violation query passes.")
    sys.exit(1 if problems else 0)


@kg.command()
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
def stats(as_json: bool) -> None:
    """Summarise the graph: terms by type, statements, references."""
    from hemkg import kgstats

    figures = kgstats.stats()
    if as_json:
        emit_json(figures)
    else:
        click.echo(kgstats.render(figures))


if __name__ == "__main__":
    main()
