"""ordergen's own CPU to approve and send a proposed run's orders, per 100,000 orders.

A proposed run of N demo portfolios is built in MongoDB (a SecantusDB started here, or
the server at `mongo_uri`); then `ordergen runs approve` and `ordergen runs send` run as
a user runs them, each in a process of its own, against a local fake order service. The
figure is the user + system CPU of those two processes only (`os.wait4`): the database
server and the order service run elsewhere (SecantusDB and the fake service in this
process), so what is left is ordergen's share, which must stay small beside the order
service's: sending is bounded by the service, not by ordergen.
"""

import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ordergen.demo import generate
from ordergen.domain.approval import ApprovalRule
from ordergen.domain.model import validate_model
from ordergen.io.inputs_out import write_inputs
from ordergen.settings import Settings
from ordergen.store.connection import open_database
from ordergen.store.models import ModelRepository
from ordergen.store.orders import count_orders

RUN_ID = "bench-approval"
PER = 100_000


@dataclass(frozen=True)
class ApprovalSendCost:
    """What one measurement found."""

    portfolios: int
    orders: int
    approve_cpu_seconds: float
    send_cpu_seconds: float

    @property
    def cpu_seconds_per_100k(self) -> float:
        """ordergen's CPU (approve + send) per 100,000 orders sent."""
        return (self.approve_cpu_seconds + self.send_cpu_seconds) * PER / self.orders


def _cpu_of(command: Sequence[str], environment: dict[str, str]) -> float:
    """User + system CPU seconds of `command`'s process; it must exit 0."""
    process = subprocess.Popen(
        [sys.executable, "-m", "ordergen", *command],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    stderr = process.stderr.read().decode() if process.stderr else ""
    if process.returncode != 0:
        raise RuntimeError(f"ordergen {' '.join(command)} exited {process.returncode}: {stderr}")
    return usage.ru_utime + usage.ru_stime


def measure_approval_send(
    portfolios: int = 2_000, securities: int = 100, *, mongo_uri: str | None = None, seed: int = 7
) -> ApprovalSendCost:
    """Build a proposed run of `portfolios` demo portfolios, approve it, send it.

    The rebalance that proposes the run is not measured. The database is a fresh one
    (dropped afterwards) on `mongo_uri`, or a SecantusDB started for the measurement.
    """
    from tests.mongo_server import mongo_server  # the server the tests use
    from tests.services.fake_globeco import serve  # the same fake service the tests use

    with tempfile.TemporaryDirectory(prefix="ordergen-approval-") as folder:
        directory = Path(folder)
        data = generate(seed=seed, portfolios=portfolios, securities=securities)
        _, positions, prices = write_inputs(directory, data.model, data.summaries, data.prices)
        with mongo_server(mongo_uri, directory / "db") as uri, contextmanager(serve)() as service:
            settings = Settings(database_url=uri, database_name=f"bench-{uuid.uuid4().hex[:8]}")
            environment = {
                **os.environ,
                "DATABASE_URL": settings.database_url,
                "DATABASE_NAME": settings.database_name,
                "ORDER_SERVICE_URL": service.url,
                "LOG_LEVEL": "WARNING",
                "ORDERGEN_USER": "benchmark",
            }
            with open_database(settings) as db:
                models = ModelRepository(db)
                name = models.create(validate_model(data.model)).name
                models.set_approval(name, ApprovalRule.REQUIRED, expected_version=1)
            rebalance = ["rebalance", "--model", name, "--positions", str(positions),
                         "--prices", str(prices), "--run-id", RUN_ID]  # fmt: skip
            subprocess.run([sys.executable, "-m", "ordergen", *rebalance], env=environment,
                           capture_output=True, check=False)  # fmt: skip
            approve = _cpu_of(["runs", "approve", RUN_ID, "--by", "approver"], environment)
            send = _cpu_of(["runs", "send", RUN_ID], environment)
            with open_database(settings) as db:
                orders = count_orders(db, RUN_ID)
                db.client.drop_database(settings.database_name)
            if len(service.accepted) != orders or orders == 0:
                raise RuntimeError(f"sent {len(service.accepted)} of {orders} orders")
    return ApprovalSendCost(portfolios, orders, approve, send)


if __name__ == "__main__":
    cost = measure_approval_send(int(sys.argv[1]) if len(sys.argv) > 1 else 2_000)
    print(
        f"{cost.portfolios} portfolios, {cost.orders} orders: "
        f"approve {cost.approve_cpu_seconds:.2f} s CPU, send {cost.send_cpu_seconds:.2f} s CPU, "
        f"{cost.cpu_seconds_per_100k:.2f} s CPU per 100,000 orders"
    )
