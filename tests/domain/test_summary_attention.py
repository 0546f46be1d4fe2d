"""A run summary names the first portfolios needing attention and counts the rest."""

from ordergen.domain.results import PortfolioResult
from ordergen.domain.summary import ATTENTION_LISTED, Attention, RunSummary
from tests.factories import gid


def results(*statuses: str) -> list[PortfolioResult]:
    return [
        PortfolioResult(gid(f"P{index}"), status, message=f"{status}: why {index}")
        for index, status in enumerate(statuses)
    ]


def test_infeasible_and_error_portfolios_are_kept_in_order_and_the_others_are_not() -> None:
    summary = RunSummary()
    for result in results("ok", "infeasible", "empty", "error", "within-bands", "infeasible"):
        summary.add(result)
    assert [item.portfolio_id for item in summary.attention] == [gid("P1"), gid("P3"), gid("P5")]
    assert summary.failed == 3


def test_only_the_first_ten_are_kept_and_all_are_counted() -> None:
    summary = RunSummary()
    for result in results(*["infeasible", "ok"] * 12, "error"):
        summary.add(result)
    assert len(summary.attention) == ATTENTION_LISTED == 10
    assert summary.attention[-1].portfolio_id == gid("P18")
    assert summary.failed == 13


def test_the_summary_document_does_not_carry_them() -> None:
    summary = RunSummary()
    for result in results("infeasible", "error"):
        summary.add(result)
    assert "attention" not in str(summary.document())
    assert RunSummary.from_document(summary.document()).attention == []


def test_a_reason_says_the_status_once() -> None:
    infeasible = Attention("p", "infeasible", "infeasible: no whole number of shares of S")
    assert infeasible.reason == "infeasible: no whole number of shares of S"
    error = Attention("p", "error", "no price for security S")
    assert error.reason == "error: no price for security S"
    assert Attention("p", "error", "").reason == "error"
