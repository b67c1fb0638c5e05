"""The `hem` command: design consultations on the HEM anode knowledge graph.

Exit codes (as pySHACL's): 0 success or conforms, 1 does not conform, 2 error
in what the user gave. Heavy libraries are imported inside the commands so that
`hem --help` and simple answers start fast.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from hemkg import __version__
from hemkg.errors import HemkgError, one_line

if TYPE_CHECKING:
    from hemkg.consultation.consultation import Structure
    from hemkg.graph.vocab import Vocabulary


def fail(message: str, hint: str | None = None) -> NoReturn:
    """Print a one-line error (and how to fix it) and exit with code 2."""
    click.echo(f"error: {message}", err=True)
    if hint:
        click.echo(f"hint: {hint}", err=True)
    sys.exit(2)


def emit_json(data: Any, pretty: bool = True) -> None:
    """JSON on stdout, indented by two spaces unless not `pretty` (one line). orjson writes the same text as
    json.dumps(..., indent=2, ensure_ascii=False), some 20 times faster: json's C encoder does not indent."""
    if not pretty:
        click.echo(json.dumps(data, ensure_ascii=False))  # one line, as json writes it (with its C encoder)
        return
    import orjson

    click.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode())


def json_format_option(f):
    """--format text|json beside --json (the spelling hem sparql and hem export use): either asks for JSON."""
    import functools

    @functools.wraps(f)
    def wrapper(*args: Any, output_format: str | None = None, **kwargs: Any) -> Any:
        if output_format == "json":
            kwargs["as_json"] = True
        return f(*args, **kwargs)

    return click.option("--format", "output_format", type=click.Choice(["text", "json"]),
                        help="text (default) or json, as --json.")(wrapper)


def json_flag_option(f):
    """--json beside --format (the spelling the other commands use): the same as --format json."""
    import functools

    @functools.wraps(f)
    def wrapper(*args: Any, as_json: bool = False, **kwargs: Any) -> Any:
        if as_json:
            kwargs["fmt"] = "json"
        return f(*args, **kwargs)

    return click.option("--json", "as_json", is_flag=True, help="The same as --format json.")(wrapper)


def run() -> None:
    """The `hem` command as the process's own program (the console script, python -m hemkg): hemkg may then freeze
    what it keeps out of the cycle collector's sight (system/collector.py OWN_PROCESS)."""
    from hemkg.system import collector

    collector.OWN_PROCESS = True
    main()


class Group(click.Group):
    """A click group whose errors are one line and exit 2: click's own usage errors, every
    hemkg.errors.HemkgError (the user's to fix), and any unexpected exception, which is a bug in
    hemkg and must never reach the user as a traceback."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode: bool = True, **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.NoArgsIsHelpError as err:
            click.echo(err.ctx.get_help() if err.ctx else str(err))
            sys.exit(0)  # `hem` alone asks what it can do: the help is the answer
        except click.UsageError as err:
            command = err.ctx.command_path if err.ctx else "hem"
            fail(err.format_message().replace("\n", " "), f"see '{command} --help'")
        except click.ClickException as err:
            fail(err.format_message().replace("\n", " "))
        except click.exceptions.Abort:
            fail("interrupted")
        except BrokenPipeError:
            _quiet_broken_pipe()
        try:
            sys.stdout.flush()  # here, not at exit: a closed pipe found by the last flush ends quietly too
        except BrokenPipeError:
            _quiet_broken_pipe()
        sys.exit(result if isinstance(result, int) else 0)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Each command with its whole summary, wrapped under itself (click would cut it with '...')."""
        rows = [(name, cmd.get_short_help_str(limit=10_000)) for name in self.list_commands(ctx)
                if (cmd := self.get_command(ctx, name)) is not None and not cmd.hidden]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except BrokenPipeError:  # hem ... | head -1: the reader has gone, which is no error of ours
            _quiet_broken_pipe()
        except HemkgError as err:  # the user's to fix: the message says what is wrong, the hint how to fix it
            fail(err.headline(), err.hint or None)
        except Exception as err:
            fail(f"{type(err).__name__}: {err}", "this is a bug in hemkg; please report it with the command you ran")


def _quiet_broken_pipe() -> NoReturn:
    """Exit quietly once stdout's reader has closed the pipe: point stdout at /dev/null so that the
    interpreter's last flush finds nowhere to fail (as the Python docs advise for SIGPIPE)."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real stdout (a test runner's buffer): nothing left to flush
        pass
    sys.exit(0)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 80})
@click.version_option(__version__, prog_name="hem")
def main() -> None:
    """Design guidelines for high-entropy-material (HEM) battery anodes, from
    Huang et al., Energy Environ. Sci. 2025, 18, 10286, as a knowledge graph."""


def library_use_options(f):
    """--library DIR and --no-library, shared by consult, explain and compare."""
    f = click.option("--no-library", is_flag=True,
                     help="Consult the paper alone, without the findings of your literature library.")(f)
    return click.option("--library", "library_dir", metavar="DIR",
                        help="The literature library whose findings join the evidence (default: $HEMKG_LIBRARY, "
                             "else your user data folder; used when it holds findings).")(f)


def all_findings_option(f):
    """--all-findings, for consult, explain and compare: every library finding on related materials."""
    return click.option("--all-findings", is_flag=True,
                        help="List every finding of your library on related materials (by default the 5 closest per "
                             "mechanism or role, the rest counted).")(f)


def library_graph_options(f):
    """--library DIR and --no-library for the SPARQL commands: the library's graphs as named graphs."""
    f = click.option("--no-library", is_flag=True, help="Leave the literature library's graphs out.")(f)
    return click.option("--library", "library_dir", metavar="DIR",
                        help="The literature library whose nanopublications join as named graphs (default: "
                             "$HEMKG_LIBRARY, else your user data folder, when there is one).")(f)


def _use_library(library_dir: str | None, no_library: bool) -> bool:
    """Whether to read the literature library; --library DIR with --no-library is refused."""
    if no_library and library_dir:
        fail("give --library DIR or --no-library, not both")
    return not no_library


def _library_graphs(library_dir: str | None, no_library: bool) -> tuple[str | None, bool]:
    """(DIR, whether to read the library) for sparql.dataset."""
    return library_dir, _use_library(library_dir, no_library)


@main.command()
@click.argument("term")
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON.")
@library_use_options
@json_format_option
def describe(term: str, as_json: bool, library_dir: str | None = None, no_library: bool = False) -> None:
    """What does the paper say about TERM?

    TERM is an element (Zn), anion (Se), mechanism (space-charge), structural
    factor (defect sites), carrier ion (Na+), battery chemistry (SIB), reported
    material ((MgCoNiCuZn)O) or reference number (ref 57). Your literature
    library's findings about it follow the paper's statements.
    """
    from hemkg.answers import describe as d
    from hemkg.errors import UnknownTerm

    if not term.strip():
        fail("TERM is empty", "name an element, mechanism, material or reference, e.g. hem describe Zn")
    if len(term) > 200:
        fail(f"TERM is {len(term)} characters long; the longest name in the graph is far shorter",
             "give one element, mechanism, material or reference number")
    try:
        library = _library(library_dir, no_library, every=True)
        answer = d.describe(term) if library is None else d.describe(term, library)
    except UnknownTerm as err:
        answer = d.mentions(term)  # a word of the paper's text, not a term (graphite)?
        if not answer["mentioned"]:
            hint = f"did you mean: {', '.join(err.suggestions)}?" if err.suggestions else (
                "try an element symbol (Zn), a mechanism (conversion), a reported formula or 'ref 41'")
            fail(f"'{err.text}' is not a term of the paper's knowledge graph"
                 + (f": {err.reason}" if err.reason else "") + ", and the paper does not mention it", hint)
    if as_json:
        emit_json(answer)
    else:
        echo_text(d.render(answer, width=_width()))


def _width() -> int:
    """The terminal's width, capped for readability; 80 when not a terminal (hemkg.system.text)."""
    from hemkg.system.text import width

    return width()


def echo_text(text: str, nl: bool = True) -> None:
    """A text answer, every line fitted to the width (a line the renderer left too long is wrapped)."""
    from hemkg.system.text import fit

    click.echo(fit(text, _width()), nl=nl)


# ------------------------------------------------------------------ the paper's vocabulary, read when needed
# Choices, defaults and help texts name the paper's elements, ions and mechanisms as the graph has them
# (hemkg.graph.vocab). They are built when a command runs or its help is shown, so that `hem` starts
# without reading the vocabulary.

def _vocab() -> Vocabulary:
    from hemkg.graph.vocab import vocab

    return vocab()


class LazyChoice(click.Choice):
    """A click.Choice whose values a function gives, called when they are first needed."""

    def __init__(self, values: Callable[[], Iterable[str]]) -> None:
        self._values = values
        self.case_sensitive = True

    @property
    def choices(self) -> tuple[str, ...]:  # type: ignore[override]
        return tuple(self._values())


def _objectives() -> list[str]:
    """What --rank-by may name: the screen's objectives (hemkg.screening.objectives, without numpy)."""
    from hemkg.screening.objectives import OBJECTIVES

    return list(OBJECTIVES)


def _help_fields() -> dict[str, str]:
    """What help texts may name as {field}: counts and lists from the vocabulary."""
    from math import comb

    from hemkg.consultation.evidence import evidence_scale
    from hemkg.graph.vocab import spoken_list

    v = _vocab()
    k = v.hem.min_elements
    return {
        "cations": str(len(v.cations)), "anion_options": ",".join(v.anions) + ",none", "ions": ",".join(v.ion_symbols),
        "ions_spoken": spoken_list(v.ion_symbols), "hem_range": v.hem.percent_text, "k": str(k),
        "screened": f"{comb(len(v.cations), k) * (len(v.anions) + 1) * len(v.ions):,}",
        "evidence_levels": ", ".join(lv.id for lv in evidence_scale()),
    }


class _HelpFromVocabulary:
    """Help with {fields} (see _help_fields) filled in when it is shown."""

    _template: str | None = None

    @property
    def help(self) -> str | None:
        return self._template.format_map(_help_fields()) if self._template else self._template

    @help.setter
    def help(self, value: str | None) -> None:
        self._template = value


class VocabOption(_HelpFromVocabulary, click.Option):
    """An option whose help, and default where it is a function, are read from the vocabulary when shown."""

    def get_help_extra(self, ctx: click.Context) -> Any:
        extra = super().get_help_extra(ctx)
        if callable(self.default) and self.show_default:
            extra["default"] = str(self.default())  # the value, not click's "(dynamic)"
        return extra


class VocabCommand(_HelpFromVocabulary, click.Command):
    """A command whose help names counts from the vocabulary; its first line, which `hem --help` lists, names none."""

    def get_short_help_str(self, limit: int = 45) -> str:
        return click.Command(self.name, help=(self._template or "").split("\n\n")[0]).get_short_help_str(limit)


class MechanismChoice(LazyChoice):
    """A mechanism as JSON spells it (space_charge), also accepted as rules/ spell it (space-charge)."""

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        return super().convert(str(value).replace("-", "_"), param, ctx)


class AliasOption(click.Option):
    """An option with hidden alternative spellings (--ion and --ions): help shows the first name only."""

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        names = self.opts
        self.opts = names[:1]
        try:
            return super().get_help_record(ctx)
        finally:
            self.opts = names


class VocabAliasOption(VocabOption, AliasOption):
    """A vocabulary option with hidden alternative spellings."""


ION = LazyChoice(lambda: _vocab().ion_symbols)
POSITIVE_NM = click.FloatRange(min=0, min_open=True, max=1e6)


def structure_options(f):
    """The optional structure of a candidate, shared by consult, explain and compare."""
    options = [
        click.option("--primary-size", "primary_particle_size_nm", type=POSITIVE_NM, help="Primary particle size, nm."),
        click.option("--product-size", "conversion_product_size_nm", type=POSITIVE_NM,
                     help="Size of the metal particles conversion forms, nm."),
        click.option("--framework", help="Conductive framework or carbon compositing, e.g. C, rGO, CNT."),
        click.option("--defect-rich", is_flag=True, help="The material is defect-rich."),
        click.option("--morphology", help="hollow, yolk-shell, core-shell, porous, nanofiber, ..."),
        click.option("--ion", "--ions", "ion", cls=AliasOption, type=ION, default="Li", show_default=True,
                     help="Carrier ion."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _structure(**values: Any) -> Structure:
    from hemkg.consultation.consultation import Structure

    options = {"morphology": "--morphology", "framework": "--framework",
               "primary_particle_size_nm": "--primary-size", "conversion_product_size_nm": "--product-size"}
    try:
        given: dict[str, Any] = {k: values.get(k) for k in Structure.field_names()
                                 if values.get(k) not in (None, False)}
        return Structure(**given).validated()
    except ValueError as err:
        field, _, rest = str(err).partition(" ")
        fail(f"{options.get(field, field)} {rest}")  # name the option the user typed


def _library(library_dir: str | None, no_library: bool, every: bool = False):
    """The library's findings for a consultation (`every`: all of them, cathode ones too, for hem describe), or
    None (--no-library, or no library holding findings). A damaged or locked library is the user's to fix:
    LibraryError, one line, exit 2."""
    if not _use_library(library_dir, no_library):
        return None
    from hemkg.consultation import literature

    return literature.read(library_dir) if every else literature.load(library_dir)


def _consult_or_fail(formula: str, ion: str, structure, library=None):
    """One consultation; a bad formula ends the command with a one-line error, exit 2."""
    from hemkg.consultation.consultation import consult
    from hemkg.errors import FormulaError

    try:
        return consult(formula, ion, structure, library)
    except (FormulaError, ValueError) as err:
        fail(f"formula '{formula}': {err}")


@main.command(name="consult")
@click.argument("formulas", nargs=-1)
@structure_options
@click.option("--input", "input_file", type=click.Path(path_type=Path),
              help="One candidate per line, or CSV with a 'formula' column ('-': standard input).")
@click.option("--json", "as_json", is_flag=True, help="JSON: one object, or one per line (JSON Lines) for several.")
@json_format_option
@click.option("--refs", is_flag=True, help="Print the cited references in full.")
@click.option("--rdf", is_flag=True, help="Print the derivations as PROV-O Turtle instead.")
@library_use_options
@all_findings_option
def consult_command(formulas, ion, input_file, as_json, refs, rdf, library_dir, no_library, all_findings,
                    **structure) -> None:
    """Which mechanisms FORMULA activates, what each element does, and why.

    FORMULA as chemists write it: (MgCoNiCuZn)O, (Mg0.2Co0.2Ni0.2Cu0.2Zn0.2)O,
    Cu0.88Sn0.02Sb0.02Bi0.02Mn0.02S0.9Se0.1, SiGeSnSbBi; a suffix /C, @C or
    /rGO names a carbon framework.
    """
    from hemkg.answers import report
    from hemkg.answers.summary import summarise
    from hemkg.consultation import provenance

    if input_file is not None:
        if formulas:
            fail("give formulas or --input FILE, not both", "put every candidate in the file")
        sys.exit(_consult_batch(input_file, ion, as_json, _structure(**structure), _library(library_dir, no_library),
                                all_findings))
    if not formulas:
        fail("no formula given", "e.g. hem consult '(MgCoNiCuZn)O' --ion Li, or --input candidates.csv")
    built = _structure(**structure)
    library = _library(library_dir, no_library)
    results = [_consult_or_fail(f, ion, built, library) for f in formulas]
    for c in results:
        if rdf:
            click.echo(provenance.serialize(c), nl=False)
        elif as_json:
            emit_json(summarise(c, all_findings), pretty=len(results) == 1)
        else:
            echo_text(report.render_consultation(summarise(c, all_findings), width=_width(), full_refs=refs))


def _consult_batch(path: Path, ion: str, as_json: bool, default_structure, library=None,
                   all_findings: bool = False) -> int:
    """Consult every candidate of a file, in order; a bad line is reported and skipped. Returns the exit code."""
    from hemkg.answers import report
    from hemkg.answers.summary import summarise
    from hemkg.consultation import batch
    from hemkg.system import collector

    candidates = batch.read_candidates(path, ion, default_structure, library)
    name = "stdin" if str(path) == "-" else path.name
    failures = 0
    for item in candidates:
        if item.error:
            failures += 1
            click.echo(f"error: {name} line {item.line}: {one_line(item.error)}", err=True)
            if as_json:
                click.echo(_json_line({"line": item.line, "input": item.text, "error": item.error}))
            continue
        assert item.consultation is not None  # a candidate has an error or a consultation
        if as_json:
            click.echo(_json_line({"line": item.line, **summarise(item.consultation, all_findings)}))
        else:
            click.echo(f"--- line {item.line}")
            echo_text(report.render_consultation(summarise(item.consultation, all_findings), width=_width()))
        collector.settle()
    return 1 if failures else 0


def _json_line(data: Any) -> str:
    """One JSON Lines record, on one line for any reader: json leaves U+0085, U+2028 and U+2029 as they
    are (with ensure_ascii=False), and str.splitlines would break the record at them."""
    text = json.dumps(data, ensure_ascii=False)
    return text.replace("\x85", "\\u0085").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


@main.command()
@click.argument("formula")
@structure_options
@click.option("--about", help="A mechanism (alloying), an element of FORMULA (Zn), a property (capacity) or 'all'.")
@click.option("--full", is_flag=True, help="The whole derivation tree, every intermediate conclusion with its rule.")
@click.option("--json", "as_json", is_flag=True, help="Print the explanation as JSON (with --full, each tree).")
@json_format_option
@library_use_options
@all_findings_option
def explain(formula, ion, about, full, as_json, library_dir, no_library, all_findings, **structure) -> None:
    """Why a consultation concluded what it did, from conclusions to the paper.

    For each conclusion: the rule that drew it (its statement, references and
    place in the paper), the facts from the knowledge graph it rests on (with
    their references) and those from your input; for a status or a role, the
    evidence the rules graded and any report that outranked a plane. --full
    shows the whole tree.
    """
    from hemkg.answers import explain as ex

    c = _consult_or_fail(formula, ion, _structure(**structure), _library(library_dir, no_library))
    tree = ex.explain(c, about, full=full, all_findings=all_findings)
    if as_json:
        emit_json(tree)
    else:
        echo_text(ex.render(tree, width=_width()), nl=False)


@main.command()
@click.argument("formulas", nargs=-1, required=True)
@structure_options
@click.option("--json", "as_json", is_flag=True, help="Print every consultation as one JSON list.")
@json_format_option
@library_use_options
@all_findings_option
def compare(formulas, ion, as_json, library_dir, no_library, all_findings, **structure) -> None:
    """Set candidates side by side: mechanisms, roles, effects, entropy, theoretical capacity."""
    from hemkg.answers import report
    from hemkg.answers.summary import summarise

    if len(formulas) < 2:
        fail("compare needs at least two formulas", "e.g. hem compare '(MgCoNiCuZn)O' InGeSiP3")
    built = _structure(**structure)
    library = _library(library_dir, no_library)
    rows = [summarise(_consult_or_fail(f, ion, built, library), all_findings) for f in formulas]
    if as_json:
        emit_json(rows)
    else:
        echo_text(report.render_comparison(rows, _width()))


def _needs_fork(what: str) -> None:
    """sparql, ask, serve and a multi-worker screen run their work in forked processes: POSIX only."""
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        fail(f"{what} needs the POSIX 'fork' start method, which this platform does not offer",
             "run hem on Linux, macOS or WSL (pyproject.toml: Operating System :: POSIX)")


def _read_query(query: str | None, file: Path | None) -> str:
    if (query is None) == (file is None):
        fail("give a query or --file FILE, one of the two",
             "e.g. hem sparql 'SELECT ?e WHERE { ?e hem:memberOf hemkg:plane-C }'")
    if query is not None:
        return query
    assert file is not None  # exactly one of the two was given
    if str(file) == "-":
        return _read_stdin_text("the query")
    if not file.is_file():
        fail(f"no file '{file}'", "give the path of a .rq file")
    try:
        return file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        fail(f"cannot read '{file}': {err}", "save the query as UTF-8 text")


def _read_stdin_text(what: str, limit: int = 10_000_000) -> str:
    """Standard input as UTF-8 text (for a FILE option given as '-')."""
    data = sys.stdin.buffer.read(limit + 1)
    if len(data) > limit:
        fail(f"{what} on standard input is larger than {limit:,} bytes", "give a smaller file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        fail(f"{what} on standard input is not UTF-8 text (byte {err.start})", "save it as UTF-8 text")


def _print_answer(answer, fmt: str) -> None:
    from hemkg.sparql import query as sp

    if fmt == "table":
        click.echo(sp.render_table(answer, _width()), nl=False)
    else:
        sys.stdout.buffer.write(answer.body)
        sys.stdout.flush()
    if answer.cut:
        click.echo(f"warning: the answer was cut at {answer.count} rows (--max-rows)", err=True)


FORMATS = click.Choice(["table", "csv", "tsv", "json", "xml", "ttl", "nt", "jsonld", "rdfxml"])


class ByteSize(click.ParamType):
    """A memory size: 2G, 512M, 1.5GiB or a number of bytes (K, M, G, T are powers of 1024)."""

    name = "size"

    def convert(self, value: Any, param: Any, ctx: Any) -> int:
        import re

        if isinstance(value, int):
            return value
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*", str(value), re.IGNORECASE)
        if not match:
            self.fail(f"'{value}' is not a size: give e.g. 2G, 512M or a number of bytes", param, ctx)
        size = int(float(match[1]) * 1024 ** " KMGT".index(match[2].upper() or " "))
        if size < 16 * 1024**2:
            self.fail(f"'{value}' is too little memory for a query: give at least 16M", param, ctx)
        return size


MAX_MEMORY = click.option("--max-memory", type=ByteSize(), default="2G", show_default=True,
                          help="Memory a query may use beyond what hem already holds (e.g. 512M, 4G); more stops it.")


@main.command()
@click.argument("query", required=False)
@click.option("--file", "file", type=click.Path(path_type=Path),
              help="Read the query from a .rq file ('-': standard input).")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True,
              help="Results: table, csv, tsv, json, xml; graphs (CONSTRUCT, DESCRIBE): table, ttl, nt, jsonld, rdfxml.")
@json_flag_option
@click.option("--candidate", help="Add this formula's consultation and derivations to the dataset.")
@click.option("--ion", type=ION, default="Li", show_default=True, help="Carrier ion of --candidate.")
@click.option("--timeout", type=click.FloatRange(min=0.1, max=3600), default=10.0, show_default=True,
              help="Seconds the query may take, checking included; then it is stopped.")
@click.option("--max-rows", type=click.IntRange(min=1, max=10_000_000), default=10_000, show_default=True,
              help="Rows (or triples) at most.")
@MAX_MEMORY
@click.option("--endpoint", help="Query this SPARQL endpoint instead of the local graph.")
@library_graph_options
def sparql(query, file, fmt, candidate, ion, timeout, max_rows, max_memory, endpoint, library_dir=None,
           no_library=False) -> None:
    """Run a read-only SPARQL query (SELECT, ASK, CONSTRUCT, DESCRIBE) over the graph.

    The prefixes hem:, hemkg:, ref:, skos:, dcterms:, prov:, qudt: ... are
    predeclared. SERVICE, FROM of files or URLs and updates are refused.
    """
    from hemkg.sparql import query as sp

    text = _read_query(query, file)
    if not endpoint:
        _needs_fork("hem sparql")
    if endpoint:
        if candidate:
            fail("--candidate works on the local graph only", "push the graph first, or leave out --endpoint")
        remote_fmt = "json" if fmt == "table" else fmt
        body = _remote_query(endpoint, text, remote_fmt, timeout, max_memory)
        if fmt == "table":
            click.echo(_table_from_json(body), nl=False)
        else:
            sys.stdout.buffer.write(body)
        return
    if candidate:
        _consult_or_fail(candidate, ion, None)  # a bad formula gets its own error
    store, graphs = sp.dataset(candidate, ion, *_library_graphs(library_dir, no_library))
    answer = sp.run(text, store, fmt, timeout, max_rows, graphs, max_memory=max_memory)
    _print_answer(answer, fmt)


def _remote_query(endpoint: str, text: str, fmt: str, timeout: float, max_memory: int) -> bytes:
    from hemkg.sparql import remote

    return remote.query_endpoint(endpoint, text, fmt, timeout, max_memory)


def _table_from_json(body: bytes) -> str:
    from hemkg.graph.store import short
    from hemkg.sparql import query as sp

    data = json.loads(body)
    if "boolean" in data:
        return "yes\n" if data["boolean"] else "no\n"
    variables = data["head"]["vars"]
    rows = [[short(b[v]["value"]) if b.get(v, {}).get("type") == "uri" else b.get(v, {}).get("value", "")
             for v in variables] for b in data["results"]["bindings"]]
    return sp.render_table(sp.Answer("select", variables=variables, rows=rows, count=len(rows)), _width())


@main.command()
@click.argument("name", required=False)
@click.option("--list", "list_", is_flag=True, help="List the named questions.")
@click.option("--show", is_flag=True, help="Print the question's SPARQL instead of running it.")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE",
              help="Set a parameter, e.g. --param mechanism=alloying.")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True, help="As for hem sparql.")
@json_flag_option
@click.option("--timeout", type=click.FloatRange(min=0.1, max=3600), default=10.0, show_default=True)
@MAX_MEMORY
@library_graph_options
def ask(name, list_, show, params, fmt, timeout, max_memory, library_dir=None, no_library=False) -> None:
    """Ready-made questions, e.g. which elements enable a mechanism.

    hem ask --list; hem ask NAME [--param mechanism=alloying]; hem ask NAME --show.
    """
    from hemkg.errors import UnknownTerm
    from hemkg.sparql import query as sp
    from hemkg.sparql import questions as qs

    available = qs.questions()
    if list_ or name is None:
        for q in available.values():
            params_text = "".join(f" [--param {p.name}=VALUE, default {p.default}]" for p in q.parameters)
            echo_text(f"{q.name}{params_text}\n    {q.title}. {q.description}")
        return
    if name not in available:
        import difflib

        close = difflib.get_close_matches(name, available, n=3)
        fail(f"no question named '{name}'",
             f"did you mean {', '.join(close)}?" if close else "hem ask --list shows them")
    question = available[name]
    values = {}
    for item in params:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            fail(f"--param '{item}' is not NAME=VALUE", "e.g. --param mechanism=alloying")
        values[key.strip()] = value.strip()
    try:
        bindings = question.bindings(values)
    except KeyError as err:
        fail(str(err.args[0]), "parameters: " + (", ".join(p.name for p in question.parameters) or "none"))
    except UnknownTerm as err:
        fail(f"'{err.text}' is not a term of the graph",
             f"did you mean: {', '.join(err.suggestions)}?" if err.suggestions else None)
    if show:
        click.echo(question.query.rstrip())
        for key, iri in bindings.items():
            click.echo(f"# bound: ?{key} = <{iri}>")
        return
    _needs_fork("hem ask")
    store, graphs = sp.dataset(None, "Li", *_library_graphs(library_dir, no_library))
    answer = sp.run(question.query, store, fmt, timeout, sp.DEFAULT_MAX_ROWS, graphs, bindings, max_memory)
    _print_answer(answer, fmt)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but a loopback address serves the graph to the network.")
@click.option("--port", type=click.IntRange(min=0, max=65535), default=7878, show_default=True,
              help="Port (0: any free one).")
@click.option("--timeout", type=click.FloatRange(min=0.1, max=3600), default=10.0, show_default=True,
              help="Seconds a query may take, checking included; then it is stopped.")
@click.option("--max-rows", type=click.IntRange(min=1, max=10_000_000), default=10_000, show_default=True,
              help="Rows (or triples) per answer at most.")
@MAX_MEMORY
@click.option("--max-concurrent", type=click.IntRange(min=1, max=64), default=4, show_default=True,
              help="Queries at once; more are answered 503 at once.")
@library_graph_options
@click.option("--cors", metavar="ORIGIN",
              help="Let web pages from ORIGIN (e.g. https://example.org, or *) query the endpoint (CORS; off by "
                   "default).")
def serve(host, port, timeout, max_rows, max_memory, max_concurrent, cors, library_dir=None,
          no_library=False) -> None:
    """Serve the graph as a read-only SPARQL 1.1 Protocol endpoint (GET or POST /sparql).

    The same dataset and checks as hem sparql: updates are refused (403), and so
    are SERVICE and FROM of files or URLs (400); each query runs under the time
    limit and the row cap (a cut answer says X-Hemkg-Truncated: true).
    """
    from hemkg.sparql import endpoint as sv

    _needs_fork("hem serve")
    try:
        server = sv.make_server(host, port, timeout, max_rows, max_concurrent, log=sys.stderr, max_memory=max_memory,
                                library=_library_graphs(library_dir, no_library), cors=cors)
    except OSError as err:
        fail(f"cannot listen on {host}:{port}: {err.strerror or err}",
             "choose another --port or --host, or stop what uses it")
    if not sv.is_loopback(host):
        click.echo(f"warning: listening on {host}, not a loopback address: anyone who can reach it can query the graph",
                   err=True)
    click.echo(f"SPARQL endpoint at {server.url} (Ctrl-C stops it)", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@main.command(cls=VocabCommand)
@click.option("--include", cls=VocabOption,
              help="Elements to add to the pool of the paper's {cations} cations, e.g. Ga,Nb.")
@click.option("--exclude", help="Elements to leave out of the pool, e.g. Li,Ru.")
@click.option("--require", help="Elements every candidate must contain, e.g. Fe,Si.")
@click.option("-k", "sizes", cls=VocabOption, default=lambda: _help_fields()["k"], show_default=True,
              help="Number of cations: {k}, or a range such as 4-6.")
@click.option("--anions", cls=VocabOption, default=lambda: _help_fields()["anion_options"], show_default=True,
              help="Anion options, each one candidate: single (O), mixed (S0.9Se0.1) or none (an alloy).")
@click.option("--ions", "--ion", "ions", cls=VocabAliasOption, default=lambda: _help_fields()["ions"],
              show_default=True,
              help="Carrier ions to screen.")
@click.option("--grid", type=float, cls=VocabOption,
              help="Screen cation fractions on this grid (e.g. 0.05) within {hem_range}, not only equimolar.")
@click.option("--mechanism", "mechanisms", multiple=True,
              type=MechanismChoice(lambda: [m.json_key for m in _vocab().mechanisms]),
              help="Keep candidates where this mechanism is accessible (repeatable).")
@click.option("--evidence", "evidence", multiple=True, metavar="MECHANISM=LEVEL", cls=VocabOption,
              help="Keep candidates whose evidence for MECHANISM is LEVEL or stronger (repeatable; "
                   "MECHANISM==LEVEL: exactly LEVEL), e.g. space_charge=reported_related. "
                   "The levels, strongest first: {evidence_levels}.")
@click.option("--hem-only", is_flag=True, help="Keep candidates meeting the paper's HEM definition.")
@click.option("--no-unclassified", is_flag=True, help="Drop candidates with a cation the paper does not classify.")
@click.option("--allow-unbalanced", is_flag=True,
              help="Keep candidates with no charge-balanced reading (a cation with no known positive state); "
                   "dropped and counted by default.")
@click.option("--rank-by", default="capacity", show_default=True, type=LazyChoice(_objectives))
@click.option("--pareto", help="Return the non-dominated set on these, e.g. capacity,cycling_stability,fast_charging.")
@click.option("--top", type=click.IntRange(1, 10_000), default=20, show_default=True, help="Rows to print.")
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write every kept row: .csv, .jsonl or .parquet.")
@click.option("--workers", type=click.IntRange(1, 512), help="Worker processes (default: all cores).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary and top rows as JSON.")
@json_format_option
@click.option("--progress/--no-progress", default=None,
              help="Show progress on stderr: a bar on a terminal, else a line now and then (default: on a terminal).")
@click.option("--count", "count_only", is_flag=True, help="Print how many candidates the selection holds, and stop.")
@library_use_options
def screen(include, exclude, require, sizes, anions, ions, grid, mechanisms, evidence, hem_only, no_unclassified,
           allow_unbalanced, rank_by, pareto, top, output, workers, as_json, progress, count_only, library_dir=None,
           no_library=False) -> None:
    """Screen the composition space with the consultation rules and rank the candidates.

    By default: every {k}-cation equimolar set of the paper's {cations} cations, with each
    listed anion or none, for {ions_spoken} ({screened} candidates).
    """
    from hemkg.screening import run as sc
    from hemkg.screening.vectorised import library_key

    space, filters, objectives = sc.from_options(
        include=include, exclude=exclude, require=require, k=sizes, anions=anions, ions=ions, grid=grid,
        mechanisms=mechanisms, evidence=evidence, hem_only=hem_only, no_unclassified=no_unclassified,
        allow_unbalanced=allow_unbalanced, pareto=pareto, library=library_key(_library(library_dir, no_library)))
    total = space.count()
    if count_only:
        if as_json:
            emit_json({"candidates": total})
        else:
            click.echo(f"{total:,}")
        return
    if total > BIG_SCREEN:
        from hemkg.system.text import PIPED_WIDTH, fit

        click.echo(fit(f"note: {_screen_size(total, output)}; `hem screen ... --count` gives the size before a run, "
                       "Ctrl-C stops it", PIPED_WIDTH), err=True)
    if workers != 1:
        _needs_fork("hem screen with several workers (--workers 1 runs without)")
    show_progress = sys.stderr.isatty() if progress is None else progress
    metadata = sc.run_metadata(click.get_current_context().params) if output else None
    writer = sc.Writer(output, metadata) if output else None  # checks the target before any work
    executor = None
    summary = None
    try:
        with sc.StopRequest() as stop:
            executor = sc.default_executor(workers)
            if show_progress and not sys.stderr.isatty():  # a log or a pipe: plain lines, no bar
                summary = sc.screen(space, filters, rank_by, objectives, top, executor, writer,
                                    _progress_lines(total), stop=stop)
            elif show_progress:
                from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

                columns = [TextColumn("screening"), BarColumn(), MofNCompleteColumn(),
                           TextColumn("{task.fields[rate]:>10} /s"), TimeRemainingColumn()]
                with Progress(*columns, transient=True) as bar:
                    task = bar.add_task("screen", total=total, rate="")
                    summary = sc.screen(space, filters, rank_by, objectives, top, executor, writer,
                                        lambda n: bar.update(task, advance=n,
                                                             rate=f"{(bar.tasks[0].speed or 0):,.0f}"), stop=stop)
            else:
                summary = sc.screen(space, filters, rank_by, objectives, top, executor, writer, stop=stop)
            if executor is not None:
                executor.shutdown(cancel_futures=True)
                executor = None
            written = writer.close(partial=summary.interrupted) if writer else None
    except sc.ScreenError as err:
        if writer:
            writer.abandon()
        fail(str(err), err.hint or None)
    except BaseException:
        if writer:
            writer.abandon()
        raise
    finally:
        if executor is not None:
            executor.shutdown(cancel_futures=True)
    _print_screen(summary, total, objectives, rank_by, writer, written, as_json)
    if summary.interrupted:
        sys.exit(stop.exit_code)


BIG_SCREEN = 10_000_000  # candidates: beyond, hem screen says the size and an estimate before it starts
SCREEN_RATE = 100_000  # candidates/s, about what a grid screen writing Parquet made on 2 cores (issue 14)
PARQUET_BYTES = 17  # bytes per kept row in a Parquet file, about (95 million rows: 1.6 GB)


def _screen_size(total: int, output: Path | None) -> str:
    """A big screen's size, how long it may take and (with -o) how big its file may grow: rough figures."""
    minutes = total / SCREEN_RATE / 60
    text = (f"this screens {total:,} candidates: about {minutes:,.0f} minutes at ~{SCREEN_RATE:,} candidates/s "
            "(2 cores; more cores go faster)")
    if output is not None:
        size = total * (PARQUET_BYTES if output.suffix.lower() == ".parquet" else 120)
        text += f", and up to ~{size / 1e9:,.1f} GB in {output.name} if every candidate is kept"
    return text


def _progress_lines(total: int, every: float = 10.0) -> Callable[[int], None]:
    """Progress for stderr off a terminal: one line at the start, then at most one every `every` seconds."""
    import time

    state = {"done": 0, "start": time.monotonic(), "last": 0.0}
    click.echo(f"screening {total:,} candidates", err=True)

    def advance(n: int) -> None:
        state["done"] += n
        now = time.monotonic()
        if now - state["last"] >= every or state["done"] >= total:
            state["last"] = now
            rate = state["done"] / max(now - state["start"], 1e-9)
            click.echo(f"screened {state['done']:,} of {total:,} ({100 * state['done'] / max(total, 1):.0f}%, "
                       f"{rate:,.0f}/s)", err=True)

    return advance


def _mah(value: float | None) -> str:
    """A capacity in mAh/g, to one decimal wherever it is printed."""
    return "n/a" if value is None else f"{value:.1f}"


def _print_screen(summary, total: int, objectives, rank_by: str, writer, written, as_json: bool) -> None:
    if as_json:
        emit_json({"screened": summary.screened, "of": total, "kept": summary.kept, "unbalanced": summary.unbalanced,
                   "interrupted": summary.interrupted,
                   "ranked_by": list(objectives) or rank_by, "front": summary.front, "top": summary.top,
                   **({"written": str(written) if written else None} if writer else {})})
        return
    if summary.interrupted:
        state = f"stopped after {summary.screened:,} of {total:,}"
    else:
        state = f"screened {summary.screened:,}"
    if writer is None:
        where = ""
    elif written is None:
        where = f"; nothing written (stopped half-way through a batch; {writer.path} is as it was)"
    elif not summary.interrupted:
        where = f"; all written to {written}"
    else:
        where = f"; the rows kept so far written to {written}"
        if written != writer.path:
            where += f" ({writer.path} is as it was)"
    unbalanced = f" ({summary.unbalanced:,} not charge-balanced)" if summary.unbalanced else ""
    click.echo(f"{state} candidates{unbalanced}; {summary.kept:,} kept{where}")
    if objectives:
        points = len(summary.front)
        click.echo(f"Pareto front on {', '.join(objectives)}: {points} {'point' if points == 1 else 'points'}")
        for point in summary.front:
            values = ", ".join(f"{k} {_figure(k, v)}" for k, v in point.items() if k != "count")
            click.echo(f"  {values}  ({point['count']:,} {'candidate' if point['count'] == 1 else 'candidates'})")
    from hemkg.system.text import fit, natural_width, table

    short = {"accessible": "yes", "not_accessible": "-", "undetermined": "?"}
    headers = ["formula", "ion", "conv", "alloy", "s.c.", "mAh/g", "cap+", "stab+", "fast+", "S/R", "conv evid.",
               "s.c. evid."]
    rows = [[row["formula"], row["ion"], short[row["conversion"]], short[row["alloying"]], short[row["space_charge"]],
             _mah(row["capacity_total"]), row["capacity_contributors"], row["stability_contributors"],
             row["fast_charging_contributors"], f"{row['entropy_cation_R']:.3f}", row["evidence_conversion"],
             row["evidence_space_charge"]] for row in summary.top]
    narrow = natural_width(headers, rows) > _width()  # the evidence columns give way to whole formulas
    if narrow:
        headers, rows = headers[:-2], [row[:-2] for row in rows]
    click.echo("\n" + table(headers, rows, _width(), right=(5, 6, 7, 8, 9), wrap=(0, 10, 11)), nl=False)
    click.echo("\n" + fit("(Formulas are charge-balanced, each cation at its most common oxidation state (n/a: no "
                           "balanced reading, kept by --allow-unbalanced); mAh/g is the theoretical capacity of the "
                           "reactions they make accessible (those estimable from the composition) and S/R the ideal "
                           "cation-site entropy, both beyond the paper; cap+/stab+/fast+ count the elements the "
                           "paper's rules credit. The two evidence columns give the strongest level on the paper's "
                           "evidence scale for the mechanisms of the conv and s.c. columns"
                           + (" (left out to fit the width: a wider terminal shows them)" if narrow else "")
                           + "; --json and -o give it for every mechanism. `hem consult FORMULA --ion X` reopens "
                           "any row.)", _width()))


def _figure(name: str, value: float) -> str:
    """An objective's value as the table prints it: capacity in mAh/g to one decimal, counts as integers."""
    return _mah(value) if name == "capacity" else f"{value:g}"  # the other objectives are counts


@main.group(cls=Group)
def kg() -> None:
    """Check and summarise the knowledge graph."""


@kg.command()
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the problems as JSON.")
@json_format_option
@click.option("--max-bytes", type=click.IntRange(min=1), help="Largest FILE to read, in bytes (default 50,000,000).")
def validate(files: tuple[Path, ...], as_json: bool, max_bytes: int | None) -> None:
    """Run the SHACL shapes and violation queries on the graph (plus FILES, Turtle).

    Exit 0 when it conforms, 1 when it does not, 2 on an unreadable file.
    """
    from hemkg.graph import checks
    from hemkg.graph.store import MAX_USER_FILE_BYTES

    for f in files:
        if not f.is_file():
            fail(f"no file '{f}'" + (" (it is a folder)" if f.is_dir() else ""),
                 "give the path of a Turtle (.ttl) file")
    try:
        problems = checks.validate(files, max_bytes or MAX_USER_FILE_BYTES)
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
@click.option("--endpoint", required=True, help="The store's Graph Store Protocol URL, e.g. http://127.0.0.1:7878/store.")
@click.option("--timeout", type=click.FloatRange(min=0.1, max=3600), default=60.0, show_default=True)
@library_graph_options
def push(endpoint: str, timeout: float, library_dir: str | None = None, no_library: bool = False) -> None:
    """Upload the graph (asserted and entailed, as two named graphs) to a SPARQL 1.1 store, and the literature
    library's nanopublications, each graph as a named graph of its own."""
    from hemkg.graph.store import knowledge_graph
    from hemkg.sparql import remote
    from hemkg.sparql.query import library_quads

    directory, use = _library_graphs(library_dir, no_library)
    graphs = {**remote.graphs_for_push(knowledge_graph()),
              **(remote.library_graphs_for_push(library_quads(directory)) if use else {})}
    written = remote.push(endpoint, graphs, timeout)
    for graph in written:
        click.echo(f"wrote <{graph}>")


@kg.command()
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@json_format_option
def stats(as_json: bool) -> None:
    """Summarise the graph: terms by type, statements, references."""
    from hemkg.answers import stats as kgstats

    figures = kgstats.stats()
    if as_json:
        emit_json(figures)
    else:
        echo_text(kgstats.render(figures, _width()))


@main.command()
@click.option("--format", "fmt", metavar="FORMAT",
              help="ttl, nt, jsonld, rdfxml (RDF); graphml, gexf, dot, cytoscape (graph tools); html (a page "
                   "for the browser). Default: from the suffix of -o, else ttl.")
@click.option("--scope", default="all", show_default=True,
              help="all, ontology, guidelines, term:NAME (term:Zn, 'term:ref 57') or candidate:FORMULA.")
@click.option("--ion", type=ION, default="Li", show_default=True, help="Carrier ion of a candidate: scope.")
@click.option("-o", "--output", type=click.Path(path_type=Path), metavar="FILE",
              help="Write to FILE, replacing it only once the export is complete (default: stdout).")
def export(fmt, scope, ion, output) -> None:
    """Export the knowledge graph, or part of it, as RDF, for graph tools or as a web page.

    \b
    hem export --format ttl -o hemkg.ttl                  # the whole graph, asserted and entailed
    hem export --format graphml --scope guidelines -o guidelines.graphml
    hem export --format html --scope term:Zn -o zinc.html  # open it in a browser
    hem export --format jsonld --scope "candidate:(MgCoNiCuZn)O" --ion Na
    """
    from hemkg.exports import formats as exports

    if output is not None and str(output) == "-":
        output = None
    chosen = exports.choose_format(fmt, output)
    data = exports.export(chosen, scope, ion, output)
    if data is not None:  # no -o: the bytes go to stdout
        click.echo(data, nl=False)
    elif output is not None:  # say what was written, on stderr (stdout stays empty, as for any -o)
        click.echo(f"wrote {output} ({chosen}, {_size_text(output.stat().st_size)}, scope {scope})", err=True)


def _size_text(size: int) -> str:
    """A file's size as people read it: 812 bytes, 14.2 kB, 3.1 MB."""
    for unit, factor in (("MB", 1e6), ("kB", 1e3)):
        if size >= factor:
            return f"{size / factor:.1f} {unit}"
    return f"{size:,} bytes"


# --------------------------------------------------------------------------- hem plot: figures (hemkg[plot])

@main.group(cls=Group)
def plot() -> None:
    """Figures: element planes, Pareto fronts, capacities.

    PNG at 300 dpi, SVG or PDF, from the suffix of -o; needs matplotlib
    (pip install 'hemkg[plot]').

    \b
    hem plot periodic-table -o planes.png                  # Fig. 6a: the planes, in colour
    hem plot periodic-table "(MgCoNiCuZn)O" -o roles.svg    # a candidate's elements and their roles
    hem plot pareto --objectives capacity,cycling_stability -k 5 --anions O --ions Li --require Fe -o front.pdf
    hem plot capacity "(LiFeZnNiCoMn)3O4" -o capacity.png  # theoretical by mechanism, and reported
    """


def figure_output(f):
    """-o FILE, required: where the figure goes."""
    return click.option("-o", "--output", type=click.Path(path_type=Path), metavar="FILE", required=True,
                        help="Write the figure to FILE: .png (300 dpi), .svg or .pdf.")(f)


def _write_figure(make: Callable[[], Any], output: Path) -> None:
    """Check the target, make the figure, write it whole (or nothing) and say what was written."""
    from hemkg.figures import base

    base.check_target(output)  # before any work: a wrong suffix or folder fails at once
    base.require_matplotlib()
    figure = make()
    base.save(figure, output)
    width, height = figure.get_size_inches()
    size = (f", {round(width * base.PNG_DPI)} x {round(height * base.PNG_DPI)} px"
            if base.format_of(output) == "png" else "")
    click.echo(f"wrote {output} ({base.format_of(output).upper()}, {width:.1f} x {height:.1f} in{size})", err=True)


@plot.command(name="periodic-table")
@click.argument("formula", required=False)
@click.option("--ion", type=ION, default="Li", show_default=True, help="Carrier ion of FORMULA.")
@figure_output
def plot_periodic_table(formula: str | None, ion: str, output: Path) -> None:
    """The periodic table in the colours of the paper's planes.

    As Fig. 6a groups the elements; with FORMULA, its elements outlined and
    their roles in the consultation listed with their evidence.
    """
    from hemkg.figures.periodic import periodic_table

    _write_figure(lambda: periodic_table(formula, ion), output)


@plot.command(name="capacity")
@click.argument("formula")
@click.option("--ion", type=ION, default="Li", show_default=True, help="Carrier ion.")
@figure_output
def plot_capacity(formula: str, ion: str, output: Path) -> None:
    """Capacity by mechanism, beside the paper's reported ones.

    FORMULA's theoretical capacity by mechanism (beyond the paper), beside the
    specific capacities the paper reports for the same composition or the same
    elements, each with its reference number.
    """
    from hemkg.figures.capacity import capacity

    _write_figure(lambda: capacity(formula, ion), output)


SCREEN_SELECTION = ("include", "exclude", "require", "sizes", "anions", "ions", "grid", "mechanisms", "evidence",
                    "hem_only", "no_unclassified", "allow_unbalanced", "workers")


@plot.command(name="pareto", cls=VocabCommand)
@click.option("--objectives", default="capacity,cycling_stability", show_default=True,
              help="Two or three of the screen's objectives (higher is better), the third drawn as colour.")
@figure_output
def plot_pareto(objectives: str, output: Path, **selection: Any) -> None:
    """A screen's Pareto front on two or three objectives.

    Takes hem screen's selection options (-k, --anions, --ions, --require, ...).

    Every screened point is drawn faint, the non-dominated ones highlighted and
    joined, the best few labelled with a formula.
    """
    from hemkg.figures import pareto as pf
    from hemkg.screening import run as sc

    workers, k = selection.pop("workers"), selection.pop("sizes")
    space, filters, names = sc.from_options(k=k, pareto=objectives, **selection)

    def make() -> Any:
        executor = None
        try:
            with sc.StopRequest() as stop:
                executor = sc.default_executor(workers)
                rows, summary = pf.screened_rows(space, filters, names, executor, stop)
        finally:
            if executor is not None:
                executor.shutdown(cancel_futures=True)
        if summary.interrupted:
            fail("interrupted before the screen was done; nothing written")
        return pf.pareto(rows, names)

    _write_figure(make, output)


# the very options of hem screen, so that the two cannot drift apart
plot_pareto.params[:0] = [p for p in screen.params if p.name in SCREEN_SELECTION]


# --------------------------------------------------------------------------- hem evidence: the literature library
# Every import stays inside the commands: without a library command, no store,
# platformdirs or pySHACL is loaded (a consultation costs what it did before).


def library_options(f):
    """--library DIR and --wait SECONDS, shared by the hem evidence commands."""
    f = click.option("--wait", type=click.FloatRange(min=0, max=3600), default=10.0, show_default=True,
                     help="Seconds to wait for another process using the library.")(f)
    return click.option("--library", "library_dir", metavar="DIR",
                        help="The library folder (default: $HEMKG_LIBRARY, else your user data folder).")(f)


def _open_library(library_dir: str | None, wait: float, command: str, write: bool = False):
    """The open library as a context manager (a LibraryError is the user's: one line, exit 2, by Group)."""
    from hemkg.library import store as lib

    return lib.Library.open(lib.location(library_dir), write=write, wait=wait, command=command)


@main.group(cls=Group)
def evidence() -> None:
    """Your literature library: findings from primary papers, kept as nanopublications.

    \b
    hem evidence template > findings.csv    # one finding per row
    hem evidence add findings.csv           # checked first: nothing is added unless every row is right
    hem evidence list
    hem evidence show 10.1039/d4ee01329h
    hem evidence export --format trig -o library.trig
    """


@evidence.command(name="template")
def evidence_template() -> None:
    """Print the CSV template: its header and one example row."""
    from hemkg.library.findings import template

    click.echo(template(), nl=False)


ADD_LINES = 20  # contributions named one per line after an add; beyond, a count


@evidence.command(name="add")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--replace", is_flag=True, help="Supersede a contribution (same DOI and formula) the library holds.")
@library_options
def evidence_add(file: Path, replace: bool, library_dir: str | None, wait: float) -> None:
    """Add the findings of FILE (CSV template, or Turtle/TriG with the ontology's terms).

    Every finding is checked first (SHACL shapes, formula, element, ion, DOI);
    with any problem, each is reported with its line and nothing is added.
    Adding the same findings again changes nothing.
    """
    from hemkg.consultation import findings

    if not file.is_file():
        fail(f"no file '{file}'" + (" (it is a folder)" if file.is_dir() else ""),
             "give a CSV file made from hem evidence template, or a Turtle/TriG file")
    batch = findings.read(file)
    _report_problems(file, batch.problems, "nothing was added")
    with _open_library(library_dir, wait, "hem evidence add", write=True) as library:
        plan = library.plan_import(batch.nanopubs) if batch.nanopubs else library.plan_add(batch.contributions, replace)
        _report_problems(file, plan.problems, "nothing was added")
        library.write(plan.write)
        where = library.path
    counts = {k: sum(1 for *_, o in plan.outcomes if o == k) for k in ("added", "replaced", "unchanged", "retraction")}
    changed = [o for o in plan.outcomes if o[2] != "unchanged"]
    for doi, formula, outcome in changed[:ADD_LINES]:
        click.echo(f"  {outcome:<10} {doi}  {formula}")
    if len(changed) > ADD_LINES:
        click.echo(f"  ... and {len(changed) - ADD_LINES} more (hem evidence list shows them all)")
    click.echo(f"{counts['added']} contribution(s) added, {counts['replaced']} replaced, "
               f"{counts['unchanged']} unchanged"
               + (f", {counts['retraction']} retraction(s)" if counts["retraction"] else "")
               + f" ({batch.findings} finding(s) read); library at {where}")


def _report_problems(file: Path, problems, outcome: str) -> None:
    if not problems:
        return
    for p in problems:
        click.echo(f"error: {file.name} {p}", err=True)
    fail(f"{len(problems)} problem(s) in {file.name}; {outcome}", "fix each line above and add the file again")


@evidence.command(name="list")
@click.option("--all", "show_all", is_flag=True, help="Also superseded and retracted versions.")
@click.option("--json", "as_json", is_flag=True, help="Print the contributions as JSON.")
@json_format_option
@library_options
def evidence_list(show_all: bool, as_json: bool, library_dir: str | None, wait: float) -> None:
    """List the contributions of the library: DOI, year, formula, findings, title."""
    with _open_library(library_dir, wait, "hem evidence list") as library:
        entries = [e for e in library.entries() if e.nanopub.contribution and (show_all or e.status == "current")]
        where = library.path
    rows = [_entry_json(e, findings=False) for e in entries]
    if as_json:
        emit_json({"library": str(where), "contributions": rows})
        return
    if not rows:
        click.echo(f"The library at {where} holds no findings yet: hem evidence add FILE adds some.")
        return
    for r in rows:
        status = "" if r["status"] == "current" else f" [{r['status']}]"
        click.echo(f"{r['doi']:<32} {r['year'] or '':<5} {r['formula']:<28} {r['findings']:>3} finding(s){status}"
                   + (f"  {r['title']}" if r["title"] else ""))


def _entry_json(entry, findings: bool = True) -> dict[str, Any]:
    from hemkg.library.vocabulary import vocabulary

    n, c = entry.nanopub, entry.nanopub.contribution
    out: dict[str, Any] = {"doi": c.doi, "formula": c.formula, "title": c.title, "year": c.year,
                           "status": entry.status, "nanopublication": n.iri, "created": n.created,
                           "supersedes": list(n.supersedes), "superseded_or_retracted_by": entry.by}
    out["findings"] = [f.row(vocabulary()) for f in c.findings] if findings else len(c.findings)
    return out


@evidence.command(name="show")
@click.argument("doi")
@click.option("--json", "as_json", is_flag=True, help="Print the contributions and their history as JSON.")
@json_format_option
@library_options
def evidence_show(doi: str, as_json: bool, library_dir: str | None, wait: float) -> None:
    """Show the findings the library holds from the paper DOI, with their quotes and history."""
    from hemkg.library.vocabulary import normalise_doi

    with _open_library(library_dir, wait, "hem evidence show") as library:
        entries = library.find(normalise_doi(doi))
        where = library.path
    if not entries:
        fail(f"the library at {where} holds no findings of {doi}", "hem evidence list shows the DOIs it holds")
    rows = [_entry_json(e) for e in entries]
    if as_json:
        emit_json({"doi": normalise_doi(doi), "contributions": rows})
        return
    for r in rows:
        click.echo(f"{r['doi']}  {r['formula']}  [{r['status']}, added {r['created'][:10]}]")
        if r["title"] or r["year"]:
            click.echo(f"  {r['title'] or ''}{' (' + str(r['year']) + ')' if r['year'] else ''}")
        for f in r["findings"]:
            subject = " ".join(v for v in (f["element"], f["role"], f["mechanism"]) if v)
            figures = ", ".join(f"{f[k]} {unit}" for k, unit in (("capacity_mAh_g", "mAh/g"), ("current_A_g", "A/g"),
                                                                  ("cycles", "cycles"), ("retention_pct", "%")) if f[k])
            click.echo(f"  - {f['finding']}: {subject}{' ' + figures if figures else ''} "
                       f"({f['ion']}, {f['electrode']}, {f['evidence_level']})")
            click.echo(f"    \"{f['quote']}\"")
            if f["note"]:
                click.echo(f"    note: {f['note']}")


@evidence.command(name="remove")
@click.argument("doi")
@click.option("--formula", help="Retract only the contribution on this formula.")
@click.option("--reason", help="Why, recorded with the retraction.")
@library_options
def evidence_remove(doi: str, formula: str | None, reason: str | None, library_dir: str | None, wait: float) -> None:
    """Retract the findings of the paper DOI: recorded as a retraction, never deleted."""
    from hemkg.library.vocabulary import normalise_doi

    with _open_library(library_dir, wait, "hem evidence remove", write=True) as library:
        wanted = normalise_doi(doi)
        targets = [e for e in library.find(wanted, " ".join(formula.split()) if formula else None)
                   if e.status == "current"]
        if not targets:
            fail(f"the library at {library.path} holds no current findings of {doi}"
                 + (f" on {formula}" if formula else ""), "hem evidence list shows what it holds")
        library.write(library.retract_all(targets, reason))
    for e in targets:
        click.echo(f"  retracted  {e.nanopub.contribution.doi}  {e.nanopub.contribution.formula}  <{e.nanopub.iri}>")


@evidence.command(name="export")
@click.option("--format", "fmt", type=click.Choice(["trig", "jsonld"]), default="trig", show_default=True)
@click.option("-o", "--output", type=click.Path(path_type=Path), metavar="FILE",
              help="Write to FILE, replacing it only once the export is complete (default: stdout).")
@library_options
def evidence_export(fmt: str, output: Path | None, library_dir: str | None, wait: float) -> None:
    """Export every nanopublication of the library (each contribution's four graphs, and the retractions)."""
    with _open_library(library_dir, wait, "hem evidence export") as library:
        data = library.export(fmt)
    if output is None or str(output) == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    tmp = output.with_name(output.name + ".part")
    try:
        tmp.write_bytes(data)
        tmp.replace(output)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        fail(f"cannot write '{output}': {err.strerror or err}", "choose a folder you can write to")


def _library_findings(library_dir: str | None, wait: float, command: str):
    """Every current finding of the library, for conflicts, evaluate and describe; none there: exit 2 with a hint."""
    from hemkg.consultation import literature
    from hemkg.library.place import location

    found = literature.read(library_dir, wait)
    if found is None or not found.findings:
        fail(f"the library at {location(library_dir)} holds no findings, so {command} has nothing to compare",
             "hem evidence add FILE adds findings (hem evidence template prints the CSV columns)")
    return found


@evidence.command(name="conflicts")
@click.option("--json", "as_json", is_flag=True, help="Print the conflicts as JSON.")
@library_options
def evidence_conflicts(as_json: bool, library_dir: str | None, wait: float) -> None:
    """Where findings disagree with the paper's guidelines, or with each other: each finding, the rule and
    statement it contradicts (references, section, figure) and both citations."""
    from hemkg.answers import audit

    answer = audit.conflicts(_library_findings(library_dir, wait, "hem evidence conflicts"))
    if as_json:
        emit_json(answer)
    else:
        click.echo(audit.render_conflicts(answer, width=_width()))


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the evaluation as JSON.")
@library_options
def evaluate(as_json: bool, library_dir: str | None, wait: float) -> None:
    """How well the paper's guidelines predict your library: each anode finding on a mechanism or an element's
    role against the rules' answer for its material (consulted without the library), agree / disagree / not
    predicted, per mechanism and per role."""
    from hemkg.answers import audit

    answer = audit.evaluate(_library_findings(library_dir, wait, "hem evaluate"))
    if as_json:
        emit_json(answer)
    else:
        click.echo(audit.render_evaluation(answer, width=_width()))


if __name__ == "__main__":
    main()
