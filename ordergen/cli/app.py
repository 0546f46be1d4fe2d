"""The `ordergen` Typer application and the one place exceptions become exit codes."""

from typing import Any

import typer
from rich.console import Console
from typer.core import TyperGroup

from ordergen import __version__
from ordergen.errors import ExitCode, OrdergenError

stderr_console = Console(stderr=True)


class OrdergenGroup(TyperGroup):
    """Turns any `OrdergenError` raised by a (sub)command into its documented exit code."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except OrdergenError as exc:
            stderr_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(int(exc.exit_code)) from None


app = typer.Typer(
    cls=OrdergenGroup,
    name="ordergen",
    help="Exact whole-share rebalancing of model portfolios, as a batch job.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(__version__)
        raise typer.Exit(int(ExitCode.OK))


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", callback=_version_callback, is_eager=True, help="Print the version."
    ),
) -> None:
    """Exact whole-share rebalancing of model portfolios, as a batch job."""
