"""One tokenizing child process of :mod:`hfsent.tokenize_child`: how it starts, the parent's
handle on it (:class:`ChildTokenizer`), and its own loop (:func:`main`).

The protocol: the parent writes a frame (:mod:`hfsent.arrow_frames`) holding an Arrow IPC stream
of one ``text`` column; the child answers one frame whose first byte says what follows: ``T``
and an IPC stream of one ``tokens`` column, or ``E`` and the JSON ``[error type, message]``.
The child reads a whole question before it answers, so several children may be asked before
any answer is read without a pipe filling up on both sides.

The child is a new Python interpreter with pipes, with the parent's ``sys.path``; not
``multiprocessing``: a fork copies TensorFlow's and Arrow's locks mid-use, and ``spawn`` re-runs
a user's script that has no ``if __name__ == "__main__"`` guard.  It ignores Ctrl-C, which a
terminal sends to the whole process group: the parent decides.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys

import pyarrow as pa

from hfsent import errors
from hfsent.arrow_frames import column_of, read_frame, to_ipc, write_frame

TOKENS = pa.list_(pa.string())
_TOKENS, _ERROR = b"T", b"E"  # the first byte of an answer


# The child's sys.path is the parent's, read from the environment (JSON, never Python source):
# ``python -m`` would put the working directory first, where a stray spacy.py or datasets.py
# would then run in the child although the parent never imported it.
_LAUNCH = ("import sys\n"
           "if sys.path[:1] == ['']: del sys.path[0]  # -c's working directory, before any import\n"
           "import json, os\n"
           "sys.path[:] = json.loads(os.environ.pop('HFSENT_CHILD_SYS_PATH'))\n"
           "from hfsent.child_tokenizer import main\n"
           "main()")


class ChildTokenizer:
    """The parent's handle on one child: :meth:`ask` sends texts, :meth:`answer` reads their
    tokens (an error frame: raised here), :meth:`stop` ends it.  ``texts`` counts the texts it
    has tokenized, ``answered`` says whether its last question was answered (it is in step)."""

    def __init__(self, spacy_model: str, lowercase: bool):
        if getattr(sys, "frozen", False) or not sys.executable:
            raise RuntimeError("a streamed dataset is tokenized by a Python child process, and this "
                               "interpreter (frozen or embedded) cannot start one")
        env = {**os.environ, "HFSENT_CHILD_SYS_PATH": json.dumps(sys.path)}
        self.process = subprocess.Popen(
            [sys.executable, "-c", _LAUNCH, spacy_model, "1" if lowercase else "0"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        self.texts, self.answered, self.asked = 0, True, 0

    def ask(self, texts: pa.Array) -> None:
        self.answered, self.asked = False, len(texts)
        with contextlib.suppress(BrokenPipeError):  # it died: answer() says so
            write_frame(self.process.stdin, to_ipc("text", texts))

    def answer(self) -> pa.ListArray:
        try:
            answer = read_frame(self.process.stdout)
        except BrokenPipeError:
            answer = None
        if answer is None:
            self.stop()
            raise RuntimeError(f"the tokenizing process ended (exit status {self.process.returncode})")
        self.answered = True
        body = memoryview(answer)[1:]  # past the type byte, without a copy of the tokens
        if answer[:1] == _ERROR:
            name, message = json.loads(bytes(body))  # a short message: json needs bytes
            error = getattr(errors, name, None)
            if isinstance(error, type) and issubclass(error, errors.UserError):
                raise error(message)
            raise RuntimeError(f"tokenizing failed in the child process: {name}: {message}")
        self.texts += self.asked
        return column_of(body, "tokens")

    def close_input(self) -> None:
        with contextlib.suppress(OSError):  # a dead child's pipe: nothing left to flush to
            self.process.stdin.close()

    def stop(self) -> None:
        """End the child: its input closed, it exits; killed if it has not within 30 s."""
        self.close_input()
        with contextlib.suppress(OSError):
            self.process.stdout.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def main() -> None:
    """The child: frames of texts on stdin, frames of tokens (or an error) on stdout."""
    stdin, stdout = sys.stdin.buffer, os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # what any library prints, on import too, goes to stderr: stdout carries only frames
    # A terminal's Ctrl-C reaches the whole process group: the parent decides, and ends this
    # child by closing its input (or killing it), so the child itself prints no traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from hfsent.tokenize import tokenize

    spacy_model, lowercase = sys.argv[1], sys.argv[2] == "1"
    while (question := read_frame(stdin)) is not None:
        try:
            texts = column_of(question, "text").to_pylist()
            tokens = pa.array(tokenize(texts, spacy_model, lowercase), TOKENS)
        except Exception as error:  # the parent raises it (a user's error as itself); this child goes on
            write_frame(stdout, _ERROR, json.dumps([type(error).__name__, str(error)]).encode())
            continue
        write_frame(stdout, _TOKENS, to_ipc("tokens", tokens))


if __name__ == "__main__":
    main()
