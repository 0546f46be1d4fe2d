"""Facts about this process worth reporting with a run."""

from pathlib import Path


def peak_memory_mib() -> float | None:
    """Peak resident memory of this process (VmHWM), MiB; None where /proc is absent.

    VmHWM, unlike getrusage's ru_maxrss, is not inflated by what the parent held
    before exec, so it measures the run itself.
    """
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None
