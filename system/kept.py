"""What a process keeps of the answers it made, to make the next ones from: bounded caches in memory.

Each cache is a dict owned by the module that fills it (a library's are fields of its LibraryFindings, dropped
with it). `kept_or_made` looks a key up and makes what is missing; a cache that holds its limit starts afresh, so a
long-running process (hem serve, a notebook screening thousands) holds at most that many entries of each.
`kept_when_asked_again` keeps a value only from the second time its key is asked for: for what a candidate's
formula alone decides, which a stream of new candidates never asks for twice.
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


def kept_when_asked_again(cache: MutableMapping[_K, _V], asked: set[_K], key: _K, limit: int,
                          make: Callable[..., _V], *args: Any) -> _V:
    """cache[key], or make(*args), kept there only if the key was asked for before (`asked`: the keys asked for
    once and not kept; both emptied at `limit`). A stream of new candidates keeps nothing of it, so nothing of it
    lies in the cycle collector's way: after 1,000 new candidates a process kept ~31,000 objects of their input
    facts, which every full collection scanned, and never asked for one again. A candidate consulted again is
    kept from its second consultation on."""
    found = cache.get(key, _MISSING)
    if found is not _MISSING:
        return found
    if key in asked:
        asked.discard(key)
        return kept_or_made(cache, key, limit, make, *args)
    if len(asked) >= limit:
        asked.clear()
    asked.add(key)
    return make(*args)
