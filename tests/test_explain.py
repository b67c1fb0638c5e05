"""Tests of `hem explain`: the short form, the full tree (--full), the JSON, and the evidence beside a status.

Through click's CliRunner where the command is what is tested, in process where
a test needs a width or rules of its own. Citations are checked against the
rule files (read with tomllib) and the graph's hem:citesReference (SPARQL),
never against the code that printed them. The evidence (issue 11) is the
packaged rules' (rules/85-evidence.toml), on the paper's own materials:
(LiFeZnNiCoMn)3O4 (ref 41), (MgCoNiCuZn)O (ref 48) and
(Mg0.2Co0.2Ni0.2Cu0.2Zn0.2)O (ref 46), and a HEM candidate the paper does not
report, (FeCoNiCuZn)S. Paper: Huang et al., Energy Environ. Sci. 2025, 18,
10286.
"""

from __future__ import annotations

import functools
import json
import re
import tomllib
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import (
    assert_one_line_error,
    cites,
    expand,
    rule_entries,
    rule_location,
    rule_references,
    run,
    statement_citations,
    statement_pattern,
)

from hemkg import engine
from hemkg.answers import explain as ex
from hemkg.consultation.consultation import Consultation, consult
from hemkg.graph.store import HEMKG, package_files, select
from hemkg.graph.vocab import vocab

RULES = package_files("rules", "85-evidence.toml")[0].parent
RULE_SYNTAX = re.compile(r"[a-z_]\(")  # predicate(args...): the rule language, which the short form never prints


def walk(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for d in node.get("derived_by", []):
        for p in d["premises"]:
            yield from walk(p)


def explain_json(runner, *args: str) -> dict[str, Any]:
    result = run(runner, "explain", *args, "--json")
    assert result.exit_code == 0 and result.stderr == "", result.output
    return json.loads(result.stdout)


def check_citations(tree: dict[str, Any]) -> tuple[int, int]:
    """Every rule a conclusion names cites its rule's references (its file's and its statements'), every fact from the
    graph its statement's; in the short fields and, with --full, in every node of the tree."""
    n_rules = n_kg = 0
    conclusions = [*tree["conclusions"], *(e for c in tree["conclusions"] for e in c["evidence"])]
    rule_records = [r for c in conclusions for r in c["rules"]]
    rule_records += [d for c in conclusions if "tree" in c for n in walk(c["tree"]) for d in n.get("derived_by", [])]
    for d in rule_records:
        entry = rule_entries()[d["rule"]]
        assert d["citations"] == rule_references(d["rule"]), d["rule"]
        assert (d["location"], d["file"]) == (rule_location(d["rule"]), entry["file"])
        assert re.fullmatch(statement_pattern(d["rule"]), d["statement"]), d["rule"]
        n_rules += 1
    for c in conclusions:
        assert (c["rule"], c["citations"]) == (c["rules"][0]["rule"], rule_references(c["rules"][0]["rule"]))
        for item in c["graph_facts"]:
            assert item["citations"] == cites(expand(item["statement"])), (c["fact"], item)
            n_kg += 1
        for node in walk(c["tree"]) if "tree" in c else ():
            source = node.get("source")
            if source is not None and source["kind"] == "kg":
                assert source["citations"] == cites(expand(source["statement"])), (node["fact"], source)
            elif source is not None:
                assert source["citations"] == [], node
    return n_rules, n_kg


# ---------------------------------------------------------------- JSON: citations and selection

ABOUT = ["alloying", "Zn", "capacity", "all"]


@pytest.mark.parametrize("about", ABOUT)
def test_explain_json_citations_match_rule_files_and_graph(runner, about):
    """Section 3.1 (ref 48): explanations of (MgCoNiCuZn)O, short and full, cite exactly what the rule files and
    graph cite."""
    for flags in ([], ["--full"]):
        tree = explain_json(runner, "(MgCoNiCuZn)O", "--about", about, *flags)
        assert tree["formula"] == "(MgCoNiCuZn)O" and tree["about"] == about and tree["full"] == bool(flags)
        assert tree["conclusions"]
        assert all(("tree" in c) == bool(flags) for c in tree["conclusions"])
        n_rules, n_kg = check_citations(tree)
        assert n_rules > 0 and n_kg > 0


@pytest.mark.parametrize("formula", ["InGeSiP3", "Sb1.4Bi0.2Sn0.2Co0.1Mn0.1Te3", "(LiFeZnNiCoMn)3O4", "FeF3", "MoS2"])
def test_explain_all_citations_match_for_other_candidates(runner, formula):
    """Refs 41, 44, 47, 92 and an outside anion: every citation in `--about all --full` matches its source."""
    check_citations(explain_json(runner, formula, "--about", "all", "--full", "--ion", "K" if "Te" in formula else "Li"))


def test_explain_about_selects_the_right_conclusions(runner):
    """--about alloying, Zn and capacity pick the conclusions that concern them (Section 3.1, ref 48)."""
    def facts(about: str) -> list[str]:
        return [c["fact"] for c in explain_json(runner, "(MgCoNiCuZn)O", "--about", about)["conclusions"]]

    alloying = facts("alloying")
    assert "status(alloying, accessible)" in alloying and "role(Zn, alloying)" in alloying
    assert "role(Mg, stabilizer)" not in alloying
    zinc = facts("Zn")
    assert zinc and all("Zn" in f for f in zinc)
    assert {"role(Zn, alloying)", "role(Zn, conversion)"} <= set(zinc)
    capacity = facts("capacity")
    assert capacity and all(f.startswith("effect(specific-capacity, ") for f in capacity)
    assert "effect(specific-capacity, +, Mg)" not in capacity
    everything = facts("all")
    assert set(alloying) | set(zinc) | set(capacity) <= set(everything)
    default = explain_json(runner, "(MgCoNiCuZn)O")
    assert default["about"] == "statuses and roles"
    assert {c["fact"].split("(")[0] for c in default["conclusions"]} == {"status", "role"}


def test_explain_zn_rests_on_its_plane_statements(runner):
    """Section 3.1, Fig. 6a: Zn's alloying role rests on hemkg:stmt-plane-B-Zn (ref 67), in the short form's leaves
    and in the full tree; the formula it came from is among the input facts."""
    short = explain_json(runner, "(MgCoNiCuZn)O", "--about", "Zn")
    (role,) = [c for c in short["conclusions"] if c["fact"] == "role(Zn, alloying)"]
    assert {i["statement"]: i["citations"] for i in role["graph_facts"]}["hemkg:stmt-plane-B-Zn"] == [67]
    assert "element(Zn)" in {i["fact"] for i in role["input_facts"]}
    full = explain_json(runner, "(MgCoNiCuZn)O", "--about", "Zn", "--full")
    (role,) = [c for c in full["conclusions"] if c["fact"] == "role(Zn, alloying)"]
    sources = {n["source"]["statement"]: n["source"]["citations"] for n in walk(role["tree"])
               if n.get("source", {}).get("kind") == "kg"}
    assert sources["hemkg:stmt-plane-B-Zn"] == [67]


@pytest.mark.parametrize("formula", ["(MgCoNiCuZn)O", "SiGeSnSbBi", "(LiFeZnNiCoMn)3O4", "FeF3"])
def test_short_leaves_are_the_leaves_of_the_full_tree(runner, formula):
    """The short form's facts (graph, input, others) are exactly the leaves of the conclusion's tree, and its
    'nothing says' lines the negated premises of its own rules (refs 47, 44, 41; Section 3.1, an outside anion);
    the same for each evidence item, whose tree stops at the conclusion it stands beside."""
    tree = explain_json(runner, formula, "--about", "all", "--full")
    # A fact whose tree was shown earlier (beside a conclusion, or under an evidence item: a status's evidence
    # shows reported_here(...) before a role rests on it) is marked shown_above: look its tree up there.
    records = [*tree["conclusions"], *(e for c in tree["conclusions"] for e in c["evidence"])]
    shown = {n["fact"]: n for c in records for n in walk(c["tree"]) if "derived_by" in n}

    def leaves_of(n: dict[str, Any], path: frozenset[str] = frozenset(), stop: str = "") -> set[str]:
        if "source" in n:
            return {n["fact"]}
        if n["fact"] in path or n["fact"] == stop:
            return set()
        full = shown[n["fact"]]
        return {leaf for d in full["derived_by"] for p in d["premises"]
                for leaf in leaves_of(p, path | {n["fact"]}, stop)}

    n_evidence = 0
    for c in tree["conclusions"]:
        for record, stop in [(c, ""), *((e, c["fact"]) for e in c["evidence"])]:
            short = {i["fact"] for g in ("graph_facts", "input_facts", "other_facts") for i in record[g]}
            assert short == leaves_of(record["tree"], stop=stop), record["fact"]
            own_absent = {a["text"] for d in shown[record["fact"]]["derived_by"] for a in d["absent"]}
            assert set(record["absent"]) == own_absent, record["fact"]
            n_evidence += bool(stop)
    assert n_evidence > 0 or formula == "FeF3", "no evidence item was checked"


# ---------------------------------------------------------------- the short form as text

def unwrap(text: str) -> list[str]:
    """The short form's lines as they were before wrapping: a continuation line is indented four spaces more
    than the line it continues (a nested line only two)."""
    logical: list[tuple[int, str]] = []
    for line in text.splitlines():
        indent = len(line) - len(line.lstrip(" "))
        if logical and line.strip() and indent == logical[-1][0] + 4:
            logical[-1] = (logical[-1][0], logical[-1][1] + " " + line.strip())
        else:
            logical.append((indent, line))
    return [line for _, line in logical]


def test_short_form_zn_names_rule_planes_and_input(runner):
    """Section 3.1, Fig. 6a, ref 48: `hem explain '(MgCoNiCuZn)O' --about Zn` gives Zn's roles in words, the rule
    that drew them with its references and location, Zn's planes with their statements' references, and the input
    formula; none of it in the rule language."""
    result = run(runner, "explain", "(MgCoNiCuZn)O", "--about", "Zn")
    assert result.exit_code == 0 and result.stderr == ""
    lines = unwrap(result.stdout)
    assert "Zn takes part in alloying." in lines and "Zn takes part in conversion." in lines
    rule_id = "role-from-accessible-mechanism"
    refs = rule_references(rule_id)
    assert any(re.fullmatch(rf"  Rule: {statement_pattern(rule_id)} "
                            rf"{re.escape('[' + ', '.join(map(str, refs)) + '] (' + rule_location(rule_id) + ')')}", ln)
               for ln in lines), lines
    for plane in ("A", "B"):
        name = next(p.short_label for p in vocab().planes if p.name == plane)
        cited = statement_citations(f"stmt-plane-{plane}-Zn")
        assert f"    Zn is on {name} of Fig. 6a [{', '.join(map(str, cited))}]" in lines
    assert any(ln.startswith("  From your input: ") and "Zn" in ln and ln.endswith(" are in (MgCoNiCuZn)O")
               for ln in lines)
    assert not RULE_SYNTAX.search(result.stdout), RULE_SYNTAX.search(result.stdout)


def test_short_form_conversion_is_short(runner):
    """Section 3.1, Fig. 6a (refs 46, 48): --about conversion explains the status and the roles in about 28 lines of
    88 columns: the rule, every Plane A cation of (MgCoNiCuZn)O with its statement's references, printed once, the
    input, the evidence of the strongest level only (the two reports on this very composition, ref 46's with its
    reversibility nuance), a count of the weaker items, and a count of what rests on them."""
    result = run(runner, "explain", "(MgCoNiCuZn)O", "--about", "conversion")
    assert result.exit_code == 0
    text = result.stdout
    assert len(text.splitlines()) <= 30 and max(map(len, text.splitlines())) <= 88
    lines = unwrap(text)
    assert "Conversion is accessible." in lines
    assert any(re.match(rf"  Rule: {statement_pattern('conversion-accessible')}", ln) for ln in lines)
    plane_a = next(p.short_label for p in vocab().planes if p.name == "A")
    for symbol in ("Co", "Ni", "Cu", "Zn"):
        cited = ", ".join(map(str, statement_citations(f"stmt-plane-A-{symbol}")))
        assert lines.count(f"    {symbol} is on {plane_a} of Fig. 6a [{cited}]") == 1, symbol
    assert "Co, Cu, Ni and Zn take part in conversion." in lines
    here = scale()["reported_here"]
    assert lines.count(f"  Evidence: {here}:") == 1
    assert f"  Evidence: {here}: the reports listed above." in lines  # the roles' evidence is the status's
    for material in ("MgCoNiCuZnO", "Mg0-2Co0-2Ni0-2Cu0-2Zn0-2O"):
        shown = f"{material_label(material)} {refs(cites(HEMKG + 'material-' + material))}"
        assert sum(ln.startswith("    ") and shown in ln for ln in lines) == 1, shown
    assert "Co, Ni only partly reversible; Zn reversible" in " ".join(text.split())  # ref 46, Section 3.1
    assert sum("further items at weaker levels: " in ln and ln.endswith("; --full lists them.") for ln in lines) == 2
    assert lines[-1].startswith("Resting on these: ") and "--full" in lines[-1]
    assert not RULE_SYNTAX.search(text)


@pytest.mark.parametrize("formula,about", [("(MgCoNiCuZn)O", "all"), ("SiGeSnSbBi", None), ("FeF3", "conversion"),
                                           ("InGeSiP3", "capacity"), ("(LiFeZnNiCoMn)3O4", "Mn")])
@pytest.mark.parametrize("width", [48, 88])
def test_short_form_wraps_to_the_width(formula, about, width):
    """Refs 41, 47, 48, Section 3.1: every line fits the width (a word longer than it aside), and undoing the
    wrapping gives the text unwrapped, word for word; no rule syntax at any width."""
    tree = ex.explain(consult(formula), about)
    wrapped, wide = ex.render(tree, width), ex.render(tree, 10_000)
    assert all(len(ln) <= width or " " not in ln.strip() for ln in wrapped.splitlines())
    assert unwrap(wrapped) == wide.splitlines()
    assert not RULE_SYNTAX.search(wrapped)


def test_short_form_not_accessible_says_what_is_missing(runner):
    """Section 3.1, Table 1 (ref 97): an anion-free alloy (SiGeSnSbBi) has no conversion: the short form gives the
    rule and says that no fact gives the candidate an anion."""
    lines = unwrap(run(runner, "explain", "SiGeSnSbBi", "--about", "conversion").stdout)
    assert "Conversion is not accessible." in lines
    assert any(re.match(rf"  Rule: {statement_pattern('conversion-requires-anion')}", ln) for ln in lines)
    assert "  And nothing says: the candidate has an anion" in lines


# ---------------------------------------------------------------- the full tree as text

@pytest.mark.parametrize("about", ABOUT)
def test_full_text_citations_match_rule_files_and_graph(about):
    """--full prints each rule with its references and location (from its file or its statements), and each graph
    fact with where its statement stands in the paper and its references (Section 3.1, ref 48)."""
    answer = ex.explain(consult("(MgCoNiCuZn)O"), about, full=True)
    text = ex.render(answer, width=100_000)
    assert text.startswith(f"Why: (MgCoNiCuZn)O with Li+ ({about})\n")
    rule_lines = re.findall(r"rule ([a-z0-9-]+): (.*)$", text, re.M)
    assert rule_lines
    for rule_id, rest in rule_lines:
        refs = rule_references(rule_id)
        expected = f"{statement_pattern(rule_id)}{re.escape(' [' + ', '.join(map(str, refs)) + ']') if refs else ''} " \
                   f"{re.escape('(' + rule_location(rule_id) + ')')}"
        assert re.match(expected, rest), (rule_id, rest)
    leaves = {(leaf["source"].get("location", ""), tuple(leaf["source"]["citations"])) for leaf in _graph_leaves(answer)}
    assert leaves
    for node in _graph_leaves(answer):
        assert node["source"]["citations"] == cites(expand(node["source"]["statement"])), node
        assert node["source"].get("location", "") == statement_location(node["source"]["statement"]), node
    printed = re.findall(r"\(the paper(?:, (.*?))?\)(?: \[([\d, ]+)\])?$", text, re.M)
    # every graph fact of the trees is printed with its place and references (the evidence's trees print more)
    assert leaves <= {(where, tuple(int(n) for n in refs.split(", ")) if refs else ()) for where, refs in printed}


def _graph_leaves(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The facts from the knowledge graph in an explanation's trees."""
    if node.get("source", {}).get("kind") == "kg":
        yield node
    for d in node.get("derived_by", []):
        for premise in d["premises"]:
            yield from _graph_leaves(premise)
    for conclusion in node.get("conclusions", []):  # the answer: each conclusion's tree
        yield from _graph_leaves(conclusion["tree"])


def statement_location(curie: str) -> str:
    from hemkg.graph import statements as knowledge

    statement = knowledge.statements().get(expand(curie))  # a group of the graph (listed cations) has none
    return statement.location if statement else ""


def test_full_text_is_wrapped_and_keeps_the_tree(runner):
    """--full at 88 columns: no line is longer, and a continuation line carries the tree's bars on (Section 3.1)."""
    text = run(runner, "explain", "(MgCoNiCuZn)O", "--about", "Zn", "--full").stdout
    lines = text.splitlines()
    assert max(map(len, lines)) <= 88
    assert "Zn takes part in alloying" in lines
    assert any(ln.startswith("└─ rule role-from-accessible-mechanism: ") for ln in lines)
    # A wrapped rule line with premises below it: its continuation starts with the bar its premises hang from.
    first = next(i for i, ln in enumerate(lines) if ln.startswith("└─ rule role-from-accessible-mechanism: "))
    assert lines[first + 1].startswith("   │  ") and not lines[first + 1][6:].startswith(("├", "└"))


# ---------------------------------------------------------------- errors

@pytest.mark.parametrize("flags", [[], ["--json"], ["--full"]], ids=["text", "json", "full"])
def test_explain_about_nonsense(runner, flags):
    """--about a word that is no mechanism, element of the formula, property or 'all' exits 2, lists the choices and
    gives a hint."""
    result = run(runner, "explain", "(MgCoNiCuZn)O", "--about", "nonsense", *flags)
    error = assert_one_line_error(result)
    assert "'nonsense'" in error and "alloying" in error and "Zn" in error
    assert result.stderr.splitlines()[1].startswith("hint: e.g. --about ")


def test_explain_about_element_not_in_formula(runner):
    """--about an element the formula lacks is refused like any other unknown word."""
    error = assert_one_line_error(run(runner, "explain", "InGeSiP3", "--about", "Zn"))
    assert "'Zn'" in error


# ---------------------------------------------------------------- evidence beside a status or a role (issue 11)

@functools.cache
def scale() -> dict[str, str]:
    """The evidence scale as rules/85-evidence.toml writes it (read with tomllib): level id -> its short words,
    strongest first."""
    levels = tomllib.loads((RULES / "85-evidence.toml").read_text(encoding="utf-8"))["evidence_level"]
    return {lv["id"]: lv["short"] for lv in levels}


def material_label(name: str) -> str:
    """A reported material's skos:prefLabel in the graph (its id without hemkg:material-), read with SPARQL."""
    (row,) = select("SELECT ?l WHERE { ?m skos:prefLabel ?l }", m=HEMKG + "material-" + name)
    return str(row["l"])


def refs(numbers: list[int]) -> str:
    return f"[{', '.join(map(str, numbers))}]"


def level_of(fact: str) -> str:
    return fact.rstrip(")").rsplit(", ", 1)[-1]


def by_fact(tree: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["fact"]: c for c in tree["conclusions"]}


def test_status_shows_its_strongest_evidence_and_counts_the_rest():
    """Section 3.1, refs 46 and 48 (this very composition, (MgCoNiCuZn)O) and ref 41 (Zn not converting in
    (LiFeZnNiCoMn)3O4): the status of conversion carries, of the evidence the rules graded beside it, the strongest
    level on the scale; the short form names that level's reports and counts every weaker rule conclusion by level,
    in the scale's words."""
    tree = ex.explain(consult("(MgCoNiCuZn)O"), "conversion")
    status = by_fact(tree)["status(conversion, accessible)"]
    levels = {level_of(e["fact"]): len(e["rules"]) for e in status["evidence"] if e["fact"].startswith("evidence(")}
    assert {"reported_here", "conflicting", "reported_related", "reported_in_hems"} <= set(levels)
    strongest = min(levels, key=list(scale()).index)
    assert status["graded"]["evidence"] == strongest == "reported_here"
    assert status["graded"]["short"] == scale()[strongest]

    text = ex.render(tree, 10_000)
    block = text[text.index("Conversion is accessible."):text.index("\n\n", text.index("Conversion is accessible."))]
    weaker = sorted((lv for lv in levels if lv != strongest), key=list(scale()).index)
    told = "; ".join(f"{scale()[lv]} ({levels[lv]})" for lv in weaker)
    n = sum(levels[lv] for lv in weaker)
    assert f"\n  {n} further items at weaker levels: {told}; --full lists them.\n" in block + "\n"
    assert scale()["conflicting"] not in block.replace(f"{scale()['conflicting']} ({levels['conflicting']})", "")
    assert not RULE_SYNTAX.search(text)


def test_report_outranks_the_planes_one_line_each(runner):
    """Section 3.1, ref 41, Fig. 6a: in (LiFeZnNiCoMn)3O4 itself Zn is structural; the short form of --about Zn gives
    its stabilizer role with the report as its evidence, and one line for each plane the report outranks: Plane A
    (conversion) [42] and Plane B (alloying) [67], each with its statement's references and ref 41."""
    result = run(runner, "explain", "(LiFeZnNiCoMn)3O4", "--about", "Zn")
    assert result.exit_code == 0 and result.stderr == ""
    lines = unwrap(result.stdout)
    material, report = material_label("LiFeZnNiCoMn3O4"), statement_citations("stmt-example-LiFeZnNiCoMn3O4-Zn-conversion")
    assert report == [41]
    assert "Zn is an inactive stabilizer." in lines
    assert f"  Evidence: {scale()['reported_here']}: {material} {refs(cites(HEMKG + 'material-LiFeZnNiCoMn3O4'))}" in lines
    planes = {p.name: p.short_label for p in vocab().planes}
    for plane in ("A", "B"):
        line = (f"  Fig. 6a places Zn on {planes[plane]} {refs(statement_citations(f'stmt-plane-{plane}-Zn'))}; in this "
                f"very material, {material} {refs(report)}, the report finds it structural and outranks the plane.")
        assert lines.count(line) == 1, line
    assert not any(ln.startswith("Zn takes part in ") for ln in lines)

    data = explain_json(runner, "(LiFeZnNiCoMn)3O4", "--about", "Zn", "--full")
    role = by_fact(data)["role(Zn, stabilizer)"]
    assert role["graded"]["evidence"] == "reported_here"
    overruled = {e["fact"]: e for e in role["evidence"] if e["fact"].startswith("overruled(")}
    assert set(overruled) == {f"overruled(Zn, {m}, material-LiFeZnNiCoMn3O4)" for m in ("conversion", "alloying")}
    # the rule's own sentence names the plane by its letter: Plane B, not the element boron
    statement = overruled["overruled(Zn, alloying, material-LiFeZnNiCoMn3O4)"]["tree"]["derived_by"][0]["statement"]
    assert statement.startswith("Fig. 6a places zinc on Plane B (alloying), "), statement


def test_role_lists_its_evidence():
    """Section 3.1, ref 41: in (LiFeZnNiCoMn)3O4, Fe, Co and Ni convert; each one's conversion role carries only its
    own role_evidence, strongest reported_here; the status of conversion lists the report that outranked Zn's
    Plane A, not the one that outranked its Plane B (alloying), and no role's evidence."""
    tree = ex.explain(consult("(LiFeZnNiCoMn)3O4"), "conversion")
    conclusions = by_fact(tree)
    for symbol in ("Fe", "Co", "Ni"):
        role = conclusions[f"role({symbol}, conversion)"]
        facts = [e["fact"] for e in role["evidence"]]
        assert facts and all(f.startswith(f"role_evidence({symbol}, conversion, ") for f in facts), facts
        assert f"role_evidence({symbol}, conversion, reported_here)" in facts
        assert role["graded"]["evidence"] == "reported_here"
    assert "role(Zn, conversion)" not in conclusions
    status = [e["fact"] for e in conclusions["status(conversion, accessible)"]["evidence"]]
    assert "overruled(Zn, conversion, material-LiFeZnNiCoMn3O4)" in status
    assert "overruled(Zn, alloying, material-LiFeZnNiCoMn3O4)" not in status
    assert not any(f.startswith("role_evidence(") for f in status)


def test_space_charge_of_a_hem_candidate_is_not_yet_shown_in_hems():
    """Section 2.4 ('remain unexplored in the realm of HEMs'): (FeCoNiCuZn)S, a HEM the paper does not report, has
    space charge accessible (Fe, Co, Ni on Plane C, Fig. 6a) with evidence not_shown_in_hems; the materials where
    it was shown, none a HEM (Fe3O4 ref 57, FeS2 ref 59, FeSe ref 60, FeS/C refs 70 and 95, NiS Fig. 5i), are
    named and not counted."""
    c = consult("(FeCoNiCuZn)S")
    assert not c.result.query("reported_here")
    tree = ex.explain(c, "space charge")
    status = by_fact(tree)["status(space-charge, accessible)"]
    assert status["graded"]["evidence"] == "not_shown_in_hems"
    text = ex.render(tree, 10_000)
    block = text[text.index("Space charge is accessible."):text.index("\n\n", text.index("Space charge is accessible."))]
    lines = block.splitlines()
    assert any(ln.startswith(f"  Evidence: {scale()['not_shown_in_hems']} (Section 2.4") for ln in lines), lines
    (shown,) = [ln for ln in lines if ln.startswith("  Shown only in materials that are not HEMs (not counted")]
    for material in ("Fe3O4", "FeS2", "FeSe", "FeS-C"):
        assert f"{material_label(material)} {refs(cites(HEMKG + 'material-' + material))}" in shown, material
    assert material_label("NiS") in shown
    assert "further item" not in block


def test_cli_prints_evidence_in_text_json_and_full(runner):
    """Through the command (ref 41, Section 3.1): the short text has the evidence and the outranked planes, --json
    the graded evidence and each overruled record's line, --full each evidence fact's tree under 'Evidence: '."""
    text = run(runner, "explain", "(LiFeZnNiCoMn)3O4", "--about", "Zn").stdout
    assert f"  Evidence: {scale()['reported_here']}: " in text and "the report finds it structural" in text
    data = explain_json(runner, "(LiFeZnNiCoMn)3O4", "--about", "Zn")
    role = by_fact(data)["role(Zn, stabilizer)"]
    assert role["graded"]["evidence_detail"][0]["level"] == "reported_here"
    overruled = [e for e in role["evidence"] if e["fact"].startswith("overruled(")]
    assert overruled and all(e["outranked"].startswith("Fig. 6a places Zn on ") for e in overruled)
    full = run(runner, "explain", "(LiFeZnNiCoMn)3O4", "--about", "Zn", "--full").stdout
    assert "Evidence: the report on (LiFeZnNiCoMn)3O4 itself outranks the plane" in full
    assert "rule report-outranks-plane: " in full and "Plane boron" not in full


def test_evidence_spelled_with_its_json_key_joins_its_status():
    """Synthetic, for what the packaged rules cannot reach (they spell each mechanism one way): evidence for space
    charge concluded under its JSON key (space_charge) stands beside status(space-charge, ...) and is graded with
    it (Section 2.4's level). The toy rules run alone (engine.run) over the base facts of (MgCoNiCuZn)O (ref 48)."""
    mechanism = next(m for m in vocab().mechanisms if m.json_key != m.name)

    def toy(rule_id: str, when: str, then: str) -> engine.Rule:
        where = f"toy rule '{rule_id}'"
        return engine.Rule(rule_id, "A toy rule.", (engine.parse_atom(when, where),), (engine.parse_atom(then, where),),
                           (), "Section 2.4", "paper", "toy.toml")

    rules = (toy("toy-status", "element(?x)", f"status({mechanism.name}, accessible)"),
             toy("toy-evidence", f"status({mechanism.name}, accessible)",
                 f"evidence({mechanism.json_key}, not_shown_in_hems)"))
    real = consult("(MgCoNiCuZn)O")
    c = Consultation(real.formula, real.ion, real.structure, engine.run(dict(real.result.sources), rules))
    tree = ex.explain(c)
    (status,) = tree["conclusions"]
    assert [e["fact"] for e in status["evidence"]] == [f"evidence({mechanism.json_key}, not_shown_in_hems)"]
    assert status["graded"]["evidence"] == "not_shown_in_hems"
    assert f"  Evidence: {scale()['not_shown_in_hems']}" in ex.render(tree, 10_000)


def test_about_capacity_shows_the_theoretical_capacity_arithmetic(runner):
    """Issue 12: `hem explain --about capacity` shows the arithmetic: for (MgCoNiCuZn)O (ref 48), eqn (2)
    reduces Co2+, Ni2+, Cu2+ and Zn2+ (0.2 each), Mg2+ contributes nothing (off Plane A), Zn alloys to LiZn;
    the JSON carries the same record as the consultation's `theoretical_capacity`."""
    text = run(runner, "explain", "(MgCoNiCuZn)O", "--about", "capacity").stdout
    flat = " ".join(text.split())
    assert "Co2+ 0.2 x 2 + Ni2+ 0.2 x 2 + Cu2+ 0.2 x 2 + Zn2+ 0.2 x 2 = 1.6 e per formula unit" in flat
    assert "Contributes nothing: Mg2+" in flat and "Zn -> LiZn" in flat
    tree = json.loads(run(runner, "explain", "(MgCoNiCuZn)O", "--about", "capacity", "--json").stdout)
    consulted = json.loads(run(runner, "consult", "(MgCoNiCuZn)O", "--json").stdout)
    assert tree["theoretical_capacity"] == consulted["theoretical_capacity"]
    other = json.loads(run(runner, "explain", "(MgCoNiCuZn)O", "--about", "Zn", "--json").stdout)
    assert "theoretical_capacity" not in other  # only the capacity explanation carries it
