"""The rough edges a newcomer hit (issue 14): pipes, standard input, option spellings, widths, messages.

Each test runs `hem` as a user would (a real process where the pipe or the terminal matters, click's runner
otherwise). Where an answer rests on the paper (Huang et al., Energy Environ. Sci. 2025, 18, 10286), the test
names the place.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import assert_one_line_error, run

ROOT = Path(__file__).resolve().parent.parent


def hem_process(*args: str, stdin: bytes | None = None, columns: int | None = None) -> subprocess.CompletedProcess:
    """`python -m hemkg ARGS` as a real process with stdout piped (not a terminal)."""
    env = dict(os.environ)
    env.pop("COLUMNS", None)
    if columns:
        env["COLUMNS"] = str(columns)
    return subprocess.run([sys.executable, "-m", "hemkg", *args], input=stdin, capture_output=True, env=env,
                          timeout=300)


# ---------------------------------------------------------------- pipes and standard input


@pytest.mark.parametrize("args", [("describe", "Zn"), ("ask", "--list"), ("export", "--format", "nt")])
def test_a_closed_pipe_ends_quietly(args):
    """`hem ... | head -1`: a reader that has gone is no bug in hemkg. The pipe's read end is closed before hem
    starts, so its first write meets a closed pipe (as `head -1` leaves it, without the race)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = subprocess.run([sys.executable, "-m", "hemkg", *args], stdout=write_end, stderr=subprocess.PIPE,
                                timeout=300)
    finally:
        os.close(write_end)
    assert result.stderr.decode() == ""
    assert result.returncode == 0


def test_consult_reads_candidates_from_standard_input():
    """--input - reads the candidates from stdin; (MgCoNiCuZn)O is the paper's rock-salt HEO (Table 1)."""
    result = hem_process("consult", "--input", "-", "--json", stdin=b"(MgCoNiCuZn)O\nnot-a-formula\n")
    lines = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [line["line"] for line in lines] == [1, 2]
    assert lines[0]["formula"] == "(MgCoNiCuZn)O" and "error" in lines[1]
    assert "stdin line 2" in result.stderr.decode()
    assert result.returncode == 1


def test_sparql_reads_the_query_from_standard_input(runner):
    result = runner.invoke(__import__("hemkg.cli", fromlist=["main"]).main,
                           ["sparql", "--file", "-", "--format", "json"],
                           input="SELECT ?e WHERE { ?e hem:memberOf hemkg:plane-C }")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["results"]["bindings"]


def test_sparql_standard_input_not_utf8_is_one_line_error(runner):
    from hemkg.cli import main

    result = runner.invoke(main, ["sparql", "--file", "-"], input=b"\xff\xfe SELECT")
    assert "standard input" in assert_one_line_error(result)


# ---------------------------------------------------------------- what the text answers must not show

TEXT_ANSWERS = [
    ("consult", "(MgCoNiCuZn)O"), ("consult", "SiGeSnSbBi", "--ion", "Na"), ("consult", "InGeSiP3", "--refs"),
    ("explain", "(MgCoNiCuZn)O", "--about", "all"), ("explain", "InGeSiP3"),
    ("explain", "Cu0.88Sn0.02Sb0.02Bi0.02Mn0.02S0.9Se0.1", "--about", "space-charge"),
    ("describe", "Zn"), ("describe", "conversion"), ("describe", "alloying"), ("describe", "space-charge"),
    ("describe", "defect sites"), ("describe", "ref 57"), ("describe", "ref 76"), ("describe", "(MgCoNiCuZn)O"),
    ("describe", "(LiFeZnNiCoMn)3O4"), ("describe", "Fe"), ("describe", "Si"),
]


def _internal_names() -> re.Pattern[str]:
    """Statement and material ids of the graph and the rules' ids (those with a hyphen, which no prose word has),
    and the phrase the notes on the text of Table 1 used for how the text was read."""
    import tomllib

    rule_ids = set()
    for path in (ROOT / "rules").glob("*.toml"):
        for table in tomllib.loads(path.read_text(encoding="utf-8")).values():
            for entry in table if isinstance(table, list) else []:
                if isinstance(entry, dict) and "-" in str(entry.get("id", "")):
                    rule_ids.add(entry["id"])
    words = sorted(rule_ids, key=len, reverse=True)
    return re.compile(r"(?<![\w-])(?:hemkg:)?(?:stmt-[\w-]+|material-[\w-]+|"
                      + "|".join(map(re.escape, words)) + r")(?![\w-])|Extraction printed")


@pytest.mark.parametrize("args", TEXT_ANSWERS, ids=" ".join)
def test_text_answers_show_no_internal_ids_or_insider_phrases(runner, args):
    """The text answers speak of the paper's statements by their words, sections and references (e.g. Table 1,
    Section 3.2), never by the graph's ids (stmt-order-...), the rules' ids or how the paper's text was read in.
    (explain --full is the derivation itself, each step named by its rule: the one place ids belong.)"""
    result = run(runner, *args)
    assert result.exit_code == 0, result.output
    found = sorted(set(_internal_names().findall(result.stdout)))
    assert found == [], found


@pytest.mark.parametrize("args", [("(MgCoNiCuZn)O", "--about", "Zn"), ("(CrMnFeCoNi)3O4", "--about", "intercalation"),
                                  ("(LiFeZnNiCoMn)3O4", "--about", "Zn")], ids=" ".join)
def test_full_explanation_names_rules_but_no_graph_ids(runner, args):
    """explain --full names each step's rule (the id to look up in rules/), but a fact from the graph by where the
    paper states it (Fig. 6a's planes, Section 3.1; ref 45's report on (CrMnFeCoNi)3O4 as a host), never by the
    graph's statement or material ids, and a negated premise with a wildcard in words, not as '_'."""
    result = run(runner, "explain", *args, "--full")
    assert result.exit_code == 0, result.output
    ids = re.compile(r"(?<![\w-])(?:hemkg:)?(?:stmt-[\w-]+|material-[\w-]+)(?![\w-])")
    assert ids.findall(result.stdout) == []
    assert not re.search(r"(?<![\w-])_(?![\w-])", result.stdout)
    assert "(the paper, " in result.stdout and "rule " in result.stdout


# ---------------------------------------------------------------- option spellings


def test_hem_alone_prints_help_and_exits_0(runner):
    result = run(runner)
    assert result.exit_code == 0
    assert "Commands:" in result.stdout and "consult" in result.stdout


@pytest.mark.parametrize("spelling", ["--ion", "--ions"])
def test_consult_and_screen_take_ion_and_ions(runner, spelling):
    """Section 2.4 (refs 58, 59): Na+ and K+ are carriers of the paper; both spellings name the carrier ion."""
    consulted = json.loads(run(runner, "consult", "(MgCoNiCuZn)O", spelling, "Na", "--json").stdout)
    assert consulted["ion"] == "Na"
    screened = run(runner, "screen", "-k", "3", "--anions", "O", spelling, "K", "--top", "3", "--json",
                   "--workers", "1", "--no-progress")
    assert screened.exit_code == 0, screened.output
    assert {row["ion"] for row in json.loads(screened.stdout)["top"]} == {"K"}


def test_the_alias_spellings_stay_out_of_the_help(runner):
    assert "--ions" not in run(runner, "consult", "--help").stdout
    assert "--ion " not in run(runner, "screen", "--help").stdout.replace("--ions", "")


@pytest.mark.parametrize("args", [("describe", "Zn"), ("consult", "(MgCoNiCuZn)O"), ("explain", "InGeSiP3"),
                                  ("compare", "(MgCoNiCuZn)O", "InGeSiP3"), ("kg", "stats")])
def test_format_json_is_the_same_as_json(runner, args):
    assert run(runner, *args, "--format", "json").stdout == run(runner, *args, "--json").stdout


@pytest.mark.parametrize("args", [("sparql", "SELECT ?e WHERE { ?e hem:memberOf hemkg:plane-C }"),
                                  ("ask", "elements-enabling-mechanism")])
def test_json_is_the_same_as_format_json(runner, args):
    json_flag = run(runner, *args, "--json")
    assert json_flag.exit_code == 0
    assert json_flag.stdout == run(runner, *args, "--format", "json").stdout
    assert json.loads(json_flag.stdout)["results"]["bindings"]


def test_screen_takes_both_spellings_of_space_charge(runner):
    """Section 2.4: space charge; rules/ spell it space-charge, JSON space_charge: screen takes both."""
    common = ("screen", "-k", "3", "--anions", "O", "--ions", "Li", "--json", "--workers", "1", "--no-progress")
    dashed = run(runner, *common, "--mechanism", "space-charge")
    assert dashed.exit_code == 0, dashed.output
    assert dashed.stdout == run(runner, *common, "--mechanism", "space_charge").stdout
    assert all(row["space_charge"] == "accessible" for row in json.loads(dashed.stdout)["top"])
    evidence = run(runner, *common, "--evidence", "space-charge=reported_related")
    assert evidence.stdout == run(runner, *common, "--evidence", "space_charge=reported_related").stdout


def test_explain_and_describe_take_both_spellings_of_space_charge(runner):
    for command in (("explain", "(MgCoNiCuZn)O", "--about"), ("describe",)):
        dashed = run(runner, *command, "space-charge", "--json")
        assert dashed.exit_code == 0, dashed.output
        underscored = json.loads(run(runner, *command, "space_charge", "--json").stdout)
        answer = json.loads(dashed.stdout)
        for echoed in ("about", "query"):  # the spelling the user typed, given back
            answer.pop(echoed, None), underscored.pop(echoed, None)
        assert answer == underscored


def test_describe_a_word_of_the_paper_that_is_no_term(runner):
    """Section 3.1 (ref 47): graphite is named only beside the HEM plateau (~1.0 V against ~0.2 V for graphite or
    hard carbon); describe finds that statement and its reference."""
    answer = json.loads(run(runner, "describe", "graphite", "--json").stdout)
    assert answer["term"] is None and answer["mentioned"]
    statements = [s for g in answer["groups"] for s in g["statements"]]
    assert statements and all("graphite" in (s["statement"] + " ".join(s.get("quote", []))).lower()
                              for s in statements)
    assert 47 in {n for s in statements for n in s["references"]}
    text = run(runner, "describe", "graphite").stdout
    assert "graphite" in text.splitlines()[0] and "[47]" in text


def test_describe_a_word_the_paper_does_not_use(runner):
    error = assert_one_line_error(run(runner, "describe", "perovskite-xyz"))
    assert "the paper does not mention it" in error


# ---------------------------------------------------------------- widths and tables

WIDE_ANSWERS = [
    ("explain", "(MgCoNiCuZn)O", "--about", "all"), ("explain", "InGeSiP3", "--full"), ("ask", "--list"),
    ("consult", "(MgCoNiCuZn)O"), ("consult", "(MgCoNiCuZn)O", "--refs"), ("describe", "Zn"), ("--help",),
    ("kg", "stats"), ("compare", "(MgCoNiCuZn)O", "InGeSiP3"),
    ("screen", "-k", "3", "--anions", "O", "--ions", "Li", "--workers", "1", "--pareto", "capacity,cycling_stability"),
    ("screen", "--grid", "0.05", "-k", "5", "--include", "Ge", "--require", "Li,Ge,Si,Mg,V", "--anions", "O",
     "--ions", "Li", "--workers", "1"),
]


@pytest.mark.parametrize("args", WIDE_ANSWERS, ids=" ".join)
def test_no_line_is_wider_than_80_columns_when_piped(args):
    """Piped (no terminal), every text answer fits 80 columns: explain, the screen's table and footnote, ask
    --list, consult's references, and hem --help with every command summary whole (no '...')."""
    result = hem_process(*args)
    assert result.returncode == 0, result.stderr.decode()
    lines = result.stdout.decode().splitlines()
    assert lines and max(len(line) for line in lines) <= 80, max(lines, key=len)
    if args == ("--help",):
        commands = result.stdout.decode().split("Commands:")[1]
        assert "..." not in commands


def test_screen_table_keeps_formulas_apart_and_figures_alike(runner):
    """A grid formula is folded within its column, never run into the ion column; the Pareto front counts '1
    candidate' in the singular, and capacities are printed to one decimal in the front and the table alike."""
    result = run(runner, "screen", "-k", "3", "--anions", "O", "--ions", "Li", "--workers", "1",
                 "--pareto", "capacity,cycling_stability", "--no-progress")
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "(1 candidates)" not in text and "(1 candidate)" in text
    front = re.findall(r"capacity (\d+(?:\.\d+)?)", text)
    assert front and all(re.fullmatch(r"\d+\.\d", v) for v in front)
    table = next(block for block in text.split("\n\n") if block.startswith("formula")).splitlines()
    assert table[0].split()[:2] == ["formula", "ion"]
    ion_at = table[0].index("ion")
    for line in table[2:]:
        assert line[ion_at - 1] == " "  # the formula column ends before the ion column
        if line[ion_at:ion_at + 2].strip():
            assert line[ion_at:ion_at + 2] == "Li"
            assert re.search(r"\s\d+\.\d\s", line)  # mAh/g to one decimal


# ---------------------------------------------------------------- what an output file says of itself


def test_screen_parquet_carries_its_parameters_units_version_and_paper(runner, tmp_path):
    """A screen's Parquet file names the options it ran with, mAh/g for capacities (theoretical, beyond the
    paper), the hemkg version and the paper its rules come from (Energy Environ. Sci. 2025, 18, 10286)."""
    import pyarrow.parquet as pq

    import hemkg

    target = tmp_path / "run.parquet"
    result = run(runner, "screen", "-k", "3", "--anions", "O", "--ions", "Na", "--workers", "1", "--no-progress",
                 "--mechanism", "conversion", "-o", str(target))
    assert result.exit_code == 0, result.output
    stored = pq.read_schema(target).metadata
    meta = json.loads(stored[b"hemkg"])
    assert meta["hemkg_version"] == hemkg.__version__
    assert meta["paper"]["doi"] == "10.1039/d5ee05507e" and "10286" in meta["paper"]["citation"]
    assert meta["parameters"]["ions"] == "Na" and meta["parameters"]["sizes"] == "3"
    assert meta["parameters"]["mechanisms"] == ["conversion"]
    assert meta["units"]["capacity_total"] == "mAh/g"
    assert pq.read_table(target).num_rows > 0


@pytest.mark.parametrize("args", [("sparql", "ASK {}"), ("ask", "elements-enabling-mechanism"), ("serve",),
                                  ("screen", "-k", "3", "--workers", "2")])
def test_without_fork_the_cli_says_posix_only(runner, monkeypatch, args):
    """On a platform without fork (Windows), the fork-only commands end with one clear line, not a traceback."""
    import multiprocessing

    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    assert "POSIX" in assert_one_line_error(run(runner, *args))


# ---------------------------------------------------------------- the consultation's text


def _golden_cases() -> list[dict]:
    import tomllib

    return [tomllib.loads(p.read_text(encoding="utf-8")) | {"file": p.stem}
            for p in sorted((ROOT / "tests" / "cases").glob("*.toml"))]


@pytest.mark.parametrize("case", _golden_cases(), ids=lambda c: c["file"])
def test_no_sentence_is_repeated_within_a_section(case):
    """Each golden case (tests/cases/, each anchored on the paper or constructed): within a section of the
    consultation's text, no sentence is said twice (two rules reaching one topic say it once)."""
    from hemkg.answers.report import render_consultation
    from hemkg.answers.summary import summarise
    from hemkg.consultation.consultation import Structure, consult

    structure = Structure(**case.get("structure", {})).validated() if case.get("structure") else None
    text = render_consultation(summarise(consult(case["formula"], case["ion"], structure)), width=100_000)
    for section in text.split("\n\n"):
        body = " ".join(section.split())
        sentences = [s.strip() for s in re.split(r"(?<=[.:])\s+(?=[A-Z(])", body) if len(s.strip()) > 20]
        repeated = {s for s in sentences if sentences.count(s) > 1}
        assert not repeated, (section.splitlines()[0], repeated)


def test_no_below_10_nm_advice_for_products_already_below(runner):
    """Section 2.4 (ref 57): space charge needs metal particles under 10 nm. Given --product-size 5, the answer
    says they are below 10 nm and does not tell the user to keep them below 10 nm (it does at 20 nm)."""
    fine = json.loads(run(runner, "consult", "(MgCoNiCuZn)O", "--product-size", "5", "--json").stdout)
    texts = [r["text"] for r in fine["recommendations"]]
    assert not any("below 10 nm" in t for t in texts), texts
    assert any("below 10 nm" in n["text"] for n in fine["notes"])
    coarse = json.loads(run(runner, "consult", "(MgCoNiCuZn)O", "--product-size", "20", "--json").stdout)
    assert any("below 10 nm" in r["text"] for r in coarse["recommendations"])


# ---------------------------------------------------------------- the size of a screen, before and during


def test_screen_count_gives_the_size_and_screens_nothing(runner, monkeypatch):
    """--count prints the number of candidates the selection holds (the equimolar default: every 5 of the paper's
    cations, Fig. 6a, with each anion or none, for each ion) and screens none."""
    from math import comb

    from hemkg.graph.vocab import vocab
    from hemkg.screening import run as sc

    monkeypatch.setattr(sc, "screen", lambda *a, **k: pytest.fail("--count must not screen"))
    v = vocab()
    expected = comb(len(v.cations), v.hem.min_elements) * (len(v.anions) + 1) * len(v.ions)
    result = run(runner, "screen", "--count")
    assert result.exit_code == 0 and result.stdout == f"{expected:,}\n"
    grid = json.loads(run(runner, "screen", "--grid", "0.05", "-k", "5", "--ions", "Li", "--anions", "O",
                          "--count", "--json").stdout)
    assert grid["candidates"] == sc.Space(pool=v.cations, sizes=(5,), anions=(sc.AnionOption.parse("O"),),
                                          ions=("Li",), grid_step=0.05).validate().count()


def test_a_big_screen_says_its_size_first(runner, monkeypatch):
    """Beyond 10 million candidates, stderr gives the size and an estimate of the time before anything runs."""
    from hemkg.screening import run as sc

    def stop(*args, **kwargs):
        raise sc.ScreenError("stopped here, before any work")

    monkeypatch.setattr(sc, "screen", stop)
    result = run(runner, "screen", "--grid", "0.05", "-k", "5", "--ions", "Li", "--anions", "O", "--workers", "1")
    assert "stopped here" in result.stderr
    assert result.stderr.index("note:") < result.stderr.index("stopped here")
    assert "note: this screens 95,446,780 candidates: about" in result.stderr and "minutes" in result.stderr
    small = run(runner, "screen", "-k", "3", "--ions", "Li", "--anions", "O", "--workers", "1", "--count")
    assert small.stderr == ""


def test_progress_off_a_terminal_is_plain_lines():
    """--progress with stderr piped: plain lines (no bar, no escape codes) that end at the total."""
    result = hem_process("screen", "-k", "3", "--ions", "Li", "--anions", "O", "--workers", "1", "--progress",
                         "--top", "1")
    assert result.returncode == 0
    lines = result.stderr.decode().splitlines()
    assert lines[0] == "screening 2,600 candidates"
    assert lines[-1].startswith("screened 2,600 of 2,600 (100%")
    assert "\x1b" not in result.stderr.decode()


def test_compare_table_keeps_columns_apart(runner):
    """Section 2.4: SiGeSnSbBi (no anion) has neither conversion nor space charge; side by side with the paper's
    rock-salt HEO (Section 3.1, ref 48), each status reads in words and the columns never run together."""
    result = run(runner, "compare", "(MgCoNiCuZn)O", "InGeSiP3", "SiGeSnSbBi")
    assert result.exit_code == 0
    table = result.stdout.split("\n\n")[0].splitlines()
    rows = {cells[0]: cells[1:] for line in table[2:] if len(cells := re.split(r"\s{2,}", line.strip())) > 1}
    assert rows["space charge"] == ["accessible", "not accessible", "not accessible"]
    assert rows["conversion"] == ["accessible", "accessible", "not accessible"]
    assert "not_accessible" not in result.stdout


def test_sparql_table_folds_long_cells_and_cuts_nothing(runner):
    """A table of long texts (the paper's quotes, skos:scopeNote) fits 80 columns piped and cuts no cell."""
    query = "SELECT ?s ?quote WHERE { ?s a hem:GuidelineStatement ; skos:scopeNote ?quote } ORDER BY ?s LIMIT 3"
    result = hem_process("sparql", query)
    text = result.stdout.decode()
    assert result.returncode == 0 and text.rstrip().endswith("(3 rows)")
    assert "…" not in text and max(len(line) for line in text.splitlines()) <= 80
    full = run(runner, "sparql", query, "--format", "json")
    first = json.loads(full.stdout)["results"]["bindings"][0]["quote"]["value"]
    assert " ".join(first.split())[-30:] in " ".join(" ".join(text.split()).split())  # its end is there too


def test_kg_stats_counts_are_a_table(runner):
    """Table 1: the 26 cations and 5 anions, counted in a table with a header."""
    text = run(runner, "kg", "stats").stdout
    assert re.search(r"^  count  type$", text, re.M)
    assert re.search(r"^ +26  cation element$", text, re.M) and re.search(r"^ +5  anion element$", text, re.M)
