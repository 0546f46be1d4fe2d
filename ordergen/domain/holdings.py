"""A portfolio's cash and share quantities, and its market value."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from ordergen.errors import InputError

MONEY_PLACES = Decimal("0.001")


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
                f"no price for a security held by {holdings.portfolio_id}",
            )
        total += quantity * price
    return total.quantize(MONEY_PLACES, rounding=ROUND_HALF_UP)
