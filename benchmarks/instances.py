"""The benchmark's instances: the large generated model, and the samples its answers are
scored on.

- The large model: `ordergen.demo.generate` (seed 11 by default, 10,000 portfolios x 100
  securities), as files and as the values ordergen reads from them. It is timed.
- The scored sample, in two parts, each its own model:
  - "drawn": portfolios drawn at random from the large model (some infeasible);
  - "floor-binding": a model built so the cash floor binds: 100 securities priced
    near each one's target value, so that each security's nearest whole-share holding
    rounds up more often than not and together they spend more than the market value.
    Its portfolios hold shares near target (they were rebalanced once, then drifted),
    so that a withdrawal binds under a policy too.
"""

import math
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from ordergen.demo import DemoData, generate
from ordergen.domain.holdings import Holdings, market_value
from ordergen.domain.model import InvestmentModel, validate_model
from ordergen.io.files import read_positions, read_prices
from ordergen.io.inputs_out import write_inputs
from ordergen.optimize.problem import ModelTerms

FLOOR_BINDING_STEPS = 190
"""Targets are multiples of 0.005 summing to 0.95: 190 steps shared as evenly as they go."""
FLOOR_BINDING_DRIFTS = ("0.01", "0.015")
FLOOR_BINDING_PRICES = (0.25, 2.5)
"""Prices as multiples of a security's mean target value at the middle market value."""
FLOOR_BINDING_VALUES = (45_000.0, 110_000.0)


@dataclass(frozen=True)
class Instances:
    """The portfolios with balances of one model, as files and as the values ordergen reads."""

    data: DemoData
    model: InvestmentModel
    portfolio_ids: list[str]
    holdings: list[Holdings]
    prices: dict[str, Decimal]
    terms: ModelTerms
    market_values: list[Decimal]
    files: tuple[Path, Path, Path]


def load(directory: Path, data: DemoData) -> Instances:
    """`data` written as a run's three files in `directory`, and read back by ordergen."""
    directory.mkdir(parents=True, exist_ok=True)
    files = write_inputs(directory, data.model, data.summaries, data.prices)
    model = validate_model(data.model)
    prices = read_prices(files[2])
    found = read_positions(files[1])
    ids, holdings, values = [], [], []
    for pid in model.portfolios:
        value = market_value(found[pid], prices)
        if value > 0:
            ids.append(pid)
            holdings.append(found[pid])
            values.append(value)
    terms = ModelTerms(
        model.security_ids,
        tuple(p.target for p in model.positions),
        tuple(p.low_drift for p in model.positions),
        tuple(p.high_drift for p in model.positions),
        tuple(prices[sid] for sid in model.security_ids),
    )
    return Instances(data, model, ids, holdings, prices, terms, values, files)


def build(directory: Path, portfolios: int, securities: int, seed: int) -> Instances:
    """The large model, drawn by `ordergen.demo.generate` (holdings at random around target)."""
    return load(directory, generate(seed=seed, portfolios=portfolios, securities=securities))


def drawn(instances: Instances, size: int, seed: int) -> DemoData:
    """`size` portfolios with balances drawn at random from `instances`, in model order."""
    rng = np.random.default_rng(seed)
    chosen = set(
        rng.choice(
            instances.portfolio_ids, size=min(size, len(instances.portfolio_ids)), replace=False
        ).tolist()
    )
    summaries = [s for s in instances.data.summaries if s["portfolioId"] in chosen]
    model = {**instances.data.model, "portfolios": [s["portfolioId"] for s in summaries]}
    return DemoData(model, summaries, instances.data.prices)


def floor_binding(size: int, seed: int, securities: int = 100) -> DemoData:
    """A model and `size` portfolios built so that the cash floor binds (module docstring).

    A drawn market value is kept only when the securities' nearest whole-share holdings
    (clipped to their bands) cost more than it, in floats with a margin of a cent:
    whether the floor then changes the optimum is the reference's to say.
    """
    rng = np.random.default_rng(seed)
    ids = ["".join(f"{d:x}" for d in row) for row in rng.integers(0, 16, (securities + size, 24))]
    least, most = FLOOR_BINDING_VALUES
    typical = math.sqrt(least * most) * 0.95 / securities
    low, high = (typical * multiple for multiple in FLOOR_BINDING_PRICES)
    prices = np.round(np.exp(rng.uniform(math.log(low), math.log(high), securities)), 2)
    drifts = rng.choice(FLOOR_BINDING_DRIFTS, securities)
    steps, wider = divmod(FLOOR_BINDING_STEPS, securities)
    targets = np.array([str(Decimal("0.005") * (steps + (i < wider))) for i in range(securities)])
    model: dict[str, Any] = {
        "name": f"floor-binding-{securities}",
        "positions": [
            {"securityId": sid, "target": t, "lowDrift": d, "highDrift": d}
            for sid, t, d in zip(ids[:securities], targets, drifts, strict=True)
        ],
        "portfolios": ids[securities:],
    }
    weights = targets.astype(float)
    highs = weights + drifts.astype(float)
    summaries: list[dict[str, Any]] = []
    attempts = 0
    while len(summaries) < size:
        attempts += 1
        if attempts > 1000 * size:
            raise RuntimeError(f"no {size} floor-binding portfolios for {securities} securities")
        value = math.exp(rng.uniform(math.log(least), math.log(most)))
        nearest = np.minimum(np.rint(value * weights / prices), np.floor(value * highs / prices))
        if float(nearest @ prices) <= value + 0.01:
            continue
        held = np.floor(nearest * rng.lognormal(0.0, 0.3, securities)).astype(int)
        cash = value - float(held @ prices)
        if cash < 0:
            continue
        summaries.append(
            {
                "portfolioId": ids[securities + len(summaries)],
                "cashBalance": f"{cash:.2f}",
                "securities": [
                    {"securityId": sid, "netQuantity": str(int(q))}
                    for sid, q in zip(ids[:securities], held, strict=True)
                    if q
                ],
            }
        )
    price_text = {sid: f"{p:.2f}" for sid, p in zip(ids[:securities], prices, strict=True)}
    return DemoData(model, summaries, price_text)
