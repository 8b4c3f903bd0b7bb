"""The errors that are the user's to fix, and nothing else.

Each is also the built-in exception a Python caller expects (``ValueError``,
``FileNotFoundError``, ``FileExistsError``), so library code catches them as usual.  The
``hfsent`` command prints any :class:`UserError` as one line, ``hfsent: error: ...``, with
exit status 2; every other exception is a bug and keeps its traceback.
"""


class UserError(Exception):
    """Something the user gave hfsent is wrong or missing; the message says what, and how to fix it.

    Example:
        >>> try:
        ...     preset("default", max_length=0)
        ... except UserError as err:
        ...     print(err)
        max_length must be positive, got 0
    """


class InputError(UserError, ValueError):
    """A bad value: data, labels, a setting, a text, a model file's content."""


class MissingError(UserError, FileNotFoundError):
    """A file, folder, column source, split or package that is not there."""


class ExistsError(UserError, FileExistsError):
    """An output that already exists and would be overwritten."""


class UnsafeModelError(InputError):
    """A model folder holds something an hfsent model never does: a symlink or other non-regular
    file, a non-Keras class or a Lambda, sizes out of range.  Refused before any of it is used.

    Example:
        >>> try:
        ...     SentimentClassifier.from_pretrained("stranger/lambda-model")
        ... except UnsafeModelError as err:
        ...     print(err)
        config.json refers to keras.layers.Lambda: ... refused without running any of its code
    """
