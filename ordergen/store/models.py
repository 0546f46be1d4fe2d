"""Investment models in MongoDB: unique names, optimistic concurrency, whole-model validation.

Every change names the version it read. The write's filter includes that version and
increments it, so of two writers that read the same version exactly one wins; the
other gets a `ConflictError` naming the version that won. Every change is validated
as a whole model (`validate_model`, the same code as for files) before anything is
written, so a rejected change leaves the stored model as it was.

`version` and `lastRebalanceDate` belong to the database: files may carry them, but
creates start at version 1 and only `mark_rebalanced` records a rebalance. A model's
`policy` is content like its positions: stored only when it is not the default, and
changed under the same version.
"""

import builtins
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from ordergen.domain.approval import ApprovalRule
from ordergen.domain.model import (
    InvestmentModel,
    model_content,
    model_to_document,
    validate_model,
)
from ordergen.domain.policy import DEFAULT_POLICY, Policy
from ordergen.domain.values import decimal_text, parse_globeco_id
from ordergen.errors import ConflictError, InputError, NotFoundError
from ordergen.store.connection import Db, Document, database_errors, init_indexes
from ordergen.store.schema import MODELS

Edit = Callable[[Document], Document]
PolicyChange = Callable[[Policy], Policy]


@dataclass
class ImportReport:
    """Model names by what `import_models` did with them."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def _from_document(document: Document) -> InvestmentModel:
    """A stored model, checked by the same rules as a file."""
    try:
        return validate_model(document)
    except InputError as exc:
        where = f"stored model {document.get('name')!r}: {exc.field}"
        raise InputError(where, exc.value, exc.problem) from None


def _same_content(a: InvestmentModel, b: InvestmentModel) -> bool:
    # Positions compare their Decimals by value, so "0.10" and "0.1" are the same target.
    # Policies compare as values too (innerBand "0.50" is 0.5).
    def content(model: InvestmentModel) -> tuple[object, ...]:
        return (model.name, model.positions, model.portfolios, model.policy, model.approval)

    return content(a) == content(b)


def _duplicate_name(name: str) -> InputError:
    return InputError("name", name, "a model with this name already exists")


class ModelRepository:
    """Create, read, change and delete investment models in the `models` collection."""

    def __init__(self, db: Db) -> None:
        self._db = db
        self._models = db[MODELS]
        self._indexed = False

    def _ensure_unique_names(self) -> None:
        # Uniqueness is enforced by the index, so writers make sure it exists even
        # when `ordergen db init` was never run; once per repository is enough.
        if not self._indexed:
            init_indexes(self._db, (MODELS,))
            self._indexed = True

    def _find(self, name_or_id: str) -> Document:
        """The stored document by name, else by ObjectId hex; `NotFoundError` if neither."""
        document = self._models.find_one({"name": name_or_id})
        if document is None and ObjectId.is_valid(name_or_id):
            document = self._models.find_one({"_id": ObjectId(name_or_id)})
        if document is None:
            raise NotFoundError(f"model {name_or_id!r} not found")
        return document

    def _stale(self, document: Document, expected_version: int) -> ConflictError | NotFoundError:
        """The error for a write that matched nothing: re-read to say which version won."""
        current = self._models.find_one({"_id": document["_id"]}, {"version": 1})
        if current is None:
            return NotFoundError(f"model {document['name']!r} was deleted by another writer")
        return ConflictError(
            f"model {document['name']!r}: version {expected_version} is stale, version "
            f"{current['version']} is current (another writer won); re-read it and retry"
        )

    def _check_version(self, document: Document, expected_version: int) -> None:
        if expected_version > document["version"]:  # a typo, not a lost race
            raise InputError(
                "version",
                expected_version,
                f"model {document['name']!r} is at version {document['version']}; "
                "give the version you read",
            )
        if document["version"] != expected_version:
            raise self._stale(document, expected_version)

    def _write(
        self, document: Document, model: InvestmentModel, expected_version: int
    ) -> InvestmentModel:
        """Store `model`'s content over `document` if it is still at `expected_version`."""
        self._ensure_unique_names()
        content = model_content(model)
        change: Document = {"$set": content, "$inc": {"version": 1}}
        # Back to no policy (or no approval): the stored one must go too.
        absent = {name: "" for name in ("policy", "approval") if name not in content}
        if absent:
            change["$unset"] = absent
        try:
            updated = self._models.find_one_and_update(
                {"_id": document["_id"], "version": expected_version},
                change,
                return_document=ReturnDocument.AFTER,
            )
        except DuplicateKeyError:
            raise _duplicate_name(model.name) from None
        if updated is None:
            raise self._stale(document, expected_version)
        return _from_document(updated)

    def _change(self, name_or_id: str, expected_version: int, edit: Edit) -> InvestmentModel:
        """Apply `edit` to the stored model's document, validate the result, write it."""
        document = self._find(name_or_id)
        self._check_version(document, expected_version)
        raw = model_to_document(_from_document(document))
        return self._write(document, validate_model(edit(raw)), expected_version)

    @database_errors()
    def create(self, model: InvestmentModel) -> InvestmentModel:
        """Insert a new model at version 1; a taken name is an `InputError`."""
        self._ensure_unique_names()
        document = {**model_content(validate_model(model_to_document(model))), "version": 1}
        try:
            self._models.insert_one(document)
        except DuplicateKeyError:
            raise _duplicate_name(model.name) from None
        return _from_document(document)

    @database_errors()
    def get(self, name_or_id: str) -> InvestmentModel:
        """The model with this name, or with this id (ObjectId hex)."""
        return _from_document(self._find(name_or_id))

    @database_errors()
    def list(self) -> builtins.list[InvestmentModel]:
        """Every model, by name."""
        return [_from_document(document) for document in self._models.find().sort("name", 1)]

    @database_errors()
    def replace(
        self, name_or_id: str, model: InvestmentModel, expected_version: int
    ) -> InvestmentModel:
        """Replace name, positions, portfolios and policy (a rename is allowed)."""
        return self._change(name_or_id, expected_version, lambda _: model_to_document(model))

    @database_errors()
    def delete(self, name_or_id: str, expected_version: int | None = None) -> None:
        """Delete the model; with `expected_version`, only if it is still that version."""
        document = self._find(name_or_id)
        query: Document = {"_id": document["_id"]}
        if expected_version is not None:
            self._check_version(document, expected_version)
            query["version"] = expected_version
        if self._models.delete_one(query).deleted_count == 0:
            if expected_version is None:
                raise NotFoundError(f"model {name_or_id!r} not found")
            raise self._stale(document, expected_version)

    @database_errors()
    def import_models(self, models: Sequence[InvestmentModel]) -> ImportReport:
        """Upsert by name: insert new models, replace those whose content differs.

        Unchanged models keep their version, so importing the same files twice
        changes nothing.
        """
        names = [model.name for model in models]
        for index, name in enumerate(names):
            if name in names[:index]:
                raise InputError(f"models[{index}].name", name, "imported twice")
        report = ImportReport()
        for model in models:
            stored = self._models.find_one({"name": model.name})
            if stored is None:
                self.create(model)
                report.created.append(model.name)
            elif _same_content(_from_document(stored), model):
                report.unchanged.append(model.name)
            else:
                self._write(stored, model, stored["version"])
                report.updated.append(model.name)
        return report

    @database_errors()
    def add_position(
        self,
        name_or_id: str,
        *,
        security_id: str,
        target: Decimal,
        low_drift: Decimal = Decimal(0),
        high_drift: Decimal = Decimal(0),
        expected_version: int,
    ) -> InvestmentModel:
        """Add a security to the model (one already there is an `InputError`)."""
        position = {
            "securityId": security_id,
            # As text, so a rejected value reads `target='0.97'`, not `Decimal('0.97')`.
            "target": decimal_text(target),
            "lowDrift": decimal_text(low_drift),
            "highDrift": decimal_text(high_drift),
        }

        def edit(raw: Document) -> Document:
            if any(p["securityId"] == security_id for p in raw["positions"]):
                raise InputError("securityId", security_id, "already in the model; update it")
            return {**raw, "positions": [*raw["positions"], position]}

        return self._change(name_or_id, expected_version, edit)

    @database_errors()
    def update_position(
        self,
        name_or_id: str,
        *,
        security_id: str,
        target: Decimal | None = None,
        low_drift: Decimal | None = None,
        high_drift: Decimal | None = None,
        expected_version: int,
    ) -> InvestmentModel:
        """Change a position's target and/or drifts; a target of 0 removes it."""
        given = {"target": target, "lowDrift": low_drift, "highDrift": high_drift}
        changes = {key: decimal_text(value) for key, value in given.items() if value is not None}
        if not changes:
            raise InputError("position", security_id, "nothing to update: give a target or drift")

        def edit(raw: Document) -> Document:
            _require_position(raw, security_id)
            return {
                **raw,
                "positions": [
                    {**p, **changes} if p["securityId"] == security_id else p
                    for p in raw["positions"]
                ],
            }

        return self._change(name_or_id, expected_version, edit)

    @database_errors()
    def remove_position(
        self, name_or_id: str, *, security_id: str, expected_version: int
    ) -> InvestmentModel:
        """Remove a security from the model."""

        def edit(raw: Document) -> Document:
            _require_position(raw, security_id)
            kept = [p for p in raw["positions"] if p["securityId"] != security_id]
            return {**raw, "positions": kept}

        return self._change(name_or_id, expected_version, edit)

    @database_errors()
    def add_portfolios(
        self, name_or_id: str, portfolio_ids: Sequence[str], *, expected_version: int
    ) -> InvestmentModel:
        """Append portfolios (one already in the model is an `InputError`)."""
        return self._change(
            name_or_id,
            expected_version,
            lambda raw: {**raw, "portfolios": [*raw["portfolios"], *portfolio_ids]},
        )

    @database_errors()
    def remove_portfolios(
        self, name_or_id: str, portfolio_ids: Sequence[str], *, expected_version: int
    ) -> InvestmentModel:
        """Remove portfolios; one not in the model is a `NotFoundError`."""

        def edit(raw: Document) -> Document:
            absent = [pid for pid in portfolio_ids if pid not in raw["portfolios"]]
            if absent:
                raise NotFoundError(f"portfolio {absent[0]!r} is not in model {raw['name']!r}")
            dropped = set(portfolio_ids)
            return {**raw, "portfolios": [p for p in raw["portfolios"] if p not in dropped]}

        return self._change(name_or_id, expected_version, edit)

    @database_errors()
    def change_policy(
        self, name_or_id: str, change: PolicyChange, *, expected_version: int
    ) -> InvestmentModel:
        """Replace the model's policy with `change(current policy)`.

        The version is checked before `change` runs, so a stale version is reported
        as a conflict even when the change would not apply to the current policy.
        """

        def edit(raw: Document) -> Document:
            current = _from_document(raw).policy
            changed = {key: value for key, value in raw.items() if key != "policy"}
            policy = change(current)
            if not policy.is_default:
                changed["policy"] = policy.document()
            return changed

        return self._change(name_or_id, expected_version, edit)

    def set_policy(
        self, name_or_id: str, policy: Policy, *, expected_version: int
    ) -> InvestmentModel:
        """Replace the model's policy; the default policy removes it."""
        return self.change_policy(name_or_id, lambda _: policy, expected_version=expected_version)

    def clear_policy(self, name_or_id: str, *, expected_version: int) -> InvestmentModel:
        """Remove the model's policy (back to every field at its default)."""
        return self.set_policy(name_or_id, DEFAULT_POLICY, expected_version=expected_version)

    @database_errors()
    def set_approval(
        self, name_or_id: str, rule: ApprovalRule, *, expected_version: int
    ) -> InvestmentModel:
        """Set the model's approval rule (`none` removes it), as an edit of its version."""

        def edit(raw: Document) -> Document:
            changed = {key: value for key, value in raw.items() if key != "approval"}
            if rule.needs_approval:
                changed["approval"] = rule.value
            return changed

        return self._change(name_or_id, expected_version, edit)

    @database_errors()
    def find_by_portfolio(self, portfolio_id: str) -> InvestmentModel:
        """The one model that lists the portfolio.

        Writes do not forbid a portfolio in two models; a rebalance needs one, so two
        is an `InputError` naming them, and none a `NotFoundError`.
        """
        parse_globeco_id(portfolio_id, "portfolio")
        found = list(self._models.find({"portfolios": portfolio_id}).sort("name", 1))
        if not found:
            raise NotFoundError(f"portfolio {portfolio_id!r} is in no model")
        if len(found) > 1:
            names = ", ".join(repr(document["name"]) for document in found)
            raise InputError(
                "portfolio", portfolio_id, f"is in {len(found)} models ({names}); keep it in one"
            )
        return _from_document(found[0])

    @database_errors()
    def require_portfolio(self, portfolio_id: str) -> None:
        """`NotFoundError` unless some model lists the portfolio."""
        if self._models.find_one({"portfolios": portfolio_id}, {"_id": 1}) is None:
            raise NotFoundError(f"portfolio {portfolio_id!r} is in no model")

    @database_errors()
    def mark_rebalanced(self, name: str, when: datetime) -> None:
        """Record a rebalance time (the latest wins; not an edit, so no version bump).

        Bumping the version here would make every edit a user started before the
        run fail with a conflict although nothing they edit has changed.
        """
        result = self._models.update_one({"name": name}, {"$max": {"lastRebalanceDate": when}})
        if result.matched_count == 0:
            raise NotFoundError(f"model {name!r} not found")


def _require_position(raw: Document, security_id: str) -> None:
    if not any(p["securityId"] == security_id for p in raw["positions"]):
        raise NotFoundError(f"security {security_id!r} is not in model {raw['name']!r}")
