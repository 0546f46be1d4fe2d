"""A portfolio's cash and share quantities, and its market value."""

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from operator import mul

from ordergen.domain.values import MAX_AMOUNT, decimal_text, limit_text
from ordergen.errors import InputError

MONEY_PLACES = Decimal("0.001")
AMOUNT_RULE = f"must be between -{limit_text(MAX_AMOUNT)} and {limit_text(MAX_AMOUNT)}"

# Below this, a float64 sum of |cash| and the |quantity x price| terms proves the exact
# sum is within MAX_AMOUNT: each term is off by at most 3 units in the last place, the
# sum by one more per term, far less than this margin of 1e-6 for any real portfolio
# (the margin covers up to about 1e9 holdings).
_SCREEN_LIMIT = float(MAX_AMOUNT) * (1 - 1e-6)


@dataclass(frozen=True)
class Holdings:
    """What one portfolio holds. Quantities may be negative (short); cash may be negative.

    `has_record` is False when the source had no balance record at all (MV 0).
    `load_error` says why the holdings could not be loaded (for example a service
    that failed); such a portfolio is reported as an `error`, never traded.
    """

    portfolio_id: str
    cash: Decimal
    quantities: Mapping[str, int] = field(default_factory=dict)
    has_record: bool = True
    load_error: str | None = None


def market_value(holdings: Holdings, prices: Mapping[str, Decimal]) -> Decimal:
    """Cash plus every holding at its price, rounded to 3 dp half-up.

    A held security without a price is an error, never silently left out of MV.
    Each holding's value and the total must lie within +-`MAX_AMOUNT`: with the
    per-value limits of ordergen.domain.values every sum here is then exact in the
    default 28-digit context, and every weight and share count derived from the
    market value downstream stays exact (the reasoning is in that module).

    Raises
    ------
    InputError
        A held security has no price, or a holding's value or the market value is
        out of range; the message names the portfolio.
    """
    total = holdings.cash
    for security_id, quantity in holdings.quantities.items():
        if quantity == 0:
            continue
        price = prices.get(security_id)
        if price is None:
            raise InputError(
                f"prices.{security_id}",
                None,
                f"is missing: there is no price for a security held by {holdings.portfolio_id}",
            )
        value = quantity * price
        # Exact: |quantity| <= 1e15 and a price has at most 17 digits, but a product worth
        # more than MAX_AMOUNT is refused before it joins a sum.
        if abs(value) > MAX_AMOUNT:
            raise InputError(
                f"portfolio {holdings.portfolio_id}",
                None,
                f"has a holding of {quantity} shares of {security_id} at {decimal_text(price)}, "
                f"worth {decimal_text(value)}: the value of a holding {AMOUNT_RULE}",
            )
        total += value
    if abs(total) > MAX_AMOUNT:
        raise InputError(
            f"portfolio {holdings.portfolio_id}",
            None,
            f"has a market value of {decimal_text(total)}: a market value {AMOUNT_RULE}",
        )
    return total.quantize(MONEY_PLACES, rounding=ROUND_HALF_UP)


def check_market_values(
    holdings: Iterable[Holdings], prices: Mapping[str, Decimal], source: str = ""
) -> None:
    """Check every portfolio's market value before a run starts (`market_value` per portfolio).

    Each value was checked on its own when read; this checks them together, so a
    holding worth more than `MAX_AMOUNT` (or such a market value) is an input error
    before anything is written rather than in the middle of a run. Portfolios with a
    `load_error`, or holding a security without a price, are left to the batch (it
    reports them per portfolio). `source` (a file name) prefixes the error's field.

    Raises
    ------
    InputError
        The first portfolio whose holding value or market value is out of range.
    """
    # Screening in float64 first: a bound on the sum of |cash| and every |holding value|
    # that is clearly inside the limit proves every value and the market value are, so
    # the exact Decimal check is needed only near the limit (or when a price is missing).
    try:
        float_prices = {security_id: float(price) for security_id, price in prices.items()}
    except ValueError:  # a signalling NaN: no screening, every portfolio checked exactly
        float_prices = {}
    for item in holdings:
        if item.load_error is not None:
            continue
        quantities = item.quantities
        try:
            bound = abs(float(item.cash)) + sum(
                map(abs, map(mul, quantities.values(), map(float_prices.__getitem__, quantities)))
            )
        except (KeyError, OverflowError, ValueError):  # no price; a quantity beyond float
            bound = math.inf
        if bound <= _SCREEN_LIMIT:
            continue
        if any(units and sid not in prices for sid, units in quantities.items()):
            continue
        try:
            market_value(item, prices)
        except InputError as exc:
            if not source:
                raise
            raise InputError(f"{source}: {exc.field}", exc.value, exc.problem) from None
