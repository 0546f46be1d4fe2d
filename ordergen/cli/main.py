"""Entry point: imports every command module so each registers itself on `app`."""

import atexit
import os
import signal
import sys
import threading
from types import FrameType
from typing import NoReturn

# Imported for their side effect: each module registers its commands on `app`.
from ordergen.cli import (  # noqa: F401
    db,
    demo,
    model_policy,
    models,
    portfolios,
    rebalance,
    run_approval,
    run_blocks,
    run_report,
    runs,
)
from ordergen.cli.app import app


def _stop(signum: int, frame: FrameType | None) -> NoReturn:
    # Kubernetes stops a pod with SIGTERM. Unwinding (instead of dying at once) lets a
    # MongoDB run record its failed attempt and removes a half-written orders file.
    raise SystemExit(128 + signum)


def main() -> None:
    """Console-script entry point (`ordergen`)."""
    signal.signal(signal.SIGTERM, _stop)
    try:
        app()
    except SystemExit as ended:
        if not _alone():
            raise
        _exit(ended.code)


def _alone() -> bool:
    """Whether this process runs nothing but its main thread and started no worker
    processes (joblib's pools, which the interpreter's own exit shuts down)."""
    return threading.active_count() == 1 and "joblib" not in sys.modules


def _exit(code: object) -> NoReturn:
    """Exit with `code` as `SystemExit` would, but without tearing the heap down.

    A large run leaves millions of objects (its inputs) behind; deleting them one by
    one at exit costs more than a tenth of a second the process has no use for. So
    the exit handlers run and the output is flushed, then the process ends at once:
    every file a command writes is complete and closed before it returns, and no
    other thread or worker process is left to stop (`_alone`).
    """
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # SystemExit("message"): the message goes to stderr, status 1
        print(code, file=sys.stderr)
        status = 1
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
