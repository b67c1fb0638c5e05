"""The Python API's calls: what `hem consult`, `explain`, `compare`, `describe`, `screen` and `sparql` do, as
functions that return typed results (hemkg.api.results) or tables (pandas, pyarrow).

Every heavy import happens inside a call, so `import hemkg` stays light. Bad
input raises a hemkg.errors.HemkgError with a message and a hint, as the CLI
prints them: InputError (a ValueError) for a value, InputTypeError (a
TypeError) for a value of the wrong type, FormulaError for a formula; a table
without pandas installed raises ExtraNotInstalled (an ImportError).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from hemkg.api import candidates
from hemkg.api.results import Comparison, Consultation, Description, Explanation
from hemkg.errors import ExtraNotInstalled, InputError, InputTypeError

if TYPE_CHECKING:
    import pandas
    import pyarrow

    from hemkg.consultation.consultation import Consultation as Internal
    from hemkg.consultation.consultation import Structure
    from hemkg.consultation.literature import LibraryFindings

Candidate = Any  # a formula string, a mapping of element symbol to amount, or a pymatgen Composition
Library = str | os.PathLike[str] | bool | None


def _internal(candidate: Candidate, ion: str, structure: Structure | Mapping[str, Any] | None,
              findings: LibraryFindings | None) -> Internal:
    from hemkg.consultation.consultation import consult as run

    return run(candidates.formula_of(candidate), candidates.ion_of(ion), candidates.structure_of(structure), findings)


def _consultation(candidate: Candidate, ion: str, structure: Structure | Mapping[str, Any] | None,
                  findings: LibraryFindings | None, all_findings: bool = False) -> Consultation:
    from hemkg.answers.summary import summarise

    c = _internal(candidate, ion, structure, findings)
    return Consultation.from_answer(summarise(c, all_findings), c)


def consult(candidate: Candidate, ion: str = "Li", structure: Structure | Mapping[str, Any] | None = None,
            library: Library = None, all_findings: bool = False) -> Consultation:
    """A design consultation on one candidate anode, as `hem consult` gives it.

    `candidate` is a formula string, a mapping of element symbol to amount
    ({"Fe": 3, "O": 4}) or a pymatgen Composition (pymatgen is not imported
    unless you pass one). A string is read with the HEM bracket convention:
    "(MgCoNiCuZn)O" is one cation site the five cations share equally,
    Mg0.2Co0.2Ni0.2Cu0.2Zn0.2O, as the paper writes it. pymatgen reads the same
    text differently: `Composition("(MgCoNiCuZn)O")` holds one of each cation per
    oxygen (a bracket multiplies its group), and so does its `reduced_formula`.
    A Composition is consulted as the amounts it holds; where those would read
    differently under the HEM convention (two or more cations at one whole-number
    amount each), a hemkg.errors.CompositionWarning says so and how to pass the
    high-entropy reading instead.

    `ion`: a carrier ion the paper covers (Li by default). `structure`: a Structure or a mapping of its fields
    (primary_particle_size_nm, conversion_product_size_nm, framework,
    defect_rich, morphology). `library`: None (your literature library, as
    `hem consult` finds it), False (the paper alone) or a library folder. Of the library's findings on related
    materials, the 5 closest per mechanism or role are listed and the rest counted; `all_findings=True` lists
    every one (`hem consult --all-findings`).
    """
    return _consultation(candidate, ion, structure, candidates.library_of(library), all_findings)


def explain(candidate: Candidate, about: str | None = None, ion: str = "Li",
            structure: Structure | Mapping[str, Any] | None = None, full: bool = False,
            library: Library = None, all_findings: bool = False) -> Explanation:
    """Why a consultation concluded what it did (`hem explain`): the rules, the graph's facts with their
    references, your input. `about`: a mechanism, an element of the candidate, a property or 'all'.
    `all_findings`: every library finding on related materials, not the closest 5 and a count."""
    c = _internal(candidate, ion, structure, candidates.library_of(library))
    return Explanation.of(c, about, full, all_findings)  # the derivations alone: no JSON answer is built


def compare(*candidates_: Candidate, ion: str = "Li", structure: Structure | Mapping[str, Any] | None = None,
            library: Library = None, all_findings: bool = False) -> Comparison:
    """Candidates side by side (`hem compare`): each one's consultation, with the same ion and structure."""
    if len(candidates_) == 1 and isinstance(candidates_[0], (list, tuple)):
        candidates_ = tuple(candidates_[0])
    if len(candidates_) < 2:
        raise InputError("compare needs at least two candidates", "e.g. compare('(MgCoNiCuZn)O', 'InGeSiP3')")
    findings = candidates.library_of(library)  # read once for all of them
    return Comparison(tuple(_consultation(c, ion, structure, findings, all_findings) for c in candidates_))


def describe(term: str) -> Description:
    """What the paper says about a term (`hem describe`): an element, anion, mechanism, structural factor,
    carrier ion, battery chemistry, reported material or reference ('ref 57'). An unknown term raises
    hemkg.errors.UnknownTerm (a LookupError) with close matches in `suggestions`."""
    from hemkg.answers import describe as d

    if not isinstance(term, str):
        raise InputTypeError(f"the term must be a str, not {type(term).__name__}", "e.g. describe('Zn')")
    if not term.strip():
        raise InputError("the term is empty", "name an element, mechanism, material or reference, e.g. 'Zn'")
    if len(term) > 200:
        raise InputError(f"the term is {len(term)} characters long; the longest name in the graph is far shorter",
                         "give one element, mechanism, material or reference number")
    return Description.from_answer(d.describe(term))


# ------------------------------------------------------------------ SPARQL

def _value(term: Any) -> Any:
    """A query's term as Python: an IRI or blank node as its text, a literal as a number, a bool or its text."""
    import pyoxigraph as ox

    if term is None:
        return None
    if isinstance(term, ox.Literal):
        kind = term.datatype.value.rsplit("#", 1)[-1]
        try:
            if kind in ("integer", "int", "long", "short", "nonNegativeInteger", "positiveInteger"):
                return int(term.value)
            if kind in ("decimal", "double", "float"):
                return float(term.value)
            if kind == "boolean":
                return term.value in ("true", "1")
        except ValueError:
            return term.value
        return term.value
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    return term.value


def query(sparql: str, *, candidate: Candidate | None = None, ion: str = "Li", timeout: float = 10.0,
          max_rows: int = 10_000, as_frame: bool = False) -> Any:
    """A read-only SPARQL query on the graph (`hem sparql`), under the same checks and limits.

    SELECT: a list of dicts, variable -> value (IRIs in full, literals as numbers,
    booleans or text; None where unbound), or a pandas DataFrame with as_frame=True.
    ASK: a bool. CONSTRUCT and DESCRIBE: their triples as dicts of subject, predicate
    and object. `candidate` adds its consultation and derivations (PROV-O) to the dataset.
    """
    import pyoxigraph as ox

    from hemkg.sparql import query as sp

    if not isinstance(sparql, str):
        raise InputTypeError(f"the query must be a str, not {type(sparql).__name__}",
                             "e.g. query('SELECT ?e WHERE { ?e hem:memberOf hemkg:plane-C }')")
    formula = None if candidate is None else candidates.formula_of(candidate)
    store, graphs = sp.dataset(formula, candidates.ion_of(ion))
    answer = sp.run(sparql, store, lambda form: "json" if form in ("select", "ask") else "nt", timeout, max_rows,
                    graphs)
    if answer.kind == "ask":
        return bool(answer.boolean)
    if answer.kind == "graph":
        rows = [{"subject": _value(t.subject), "predicate": _value(t.predicate), "object": _value(t.object)}
                for t in ox.parse(answer.body, format=ox.RdfFormat.N_TRIPLES)]
        variables = ["subject", "predicate", "object"]
    else:
        variables = answer.variables
        solutions = ox.parse_query_results(answer.body, format=ox.QueryResultsFormat.JSON)
        assert isinstance(solutions, ox.QuerySolutions)  # a SELECT's answer
        rows = [{v: _value(solution[v]) for v in variables} for solution in solutions]
    if as_frame:
        return _pandas().DataFrame(rows, columns=variables)
    return rows


# ------------------------------------------------------------------ screening

def _pandas():
    try:
        import pandas
    except ImportError:
        raise ExtraNotInstalled("a table needs pandas, which is not installed",
                                "pip install 'hemkg[pandas]' (or ask for as_arrow=True with pyarrow)") from None
    return pandas


def screen(*, k: int | str | Iterable[int] | None = None, ions: str | Iterable[str] | None = None,
           ion: str | None = None, anions: str | Iterable[str] | None = None,
           require: str | Iterable[str] | None = None, include: str | Iterable[str] | None = None,
           exclude: str | Iterable[str] | None = None, grid: float | None = None,
           mechanism: str | Iterable[str] = (), evidence: str | Iterable[str] | Mapping[str, str] = (),
           hem_only: bool = False, no_unclassified: bool = False, allow_unbalanced: bool = False,
           rank_by: str = "capacity", pareto: str | Iterable[str] = (), top: int | None = 20,
           workers: int | None = 1, as_arrow: bool = False) -> pandas.DataFrame | pyarrow.Table:
    """Screen the composition space with the consultation rules (`hem screen`), its options as keyword arguments:
    screen(k=5, ions=["Li"], anions=["O"], require=["Fe"], mechanism="space_charge", top=10).

    Returns a pandas DataFrame (pyarrow Table with as_arrow=True): the `top` rows ranked by `rank_by` (the front's
    examples with `pareto`; every kept row with top=None), with the columns `hem screen -o` writes, numbers as
    numbers (a capacity with no charge-balanced reading is NaN), and one column per element, `x_Fe`, its amount per
    formula unit with the cations summing to 1. The run's figures (screened, kept, unbalanced, the Pareto front)
    are in `df.attrs["screen"]` (the Table's schema metadata, as JSON). `workers`: processes (None: all cores).
    """
    import json

    from hemkg.screening import run as sc

    if ion is not None:
        if ions is not None:
            raise InputError("give ions or ion, not both", "e.g. ions=['Li', 'Na'] or ion='Li'")
        ions = [ion]
    if top is not None and (isinstance(top, bool) or not isinstance(top, int) or top < 1):
        raise InputError(f"top must be a positive whole number or None, not {top!r}",
                         "e.g. top=20, or top=None for every kept row")
    space, filters, objectives = sc.from_options(
        include=include, exclude=exclude, require=require, k=k, anions=anions, ions=ions, grid=grid,
        mechanisms=mechanism, evidence=evidence, hem_only=hem_only, no_unclassified=no_unclassified,
        allow_unbalanced=allow_unbalanced, pareto=pareto)
    pandas = None if as_arrow else _pandas()  # before the work: a missing pandas is said at once
    collector = sc.Collector(rank_by, objectives, top)
    executor = None
    try:
        with sc.StopRequest() as stop:
            executor = sc.default_executor(workers)
            # screen()'s own `top`: rows to rank (1 when the collector keeps every row), or examples per front point
            summary = sc.screen(space, filters, rank_by, objectives, top or (20 if objectives else 1), executor,
                                collector, stop=stop)
    finally:
        if executor is not None:
            executor.shutdown(cancel_futures=True)
    columns = collector.rows(summary)
    figures = {"screened": summary.screened, "of": space.count(), "kept": summary.kept,
               "unbalanced": summary.unbalanced, "interrupted": summary.interrupted,
               "ranked_by": list(objectives) or rank_by, "front": summary.front}
    if as_arrow:
        table = _arrow(columns)
        return table.replace_schema_metadata({"hemkg.screen": json.dumps(figures)})
    assert pandas is not None
    frame = pandas.DataFrame({name: pandas.Series(values, dtype=_dtype(name), name=name)
                              for name, values in columns.items()})
    frame.attrs["screen"] = figures
    return frame


def _kind(name: str) -> str:
    """A screen column's kind: float, int, bool or str (screening/run.py columns_of)."""
    if name.startswith("x_") or (name.startswith("capacity_") and not name.endswith("_contributors")) \
            or name == "entropy_cation_R":
        return "float"
    if name.endswith("_contributors") or name == "other_assignments":
        return "int"
    if name in ("charge_balanced", "less_common_states", "meets_hem_definition", "unclassified"):
        return "bool"
    return "str"


def _dtype(name: str) -> str | None:
    return {"float": "float64", "int": "int64", "bool": "bool"}.get(_kind(name))


def _arrow(columns: dict[str, list]) -> pyarrow.Table:
    try:
        import pyarrow as pa
    except ImportError:
        raise InputError("an Arrow table needs pyarrow, which is not installed",
                         "pip install 'hemkg[parquet]', or leave out as_arrow for a pandas DataFrame") from None
    types = {"float": pa.float64(), "int": pa.int64(), "bool": pa.bool_(), "str": pa.string()}
    return pa.table({name: pa.array(values, type=types[_kind(name)]) for name, values in columns.items()})
