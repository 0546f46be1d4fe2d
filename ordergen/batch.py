"""A rebalance run over one model's portfolios: inputs in, per-portfolio results out.

Pure orchestration of the domain and optimiser (no files, database or network):
the edges hand it validated values and consume the results it yields, in model
portfolio order, chunk by chunk, so writers can stream while solving goes on.
"""

import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from ordergen.domain.holdings import Holdings, market_value
from ordergen.domain.model import InvestmentModel
from ordergen.domain.results import BUY, PortfolioResult, rebalanced_result, worst_drift
from ordergen.domain.values import decimal_text
from ordergen.errors import InputError
from ordergen.optimize.problem import Method, ModelTerms, Status
from ordergen.optimize.solve import solve_batch

DEFAULT_CHUNK = 2000


@dataclass(frozen=True)
class RunOptions:
    method: Method = Method.AUTO
    jobs: int = 1
    time_limit: float = 30.0
    chunk_size: int = DEFAULT_CHUNK


def missing_prices(
    model: InvestmentModel, holdings: Iterable[Holdings], prices: Mapping[str, Decimal]
) -> list[str]:
    """Security ids (model ones first, then held ones, sorted) that have no price."""
    missing = [sid for sid in model.security_ids if sid not in prices]
    held = {sid for h in holdings for sid, units in h.quantities.items() if units}
    missing += sorted(held - set(prices) - set(missing))
    return missing


def require_prices(
    model: InvestmentModel, holdings: Iterable[Holdings], prices: Mapping[str, Decimal]
) -> None:
    """Raise `InputError` for the first security that is modelled or held but has no price."""
    missing = missing_prices(model, holdings, prices)
    if missing:
        raise InputError(
            f"prices.{missing[0]}",
            None,
            f"no price for a model or held security ({len(missing)} missing)",
        )


def shard_of(portfolio_id: str, shards: int) -> int:
    """Stable shard number of a portfolio: the same on every machine and Python run."""
    digest = hashlib.sha256(portfolio_id.encode()).digest()
    return int.from_bytes(digest[:8], "big") % shards


@dataclass(frozen=True)
class Shard:
    """Shard `index` of `count`: `--shard I/N`, as Kubernetes Indexed Jobs number them."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> "Shard":
        index, _, count = text.partition("/")
        try:
            shard = cls(int(index), int(count))
        except ValueError:
            raise InputError("shard", text, "expected I/N, for example 0/4") from None
        if shard.count < 1 or not 0 <= shard.index < shard.count:
            raise InputError("shard", text, "expected I/N with 0 <= I < N")
        return shard

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


# An unsharded run is shard 0 of 1, so one code path records both kinds.
WHOLE_RUN = Shard(0, 1)


def select_shard(portfolio_ids: Sequence[str], shard: Shard) -> list[str]:
    """The portfolio ids of `shard` (the shards partition the ids)."""
    return [pid for pid in portfolio_ids if shard_of(pid, shard.count) == shard.index]


@dataclass
class RunSummary:
    """Counts and extremes over the results seen so far."""

    by_status: dict[str, int] = field(default_factory=lambda: {s.value: 0 for s in Status})
    buy_orders: int = 0
    sell_orders: int = 0
    turnover: Decimal = Decimal(0)
    worst_drift_before: Decimal | None = None
    worst_drift_after: Decimal | None = None
    unmodelled_portfolios: list[str] = field(default_factory=list)
    missing_portfolios: list[str] = field(default_factory=list)

    def add(self, result: PortfolioResult) -> None:
        self.by_status[result.status] += 1
        buys = sum(1 for order in result.orders if order.side == BUY)
        self.buy_orders += buys
        self.sell_orders += len(result.orders) - buys
        self.turnover += result.turnover
        for name in ("worst_drift_before", "worst_drift_after"):
            value = getattr(result, name)
            current = getattr(self, name)
            if value is not None and (current is None or value > current):
                setattr(self, name, value)

    def document(self) -> dict[str, object]:
        """The camelCase summary written at the end of the orders file and by `--json`."""
        return {
            "portfolios": self.portfolios,
            "byStatus": dict(self.by_status),
            "orders": self.buy_orders + self.sell_orders,
            "buyOrders": self.buy_orders,
            "sellOrders": self.sell_orders,
            "turnover": decimal_text(self.turnover),
            "worstDriftBefore": decimal_text(self.worst_drift_before),
            "worstDriftAfter": decimal_text(self.worst_drift_after),
            "missingPortfolios": self.missing_portfolios,
            "unmodelledPortfolios": self.unmodelled_portfolios,
        }

    @property
    def portfolios(self) -> int:
        return sum(self.by_status.values())

    @property
    def failed(self) -> int:
        return self.by_status[Status.INFEASIBLE] + self.by_status[Status.ERROR]


def _terms(model: InvestmentModel, prices: Mapping[str, Decimal]) -> ModelTerms:
    positions = model.positions
    return ModelTerms(
        security_ids=model.security_ids,
        targets=tuple(p.target for p in positions),
        low_drifts=tuple(p.low_drift for p in positions),
        high_drifts=tuple(p.high_drift for p in positions),
        prices=tuple(prices[p.security_id] for p in positions),
    )


def _unsolved(
    holdings: Holdings, status: Status, message: str, mv: Decimal | None
) -> PortfolioResult:
    return PortfolioResult(holdings.portfolio_id, status.value, market_value=mv, message=message)


def rebalance(
    model: InvestmentModel,
    holdings: Sequence[Holdings],
    prices: Mapping[str, Decimal],
    options: RunOptions = RunOptions(),
    on_chunk: Callable[[int], None] | None = None,
    unpriced: Mapping[str, str] | None = None,
) -> Iterator[PortfolioResult]:
    """Rebalance each of `holdings` against `model`; one result each, in order.

    A portfolio holding a security without a price is an `error` naming it; a model
    security without a price makes every portfolio an `error`. `on_chunk(n)` is called
    after each chunk of n portfolios is solved (progress, heartbeat). `unpriced` says
    why a security has no price (for example "no ticker"), for the error message.
    """
    reasons = unpriced or {}
    absent = [sid for sid in model.security_ids if sid not in prices]
    terms = None if absent else _terms(model, prices)
    targets = {p.security_id: p.target for p in model.positions}
    for start in range(0, len(holdings), options.chunk_size):
        chunk = holdings[start : start + options.chunk_size]
        results: list[PortfolioResult | None] = [None] * len(chunk)
        solvable: list[int] = []
        values: list[Decimal] = []
        for row, item in enumerate(chunk):
            if item.load_error is not None:
                results[row] = _unsolved(item, Status.ERROR, item.load_error, None)
                continue
            held_unpriced = sorted(
                sid for sid, units in item.quantities.items() if units and sid not in prices
            )
            if absent or held_unpriced:
                sid = (absent or held_unpriced)[0]
                why = f" ({reasons[sid]})" if sid in reasons else ""
                results[row] = _unsolved(
                    item, Status.ERROR, f"no price for security {sid}{why}", None
                )
                continue
            mv = market_value(item, prices)
            if mv == 0 and not any(item.quantities.values()):
                why = "no positions record" if not item.has_record else "nothing held"
                results[row] = _unsolved(
                    item, Status.EMPTY, f"{why}: market value 0, nothing to trade", mv
                )
                continue
            solvable.append(row)
            values.append(mv)
        if solvable and terms is not None:
            solutions = solve_batch(
                terms,
                values,
                method=options.method,
                jobs=options.jobs,
                time_limit=options.time_limit,
            )
            for row, mv, solution in zip(solvable, values, solutions, strict=True):
                item = chunk[row]
                if solution.status is Status.OK and solution.quantities is not None:
                    results[row] = rebalanced_result(
                        item,
                        mv,
                        model.positions,
                        prices,
                        solution.quantities.tolist(),
                        solver=solution.solver,
                        seconds=solution.seconds,
                    )
                else:
                    results[row] = PortfolioResult(
                        item.portfolio_id,
                        solution.status.value,
                        market_value=mv,
                        message=solution.message,
                        solver=solution.solver,
                        seconds=solution.seconds,
                        worst_drift_before=worst_drift(item.quantities, targets, prices, mv),
                    )
        if on_chunk is not None:
            on_chunk(len(chunk))
        yield from (result for result in results if result is not None)


def model_holdings(
    model: InvestmentModel,
    found: Mapping[str, Holdings],
    portfolio_ids: Sequence[str] | None = None,
) -> tuple[list[Holdings], list[str], list[str]]:
    """The holdings to rebalance (model order), the missing ids and the unmodelled ids.

    A model portfolio with no record is rebalanced as an empty portfolio (MV 0), not dropped.
    """
    wanted = list(model.portfolios if portfolio_ids is None else portfolio_ids)
    missing = [pid for pid in wanted if pid not in found]
    members = set(model.portfolios)
    unmodelled = sorted(pid for pid in found if pid not in members)
    holdings = [found.get(pid) or Holdings(pid, Decimal(0), {}, has_record=False) for pid in wanted]
    return holdings, missing, unmodelled
