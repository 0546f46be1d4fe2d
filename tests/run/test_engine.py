"""The batch runner: per-portfolio failures, empty portfolios, shards, summary."""

from decimal import Decimal

import pytest

from ordergen.domain.shard import Shard, select_shard, shard_of
from ordergen.domain.summary import RunSummary
from ordergen.errors import InputError
from ordergen.run.engine import RunOptions, missing_prices, model_holdings, rebalance
from tests.factories import gid, holdings, make_model, prices

MODEL = [("S", "0.60", "0.05", "0.05"), ("B", "0.30", "0.03", "0.03")]


def test_a_held_security_without_price_fails_only_its_portfolio() -> None:
    model = make_model(MODEL, ("P", "Q"))
    results = list(
        rebalance(
            model,
            [holdings("P", "5000", S=500, B=400, X=3), holdings("Q", "5000", S=500, B=400)],
            prices(S="100", B="100"),
            RunOptions(chunk_size=1),
        )
    )
    assert [r.status for r in results] == ["error", "ok"]
    assert gid("X") in results[0].message and results[0].orders == ()


def test_a_model_security_without_price_fails_every_portfolio() -> None:
    model = make_model(MODEL, ("P",))
    (result,) = rebalance(model, [holdings("P", "1000")], prices(S="100"))
    assert result.status == "error" and gid("B") in result.message


def test_missing_prices_lists_model_securities_then_held_ones_but_not_zero_listings() -> None:
    model = make_model(MODEL, ("P", "Q", "R"))
    held = [
        holdings("P", "10", S=1, Y=2, X=0),  # X listed with nothing held
        holdings("Q", "10", W=-1, X=0),  # short W is held
        holdings("R", "10", B=3, Z=0),
    ]
    assert missing_prices(model, held, prices(S="1", Z="1")) == [gid("B"), gid("W"), gid("Y")]
    assert missing_prices(model, held, prices(S="1", B="1", W="1", Y="1")) == []


def test_nothing_held_is_empty_but_holdings_worth_zero_are_sold() -> None:
    model = make_model(MODEL, ("P", "Q"))
    # Q holds shares worth exactly its negative cash: MV 0, bands [0, 0], sell everything.
    results = list(
        rebalance(
            model, [holdings("P", "0"), holdings("Q", "-1000", S=10)], prices(S="100", B="100")
        )
    )
    assert [r.status for r in results] == ["empty", "ok"]
    assert [(o.side, o.quantity) for o in results[1].orders] == [("SELL", 10)]


def test_model_holdings_reports_missing_and_unmodelled() -> None:
    model = make_model(MODEL, ("P", "Q"))
    found = {gid("P"): holdings("P", "1"), gid("Z"): holdings("Z", "1")}
    wanted, missing, unmodelled = model_holdings(model, found)
    assert [h.portfolio_id for h in wanted] == [gid("P"), gid("Q")]
    assert not wanted[1].has_record
    assert missing == [gid("Q")] and unmodelled == [gid("Z")]


def test_shards_are_a_stable_partition() -> None:
    ids = [f"{i:024x}" for i in range(500)]
    shards = [select_shard(ids, Shard(index, 4)) for index in range(4)]
    assert sorted(pid for shard in shards for pid in shard) == sorted(ids)
    assert all(shards)  # every shard gets some portfolios
    assert shard_of(ids[0], 4) == shard_of(ids[0], 4)
    for bad in ("4/4", "1/0", "x/2", "1"):
        with pytest.raises(InputError):
            Shard.parse(bad)


def test_summary_counts_orders_and_extremes() -> None:
    model = make_model(MODEL, ("P", "Q"))
    summary = RunSummary()
    for result in rebalance(
        model,
        [holdings("P", "5000", S=500, B=400), holdings("Q", "150")],
        prices(S="100", B="100"),
    ):
        summary.add(result)
    document = summary.document()
    assert document["byStatus"] == {"ok": 1, "infeasible": 1, "error": 0, "empty": 0}
    assert (document["buyOrders"], document["sellOrders"]) == (1, 1)
    assert document["turnover"] == "18500"
    assert summary.failed == 1
    assert summary.worst_drift_after == Decimal("0.0000")
