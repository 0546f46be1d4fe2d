"""How the report writes numbers: money with thousands grouping, weights as percentages."""

from decimal import Decimal

WEIGHT_PLACES = 4
"""Weights and drifts in the orders file have 4 decimal places: 2 as a percentage."""


def money(value: Decimal | None) -> str:
    """`value` with its digits as given and the integer part grouped: "1,234,567.891"."""
    if value is None:
        return "-"
    return f"{value:,f}"


def percent(value: Decimal | None) -> str:
    """A weight (a fraction) as a percentage with the orders file's precision: "12.11%"."""
    if value is None:
        return "-"
    return f"{value * 100:.{WEIGHT_PLACES - 2}f}%"
