"""README.md's set-up commands and .ci/run cannot drift apart."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _setup_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Set-up on a fresh machine", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", section)


def test_readme_gives_exactly_two_setup_commands():
    """One command runs a real job (hem describe), one runs the tests."""
    commands = _setup_commands()
    assert len(commands) == 2
    assert "hem describe" in commands[0]
    assert "pytest" in commands[1]


def test_ci_runs_the_readme_test_command():
    """.ci/run ends with exactly the README's test command."""
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines() if line.strip()]
    assert ci_lines[-1] == _setup_commands()[1]


def test_every_command_is_documented_in_readme():
    """Docs that cannot drift: each hem command and kg subcommand appears in README as 'hem NAME'."""
    from hemkg.cli import main

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    names = [f"hem {name}" for name in main.commands] + [f"hem kg {name}" for name in main.commands["kg"].commands]
    missing = [n for n in names if n not in text]
    assert not missing, f"README.md does not show: {', '.join(missing)}"


# ---------------------------------------------------------------- every README command runs (issue 14)

# Commands that need a server running beside them (hem serve, a Graph Store for hem kg push, an endpoint to
# query): tests/test_serve.py and tests/test_sparql.py run them against servers of their own.
NEEDS_A_SERVER = ("hem serve", "hem kg push", "--endpoint", "curl ")


def readme_commands() -> list[str]:
    """Every `$ hem ...` line of the README's console blocks, in order, without its trailing comment."""
    import shlex

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = []
    for block in re.findall(r"```console\n(.*?)```", text, re.S):
        for line in block.splitlines():
            if line.startswith("$ "):
                lexer = shlex.shlex(line[2:], posix=True, punctuation_chars=False)
                lexer.whitespace_split, lexer.commenters = True, "#"
                words = list(lexer)
                commands.append(shlex.join(words) if ">" not in words else " ".join(
                    w if w == ">" else shlex.quote(w) for w in words))
    return commands


def test_readme_commands_are_found():
    commands = readme_commands()
    assert len(commands) > 30 and all(c.startswith(("hem ", "curl ")) for c in commands)


def test_every_readme_command_runs(tmp_path):
    """Each README command runs, in order, from a copy of examples/ with a literature library of its own, and
    exits 0: the files it names are shipped (examples/) and every example is small enough to run here."""
    import os
    import shutil
    import subprocess
    import sys

    work = tmp_path / "work"
    shutil.copytree(ROOT / "examples", work / "examples")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "hem").write_text(f"#!/bin/sh\nexec {sys.executable} -m hemkg \"$@\"\n", encoding="utf-8")
    (bin_dir / "hem").chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "HEMKG_LIBRARY": str(tmp_path / "lib"),
           "XDG_DATA_HOME": str(tmp_path / "xdg")}
    failures = []
    for command in readme_commands():
        if any(marker in command for marker in NEEDS_A_SERVER):
            continue
        result = subprocess.run(["sh", "-c", command], cwd=work, env=env, capture_output=True, timeout=600)
        if result.returncode != 0:
            failures.append(f"{command}: exit {result.returncode}: {result.stderr.decode()[-300:]}")
    assert failures == []
