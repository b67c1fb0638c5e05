"""What a process keeps of the answers it made, to make the next ones from: bounded caches in memory.

Each cache is a dict owned by the module that fills it (a library's are fields of its LibraryFindings, dropped
with it). `kept_or_made` looks a key up and makes what is missing; a cache that holds its limit starts afresh, so a
long-running process (hem serve, a notebook screening thousands) holds at most that many entries of each.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import Any, TypeVar

_K = TypeVar("_K")
_V = TypeVar("_V")
_MISSING: Any = object()  # a kept value may be None (no closest materials to pick)


def kept_or_made(cache: MutableMapping[_K, _V], key: _K, limit: int, make: Callable[..., _V], *args: Any) -> _V:
    """cache[key], or make(*args) kept there first (the cache emptied first if it holds `limit` entries)."""
    found = cache.get(key, _MISSING)
    if found is _MISSING:
        if len(cache) >= limit:
            cache.clear()
        found = cache[key] = make(*args)
    return found
