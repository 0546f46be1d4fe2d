"""docs/cli.md is Typer's own rendering of the app: regenerated here, it must not differ."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHECKED_IN = ROOT / "docs" / "cli.md"
REGENERATE = (
    "python -m typer ordergen.cli.main utils docs --name ordergen "
    '--title "CLI reference" --output docs/cli.md'
)


def generate(output: Path, columns: str) -> str:
    """The CLI reference as `typer ... utils docs` writes it, with a given terminal width."""
    # Colours and the terminal's width must not reach the text: pin both, then vary one.
    env = {**os.environ, "COLUMNS": columns, "NO_COLOR": "1", "TERM": "dumb"}
    env.pop("FORCE_COLOR", None)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "typer",
            "ordergen.cli.main",
            "utils",
            "docs",
            "--name",
            "ordergen",
            "--title",
            "CLI reference",
            "--output",
            str(output),
        ],
        check=True,
        cwd=ROOT,
        env=env,
        capture_output=True,
    )
    return output.read_text(encoding="utf-8")


def test_the_checked_in_cli_reference_is_what_the_app_generates(tmp_path: Path) -> None:
    generated = generate(tmp_path / "cli.md", "80")
    assert generated == CHECKED_IN.read_text(encoding="utf-8"), (
        f"docs/cli.md is out of date: regenerate it with `{REGENERATE}`"
    )


def test_the_generated_reference_does_not_depend_on_the_terminal(tmp_path: Path) -> None:
    assert generate(tmp_path / "narrow.md", "40") == generate(tmp_path / "wide.md", "250")
