"""Per-portfolio policy overrides in MongoDB, under optimistic concurrency.

One document per portfolio in `portfolio_policies`: `{_id: portfolioId, policy:
<override in camelCase, decimals as strings>, version}`. The rules are the models':
every change names the version it read (none, or 0, for a portfolio without an
override), the write's filter includes that version and increments it, so of two
writers that read the same version exactly one wins and the other gets a
`ConflictError` (exit 5). A version above the current one is a typo, not a lost
race: an `InputError`. Every override is checked by `parse_policy_override` before it
is written and again when it is read back.
"""

from collections.abc import Callable, Iterable

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from ordergen.domain.policy import PolicyOverride, parse_policy_override
from ordergen.domain.values import parse_globeco_id
from ordergen.errors import ConflictError, InputError, NotFoundError
from ordergen.store.connection import Db, Document, database_errors
from ordergen.store.schema import PORTFOLIO_POLICIES

OverrideChange = Callable[[PolicyOverride], PolicyOverride]


def _from_document(document: Document) -> PolicyOverride:
    """A stored override, checked by the same rules as a file."""
    return parse_policy_override(
        document["policy"], f"stored policy of portfolio {document['_id']}"
    )


def _stale(portfolio_id: str, expected_version: int, current_version: int) -> ConflictError:
    if expected_version == 0:  # the writer meant to create it
        return ConflictError(
            f"policy of portfolio {portfolio_id}: expected none, version {current_version} "
            "is current (another writer set it); re-read it and give that version"
        )
    return ConflictError(
        f"policy of portfolio {portfolio_id}: version {expected_version} is stale, version "
        f"{current_version} is current (another writer won); re-read it and retry"
    )


def _gone(portfolio_id: str) -> NotFoundError:
    return NotFoundError(
        f"portfolio {portfolio_id} has no policy override (cleared by another writer, or "
        "never set): set it without --version"
    )


class PortfolioPolicyRepository:
    """Read, set and clear portfolios' policy overrides in `portfolio_policies`."""

    def __init__(self, db: Db) -> None:
        self._policies = db[PORTFOLIO_POLICIES]

    @database_errors()
    def get(self, portfolio_id: str) -> tuple[PolicyOverride, int]:
        """The portfolio's override and its version; `NotFoundError` when it has none."""
        parse_globeco_id(portfolio_id, "portfolio")
        document = self._policies.find_one({"_id": portfolio_id})
        if document is None:
            raise NotFoundError(f"portfolio {portfolio_id} has no policy override")
        return _from_document(document), document["version"]

    @database_errors()
    def for_portfolios(self, portfolio_ids: Iterable[str]) -> dict[str, PolicyOverride]:
        """The overrides of those of `portfolio_ids` that have one, in one query."""
        wanted = list(dict.fromkeys(portfolio_ids))
        if not wanted:
            return {}
        found = self._policies.find({"_id": {"$in": wanted}})
        return {document["_id"]: _from_document(document) for document in found}

    @database_errors()
    def change(
        self, portfolio_id: str, change: OverrideChange, expected_version: int | None = None
    ) -> tuple[PolicyOverride, int]:
        """Store `change(current override)`: the new override and its version.

        A portfolio without an override starts from the empty one and is created at
        version 1 (`expected_version` None or 0). The version is checked before
        `change` runs, so a stale one is reported as a conflict first.
        """
        expected = 0 if expected_version is None else expected_version
        document = self._checked(portfolio_id, expected)
        current = PolicyOverride() if document is None else _from_document(document)
        override = change(current)
        # Checked as it will be read back: nothing is stored that a run would refuse.
        stored = parse_policy_override(override.document())
        if document is None:
            try:
                self._policies.insert_one(
                    {"_id": portfolio_id, "policy": stored.document(), "version": 1}
                )
            except DuplicateKeyError:  # another writer created it first
                raise _stale(portfolio_id, 0, self._version_of(portfolio_id)) from None
            return stored, 1
        updated = self._policies.find_one_and_update(
            {"_id": portfolio_id, "version": expected},
            {"$set": {"policy": stored.document()}, "$inc": {"version": 1}},
            return_document=ReturnDocument.AFTER,
        )
        if updated is None:
            raise self._lost(portfolio_id, expected)
        return _from_document(updated), updated["version"]

    def set(
        self, portfolio_id: str, override: PolicyOverride, expected_version: int | None = None
    ) -> tuple[PolicyOverride, int]:
        """Replace the portfolio's override (create it when absent); the stored override
        and its new version."""
        return self.change(portfolio_id, lambda _: override, expected_version)

    @database_errors()
    def clear(self, portfolio_id: str, expected_version: int) -> None:
        """Remove the portfolio's override if it is still at `expected_version`."""
        if self._checked(portfolio_id, expected_version) is None:
            raise NotFoundError(f"portfolio {portfolio_id} has no policy override")
        query = {"_id": portfolio_id, "version": expected_version}
        if self._policies.delete_one(query).deleted_count == 0:
            raise self._lost(portfolio_id, expected_version)

    def _checked(self, portfolio_id: str, expected_version: int) -> Document | None:
        """The stored document (None if absent, version 0) once `expected_version` matches."""
        parse_globeco_id(portfolio_id, "portfolio")
        document = self._policies.find_one({"_id": portfolio_id})
        current_version = 0 if document is None else int(document["version"])
        if expected_version > current_version:
            if document is None:
                raise _gone(portfolio_id)
            raise InputError(
                "version",
                expected_version,
                f"the policy of portfolio {portfolio_id} is at version {current_version}; "
                "give the version you read",
            )
        if expected_version < current_version:
            raise _stale(portfolio_id, expected_version, current_version)
        return document

    def _version_of(self, portfolio_id: str) -> int:
        document = self._policies.find_one({"_id": portfolio_id}, {"version": 1})
        return 0 if document is None else int(document["version"])

    def _lost(self, portfolio_id: str, expected_version: int) -> ConflictError | NotFoundError:
        """The error for a write that matched nothing: re-read to say which version won."""
        current_version = self._version_of(portfolio_id)
        if current_version == 0:
            return _gone(portfolio_id)
        return _stale(portfolio_id, expected_version, current_version)
