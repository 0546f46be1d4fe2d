"""Small builders shared by the tests: ids, models and holdings from short specs."""

from decimal import Decimal
from typing import Any

from ordergen.domain.holdings import Holdings
from ordergen.domain.model import InvestmentModel, validate_model
from ordergen.domain.results import Drift, Order, PortfolioResult
from ordergen.optimize.problem import ModelTerms


def gid(label: str) -> str:
    """A valid 24-character GlobeCo id readable in failures: gid('S') -> 'S000...'."""
    return (label + "0" * 24)[:24]


def model_doc(
    positions: list[tuple[str, str, str, str]], portfolios: list[str], name: str = "m"
) -> dict[str, Any]:
    """A camelCase model document from (label, target, lowDrift, highDrift) tuples."""
    return {
        "name": name,
        "positions": [
            {"securityId": gid(label), "target": t, "lowDrift": low, "highDrift": high}
            for label, t, low, high in positions
        ],
        "portfolios": [gid(p) for p in portfolios],
    }


def make_model(
    positions: list[tuple[str, str, str, str]], portfolios: tuple[str, ...] = ("P",)
) -> InvestmentModel:
    return validate_model(model_doc(positions, list(portfolios)))


def holdings(portfolio: str, cash: str, **quantities: int) -> Holdings:
    return Holdings(
        gid(portfolio), Decimal(cash), {gid(label): units for label, units in quantities.items()}
    )


def prices(**by_label: str) -> dict[str, Decimal]:
    return {gid(label): Decimal(value) for label, value in by_label.items()}


def result(
    portfolio: str,
    *orders: tuple[str, str, int],
    status: str = "ok",
    drifts: tuple[Drift, ...] = (),
    worst_drifts: tuple[Decimal | None, Decimal | None] = (None, None),
) -> PortfolioResult:
    """A result with orders given as (security label, side, quantity), all at price 12.50."""
    return PortfolioResult(
        portfolio_id=gid(portfolio),
        status=status,
        market_value=Decimal("1000.000"),
        orders=tuple(
            Order(gid(label), side, units, Decimal("12.50")) for label, side, units in orders
        ),
        drifts=drifts,
        worst_drift_before=worst_drifts[0],
        worst_drift_after=worst_drifts[1],
        message="" if status == "ok" else "bands cannot be met",
    )


def floor_binding_terms() -> ModelTerms:
    """Two securities at 180, targets 0.475 +-0.2: at MV 1000 the nearest counts (3, 3)
    cost 1080, so the cash floor binds (the optimum holds 3 and 2, objective 180)."""
    return ModelTerms(
        ("a" * 24, "b" * 24),
        (Decimal("0.475"), Decimal("0.475")),
        (Decimal("0.2"), Decimal("0.2")),
        (Decimal("0.2"), Decimal("0.2")),
        (Decimal(180), Decimal(180)),
    )
