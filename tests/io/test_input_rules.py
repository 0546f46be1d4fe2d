"""Wrong input files never become orders: each rule, and the message people read.

Required fields are errors when missing (never zero or nothing held), every number
is checked against its limits before any arithmetic, and the message names the
file, the record, the field and the value as written.
"""

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ordergen.errors import InputError
from ordergen.io.files import read_model, read_positions, read_prices
from tests.factories import gid, model_doc


def summary(cash: object = "100", **fields: Any) -> dict[str, Any]:
    """A valid summary holding 10 A; keyword fields replace (or, as None, remove) fields."""
    document: dict[str, Any] = {
        "portfolioId": gid("P"),
        "cashBalance": cash,
        "securities": [{"securityId": gid("A"), "netQuantity": "10"}],
    }
    for name, value in fields.items():
        if value is None:
            del document[name]
        else:
            document[name] = value
    return document


def refusal(read: Any, path: Path, content: str | bytes) -> str:
    """The one-line message `read` gives for a file holding `content`."""
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(InputError) as caught:
        read(path)
    message = str(caught.value)
    assert message.startswith(str(path)), message
    assert "None" not in message and "Decimal(" not in message and "\n" not in message
    return message[len(str(path)) :]


def positions_refusal(tmp_path: Path, summaries: list[Any]) -> str:
    return refusal(read_positions, tmp_path / "positions.json", json.dumps(summaries))


@pytest.mark.parametrize("field", ["portfolioId", "cashBalance", "securities"])
def test_a_summary_missing_a_required_field_is_refused_not_defaulted(
    tmp_path: Path, field: str
) -> None:
    message = positions_refusal(tmp_path, [summary(), summary(**{field: None})])
    assert message == (
        f": [1].{field} is missing: a portfolio summary needs portfolioId, cashBalance "
        "and securities"
    )


@pytest.mark.parametrize("field", ["securityId", "netQuantity"])
def test_a_security_missing_a_required_field_is_refused(tmp_path: Path, field: str) -> None:
    item = {"securityId": gid("A"), "netQuantity": 3}
    del item[field]
    message = positions_refusal(tmp_path, [summary(securities=[item])])
    assert message.startswith(f": [0].securities[0].{field} is missing")


def test_an_empty_securities_list_is_a_portfolio_holding_only_cash(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text(json.dumps([summary(securities=[])]))
    assert read_positions(path)[gid("P")].quantities == {}


@pytest.mark.parametrize(
    ("cash", "shown"),
    [
        ('"1e400"', '"1e400"'),
        ("1e400", "1E+400"),
        ('"1e13"', '"1e13"'),
        ('"-1000000000000.5"', '"-1000000000000.5"'),
    ],
)
def test_cash_out_of_range_names_the_value_as_written_and_the_limits(
    tmp_path: Path, cash: str, shown: str
) -> None:
    text = json.dumps([summary(), summary(cash="@")]).replace('"@"', cash)
    message = refusal(read_positions, tmp_path / "positions.json", text)
    assert message == (
        f": [1].cashBalance: {shown} is out of range: a cash balance must be between "
        "-1e12 and 1e12 with at most 8 decimal places"
    )


@pytest.mark.parametrize(
    ("token", "problem"),
    [
        ("NaN", "NaN is not a finite number"),
        ("-Infinity", "-Infinity is not a finite number"),
        ('"nan"', '"nan" is not a finite number'),
        ("null", "is null: expected a number or a decimal string"),
        ("true", "true is not a number or a decimal string"),
        ('"12,5"', '"12,5" is not a decimal number'),
        ('"0.000000001"', '"0.000000001" has too many decimal places'),
    ],
)
def test_cash_that_is_not_a_usable_number(tmp_path: Path, token: str, problem: str) -> None:
    text = json.dumps([summary(cash="@")]).replace('"@"', token)
    assert refusal(read_positions, tmp_path / "p.json", text).startswith(
        f": [0].cashBalance{'' if token == 'null' else ':'} {problem}"
    )


@pytest.mark.parametrize(
    ("quantity", "problem"),
    [
        ('"1.5"', '"1.5" is not a whole number: a quantity must be a whole number of shares'),
        ("1e400", "1E+400 is out of range"),
        ('"1e16"', '"1e16" is out of range'),
        ("10000000000000001", "10000000000000001 is out of range"),
        ('"1e-400"', '"1e-400" is not a whole number'),
        ("Infinity", "Infinity is not a finite number"),
    ],
)
def test_quantities_must_be_whole_and_in_range(tmp_path: Path, quantity: str, problem: str) -> None:
    item = {"securityId": gid("A"), "netQuantity": "@"}
    text = json.dumps([summary(securities=[item])]).replace('"@"', quantity)
    message = refusal(read_positions, tmp_path / "p.json", text)
    assert message.startswith(f": [0].securities[0].netQuantity: {problem}")


def test_quantities_and_cash_at_their_limits_are_read(tmp_path: Path) -> None:
    items = [
        {"securityId": gid("A"), "netQuantity": "1000000000000000.00"},
        {"securityId": gid("B"), "netQuantity": -(10**15)},
    ]
    path = tmp_path / "p.json"
    path.write_text(json.dumps([summary(cash="-1e12", securities=items)]))
    held = read_positions(path)[gid("P")]
    assert held.cash == Decimal("-1e12")
    assert held.quantities == {gid("A"): 10**15, gid("B"): -(10**15)}


@pytest.mark.parametrize(
    ("price", "problem"),
    [
        ('"1e400"', '"1e400" is out of range'),
        ("1e400", "1E+400 is out of range"),
        ('"1e30"', '"1e30" is out of range'),
        ("1e30", "1E+30 is out of range"),
        ('"1e-400"', '"1e-400" is out of range'),
        ("1e-400", "1E-400 is out of range"),
        ('"0.0005"', '"0.0005" is out of range'),
        ('"1.000000001"', '"1.000000001" has too many decimal places'),
        ("NaN", "NaN is not a finite number"),
        ("Infinity", "Infinity is not a finite number"),
        ('"-5"', '"-5" is not positive'),
        ("0", "0 is not positive"),
        ('""', '"" is not a decimal number'),
        ("{}", "{} is not a number or a decimal string"),
    ],
)
def test_prices_must_be_finite_positive_and_in_range(
    tmp_path: Path, price: str, problem: str
) -> None:
    text = json.dumps({gid("A"): "10", gid("B"): "@"}).replace('"@"', price)
    message = refusal(read_prices, tmp_path / "prices.json", text)
    assert message.startswith(f": {gid('B')}: {problem}")
    if "range" in problem or "places" in problem:
        assert message.endswith(
            ": a price must be between 0.001 and 1e9 with at most 8 decimal places"
        )


def test_prices_csv_applies_the_same_limits(tmp_path: Path) -> None:
    text = f"security_id,price\n{gid('A')},10\n{gid('B')},1e400\n"
    message = refusal(read_prices, tmp_path / "prices.csv", text)
    assert message.startswith(':3: price: "1e400" is out of range: a price must be between')


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("p.json", "", " is empty: expected a JSON list of portfolio summaries or a CSV file"),
        ("p.json", " \n\t\n", " is empty: expected a JSON list"),
        ("p.csv", "", " is empty: expected a JSON list of portfolio summaries or a CSV file"),
        ("p.json", b'[{"portfolioId": "\xff"}]', " is not UTF-8 text: byte 0xff at offset 18"),
        ("p.csv", b"portfolio_id,security_id,quantity\n\xc3(,,1\n", " is not UTF-8 text"),
        ("p.json", "[1,", " is not valid JSON: expecting value at line 1, column 4"),
        ("p.json", '{"a": 1}', " must hold a JSON list of portfolio summaries, not an object"),
        ("p.json", "[" + "1" * 5000 + "]", " is not usable JSON: it holds a number with too"),
        ("p.json", "[" * 100_000, " is not usable JSON: it is nested too deeply"),
        ("p.json", '[{"cashBalance": 1, "cashBalance": 2}]', ' is not usable JSON: the key "cash'),
        ("p.json", "[1]", ": [0] must be a portfolio summary object, not a number"),
    ],
)
def test_unusable_positions_files_say_what_is_wrong(
    tmp_path: Path, name: str, content: str | bytes, problem: str
) -> None:
    assert refusal(read_positions, tmp_path / name, content).startswith(problem)


def test_a_byte_order_mark_is_not_part_of_the_text(tmp_path: Path) -> None:
    path = tmp_path / "prices.csv"
    path.write_bytes(f"\ufeffsecurity_id,price\n{gid('A')},10\n".encode())
    assert read_prices(path) == {gid("A"): Decimal(10)}


def test_a_missing_file_or_a_directory_cannot_be_read(tmp_path: Path) -> None:
    for path, reason in ((tmp_path / "nope.json", "no such file"), (tmp_path, "is a directory")):
        with pytest.raises(InputError) as caught:
            read_prices(path)
        assert str(caught.value).startswith(f"{path} cannot be read: {reason}")


HEADER = "portfolio_id,security_id,quantity\n"
CASH = f"{gid('P')},,100\n"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("portfolio_id,security_id\n", ": column quantity is missing: the columns are "),
        (HEADER.replace("\n", ",extra\n"), ': column: "extra" is an unknown column'),
        ("portfolio_id,quantity,quantity\n", ': column: "quantity" is given twice'),
        (HEADER + f"{gid('P')},,1,2\n", ":2 has 4 values but the header has 3 columns"),
        (HEADER + CASH + f"{gid('P')},{gid('A')}\n", ":3 has 2 values but the header has 3"),
        (HEADER + CASH + f"{gid('P')},{gid('A')},\n", ":3: quantity is missing"),
        (HEADER + f",{gid('A')},1\n", ":2: portfolio_id is missing"),
        (HEADER + CASH + CASH, ":3: security_id is empty a second time for portfolio"),
        (HEADER + f"{gid('P')},{gid('A')},5\n", f": portfolio {gid('P')} has no cash row"),
        (HEADER + CASH + f"{gid('P')},{gid('A')},1e16\n", ':3: quantity: "1e16" is out of range'),
        (HEADER + f"{gid('P')},,nan\n", ':2: quantity: "nan" is not a finite number'),
        (HEADER + f'{gid("P")},,"{"9" * 200_000}"\n', ":2 is not valid CSV: field larger than"),
    ],
)
def test_positions_csv_problems(tmp_path: Path, text: str, problem: str) -> None:
    assert refusal(read_positions, tmp_path / "positions.csv", text).startswith(problem)


def test_positions_csv_skips_blank_lines_and_reads_columns_in_any_order(tmp_path: Path) -> None:
    path = tmp_path / "positions.csv"
    rows = f"100,,{gid('P')}\n7,{gid('A')},{gid('P')}\n"
    path.write_text(f"\nquantity, security_id ,portfolio_id\n\n{rows}")
    held = read_positions(path)[gid("P")]
    assert (held.cash, dict(held.quantities)) == (Decimal(100), {gid("A"): 7})


def model_text(**position: object) -> str:
    document = model_doc([("A", "0.5", "0.01", "0.01")], ["P"])
    document["positions"][0].update(position)
    return json.dumps(document)


@pytest.mark.parametrize(
    ("position", "problem"),
    [
        ({"target": "NaN"}, '.target: "NaN" is not a finite number'),
        ({"target": "1e400"}, '.target: "1e400" must be in [0, 0.95]'),
        ({"target": "1e-400"}, '.target: "1e-400" must be a multiple of 0.005'),
        ({"target": []}, ".target: [] is not a number or a decimal string"),
        ({"lowDrift": "Infinity"}, '.lowDrift: "Infinity" is not a finite number'),
        ({"highDrift": "1e400"}, '.highDrift: "1e400" must be in [0, 1]'),
        ({"highDrift": "1e-400"}, '.highDrift: "1e-400" has too many decimal places'),
        ({"lowDrift": "0.123456789"}, '.lowDrift: "0.123456789" has too many decimal places'),
    ],
)
def test_model_numbers_are_checked_cleanly(
    tmp_path: Path, position: dict[str, object], problem: str
) -> None:
    message = refusal(read_model, tmp_path / "model.json", model_text(**position))
    assert message.startswith(f": positions[0]{problem}")


def test_model_numbers_written_with_extra_zeros_are_kept_short(tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    path.write_text(model_text(target="0.500000000000000000000000000000", lowDrift="0.0100000000"))
    position = read_model(path).positions[0]
    assert position.target == Decimal("0.5") and position.low_drift == Decimal("0.01")
    for number in (position.target, position.low_drift):
        assert number.as_tuple().exponent >= -8  # type: ignore[operator]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("name: m\npositions:\n  - {securityId: x, 1: 2}\n", ": 1 is not a text key"),
        ("name: m\nlastRebalanceDate: 2024-13-01\n", " is not valid YAML: month must be in 1..12"),
        ("name: [\n", " is not valid YAML: "),
        (
            f"name: m\npositions:\n  - {{securityId: {gid('A')}, target: .nan}}\n",
            ": positions[0].target: NaN is not a finite number",
        ),
        (
            f"name: m\npositions:\n  - {{securityId: {gid('A')}, target: 0.5, "
            "lowDrift: 1.0e+400}\n",
            ": positions[0].lowDrift: 1.0E+400 must be in [0, 1]",
        ),
    ],
)
def test_yaml_models(tmp_path: Path, text: str, problem: str) -> None:
    assert refusal(read_model, tmp_path / "model.yaml", text).startswith(problem)


def test_yaml_floats_are_read_as_the_decimals_written(tmp_path: Path) -> None:
    path = tmp_path / "model.yaml"
    path.write_text(
        f"name: m\npositions:\n  - {{securityId: {gid('A')}, target: 0.035, lowDrift: 1_0.0e-3}}\n"
    )
    position = read_model(path).positions[0]
    assert (position.target, position.low_drift) == (Decimal("0.035"), Decimal("0.01"))
