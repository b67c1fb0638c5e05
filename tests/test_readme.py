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
