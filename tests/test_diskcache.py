"""The disk cache of derived data (diskcache.py): keyed so that nothing stale is ever read.

Every consultation starts from cached pickles (the knowledge graph's rule facts,
the shared index with the rules compiled to code), so a stale entry would give
wrong answers or crash: the key must change with the data, the code and Python.
"""

from __future__ import annotations

import pickle
from importlib import resources

import pytest
from hemkg.graph import diskcache


@pytest.fixture
def package(tmp_path, monkeypatch):
    """A stand-in package folder for the key, and a cache folder of its own."""
    root = tmp_path / "package"
    (root / "rules").mkdir(parents=True)
    (root / "graph").mkdir()
    (root / "tests").mkdir()
    (root / "engine.py").write_text("x = 1\n")
    (root / "graph" / "store.py").write_text("y = 1\n")
    (root / "tests" / "test_x.py").write_text("z = 1\n")
    (root / "README.md").write_text("prose\n")
    (root / "rules" / "10-a.toml").write_text("[[rule]]\n")
    monkeypatch.setattr(resources, "files", lambda name: root)
    monkeypatch.setenv("HEMKG_CACHE_DIR", str(tmp_path / "cache"))
    diskcache._folder.cache_clear()
    yield root
    diskcache._folder.cache_clear()


def key() -> str:
    diskcache._folder.cache_clear()
    return diskcache._folder().name


def test_key_changes_with_code_data_and_python(package, monkeypatch):
    first = key()
    assert key() == first
    (package / "README.md").write_text("other prose\n")  # not code, not data
    assert key() == first
    (package / "engine.py").write_text("x = 2\n")
    assert key() != first
    second = key()
    (package / "rules" / "10-a.toml").write_text("[[rule]]\nid = 'b'\n")
    assert key() != second
    third = key()
    monkeypatch.setattr(diskcache.sys, "version", "3.99.0 (another Python)")
    assert key() != third


def test_values_are_cached_and_damaged_entries_rewritten(package, tmp_path):
    calls = []

    def derived() -> dict:
        calls.append(1)
        return {"facts": len(calls)}

    derived.__module__ = "tests.fake"
    first = diskcache.disk_cached(derived)
    assert first() == {"facts": 1}
    assert diskcache.disk_cached(derived)() == {"facts": 1} and len(calls) == 1  # a new process reads the file
    (entry,) = (tmp_path / "cache").rglob("*.pickle")
    entry.write_bytes(b"not a pickle")
    assert diskcache.disk_cached(derived)() == {"facts": 2}
    assert pickle.loads(entry.read_bytes()) == {"facts": 2}


def test_off_and_unwritable_folders_compute_without_failing(package, tmp_path, monkeypatch):
    monkeypatch.setenv("HEMKG_CACHE_DIR", "off")
    diskcache._folder.cache_clear()
    assert diskcache._folder() is None
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("")
    monkeypatch.setenv("HEMKG_CACHE_DIR", str(blocked / "cache"))
    diskcache._folder.cache_clear()
    assert diskcache.disk_cached(lambda: 42)() == 42


def test_key_changes_with_a_module_of_a_sub_package(package):
    """Issue 9: code moved into sub-packages stays in the key (a moved module must not fall out of it)."""
    first = key()
    (package / "graph" / "store.py").write_text("y = 2\n")
    assert key() != first
    second = key()
    (package / "graph" / "notes.txt").write_text("not code\n")  # neither code nor data
    (package / "tests" / "test_x.py").write_text("z = 2\n")  # the tests are not installed
    assert key() == second
    (package / "graph" / "new_module.py").write_text("")
    assert key() != second
