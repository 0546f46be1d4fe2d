"""Small instances where every allowed whole-share vector can be enumerated.

The exhaustive search (`benchmarks.reference.exhaustive`) is the ground truth here: it
checks the reference MILP itself, and ordergen's `auto` and `milp` under policies that
exercise every rule (minimum trades, costs, directions, restrictions, cash needs).
"""

import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.base_rows import Part
from benchmarks.instances import load
from benchmarks.reference import Answer, exhaustive, problems, solve
from benchmarks.scoring import Claim, Referenced, Tally, in_problem_order, tally
from ordergen.demo import DemoData
from ordergen.domain.policy import parse_policy
from ordergen.optimize.policies import PolicyStatus, PolicyTerms, PortfolioCase, solve_policy_batch
from ordergen.optimize.problem import Method

SECURITIES = 3
CENT = Decimal("0.01")
POLICIES: tuple[dict[str, Any], ...] = (
    {},
    {"trigger": "outside-bands", "innerBand": "0.875", "minTrade": {"amount": "100"},
     "cashReserve": {"fraction": "0.01"}, "tradeCost": {"perOrder": "5"}},
    {"innerBand": "1", "minTrade": {"shares": 3}, "tradeCost": {"bps": "25"}},
    {"mode": "sell-only", "cashReserve": {"amount": "50"}},
    {"mode": "buy-only", "innerBand": "0.5"},
    {"minTrade": {"fraction": "0.05"}, "tradeCost": {"perOrder": "2", "bps": "10"}},
)  # fmt: skip
"""One model per policy; the fourth also withdraws 10% of each portfolio's value."""
WITHDRAWALS = (Fraction(0), Fraction(0), Fraction(0), Fraction(1, 10), Fraction(0), Fraction(0))


@dataclass(frozen=True)
class ExhaustiveFigures:
    portfolios: int
    reference_agrees: int
    """Portfolios where the reference MILP's verdict and rank equal the exhaustive search's."""
    auto: Tally
    milp: Tally


def small_model(rng: np.random.Generator, policy: dict[str, Any], count: int) -> DemoData:
    ids = ["".join(f"{d:x}" for d in row) for row in rng.integers(0, 16, (SECURITIES + count, 24))]
    security_ids = ids[:SECURITIES]
    prices = np.round(np.exp(rng.uniform(math.log(20), math.log(300), SECURITIES)), 2)
    targets = rng.choice(["0.2", "0.25", "0.3"], SECURITIES)
    drifts = rng.choice(["0.02", "0.05", "0.1"], SECURITIES)
    if policy.get("restrictions") is None and policy.get("mode") is None and policy:
        policy = {**policy, "restrictions": {security_ids[0]: "no-sell"}}
    model = {
        "name": "small",
        "positions": [
            {"securityId": sid, "target": t, "lowDrift": d, "highDrift": d}
            for sid, t, d in zip(security_ids, targets, drifts, strict=True)
        ],
        "portfolios": ids[SECURITIES:],
        **({"policy": policy} if policy else {}),
    }
    summaries = []
    for pid in ids[SECURITIES:]:
        held = rng.integers(0, 7, SECURITIES)
        summaries.append({
            "portfolioId": pid,
            "cashBalance": f"{rng.uniform(0, 600):.2f}",
            "securities": [{"securityId": sid, "netQuantity": str(int(q))}
                           for sid, q in zip(security_ids, held, strict=True) if q],
        })  # fmt: skip
    price_text = {sid: f"{p:.2f}" for sid, p in zip(security_ids, prices, strict=True)}
    return DemoData(model, summaries, price_text)


def check(directory: Path, per_policy: int, seed: int) -> ExhaustiveFigures:
    rng = np.random.default_rng(seed)
    agrees = portfolios = 0
    auto, milp = Tally(), Tally()
    for number, (policy, withdrawal) in enumerate(zip(POLICIES, WITHDRAWALS, strict=True)):
        data = small_model(rng, policy, per_policy)
        inst = load(directory / f"small-{number}", data)
        truth: dict[str, Referenced] = {}
        for pid, problem in problems(
            data.model, data.summaries, data.prices, data.model.get("policy"), withdrawal
        ):
            found = exhaustive(problem)
            if found is None:
                continue
            truth[pid] = Referenced(pid, problem, found, binds=False)
            portfolios += 1
            agrees += _same(found, solve(problem))
        part = Part(inst, truth)
        auto = auto.merged(tally(truth, _ordergen_claims(part, withdrawal, Method.AUTO)))
        milp = milp.merged(tally(truth, _ordergen_claims(part, withdrawal, Method.MILP)))
    return ExhaustiveFigures(portfolios, agrees, auto, milp)


def _same(truth: Answer, found: Answer) -> bool:
    if truth.status != found.status:
        return False
    if truth.score is None or found.score is None:
        return truth.score is found.score
    return truth.score.rank == found.score.rank


def _ordergen_claims(part: Part, withdrawal: Fraction, method: Method) -> dict[str, Claim]:
    inst = part.instances
    policy = parse_policy(inst.data.model.get("policy", {}))
    terms = PolicyTerms.build(inst.terms, {})
    claims = {}
    for pid, holdings, value in zip(
        inst.portfolio_ids, inst.holdings, inst.market_values, strict=True
    ):
        if pid not in part.reference:
            continue
        need = (value * Decimal(withdrawal.numerator) / withdrawal.denominator).quantize(CENT)
        case = PortfolioCase(value, terms.quantities(holdings.quantities), policy, need)
        (solution,) = solve_policy_batch(terms, [case], method=method, jobs=1)
        units = None
        if solution.quantities is not None:
            units = tuple(solution.quantities.tolist())
        elif solution.status is PolicyStatus.WITHIN_BANDS:
            units = tuple(terms.quantities(holdings.quantities).tolist())
        if units is not None:
            units = in_problem_order(
                part.reference[pid].problem, dict(zip(terms.security_ids, units, strict=True))
            )
        claims[pid] = Claim(str(solution.status), units, solution.status is PolicyStatus.OK)
    return claims
