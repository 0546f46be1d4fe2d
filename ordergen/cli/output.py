"""Output on stdout for the database commands: JSON, YAML and rich tables.

Machine output (`--json`, `--format json|yaml`) and human tables both go to stdout so
they can be piped; errors go to stderr through `ordergen.cli.app`. Decimals are
stored and printed as strings, so every digit shown is the digit stored.
"""

import json
import os
import sys
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import typer
from bson import ObjectId
from rich.console import Console
from rich.table import Table

from ordergen.domain.values import decimal_text

# Rich assumes 80 columns when stdout is not a terminal (a pipe, a file, a test
# runner): 24-character ids and timestamps would then wrap mid-value. Give tables
# room unless the user set COLUMNS.
PIPE_WIDTH = 200


def console() -> Console:
    """A stdout console; markup and emoji off because names and messages are user data."""
    width = None if sys.stdout.isatty() or "COLUMNS" in os.environ else PIPE_WIDTH
    return Console(width=width, markup=False, emoji=False, highlight=False)


def plain(value: Any) -> Any:
    """`value` with datetimes, Decimals and ObjectIds turned into JSON/YAML-safe text."""
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, ObjectId):
        return str(value)
    return value


def json_text(document: Any) -> str:
    """Indented JSON of `document`, ending in a newline."""
    return json.dumps(plain(document), indent=2, ensure_ascii=False) + "\n"


def yaml_text(document: Any) -> str:
    """Block-style YAML of `document`, keys in their given order."""
    # Imported here: only YAML output needs PyYAML (start-up time of every command).
    import yaml

    return yaml.safe_dump(plain(document), sort_keys=False, allow_unicode=True)


def print_json(document: Any) -> None:
    """Print `document` as JSON on stdout (the `--json` output of every command)."""
    typer.echo(json_text(document), nl=False)


def text(value: Any) -> str:
    """A table cell: `-` for nothing, ISO time for datetimes, exact digits for Decimals."""
    if value is None or value == "":
        return "-"
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return str(plain(value))


def table(title: str | None, columns: Iterable[str], rows: Iterable[Iterable[Any]]) -> Table:
    """A table with one row per item of `rows`; numbers-looking columns are not special-cased."""
    result = Table(title=title, title_justify="left")
    for column in columns:
        result.add_column(column, overflow="fold")
    for row in rows:
        result.add_row(*(text(cell) for cell in row))
    return result


def fields_table(title: str | None, fields: Iterable[tuple[str, Any]]) -> Table:
    """A two-column table of labelled values (one record shown vertically)."""
    return table(title, ("field", "value"), fields)


def print_tables(*tables: Table) -> None:
    """Print tables on stdout, one after the other."""
    out = console()
    for item in tables:
        out.print(item)


def say(message: str) -> None:
    """One human line on stdout (a confirmation such as 'model created')."""
    console().print(message, soft_wrap=True)
