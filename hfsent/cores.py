"""How many CPU cores this process may use, for the pools that size themselves by it.

:func:`affinity_cores` is the CPU affinity (``os.cpu_count()`` where a platform has none);
:func:`usable_cores` also caps it by a cgroup v2 CPU quota (``docker --cpus``, a Kubernetes
limit), which the affinity does not show.  Limits: cgroup v1 quotas are not read.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

CPU_MAX = Path("/sys/fs/cgroup/cpu.max")  # cgroup v2: "QUOTA PERIOD", or "max PERIOD" for none


def affinity_cores() -> int:
    """The cores the scheduler lets this process run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def usable_cores() -> int:
    """:func:`affinity_cores`, capped by a cgroup v2 CPU quota where one is set."""
    cores = affinity_cores()
    try:
        quota, period = CPU_MAX.read_text().split()[:2]
        if quota != "max":
            cores = min(cores, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):  # no cgroup v2 file here (macOS, cgroup v1): the affinity
        pass
    return cores
