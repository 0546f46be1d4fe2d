"""Error hierarchy and the process exit codes they map to.

Bad input is the caller's to fix and is never retried; infrastructure failures
(database, services) may succeed on a retry; solver trouble is reported per
portfolio and never aborts a batch.
"""

import json
from collections.abc import Mapping
from decimal import Decimal
from enum import IntEnum


class ExitCode(IntEnum):
    """Documented process exit codes (docs/operations.md, the runbook)."""

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
    REFUSED = 7
    """An approval refused: four-eyes and the approver proposed the run, or a name that
    is not the authenticated database user's. Nothing changed."""
    STALE = 8
    """The run's proposal is older than PROPOSAL_MAX_AGE: it can be neither approved nor
    sent; re-run it. Nothing changed."""


class OrdergenError(Exception):
    """Base class; `exit_code` says how the CLI ends when this escapes a command."""

    exit_code: ExitCode = ExitCode.INTERNAL


# A problem starting with one of these continues the sentence begun by the field and
# value ('price: "0" is not positive'); any other follows a colon ('shard: "x": expected I/N').
_PREDICATES = ("is ", "are ", "must ", "has ", "have ", "cannot ", "does ", "was ", "needs ")
_LONGEST_VALUE = 80  # characters of a value shown; the rest is elided


def _shorten(text: str) -> str:
    return text if len(text) <= _LONGEST_VALUE else text[: _LONGEST_VALUE - 1] + "…"


def shown_value(value: object) -> str:
    """`value` as the user wrote it, for a message.

    Strings in plain double quotes (only characters that do not print escaped),
    numbers as plain text (a Decimal as its digits, never `Decimal('1.5')`), true and
    false and null as in JSON, lists and objects as compact JSON; long values elided.
    """
    if isinstance(value, str):
        if not value.isprintable():  # control characters, line breaks: escaped, one line
            value = "".join(
                c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in value
            )
        return _shorten(f'"{value}"')
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, int) and value.bit_length() > 256:
        # str() of a huge int is slow (and refused beyond 4300 digits): say how long it is.
        return f"a number of about {int(value.bit_length() * 0.30103)} digits"
    if isinstance(value, float):  # floats come from JSON: spelt as JSON spells them (NaN)
        return _shorten(json.dumps(value))
    if isinstance(value, (int, Decimal)):
        return _shorten(str(value))
    if isinstance(value, (Mapping, list, tuple)):
        try:
            text = json.dumps(value, ensure_ascii=False, default=str, separators=(", ", ": "))
        except (TypeError, ValueError, RecursionError):
            text = f"a {type(value).__name__}"
        return _shorten(text)
    return _shorten(str(value))


def describe(field: str, value: object, problem: str) -> str:
    """One sentence: the field, the value as written (none if `value` is None), the problem."""
    joiner = " " if problem.startswith(_PREDICATES) else ": "
    if value is None:
        return f"{field}{joiner}{problem}"
    return f"{field}: {shown_value(value)}{joiner}{problem}"


class InputError(OrdergenError, ValueError):
    """Bad input: the message names the field and the offending value.

    `value` is the value as the input held it (None when there is none to show);
    `problem` says what is wrong and what is allowed. The message reads
    `positions.json: [3].cashBalance: "1e400" is out of range: a cash balance must be ...`.
    """

    exit_code = ExitCode.INPUT

    def __init__(self, field: str, value: object, problem: str) -> None:
        self.field = field
        self.value = value
        self.problem = problem
        super().__init__(describe(field, value, problem))


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


class ApprovalRefusedError(OrdergenError):
    """Four-eyes: the approver is the run's proposer. Nothing changed."""

    exit_code = ExitCode.REFUSED


class IdentityError(ApprovalRefusedError):
    """A name given (`--by`, `ORDERGEN_USER`) that is not the authenticated database user."""


class StaleProposalError(OrdergenError):
    """A proposal older than the proposal age limit: neither approved nor sent."""

    exit_code = ExitCode.STALE


class OwnershipLostError(DatabaseError):
    """This process no longer owns its run shard (its lease lapsed): it stops writing."""


class ServiceError(OrdergenError):
    """A GlobeCo service failed; `service` names it. Fails the portfolios that need it."""

    exit_code = ExitCode.PARTIAL

    def __init__(self, service: str, message: str) -> None:
        self.service = service
        super().__init__(f"{service}: {message}")
