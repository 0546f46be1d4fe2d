"""A seeded, realistic demo data set: one model, its portfolios, their holdings, prices.

Used by `ordergen demo`, the benchmark and the tests. Everything is drawn from one
numpy generator, so a seed always gives the same files.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

TARGET_STEP = 0.005

DESK_POLICY: dict[str, Any] = {
    "trigger": "outside-bands",
    "innerBand": "0.875",
    "minTrade": {"amount": "100"},
    "cashReserve": {"fraction": "0.01"},
    "tradeCost": {"perOrder": "5"},
}
"""A sensible operations desk's policy (docs/policies.md): trade only portfolios outside
their bands, back to 7/8 of the way to the band edge, no ticket under $100, keep 1% in
cash, and weigh $5 per order. The demo and the benchmark compare it with no policy."""


@dataclass(frozen=True)
class DemoData:
    model: dict[str, Any]
    summaries: list[dict[str, Any]]
    prices: dict[str, str]


def _ids(rng: np.random.Generator, count: int) -> list[str]:
    raw = rng.integers(0, 16, size=(count, 24))
    return ["".join(f"{digit:x}" for digit in row) for row in raw]


def _targets(rng: np.random.Generator, count: int, total: float) -> list[Decimal]:
    """`count` multiples of 0.005, each > 0, summing to at most `total`."""
    steps = round(total / TARGET_STEP)
    shares = rng.dirichlet(np.full(count, 2.0)) * (steps - count)
    units = 1 + np.floor(shares).astype(int)
    leftover = steps - int(units.sum())
    units[np.argsort(np.floor(shares) - shares)[:leftover]] += 1  # largest remainders first
    return [Decimal(int(u)) * Decimal("0.005") for u in units]


def generate(
    seed: int = 7,
    portfolios: int = 300,
    securities: int = 30,
    *,
    empty_share: float = 0.01,
    outside_share: float = 0.1,
) -> DemoData:
    """A model of `securities` positions held by `portfolios` portfolios.

    Market values are log-normal (median about $250k), holdings drift from target,
    some portfolios hold a security outside the model, a few have no balances, and
    the smallest cannot fit their bands: every status shows up.
    """
    rng = np.random.default_rng(seed)
    ids = _ids(rng, securities + 5 + portfolios)
    model_ids, outside_ids, portfolio_ids = (
        ids[:securities],
        ids[securities : securities + 5],
        ids[securities + 5 :],
    )
    prices = np.round(np.exp(rng.normal(np.log(60), 0.9, size=securities + 5)).clip(2, 2000), 2)
    price_text = {
        sid: f"{price:.2f}" for sid, price in zip(model_ids + outside_ids, prices, strict=True)
    }
    targets = _targets(rng, securities, 0.95 - 0.005 * int(rng.integers(0, 4)))
    drift = [Decimal(str(d)) for d in rng.choice([0.005, 0.01, 0.015, 0.02], size=securities)]
    model = {
        "name": f"demo-{securities}",
        "positions": [
            {"securityId": sid, "target": str(t), "lowDrift": str(d), "highDrift": str(d)}
            for sid, t, d in zip(model_ids, targets, drift, strict=True)
        ],
        "portfolios": portfolio_ids,
    }
    weights = np.array([float(t) for t in targets])
    summaries: list[dict[str, Any]] = []
    for pid in portfolio_ids:
        if rng.random() < empty_share:
            summaries.append({"portfolioId": pid, "cashBalance": "0.00", "securities": []})
            continue
        mv = float(np.exp(rng.normal(np.log(250_000), 1.3)))
        held = weights * rng.lognormal(0.0, 0.25, size=securities) * mv / prices[:securities]
        quantities = np.floor(held * (rng.random(securities) > 0.05)).astype(int)
        securities_held = [
            {"securityId": sid, "netQuantity": str(int(q))}
            for sid, q in zip(model_ids, quantities, strict=True)
            if q
        ]
        spent = float(quantities @ prices[:securities])
        if rng.random() < outside_share:
            pick = int(rng.integers(0, len(outside_ids)))
            units = int(rng.integers(1, 50))
            securities_held.append({"securityId": outside_ids[pick], "netQuantity": str(units)})
            spent += units * prices[securities + pick]
        cash = max(mv - spent, 0.0) + rng.uniform(0, 0.02) * mv
        summaries.append(
            {"portfolioId": pid, "cashBalance": f"{cash:.2f}", "securities": securities_held}
        )
    return DemoData(model, summaries, price_text)
