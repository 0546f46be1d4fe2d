"""Structured logs: JSON lines on stderr, run context, redaction, third-party lines."""

import json
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import structlog

from ordergen.observability.logs import bind_run, configure_logging, get_logger, redact_secrets

SECRET = "s3cret"
URI = f"mongodb://user:{SECRET}@db.example:27017/ordergen"


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """Leave logging and structlog as they were, for the other tests in the session."""
    loggers = [logging.getLogger(), logging.getLogger("ordergen")]
    saved = [(lg, lg.level, lg.propagate, list(lg.handlers)) for lg in loggers]
    yield
    for logger, level, propagate, handlers in saved:
        logger.setLevel(level)
        logger.propagate = propagate
        logger.handlers[:] = handlers
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()


def json_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    captured = capsys.readouterr()
    assert captured.out == ""
    return [json.loads(line) for line in captured.err.splitlines()]


def test_lines_are_json_with_timestamp_level_event_and_run_id(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("INFO", "json")
    bind_run("run-42")
    get_logger("batch").info("portfolio_solved", portfolio_id="P-1", orders=3)
    get_logger().warning("slow_chunk")

    first, second = json_lines(capsys)
    assert first["event"] == "portfolio_solved" and first["level"] == "info"
    assert first["run_id"] == "run-42" and first["portfolio_id"] == "P-1"
    assert first["orders"] == 3 and first["logger"] == "ordergen.batch"
    assert second["event"] == "slow_chunk" and second["level"] == "warning"
    assert second["run_id"] == "run-42" and "portfolio_id" not in second
    for line in (first, second):
        timestamp = datetime.fromisoformat(line["timestamp"])
        assert timestamp.utcoffset() == timedelta(0)


def test_without_a_bound_run_there_is_no_run_id(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", "json")
    get_logger().info("starting")
    (line,) = json_lines(capsys)
    assert "run_id" not in line


def test_bind_run_starts_a_fresh_context(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", "json")
    bind_run("first")
    structlog.contextvars.bind_contextvars(model="M1")
    bind_run("second")
    get_logger().info("next_run")
    (line,) = json_lines(capsys)
    assert line["run_id"] == "second" and "model" not in line


def test_secrets_never_reach_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", "json")
    log = get_logger()
    log.info("connecting", uri=URI, settings={"database": {"url": URI}, "hosts": [URI]})
    log.info(f"connecting to {URI}")
    log.info("login", password=SECRET, api_token=SECRET, client_secret=SECRET)
    try:
        raise ConnectionError(f"cannot reach {URI}")
    except ConnectionError:
        log.exception("connect_failed")
    logging.getLogger("pymongo.topology").warning("lost %s", URI)

    captured = capsys.readouterr().err
    assert SECRET not in captured
    connecting, text, login, failed, third_party = map(json.loads, captured.splitlines())
    redacted = "mongodb://user:***@db.example:27017/ordergen"
    assert connecting["uri"] == redacted
    assert connecting["settings"] == {"database": {"url": redacted}, "hosts": [redacted]}
    assert text["event"] == f"connecting to {redacted}"
    assert login["password"] == login["api_token"] == login["client_secret"] == "***"
    assert redacted in failed["exception"] and "ConnectionError" in failed["exception"]
    assert third_party["event"] == f"lost {redacted}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://alice:pa55@host/path", "https://alice:***@host/path"),
        ("mongodb+srv://u:p%40ss@cluster/db?x=1", "mongodb+srv://u:***@cluster/db?x=1"),
        ("a://x:1@h and b://y:2@k", "a://x:***@h and b://y:***@k"),
        ("http://host:8080/path?email=a@b.example", "http://host:8080/path?email=a@b.example"),
        ("mongodb://user@host/db", "mongodb://user@host/db"),
        ("no url here: user:pass@host", "no url here: user:pass@host"),
    ],
)
def test_redaction_masks_only_url_passwords(text: str, expected: str) -> None:
    assert redact_secrets(None, "info", {"event": text}) == {"event": expected}


def test_redaction_keeps_plain_values_and_renders_other_objects_as_redacted_text() -> None:
    class Settings:
        def __str__(self) -> str:
            return f"Settings(url={URI})"

    redacted = redact_secrets(None, "info", {"n": 3, "ok": True, "none": None, "s": Settings()})
    assert redacted == {
        "n": 3,
        "ok": True,
        "none": None,
        "s": "Settings(url=mongodb://user:***@db.example:27017/ordergen)",
    }


def test_third_party_lines_are_json_at_warning_and_above_only(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("DEBUG", "json")
    bind_run("run-1")
    driver = logging.getLogger("pymongo.serverSelection")
    driver.info("chatty")
    driver.warning("no primary")
    (line,) = json_lines(capsys)
    assert line["event"] == "no primary" and line["level"] == "warning"
    assert line["logger"] == "pymongo.serverSelection" and line["run_id"] == "run-1"
    assert "timestamp" in line


def test_the_app_level_filters_app_lines(capsys: pytest.CaptureFixture[str]) -> None:
    log = get_logger("cli")
    configure_logging("WARNING", "json")
    log.info("hidden")
    log.warning("shown")
    configure_logging("debug", "json")
    log.debug("now shown")
    assert [line["event"] for line in json_lines(capsys)] == ["shown", "now shown"]


def test_configuring_again_does_not_duplicate_lines(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", "json")
    configure_logging("INFO", "json")
    configure_logging("INFO", "json")
    get_logger().info("once")
    logging.getLogger("httpx").warning("once too")
    assert [line["event"] for line in json_lines(capsys)] == ["once", "once too"]


def test_console_format_is_for_people_and_still_redacted(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("INFO", "console")
    get_logger().info("connecting", uri=URI)
    err = capsys.readouterr().err
    assert "connecting" in err and "mongodb://user:***@db.example" in err
    assert SECRET not in err
    with pytest.raises(json.JSONDecodeError):
        json.loads(err)


def test_auto_writes_json_when_stderr_is_not_a_terminal(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging()
    get_logger().info("captured")
    (line,) = json_lines(capsys)
    assert line["event"] == "captured"


@pytest.mark.parametrize(("level", "fmt"), [("LOUD", "json"), ("INFO", "xml")])
def test_unknown_level_or_format_is_rejected(level: str, fmt: str) -> None:
    with pytest.raises(ValueError):
        configure_logging(level, fmt)
