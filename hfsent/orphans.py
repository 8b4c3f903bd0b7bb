"""A child process that ends with its parent, on Linux (``PR_SET_PDEATHSIG``).

A parent killed outright (SIGKILL, the memory killer) runs no code that could stop its children,
so the kernel has to: a child asks it for a signal when its parent ends.  Linux only; elsewhere
this does nothing and such children keep running until stopped.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def end_with_parent(parent: int, sig: int) -> None:
    """Ask Linux to send ``sig`` to this process when its parent ends, and send it at once if the
    parent, whose pid was ``parent`` before the fork, ended before the request took effect (the
    process then has another parent).  A signal blocked here is delivered once it is unblocked."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0)
    if os.getppid() != parent:
        os.kill(os.getpid(), sig)
