"""The TensorBoard logs of a training run, as a model folder keeps them and a push uploads them
(under :data:`TENSORBOARD_DIR`, where the Hub shows them as the repo's training metrics).

TensorFlow puts the host name and process id in an event file's name; :func:`public_log_names`
drops them, so that no local name leaves the machine with the logs.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

TENSORBOARD_DIR = "runs"
# TensorFlow names an event file events.out.tfevents.<seconds>.<host name>.<pid>.<n>.v2.
_EVENTS = re.compile(r"events\.out\.tfevents\.(\d*).*")


def public_log_names(names: list[str]) -> dict[str, str]:
    """Each of ``names`` (paths of TensorBoard logs) under the name it is saved and pushed as: an
    event file loses the host name and process id that TensorFlow puts in its name, keeping the
    time and the order (``events.out.tfevents.<seconds>.hfsent.<n>.v2``); other files keep theirs.

    Example:
        >>> public_log_names(["train/events.out.tfevents.1796515428.box.lan.10306.0.v2"]).popitem()[1]
        'train/events.out.tfevents.1796515428.hfsent.0.v2'
    """
    public, counts = {}, {}
    for name in sorted(names):
        path = Path(name)
        found = _EVENTS.fullmatch(path.name)
        if found:
            n = counts[path.parent] = counts.get(path.parent, -1) + 1
            path = path.with_name(f"events.out.tfevents.{found[1] or 0}.hfsent.{n}.v2")
        public[name] = path.as_posix()
    return public


def copy_logs(source: Path, target: Path) -> None:
    """Copy the TensorBoard logs under ``source`` to ``target`` by their :func:`public_log_names`.

    Example:
        >>> copy_logs(Path(".m.tensorboard"), Path("tmp/runs"))
    """
    names = [p.relative_to(source).as_posix() for p in source.rglob("*") if p.is_file()]
    for old, new in public_log_names(names).items():
        (target / new).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / old, target / new)

