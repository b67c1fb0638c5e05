"""Tests of `hem explain`: the short form, the full tree (--full), the JSON, and the evidence beside a status.

Through click's CliRunner where the command is what is tested, in process where
a test needs a width or rules of its own. Citations are checked against the
rule files (read with tomllib) and the graph's hem:citesReference (SPARQL),
never against the code that printed them. The evidence rules of issue 11
(`evidence`, `role_evidence`, `overruled`) are stood in for by toy rules built
here from the engine's own types, so that these tests do not depend on how the
rule files grade evidence. Paper: Huang et al., Energy Environ. Sci. 2025, 18,
10286.
"""

from __future__ import annotations

import json
import re
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
from hemkg.consultation import consultation
from hemkg.consultation.consultation import consult
from hemkg.consultation.rules import paper_rules
from hemkg.graph.vocab import vocab

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
    'nothing says' lines the negated premises of its own rules (refs 47, 44, 41; Section 3.1, an outside anion)."""
    tree = explain_json(runner, formula, "--about", "all", "--full")
    # A fact whose tree an earlier conclusion showed is marked shown_above: look its tree up there.
    shown = {n["fact"]: n for c in tree["conclusions"] for n in walk(c["tree"]) if "derived_by" in n}

    def leaves_of(n: dict[str, Any], path: frozenset[str] = frozenset()) -> set[str]:
        if "source" in n:
            return {n["fact"]}
        if n["fact"] in path:
            return set()
        full = shown[n["fact"]]
        return {leaf for d in full["derived_by"] for p in d["premises"] for leaf in leaves_of(p, path | {n["fact"]})}

    for c in tree["conclusions"]:
        leaves = leaves_of(c["tree"])
        short = {i["fact"] for g in ("graph_facts", "input_facts", "other_facts") for i in c[g]}
        assert short == leaves, c["fact"]
        own_absent = {a["text"] for d in shown[c["fact"]]["derived_by"] for a in d["absent"]}
        assert set(c["absent"]) == own_absent, c["fact"]


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
    assert any(re.fullmatch(rf"  Rule {rule_id}: {statement_pattern(rule_id)} "
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
    """Section 3.1, Fig. 6a (ref 48): --about conversion explains the status and the roles in about 25 lines of 88
    columns: the rule, every Plane A cation of (MgCoNiCuZn)O with its statement's references, printed once, the
    input, and a count of what rests on them."""
    result = run(runner, "explain", "(MgCoNiCuZn)O", "--about", "conversion")
    assert result.exit_code == 0
    text = result.stdout
    assert len(text.splitlines()) <= 28 and max(map(len, text.splitlines())) <= 88
    lines = unwrap(text)
    assert "Conversion is accessible." in lines
    assert any(ln.startswith("  Rule conversion-accessible: ") for ln in lines)
    plane_a = next(p.short_label for p in vocab().planes if p.name == "A")
    for symbol in ("Co", "Ni", "Cu", "Zn"):
        cited = ", ".join(map(str, statement_citations(f"stmt-plane-A-{symbol}")))
        assert lines.count(f"    {symbol} is on {plane_a} of Fig. 6a [{cited}]") == 1, symbol
    assert "Co, Cu, Ni and Zn take part in conversion." in lines
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
    assert any(ln.startswith("  Rule conversion-requires-anion: ") for ln in lines)
    assert "  And nothing says: the candidate has an anion" in lines


# ---------------------------------------------------------------- the full tree as text

@pytest.mark.parametrize("about", ABOUT)
def test_full_text_citations_match_rule_files_and_graph(about):
    """--full prints each rule with its references and location (from its file or its statements), and each graph
    fact with its statement's references (Section 3.1, ref 48)."""
    text = ex.render(ex.explain(consult("(MgCoNiCuZn)O"), about, full=True), width=100_000)
    assert text.startswith(f"Why: (MgCoNiCuZn)O with Li+ ({about})\n")
    rule_lines = re.findall(r"rule ([a-z0-9-]+): (.*)$", text, re.M)
    assert rule_lines
    for rule_id, rest in rule_lines:
        refs = rule_references(rule_id)
        expected = f"{statement_pattern(rule_id)}{re.escape(' [' + ', '.join(map(str, refs)) + ']') if refs else ''} " \
                   f"{re.escape('(' + rule_location(rule_id) + ')')}"
        assert re.match(expected, rest), (rule_id, rest)
    kg_lines = re.findall(r"\(knowledge graph, (\S+)\)(?: \[([\d, ]+)\])?$", text, re.M)
    assert kg_lines
    for statement, refs in kg_lines:
        assert ([int(n) for n in refs.split(", ")] if refs else []) == cites(expand(statement)), statement


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


# ---------------------------------------------------------------- evidence, with toy rules standing in for issue 11's

def toy_rule(rule_id: str, statement: str, when: list[str], then: list[str]) -> engine.Rule:
    where = f"toy rule '{rule_id}'"
    return engine.Rule(rule_id, statement, tuple(engine.parse_atom(a, where) for a in when),
                       tuple(engine.parse_atom(a, where) for a in then), (41,), "Section 3.1", "paper", "toy.toml")


def toy_rules() -> tuple[engine.Rule, ...]:
    """Evidence rules of the kind issue 11 asks for, spelled both ways the brief allows: a level with underscores and
    one with hyphens, and space charge under its JSON key (space_charge) as well as its rule name."""
    space_charge = next(m.json_key for m in vocab().mechanisms if m.json_key != m.name)
    return (
        toy_rule("toy-reported-here", "A report on this very material shows the mechanism.",
                 ["matches_reported(?mat)", "observed(?c, ?m, ?mat, observed)", "status(?m, accessible)"],
                 ["evidence(?m, reported_here)"]),
        toy_rule("toy-report-outranks-plane", "A report on this very material outranks the plane.",
                 ["matches_reported(?mat)", "observed(?c, ?m, ?mat, not-observed)", "mechanism_element(?m, ?c)"],
                 ["overruled(?c, ?m, ?mat)"]),
        toy_rule("toy-role-reported-here", "A report on this very material shows the element's role.",
                 ["matches_reported(?mat)", "observed(?c, ?m, ?mat, observed)", "role(?c, ?m)"],
                 ["role_evidence(?c, ?m, reported-here)"]),
        toy_rule("toy-not-shown", "Not yet shown in HEMs.", ["plane_cation(?c, C)"],
                 [f"evidence({space_charge}, not-shown-in-hems)"]),
    )


@pytest.fixture
def with_toy_rules(monkeypatch):
    """consult() runs the paper's rules and the toy evidence rules."""
    rules = paper_rules() + toy_rules()
    monkeypatch.setattr(consultation, "paper_rules", lambda: rules)


def test_toy_rules_run(with_toy_rules):
    """The stand-ins draw what the tests below explain: ref 41 (Section 3.1) reports Fe, Co and Ni converting in
    (LiFeZnNiCoMn)3O4 and Zn not, although Fig. 6a puts Zn on Plane A."""
    c = consult("(LiFeZnNiCoMn)3O4")
    assert c.result.holds("evidence", "conversion", "reported_here")
    assert c.result.holds("overruled", "Zn", "conversion", "material-LiFeZnNiCoMn3O4")
    assert c.result.holds("role_evidence", "Co", "conversion", "reported-here")


def test_status_lists_its_evidence_and_what_outranked_a_plane(with_toy_rules):
    """Section 3.1, ref 41: the status of conversion for (LiFeZnNiCoMn)3O4 lists, under Evidence, the graded evidence
    with its rule and the report it rests on, and which report outranked which plane: Zn's Plane A statement [42]
    against ref 41's finding in this very material."""
    tree = ex.explain(consult("(LiFeZnNiCoMn)3O4"), "conversion")
    (status,) = [c for c in tree["conclusions"] if c["fact"] == "status(conversion, accessible)"]
    evidence = {e["fact"]: e for e in status["evidence"]}
    reported = evidence["evidence(conversion, reported_here)"]
    assert reported["rule"] == "toy-reported-here" and reported["citations"] == [41]
    seen = {i["statement"] for i in reported["graph_facts"]}
    assert {f"hemkg:stmt-example-LiFeZnNiCoMn3O4-{s}-conversion" for s in ("Fe", "Co", "Ni")} <= seen
    assert reported["rests_on"] == [{"fact": "status(conversion, accessible)", "text": "conversion is accessible"}]
    overruled = evidence["overruled(Zn, conversion, material-LiFeZnNiCoMn3O4)"]
    cited = {i["statement"]: i["citations"] for i in overruled["graph_facts"]}
    assert cited["hemkg:stmt-plane-A-Zn"] == statement_citations("stmt-plane-A-Zn")
    assert cited["hemkg:stmt-example-LiFeZnNiCoMn3O4-Zn-conversion"] == [41]
    assert not any(f.startswith("role_evidence(") for f in evidence)  # a role's evidence stands beside the role

    text = ex.render(tree, 10_000)
    block = text[text.index("Conversion is accessible."):text.index("\n\n", text.index("Conversion is accessible."))]
    assert "  Evidence:\n    The evidence for conversion is: reported here.\n      Rule toy-reported-here: " in block
    assert ("    The report on (LiFeZnNiCoMn)3O4 itself outranks the plane that would give Zn conversion.\n"
            "      Rule toy-report-outranks-plane: ") in block
    assert f"[{', '.join(map(str, statement_citations('stmt-plane-A-Zn')))}]" in block
    assert not RULE_SYNTAX.search(text)


def test_role_lists_its_evidence(with_toy_rules):
    """Section 3.1, ref 41: Co's conversion role lists role_evidence (level spelled with hyphens) for Co and
    conversion only; Zn's lists the report that outranked its plane."""
    tree = ex.explain(consult("(LiFeZnNiCoMn)3O4"), "conversion")
    by_fact = {c["fact"]: c for c in tree["conclusions"]}
    assert [e["fact"] for e in by_fact["role(Co, conversion)"]["evidence"]] == ["role_evidence(Co, conversion, reported-here)"]
    assert [e["text"] for e in by_fact["role(Co, conversion)"]["evidence"]] == [
        "the evidence that Co takes part in conversion is: reported here"]
    assert [e["fact"] for e in by_fact["role(Zn, conversion)"]["evidence"]] == [
        "overruled(Zn, conversion, material-LiFeZnNiCoMn3O4)"]


def test_evidence_spelled_with_underscores_joins_its_status(with_toy_rules):
    """Section 2.4: evidence for space charge, spelled space_charge with a hyphenated level, stands beside
    status(space-charge, ...) of (MgCoNiCuZn)O (Co and Ni on Plane C, Fig. 6a) and nowhere else."""
    tree = ex.explain(consult("(MgCoNiCuZn)O"))
    by_fact = {c["fact"]: c for c in tree["conclusions"]}
    (status,) = [f for f in by_fact if f.startswith("status(space-charge, ")]
    assert [e["fact"] for e in by_fact[status]["evidence"]] == ["evidence(space_charge, not-shown-in-hems)"]
    assert by_fact[status]["evidence"][0]["text"] == "the evidence for space charge is: not shown in hems"
    elsewhere = [e["fact"] for f, c in by_fact.items() if f != status for e in c["evidence"]]
    assert "evidence(space_charge, not-shown-in-hems)" not in elsewhere


def test_cli_prints_evidence_in_text_json_and_full(runner, with_toy_rules):
    """Through the command (ref 41, Section 3.1): the short text has the Evidence section, --json its records,
    --full each evidence fact's tree."""
    text = run(runner, "explain", "(LiFeZnNiCoMn)3O4", "--about", "Zn").stdout
    assert "  Evidence:" in text and "outranks the plane that would give Zn conversion." in " ".join(text.split())
    data = explain_json(runner, "(LiFeZnNiCoMn)3O4", "--about", "Zn", "--full")
    (role,) = [c for c in data["conclusions"] if c["fact"] == "role(Zn, conversion)"]
    (item,) = role["evidence"]
    assert item["tree"]["derived_by"][0]["rule"] == "toy-report-outranks-plane"
    full = run(runner, "explain", "(LiFeZnNiCoMn)3O4", "--about", "Zn", "--full").stdout
    assert "Evidence: the report on (LiFeZnNiCoMn)3O4 itself outranks the plane" in full
