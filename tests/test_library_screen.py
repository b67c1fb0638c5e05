"""hem screen with the literature library (issue 13): the compiled path takes the library's findings as extra tables.

The same differential test as tests/test_screen.py: the vectorised result for a
batch (statuses, evidence, roles, role evidence) must equal the engine's
consultation with the library, candidate by candidate. The library is
examples/findings.csv: doi:10.26599/nr.2025.94907784 (Fe0.2Co0.2Ni0.2Cu0.2Zn0.2O,
Li: conversion, Zn a stabilizer, Cu converting), doi:10.1039/d4ee01329h
(ZnGeSiP3, Li: intercalation and conversion), and the performance-only spinels
doi:10.1039/d0ra00255k and doi:10.3390/inorganics12070198. A report on the very
material outranks Fig. 6a's planes (rules/85-evidence.toml), so the candidates
with those compositions are where statuses and roles may change.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import answer_grades, compiled_grades, run
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from hemkg.answers.summary import summarise
from hemkg.consultation import literature
from hemkg.consultation.consultation import consult
from hemkg.screening import vectorised as compiled

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "findings.csv"
JOULE_HEO = "10.26599/nr.2025.94907784"
# Section 3.1, Table 1: the 26 listed cations and the five listed anions, written out (not read from the code)
CATIONS_26 = tuple("Li Mg Al Si Ca Ti V Cr Mn Fe Co Ni Cu Zn Ge Sr Mo Ru Ag In Sn Sb La Ce W Bi".split())
ANIONS = ("P", "S", "O", "Se", "Te")
UNIVERSE = CATIONS_26 + ANIONS
MECHANISMS = ("intercalation", "conversion", "alloying", "space-charge")
AMOUNTS = (0.2, 0.5, 0.6, 1.0, 2.0, 3.0, 4.0)
# the library's compositions (examples/findings.csv), as amounts
LIBRARY_MATERIALS = (
    {"Fe": 0.2, "Co": 0.2, "Ni": 0.2, "Cu": 0.2, "Zn": 0.2, "O": 1.0},
    {"Zn": 1.0, "Ge": 1.0, "Si": 1.0, "P": 3.0},
    {"Mg": 0.6, "Ti": 0.6, "Zn": 0.6, "Cu": 0.6, "Fe": 0.6, "O": 4.0},
    {"Cr": 0.6, "Mn": 0.6, "Co": 0.6, "Ni": 0.6, "Zn": 0.6, "O": 4.0},
)


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    """The example findings in a library of this module's own, read as `hem consult` reads it."""
    from click.testing import CliRunner

    from hemkg.cli import main

    folder = tmp_path_factory.mktemp("library") / "library"
    result = CliRunner().invoke(main, ["evidence", "add", str(EXAMPLES), "--library", str(folder)])
    assert result.exit_code == 0, result.output
    found = literature.load(folder)
    assert found is not None
    return found


@st.composite
def candidates(draw) -> dict[str, float]:
    """A library material, one with an element's amount moved (still matching, or not), or 1-6 listed cations
    sharing some with the library's materials, with a listed anion or none."""
    kind = draw(st.integers(0, 2))
    if kind == 0:
        composition = dict(draw(st.sampled_from(LIBRARY_MATERIALS)))
        symbol = draw(st.sampled_from(sorted(composition)))
        composition[symbol] = round(composition[symbol] * draw(st.sampled_from((1.0, 1.02, 0.7))), 4)
        return composition
    cations = draw(st.lists(st.sampled_from(CATIONS_26), min_size=1, max_size=6, unique=True))
    composition = {s: draw(st.sampled_from(AMOUNTS)) for s in cations}
    if kind == 1 or draw(st.booleans()):
        composition[draw(st.sampled_from(ANIONS))] = draw(st.sampled_from(AMOUNTS))
    return composition


def text(composition: dict[str, float]) -> str:
    return "".join(f"{s}{a:g}" for s, a in composition.items())


@pytest.mark.parametrize("ion", ("Li", "Na"))
@settings(max_examples=5, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture])
@given(batch=st.lists(candidates(), min_size=60, max_size=60))
@example(batch=list(LIBRARY_MATERIALS))
def test_compiled_with_library_agrees_with_engine(library, ion, batch) -> None:
    """The vectorised screen with the library equals `hem consult` with it, candidate by candidate (doi:10.26599/
    nr.2025.94907784, doi:10.1039/d4ee01329h, doi:10.1039/d0ra00255k, doi:10.3390/inorganics12070198)."""
    amounts = np.zeros((len(batch), len(UNIVERSE)))
    for i, composition in enumerate(batch):
        for s, a in composition.items():
            amounts[i, UNIVERSE.index(s)] = a
    rules = compiled.compiled(ion, UNIVERSE, compiled.library_key(library))
    out = rules.evaluate(amounts, with_role_evidence=True)
    for i, composition in enumerate(batch):
        data = summarise(consult(text(composition), ion, library=library))
        assert compiled_grades(out, i, composition, UNIVERSE, MECHANISMS) == answer_grades(data, MECHANISMS), \
            f"{text(composition)} with {ion}+"


def test_library_changes_the_compiled_evidence(library) -> None:
    """Without the library, Fe0.2Co0.2Ni0.2Cu0.2Zn0.2O's conversion is graded from the paper's related reports;
    with it, doi:10.26599/nr.2025.94907784 reports conversion on the very material: reported_here, and Zn a
    stabilizer (the report outranks Fig. 6a's Plane A and B)."""
    amounts = np.zeros((1, len(UNIVERSE)))
    for s, a in LIBRARY_MATERIALS[0].items():
        amounts[0, UNIVERSE.index(s)] = a
    plain = compiled.compiled("Li", UNIVERSE).evaluate(amounts, with_role_evidence=True)
    with_library = compiled.compiled("Li", UNIVERSE, compiled.library_key(library)).evaluate(
        amounts, with_role_evidence=True)
    assert compiled_grades(plain, 0, LIBRARY_MATERIALS[0], UNIVERSE, MECHANISMS)["evidence"]["conversion"] != "reported_here"
    assert compiled_grades(with_library, 0, LIBRARY_MATERIALS[0], UNIVERSE, MECHANISMS)["evidence"]["conversion"] == "reported_here"
    assert compiled_grades(with_library, 0, LIBRARY_MATERIALS[0], UNIVERSE, MECHANISMS)["roles"]["Zn"] == ["stabilizer"]


def test_cli_screen_evidence_filters_on_the_library(runner, own_library: Path) -> None:
    """hem screen --evidence intercalation==reported_related over Zn, Ge and Si phosphides with Li: doi:10.1039/d4ee01329h
    reports intercalation in ZnGeSiP3, a material sharing their cations and anion, so (ZnGeSi)P (not its composition:
    the screen balances P to Zn2+, Ge4+, Si4+) is graded reported_related with the library; without it, only the
    paper's HEMs in general (reported_in_hems), and the filter keeps nothing."""
    assert run(runner, "evidence", "add", str(EXAMPLES)).exit_code == 0
    keep = ("Zn", "Ge", "Si")
    args = ["screen", "-k", "3", "--exclude", ",".join(s for s in CATIONS_26 if s not in keep), "--anions", "P",
            "--ions", "Li", "--evidence", "intercalation==reported_related", "--json", "--workers", "1",
            "--no-progress"]
    with_library = json.loads(run(runner, *args).stdout)
    without = json.loads(run(runner, *args, "--no-library").stdout)
    assert (with_library["screened"], with_library["kept"], without["kept"]) == (1, 1, 0)
    assert with_library["top"][0]["evidence_intercalation"] == "reported_related"


def test_a_library_changed_during_a_screen_is_the_users_error(monkeypatch, tmp_path):
    """A worker that finds the library at another revision than the screen started from (something added findings
    meanwhile) stops with a LibraryError, one line and a hint, not a bug report."""
    from hemkg.consultation import literature
    from hemkg.errors import LibraryError
    from hemkg.screening import vectorised

    monkeypatch.setattr(literature, "load", lambda path: None)
    with pytest.raises(LibraryError) as caught:
        vectorised._library(f"{tmp_path}\nrevision-1")
    assert "changed during the screen" in str(caught.value) and caught.value.hint
