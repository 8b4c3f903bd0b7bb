"""Word vectors from a Hub model repo, for :mod:`hfsent.vectors`.

The revision (a branch, tag or commit; default ``main``) is resolved to its commit first, and
everything else is read at that commit.  The repo's file list gives each file's size, which is
logged and capped (:data:`~hfsent.vector_formats.MAX_VECTOR_BYTES`) before anything is
downloaded; ``hf_hub_download`` fetches only the chosen files, into huggingface_hub's cache.
A repo of pickles only (gensim's ``.model`` + ``.npy``) is refused by name.
"""

from __future__ import annotations

import logging
from pathlib import Path

from hfsent import vector_formats as fmt
from hfsent.errors import InputError, MissingError
from hfsent.vector_formats import check_size

log = logging.getLogger(__name__)


def from_hub(source: str, revision: str | None, found: fmt.Found, read_file) -> dict:
    """The vectors of the Hub repo ``source`` (``owner/name`` or ``owner/name/PATH``) at ``revision``:
    its files listed with their sizes, the size logged and capped, then downloaded (cached), and
    read by ``read_file`` (sentence-transformers' pair by :func:`~hfsent.vector_formats.read_safetensors`)."""
    from huggingface_hub import HfApi, hf_hub_download
    from huggingface_hub.errors import (
        HfHubHTTPError,
        HFValidationError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    from hfsent.hub import HubError

    parts = source.split("/")
    repo_id, wanted = "/".join(parts[:2]), "/".join(parts[2:])
    api = HfApi()
    try:
        info = api.model_info(repo_id, revision=revision)
        files = {f.path: f.size for f in api.list_repo_tree(repo_id, revision=info.sha, recursive=True)
                 if getattr(f, "size", None) is not None}
        chosen = _choose(files, wanted, repo_id)
        size = sum(files[p] for p in chosen)
        check_size(size, repo_id)
        log.info("word vectors: %s at %s, %s (%.1f MB), from the Hub or its cache", repo_id, info.sha[:12],
                 ", ".join(chosen), size / 1e6)
        paths = [Path(hf_hub_download(repo_id, p, revision=info.sha)) for p in chosen]
    except HFValidationError:
        raise MissingError(f"--word-vectors {source[:100]!r} is no local file, no spacy:NAME and no Hub "
                           "repo id (owner/name)") from None
    except RepositoryNotFoundError:
        raise HubError(f"--word-vectors {source[:100]!r}: no local file of that name, and no such model repo "
                       "on the Hub (or it is private and no valid token was given)") from None
    except RevisionNotFoundError:
        raise HubError(f"revision {revision!r} does not exist in {repo_id!r}") from None
    except (HfHubHTTPError, OSError) as err:
        raise HubError(f"downloading the word vectors {repo_id!r} failed: "
                       f"{str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__}") \
            from None
    if len(paths) == 2:
        fmt.read_safetensors(paths[0], paths[1], found)
    else:
        read_file(paths[0], found)
    card = info.card_data.to_dict() if info.card_data is not None else {}
    tags = [t[len("license:"):] for t in info.tags or [] if t.startswith("license:")]
    return {"source": "hub", "repo": repo_id, "revision": info.sha, "files": chosen,
            "license": str(card.get("license") or (tags[0] if tags else "unknown"))}


def _choose(files: dict[str, int], wanted: str, repo_id: str) -> list[str]:
    """The repo's vectors: the file asked for, sentence-transformers' pair, or its one vectors file."""
    if wanted:
        if wanted not in files:
            raise MissingError(f"{repo_id!r} has no file {wanted[:100]!r}")
        fmt.refuse_pickle(wanted)
        return [wanted]
    pair = [f"{fmt.ST_FOLDER}/{fmt.ST_WEIGHTS}", f"{fmt.ST_FOLDER}/{fmt.ST_VOCAB}"]
    if all(p in files for p in pair):
        return pair
    readable = sorted(p for p in files if p.lower().endswith((*fmt.TEXT_SUFFIXES, ".bin"))
                      and Path(p).name not in fmt.PICKLE_NAMES and Path(p).name != "requirements.txt")
    if len(readable) == 1:
        return readable
    for path in files if not readable else ():
        fmt.refuse_pickle(path)  # a repo of pickles only (gensim's .model + .npy) is refused by name
    listed = ": " + ", ".join(readable[:5]) if readable else ""
    raise InputError(f"{repo_id!r} holds {len(readable)} vectors files{listed}; name one as {repo_id}/PATH")
