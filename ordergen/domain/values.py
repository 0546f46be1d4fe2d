"""Parsing of the scalar values that arrive in files and service payloads.

Numbers may come as JSON numbers or as decimal strings (the GlobeCo convention);
either way they become `Decimal` so money and weights are exact.
"""

import re
from decimal import Decimal, InvalidOperation
from typing import overload

from ordergen.errors import InputError

GLOBECO_ID = re.compile(r"^[A-Za-z0-9]{24}$")


@overload
def decimal_text(value: Decimal) -> str: ...
@overload
def decimal_text(value: None) -> None: ...
def decimal_text(value: Decimal | None) -> str | None:
    """A Decimal as exact plain digits (never an exponent), or None; how values are written."""
    return None if value is None else f"{value:f}"


def parse_decimal(value: object, field: str) -> Decimal:
    """A finite Decimal from a number or a decimal string, or an `InputError` naming `field`."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise InputError(field, value, "expected a number or a decimal string")
    try:
        # str() keeps a float's shortest repr (0.1 -> "0.1"), not its binary expansion.
        number = Decimal(value.strip() if isinstance(value, str) else str(value))
    except InvalidOperation:
        raise InputError(field, value, "not a decimal number") from None
    if not number.is_finite():
        raise InputError(field, value, "must be a finite number")
    return number


def parse_price(value: object, field: str) -> Decimal:
    """A price: a decimal greater than zero, or an `InputError` naming `field`."""
    price = parse_decimal(value, field)
    if price <= 0:
        raise InputError(field, value, "price must be positive")
    return price


def parse_whole_number(value: object, field: str) -> int:
    """An integer from a number or string such as "100" or "100.00"; fractions are refused."""
    number = parse_decimal(value, field)
    if number != number.to_integral_value():
        raise InputError(field, value, "must be a whole number of shares")
    return int(number)


def parse_globeco_id(value: object, field: str) -> str:
    """A GlobeCo id: 24 alphanumeric characters (a MongoDB ObjectId in hex)."""
    if not isinstance(value, str) or not GLOBECO_ID.fullmatch(value):
        raise InputError(field, value, "expected a 24-character alphanumeric id")
    return value
