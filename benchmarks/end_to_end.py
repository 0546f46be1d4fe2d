"""End-to-end runs: a command as a user runs it, files in and orders file out, in a subprocess.

Both sides of the headline ratio are timed here the same way: wall-clock time of the
whole process, start-up and file writing included. Memory is measured in a separate,
untimed run by sampling /proc for the process and every process it starts (a large
ordergen run forks a second process), so that the figure is the sum over all of them.
"""

import os
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

SAMPLE_SECONDS = 0.005
KIB_PER_MIB = 1024


@dataclass(frozen=True)
class Timed:
    seconds: float
    exit_code: int
    stdout: str


def timed(command: Sequence[str], environment: Mapping[str, str]) -> Timed:
    started = time.perf_counter()
    completed = subprocess.run(
        list(command), capture_output=True, text=True, check=False, env=dict(environment)
    )
    return Timed(time.perf_counter() - started, completed.returncode, completed.stdout)


def fastest(command: Sequence[str], environment: Mapping[str, str], repeats: int) -> Timed:
    """The fastest of `repeats` runs: other processes on the machine only ever slow one."""
    return min((timed(command, environment) for _ in range(repeats)), key=lambda run: run.seconds)


def ordergen_command(files: tuple[Path, Path, Path], output: Path) -> list[str]:
    model, positions, prices = files
    return [
        sys.executable, "-m", "ordergen", "rebalance",
        "--model-file", str(model), "--positions", str(positions), "--prices", str(prices),
        "--output", str(output), "--json",
    ]  # fmt: skip


def original_command(files: tuple[Path, Path, Path], output: Path) -> list[str]:
    return [sys.executable, "-m", "benchmarks.original_service", *map(str, files), str(output)]


def compiled_environment(settings: Mapping[str, str]) -> dict[str, str]:
    """The environment with `settings`, and bytecode caching allowed: an installed
    ordergen has compiled bytecode (pip and the image compile it), and the benchmark's
    untimed first run writes it where a development venv has none."""
    environment = {**os.environ, **settings}
    environment.pop("PYTHONDONTWRITEBYTECODE", None)
    return environment


@dataclass(frozen=True)
class Memory:
    """Peaks over the samples of one run, summed over the process and its descendants."""

    rss_mib: float
    """Resident memory: shared pages count once per process (an upper bound)."""
    pss_mib: float
    """Proportional set size: each shared page split among its sharers."""
    processes: int
    """The most processes seen at once."""


def peak_memory(command: Sequence[str], environment: Mapping[str, str]) -> Memory:
    """Run `command` once, sampling every process of its tree every few milliseconds."""
    process = subprocess.Popen(
        list(command), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(environment)
    )
    peaks = {"rss": 0, "pss": 0, "processes": 0}

    def sample() -> None:
        while process.poll() is None:
            tree = _tree(process.pid)
            rss = sum(_kib(f"/proc/{pid}/status", "VmRSS") for pid in tree)
            pss = sum(_kib(f"/proc/{pid}/smaps_rollup", "Pss") for pid in tree)
            peaks["rss"] = max(peaks["rss"], rss)
            peaks["pss"] = max(peaks["pss"], pss)
            peaks["processes"] = max(peaks["processes"], len(tree))
            time.sleep(SAMPLE_SECONDS)

    sampler = threading.Thread(target=sample)
    sampler.start()
    process.wait()
    sampler.join()
    return Memory(peaks["rss"] / KIB_PER_MIB, peaks["pss"] / KIB_PER_MIB, peaks["processes"])


def _tree(root: int) -> list[int]:
    """`root` and its descendants, from /proc/<pid>/task/<tid>/children."""
    found, pending = [], [root]
    while pending:
        pid = pending.pop()
        found.append(pid)
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                children = Path(f"/proc/{pid}/task/{task}/children").read_text().split()
                pending.extend(int(child) for child in children)
        except OSError:  # the process ended between two reads
            continue
    return found


def _kib(path: str, field: str) -> int:
    """A `Field:  N kB` line of a /proc file, in KiB (0 once the process has ended)."""
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return 0
    return 0
