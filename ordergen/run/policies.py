"""The policy overrides a run uses: stored in MongoDB, then a file's, field by field.

The model's own policy travels with the model. Overrides are read for every portfolio
of the model, not only a shard's, so that every shard of a run derives the same run
id from them.
"""

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from ordergen.domain.model import InvestmentModel
from ordergen.domain.policy import PolicyOverride
from ordergen.domain.policy_overrides import overrides_for_run
from ordergen.errors import InputError
from ordergen.io.files import content_digest
from ordergen.io.policy_files import read_portfolio_policies

if TYPE_CHECKING:
    from ordergen.store.connection import Db


def run_overrides(
    model: InvestmentModel, db: "Db | None", policies_file: Path | None
) -> dict[str, PolicyOverride]:
    """Each of the model's portfolios' override that has one (stored, the file winning).

    Stored overrides are read when a database is open. A file naming a portfolio that
    is not the model's is an `InputError`: its override would silently do nothing.
    """
    given = {} if policies_file is None else read_portfolio_policies(policies_file)
    members = set(model.portfolios)
    strangers = sorted(portfolio_id for portfolio_id in given if portfolio_id not in members)
    if strangers:
        raise InputError(
            f"{policies_file}: portfolio id",
            strangers[0],
            f"is not a portfolio of model {model.name!r} ({len(strangers)} such)",
        )
    stored: dict[str, PolicyOverride] = {}
    if db is not None:
        # Imported here: a files run without a database never loads pymongo (start-up time).
        from ordergen.store.portfolio_policies import PortfolioPolicyRepository

        stored = PortfolioPolicyRepository(db).for_portfolios(model.portfolios)
    return overrides_for_run(model.portfolios, stored, given)


def overrides_document(overrides: Mapping[str, PolicyOverride]) -> dict[str, dict[str, object]]:
    """The overrides as a `--portfolio-policies` file holds them, by portfolio id (sorted)."""
    return {portfolio_id: overrides[portfolio_id].document() for portfolio_id in sorted(overrides)}


def digest_with_overrides(digest: str, overrides: Mapping[str, PolicyOverride]) -> str:
    """`digest` extended by the overrides, so other overrides make another run id.

    Unchanged without overrides: runs without policies keep their ids.
    """
    if not overrides:
        return digest
    canonical = json.dumps(overrides_document(overrides), sort_keys=True, separators=(",", ":"))
    return content_digest((), digest, canonical)
