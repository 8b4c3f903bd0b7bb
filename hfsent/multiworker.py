"""``--strategy multiworker``: TensorFlow's ``MultiWorkerMirroredStrategy`` made safe to run.

Each worker reads its role from ``TF_CONFIG`` (:func:`cluster_role`: the chief is the
``chief`` task, or worker 0); see docs/scaling.md for the recipe.

Multi-worker runs fail fast rather than hang (TensorFlow alone waits forever for a missing
peer, blocked in C++ where SIGTERM does not reach Python):

* joining the cluster (the strategy and one all-reduce) must finish within
  :func:`peer_timeout` seconds, else a watchdog process writes one error line and ends the
  worker with exit status 2, as any user error (:func:`hfsent.watchdog.deadline`);
* once joined, a thread knocks on every peer's port every :data:`KNOCK_SECONDS`; a peer that
  does not answer :data:`KNOCK_MISSES` times in a row ends this worker with one error line,
  so a worker that dies ends the others.  :func:`leave` stops it after a last all-reduce,
  once no collective is left;
* SIGTERM gets its default action back (TensorFlow's preemption notifier takes it).

With it come the checks and settings a run needs: :func:`check_same` (every worker built
the chief's vocabulary), :func:`shard_by_data` (the sharding policy for generator input) and
:func:`peer_error` (a failed collective as one error line).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import signal
import socket
import sys
import threading
from typing import TYPE_CHECKING

from hfsent.errors import InputError, UserError
from hfsent.watchdog import deadline

if TYPE_CHECKING:
    import tensorflow as tf

log = logging.getLogger(__name__)
PEER_TIMEOUT_ENV = "HFSENT_PEER_TIMEOUT"  # seconds a worker waits for its peers to join
PEER_TIMEOUT = 300
KNOCK_SECONDS, KNOCK_MISSES = 2.0, 3
_KNOCKER: dict[str, threading.Event] = {}
_JOINED: list = []  # the process's MultiWorkerMirroredStrategy: TensorFlow allows one


class PeerError(UserError, RuntimeError):
    """A collective failed because a peer of a multi-worker run ended or became unreachable."""


def peer_error(err: Exception) -> PeerError:
    """The one-line error for TensorFlow's ``err`` from a collective whose peer went away.

    Example:
        >>> raise peer_error(tf.errors.UnavailableError(None, None, "Connection reset by peer"))
    """
    first = (getattr(err, "message", "") or str(err)).strip().splitlines()[0][:200]
    return PeerError(f"multi-worker training stopped: a peer ended or became unreachable "
                     f"({type(err).__name__}: {first}); fix it and restart every worker")


def cluster_role() -> tuple[str, int, bool]:
    """``(task type, index, is chief)`` from ``TF_CONFIG``, read without TensorFlow.  The chief
    is the ``chief`` task, or worker 0 in a cluster without one (TensorFlow's rule).

    Example:
        >>> os.environ["TF_CONFIG"] = json.dumps({"cluster": {"worker": ["a:1", "b:1"]},
        ...                                       "task": {"type": "worker", "index": 1}})
        >>> cluster_role()
        ('worker', 1, False)
    """
    cluster, task = _tf_config()
    kind, index = task["type"], int(task["index"])
    return kind, index, kind == "chief" or (kind == "worker" and index == 0 and "chief" not in cluster)


def _tf_config() -> tuple[dict, dict]:
    if "TF_CONFIG" not in os.environ:
        raise InputError("--strategy multiworker needs TF_CONFIG (cluster and task) in the environment")
    try:
        config = json.loads(os.environ["TF_CONFIG"])
        cluster, task = config["cluster"], config["task"]
        peers = cluster[task["type"]]
        if not isinstance(peers, list) or not 0 <= int(task["index"]) < len(peers):
            raise ValueError
    except (ValueError, KeyError, TypeError):
        raise InputError("TF_CONFIG must be JSON with a cluster {type: [host:port, ...]} and a task "
                         "{type, index} naming one of its entries") from None
    return cluster, task


def peer_timeout() -> float:
    """Seconds a worker waits for every peer to join: ``HFSENT_PEER_TIMEOUT``, else 300."""
    value = os.environ.get(PEER_TIMEOUT_ENV, "")
    try:
        seconds = float(value) if value else PEER_TIMEOUT
    except ValueError:
        seconds = 0
    if not seconds > 0:
        raise InputError(f"{PEER_TIMEOUT_ENV} must be a positive number of seconds, got {value!r}")
    return seconds


def _fail(message: str) -> None:
    """End this process at once with one error line: called from a watchdog thread, where
    TensorFlow's blocked C++ would swallow an exception."""
    print(f"hfsent: error: {message}", file=sys.stderr, flush=True)
    os._exit(2)


def _knock(peers: list[tuple[str, str]], stop: threading.Event) -> None:
    misses = dict.fromkeys(peers, 0)
    while not stop.wait(KNOCK_SECONDS):
        for peer in peers:
            host, _, port = peer[1].rpartition(":")
            try:
                socket.create_connection((host, int(port)), timeout=KNOCK_SECONDS).close()
                misses[peer] = 0
            except OSError:
                misses[peer] += 1
                if misses[peer] >= KNOCK_MISSES and not stop.is_set():
                    _fail(f"multi-worker peer {peer[0]} ({peer[1]}) stopped answering: it ended or "
                          "crashed, so this worker ends too; restart every worker (see --resume)")


def _patch_keras_logs() -> None:
    """Keras 3.x (``reduce_per_replica``) averages each step's logs across workers with
    ``strategy.reduce("MEAN", v, axis=0)``, which fails on the scalar loss and metrics; the
    mean over the replicas (``axis=None``) is what it means.  Other reductions are Keras' own."""
    from keras.src.backend.tensorflow import trainer

    original = getattr(trainer.reduce_per_replica, "__wrapped__", trainer.reduce_per_replica)

    def reduce_per_replica(values, strategy, reduction):
        if reduction in ("auto", "mean") and strategy in _JOINED:
            import keras

            return keras.tree.map_structure(lambda v: strategy.reduce("MEAN", v, axis=None), values)
        return original(values, strategy, reduction)

    reduce_per_replica.__wrapped__ = original
    trainer.reduce_per_replica = reduce_per_replica


def join() -> tf.distribute.Strategy:
    """This process's ``MultiWorkerMirroredStrategy``, joined (once) as the module docstring says."""
    if not _JOINED:
        _JOINED.append(_join())
    return _JOINED[0]


def _join() -> tf.distribute.Strategy:
    import tensorflow as tf

    cluster, task = _tf_config()
    me = cluster[task["type"]][int(task["index"])]
    timeout = peer_timeout()
    message = (f"multi-worker: not every peer of {me} joined within {timeout:g} s (set {PEER_TIMEOUT_ENV}); "
               "start the same command on every host of TF_CONFIG's cluster: "
               + ", ".join(f"{k} {i} {a}" for k, addrs in cluster.items() for i, a in enumerate(addrs)))
    with deadline(timeout, message):  # TensorFlow waits for the peers in C++ holding the GIL
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
        _patch_keras_logs()
        one = strategy.reduce("SUM", strategy.run(lambda: tf.constant(1.0)), axis=None)  # everyone is here
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    peers = [(f"{k} {i}", a) for k, addrs in cluster.items() for i, a in enumerate(addrs) if a != me]
    _KNOCKER[me] = stop = threading.Event()
    threading.Thread(target=_knock, args=(peers, stop), daemon=True, name="hfsent-peers").start()
    log.info("multi-worker: %s %s joined %d workers", task["type"], task["index"], int(one))
    return strategy


def is_multiworker(strategy: tf.distribute.Strategy) -> bool:
    """Whether ``strategy`` is this process's multi-worker strategy."""
    return strategy in _JOINED


def _chief_sum(strategy: tf.distribute.Strategy, values: list[float], chief: bool) -> list[float]:
    import tensorflow as tf

    mine = tf.constant(values if chief else [0.0] * len(values), tf.float32)
    return strategy.reduce("SUM", strategy.run(lambda: tf.identity(mine)), axis=None).numpy().tolist()


def check_same(strategy: tf.distribute.Strategy, what: str, text: str) -> None:
    """Refuse to train unless every worker's ``text`` (a vocabulary and its buckets, say) is the
    chief's: all-reduces the chief's hash, then every worker's verdict, so all stop together.

    Example:
        >>> check_same(strategy, "vocabulary", "\\n".join(vocab.itos))
    """
    if not is_multiworker(strategy):
        return
    _, index, chief = cluster_role()
    digest = hashlib.sha256(text.encode()).digest()[:8]
    mine = [float(int.from_bytes(digest[i:i + 2], "big")) for i in range(0, 8, 2)]  # exact in float32
    differs = _chief_sum(strategy, mine, chief) != mine
    import tensorflow as tf

    flags = strategy.reduce("SUM", strategy.run(lambda: tf.constant(float(differs))), axis=None)
    if float(flags) > 0:
        raise InputError(f"multi-worker: {int(flags)} worker(s) built another {what} than the chief"
                         f"{' (this one among them)' if differs else ''}: every worker needs the same "
                         "--dataset files, flags and hfsent version")


def shard_by_data(strategy: tf.distribute.Strategy, batches: tf.data.Dataset) -> tf.data.Dataset:
    """``batches`` set to be sharded by data across the workers of a multi-worker strategy.

    TensorFlow's default policy shards by file, which a generator has none of.  ``DATA``: each
    worker runs the same seeded pipeline, and of every global batch (``--batch-size``) keeps its
    own share, so the workers see each batch's rows once between them and step in lockstep.
    The price: every worker reads and pads every batch.
    """
    if not is_multiworker(strategy):
        return batches
    import tensorflow as tf

    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return batches.with_options(options)


def leave(strategy: tf.distribute.Strategy) -> None:
    """After the last collective: one more all-reduce (every worker got this far), then stop
    watching the peers, which may now end at their own pace."""
    if not _KNOCKER:
        return
    import tensorflow as tf

    strategy.reduce("SUM", strategy.run(lambda: tf.constant(1.0)), axis=None)
    for stop in _KNOCKER.values():
        stop.set()
    _KNOCKER.clear()
