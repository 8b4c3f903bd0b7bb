"""Word vectors from a Hub model repo, for :mod:`hfsent.vectors`.

The revision (a branch, tag or commit; default ``main``) is resolved to its commit first, and
everything else is read at that commit.  The repo's file list gives each file's size, which is
logged and capped (:data:`~hfsent.vector_formats.MAX_VECTOR_BYTES`) before anything is
downloaded; ``hf_hub_download`` fetches only the chosen files (and the repo card, which names
the license), into huggingface_hub's cache.  A repo of pickles only (gensim's ``.model`` +
``.npy``) is refused by name.

Offline (``HF_HUB_OFFLINE=1``), or when the Hub cannot be reached, the vectors come from that
cache, as ``hf_hub_download`` serves a cached file: a commit's snapshot, or a branch or tag whose
ref a download recorded.  The cache holds only what was downloaded, so the files are chosen among
those (and the license read from the cached card); what it lacks is one user error.
"""

from __future__ import annotations

import logging
from pathlib import Path

from hfsent import vector_formats as fmt
from hfsent.errors import InputError, MissingError
from hfsent.vector_formats import check_size

log = logging.getLogger(__name__)
CARD = "README.md"  # the repo card, read for the license offline
MAX_CARD_BYTES = 1_000_000  # a larger card is not downloaded (nor read): offline, the license is then unknown


def from_hub(source: str, revision: str | None, found: fmt.Found, read_file) -> dict:
    """The vectors of the Hub repo ``source`` (``owner/name`` or ``owner/name/PATH``) at ``revision``:
    its files listed with their sizes, the size logged and capped, then downloaded (cached), and
    read by ``read_file`` (sentence-transformers' pair by :func:`~hfsent.vector_formats.read_safetensors`);
    offline, or with the Hub out of reach, from huggingface_hub's cache (see the module docstring)."""
    from huggingface_hub import constants
    from huggingface_hub.errors import OfflineModeIsEnabled, RevisionResolutionError

    from hfsent.hub import TransportError, first_line, hub_errors

    parts = source.split("/")
    repo_id, wanted = "/".join(parts[:2]), "/".join(parts[2:])
    offline, named = constants.is_offline_mode(), f"--word-vectors {source[:100]!r}"
    at = f" at {revision[:100]!r}" if revision else ""
    with hub_errors(
            repo_id, revision,
            invalid=f"{named} is no local file, no spacy:NAME and no Hub repo id (owner/name)",
            not_found=f"{named}: no local file of that name, and no such model repo on the Hub (or it is "
                      "private and no valid token was given)",
            not_cached=f"{named}: {repo_id!r}{at} is not in huggingface_hub's cache and the Hub cannot be "
                       f"reached (HF_HUB_OFFLINE={int(offline)}); download it once while online, then "
                       "HF_HUB_OFFLINE=1 reads it from the cache",
            failed=f"downloading the word vectors {repo_id!r} failed"):
        got = None
        if not offline:
            try:
                got = _download(repo_id, wanted, revision)
            except (OfflineModeIsEnabled, TransportError, RevisionResolutionError) as err:
                # the Hub is out of reach: the cache, as hf_hub_download falls back to it
                log.warning("the Hub cannot be reached (%s): looking in the cache", first_line(err))
        if got is None:
            got = _from_cache(repo_id, wanted, revision)
    commit, chosen, paths, license_ = got
    if len(paths) == 2:
        fmt.read_safetensors(paths[0], paths[1], found)
    else:
        read_file(paths[0], found)
    return {"source": "hub", "repo": repo_id, "revision": commit, "files": chosen, "license": license_}


def _download(repo_id: str, wanted: str, revision: str | None) -> tuple[str, list[str], list[Path], str]:
    """``(commit, chosen files, their local paths, license)`` from the Hub: sizes first, then
    ``hf_hub_download`` at the commit (cached), with the repo card so that the cache names the
    license offline."""
    from huggingface_hub import HfApi, hf_hub_download

    api = HfApi()
    # resolve_revision records a branch or tag's commit in the cache (refs/), as a download by that
    # name would, so that the name serves offline; everything is then read at the commit
    info = api.model_info(repo_id, revision=api.resolve_revision(repo_id, revision=revision).resolved)
    files = {f.path: f.size for f in api.list_repo_tree(repo_id, revision=info.sha, recursive=True)
             if getattr(f, "size", None) is not None}
    chosen = _choose(files, wanted, repo_id)
    size = sum(files[p] for p in chosen)
    check_size(size, repo_id)
    log.info("word vectors: %s at %s, %s (%.1f MB), from the Hub or its cache", repo_id, info.sha[:12],
             ", ".join(chosen), size / 1e6)
    paths = [Path(hf_hub_download(repo_id, p, revision=info.sha)) for p in chosen]
    if files.get(CARD, MAX_CARD_BYTES + 1) <= MAX_CARD_BYTES:
        hf_hub_download(repo_id, CARD, revision=info.sha)
    card = info.card_data.to_dict() if info.card_data is not None else {}
    tags = [t[len("license:"):] for t in info.tags or [] if t.startswith("license:")]
    return info.sha, chosen, paths, str(card.get("license") or (tags[0] if tags else "unknown"))


def _from_cache(repo_id: str, wanted: str, revision: str | None) -> tuple[str, list[str], list[Path], str]:
    """``(commit, chosen files, their local paths, license)`` from huggingface_hub's cache alone:
    ``snapshot_download(local_files_only=True)`` resolves the revision (a commit, or a branch or
    tag through its cached ref) to the commit's snapshot folder, whose files are those once
    downloaded.  A revision that is no ref name is refused before it becomes part of a path."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import IncompleteSnapshotError, LocalEntryNotFoundError

    if revision is not None and any(not part or part.startswith(".") or "\\" in part
                                    for part in revision.split("/")):
        raise InputError(f"--word-vectors-revision {revision[:100]!r} is no branch, tag or commit name")
    try:
        folder = Path(snapshot_download(repo_id, revision=revision, local_files_only=True))
    except IncompleteSnapshotError as err:  # files listed by a snapshot download are missing: use the rest
        folder = Path(err.snapshot_path)
    files = {p.relative_to(folder).as_posix(): p.stat().st_size
             for p in sorted(folder.rglob("*")) if p.is_file()}
    if (wanted and wanted not in files) or not set(files) - {CARD}:
        raise LocalEntryNotFoundError(f"{wanted or repo_id} is not cached at {folder.name}")
    chosen = _choose(files, wanted, repo_id)
    check_size(sum(files[p] for p in chosen), repo_id)
    log.info("word vectors: %s at %s, %s, from huggingface_hub's cache (offline)", repo_id, folder.name[:12],
             ", ".join(chosen))
    return folder.name, chosen, [folder / p for p in chosen], _cached_license(folder / CARD)


def _cached_license(card: Path) -> str:
    """The ``license`` of a cached repo card's metadata, or ``"unknown"``."""
    import yaml
    from huggingface_hub import metadata_load

    try:
        meta = metadata_load(card) if card.is_file() and card.stat().st_size <= MAX_CARD_BYTES else None
    except (ValueError, yaml.YAMLError):  # not UTF-8, or no YAML mapping: no license to read
        meta = None
    return str((meta or {}).get("license") or "unknown")


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
