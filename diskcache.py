"""A cache on disk for what every process derives from the packaged data in the same way.

Reading the graph and turning it into rule facts takes ~100 ms; a pickle of the
result loads in a few. Entries are keyed by the package and Python versions and a hash of every
data file (ontology, kg, rules) and of the package's own code, so an edited
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
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
HASHED_FOLDERS = (".", "ontology", "kg", "kg/generated", "kg/entailment", "kg/checks", "kg/questions", "rules")


@functools.cache
def _folder() -> Path | None:
    from importlib import resources

    from hemkg import __version__

    setting = os.environ.get("HEMKG_CACHE_DIR", "")
    if setting.lower() == "off":
        return None
    root = Path(setting) if setting else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "hemkg"
    digest = hashlib.sha256(f"{__version__} {sys.version}".encode())  # pickles hold marshalled code (engine)
    base = resources.files("hemkg")
    for folder in HASHED_FOLDERS:
        directory = base
        for part in folder.split("/"):
            directory = directory if part == "." else directory / part
        if directory.is_dir():
            for f in sorted(directory.iterdir(), key=lambda x: x.name):
                if f.is_file() and (folder != "." or f.name.endswith(".py")):
                    digest.update(f.name.encode())
                    digest.update(f.read_bytes())
    return root / digest.hexdigest()[:20]


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
