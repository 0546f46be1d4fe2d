"""Reading the input files: shapes, numbers as strings, and one-line errors."""

import json
from decimal import Decimal
from pathlib import Path

import pytest

from ordergen.errors import InputError
from ordergen.io.files import read_model, read_positions, read_prices
from tests.factories import gid, model_doc


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_model_yaml_and_json_read_the_same(tmp_path: Path) -> None:
    document = model_doc([("A", "0.5", "0.01", "0.01")], ["P"])
    from_json = read_model(write(tmp_path / "m.json", json.dumps(document)))
    yaml_text = (
        f"name: m\npositions:\n  - securityId: {gid('A')}\n    target: 0.5\n"
        f"    lowDrift: 0.01\n    highDrift: 0.01\nportfolios: [{gid('P')}]\n"
    )
    assert read_model(write(tmp_path / "m.yaml", yaml_text)) == from_json


def test_model_error_names_file_and_field(tmp_path: Path) -> None:
    path = write(tmp_path / "m.json", json.dumps(model_doc([("A", "0.333", "0", "0")], [])))
    with pytest.raises(InputError) as caught:
        read_model(path)
    assert str(path) in caught.value.field and "positions[0].target" in caught.value.field


def test_malformed_json(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is not valid JSON"):
        read_model(write(tmp_path / "m.json", '{"name": '))


def test_positions_json_with_strings_and_numbers(tmp_path: Path) -> None:
    summaries = [
        {
            "portfolioId": gid("P"),
            "cashBalance": "100.50",
            "securities": [
                {"securityId": gid("A"), "netQuantity": "10.00"},
                {"securityId": gid("B"), "netQuantity": -3},
            ],
        },
        {"portfolioId": gid("Q"), "cashBalance": 5, "securities": []},
    ]
    found = read_positions(write(tmp_path / "p.json", json.dumps(summaries)))
    assert found[gid("P")].cash == Decimal("100.50")
    assert found[gid("P")].quantities == {gid("A"): 10, gid("B"): -3}
    assert found[gid("Q")].quantities == {}


def test_positions_csv_with_cash_rows(tmp_path: Path) -> None:
    text = f"portfolio_id,security_id,quantity\n{gid('P')},,250.5\n{gid('P')},{gid('A')},7\n"
    found = read_positions(write(tmp_path / "p.csv", text))
    assert found[gid("P")].cash == Decimal("250.5")
    assert found[gid("P")].quantities == {gid("A"): 7}


def test_positions_csv_unknown_column(tmp_path: Path) -> None:
    text = f"portfolio_id,security_id,qty\n{gid('P')},,1\n"
    with pytest.raises(InputError) as caught:
        read_positions(write(tmp_path / "p.csv", text))
    assert caught.value.value == "qty" and "unknown column" in caught.value.problem


def test_fractional_share_quantity_is_refused(tmp_path: Path) -> None:
    text = f"portfolio_id,security_id,quantity\n{gid('P')},{gid('A')},1.5\n"
    with pytest.raises(InputError, match="whole number"):
        read_positions(write(tmp_path / "p.csv", text))


def test_duplicate_portfolio_in_positions(tmp_path: Path) -> None:
    summaries = [{"portfolioId": gid("P"), "cashBalance": "1", "securities": []}] * 2
    with pytest.raises(InputError, match="duplicate portfolio"):
        read_positions(write(tmp_path / "p.json", json.dumps(summaries)))


def test_prices_json_and_csv(tmp_path: Path) -> None:
    from_json = read_prices(
        write(tmp_path / "p.json", json.dumps({gid("A"): "12.34", gid("B"): 5}))
    )
    from_csv = read_prices(
        write(tmp_path / "p.csv", f"security_id,price\n{gid('A')},12.34\n{gid('B')},5\n")
    )
    assert from_json == from_csv == {gid("A"): Decimal("12.34"), gid("B"): Decimal(5)}


@pytest.mark.parametrize("price", ["0", "-1", "abc", "NaN"])
def test_bad_price(tmp_path: Path, price: str) -> None:
    with pytest.raises(InputError) as caught:
        read_prices(write(tmp_path / "p.json", json.dumps({gid("A"): price})))
    assert gid("A") in caught.value.field and caught.value.value == price


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot be read: no such file"):
        read_prices(tmp_path / "absent.json")
