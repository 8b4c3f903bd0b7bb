"""Share model folders on the Hugging Face Hub and load them back.

A Hub repo holds exactly the folder layout of :mod:`hfsent.artifacts`, pushed in one
commit.  Loading downloads only those files (``allow_patterns``): a pickle or any other
file that someone added to the repo is never fetched.  A push uploads regular files of the
folder only, none with a second hard link, checks ``metrics.json`` before the card reads it,
and names TensorBoard's event files without the training machine's host name.  The token comes from
``HF_TOKEN`` or the saved login (``hf auth login``) unless passed explicitly, and is
never printed or written anywhere by hfsent.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from huggingface_hub import CommitInfo, CommitOperationAdd, HfApi, constants, snapshot_download
from huggingface_hub.errors import (
    HfHubHTTPError,
    HFValidationError,
    LocalEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from hfsent import __version__
from hfsent.artifacts import ARTIFACT_FILES, TENSORBOARD_DIR, public_log_names, read_metrics
from hfsent.card import CARD_NAME, build_card
from hfsent.errors import UserError
from hfsent.locate import check_model_folder, closed_file, closed_tree
from hfsent.saved_config import load_config

try:  # the HTTP client under huggingface_hub: httpx2 from 2.x, httpx before
    from httpx2 import TransportError
except ImportError:  # pragma: no cover
    from httpx import TransportError


log = logging.getLogger(__name__)
# Seconds to wait before the 2nd, 3rd... attempt of a whole push after a 5xx or a dropped
# connection; huggingface_hub already retries each single upload request on its own.
RETRY_WAITS = (2.0, 8.0)


class HubError(UserError, RuntimeError):
    """A Hub operation failed; the message says what to do (log in, check the repo id, go online).

    Example:
        >>> try:
        ...     push_to_hub("runs/m", "someone-else/model")
        ... except HubError as err:
        ...     print(err)
        the Hub refused to let you write to 'someone-else/model' (HTTP 403). Log in with ...
    """


def _pushed_paths(folder: Path) -> dict[str, Path]:
    """The artifact files of ``folder``, and the TensorBoard logs under its ``runs/`` by their
    :func:`~hfsent.artifacts.public_log_names`: each a regular file of the folder with one link
    (:func:`~hfsent.locate.closed_file`), or the push is refused."""
    names = {p.name for pattern in ARTIFACT_FILES for p in folder.glob(pattern)}
    paths = {name: closed_file(folder, name, pushed=True) for name in sorted(names)}
    logs = closed_tree(folder, TENSORBOARD_DIR, pushed=True)
    return {**paths, **{new: folder / old for old, new in public_log_names(logs).items()}}


def push_to_hub(
    folder: str | Path,
    repo_id: str,
    *,
    private: bool | None = None,
    revision: str | None = None,
    commit_message: str | None = None,
    token: str | None = None,
    serving: bool = True,
) -> CommitInfo:
    """Upload a model folder to ``repo_id`` in ONE commit.

    Creates the repo (and the ``revision`` branch) if needed.  The model card is rebuilt
    for ``repo_id`` so that its usage snippets name the right repo.

    Args:
        folder: a model folder written by training or ``SentimentClassifier.save``.
        repo_id: ``USER/NAME``.
        private: create the repo as private (an existing repo keeps its visibility).
        revision: a branch, created from ``main`` if missing.
        commit_message: default "Upload hfsent model (test accuracy ...)".
        token: default ``HF_TOKEN`` or the saved login.
        serving: also upload ``handler.py`` and ``requirements.txt``, the custom handler that
            Inference Endpoints runs (:mod:`hfsent.serving`).  Loading never downloads them.

    Returns:
        The commit; ``.commit_url`` is its address.

    Example:
        >>> push_to_hub("runs/imdb-gru", "USER/imdb-gru").commit_url
        'https://huggingface.co/USER/imdb-gru/commit/...'
    """
    folder = check_model_folder(folder, pushed=True)
    operations = [CommitOperationAdd(path_in_repo=name, path_or_fileobj=str(path))
                  for name, path in _pushed_paths(folder).items() if name != CARD_NAME]
    config = load_config(folder)
    metrics = read_metrics(folder, pushed=True)
    card = str(build_card(config, metrics, repo_id, folder, serving)).encode("utf-8")
    operations.append(CommitOperationAdd(path_in_repo=CARD_NAME, path_or_fileobj=card))
    if serving:
        operations += [CommitOperationAdd(path_in_repo=name, path_or_fileobj=text.encode("utf-8"))
                       for name, text in serving_files().items()]
    if commit_message is None:
        accuracy = (metrics.get("test") or {}).get("accuracy")
        commit_message = "Upload hfsent model" + (f" (test accuracy {accuracy:.4f})" if accuracy else "")
    return _commit(repo_id, operations, commit_message, token, private=private, revision=revision)


def push_space(folder: str | Path, space_id: str, *, private: bool | None = None,
               token: str | None = None) -> CommitInfo:
    """Upload a Space folder (written by :func:`hfsent.space.write_space`) to the Gradio Space
    ``space_id`` in one commit, creating the Space if needed.  Every file must be a regular file
    of the folder with one link (:func:`~hfsent.locate.closed_file`).

    Example:
        >>> push_space("runs/imdb-gru-space", "USER/imdb-gru-demo").commit_url
        'https://huggingface.co/spaces/USER/imdb-gru-demo/commit/...'
    """
    folder = Path(folder)
    operations = [CommitOperationAdd(path_in_repo=name, path_or_fileobj=str(folder / name))
                  for name in closed_tree(folder, ".", pushed=True)]
    return _commit(space_id, operations, "Upload hfsent demo", token, private=private,
                   repo_type="space", space_sdk="gradio")


def serving_files() -> dict[str, str]:
    """What Inference Endpoints needs beside the model: ``handler.py``, which exposes
    :class:`hfsent.serving.EndpointHandler`, and a ``requirements.txt`` that installs this hfsent.
    """
    return {"handler.py": (f'"""Inference Endpoints handler of this hfsent model (hfsent {__version__}); '
                           'see hfsent.serving."""\n\nfrom hfsent.serving import EndpointHandler\n\n'
                           '__all__ = ["EndpointHandler"]\n'),
            "requirements.txt": f"hfsent=={__version__}\n"}


def _commit(repo_id: str, operations: list[CommitOperationAdd], message: str, token: str | None, *,
            private: bool | None, revision: str | None = None, repo_type: str = "model",
            space_sdk: str | None = None) -> CommitInfo:
    """Create the repo if needed and make one commit, retrying the whole on a 5xx or a dropped
    connection; every failure becomes a :class:`HubError` that says what to do."""
    api = HfApi(token=token)
    for attempt, wait in enumerate((*RETRY_WAITS, None)):
        try:
            api.create_repo(repo_id, private=private, exist_ok=True, repo_type=repo_type, space_sdk=space_sdk)
            if revision not in (None, constants.DEFAULT_REVISION):
                api.create_branch(repo_id, branch=revision, exist_ok=True, repo_type=repo_type)
            # One commit: the Hub applies it whole or not at all, so a failure leaves the
            # remote repo as it was.  Uploads of single files are retried by the client.
            return api.create_commit(repo_id, operations, commit_message=message, revision=revision,
                                     repo_type=repo_type)
        except HfHubHTTPError as err:
            status = err.response.status_code if err.response is not None else None
            if status in (401, 403):
                raise HubError(
                    f"the Hub refused to let you write to {repo_id!r} (HTTP {status}). Log in with "
                    "`hf auth login` or set HF_TOKEN to a token with write access to that namespace."
                ) from None
            if status is None or status < 500 or wait is None:
                raise HubError(_failed(repo_id, attempt, err)) from None
        except (TransportError, OSError) as err:
            if wait is None:
                raise HubError(_failed(repo_id, attempt, err)) from None
        log.warning("push to %s failed (attempt %d), retrying in %ss", repo_id, attempt + 1, wait)
        time.sleep(wait)
    raise AssertionError("unreachable")


def _failed(repo_id: str, attempt: int, err: Exception) -> str:
    return (f"pushing to {repo_id!r} failed after {attempt + 1} attempt(s): {first_line(err)}. "
            "Nothing was committed; the local folder is unchanged.")


def first_line(err: Exception) -> str:
    """The first line of ``err``'s message, or its type's name where it has none."""
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__


def download(repo_id: str, revision: str | None = None, cache_dir: str | Path | None = None,
             token: str | None = None) -> Path:
    """Download the artifact files of ``repo_id`` at ``revision`` into the HF cache and
    return that folder; nothing else in the repo is fetched.

    Example:
        >>> SentimentClassifier.load(download("USER/imdb-gru", revision="main"))
    """
    with hub_errors(
        repo_id, revision,
        invalid=f"{repo_id!r} is neither a local model folder nor a valid Hub repo id (USER/NAME)",
        not_found=f"model repo {repo_id!r} was not found on {constants.ENDPOINT} "
                  "(or it is private and no valid token was given)",
        not_cached=f"{repo_id!r} is not in the local cache and the Hub cannot be reached "
                   f"(HF_HUB_OFFLINE={'1' if constants.is_offline_mode() else '0'}). Download it once while "
                   "online; afterwards HF_HUB_OFFLINE=1 serves it from the cache."):
        return Path(snapshot_download(repo_id, revision=revision, cache_dir=cache_dir, token=token,
                                      allow_patterns=list(ARTIFACT_FILES)))


@contextmanager
def hub_errors(repo_id: str, revision: str | None, *, invalid: str, not_found: str, not_cached: str,
               failed: str | None = None) -> Iterator[None]:
    """Turn each huggingface_hub error of a download in the block into one :class:`HubError`
    with the caller's message: an ``invalid`` repo id, a repo ``not_found``, a revision that does
    not exist, files ``not_cached`` while the Hub cannot be reached (``HF_HUB_OFFLINE=1``).  With
    ``failed``, any other Hub or OS error becomes ``"{failed}: {its first line}"``; without it,
    it propagates.  A :class:`~hfsent.errors.UserError` raised in the block passes unchanged.

    Example:
        >>> with hub_errors("o/n", "main", invalid="bad id", not_found="no repo", not_cached="offline"):
        ...     snapshot_download("o/n", revision="main")
    """
    try:
        yield
    except UserError:
        raise
    except HFValidationError:
        raise HubError(invalid) from None
    except RepositoryNotFoundError:
        raise HubError(not_found) from None
    except RevisionNotFoundError:
        raise HubError(f"revision {revision!r} does not exist in {repo_id!r}") from None
    except LocalEntryNotFoundError:
        raise HubError(not_cached) from None
    except (HfHubHTTPError, OSError) as err:
        if failed is None:
            raise
        raise HubError(f"{failed}: {first_line(err)}") from None
