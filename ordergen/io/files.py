"""Reading models (JSON/YAML), positions (JSON/CSV) and prices (JSON/CSV).

Numbers may be JSON numbers or decimal strings; all become Decimal. Any problem
raises `InputError` naming the file, the record, the field and the value as
written: a missing field is an error, never a default.
"""

import csv
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from ordergen.domain.holdings import Holdings
from ordergen.domain.model import InvestmentModel, validate_model
from ordergen.domain.values import (
    parse_cash,
    parse_globeco_id,
    parse_price,
    parse_whole_number,
)
from ordergen.errors import InputError, shown_value
from ordergen.io.fast_positions import csv_positions, json_positions

POSITIONS_COLUMNS = ("portfolio_id", "security_id", "quantity")
PRICES_COLUMNS = ("security_id", "price")
SUMMARY_FIELDS = frozenset(
    {"portfolioId", "cashBalance", "securities", "securityCount", "lastUpdated"}
)
SUMMARY_REQUIRED = ("portfolioId", "cashBalance", "securities")
HOLDING_REQUIRED = ("securityId", "netQuantity")
YAML_SUFFIXES = (".yaml", ".yml")

MODEL_WHAT = "a model (JSON or YAML)"
POSITIONS_WHAT = "a JSON list of portfolio summaries or a CSV file"
PRICES_WHAT = "a JSON object {securityId: price} or a CSV file"


def value_kind(value: object) -> str:
    """What a parsed value is, in the file's terms (for "expected X, not Y")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, (int, float, Decimal)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "a list"
    return f"a {type(value).__name__}"


def read_input(path: Path) -> bytes:
    """The file's bytes; an unreadable file is an input error.

    Read once: the readers below take these bytes, and `InputDigest` hashes them.
    """
    try:
        return path.read_bytes()
    except OSError as exc:
        reason = (exc.strerror or type(exc).__name__).lower()
        raise InputError(str(path), None, f"cannot be read: {reason}") from None


def _read_text(path: Path, what: str, data: bytes | None = None) -> str:
    """The file (or `data`, its bytes if already read) as text; unreadable, non-UTF-8 or
    empty files are input errors."""
    if data is None:
        data = read_input(path)
    try:
        # utf-8-sig: a byte-order mark (as spreadsheet tools write) is not part of the text.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        offset = exc.start + len(data) - len(exc.object)  # the codec may have cut the BOM
        raise InputError(
            str(path),
            None,
            f"is not UTF-8 text: byte 0x{data[offset]:02x} at offset {offset} is not valid UTF-8",
        ) from None
    if not text or text.isspace():  # isspace stops at the first other character: no copy
        raise InputError(str(path), None, f"is empty: expected {what}")
    return text


class _DuplicateKeyError(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object's dict; a key given twice is refused (json keeps the last silently)."""
    document = dict(pairs)
    if len(document) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKeyError(key)
            seen.add(key)
    return document


def _json_problem(exc: ValueError | RecursionError) -> str:
    if isinstance(exc, _DuplicateKeyError):
        return f"is not usable JSON: the key {shown_value(exc.key)} appears twice in one object"
    if isinstance(exc, json.JSONDecodeError):
        reason = exc.msg[:1].lower() + exc.msg[1:]
        # Some reasons end in "at" already ("Unterminated string starting at").
        at = " " if reason.endswith(" at") else " at "
        return f"is not valid JSON: {reason}{at}line {exc.lineno}, column {exc.colno}"
    if isinstance(exc, RecursionError):
        return "is not usable JSON: it is nested too deeply"
    return "is not usable JSON: it holds a number with too many digits"


def load_structured(path: Path, what: str = "JSON or YAML", data: bytes | None = None) -> Any:
    """Parse JSON (numbers with a fraction or exponent, NaN and Infinity as Decimal) or,
    for .yaml/.yml, YAML (floats as Decimal); `what` names the expected content and
    `data` holds the file's bytes if they were read already."""
    text = _read_text(path, what, data)
    if path.suffix.lower() in YAML_SUFFIXES:
        # Imported here: only YAML files need PyYAML, and its import slows every run's start.
        from ordergen.io.yaml_files import load_yaml

        return load_yaml(path, text)
    try:
        return json.loads(
            text, parse_float=Decimal, parse_constant=Decimal, object_pairs_hook=_unique_keys
        )
    except (ValueError, RecursionError) as exc:
        # ValueError besides JSONDecodeError: an integer of more than 4300 digits.
        raise InputError(str(path), None, _json_problem(exc)) from None


def read_model(path: Path) -> InvestmentModel:
    """A validated model from a JSON or YAML file."""
    raw = load_structured(path, MODEL_WHAT)
    try:
        return validate_model(raw)
    except InputError as exc:
        raise InputError(f"{path}: {exc.field}", exc.value, exc.problem) from None


def _csv_rows(
    path: Path, columns: tuple[str, ...], what: str, data: bytes | None = None
) -> Iterator[tuple[str, list[str]]]:
    """(where, values in `columns` order) for each row of a CSV file (`data`: its bytes).

    The header must name exactly `columns`, in any order, each once; every row must
    have as many values as the header. Values are stripped of surrounding spaces.
    """
    reader = csv.reader(_read_text(path, what, data).splitlines())
    try:
        # Blank lines before the header are skipped, as csv skips them between rows.
        header = [name.strip() for name in next((row for row in reader if row), [])]
        expected = f"the columns are {','.join(columns)}"
        for name in header:
            if name not in columns:
                raise InputError(f"{path}: column", name, f"is an unknown column: {expected}")
            if header.count(name) > 1:
                raise InputError(f"{path}: column", name, f"is given twice: {expected}")
        missing = [name for name in columns if name not in header]
        if missing:
            raise InputError(f"{path}: column {missing[0]}", None, f"is missing: {expected}")
        order = [header.index(name) for name in columns]
        for row in reader:
            if not row:  # a blank line
                continue
            where = f"{path}:{reader.line_num}"
            if len(row) != len(header):
                values = "1 value" if len(row) == 1 else f"{len(row)} values"
                raise InputError(
                    where, None, f"has {values} but the header has {len(header)} columns"
                )
            yield where, [row[index].strip() for index in order]
    except csv.Error as exc:
        raise InputError(f"{path}:{reader.line_num}", None, f"is not valid CSV: {exc}") from None


def _cell(value: str, where: str, column: str) -> str:
    """A CSV value that must not be empty."""
    if not value:
        raise InputError(f"{where}: {column}", None, "is missing")
    return value


def _require(raw: Mapping[str, Any], names: Sequence[str], where: str, needs: str) -> None:
    """An `InputError` for the first of `names` absent from `raw`: `where.name is missing:
    <needs> a, b and c`. Required fields are never defaulted."""
    for name in names:
        if name not in raw:
            listed = f"{', '.join(names[:-1])} and {names[-1]}"
            raise InputError(f"{where}.{name}", None, f"is missing: {needs} {listed}")


def summary_to_holdings(raw: object, where: str) -> Holdings:
    """Holdings from one portfolio-accounting summary; `where` prefixes field names in errors.

    portfolioId, cashBalance and securities are required, and so are securityId and
    netQuantity in each security: a missing one is an error, never zero or nothing held.
    """
    if not isinstance(raw, Mapping):
        raise InputError(where, None, f"must be a portfolio summary object, not {value_kind(raw)}")
    unknown = sorted(set(raw) - SUMMARY_FIELDS)
    if unknown:
        raise InputError(
            f"{where}.{unknown[0]}",
            None,
            "is not a field of a portfolio summary: the fields are portfolioId, cashBalance, "
            "securities, securityCount and lastUpdated",
        )
    _require(raw, SUMMARY_REQUIRED, where, "a portfolio summary needs")
    portfolio_id = parse_globeco_id(raw["portfolioId"], f"{where}.portfolioId")
    cash = parse_cash(raw["cashBalance"], f"{where}.cashBalance")
    securities = raw["securities"]
    if not isinstance(securities, list):
        raise InputError(
            f"{where}.securities",
            None,
            f"must be a list of {{securityId, netQuantity}}, not {value_kind(securities)}",
        )
    quantities: dict[str, int] = {}
    for index, item in enumerate(securities):
        item_where = f"{where}.securities[{index}]"
        if not isinstance(item, Mapping):
            raise InputError(
                item_where,
                None,
                f"must be an object {{securityId, netQuantity}}, not {value_kind(item)}",
            )
        _require(item, HOLDING_REQUIRED, item_where, "each security needs")
        security_id = parse_globeco_id(item["securityId"], f"{item_where}.securityId")
        if security_id in quantities:
            raise InputError(
                f"{item_where}.securityId",
                security_id,
                "is a duplicate security: each appears once per portfolio",
            )
        quantities[security_id] = parse_whole_number(
            item["netQuantity"], f"{item_where}.netQuantity"
        )
    return Holdings(portfolio_id, cash, quantities)


def _add_portfolio(found: dict[str, Holdings], holdings: Holdings, where: str) -> None:
    if holdings.portfolio_id in found:
        raise InputError(
            where,
            holdings.portfolio_id,
            "is a duplicate portfolio: each appears once in a positions file",
        )
    found[holdings.portfolio_id] = holdings


def _positions_csv(path: Path, data: bytes) -> dict[str, Holdings]:
    cash: dict[str, Decimal] = {}
    quantities: dict[str, dict[str, int]] = {}
    rows = _csv_rows(path, POSITIONS_COLUMNS, POSITIONS_WHAT, data)
    for where, (portfolio, security, quantity) in rows:
        portfolio_id = parse_globeco_id(
            _cell(portfolio, where, "portfolio_id"), f"{where}: portfolio_id"
        )
        held = quantities.setdefault(portfolio_id, {})
        amount = _cell(quantity, where, "quantity")
        if not security:  # an empty security id is the cash balance
            if portfolio_id in cash:
                raise InputError(
                    f"{where}: security_id",
                    None,
                    f"is empty a second time for portfolio {portfolio_id}: "
                    "give one cash row per portfolio",
                )
            cash[portfolio_id] = parse_cash(amount, f"{where}: quantity")
            continue
        security_id = parse_globeco_id(security, f"{where}: security_id")
        if security_id in held:
            raise InputError(
                f"{where}: security_id",
                security_id,
                "is a duplicate security: each appears once per portfolio",
            )
        held[security_id] = parse_whole_number(amount, f"{where}: quantity")
    found: dict[str, Holdings] = {}
    for portfolio_id, held in quantities.items():
        if portfolio_id not in cash:
            raise InputError(
                f"{path}: portfolio {portfolio_id}",
                None,
                "has no cash row: give its cash balance in a row with an empty security_id",
            )
        found[portfolio_id] = Holdings(portfolio_id, cash[portfolio_id], held)
    return found


def read_positions(path: Path, data: bytes | None = None) -> dict[str, Holdings]:
    """Holdings by portfolio id from a JSON list of summaries or a CSV of quantities.

    In a CSV file every portfolio needs its cash row (an empty security_id). `data`
    holds the file's bytes if they were read already (`read_input`).

    Files in the usual shape are read in bulk (ordergen.io.fast_positions); any other
    file, including every wrong one, is read value by value below, which words the
    first problem.
    """
    if data is None:
        data = read_input(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        fast = csv_positions(data)
    else:
        fast = None if suffix in YAML_SUFFIXES else json_positions(data)
    return read_positions_per_value(path, data) if fast is None else fast


def read_positions_per_value(path: Path, data: bytes) -> dict[str, Holdings]:
    """`read_positions` value by value, in file order: the reader that words every error."""
    if path.suffix.lower() == ".csv":
        return _positions_csv(path, data)
    raw = load_structured(path, POSITIONS_WHAT, data)
    if not isinstance(raw, list):
        raise InputError(
            str(path), None, f"must hold a JSON list of portfolio summaries, not {value_kind(raw)}"
        )
    found: dict[str, Holdings] = {}
    for index, item in enumerate(raw):
        where = f"{path}: [{index}]"
        _add_portfolio(found, summary_to_holdings(item, where), f"{where}.portfolioId")
    return found


def read_prices(path: Path, data: bytes | None = None) -> dict[str, Decimal]:
    """Prices by security id from a JSON object or a CSV of security_id,price (`data`:
    the file's bytes if they were read already)."""
    prices: dict[str, Decimal] = {}
    if data is None:
        data = read_input(path)
    if path.suffix.lower() == ".csv":
        for where, (security, price) in _csv_rows(path, PRICES_COLUMNS, PRICES_WHAT, data):
            security_id = parse_globeco_id(
                _cell(security, where, "security_id"), f"{where}: security_id"
            )
            if security_id in prices:
                raise InputError(
                    f"{where}: security_id",
                    security_id,
                    "is a duplicate security: each has one price",
                )
            prices[security_id] = parse_price(_cell(price, where, "price"), f"{where}: price")
        return prices
    raw = load_structured(path, PRICES_WHAT, data)
    if not isinstance(raw, Mapping):
        raise InputError(
            str(path), None, f"must hold a JSON object {{securityId: price}}, not {value_kind(raw)}"
        )
    for security_id, value in raw.items():
        parse_globeco_id(security_id, f"{path}: security id")
        prices[security_id] = parse_price(value, f"{path}: {security_id}")
    return prices


class InputDigest:
    """SHA-256 naming a run by what went in: each file's bytes, then each string, every
    one followed by a NUL byte. Files are added as they are read, so their bytes can be
    dropped once parsed."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()

    def add(self, content: bytes) -> None:
        self._hash.update(content)
        self._hash.update(b"\0")

    def hexdigest(self, *extra: str) -> str:
        for text in extra:
            self._hash.update(text.encode())
            self._hash.update(b"\0")
        return self._hash.hexdigest()


def content_digest(contents: Iterable[bytes], *extra: str) -> str:
    """The `InputDigest` of `contents` (files' bytes) and the `extra` strings."""
    digest = InputDigest()
    for content in contents:
        digest.add(content)
    return digest.hexdigest(*extra)
