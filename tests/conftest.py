"""Shared helpers for the test suite: the CLI runner and its checks, the rule files as written,
and look-ups of statements and values in the packaged graph."""

from __future__ import annotations

import functools
import re
import tomllib
from importlib.metadata import version as dist_version
from typing import Any

import pytest
from click.testing import CliRunner, Result

from hemkg.cli import main
from hemkg.consultation.consultation import Consultation
from hemkg.graph.store import package_files

from hemkg.graph import statements as knowledge
from hemkg.graph.store import HEMKG, select


def kg(name: str) -> str:
    return HEMKG + name


def statements_where(**fields) -> list[knowledge.Statement]:
    """Statements whose list/scalar fields contain each given value (IRIs as hemkg: local names)."""
    found = []
    for st in knowledge.statements().values():
        ok = True
        for name, wanted in fields.items():
            have = getattr(st, name)
            have = have if isinstance(have, list) else [have]
            if wanted not in have:
                ok = False
                break
        if ok:
            found.append(st)
    return found


def members(group: str) -> set[str]:
    return {row["e"].removeprefix(HEMKG) for row in select("SELECT ?e WHERE { ?g hem:hasMember ?e }", g=kg(group))}


def reported_values(holder: str) -> list[dict[str, str]]:
    """Reported values attached to a material or statement: number, unit, property, qualifier."""
    return select(
        """SELECT ?num ?unit ?prop ?q WHERE {
             ?h hem:hasReportedValue ?v . ?v qudt:numericValue ?num ; qudt:unit ?unit ; hem:ofProperty ?prop .
             OPTIONAL { ?v hem:valueQualifier ?q } }""",
        h=kg(holder),
    )


def has_value(holder: str, number: float, unit: str, prop: str) -> bool:
    """Whether `holder` reports `number` (to 0.1 %) in QUDT unit `unit` for property `prop`."""
    return any(
        abs(float(v["num"]) - number) <= abs(number) * 1e-3
        and v["unit"].rsplit("/", 1)[-1] == unit
        and v["prop"] == kg(prop)
        for v in reported_values(holder)
    )


@pytest.fixture(scope="session")
def statements() -> dict[str, knowledge.Statement]:
    return knowledge.statements()


# ---------------------------------------------------------------- the command line


def _click_version() -> tuple[int, int]:
    major, minor = dist_version("click").split(".")[:2]
    return int(major), int(re.match(r"\d+", minor).group())


@pytest.fixture
def runner() -> CliRunner:
    """A runner that keeps stderr apart from stdout (always so from click 8.2 on)."""
    if _click_version() < (8, 2):
        return CliRunner(mix_stderr=False)  # pragma: no cover - older click only
    return CliRunner()


def assert_no_traceback(result: Result) -> None:
    """No unexpected exception escaped, and no traceback reached the user."""
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    for text in (result.output, result.stdout, result.stderr):
        assert "Traceback" not in text


def run(runner: CliRunner, *args: str) -> Result:
    result = runner.invoke(main, list(args))
    assert_no_traceback(result)
    return result


def assert_one_line_error(result: Result) -> str:
    """Exit 2, nothing on stdout, one `error:` line on stderr (plus at most a hint); returns it."""
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines and lines[0].startswith("error: "), result.stderr
    assert sum(line.startswith("error:") for line in lines) == 1
    assert all(line.startswith("hint: ") for line in lines[1:]), result.stderr
    assert len(lines) <= 2
    return lines[0]


# ---------------------------------------------------------------- the rule files


@functools.cache
def rule_entries() -> dict[str, dict[str, Any]]:
    """Every rule of the packaged rules/*.toml as written there (read with tomllib, not the engine)."""
    entries: dict[str, dict[str, Any]] = {}
    for f in package_files("rules", "*.toml"):
        for entry in tomllib.loads(f.read_text(encoding="utf-8")).get("rule", []):
            entries[entry["id"]] = {**entry, "file": f.name}
    return entries


def fired(c: Consultation) -> set[str]:
    """The ids of every rule that drew at least one conclusion."""
    return {d.rule.id for ds in c.result.derivations.values() for d in ds}
