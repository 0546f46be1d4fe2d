"""A run that needs approval: who proposed it, when, under which rule."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ordergen.domain.approval import ApprovalRule, run_rule
from ordergen.domain.shard import Shard
from ordergen.observability.logs import get_logger
from ordergen.settings import Settings
from ordergen.store import audit
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

    def document(self) -> dict[str, Any]:
        """As the run document and `--json` record it."""
        return {
            "rule": self.rule.value,
            "proposedBy": self.by,
            "proposedAt": self.at,
            "state": AWAITING,
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
    db: Db, settings: Settings, model_rule: ApprovalRule, *, propose: bool
) -> Proposal | None:
    """The run's proposal if it needs approval (the model's rule, or `--propose`).

    The proposer is the Kubernetes Job (`JOB_NAME`) of a scheduled run, else the user
    acting (`ordergen.store.identity`).
    """
    rule = run_rule(model_rule, propose=propose)
    if not rule.needs_approval:
        return None
    by = settings.job_name or acting_user(db, None, settings.ordergen_user)
    return Proposal(rule, by, datetime.now(UTC))
