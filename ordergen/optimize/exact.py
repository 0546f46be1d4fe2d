"""Integer rounding of MV*w/p that is exact even where float64 lands on a boundary.

Float64 gets almost every entry right; the ones within a hair of an integer are
recomputed with `Fraction`, so a band edge that is exactly a whole number of
shares is never lost to a rounding error.
"""

import math
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction

import numpy as np

from ordergen.optimize.problem import FloatArray, IntArray

# Far above float64's few-ulp error, far below any real fractional part.
NEAR_INTEGER = 1e-9


def _near_integer(values: FloatArray) -> np.ndarray:
    return np.abs(values - np.rint(values)) <= NEAR_INTEGER * np.maximum(1.0, np.abs(values))


def round_share_counts(
    market_values: Sequence[Decimal],
    weights: Sequence[Decimal],
    prices: Sequence[Decimal],
    *,
    mode: str,
    offset: Fraction = Fraction(0),
) -> IntArray:
    """`ceil` or `floor` of MV_k*w_i/p_i + offset for every portfolio k and security i.

    Returns an int64 array of shape (len(market_values), len(weights)).
    """
    if mode not in ("ceil", "floor"):
        raise ValueError(f"mode must be ceil or floor, not {mode!r}")
    mv = np.array([float(value) for value in market_values], dtype=np.float64)
    ratio = np.array([float(w) / float(p) for w, p in zip(weights, prices, strict=True)])
    shares = np.outer(mv, ratio) + float(offset)
    rounded = np.ceil(shares) if mode == "ceil" else np.floor(shares)
    exact_round = math.ceil if mode == "ceil" else math.floor
    # A zero weight gives exactly 0.0 + offset in float too: no need to recompute those.
    near = _near_integer(shares) & (ratio != 0)[None, :]
    rows, cols = np.nonzero(near)
    for row, col in zip(rows.tolist(), cols.tolist(), strict=True):
        exact = Fraction(market_values[row]) * Fraction(weights[col]) / Fraction(prices[col])
        rounded[row, col] = exact_round(exact + offset)
    return rounded.astype(np.int64)


def spend_exceeds(
    quantities: IntArray,
    prices: Sequence[Decimal],
    market_values: Sequence[Decimal],
) -> np.ndarray:
    """Whether sum_i u_ki*p_i > MV_k for each portfolio k, exactly."""
    price_floats = np.array([float(price) for price in prices], dtype=np.float64)
    spend = quantities.astype(np.float64) @ price_floats
    mv = np.array([float(value) for value in market_values], dtype=np.float64)
    exceeds = spend > mv
    close = np.abs(spend - mv) <= NEAR_INTEGER * np.maximum(1.0, np.abs(mv))
    for row in np.nonzero(close)[0].tolist():
        exact_spend = sum(
            (int(units) * price for units, price in zip(quantities[row], prices, strict=True)),
            Decimal(0),
        )
        exceeds[row] = exact_spend > market_values[row]
    return exceeds
