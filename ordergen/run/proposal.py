"""A run that needs approval: who proposed it, when, under which rule."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ordergen.domain.approval import ApprovalRule, positions_fingerprint, run_rule
from ordergen.domain.holdings import Holdings
from ordergen.domain.shard import Shard
from ordergen.observability.logs import get_logger
from ordergen.settings import Settings
from ordergen.store import approvals, audit
from ordergen.store.connection import Db
from ordergen.store.identity import acting_user

AWAITING = "awaiting approval"

log = get_logger(__name__)


@dataclass(frozen=True)
class Proposal:
    """The run's approval rule (never `none`), its proposer and the proposal time."""

    rule: ApprovalRule
    by: str
    at: datetime
    checks_positions: bool = False
    """The positions came from the accounting service: a send re-reads them first."""

    def document(self) -> dict[str, Any]:
        """As the run document and `--json` record it."""
        checked = {"positionsChecked": True} if self.checks_positions else {}
        return {
            "rule": self.rule.value,
            "proposedBy": self.by,
            "proposedAt": self.at,
            "state": AWAITING,
            **checked,
        }


def record_proposal(db: Db, run_id: str, proposal: Proposal, shard: Shard, orders: int) -> None:
    """Append the proposal to the audit trail and log it."""
    audit.append(
        db,
        action=audit.PROPOSE,
        run_id=run_id,
        by=proposal.by,
        details={"rule": proposal.rule.value, "shard": str(shard), "orders": orders},
    )
    log.info("run_proposed", run_id=run_id, by=proposal.by, rule=proposal.rule.value, orders=orders)


def proposal_for(
    db: Db,
    settings: Settings,
    model_rule: ApprovalRule,
    *,
    propose: bool,
    positions_from_services: bool = False,
) -> Proposal | None:
    """The run's proposal if it needs approval (the model's rule, or `--propose`).

    The proposer is the Kubernetes Job (`JOB_NAME`) of a scheduled run, else the user
    acting (`ordergen.store.identity`).
    """
    rule = run_rule(model_rule, propose=propose)
    if not rule.needs_approval:
        return None
    by = settings.job_name or acting_user(db, None, settings.ordergen_user)
    return Proposal(rule, by, datetime.now(UTC), positions_from_services)


def record_positions_read(
    db: Db, run_id: str, proposal: Proposal, holdings: list[Holdings]
) -> None:
    """For a proposal whose positions a send re-reads: what each portfolio held."""
    if proposal.checks_positions:
        approvals.record_positions(
            db, run_id, {item.portfolio_id: positions_fingerprint(item) for item in holdings}
        )
