"""The rough edges a newcomer hit (issue 14): pipes, standard input, option spellings, widths, messages.

Each test runs `hem` as a user would (a real process where the pipe or the terminal matters, click's runner
otherwise). Where an answer rests on the paper (Huang et al., Energy Environ. Sci. 2025, 18, 10286), the test
names the place.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import assert_one_line_error

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
