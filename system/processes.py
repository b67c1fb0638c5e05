"""Child processes that never outlive their parent: a query's child, a screening pool worker.

Import this module in the parent before it forks, so that each child starts
with ctypes already loaded.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def die_with_parent(parent_pid: int) -> None:
    """Call first thing in a forked child: the kernel kills it (SIGKILL) when its parent dies,
    by SIGTERM, SIGKILL or anything else; it exits at once if the parent is already gone.

    Linux sends the signal when the *thread* that forked the child ends, so fork from a
    thread that outlives the child (the main thread, or one that waits for the child).
    Elsewhere than on Linux this only checks that the parent is alive.
    """
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)
