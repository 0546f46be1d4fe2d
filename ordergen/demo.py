"""Seeded, realistic demo data sets: one model, its portfolios, their holdings, prices.

Two stories share the model's securities, targets and today's prices:

- `generate` (the benchmark and the tests): holdings drawn at random around target,
  so every portfolio is some way outside its bands and every one is traded.
- `scheduled_run` (`ordergen demo`): portfolios put on model at their last rebalance,
  which have drifted since with price moves and cash flows, as a scheduled run finds
  them: most are within their bands and left alone under `DESK_POLICY`, some are traded.

Everything is drawn from one numpy generator, so a seed always gives the same files.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

TARGET_STEP = 0.005
OUTSIDE_SECURITIES = 5
"""Securities outside the model, which a few portfolios hold."""

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

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


@dataclass(frozen=True)
class DemoData:
    model: dict[str, Any]
    summaries: list[dict[str, Any]]
    prices: dict[str, str]


@dataclass(frozen=True)
class _Universe:
    """The ids of a data set and today's prices: the model's securities, then the
    securities outside it."""

    model_ids: list[str]
    outside_ids: list[str]
    portfolio_ids: list[str]
    prices: Floats

    def price_text(self) -> dict[str, str]:
        ids = self.model_ids + self.outside_ids
        return {sid: f"{price:.2f}" for sid, price in zip(ids, self.prices, strict=True)}


def _ids(rng: np.random.Generator, count: int) -> list[str]:
    raw = rng.integers(0, 16, size=(count, 24))
    return ["".join(f"{digit:x}" for digit in row) for row in raw]


def _universe(rng: np.random.Generator, securities: int, portfolios: int) -> _Universe:
    ids = _ids(rng, securities + OUTSIDE_SECURITIES + portfolios)
    outside_end = securities + OUTSIDE_SECURITIES
    prices = np.exp(rng.normal(np.log(60), 0.9, size=outside_end)).clip(2, 2000)
    return _Universe(
        ids[:securities], ids[securities:outside_end], ids[outside_end:], np.round(prices, 2)
    )


def _targets(rng: np.random.Generator, count: int, total: float) -> list[Decimal]:
    """`count` multiples of 0.005, each > 0, summing to at most `total`."""
    steps = round(total / TARGET_STEP)
    shares = rng.dirichlet(np.full(count, 2.0)) * (steps - count)
    units = 1 + np.floor(shares).astype(int)
    leftover = steps - int(units.sum())
    units[np.argsort(np.floor(shares) - shares)[:leftover]] += 1  # largest remainders first
    return [Decimal(int(u)) * Decimal("0.005") for u in units]


def _model_targets(rng: np.random.Generator, securities: int) -> list[Decimal]:
    """The model's targets: 93.5% to 95% of market value invested, the rest in cash."""
    return _targets(rng, securities, 0.95 - 0.005 * int(rng.integers(0, 4)))


def _model(universe: _Universe, targets: list[Decimal], drifts: list[Decimal]) -> dict[str, Any]:
    """The model document, each band symmetric (low and high drift alike)."""
    return {
        "name": f"demo-{len(universe.model_ids)}",
        "positions": [
            {"securityId": sid, "target": str(t), "lowDrift": str(d), "highDrift": str(d)}
            for sid, t, d in zip(universe.model_ids, targets, drifts, strict=True)
        ],
        "portfolios": universe.portfolio_ids,
    }


def _outside_holding(rng: np.random.Generator, universe: _Universe) -> tuple[str, int, float]:
    """A few shares of a security outside the model (moved in from another account):
    its id, the shares and what they are worth today."""
    pick = int(rng.integers(0, OUTSIDE_SECURITIES))
    units = int(rng.integers(1, 50))
    price = float(universe.prices[len(universe.model_ids) + pick])
    return universe.outside_ids[pick], units, units * price


def _summary(
    portfolio_id: str,
    cash: float,
    universe: _Universe,
    quantities: Ints | None,
    outside: tuple[str, int, float] | None = None,
) -> dict[str, Any]:
    """A portfolio summary in the positions file's shape: cash, then the model's securities
    held (none for `quantities` None), then the one outside the model, if any."""
    held = (
        []
        if quantities is None
        else [
            {"securityId": sid, "netQuantity": str(int(q))}
            for sid, q in zip(universe.model_ids, quantities, strict=True)
            if q
        ]
    )
    if outside is not None:
        held.append({"securityId": outside[0], "netQuantity": str(outside[1])})
    return {"portfolioId": portfolio_id, "cashBalance": f"{cash:.2f}", "securities": held}


def generate(
    seed: int = 7,
    portfolios: int = 300,
    securities: int = 30,
    *,
    empty_share: float = 0.01,
    outside_share: float = 0.1,
) -> DemoData:
    """A model of `securities` positions held by `portfolios` portfolios, each holding
    drawn at random around its target (the benchmark's data: keep its draws as they are).

    Market values are log-normal (median about $250k), holdings drift from target,
    some portfolios hold a security outside the model, a few have no balances, and
    the smallest may not fit their bands.
    """
    rng = np.random.default_rng(seed)
    universe = _universe(rng, securities, portfolios)
    prices = universe.prices
    targets = _model_targets(rng, securities)
    drifts = [Decimal(str(d)) for d in rng.choice([0.005, 0.01, 0.015, 0.02], size=securities)]
    weights = np.array([float(t) for t in targets])
    summaries: list[dict[str, Any]] = []
    for pid in universe.portfolio_ids:
        if rng.random() < empty_share:
            summaries.append(_summary(pid, 0.0, universe, None))
            continue
        mv = float(np.exp(rng.normal(np.log(250_000), 1.3)))
        held = weights * rng.lognormal(0.0, 0.25, size=securities) * mv / prices[:securities]
        quantities = np.floor(held * (rng.random(securities) > 0.05)).astype(int)
        spent = float(quantities @ prices[:securities])
        outside = _outside_holding(rng, universe) if rng.random() < outside_share else None
        spent += 0.0 if outside is None else outside[2]
        cash = max(mv - spent, 0.0) + rng.uniform(0, 0.02) * mv
        summaries.append(_summary(pid, cash, universe, quantities, outside))
    return DemoData(_model(universe, targets, drifts), summaries, universe.price_text())


# The scheduled run's story (`scheduled_run`): what happened to each account since its
# last rebalance. Three accounts are constructed, so their statuses show whatever the
# seed and size (given that many portfolios).
SMALL_ACCOUNT = 0
"""Index, in the model's portfolios, of the small account: a new account funded with half
the price of one share of the model's dearest security whose band excludes zero. Inside
that band it must hold a share, which costs more than it has: it is `infeasible` under
any policy."""
CLOSED_ACCOUNT = 1
"""Index of the closed account: no balances at all, so `empty`."""
TRANSFERRED_ACCOUNT = 2
"""Index of an account moved in from another firm, still holding a security outside the
model: under `DESK_POLICY` it is traded (a security outside the model always triggers)."""
REVIEW_DAYS = 63
"""Each account was last rebalanced on one of the last 63 trading days (a quarter)."""
MARKET_DAY = (0.0003, 0.008)
"""The market's daily log return (mean, standard deviation), shared by every security."""
OWN_VOLATILITY = (0.005, 0.012)
"""The range of each security's own daily volatility, on top of the market's."""
MINIMUM_SHARES = 200
"""An account is opened with at least 200 times the price of the model's dearest share:
then every band (at least 0.005 of market value either side) is two shares wide, and
whole shares just under target put every position inside its band."""
BAND_FRACTIONS = (0.2, 0.25, 0.3)
"""A model position's drift either side: one of these fractions of its target..."""
MIN_DRIFT = Decimal("0.005")
"""... and never less than this, so a small target's band holds a whole share."""
DEPOSIT_SHARE, WITHDRAWAL_SHARE, OUTSIDE_SHARE = 0.15, 0.1, 0.03
"""Accounts that received a deposit, paid a withdrawal, hold a security outside the model."""


def _relative_drifts(rng: np.random.Generator, targets: list[Decimal]) -> list[Decimal]:
    """Each position's drift: a fraction of its target, at least `MIN_DRIFT`."""
    fractions = rng.choice(len(BAND_FRACTIONS), size=len(targets))
    return [
        max(MIN_DRIFT, (target * Decimal(str(BAND_FRACTIONS[f]))).normalize())
        for target, f in zip(targets, fractions, strict=True)
    ]


def _growth_since(rng: np.random.Generator, securities: int) -> Floats:
    """Row k - 1: each security's price today over its price k trading days ago, for k up
    to `REVIEW_DAYS`; a market move shared by all plus each security's own."""
    market = rng.normal(*MARKET_DAY, size=(REVIEW_DAYS, 1))
    volatility = rng.uniform(*OWN_VOLATILITY, size=securities)
    daily = market + rng.normal(0.0, 1.0, size=(REVIEW_DAYS, securities)) * volatility
    return np.exp(np.cumsum(daily[::-1], axis=0))


def _small_account_cash(
    universe: _Universe, targets: list[Decimal], drifts: list[Decimal]
) -> float:
    """Half a share of the dearest model security whose band excludes zero (target above
    its low drift). With at most 100 securities some target is at least 0.01 (they sum
    to 0.935 or more in steps of 0.005), and its drift is below it, so there is one."""
    excluding_zero = [i for i, (t, d) in enumerate(zip(targets, drifts, strict=True)) if t > d]
    dearest = max(excluding_zero, key=lambda i: float(universe.prices[i]))
    return float(universe.prices[dearest]) / 2


def scheduled_run(seed: int = 7, portfolios: int = 300, securities: int = 30) -> DemoData:
    """A model of `securities` positions held by `portfolios` portfolios as a scheduled run
    finds them, some time after each was last rebalanced.

    At its last rebalance (within `REVIEW_DAYS`), each account held whole shares just
    under target at that day's prices, with market values log-normal around $250k (at
    least `MINIMUM_SHARES` dearest shares), the rest in cash. Since then prices moved
    (a market move and each security's own), some accounts received a deposit or paid a
    withdrawal, and a few hold a security outside the model. Bands are a fraction of
    target, so a price move means the same whatever the model's size. `SMALL_ACCOUNT`,
    `CLOSED_ACCOUNT` and `TRANSFERRED_ACCOUNT` are constructed.
    """
    if not 1 <= securities <= 100:
        raise ValueError(f"securities must be 1 to 100, not {securities}")
    rng = np.random.default_rng(seed)
    universe = _universe(rng, securities, portfolios)
    today = universe.prices[:securities]
    targets = _model_targets(rng, securities)
    drifts = _relative_drifts(rng, targets)
    growth = _growth_since(rng, securities)

    days_ago = rng.integers(1, REVIEW_DAYS + 1, size=portfolios)
    prices_then = np.maximum(np.round(today / growth[days_ago - 1], 2), 0.01)
    value_then = np.maximum(
        rng.lognormal(np.log(250_000), 0.8, size=portfolios),
        MINIMUM_SHARES * prices_then.max(axis=1),
    )
    weights = np.array([float(t) for t in targets])
    quantities = np.floor(weights * value_then[:, None] / prices_then).astype(np.int64)
    cash_then = value_then - (quantities * prices_then).sum(axis=1)

    flow = rng.random(portfolios)
    deposits = rng.uniform(0.05, 0.4, size=portfolios) * value_then
    # Withdrawals are paid out of cash, leaving at least 30% of it (1.5% of the account):
    # an account short of the desk's 1% reserve must choose what to sell among all its
    # securities, a MILP that took from seconds to over a minute with 100 of them (the
    # solver's time limit, an `error`), and the demo is a quick tour.
    withdrawals = rng.uniform(0.2, 0.7, size=portfolios) * cash_then
    cash = cash_then + np.where(flow < DEPOSIT_SHARE, deposits, 0.0)
    cash -= np.where(
        (flow >= DEPOSIT_SHARE) & (flow < DEPOSIT_SHARE + WITHDRAWAL_SHARE), withdrawals, 0.0
    )
    holds_outside = rng.random(portfolios) < OUTSIDE_SHARE
    holds_outside[TRANSFERRED_ACCOUNT : TRANSFERRED_ACCOUNT + 1] = True  # if there is one

    small_account_cash = _small_account_cash(universe, targets, drifts)
    summaries: list[dict[str, Any]] = []
    for index, pid in enumerate(universe.portfolio_ids):
        if index == SMALL_ACCOUNT:
            summaries.append(_summary(pid, small_account_cash, universe, None))
        elif index == CLOSED_ACCOUNT:
            summaries.append(_summary(pid, 0.0, universe, None))
        else:
            outside = _outside_holding(rng, universe) if holds_outside[index] else None
            summaries.append(
                _summary(pid, float(cash[index]), universe, quantities[index], outside)
            )
    return DemoData(_model(universe, targets, drifts), summaries, universe.price_text())
