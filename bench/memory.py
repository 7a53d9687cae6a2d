"""Peak memory of a process, as the kernel keeps it."""

from __future__ import annotations

from pathlib import Path

import psutil


def peak_rss_mb(pid: int) -> float:
    """The peak resident set size of `pid` and its children so far, in MiB (Linux: VmHWM).

    Peaks of different processes need not coincide, so for a process with children this is an
    upper bound of their joint peak.
    """
    pids = [pid, *(child.pid for child in psutil.Process(pid).children(recursive=True))]
    return sum(_vm_hwm_kib(each) for each in pids) / 1024


def _vm_hwm_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError(f"the kernel reports no peak RSS (VmHWM) for process {pid}")
