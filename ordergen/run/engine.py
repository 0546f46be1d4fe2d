"""A rebalance run over one model's portfolios: inputs in, per-portfolio results out.

Pure orchestration of the domain and optimiser (no files, database or network):
the edges hand it validated values and consume the results it yields, in model
portfolio order, chunk by chunk, so writers can stream while solving goes on.
"""

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

import numpy as np

from ordergen.domain.columns import RebalancedColumns, ResultChunk, completed_results
from ordergen.domain.fixed_point import exact_array, to_units
from ordergen.domain.holdings import Holdings
from ordergen.domain.holdings_columns import MONEY_SCALE, HoldingsColumns
from ordergen.domain.model import InvestmentModel
from ordergen.domain.model_columns import ModelColumns
from ordergen.domain.policy import PolicyOverride, effective_policy, policy_differences
from ordergen.domain.results import PolicyAudit, PortfolioResult
from ordergen.errors import InputError
from ordergen.optimize.problem import IntArray, Method, ModelTerms, Solution, Status
from ordergen.optimize.solve import solve_batch
from ordergen.run.policy_rows import PolicyRow, solve_policy_rows

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
    holdings = list(holdings)
    # The union of what is listed is built in C; only the few listed ids without a
    # price are then looked at holding by holding (a zero quantity is not held).
    unpriced = set().union(*(h.quantities.keys() for h in holdings)) - set(prices) - set(missing)
    missing += sorted({sid for h in holdings for sid in unpriced if h.quantities.get(sid)})
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


def _no_price(security_id: str, reasons: Mapping[str, str]) -> str:
    why = f" ({reasons[security_id]})" if security_id in reasons else ""
    return f"no price for security {security_id}{why}"


def _unpriced_model(
    chunk: Sequence[Holdings], security_id: str, reasons: Mapping[str, str]
) -> ResultChunk:
    """Every portfolio is an `error`: a model security has no price."""
    no_price = _no_price(security_id, reasons)
    return ResultChunk(
        tuple(
            _unsolved(
                item, Status.ERROR, no_price if item.load_error is None else item.load_error, None
            )
            for item in chunk
        ),
        None,
    )


def _before_valuing(
    item: Holdings, unpriced: Sequence[str], reasons: Mapping[str, str]
) -> PortfolioResult | None:
    """The `error` a portfolio is before it is valued: it failed to load or holds unpriced."""
    if item.load_error is not None:
        return _unsolved(item, Status.ERROR, item.load_error, None)
    if unpriced:
        return _unsolved(item, Status.ERROR, _no_price(unpriced[0], reasons), None)
    return None


def _solved(
    model: InvestmentModel,
    columns: ModelColumns,
    terms: ModelTerms,
    chunk: Sequence[Holdings],
    held: HoldingsColumns,
    rows: Sequence[int],
    values: Sequence[Decimal],
    options: RunOptions,
) -> tuple[dict[int, PortfolioResult], RebalancedColumns | None]:
    """Results of `rows` (valued at `values`) by row, and the columns of the rebalanced ones."""
    units = [to_units(mv, MONEY_SCALE) for mv in values]
    market_values = exact_array(units, max(map(abs, units)))
    before = held.worst_drifts(rows, market_values, columns)
    solutions = solve_batch(
        terms, values, method=options.method, jobs=options.jobs, time_limit=options.time_limit
    )
    done = [index for index, solution in enumerate(solutions) if solution.status is Status.OK]
    rebalanced = None
    if done:
        rebalanced = RebalancedColumns.of(
            model.positions,
            columns,
            held,
            [rows[index] for index in done],
            np.stack([_quantities(solutions[index]) for index in done]),
            market_values[done],
        )
    plain = [
        PortfolioResult(
            chunk[row].portfolio_id,
            solution.status.value,
            market_value=mv,
            message=solution.message,
            solver=solution.solver,
            seconds=solution.seconds,
            worst_drift_before=before[index],
        )
        for index, (row, mv, solution) in enumerate(zip(rows, values, solutions, strict=True))
    ]
    results = dict(zip(rows, completed_results(plain, rebalanced), strict=True))
    return results, rebalanced


def _policy_rows(
    model: InvestmentModel, overrides: Mapping[str, PolicyOverride], chunk: Sequence[Holdings]
) -> dict[int, PolicyRow]:
    """The rows of `chunk` that run under a policy (the model's or their own)."""
    if model.policy.is_default and not overrides:
        return {}
    rows: dict[int, PolicyRow] = {}
    as_modelled = PolicyAudit({}, Decimal(0))  # shared by every portfolio without an override
    for row, item in enumerate(chunk):
        override = overrides.get(item.portfolio_id)
        if override is None:
            if not model.policy.is_default:
                rows[row] = PolicyRow(row, model.policy, Decimal(0), as_modelled)
            continue
        policy, cash_need = effective_policy(model.policy, override)
        audit = PolicyAudit(policy_differences(model.policy, policy), cash_need)
        rows[row] = PolicyRow(row, policy, cash_need, audit)
    return rows


def _solve_chunk(
    model: InvestmentModel,
    columns: ModelColumns,
    terms: ModelTerms,
    chunk: Sequence[Holdings],
    prices: Mapping[str, Decimal],
    options: RunOptions,
    reasons: Mapping[str, str],
    overrides: Mapping[str, PolicyOverride],
) -> ResultChunk:
    held = HoldingsColumns.of(
        [item.cash for item in chunk],
        [item.quantities for item in chunk],
        columns.security_ids,
        prices,
    )
    policy_of = _policy_rows(model, overrides, chunk)
    results: dict[int, PortfolioResult] = {}
    for row, item in enumerate(chunk):
        failed = _before_valuing(item, held.unpriced[row], reasons)
        if failed is not None:
            results[row] = failed
    priced = [row for row in range(len(chunk)) if row not in results]
    solvable: list[int] = []
    values: list[Decimal] = []
    policy_rows: list[PolicyRow] = []
    policy_values: list[Decimal] = []
    for row, mv in zip(priced, held.market_values(priced, columns), strict=True):
        policy_row = policy_of.get(row)
        if mv == 0 and not held.holds_any[row] and (policy_row is None or not policy_row.cash_need):
            why = "no positions record" if not chunk[row].has_record else "nothing held"
            message = f"{why}: market value 0, nothing to trade"
            results[row] = _unsolved(chunk[row], Status.EMPTY, message, mv)
        elif policy_row is not None:
            policy_rows.append(policy_row)
            policy_values.append(mv)
        else:
            solvable.append(row)
            values.append(mv)
    rebalanced = policy_columns = None
    if solvable:
        solved, rebalanced = _solved(model, columns, terms, chunk, held, solvable, values, options)
        results.update(solved)
    if policy_rows:
        outside_prices = {
            item.security_id: item.price for row in policy_rows for item in held.outside[row.row]
        }
        solved, policy_columns = solve_policy_rows(
            model,
            terms,
            chunk,
            outside_prices,
            policy_rows,
            policy_values,
            method=options.method,
            jobs=options.jobs,
            time_limit=options.time_limit,
        )
        results.update(solved)
    for row, policy_row in policy_of.items():
        if results[row].policy is None:  # not valued: it still says what it would have run under
            results[row] = replace(results[row], policy=policy_row.audit)
    return ResultChunk(tuple(results[row] for row in range(len(chunk))), rebalanced, policy_columns)


def _quantities(solution: Solution) -> IntArray:
    if solution.quantities is None:
        raise ValueError("an ok solution always has quantities")
    return solution.quantities


def rebalance_chunks(
    model: InvestmentModel,
    holdings: Sequence[Holdings],
    prices: Mapping[str, Decimal],
    options: RunOptions = RunOptions(),
    on_chunk: Callable[[int], None] | None = None,
    unpriced: Mapping[str, str] | None = None,
    overrides: Mapping[str, PolicyOverride] | None = None,
) -> Iterator[ResultChunk]:
    """Rebalance each of `holdings` against `model`, chunk by chunk, results in order.

    A portfolio holding a security without a price is an `error` naming it; a model
    security without a price makes every portfolio an `error`. `on_chunk(n)` is called
    after each chunk of n portfolios is solved (progress, heartbeat). `unpriced` says
    why a security has no price (for example "no ticker"), for the error message.

    Portfolios run under the model's policy, with their own `overrides` (portfolio id
    -> override) applied; with neither, every portfolio is the base problem.
    """
    reasons = unpriced or {}
    absent = [sid for sid in model.security_ids if sid not in prices]
    columns = terms = None
    if not absent:
        terms = _terms(model, prices)
        columns = ModelColumns.of(terms.security_ids, terms.targets, terms.prices)
    for start in range(0, len(holdings), options.chunk_size):
        chunk = holdings[start : start + options.chunk_size]
        if columns is None or terms is None:
            results = _unpriced_model(chunk, absent[0], reasons)
        else:
            results = _solve_chunk(
                model, columns, terms, chunk, prices, options, reasons, overrides or {}
            )
        if on_chunk is not None:
            on_chunk(len(chunk))
        yield results


def rebalance(
    model: InvestmentModel,
    holdings: Sequence[Holdings],
    prices: Mapping[str, Decimal],
    options: RunOptions = RunOptions(),
    on_chunk: Callable[[int], None] | None = None,
    unpriced: Mapping[str, str] | None = None,
    overrides: Mapping[str, PolicyOverride] | None = None,
) -> Iterator[PortfolioResult]:
    """`rebalance_chunks`, one `PortfolioResult` at a time."""
    for chunk in rebalance_chunks(model, holdings, prices, options, on_chunk, unpriced, overrides):
        yield from chunk.results


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
