"""Python's cycle collector paused for work that makes many short-lived containers and leaves none in cycles.

A consultation makes thousands of lists, dicts and tuples and frees them by reference counting. The collector,
set off every 700 allocations, scans those alive at that moment and moves the survivors on to older generations,
whose full collections also scan all that the process keeps: with a library's index of 1,000 findings, about
55,000 objects, 20 ms each. Paused, it is set off again by the first allocation after the work, over what then
survives. Counted with valgrind, that is 0.4 million instructions of 5.5 a consultation with such a library.
Unpickling the disk cache's entries pauses it too (graph/diskcache.py).

Where hemkg is the process's own program (OWN_PROCESS), what it keeps is also frozen out of the collector's sight
(`settle`, gc.freeze): the disk cache's entries once read, and what each consultation of `hem consult --input`
keeps. Inside another's process nothing is frozen.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

_P = ParamSpec("_P")
_R = TypeVar("_R")

# Whether hemkg runs as the process's own program (cli.run sets it), never inside another's (a notebook, a server's
# host, a test), whose objects a freeze (gc.freeze) would take with it. Only then does hemkg move what it keeps out
# of the collector's sight: the disk cache's entries once read (graph/diskcache.py), and what a stream of
# consultations keeps (settle). None of it is in a cycle: what is frozen lives as long as the process or is freed by
# reference counting, so the collector misses nothing.
OWN_PROCESS = False


def pause() -> _Pause:
    """`with collector.pause():` the cycle collector off within the block, and then on again if it was on. A block
    entered while it is off (by an outer block, another thread's, or the caller's own gc.disable()) leaves it as it
    is."""
    return _Pause()


class _Pause:
    __slots__ = ("was",)

    def __enter__(self) -> None:
        self.was = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc: Any) -> None:
        if self.was:
            gc.enable()


def paused(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """`function`, run with the cycle collector paused (`pause`)."""

    @functools.wraps(function)
    def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with pause():
            return function(*args, **kwargs)

    return run


def settle() -> None:
    """Where hemkg is the process's own program (OWN_PROCESS), move every object alive now out of the collector's
    sight: after the disk cache reads an entry, and between the consultations of `hem consult --input FILE`, whose
    kept parses, evidence items and grades (thousands of objects every hundred candidates, with a library) every
    full collection scanned again, about a tenth of the instructions of a new candidate's consultation with a
    1,000-finding library."""
    if OWN_PROCESS:
        gc.freeze()
