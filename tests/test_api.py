"""The public Python API (issue 14): `import hemkg` is light, results are typed, and they are the CLI's answers.

The consultations checked here are the paper's own examples (Huang et al., Energy Environ. Sci. 2025, 18,
10286), read from their golden cases in tests/cases so that no expectation is copied from the output.
"""

from __future__ import annotations

import dataclasses
import json
import math
import subprocess
import sys
import tomllib
import warnings
from pathlib import Path

import pytest
from conftest import members, run

import hemkg
from hemkg import api
from hemkg.errors import (
    CompositionWarning,
    FormulaError,
    HemkgError,
    HemkgWarning,
    InputError,
    InputTypeError,
    ScreenError,
    UnknownTerm,
)
from hemkg.graph.vocab import vocab

CASES = Path(__file__).parent / "cases"
PACKAGE_PARENT = str(Path(hemkg.__file__).resolve().parent.parent)
HEAVY = ("numpy", "pandas", "rdflib", "pyoxigraph", "pymatgen", "click", "pyarrow")


def case(name: str) -> dict:
    return tomllib.loads((CASES / f"{name}.toml").read_text(encoding="utf-8"))


def python(code: str) -> str:
    """Run `code` in a fresh interpreter that imports this tree as hemkg; its stdout."""
    import os

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([PACKAGE_PARENT, os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def mgconicuzno():
    return hemkg.consult("(MgCoNiCuZn)O", ion="Li", library=False)


# ------------------------------------------------------------------ import hemkg: light, and it lists the API

def test_import_hemkg_loads_nothing_heavy_and_lists_the_api():
    """`import hemkg` (what `hem` starts with) loads no graph library, numpy or pandas; dir(hemkg) shows the API,
    and taking `consult` from it still loads none of them (each call imports what it needs)."""
    out = json.loads(python(
        "import hemkg, sys, json; heavy = " + repr(HEAVY) + "\n"
        "before = [m for m in heavy if m in sys.modules]\n"
        "names = dir(hemkg)\n"
        "from hemkg import consult, screen, Consultation\n"
        "after = [m for m in heavy if m in sys.modules]\n"
        "print(json.dumps({'before': before, 'after': after, 'dir': names, 'callable': callable(consult)}))"))
    assert out["before"] == [] and out["after"] == []
    assert set(api.__all__) <= set(out["dir"]) and out["callable"]


def test_the_package_root_and_the_api_export_the_same_names():
    assert sorted(hemkg.__all__) == sorted(["__version__", *api.__all__])
    for name in api.__all__:
        assert getattr(hemkg, name) is getattr(api, name)
    with pytest.raises(AttributeError, match="no attribute 'consul'"):
        hemkg.consul  # noqa: B018 - a slip of the name is an AttributeError, as for any module


def test_a_string_candidate_never_imports_pymatgen():
    """pymatgen is imported only by a caller who passes a Composition (the API checks the class by its name)."""
    out = python("import hemkg, sys; hemkg.consult('Fe3O4', library=False); print('pymatgen' in sys.modules)")
    assert out.strip() == "False"


# ------------------------------------------------------------------ typed results

def test_consultation_is_typed_and_gives_the_papers_reading(mgconicuzno):
    """Section 2.2 (ref 46) and Section 3.1 (ref 48): in (MgCoNiCuZn)O with Li, Co, Ni, Cu and Zn convert, Zn
    also alloys, Mg is an inactive stabilizer; the expectations are the golden case's."""
    expected = case("paper-mgconicuzno-li")
    c = mgconicuzno
    assert isinstance(c, hemkg.Consultation) and c.formula == "(MgCoNiCuZn)O" and c.ion == "Li"
    assert list(c.mechanisms) == [m.json_key for m in vocab().mechanisms]
    for name, m in c.mechanisms.items():
        assert isinstance(m, hemkg.Mechanism) and m.name == name
        assert m.status == expected["status"][name]
        assert m.elements == tuple(expected["elements"][name])
        assert m.accessible == (m.status == "accessible")
        if name in expected["evidence"]:
            assert m.evidence == expected["evidence"][name]
    assert {s: list(r) for s, r in c.roles.items()} == {s: sorted(r) for s, r in expected["roles"].items()}
    assert 46 in c.mechanisms["conversion"].citations  # Marques et al., the EXAFS study of this material
    assert any(d["references"] == [46] for d in c.mechanisms["conversion"].evidence_detail)
    wanted = {(e["property"], e["direction"], e["rule"], tuple(e["elements"])) for e in expected["expect"]["effects"]}
    assert wanted <= {(e.property, e.direction, e.rule, e.elements) for e in c.effects}
    assert all(isinstance(e, hemkg.Effect) and e.citations for e in c.effects)
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.formula = "FeO"  # type: ignore[misc]


def test_findings_are_the_answers_notes_cautions_warnings_and_recommendations(mgconicuzno):
    """The golden case's topics (Section 3.1's phase-formation caution; Table 1's recommendations) as typed
    Findings; a formula with no charge-balanced reading (the five cations per O that pymatgen reads
    '(MgCoNiCuZn)O' as) is warned about, as the JSON answer does."""
    expected = case("paper-mgconicuzno-li")["expect"]
    assert set(expected["cautions"]) <= {f.topic for f in mgconicuzno.cautions}
    assert set(expected["notes"]) <= {f.topic for f in mgconicuzno.notes}
    assert set(expected["recommendations"]) <= {f.topic for f in mgconicuzno.recommendations}
    assert mgconicuzno.warnings == ()
    unbalanced = hemkg.consult("MgCoNiCuZnO", library=False)
    answer = unbalanced.to_dict()
    assert answer["warnings"] and [f.text for f in unbalanced.warnings] == [w["text"] for w in answer["warnings"]]
    assert "charge-balance" in {f.topic for f in unbalanced.warnings} and unbalanced.capacity.total is None
    for kind in ("notes", "cautions", "recommendations"):
        assert [f.citations for f in getattr(unbalanced, kind)] == [tuple(x["citations"]) for x in answer[kind]]


def test_capacity_by_mechanism_adds_up_with_its_arithmetic(mgconicuzno):
    """The theoretical capacity (beyond the paper, eqn 2 for conversion): the total is the sum of the mechanisms'
    figures, and each figure is the one its written-out arithmetic comes to."""
    cap = mgconicuzno.capacity
    assert isinstance(cap, hemkg.Capacity) and cap.unit == "mAh/g"
    assert set(cap.by_mechanism) | set(cap.not_estimable) == set(mgconicuzno.mechanisms)
    assert cap.total == pytest.approx(sum(v for v in cap.by_mechanism.values() if v is not None), abs=0.11)
    for name, value in cap.by_mechanism.items():
        assert f"per formula unit, {value:.1f} mAh/g." in cap.arithmetic[name], cap.arithmetic[name]
    conversion = next(k for k in cap.by_mechanism if mgconicuzno.mechanisms[k].elements == ("Co", "Cu", "Ni", "Zn"))
    assert all(f"{x}2+ 0.2 x 2" in cap.arithmetic[conversion] for x in ("Co", "Ni", "Cu", "Zn"))


def test_explanation_wraps_hem_explain(mgconicuzno, runner, own_library):
    """result.explanation(about='Zn') is `hem explain ... --about Zn`: the same text and the same JSON."""
    e = mgconicuzno.explanation(about="Zn")
    assert isinstance(e, hemkg.Explanation) and str(e) == e.text
    cli = run(runner, "explain", "(MgCoNiCuZn)O", "--about", "Zn", "--json")
    assert cli.exit_code == 0 and e.to_dict() == json.loads(cli.stdout)
    assert "Zn" in e.text and "[46]" in e.text  # the report on this material (Section 2.2)
    full = hemkg.explain("(MgCoNiCuZn)O", about="Zn", full=True, library=False)
    assert full.full and len(full.text) > len(e.text)


# ------------------------------------------------------------------ the same as the CLI

def test_to_dict_is_the_cli_json_with_its_schema_version(runner, own_library):
    """to_dict() == `hem consult --json`, schema_version included; the same for compare and describe."""
    from hemkg.answers.summary import SCHEMA_VERSION

    for formula, ion in (("(MgCoNiCuZn)O", "Li"), ("Sb1.4Bi0.2Sn0.2Co0.1Mn0.1Te3", "K")):
        cli = run(runner, "consult", formula, "--ion", ion, "--json")
        assert cli.exit_code == 0
        data = json.loads(cli.stdout)
        assert data["schema_version"] == SCHEMA_VERSION == "1.0"
        assert hemkg.consult(formula, ion=ion).to_dict() == data
    both = hemkg.compare("(MgCoNiCuZn)O", "InGeSiP3")
    assert isinstance(both, hemkg.Comparison) and len(both) == 2 and both[1].formula == "InGeSiP3"
    assert both.to_dict() == json.loads(run(runner, "compare", "(MgCoNiCuZn)O", "InGeSiP3", "--json").stdout)
    zinc = hemkg.describe("Zn")
    assert isinstance(zinc, hemkg.Description) and zinc.covered_by_paper
    assert zinc.to_dict() == json.loads(run(runner, "describe", "Zn", "--json").stdout)


def test_to_dict_is_a_copy(mgconicuzno):
    d = mgconicuzno.to_dict()
    d["mechanisms"].clear()
    assert mgconicuzno.to_dict()["mechanisms"]


# ------------------------------------------------------------------ repr and the HTML card

def test_repr_is_short_even_for_a_long_formula(mgconicuzno):
    """The issue: a consultation's repr was 223,424 characters, which a notebook prints whole."""
    long = hemkg.consult("Li0.05Mg0.05Al0.05Si0.05Ti0.05V0.05Cr0.05Mn0.05Fe0.05Co0.05Ni0.05Cu0.05Zn0.05Ge0.05"
                         "Sr0.05Mo0.05Ru0.05Ag0.05In0.05Sn0.05O", library=False)
    for c in (mgconicuzno, long):
        text = repr(c)
        assert len(text) < 200 and text.startswith("<Consultation ") and c.formula[:20] in text
    assert mgconicuzno.formula in repr(mgconicuzno) and "conversion=accessible" in repr(mgconicuzno)
    assert len(repr(hemkg.compare("(MgCoNiCuZn)O", long.formula, library=False))) < 200


def test_html_card_shows_mechanisms_roles_and_effects_with_references(mgconicuzno):
    """The card a notebook renders: each mechanism with its status and evidence in words, each element's roles,
    each effect with its reference numbers; under 50 KB."""
    from hemkg.consultation.evidence import evidence_scale

    page = mgconicuzno._repr_html_()
    assert len(page.encode("utf-8")) < 50_000
    short = {lv.id: lv.short for lv in evidence_scale()}
    statuses = {t.json_key: t.label for t in vocab().statuses}
    for m in vocab().mechanisms:
        mech = mgconicuzno.mechanisms[m.json_key]
        row = f"<td style='text-align: left; padding: 2px 10px 2px 0; vertical-align: top'>{m.label}</td>"
        assert row in page, m.label
        after = page.split(row, 1)[1].split("</tr>", 1)[0]
        assert statuses[mech.status] in after and short[mech.evidence] in after
        assert ", ".join(mech.elements) in after
    for symbol in mgconicuzno.roles:
        assert f">{symbol}</td>" in page
    for e in mgconicuzno.effects:
        assert f"[{', '.join(map(str, e.citations))}]" in page
    assert "Mg" in page.split("What each element does", 1)[1]


def test_html_card_escapes_what_it_shows(mgconicuzno):
    """Every value goes through html.escape: a statement or formula with markup is shown, not run."""
    answer = mgconicuzno.to_dict()
    answer["formula"] = "<script>alert(1)</script>"
    answer["effects"][0]["statement"] = "a < b & <b>bold</b>"
    page = hemkg.Consultation.from_answer(answer)._repr_html_()
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "a &lt; b &amp; &lt;b&gt;bold&lt;/b&gt;" in page
    with pytest.raises(InputError, match="without the derivations"):
        hemkg.Consultation.from_answer(answer).explanation()


def test_comparison_and_description_render_in_a_notebook():
    both = hemkg.compare("(MgCoNiCuZn)O", "InGeSiP3", library=False)
    table = both._repr_html_()
    assert "InGeSiP3" in table and "(MgCoNiCuZn)O" in table and len(table) < 50_000
    assert str(both).startswith(both.text[:10])
    zinc = hemkg.describe("Zn")
    assert "<pre" in zinc._repr_html_() and len(repr(zinc)) < 200


# ------------------------------------------------------------------ candidates: Composition and mappings

def test_composition_with_the_hem_reading_gives_the_same_consultation():
    """Composition('(Mg0.2Co0.2Ni0.2Cu0.2Zn0.2)O') holds what hemkg reads '(MgCoNiCuZn)O' as (Section 3.1, ref
    48: one rock-salt cation site the five share): the same composition and statuses, and no warning."""
    from pymatgen.core import Composition

    with warnings.catch_warnings():
        warnings.simplefilter("error", HemkgWarning)
        c = hemkg.consult(Composition("(Mg0.2Co0.2Ni0.2Cu0.2Zn0.2)O"), library=False)
    s = hemkg.consult("(MgCoNiCuZn)O", library=False)
    assert c.to_dict()["composition"] == pytest.approx(s.to_dict()["composition"])
    assert {k: m.status for k, m in c.mechanisms.items()} == {k: m.status for k, m in s.mechanisms.items()}
    assert c.capacity.total == s.capacity.total


def test_composition_read_by_pymatgen_from_a_hem_bracket_warns():
    """pymatgen reads '(MgCoNiCuZn)O' as one of each cation per O; hemkg consults those amounts (what the
    Composition holds) and warns, naming the HEM reading and how to ask for it. The warning is a CompositionWarning
    (a UserWarning) and names the caller's line, not hemkg's."""
    from pymatgen.core import Composition

    with pytest.warns(CompositionWarning) as caught:
        c = hemkg.consult(Composition("(MgCoNiCuZn)O"), library=False)
    message = str(caught[0].message)
    assert "'(MgCoNiCuZn)O'" in message and "Mg0.2Co0.2Ni0.2Cu0.2Zn0.2O" in message
    assert caught[0].filename == __file__ and issubclass(CompositionWarning, UserWarning)
    assert c.to_dict()["composition"] == {s: 1.0 for s in ("Mg", "Co", "Ni", "Cu", "Zn", "O")}
    assert c.to_dict()["composition"] != hemkg.consult("(MgCoNiCuZn)O", library=False).to_dict()["composition"]
    with pytest.warns(CompositionWarning):
        hemkg.explain(Composition("(CrMnFeCoNi)3O4"), about="conversion", library=False)


def test_composition_of_a_single_cation_or_unequal_cations_does_not_warn():
    """Fe3O4 (Table 1's example) and InGeSiP3's unequal amounts have no bracket reading to get wrong... save
    InGeSiP3, whose three cations at one each are what pymatgen makes of '(InGeSi)P3': that one warns."""
    from pymatgen.core import Composition

    with warnings.catch_warnings():
        warnings.simplefilter("error", HemkgWarning)
        hemkg.consult(Composition("Fe3O4"), library=False)
        hemkg.consult(Composition("Sb1.4Bi0.2Sn0.2Co0.1Mn0.1Te3"), ion="K", library=False)
    with pytest.warns(CompositionWarning, match=r"'\(InGeSi\)P3'"):
        hemkg.consult(Composition("InGeSiP3"), library=False)


def test_a_mapping_is_read_as_atoms_per_formula_unit(runner, own_library):
    """{'Fe': 3, 'O': 4} is Fe3O4 (Section 2.2's conversion oxide): the same answer as the string, and an ion
    may be written Li+."""
    mapping = hemkg.consult({"Fe": 3, "O": 4}, ion="Li+")
    assert mapping.to_dict() == hemkg.consult("Fe3O4").to_dict()
    assert hemkg.consult({"Mg": 0.2, "Co": 0.2, "Ni": 0.2, "Cu": 0.2, "Zn": 0.2, "O": 1}).to_dict()["composition"] \
        == pytest.approx(hemkg.consult("(MgCoNiCuZn)O").to_dict()["composition"])


def test_structure_as_a_mapping_is_the_clis_options(runner, own_library):
    """structure={'conversion_product_size_nm': 5} is --product-size 5 (Table 1: smaller conversion products)."""
    c = hemkg.consult("Fe3O4", structure={"conversion_product_size_nm": 5, "framework": "rGO"})
    cli = run(runner, "consult", "Fe3O4", "--product-size", "5", "--framework", "rGO", "--json")
    assert c.to_dict() == json.loads(cli.stdout)


@pytest.mark.parametrize(("call", "error", "words"), [
    (lambda: hemkg.consult(42), InputTypeError, "cannot be a int"),
    (lambda: hemkg.consult(["Fe", "O"]), InputTypeError, "cannot be a list"),
    (lambda: hemkg.consult({"Fe": "3", "O": 4}), InputTypeError, "amount of Fe must be a number"),
    (lambda: hemkg.consult({3: 1}), InputTypeError, "keys must be element symbols"),
    (lambda: hemkg.consult({"Fe": -1, "O": 1}), InputError, "positive"),
    (lambda: hemkg.consult({"Fe": math.nan}), InputError, "positive"),
    (lambda: hemkg.consult({}), InputError, "holds no element"),
    (lambda: hemkg.consult({"Xx": 1}), FormulaError, "Xx"),
    (lambda: hemkg.consult("(MgCoNiCuZn"), FormulaError, "unmatched '('"),
    (lambda: hemkg.consult("Fe3O4", ion="Mg"), InputError, "carrier ion"),
    (lambda: hemkg.consult("Fe3O4", ion=1), InputTypeError, "carrier ion"),
    (lambda: hemkg.consult("Fe3O4", structure={"size": 3}), InputError, "no field size"),
    (lambda: hemkg.consult("Fe3O4", structure={"framework": 3}), InputTypeError, "framework"),
    (lambda: hemkg.consult("Fe3O4", structure="small"), InputTypeError, "structure"),
    (lambda: hemkg.consult("Fe3O4", structure={"primary_particle_size_nm": -2}), InputError, "positive size"),
    (lambda: hemkg.consult("Fe3O4", library=3), InputTypeError, "library"),
    (lambda: hemkg.compare("Fe3O4"), InputError, "at least two"),
    (lambda: hemkg.describe(""), InputError, "empty"),
    (lambda: hemkg.describe(7), InputTypeError, "str"),
    (lambda: hemkg.screen(k="x"), ScreenError, "-k 'x'"),
    (lambda: hemkg.screen(k=True), ScreenError, "-k"),
    (lambda: hemkg.screen(mechanism="flying"), ScreenError, "flying"),
    (lambda: hemkg.screen(require=["Qq"]), ScreenError, "Qq"),
    (lambda: hemkg.screen(top=0), InputError, "top"),
    (lambda: hemkg.screen(ions=["Li"], ion="Na"), InputError, "not both"),
    (lambda: hemkg.query(3), InputTypeError, "str"),
])
def test_bad_input_is_a_hemkg_error_with_a_hint(call, error, words):
    """Every bad value is one of hemkg.errors' classes, with a message and a hint, and the built-in type a
    caller would catch (TypeError for a type, ValueError for a value)."""
    with pytest.raises(error) as caught:
        call()
    assert isinstance(caught.value, HemkgError) and words in str(caught.value)
    assert isinstance(caught.value, TypeError if error is InputTypeError else ValueError)
    assert caught.value.hint


def test_an_unknown_term_says_what_is_close():
    with pytest.raises(UnknownTerm) as caught:
        hemkg.describe("Zinq")
    assert isinstance(caught.value, LookupError)


# ------------------------------------------------------------------ screen: a DataFrame, typed

SMALL = {"k": 5, "ions": ["Li"], "anions": ["O"], "require": ["Fe"], "top": 10}


@pytest.fixture(scope="module")
def frame():
    return hemkg.screen(**SMALL)


def test_screen_returns_typed_columns_and_element_amounts(frame):
    """Numbers as numbers, flags as booleans, one x_<element> column per element with the cations summing to 1
    (the equimolar five-cation sets of Fig. 6a's cations, each with Fe, as --require asks)."""
    import pandas as pd

    from hemkg.screening.run import COLUMNS

    assert isinstance(frame, pd.DataFrame) and len(frame) == 10
    assert list(frame.columns[: len(COLUMNS)]) == list(COLUMNS)
    for name in ("capacity_conversion", "capacity_alloying", "capacity_total", "entropy_cation_R"):
        assert frame[name].dtype == "float64", name
    for name in ("capacity_contributors", "stability_contributors", "fast_charging_contributors",
                 "other_assignments"):
        assert frame[name].dtype == "int64", name
    for name in ("charge_balanced", "less_common_states", "meets_hem_definition", "unclassified"):
        assert frame[name].dtype == "bool", name
    fractions = [c for c in frame.columns if c.startswith("x_")]
    assert {c[2:] for c in fractions} == set(vocab().cations) | {"O"}
    assert all(frame[c].dtype == "float64" for c in fractions)
    cations = frame[[f"x_{s}" for s in vocab().cations]]
    assert (cations.sum(axis=1).round(6) == 1).all() and ((cations > 0).sum(axis=1) == 5).all()
    assert (frame["x_Fe"] == 0.2).all() and (frame["x_O"] > 0).all()
    assert frame["capacity_total"].is_monotonic_decreasing
    assert frame.attrs["screen"]["screened"] == frame.attrs["screen"]["of"] > 10


def test_screen_rows_are_the_clis(frame, runner):
    """The same options on the command line give the same rows, in the same order, with the same figures."""
    cli = run(runner, "screen", "-k", "5", "--ions", "Li", "--anions", "O", "--require", "Fe", "--top", "10",
              "--json", "--workers", "1")
    data = json.loads(cli.stdout)
    assert [r["formula"] for r in data["top"]] == frame["formula"].tolist()
    assert [r["capacity_total"] for r in data["top"]] == frame["capacity_total"].tolist()
    assert data["kept"] == frame.attrs["screen"]["kept"]


def test_screen_as_arrow_and_every_row(frame):
    """as_arrow=True: a pyarrow Table with typed fields and the run's figures as metadata; top=None: every kept
    row, ranked; the pandas and the Arrow rows agree."""
    import pyarrow as pa

    table = hemkg.screen(**{**SMALL, "top": None}, as_arrow=True)
    assert isinstance(table, pa.Table)
    assert table.schema.field("capacity_total").type == pa.float64()
    assert table.schema.field("stability_contributors").type == pa.int64()
    assert table.schema.field("meets_hem_definition").type == pa.bool_()
    assert table.schema.field("x_Fe").type == pa.float64()
    figures = json.loads(table.schema.metadata[b"hemkg.screen"])
    assert table.num_rows == figures["kept"] == frame.attrs["screen"]["kept"]
    assert table.column("formula").to_pylist()[:10] == frame["formula"].tolist()


def test_screen_pareto_gives_the_fronts_examples():
    """pareto=(...) as --pareto: each returned row sits on a point of the front, which attrs lists with counts."""
    df = hemkg.screen(k=5, ions="Li", anions="O", require="Fe", pareto="capacity,cycling_stability", top=2)
    front = df.attrs["screen"]["front"]
    points = {(p["capacity"], p["cycling_stability"]) for p in front}
    assert front and {(r.capacity_total, r.stability_contributors) for r in df.itertuples()} == points


def test_screen_without_pandas_says_how_to_get_it(monkeypatch):
    """pandas is an optional extra: without it, a one-line error and the pip command, before any work, as the
    ExtraNotInstalled a missing matplotlib gives (an ImportError, not an InputError: nothing the caller gave is
    wrong)."""
    from hemkg.errors import ExtraNotInstalled

    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ExtraNotInstalled) as caught:
        hemkg.screen(**SMALL)
    assert "pandas" in str(caught.value) and "hemkg[pandas]" in caught.value.hint
    assert hemkg.screen(**SMALL, as_arrow=True).num_rows == 10  # Arrow needs no pandas


# ------------------------------------------------------------------ query

def test_query_gives_rows_as_dicts_or_a_frame():
    """Fig. 6a's Plane C (space charge) holds Fe, Co and Ni: SELECT rows, a DataFrame, ASK and CONSTRUCT."""
    rows = hemkg.query("SELECT ?e WHERE { ?e hem:memberOf hemkg:plane-C }")
    assert {r["e"].rsplit("/", 1)[-1] for r in rows} == members("plane-C")
    frame = hemkg.query("SELECT ?e WHERE { ?e hem:memberOf hemkg:plane-C }", as_frame=True)
    assert list(frame.columns) == ["e"] and sorted(frame["e"]) == sorted(r["e"] for r in rows)
    assert hemkg.query("SELECT (COUNT(*) AS ?n) WHERE { ?e hem:memberOf hemkg:plane-C }") == [{"n": len(rows)}]
    assert hemkg.query("ASK { hemkg:Zn hem:memberOf hemkg:plane-C }") is ("Zn" in members("plane-C"))
    triples = hemkg.query("CONSTRUCT { ?e hem:memberOf hemkg:plane-C } WHERE { ?e hem:memberOf hemkg:plane-C }")
    assert {t["subject"] for t in triples} == {r["e"] for r in rows}
    with pytest.raises(HemkgError):
        hemkg.query("INSERT DATA { hemkg:x hemkg:y hemkg:z }")


# ------------------------------------------------------------------ README

def test_readme_python_example_runs(own_library):
    """README's "From Python" block runs as written, and says what it shows: (MgCoNiCuZn)O's conversion elements
    Co, Cu, Ni and Zn (Section 2.2), a schema_version, ten screened rows, Fig. 6a's Plane C."""
    import re

    text = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = text.split("## From Python", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```python\n(.+?)\n```", section, re.DOTALL)
    names: dict = {}
    exec(compile(block, "README.md", "exec"), names)  # the README's own example
    assert names["c"].mechanisms["conversion"].elements == ("Co", "Cu", "Ni", "Zn")
    assert names["answer"]["schema_version"] == "1.0" and len(names["df"]) == 10
    assert {r["e"].rsplit("/", 1)[-1] for r in names["rows"]} == members("plane-C")
