"""A deadline for code that may block in C++ holding the GIL (TensorFlow joining a cluster):
past it, the process ends as any user error does, with one ``hfsent: error: ...`` line and
exit status 2.

No Python thread or signal handler of the process can run while the GIL is held, so the clock
is a watchdog process of its own, and the way out is a signal handler written in C: during the
deadline SIGINT's handler is libc's ``_exit``, which the kernel calls with the signal's number,
2.  Nothing is cleaned up on that path, so the guarded code must not have created anything
that needs it.  Where ctypes finds no libc ``signal`` and ``_exit``, or off the main thread, the
watchdog falls back to SIGKILL (status 137).  Tested on Linux (glibc).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator

# Waits for its stdin to close (the block ended, or the process died).  At the timeout it writes the one
# error line, then sends SIGINT, which the process answers with _exit(2) (_exit_2_on_sigint);
# SIGKILL only if that did not end it within a few seconds (then the status is 137).  It ignores
# SIGINT itself: a Ctrl-C in the terminal reaches both, and must not print its traceback.
_WATCHDOG = """
import os, select, signal, sys
signal.signal(signal.SIGINT, signal.SIG_IGN)
pid, timeout, message = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
if not select.select([sys.stdin], [], [], timeout)[0]:
    print("hfsent: error: " + message, file=sys.stderr, flush=True)
    os.kill(pid, signal.SIGINT)
    if not select.select([sys.stdin], [], [], 10)[0]:
        os.kill(pid, signal.SIGKILL)
"""


def _exit_2_on_sigint() -> bool:
    """Make SIGINT end this process at once with exit status 2, without Python: the signal's
    handler becomes libc's ``_exit``, which the kernel calls with the signal's number, 2.

    While C++ holds the GIL no Python thread or signal handler can run; a handler in C can.
    Nothing is cleaned up and buffered output is lost, so stdout and stderr are flushed first.
    ``False`` (nothing changed) off the main thread or where libc cannot be found; the watchdog
    then kills.
    """
    if threading.current_thread() is not threading.main_thread():
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.signal.argtypes, libc.signal.restype = [ctypes.c_int, ctypes.c_void_p], ctypes.c_void_p
        exit_now = ctypes.cast(libc._exit, ctypes.c_void_p).value
    except (OSError, AttributeError):
        return False
    sys.stdout.flush()
    sys.stderr.flush()
    return libc.signal(signal.SIGINT, exit_now) != ctypes.c_void_p(-1).value  # SIG_ERR



@contextlib.contextmanager
def deadline(seconds: float, message: str) -> Iterator[None]:
    """End this process with ``hfsent: error: {message}`` and exit status 2 unless the block
    finishes within ``seconds``, even while C++ holds the GIL.  A Ctrl-C inside the block ends
    the process at once with status 2, silently.

    Example:
        >>> with deadline(300, "not every peer joined within 300 s"):
        ...     strategy = tf.distribute.MultiWorkerMirroredStrategy()
    """
    watchdog = subprocess.Popen([sys.executable, "-c", _WATCHDOG, str(os.getpid()), str(seconds), message],
                                stdin=subprocess.PIPE)
    interrupt = signal.getsignal(signal.SIGINT) or signal.default_int_handler
    native = _exit_2_on_sigint()
    try:
        yield
    finally:
        # The watchdog leaves first: one that timed out just now still finds C's handler.
        watchdog.stdin.close()
        watchdog.wait()
        if native:  # Python's handler again (KeyboardInterrupt): from now on folders need cleaning up
            signal.signal(signal.SIGINT, interrupt)
