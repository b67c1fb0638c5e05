"""A cache on disk for what every process derives from the packaged data in the same way.

Reading the graph and turning it into rule facts takes ~100 ms; a pickle of the
result loads in a few. Entries are keyed by the package and Python versions and a hash of every
data file (ontology/, kg/, rules/) and of every module of the package and its
sub-packages, so an edited
file, a changed class, a new release or another Python never meets a stale
entry. The cache lives in $HEMKG_CACHE_DIR, else
$XDG_CACHE_HOME/hemkg, else ~/.cache/hemkg; where it cannot be written, values
are simply computed. HEMKG_CACHE_DIR=off turns it off.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
import sys
from collections.abc import Callable, Iterator
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
DATA_FOLDERS = ("ontology", "kg", "rules")  # every file below these is knowledge the cache derives from
UNHASHED_FOLDERS = frozenset({"tests", "benchmarks", "examples", "__pycache__"})  # not part of the installed code


@functools.cache
def _folder() -> Path | None:
    from importlib import resources

    from hemkg import __version__

    setting = os.environ.get("HEMKG_CACHE_DIR", "")
    if setting.lower() == "off":
        return None
    root = Path(setting) if setting else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "hemkg"
    digest = hashlib.sha256(f"{__version__} {sys.version}".encode())  # pickles hold marshalled code (engine)
    for name, content in _keyed_files(resources.files("hemkg")):
        digest.update(name.encode())
        digest.update(content)
    return root / digest.hexdigest()[:20]


def _keyed_files(base: Traversable) -> Iterator[tuple[str, bytes]]:
    """(path inside the package, bytes) of every file the key covers, in a fixed order: each
    .py file of the package and its sub-packages, and every file of the data folders."""
    pending: list[tuple[str, Traversable, bool]] = [("", base, False)]
    while pending:
        prefix, folder, is_data = pending.pop()
        for entry in sorted(folder.iterdir(), key=lambda x: x.name, reverse=True):
            path = f"{prefix}{entry.name}"
            if entry.is_dir():
                if entry.name not in UNHASHED_FOLDERS and not entry.name.startswith("."):
                    pending.append((path + "/", entry, is_data or (not prefix and entry.name in DATA_FOLDERS)))
            elif is_data or entry.name.endswith(".py"):
                yield path, entry.read_bytes()


def disk_cached(function: Callable[[], T]) -> Callable[[], T]:
    """Cache a no-argument function's result on disk as well as in memory.

    `.__wrapped__` is the original function (computes afresh, touches no cache).
    """

    def wrapper() -> T:
        folder = _folder()
        path = folder / f"{function.__module__}.{function.__name__}.pickle" if folder else None
        if path is not None and path.is_file():
            try:
                with path.open("rb") as f:
                    return pickle.load(f)
            except Exception:  # noqa: BLE001 - a damaged entry is recomputed and rewritten
                pass
        value = function()
        if path is not None:
            try:
                folder.mkdir(parents=True, exist_ok=True)
                import tempfile  # only when writing: most starts only read

                with tempfile.NamedTemporaryFile(dir=folder, delete=False, suffix=".tmp") as tmp:
                    pickle.dump(value, tmp, protocol=pickle.HIGHEST_PROTOCOL)
                os.replace(tmp.name, path)
            except OSError:
                pass  # read-only home, full disk: work without the cache
        return value

    cached = functools.cache(wrapper)
    cached.__wrapped__ = function  # type: ignore[attr-defined]
    functools.update_wrapper(cached, function, updated=())
    return cached
