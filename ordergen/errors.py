"""Error hierarchy and the process exit codes they map to.

Bad input is the caller's to fix and is never retried; infrastructure failures
(database, services) may succeed on a retry; solver trouble is reported per
portfolio and never aborts a batch.
"""

from enum import IntEnum


class ExitCode(IntEnum):
    """Documented process exit codes (README, "Exit codes")."""

    OK = 0
    INTERNAL = 1
    """An unexpected bug: the traceback is logged."""
    INPUT = 2
    """Bad input or configuration (same code as a command-line usage error). Nothing written."""
    PARTIAL = 3
    """Some portfolios were infeasible or failed; the others' orders were written."""
    DATABASE = 4
    """MongoDB unreachable or failing. Nothing partial written."""
    CONFLICT = 5
    """A model update named a stale version (another writer won)."""
    BUSY = 6
    """Another run of the same model is live in MongoDB; this one wrote nothing."""


class OrdergenError(Exception):
    """Base class; `exit_code` says how the CLI ends when this escapes a command."""

    exit_code: ExitCode = ExitCode.INTERNAL


class InputError(OrdergenError, ValueError):
    """Bad input: the message names the field and the offending value."""

    exit_code = ExitCode.INPUT

    def __init__(self, field: str, value: object, problem: str) -> None:
        self.field = field
        self.value = value
        self.problem = problem
        super().__init__(f"{field}={value!r}: {problem}")


class ConfigurationError(OrdergenError):
    """Settings that cannot work (for example an unreadable secrets directory)."""

    exit_code = ExitCode.INPUT


class NotFoundError(OrdergenError):
    """A named model, run or portfolio does not exist."""

    exit_code = ExitCode.INPUT


class DatabaseError(OrdergenError):
    """MongoDB could not be reached or refused an operation."""

    exit_code = ExitCode.DATABASE


class ConflictError(OrdergenError):
    """Optimistic concurrency: the version named is no longer current."""

    exit_code = ExitCode.CONFLICT


class RunBusyError(OrdergenError):
    """A different run id holds the model's portfolios; retry once it has finished."""

    exit_code = ExitCode.BUSY


class OwnershipLostError(DatabaseError):
    """This process no longer owns its run shard (its lease lapsed): it stops writing."""


class ServiceError(OrdergenError):
    """A GlobeCo service failed; `service` names it. Fails the portfolios that need it."""

    exit_code = ExitCode.PARTIAL

    def __init__(self, service: str, message: str) -> None:
        self.service = service
        super().__init__(f"{service}: {message}")
