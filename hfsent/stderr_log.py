"""hfsent's own log lines on stderr, for the ``hfsent`` command (:mod:`hfsent.cli`).

Only the ``hfsent`` logger gets a handler: the root logger is left alone, so other libraries'
INFO lines stay silent, and a user error stays the one ``hfsent: error: ...`` line that the
command prints.  Scope: the command; a program that imports hfsent sets up logging itself.
"""

from __future__ import annotations

import logging
import sys


class _StderrHandler(logging.StreamHandler):
    """A handler that writes to whatever ``sys.stderr`` is when a line is logged, not to the one
    of the first ``main`` call (which a caller, or a test, may have replaced and closed since)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def log_to_stderr() -> None:
    """hfsent's own INFO lines (the stages of a run) on stderr; other libraries keep their defaults.
    Called again (``main`` run twice in one process), it adds no second handler."""
    log = logging.getLogger("hfsent")
    if not any(getattr(h, "hfsent_cli", False) for h in log.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler.hfsent_cli = True
        log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
