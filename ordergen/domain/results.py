"""Orders, drift reports and per-portfolio results.

A run computes them in columns (ordergen.domain.columns); a `PortfolioResult` is
one portfolio's view of them, whose orders and drifts are built only when read.
"""

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Never, TypeVar, overload

from ordergen.domain.values import decimal_text

BUY, SELL = "BUY", "SELL"

_Item = TypeVar("_Item")


@dataclass(frozen=True)
class Order:
    security_id: str
    side: str
    quantity: int
    price: Decimal


@dataclass(frozen=True)
class Drift:
    """Where one security stands after the rebalance, as fractions of market value."""

    security_id: str
    target: Decimal
    low_drift: Decimal
    high_drift: Decimal
    original_quantity: int
    adjusted_quantity: int
    price: Decimal
    actual: Decimal
    actual_drift: Decimal | None


class Deferred(Sequence[_Item]):
    """A tuple built on first use; its length is known before (counts cost nothing).

    Compares and hashes like the tuple it stands for.
    """

    __slots__ = ("_build", "_items", "_length")

    def __init__(self, length: int, build: Callable[[], tuple[_Item, ...]]) -> None:
        self._length = length
        self._build = build
        self._items: tuple[_Item, ...] | None = None

    def _built(self) -> tuple[_Item, ...]:
        if self._items is None:
            self._items = self._build()
        return self._items

    def __len__(self) -> int:
        return self._length

    @overload
    def __getitem__(self, index: int) -> _Item: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[_Item, ...]: ...
    def __getitem__(self, index: int | slice) -> _Item | tuple[_Item, ...]:
        return self._built()[index]

    def __iter__(self) -> Iterator[_Item]:
        return iter(self._built())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Deferred | tuple):
            return self._built() == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._built())

    def __repr__(self) -> str:
        return repr(self._built())


class DeferredOrders(Deferred[Order]):
    """Orders built on first use; how many buy and how many sell is known before."""

    __slots__ = ("buys",)

    def __init__(self, buys: int, sells: int, build: Callable[[], tuple[Order, ...]]) -> None:
        super().__init__(buys + sells, build)
        self.buys = buys


def _not_kept() -> tuple[Never, ...]:
    raise LookupError("only the counts of these were kept (counted_values)")


@dataclass(frozen=True)
class PolicyAudit:
    """The policy a portfolio ran under, so a run can be checked from its output alone.

    `overrides` are the effective values that differ from the model's policy (camelCase,
    restrictions as `restrictions.<securityId>`). `cash_reserve` is R = max(amount,
    fraction * MV') and `cash_floor` MV - cashNeed - R, the most the holdings may cost
    after trading; both are None where the policy was not applied (MV' < 0).
    """

    overrides: Mapping[str, object]
    cash_need: Decimal = Decimal(0)
    cash_reserve: Decimal | None = None
    cash_floor: Decimal | None = None

    def document(self) -> dict[str, object]:
        """camelCase; `cashNeed` and `cashReserve` only where nonzero, `cashFloor` where known."""
        document: dict[str, object] = {"overrides": dict(self.overrides)}
        if self.cash_need:
            document["cashNeed"] = decimal_text(self.cash_need)
        if self.cash_reserve:
            document["cashReserve"] = decimal_text(self.cash_reserve)
        if self.cash_floor is not None:
            document["cashFloor"] = decimal_text(self.cash_floor)
        return document


@dataclass(frozen=True)
class PortfolioResult:
    """Everything reported for one portfolio; only `ok` results carry orders."""

    portfolio_id: str
    status: str
    market_value: Decimal | None = None
    cash_after: Decimal | None = None
    objective: Decimal | None = None
    orders: Sequence[Order] = ()
    drifts: Sequence[Drift] = ()
    message: str = ""
    solver: str = ""
    seconds: float = 0.0
    worst_drift_before: Decimal | None = None
    worst_drift_after: Decimal | None = None
    turnover: Decimal = field(default=Decimal(0))
    policy: PolicyAudit | None = None
    """Set when the model has a policy or the portfolio an override; None otherwise."""

    @property
    def buy_orders(self) -> int:
        """How many orders buy (counted without building orders that are deferred)."""
        if isinstance(self.orders, DeferredOrders):
            return self.orders.buys
        return sum(1 for order in self.orders if order.side == BUY)

    @property
    def sell_orders(self) -> int:
        return len(self.orders) - self.buy_orders


# Every field but the orders and drifts, which `counted_values` reduces to counts.
_PLAIN_FIELDS = tuple(
    item.name for item in fields(PortfolioResult) if item.name not in {"orders", "drifts"}
)
CountedResult = tuple[object, ...]


def counted_values(result: PortfolioResult) -> CountedResult:
    """`result` as plain values, its orders and drifts reduced to their counts: what a
    run's summary, logs and metrics read, quick to send to another process."""
    plain = tuple(getattr(result, name) for name in _PLAIN_FIELDS)
    return (*plain, result.buy_orders, result.sell_orders, len(result.drifts))


def from_counted_values(values: CountedResult) -> PortfolioResult:
    """The result `counted_values` gave `values`; reading its orders or drifts raises."""
    *plain, buys, sells, drifts = values
    assert isinstance(buys, int) and isinstance(sells, int) and isinstance(drifts, int)
    return PortfolioResult(
        **dict(zip(_PLAIN_FIELDS, plain, strict=True)),  # type: ignore[arg-type]
        orders=DeferredOrders(buys, sells, _not_kept),
        drifts=Deferred(drifts, _not_kept),
    )
