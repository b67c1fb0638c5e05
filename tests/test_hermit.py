"""The HermiT check (graph/checks.py, issue 10): a time limit, a typed error without Java, and its
temporary files removed on every path, an inconsistent ontology included."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from conftest import PREFIXES, needs_java

from hemkg.graph import checks
from hemkg.graph.store import build_store


@pytest.fixture
def temporary_folder(tmp_path, monkeypatch) -> Path:
    """Where tempfile puts temporary files during the test, to see what is left there."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def fake_java(tmp_path: Path, monkeypatch, script: str) -> Path:
    """A `java` first on the PATH that runs `script` (sh) and records its process id."""
    bin_folder = tmp_path / "bin"
    bin_folder.mkdir()
    java = bin_folder / "java"
    java.write_text(f"#!/bin/sh\necho $$ > {tmp_path / 'java.pid'}\n{script}\n", encoding="utf-8")
    java.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_folder}{os.pathsep}{os.environ['PATH']}")
    return tmp_path / "java.pid"


@needs_java
def test_an_inconsistent_ontology_leaves_no_temporary_file(tmp_path, temporary_folder):
    """Before: each inconsistent check left an 800 KB copy of the graph in the temporary folder."""
    bad = tmp_path / "bad.ttl"
    bad.write_text(PREFIXES + "hemkg:Zn a hem:IonStorageMechanism .\n", encoding="utf-8")
    store = build_store([bad])
    assert checks.consistent_under_hermit(store) is False
    assert list(temporary_folder.iterdir()) == []
    assert checks.consistent_under_hermit() is True
    assert list(temporary_folder.iterdir()) == []


def test_a_hanging_java_is_stopped_at_the_time_limit(tmp_path, monkeypatch, temporary_folder):
    """Before: no limit, so a hanging java blocked the check for ever."""
    pid_file = fake_java(tmp_path, monkeypatch, "exec sleep 30")
    with pytest.raises(checks.ReasonerTimeout, match=r"no answer within 1 s"):
        checks.consistent_under_hermit(timeout=1)
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)  # killed and reaped
    assert list(temporary_folder.iterdir()) == []


def test_a_failing_java_is_reported_and_leaves_nothing(tmp_path, monkeypatch, temporary_folder):
    fake_java(tmp_path, monkeypatch, "echo 'Error: could not create the Java virtual machine' >&2\nexit 3")
    with pytest.raises(checks.ReasonerUnavailable, match="could not create the Java virtual machine"):
        checks.consistent_under_hermit()
    assert list(temporary_folder.iterdir()) == []


def test_no_java_is_a_typed_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(checks.JavaNotFound, match="HermiT needs Java on the PATH"):
        checks.consistent_under_hermit()
    assert issubclass(checks.JavaNotFound, checks.ReasonerUnavailable)
