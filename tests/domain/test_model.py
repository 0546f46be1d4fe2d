"""Every model rule of the shared domain document, with the field and value named."""

from decimal import Decimal
from typing import Any

import pytest

from ordergen.domain.model import model_to_document, validate_model
from ordergen.errors import InputError
from tests.factories import gid, model_doc


def rejected(document: dict[str, Any]) -> InputError:
    with pytest.raises(InputError) as caught:
        validate_model(document)
    return caught.value


def test_valid_model_keeps_order_and_decimals() -> None:
    model = validate_model(model_doc([("A", "0.5", "0.01", "0.02"), ("B", 0.25, 0, "0.1")], ["P"]))
    assert model.security_ids == (gid("A"), gid("B"))
    assert model.positions[1].target == Decimal("0.25")
    assert model.positions[0].high_drift == Decimal("0.02")
    assert model.portfolios == (gid("P"),)


def test_target_not_a_multiple_of_half_a_percent() -> None:
    error = rejected(model_doc([("A", "0.333", "0", "0")], []))
    assert error.field == "positions[0].target" and error.value == "0.333"
    assert "multiple of 0.005" in str(error)


def test_float_targets_compare_as_decimals() -> None:
    # 0.035 is not exact in binary; as a decimal it is a multiple of 0.005.
    model = validate_model(model_doc([("A", 0.035, 0, 0)], []))
    assert model.positions[0].target == Decimal("0.035")


def test_target_above_cap() -> None:
    error = rejected(model_doc([("A", "0.96", "0", "0")], []))
    assert error.field == "positions[0].target"


def test_targets_summing_over_95_percent() -> None:
    error = rejected(model_doc([("A", "0.5", "0", "0"), ("B", "0.455", "0", "0")], []))
    assert error.field == "positions.target" and "0.955" in str(error)


def test_more_than_100_positions() -> None:
    positions = [(f"S{i:03d}", "0.005", "0", "0") for i in range(101)]
    assert rejected(model_doc(positions, [])).field == "positions"


def test_zero_targets_do_not_count_and_are_removed() -> None:
    positions = [(f"S{i:03d}", "0.005", "0", "0") for i in range(100)] + [("Z", "0", "0", "0")]
    model = validate_model(model_doc(positions, []))
    assert len(model.positions) == 100
    assert gid("Z") not in model.security_ids


def test_duplicate_security() -> None:
    error = rejected(model_doc([("A", "0.1", "0", "0"), ("A", "0.2", "0", "0")], []))
    assert error.field == "positions[1].securityId" and "duplicate" in error.problem


def test_duplicate_portfolio() -> None:
    assert rejected(model_doc([], ["P", "P"])).field == "portfolios[1]"


@pytest.mark.parametrize("drift", ["-0.01", "1.5", "abc", True])
def test_drift_outside_zero_one_or_not_a_number(drift: object) -> None:
    error = rejected(model_doc([("A", "0.1", drift, "0")], []))  # type: ignore[list-item]
    assert error.field == "positions[0].lowDrift"


@pytest.mark.parametrize("bad_id", ["short", "x" * 25, "0123456789abcdef0123456-", 12345])
def test_bad_id_shape(bad_id: object) -> None:
    document = model_doc([("A", "0.1", "0", "0")], [])
    document["positions"][0]["securityId"] = bad_id
    error = rejected(document)
    assert error.field == "positions[0].securityId" and error.value == bad_id


def test_unknown_field_is_named() -> None:
    document = model_doc([("A", "0.1", "0", "0")], [])
    document["positions"][0]["lowdrift"] = "0.1"
    assert rejected(document).field == "positions[0].lowdrift"


def test_missing_name() -> None:
    document = model_doc([], [])
    document["name"] = "  "
    assert rejected(document).field == "name"


def test_document_round_trip() -> None:
    model = validate_model(model_doc([("A", "0.5", "0.01", "0.02")], ["P"], name="core"))
    assert validate_model(model_to_document(model)) == model
