"""Outputs are a contract: the demo's orders files stay byte-identical across refactors.

The demo's data changed once, on purpose, in issue 16 (the demo's data tell a scheduled
run's story: `ordergen.demo.scheduled_run`, portfolios drifted since their last rebalance,
instead of holdings drawn at random around target), so the hashes below were recorded
again then, from the new data. Before, they had held from main at 6436143 (before the
columnar engine) on. A change that alters them must come from an issue that changes the
output, and then the new hashes are recorded here with the reason.
"""

import subprocess
import sys
from hashlib import sha256
from pathlib import Path

import pytest

GOLDEN = [
    # (demo flags, sha256 of the orders files)
    (
        [],
        {
            "orders.json": "b579f665221572ac48be0b6dd510dc4f35234a9b344b92fbf8b418efb548e21b",
            "orders-desk-policy.json": (
                "326556d39233b20802256ed7c7ba30e35a94e074e512e35cfbcec547be692b34"
            ),
        },
    ),
    (
        ["--method", "milp", "--portfolios", "120", "--securities", "12", "--seed", "3"],
        {
            "orders.json": "963a10e12deab45400f9736ae2d96060b62f832507067e912091e433e6d66322",
            "orders-desk-policy.json": (
                "3fd9d0571c0629a88d817e0892d64b67aa2cea22f35b57ab0f393c200c4840a9"
            ),
        },
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
def test_demo_orders_files_are_byte_identical_to_the_recorded_ones(
    tmp_path: Path, flags: list[str], expected: dict[str, str]
) -> None:
    written = demo_files(tmp_path / "demo", flags)
    assert {name: written[name] for name in expected} == expected


# Recorded from one process (`--jobs 1`, same flags otherwise; issue 16's data): with
# 4,500 portfolios and --jobs 2 the second half is solved and written by a forked process.
TWO_PROCESSES = {
    "orders.json": "4fee17f7f35980f1cdd1f895566618a6ebe92cd7a58c58f4e343ab1a61ae250a",
    "orders-desk-policy.json": "c0ccf898e6250acb34e89bffc1543b9019c1b2185a3d475f698c2af960d49d0c",
}


def test_a_run_on_two_processes_writes_the_one_process_files(tmp_path: Path) -> None:
    flags = ["--portfolios", "4500", "--securities", "10", "--seed", "5", "--jobs", "2"]
    written = demo_files(tmp_path / "demo", flags)
    assert {name: written[name] for name in TWO_PROCESSES} == TWO_PROCESSES
