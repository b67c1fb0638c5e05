"""The disk cache of derived data (diskcache.py): keyed so that nothing stale is ever read.

Every consultation starts from cached pickles (the knowledge graph's rule facts,
the shared index with the rules compiled to code), so a stale entry would give
wrong answers or crash: the key must change with the data, the code and Python.
"""

from __future__ import annotations

import os
import pickle
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from hemkg.graph import diskcache, store
from hemkg.system import collector


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
    monkeypatch.setattr(store, "package_root", lambda: root)
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
    assert diskcache.disk_cached(derived)() == {"facts": 2} and len(calls) == 2  # rewritten, and read again


def test_off_and_unwritable_folders_compute_without_failing(package, tmp_path, monkeypatch):
    monkeypatch.setenv("HEMKG_CACHE_DIR", "off")
    diskcache._folder.cache_clear()
    assert diskcache._folder() is None
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("")
    monkeypatch.setenv("HEMKG_CACHE_DIR", str(blocked / "cache"))
    diskcache._folder.cache_clear()
    def answer() -> int:
        return 42

    assert diskcache.disk_cached(answer)() == 42


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


# ------------------------------------------------------------------ only what this installation wrote (issue 10)


class Marker:
    """Unpickling this touches a file: what a crafted entry could do instead."""

    def __init__(self, path: Path):
        self.path = path

    def __reduce__(self):
        return (Path.touch, (self.path,))


def fake(value_of: Callable[[int], object]) -> tuple[Callable[[], dict], list[int]]:
    """A disk-cacheable function returning value_of(number of calls so far), and its calls."""
    calls: list[int] = []

    def derived() -> dict[str, str]:
        calls.append(1)
        return value_of(len(calls))

    derived.__module__ = "tests.fake"
    return derived, calls


def entry_of(function: Callable[[], object]) -> Path:
    return diskcache._folder() / f"{function.__module__}.{function.__name__}.pickle"


def signed(path: Path, value: object) -> None:
    """Write `value` as an entry this installation would have written (plain pickle before issue 10)."""
    if hasattr(diskcache, "_write"):
        diskcache._write(path, value)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(pickle.dumps(value))


@pytest.mark.parametrize("signature", [b"", b"hemkg-cache 1\n" + bytes(32)], ids=["plain pickle", "forged signature"])
def test_a_crafted_pickle_is_never_unpickled(package, tmp_path, signature):
    """Before: a pickle placed in the cache folder ran its code at the next start."""
    derived, calls = fake(lambda n: {"facts": str(n)})
    marker = tmp_path / "ran"
    path = entry_of(derived)
    path.parent.mkdir(parents=True)
    path.write_bytes(signature + pickle.dumps(Marker(marker)))
    assert diskcache.disk_cached(derived)() == {"facts": "1"} and calls == [1]
    assert not marker.exists()
    assert diskcache.disk_cached(derived)() == {"facts": "1"} and calls == [1]  # rewritten, signed: read back


def test_a_well_formed_entry_of_the_wrong_type_is_recomputed(package):
    """Before: a pickle of the wrong type was returned as it was and broke every later run."""
    derived, calls = fake(lambda n: {"facts": str(n)})
    for wrong in (["facts"], {"facts": 1}):  # not a dict; a dict of the wrong values
        signed(entry_of(derived), wrong)
        assert diskcache.disk_cached(derived)() == {"facts": str(len(calls))}
    assert calls == [1, 1]


def test_a_tampered_byte_is_recomputed(package):
    derived, calls = fake(lambda n: {"facts": "a" * 8})
    assert diskcache.disk_cached(derived)() == {"facts": "aaaaaaaa"}
    path = entry_of(derived)
    data = path.read_bytes()
    at = data.rindex(b"aaaaaaaa") + 7
    path.write_bytes(data[:at] + b"b" + data[at + 1 :])  # still a valid pickle, of {"facts": "aaaaaaab"}
    assert diskcache.disk_cached(derived)() == {"facts": "aaaaaaaa"} and calls == [1, 1]


def test_the_key_is_private_and_made_once(package, tmp_path):
    derived, _ = fake(lambda n: {"facts": str(n)})
    diskcache.disk_cached(derived)()
    key = tmp_path / "cache" / "key"
    assert key.stat().st_mode & 0o777 == 0o600 and len(key.read_bytes()) == 32
    first = key.read_bytes()
    other, _ = fake(lambda n: {"other": str(n)})
    other.__name__ = "other"
    diskcache.disk_cached(other)()
    assert key.read_bytes() == first and sorted(p.name for p in (tmp_path / "cache").iterdir() if p.is_file()) == ["key"]


@pytest.mark.parametrize("loosen", ["folder", "key"])
def test_a_cache_others_may_write_is_not_used(package, tmp_path, loosen):
    """A cache folder group or others may write (or a key others may read) is neither read nor written."""
    derived, _ = fake(lambda n: {"facts": str(n)})
    diskcache.disk_cached(derived)()
    root = tmp_path / "cache"
    (root if loosen == "folder" else root / "key").chmod(0o775 if loosen == "folder" else 0o644)
    assert diskcache.disk_cached(derived)() == {"facts": "2"}  # the entry there was not trusted
    entry_of(derived).unlink()
    assert diskcache.disk_cached(derived)() == {"facts": "3"} and not entry_of(derived).exists()


def test_every_cached_function_declares_the_type_its_values_are_checked_against():
    """Each disk-cached function of the package has a resolvable return type, and its value has that type."""
    # imported for what they register (the disk-cached functions)
    import hemkg.consultation.facts
    import hemkg.engine.language
    import hemkg.graph.materials
    import hemkg.graph.statements  # noqa: F401

    functions = [f for f in diskcache.REGISTERED if f.__module__.startswith("hemkg.")]
    assert len(functions) >= 14
    for function in functions:
        # a quoted annotation under `from __future__ import annotations` evaluates to a string: no check at all
        assert not isinstance(diskcache.expected_type(function), str), function.__qualname__
        assert diskcache.checker(function)(function()), function.__qualname__


def test_the_content_key_is_remembered_under_a_stamp_of_sizes_and_times(package, tmp_path):
    """A cold start hashes the files' bytes only when a size or a modification time changed."""
    stamps = tmp_path / "cache" / diskcache.STAMPS
    key()
    assert not stamps.exists()  # files younger than the clock can tell apart: no stamp is kept
    settled = time.time() - 60
    for f in package.rglob("*"):
        os.utime(f, (settled, settled))
    first = key()
    assert len(list(stamps.iterdir())) == 1

    def unread(self):
        raise AssertionError(f"{self} was read although no file changed")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Path, "read_bytes", unread)
        assert key() == first
    (package / "engine.py").write_text("x = 3\n")  # same size; a new modification time
    os.utime(package / "engine.py", (settled + 1, settled + 1))
    assert key() != first


def test_keyed_entries_follow_their_key(package, tmp_path):
    """diskcache.keyed (a literature library's findings, keyed by folder and revision): the same key reads the
    entry without computing; another key computes afresh and replaces the old entry, so one is kept."""
    calls = []

    def findings(revision: str) -> dict:
        calls.append(revision)
        return {"revision": revision, "call": len(calls)}

    findings.__module__ = "tests.fake"
    assert diskcache.keyed(findings, "library\nr1", "r1") == {"revision": "r1", "call": 1}
    assert diskcache.keyed(findings, "library\nr1", "r1") == {"revision": "r1", "call": 1} and calls == ["r1"]
    assert diskcache.keyed(findings, "library\nr2", "r2") == {"revision": "r2", "call": 2}
    assert len(list((tmp_path / "cache").rglob("tests.fake.findings.*.pickle"))) == 1
    assert diskcache.keyed(findings, "library\nr1", "r1") == {"revision": "r1", "call": 3}  # computed again


def test_the_cycle_collector_is_paused_only_while_an_entry_is_read(package, tmp_path, monkeypatch):
    """An entry is unpickled with Python's cycle collector off (a library's index is tens of thousands of objects),
    and the collector is left as it was found: on after a read, still off for a caller that had turned it off,
    on again after an entry that fails to unpickle."""
    import gc

    def derived() -> list:
        return [{"fact": n} for n in range(100)]

    derived.__module__ = "tests.fake"
    diskcache.disk_cached(derived)()  # written
    seen = []
    real_loads = pickle.loads

    def loads(data: bytes):
        seen.append(gc.isenabled())
        return real_loads(data)

    monkeypatch.setattr(diskcache.pickle, "loads", loads)
    assert diskcache.disk_cached(derived)() == derived() and seen == [False] and gc.isenabled()
    gc.disable()
    try:
        diskcache.disk_cached(derived)()
        assert not gc.isenabled()
    finally:
        gc.enable()
    monkeypatch.setattr(diskcache.pickle, "loads", lambda data: 1 / 0)
    assert diskcache.disk_cached(derived)() == derived() and gc.isenabled()  # recomputed


def test_what_is_read_is_frozen_only_where_hemkg_owns_the_process(package, tmp_path, monkeypatch):
    """Where hemkg owns the process (system/collector.py OWN_PROCESS, set by cli.run, the `hem` program's entry),
    what an entry holds is frozen out of the cycle collector's sight once read, so the first collection after a read
    does not scan it; inside another's process (a notebook, a test: OWN_PROCESS unset) the process's collector is
    left alone."""
    import gc

    def derived() -> list:
        return [{"fact": n} for n in range(100)]

    derived.__module__ = "tests.fake"
    diskcache.disk_cached(derived)()  # written
    before = gc.get_freeze_count()
    assert diskcache.disk_cached(derived)() == derived() and gc.get_freeze_count() == before
    monkeypatch.setattr(collector, "OWN_PROCESS", True)
    try:
        value = diskcache.disk_cached(derived)()
        assert value == derived() and gc.get_freeze_count() >= before + 1 and gc.isenabled()
    finally:
        gc.unfreeze()


def test_the_hem_program_owns_its_process(monkeypatch):
    """`hem` and `python -m hemkg` enter through cli.run, which sets collector.OWN_PROCESS before the command runs;
    the click group itself (what CliRunner and notebooks call) does not."""
    import tomllib

    from hemkg import cli

    seen = []
    monkeypatch.setattr(collector, "OWN_PROCESS", False)
    monkeypatch.setattr(cli, "main", lambda: seen.append(collector.OWN_PROCESS))
    cli.run()
    assert seen == [True]
    root = Path(__file__).resolve().parent.parent  # the source tree: pyproject.toml is not installed
    scripts = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    assert scripts["hem"] == "hemkg.cli:run"
    assert "run()" in (root / "__main__.py").read_text(encoding="utf-8")
