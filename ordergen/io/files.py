"""Reading models (JSON/YAML), positions (JSON/CSV) and prices (JSON/CSV).

Numbers may be JSON numbers or decimal strings; all become Decimal. Any problem
raises `InputError` naming the file, the field and the value.
"""

import csv
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from ordergen.domain.holdings import Holdings
from ordergen.domain.model import InvestmentModel, validate_model
from ordergen.domain.values import (
    parse_decimal,
    parse_globeco_id,
    parse_price,
    parse_whole_number,
)
from ordergen.errors import InputError

POSITIONS_COLUMNS = ("portfolio_id", "security_id", "quantity")
PRICES_COLUMNS = ("security_id", "price")
SUMMARY_FIELDS = frozenset(
    {"portfolioId", "cashBalance", "securities", "securityCount", "lastUpdated"}
)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(str(path), None, f"cannot read file: {exc}") from None


def load_structured(path: Path) -> Any:
    """Parse JSON (floats as Decimal) or, for .yaml/.yml, YAML."""
    text = _read_text(path)
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            return yaml.safe_load(text)
        return json.loads(text, parse_float=Decimal)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        first_line = str(exc).splitlines()[0]
        raise InputError(str(path), None, f"malformed file: {first_line}") from None


def read_model(path: Path) -> InvestmentModel:
    """A validated model from a JSON or YAML file."""
    raw = load_structured(path)
    try:
        return validate_model(raw)
    except InputError as exc:
        raise InputError(f"{path}: {exc.field}", exc.value, exc.problem) from None


def _csv_rows(path: Path, columns: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows of a CSV file whose header must be exactly `columns` (any order)."""
    reader = csv.DictReader(_read_text(path).splitlines())
    header = reader.fieldnames or []
    for name in header:
        if name.strip() not in columns:
            raise InputError(
                f"{path}: column", name, f"unknown column (expected {', '.join(columns)})"
            )
    missing = [name for name in columns if name not in [h.strip() for h in header]]
    if missing:
        raise InputError(f"{path}: column", missing[0], "missing column")
    for line, row in enumerate(reader, start=2):
        if None in row:
            raise InputError(f"{path}:{line}", row[None], "more values than columns")
        yield line, {key.strip(): (value or "").strip() for key, value in row.items()}


def summary_to_holdings(raw: object, where: str) -> Holdings:
    if not isinstance(raw, Mapping):
        raise InputError(where, raw, "expected a portfolio summary object")
    unknown = sorted(set(raw) - SUMMARY_FIELDS)
    if unknown:
        raise InputError(f"{where}.{unknown[0]}", raw[unknown[0]], "unknown field")
    portfolio_id = parse_globeco_id(raw.get("portfolioId"), f"{where}.portfolioId")
    cash = parse_decimal(raw.get("cashBalance", 0), f"{where}.cashBalance")
    securities = raw.get("securities", [])
    if not isinstance(securities, list):
        raise InputError(f"{where}.securities", securities, "expected a list")
    quantities: dict[str, int] = {}
    for index, item in enumerate(securities):
        item_where = f"{where}.securities[{index}]"
        if not isinstance(item, Mapping):
            raise InputError(item_where, item, "expected {securityId, netQuantity}")
        security_id = parse_globeco_id(item.get("securityId"), f"{item_where}.securityId")
        if security_id in quantities:
            raise InputError(f"{item_where}.securityId", security_id, "duplicate security")
        quantities[security_id] = parse_whole_number(
            item.get("netQuantity"), f"{item_where}.netQuantity"
        )
    return Holdings(portfolio_id, cash, quantities)


def _add_portfolio(found: dict[str, Holdings], holdings: Holdings, where: str) -> None:
    if holdings.portfolio_id in found:
        raise InputError(where, holdings.portfolio_id, "duplicate portfolio")
    found[holdings.portfolio_id] = holdings


def read_positions(path: Path) -> dict[str, Holdings]:
    """Holdings by portfolio id from a JSON list of summaries or a CSV of quantities."""
    found: dict[str, Holdings] = {}
    if path.suffix.lower() == ".csv":
        cash: dict[str, Decimal] = {}
        quantities: dict[str, dict[str, int]] = {}
        for line, row in _csv_rows(path, POSITIONS_COLUMNS):
            where = f"{path}:{line}"
            portfolio_id = parse_globeco_id(row["portfolio_id"], f"{where}: portfolio_id")
            held = quantities.setdefault(portfolio_id, {})
            if not row["security_id"]:  # an empty security id is the cash balance
                if portfolio_id in cash:
                    raise InputError(f"{where}: quantity", row["quantity"], "second cash row")
                cash[portfolio_id] = parse_decimal(row["quantity"], f"{where}: quantity")
                continue
            security_id = parse_globeco_id(row["security_id"], f"{where}: security_id")
            if security_id in held:
                raise InputError(f"{where}: security_id", security_id, "duplicate security")
            held[security_id] = parse_whole_number(row["quantity"], f"{where}: quantity")
        for portfolio_id, held in quantities.items():
            found[portfolio_id] = Holdings(portfolio_id, cash.get(portfolio_id, Decimal(0)), held)
        return found
    raw = load_structured(path)
    if not isinstance(raw, list):
        raise InputError(
            str(path), type(raw).__name__, "expected a JSON list of portfolio summaries"
        )
    for index, item in enumerate(raw):
        where = f"{path}: [{index}]"
        _add_portfolio(found, summary_to_holdings(item, where), f"{where}.portfolioId")
    return found


def read_prices(path: Path) -> dict[str, Decimal]:
    """Prices by security id from a JSON object or a CSV of security_id,price."""
    prices: dict[str, Decimal] = {}
    if path.suffix.lower() == ".csv":
        for line, row in _csv_rows(path, PRICES_COLUMNS):
            where = f"{path}:{line}"
            security_id = parse_globeco_id(row["security_id"], f"{where}: security_id")
            if security_id in prices:
                raise InputError(f"{where}: security_id", security_id, "duplicate security")
            prices[security_id] = parse_price(row["price"], f"{where}: price")
        return prices
    raw = load_structured(path)
    if not isinstance(raw, Mapping):
        raise InputError(
            str(path), type(raw).__name__, "expected a JSON object {securityId: price}"
        )
    for security_id, value in raw.items():
        parse_globeco_id(security_id, f"{path}: key")
        prices[security_id] = parse_price(value, f"{path}: {security_id}")
    return prices


def input_digest(paths: Iterable[Path], *extra: str) -> str:
    """SHA-256 over the files' bytes and `extra` strings: names a run by what went in."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
        digest.update(b"\0")
    for text in extra:
        digest.update(text.encode())
        digest.update(b"\0")
    return digest.hexdigest()
