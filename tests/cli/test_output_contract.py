"""Outputs are a contract: the demo's orders files stay byte-identical across refactors.

The hashes were taken from the orders files of main at 6436143 (before the columnar
engine). A change that alters them must come from an issue that changes the output,
and then the new hashes are recorded here with the reason.
"""

import subprocess
import sys
from hashlib import sha256
from pathlib import Path

import pytest

GOLDEN = [
    # (demo flags, sha256 of orders.json)
    ([], "471ad2838b106f31cc4f7d4f88574906ec272d653cc8ae27445c5841d673fdb0"),
    (
        ["--method", "milp", "--portfolios", "120", "--securities", "12", "--seed", "3"],
        "fe2817e1857232f360e81139f2afa4a7113ae01e987fa1bf36b47599f867ed85",
    ),
]


def demo_files(directory: Path, flags: list[str]) -> dict[str, str]:
    """Run `ordergen demo` into `directory`; the sha256 of each file it wrote, by name."""
    completed = subprocess.run(
        [sys.executable, "-m", "ordergen", "demo", "--dir", str(directory), *flags],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return {path.name: sha256(path.read_bytes()).hexdigest() for path in directory.iterdir()}


@pytest.mark.parametrize(("flags", "expected"), GOLDEN, ids=["default", "milp-small"])
def test_demo_orders_file_is_byte_identical_to_the_recorded_one(
    tmp_path: Path, flags: list[str], expected: str
) -> None:
    assert demo_files(tmp_path / "demo", flags)["orders.json"] == expected


# Recorded from one process (main at 3b5f15b, before a files run could use two): with
# 4,500 portfolios and --jobs 2 the second half is solved and written by a forked process.
TWO_PROCESSES = {
    "orders.json": "a960fb31c3e326098a7590e124ce9d69b021df331efddd8618bb32936d2e1e72",
    "orders-desk-policy.json": "8d27f9ba58b65a7a24b0dc0de9017e7ffeace162743c7f45884d38929047966e",
}


def test_a_run_on_two_processes_writes_the_one_process_files(tmp_path: Path) -> None:
    flags = ["--portfolios", "4500", "--securities", "10", "--seed", "5", "--jobs", "2"]
    written = demo_files(tmp_path / "demo", flags)
    assert {name: written[name] for name in TWO_PROCESSES} == TWO_PROCESSES
