"""Collection names and the indexes the queries rely on: the one list of both."""

from collections.abc import Mapping, Sequence

from pymongo import ASCENDING, DESCENDING, IndexModel

MODELS = "models"
RUNS = "runs"
RUN_PORTFOLIOS = "run_portfolios"
ORDERS = "orders"
PORTFOLIO_STATE = "portfolio_state"
RUN_PRICES = "run_prices"
RUN_LOCKS = "run_locks"
PORTFOLIO_POLICIES = "portfolio_policies"
AUDIT = "audit"
PROPOSAL_POSITIONS = "proposal_positions"

INDEXES: Mapping[str, Sequence[IndexModel]] = {
    MODELS: (
        # The unique index is the rule "model names are unique", not only a speed-up.
        IndexModel([("name", ASCENDING)], name="name_unique", unique=True),
        # find_by_portfolio: which models list a portfolio (multikey).
        IndexModel([("portfolios", ASCENDING)], name="portfolios"),
    ),
    RUNS: (
        IndexModel([("startedAt", DESCENDING)], name="startedAt"),
        IndexModel([("model", ASCENDING), ("startedAt", DESCENDING)], name="model_startedAt"),
    ),
    RUN_PORTFOLIOS: (
        IndexModel([("runId", ASCENDING), ("portfolioId", ASCENDING)], name="runId_portfolioId"),
    ),
    ORDERS: (
        IndexModel(
            [("runId", ASCENDING), ("portfolioId", ASCENDING), ("securityId", ASCENDING)],
            name="runId_portfolioId_securityId",
        ),
    ),
    RUN_PRICES: (IndexModel([("runId", ASCENDING)], name="runId"),),
    # portfolio_state is only ever read and written by _id (the portfolio id).
    PORTFOLIO_STATE: (),
    # run_locks is only ever read and written by _id (the model name).
    RUN_LOCKS: (),
    # portfolio_policies is keyed by _id (the portfolio id); a run reads its
    # portfolios' overrides with one _id $in query.
    PORTFOLIO_POLICIES: (),
    # A run's history, oldest first (`ordergen runs history`).
    AUDIT: (IndexModel([("runId", ASCENDING), ("at", ASCENDING)], name="runId_at"),),
    # proposal_positions is read and written by _id (`runId:portfolioId`).
    PROPOSAL_POSITIONS: (),
}
