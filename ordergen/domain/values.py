"""Parsing of the scalar values that arrive in files and service payloads, and their limits.

Numbers may come as JSON numbers or as decimal strings (the GlobeCo convention);
either way they become `Decimal` so money and weights are exact.

Every number is checked against what the domain can hold before any arithmetic
uses it. The limits are chosen so that everything computed downstream stays exact
and cannot overflow:

- A price is between `MIN_PRICE` (0.001) and `MAX_PRICE` (1e9), with at most
  `MAX_PLACES` (8) decimal places; a cash balance is within +-`MAX_AMOUNT` (1e12)
  with at most 8 places; a quantity is a whole number within +-`MAX_QUANTITY` (1e15).
- `market_value` (ordergen.domain.holdings) also holds each holding's value
  (quantity x price) and the market value itself within +-`MAX_AMOUNT`.

Why these numbers:

- Decimal arithmetic runs in the default context (28 significant digits). A
  holding's value within 1e12 with at most 8 places has at most 21 digits, so the
  product is exact; a market value summed from fewer than 10**7 such terms stays
  within 28 digits, so the sum is exact too, and quantizing it to 3 places needs
  at most 16 digits.
- Share counts: the solver works with whole numbers of shares up to
  MV x (target + highDrift) / price <= 1e12 x 1.95 / 0.001 = 1.95e15, below 2**53
  (about 9.007e15). They are exact in float64 (the screening's Fraction fallback
  rounds to a whole number stored in float64) and far inside int64.
- Weights: a weight is |value| / MV with MV >= 0.001 when positive (3 places),
  at most about 2e12 / 0.001 = 2e15; quantized to 4 places that is 20 digits.
- Bands: MV x (target +- drift), drifts having at most 8 places and targets 3,
  has at most 13 + 11 = 24 digits.
- A price of at least 0.001 also keeps `weight / price` finite in float64 (a
  price of 1e-400 used to become 0.0 and divide by zero).
"""

import re
from decimal import Decimal, InvalidOperation
from typing import overload

from ordergen.errors import InputError

GLOBECO_ID = re.compile(r"^[A-Za-z0-9]{24}$")

MIN_PRICE = Decimal("0.001")
"""The smallest price: with `MAX_AMOUNT` it bounds share counts by 1.95e15 < 2**53."""
MAX_PRICE = Decimal("1e9")
"""The largest price (far above any listed share in any currency the suite uses)."""
MAX_PLACES = 8
"""Decimal places allowed in a price, a cash balance and a drift (bonds in 1/256ths need 8)."""
MAX_AMOUNT = Decimal("1e12")
"""The largest cash balance, holding value and market value, in either direction."""
MAX_QUANTITY = 10**15
"""The largest quantity, long or short: MAX_AMOUNT / MIN_PRICE, exact in float64."""

_PLACES_STEP = Decimal(1).scaleb(-MAX_PLACES)
_MAX_QUANTITY_DECIMAL = Decimal(MAX_QUANTITY)


def limit_text(limit: Decimal | int) -> str:
    """A limit as people write it: 1e9 rather than 1000000000 or 1E+9."""
    number = Decimal(limit)
    exponent = number.adjusted()
    if exponent >= 6 and number == Decimal(1).scaleb(exponent):
        return f"1e{exponent}"
    return f"{number.normalize():f}"


PRICE_RULE = (
    f"a price must be between {limit_text(MIN_PRICE)} and {limit_text(MAX_PRICE)} "
    f"with at most {MAX_PLACES} decimal places"
)
CASH_RULE = (
    f"a cash balance must be between -{limit_text(MAX_AMOUNT)} and {limit_text(MAX_AMOUNT)} "
    f"with at most {MAX_PLACES} decimal places"
)
QUANTITY_RULE = (
    f"a quantity must be a whole number of shares between -{limit_text(MAX_QUANTITY)} "
    f"and {limit_text(MAX_QUANTITY)}"
)


@overload
def decimal_text(value: Decimal) -> str: ...
@overload
def decimal_text(value: None) -> None: ...
def decimal_text(value: Decimal | None) -> str | None:
    """A Decimal as exact plain digits (never an exponent), or None; how values are written."""
    return None if value is None else f"{value:f}"


def parse_decimal(value: object, field: str) -> Decimal:
    """A finite Decimal from a number or a decimal string, or an `InputError` naming `field`.

    Only finiteness is checked here; the callers check the range their field allows.
    """
    if value is None:
        raise InputError(field, None, "is null: expected a number or a decimal string")
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise InputError(field, value, "is not a number or a decimal string")
    try:
        # str() keeps a float's shortest repr (0.1 -> "0.1"), not its binary expansion.
        number = Decimal(value.strip() if isinstance(value, str) else str(value))
    except (InvalidOperation, ValueError):
        # ValueError: an int too long for str() (more than 4300 digits).
        raise InputError(field, value, "is not a decimal number") from None
    if not number.is_finite():
        raise InputError(field, value, "is not a finite number")
    return number


def at_most_places(number: Decimal, value: object, field: str, rule: str) -> Decimal:
    """`number` with an exponent of at least -MAX_PLACES, or an `InputError`.

    Trailing zeros beyond the limit are dropped ("1.500000000" is 1.5); other digits
    there are refused. The exponent is compared first: no rounding on the usual path.
    """
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)  # finite numbers only reach here
    if exponent >= -MAX_PLACES:
        return number
    # Only reached with a number already inside its range, so quantize cannot overflow.
    shortened = number.quantize(_PLACES_STEP)
    if shortened != number:
        raise InputError(field, value, f"has too many decimal places: {rule}")
    return shortened


def parse_price(value: object, field: str) -> Decimal:
    """A price within [MIN_PRICE, MAX_PRICE] with at most MAX_PLACES places, or an `InputError`."""
    price = parse_decimal(value, field)
    if price <= 0:
        raise InputError(field, value, f"is not positive: {PRICE_RULE}")
    if not MIN_PRICE <= price <= MAX_PRICE:
        raise InputError(field, value, f"is out of range: {PRICE_RULE}")
    return at_most_places(price, value, field, PRICE_RULE)


def parse_cash(value: object, field: str) -> Decimal:
    """A cash balance within +-MAX_AMOUNT with at most MAX_PLACES places, or an `InputError`."""
    cash = parse_decimal(value, field)
    if not -MAX_AMOUNT <= cash <= MAX_AMOUNT:
        raise InputError(field, value, f"is out of range: {CASH_RULE}")
    return at_most_places(cash, value, field, CASH_RULE)


def parse_whole_number(value: object, field: str) -> int:
    """A quantity: an integer within +-MAX_QUANTITY from a number or a string such as
    "100" or "100.00"; fractions are refused."""
    # The common cases need no Decimal: a JSON integer, or a string of at most 15 digits
    # (so below MAX_QUANTITY; isdecimal admits exactly the digits int() reads).
    if type(value) is int:
        if -MAX_QUANTITY <= value <= MAX_QUANTITY:
            return value
        raise InputError(field, value, f"is out of range: {QUANTITY_RULE}")
    if type(value) is str and len(value) <= 15 and value.isdecimal():
        return int(value)
    number = parse_decimal(value, field)
    # The range first: int() of 1e400 would build a 400-digit integer.
    if not -_MAX_QUANTITY_DECIMAL <= number <= _MAX_QUANTITY_DECIMAL:
        raise InputError(field, value, f"is out of range: {QUANTITY_RULE}")
    if number != number.to_integral_value():
        raise InputError(field, value, f"is not a whole number: {QUANTITY_RULE}")
    return int(number)


def parse_globeco_id(value: object, field: str) -> str:
    """A GlobeCo id: 24 alphanumeric characters (a MongoDB ObjectId in hex)."""
    if value is None:
        raise InputError(field, None, "is null: expected a 24-character alphanumeric id")
    if not isinstance(value, str) or not GLOBECO_ID.fullmatch(value):
        raise InputError(field, value, "is not a 24-character alphanumeric id")
    return value
