"""Structured logs to stderr: JSON lines for machines, a console renderer for people.

The app logs through structlog; third-party libraries (pymongo, httpx) log
through the standard `logging` root at WARNING and up. Both pass through the
same processors (timestamp, level, the run's context, secret redaction) and the
same handler, so every line on stderr has one format.

The run context is held in contextvars: it follows the main thread, not the
probe server's threads or joblib workers (which do not log).
"""

import functools
import logging
import re
import sys
from collections.abc import Mapping
from typing import Any

import structlog
from structlog.typing import EventDict, FilteringBoundLogger, Processor, WrappedLogger

FORMATS = ("auto", "json", "console")
THIRD_PARTY_LEVEL = logging.WARNING
# All structlog output goes through stdlib loggers under this one, so they can have
# the app's level while the root (third-party libraries) stays at THIRD_PARTY_LEVEL.
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


class _StderrHandler(logging.Handler):
    """Writes to the current `sys.stderr`, so later redirection (pytest, CliRunner) is honoured."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
            sys.stderr.flush()
        except Exception:
            self.handleError(record)


# The one handler for the process: reconfiguring replaces its formatter.
_HANDLER = _StderrHandler()


def _app_logger(name: str | None = None) -> logging.Logger:
    """The stdlib logger behind an app logger: `name` itself if under ``ordergen``."""
    if name is None or name == _APP_LOGGER or name.startswith(f"{_APP_LOGGER}."):
        return logging.getLogger(name or _APP_LOGGER)
    return logging.getLogger(f"{_APP_LOGGER}.{name}")


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
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.add_logger_name,
    ]
    _HANDLER.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                # Tracebacks become text before redaction, so they are redacted too.
                structlog.processors.format_exc_info,
                redact_secrets,
                _renderer(fmt),
            ],
        )
    )
    root = logging.getLogger()
    root.setLevel(THIRD_PARTY_LEVEL)
    app = logging.getLogger(_APP_LOGGER)
    app.setLevel(app_level)
    app.propagate = False  # it has the handler itself; through the root it would print twice
    # Adding the one handler again is a no-op, so repeated calls never duplicate lines.
    root.addHandler(_HANDLER)
    app.addHandler(_HANDLER)
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        wrapper_class=structlog.make_filtering_bound_logger(app_level),
        logger_factory=_app_logger,
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
