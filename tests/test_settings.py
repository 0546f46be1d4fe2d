"""A setting that cannot work is a one-line configuration error (exit 2), never a traceback."""

import pytest
from typer.testing import CliRunner

from ordergen.cli.main import app
from ordergen.errors import ExitCode

runner = CliRunner()


@pytest.mark.parametrize(
    ("name", "value"),
    [("LOG_LEVEL", "BOGUS"), ("JOBS", "-1"), ("LOG_FORMAT", "xml"), ("RUN_LEASE_SECONDS", "1")],
)
def test_a_bad_setting_exits_2_naming_it(name: str, value: str) -> None:
    result = runner.invoke(app, ["demo", "--dir", "never-written"], env={name: value})
    assert result.exit_code == ExitCode.INPUT, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and name in lines[0] and value in lines[0]


def test_log_levels_are_read_in_any_case() -> None:
    from ordergen.settings import Settings

    assert Settings(log_level="warning").log_level == "warning"
