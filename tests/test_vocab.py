"""The vocabulary (hemkg.graph.vocab): it says what the paper says, and no other module keeps a copy.

The literal scan reads every .py file of the package (not tests/, benchmarks/
or graph/vocab.py itself) and fails on a string literal, or a tuple, list or
set of string literals, that spells two or more of the vocabulary's names: the
paper's elements, anions, carrier ions, mechanisms or planes. The names come
from the vocabulary, so a term added to the graph is looked for too.
"""

from __future__ import annotations

import ast
import pickle
import re
from functools import cache
from pathlib import Path

import pytest

import hemkg
from hemkg import engine
from hemkg.graph.vocab import Vocabulary, json_key, number_word, spoken_list, vocab

PACKAGE = Path(hemkg.__file__).parent
SKIPPED = ("tests/", "benchmarks/", "graph/vocab.py")

# Strings that spell vocabulary names without being a copy of the paper's lists: (file or folder, run) -> why.
ALLOWED = {
    ("engine/", "S, O, B"): "the generated rule code's variable names, not elements",
    ("consultation/formula.py", "Co, O"): "an example of how symbols are capitalised",
    ("consultation/formula.py", "C, O"): "an example of two one-letter symbols that read as Co",
    ("screening/run.py", "Fe, Co, Ni"): "an example of element symbols in a hint",
    ("cli.py", "Li,Ru"): "an example of the --exclude syntax",
    ("cli.py", "Fe,Si"): "an example of the --require syntax",
    ("library/findings.py", "Zn, Fe, Si"): "an example of element symbols in a hint",
}


# ------------------------------------------------------------------ the literal scan

@cache
def names() -> frozenset[str]:
    """Every name the scan looks for, as code or text would spell it."""
    v = vocab()
    found = {*v.cations, *v.anions, *v.outside_anions}
    for ion in v.ions:
        found |= {ion.symbol, ion.label, ion.name, ion.chemistry}
    for m in v.mechanisms:
        for word in (m.name, m.json_key, m.label):
            found |= {word, word.capitalize()}
    for plane in v.planes:
        found |= {plane.iri.rsplit("/", 1)[-1], plane.label, plane.short_label, f"Plane {plane.name}"}
    return frozenset(found)


@cache
def _name_pattern() -> re.Pattern[str]:
    alternatives = "|".join(sorted(map(re.escape, names()), key=len, reverse=True))
    # not inside a word or a formula: 'Mg' in 'MgCoNiCuZn' or 'In' in 'Index' is no name
    return re.compile(rf"(?<![A-Za-z0-9_-])(?:{alternatives})(?![a-z0-9_])")


_SEPARATORS = re.compile(r"(?:\s|,|;|/|\||\band\b|\bor\b|\bnor\b)*")


def runs(text: str) -> list[str]:
    """Runs of two or more names in `text` with nothing but list separators between them: 'P, S, O, Se, Te'."""
    found, start, previous, count = [], 0, None, 0
    for match in _name_pattern().finditer(text):
        if previous is not None and _SEPARATORS.fullmatch(text, previous.end(), match.start()):
            count += 1
        else:
            if count >= 2:
                found.append(text[start:previous.end()])
            start, count = match.start(), 1
        previous = match
    if count >= 2:
        found.append(text[start:previous.end()])
    return found


def violations(source: str, path: str) -> list[str]:
    """'path:line: what' for each literal of `source` that spells out vocabulary names."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            for run in runs(node.value):
                if not any(path.startswith(where) and run == allowed for where, allowed in ALLOWED):
                    found.append(f"{path}:{node.lineno}: the string spells out {run!r}")
        elif isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            spelt = [e.value for e in node.elts
                     if isinstance(e, ast.Constant) and isinstance(e.value, str) and e.value in names()]
            if len(spelt) >= 2:
                found.append(f"{path}:{node.lineno}: the {type(node).__name__.lower()} spells out {', '.join(spelt)}")
    return found


def package_sources() -> list[tuple[str, str]]:
    files = []
    for file in sorted(PACKAGE.rglob("*.py")):
        path = file.relative_to(PACKAGE).as_posix()
        if not path.startswith(SKIPPED) and "/." not in f"/{path}":
            files.append((path, file.read_text(encoding="utf-8")))
    return files


def test_no_module_spells_out_the_vocabulary():
    """Issue 9: outside graph/vocab.py no .py file lists the paper's elements, anions, ions, mechanisms or planes."""
    sources = package_sources()
    assert len(sources) > 30  # the scan reads the package, not an empty folder
    found = [v for path, source in sources for v in violations(source, path)]
    assert found == [], "\n".join(["ask hemkg.graph.vocab.vocab() instead of spelling these out:", *found])


@pytest.mark.parametrize("source", [
    'ANIONS = "P, S, O, Se, Te"',
    'message = f"the paper covers Li, Na and K, not {ion}"',
    'ION = click.Choice(["Li", "Na", "K"])',
    'MECHANISMS = ("intercalation", "conversion", "alloying", "space-charge")',
    'POOL = "Li Mg Al Si".split()',
    '"""Intercalation and space charge are not estimated."""',
    'PLANES = {"Plane A", "Plane C"}',
])
def test_the_scan_catches_a_copy(source: str):
    """The scan can fail: each of these spells out vocabulary names."""
    assert violations(source, "answers/planted.py")


@pytest.mark.parametrize("source", [
    'EXAMPLE = "(MgCoNiCuZn)O"',
    'text = "Cu0.88Sn0.02Sb0.02Bi0.02Mn0.02S0.9Se0.1"',
    'status = c.status("conversion")',
    'note = f"{host} with {c.ion}+: no fully alloyed phase, so no alloying estimate"',
    'FRAMEWORKS = ("C", "rGO", "GO", "CNT")',
    'hint = "In the index, ions are ranked"',
])
def test_the_scan_passes_formulas_and_single_names(source: str):
    """A formula, one name at a time, or names apart in a sentence are no copy of a list."""
    assert violations(source, "answers/planted.py") == []


def test_each_allowed_run_is_still_needed():
    """An allowance that matches nothing any more is removed, not kept (nothing silently widens the scan's holes)."""
    sources = package_sources()
    for where, run in ALLOWED:
        assert any(path.startswith(where) and run in source for path, source in sources), (where, run)


# ------------------------------------------------------------------ the vocabulary against the paper

TABLE_1_CATIONS = "Li, Mg, Al, Si, Ca, Ti, V, Cr, Mn, Fe, Co, Ni, Cu, Zn, Ge, Sr, Mo, Ru, Ag, In, Sn, Sb, La, Ce, W, Bi"


def test_listed_cations_are_table_1_as_printed():
    """Table 1, row Cations (and Section 3.1): the 26 cations of reported HEM anodes, in the paper's order."""
    assert vocab().cations == tuple(TABLE_1_CATIONS.split(", "))
    assert len(vocab().cations) == 26


def test_listed_anions_are_table_1_as_printed():
    """Table 1, row Anions: 'P, S, O, Se, Te', in that order."""
    assert vocab().anions == ("P", "S", "O", "Se", "Te")


def test_anion_formers_outside_the_list_are_the_project_convention():
    """Not the paper: the convention of issue 3 (kg/conventions.ttl) adds hydrides' to halides' anion formers."""
    v = vocab()
    assert v.outside_anions == ("H", "B", "C", "N", "F", "Cl", "Br", "I")
    assert v.anion_formers == frozenset(v.anions) | frozenset(v.outside_anions)
    assert not set(v.outside_anions) & set(v.anions)


@pytest.mark.parametrize("name, mechanism, members", [
    ("A", "conversion", "Si Fe Co Ni Cu Zn In Sn Mn Ge Ru Bi Sb V Cr"),
    ("B", "alloying", "Sn Bi Sb Zn In Ge Si"),
    ("C", "space-charge", "Fe Co Ni"),
])
def test_planes_are_fig_6a(name: str, mechanism: str, members: str):
    """Fig. 6a (and Table 1, row Cations): Plane A converts, Plane B alloys, Plane C stores space charge."""
    plane = vocab().plane(name)
    assert plane.mechanism == mechanism
    assert set(plane.members) == set(members.split())
    assert plane.short_label == f"Plane {name} ({vocab().mechanism(mechanism).label})"


def test_mechanisms_in_the_order_of_section_2():
    """Section 2.1-2.4 and Table 1's columns: intercalation, conversion, alloying, space charge."""
    v = vocab()
    assert v.mechanism_names == ("intercalation", "conversion", "alloying", "space-charge")
    assert [m.json_key for m in v.mechanisms] == ["intercalation", "conversion", "alloying", "space_charge"]
    assert v.mechanism("space-charge").label == "space charge"


def test_carrier_ions_and_their_radii():
    """Section 3.1: Li+ 0.076 nm, Na+ 0.102 nm, K+ 0.138 nm, as the graph gives them; Section 1: LIB, SIB, PIB."""
    ions = {i.symbol: (i.label, i.radius_nm, i.chemistry, i.name) for i in vocab().ions}
    assert ions == {"Li": ("Li+", 0.076, "LIB", "Li-ion"), "Na": ("Na+", 0.102, "SIB", "Na-ion"),
                    "K": ("K+", 0.138, "PIB", "K-ion")}
    assert vocab().ion_symbols == ("Li", "Na", "K")


def test_hem_definition_of_section_1():
    """Section 1: 'five or more elements ... (composition range: 5-35 at%)'."""
    hem = vocab().hem
    assert (hem.min_elements, hem.fraction_range, hem.section) == (5, (0.05, 0.35), "1")
    assert hem.text == "five or more elements, each 5-35 at%"


def test_orderings_carry_the_headings_consultations_print():
    """kg/orderings.ttl: the orderings rules apply to a candidate's elements have an answer heading."""
    v = vocab()
    applied = {a.args[0] for r in engine.load_rules() for a in r.then if a.predicate == "ordered"}
    assert applied and all(v.ordering(name).heading for name in applied)
    assert v.ordering("anion-theoretical-capacity").text == "P > S > O > Se > Te"  # Table 1, row Theoretical capacity


# ------------------------------------------------------------------ the rules speak the vocabulary

def _heads(predicate: str) -> set[tuple[str, ...]]:
    return {a.args for r in engine.load_rules() for a in (*r.when, *r.then) if a.predicate == predicate}


def _ground(values: set[str]) -> set[str]:
    return {x for x in values if not x.startswith("?") and x != "_"}


def test_rules_name_only_vocabulary_statuses_mechanisms_and_roles():
    """Every status, mechanism, role, plane, group, property and ordering the rules name is one of the graph's."""
    v = vocab()
    statuses = {s.name for s in v.statuses}
    assert statuses == {"accessible", "not-accessible", "undetermined"}
    assert _ground({args[0] for args in _heads("status")}) <= set(v.mechanism_names)
    assert _ground({args[1] for args in _heads("status")}) <= statuses
    assert _ground({args[1] for args in _heads("role")}) <= {r.name for r in v.roles} | set(v.mechanism_names)
    assert _ground({args[1] for args in _heads("on_plane") | _heads("plane_cation")}) <= {p.name for p in v.planes}
    assert _ground({args[0] for args in _heads("has_plane")}) <= {p.name for p in v.planes}
    assert _ground({args[1] for args in _heads("in_group")}) <= {g.name for g in v.groups}
    assert _ground({args[0] for args in _heads("effect")}) <= {p.name for p in v.properties}
    assert _ground({args[0] for args in _heads("ordered") | _heads("rank")}) <= {o.name for o in v.orderings}
    assert {"stabilizer", "anion", "unclassified"} == {r.name for r in v.roles}


def test_every_short_label_is_a_property_the_rules_use():
    """Properties with a short label are those the rules conclude effects on (what answers tabulate)."""
    from hemkg.consultation.consultation import effect_properties

    assert {p.name for p in vocab().properties if p.short_label} == {p.name for p in effect_properties()}


# ------------------------------------------------------------------ the module itself

def test_vocab_is_built_once_and_cached_on_disk():
    """vocab() is disk-cached like the graph's other readings; a fresh build equals the cached one."""
    first = vocab()
    assert vocab() is first
    assert isinstance(first, Vocabulary)
    assert vocab.__wrapped__() == first  # type: ignore[attr-defined]
    assert pickle.loads(pickle.dumps(first)) == first


def test_spelling_helpers():
    assert json_key("space-charge") == "space_charge"
    assert spoken_list(("Li", "Na", "K")) == "Li, Na and K"
    assert spoken_list(["Li", "Na"], "or") == "Li or Na"
    assert spoken_list(["Li"]) == "Li"
    assert number_word(5) == "five" and number_word(12) == "12"


def test_hem_help_does_not_read_the_vocabulary():
    """`hem --help` lists commands only: the choices and help texts built from the vocabulary wait until shown."""
    import subprocess
    import sys

    probe = ("import sys; from click.testing import CliRunner; from hemkg.cli import main; "
             "result = CliRunner().invoke(main, ['--help']); assert result.exit_code == 0, result.output; "
             "print('hemkg.graph.vocab' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
