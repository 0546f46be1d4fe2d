"""Structured logs to stderr: JSON lines for machines, a console renderer for people.

The app logs through structlog, which renders each line itself and writes it to
stderr (a run logs a line per portfolio: the standard `logging` machinery would
double their cost). Third-party libraries (pymongo, httpx) log through the
standard `logging` root at WARNING and up, to a handler that renders their records
with the same processors (timestamp, level, the run's context, secret redaction),
so every line on stderr has one format.

The run context is held in contextvars: it follows the main thread, not the
probe server's threads or joblib workers (which do not log).
"""

import functools
import logging
import re
import sys
import threading
from collections.abc import Mapping
from typing import Any

import structlog
from structlog.typing import EventDict, FilteringBoundLogger, Processor, WrappedLogger

FORMATS = ("auto", "json", "console")
THIRD_PARTY_LEVEL = logging.WARNING
# App loggers are named under this one (`_AppLines`).
_APP_LOGGER = "ordergen"
_MASK = "***"
_SECRET_KEY = re.compile(r"passw(or)?d|secret|token|api_?key", re.IGNORECASE)
# scheme://user:password@ ; RFC 3986 userinfo holds no unescaped '/', '?', '#' or '@'.
_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.\-]*://[^:/?#@\s]*):[^/?#@\s]*@", re.I)


def _redact_text(text: str) -> str:
    if "://" not in text:  # no URL, no password in one: the common case, checked cheaply
        return text
    return _URL_PASSWORD.sub(rf"\g<head>:{_MASK}@", text)


@functools.lru_cache(maxsize=1024)
def _secret_key(key: str) -> bool:
    """Whether a field of this name holds a secret (a run logs the same few keys often)."""
    return _SECRET_KEY.search(key) is not None


def _redact(key: str, value: Any) -> Any:
    if _secret_key(key):
        return _MASK
    if isinstance(value, str):
        return _redact_text(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Mapping):
        return {k: _redact(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact(key, v) for v in value]
    # Exceptions, settings objects...: rendered as text anyway, so redact that text.
    return _redact_text(str(value))


def redact_secrets(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """Mask values of secret-named keys and passwords inside URLs, anywhere in the event."""
    return {key: _redact(key, value) for key, value in event_dict.items()}


# App and third-party lines may come from different threads: one line at a time.
_STDERR_LOCK = threading.Lock()


def _write_line(line: str) -> None:
    """Write `line` to the current `sys.stderr`, so later redirection (pytest,
    CliRunner) is honoured, and flush it: a line is never held back."""
    with _STDERR_LOCK:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()


class _StderrHandler(logging.Handler):
    """Third-party records, rendered by its formatter, to stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            _write_line(self.format(record))
        except Exception:
            self.handleError(record)


# The one handler for the process: reconfiguring replaces its formatter.
_HANDLER = _StderrHandler()


class _AppLines:
    """What an app logger writes to: each rendered line, whatever its level, to stderr.

    `name` (``ordergen.<name>``) is what `structlog.stdlib.add_logger_name` reports.
    """

    def __init__(self, name: str | None = None) -> None:
        if name is None or name == _APP_LOGGER or name.startswith(f"{_APP_LOGGER}."):
            self.name = name or _APP_LOGGER
        else:
            self.name = f"{_APP_LOGGER}.{name}"

    def msg(self, line: str) -> None:
        _write_line(line)

    debug = info = warning = error = critical = exception = msg


def _level_number(level: str) -> int:
    levels = logging.getLevelNamesMapping()
    if level.upper() not in levels:
        raise ValueError(f"unknown log level {level!r}")
    return levels[level.upper()]


def renders_json(fmt: str) -> bool:
    """Whether `fmt` gives JSON lines (for machines) rather than console text (for people)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown log format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())


def _renderer(fmt: str) -> Processor:
    if renders_json(fmt):
        return structlog.processors.JSONRenderer()
    # Tracebacks arrive as redacted text (see configure_logging), not as rich frames.
    return structlog.dev.ConsoleRenderer(exception_formatter=structlog.dev.plain_traceback)


def configure_logging(level: str = "INFO", fmt: str = "auto") -> None:
    """Send the app's and third-party libraries' logs to stderr in one format.

    Safe to call again: the latest call wins and no handler is added twice.

    Parameters
    ----------
    level
        The app's level (DEBUG, INFO, ...); third-party loggers stay at WARNING.
    fmt
        ``json``, ``console``, or ``auto``: JSON lines unless stderr is a TTY.

    Raises
    ------
    ValueError
        For an unknown level or format.
    """
    app_level = _level_number(level)
    renderer = _renderer(fmt)
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.add_logger_name,
    ]
    # Tracebacks become text before redaction, so they are redacted too.
    rendering: list[Processor] = [structlog.processors.format_exc_info, redact_secrets, renderer]
    _HANDLER.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *rendering],
        )
    )
    root = logging.getLogger()
    root.setLevel(THIRD_PARTY_LEVEL)
    # Adding the one handler again is a no-op, so repeated calls never duplicate lines.
    root.addHandler(_HANDLER)
    structlog.configure(
        processors=[*shared, *rendering],
        wrapper_class=structlog.make_filtering_bound_logger(app_level),
        logger_factory=_AppLines,
        # Not cached, so a later configure_logging call reaches loggers made earlier.
        cache_logger_on_first_use=False,
    )


def bind_run(run_id: str) -> None:
    """Start a fresh log context in which every line carries `run_id`."""
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(run_id=run_id)


def get_logger(name: str | None = None) -> FilteringBoundLogger:
    """A logger for the app; each line names it as ``logger`` (``ordergen.<name>``).

    Lazy: it may be created at import time, before `configure_logging`.
    """
    logger: FilteringBoundLogger = structlog.get_logger(name)
    return logger
