"""Fuzzing `ordergen rebalance` with malformed and extreme model, positions and prices files.

Whatever the files hold (wrong types, missing and extra fields, numbers such as
1e400, 1e-400, NaN and Infinity, empty files, bad UTF-8, CSV with missing or extra
columns; model policies and portfolio policy files too), the command never crashes:
it exits 0, 2 or 3, never 1, prints no traceback, and an input error (exit 2) leaves
no orders file and says what is wrong in words (no `None`, no `Decimal(...)`).
"""

import copy
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from ordergen.cli.main import app
from ordergen.errors import ExitCode, InputError
from ordergen.io.policy_files import read_portfolio_policies
from tests.factories import gid, model_doc
from tests.raw_json import RAW, dumps

runner = CliRunner()

FUZZ = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

"""Prefix of a string that `dumps` writes as a bare JSON token (1e400, NaN, ...)."""

MODEL = model_doc([("S", "0.60", "0.05", "0.05"), ("B", "0.30", "0.03", "0.03")], ["P", "Q"])
POSITIONS = [
    {
        "portfolioId": gid("P"),
        "cashBalance": "5000",
        "securities": [
            {"securityId": gid("S"), "netQuantity": "500"},
            {"securityId": gid("B"), "netQuantity": 400},
        ],
    },
    {"portfolioId": gid("Q"), "cashBalance": "95000", "securities": []},
]
PRICES = {gid("S"): "100", gid("B"): 100}
DOCUMENTS = {"model": MODEL, "positions": POSITIONS, "prices": PRICES}

# Numbers at and beyond every limit, written the ways people and programs write them.
EXTREME_TOKENS = [
    "1e400",
    "-1e400",
    "1e-400",
    "1e30",
    "1e12",
    "1e15",
    "1e16",
    "0.001",
    "1e-9",
    "NaN",
    "Infinity",
    "-Infinity",
    "0",
    "-0",
    "-1",
    "1.5",
    "0.123456789",
    "1" * 400,
    "1" * 5000,
]
EXTREME_STRINGS = [
    *EXTREME_TOKENS,
    "nan",
    "inf",
    "sNaN",
    "",
    " ",
    "abc",
    "1,5",
    "0x10",
    "1_000",
    "1e999999999999999999999",
    "\u0661\u0662",  # Arabic-Indic digits
]
text = st.text(max_size=12).filter(lambda s: "None" not in s and "Decimal" not in s)
nasty_value = st.one_of(
    st.sampled_from(EXTREME_STRINGS),
    st.sampled_from(EXTREME_TOKENS).map(lambda token: RAW + token),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**20), max_value=10**20),
    text,
    st.none(),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(text, st.integers(), max_size=2),
)


def value_paths(document: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """The path of every value inside `document`, containers included (not the root)."""
    children: list[tuple[Any, Any]] = []
    if isinstance(document, dict):
        children = list(document.items())
    elif isinstance(document, list):
        children = list(enumerate(document))
    for key, child in children:
        yield (*path, key)
        yield from value_paths(child, (*path, key))


def container_at(document: Any, path: tuple[Any, ...]) -> Any:
    for key in path[:-1]:
        document = document[key]
    return document


def is_leaf(document: Any, path: tuple[Any, ...]) -> bool:
    return not isinstance(container_at(document, path)[path[-1]], (dict, list))


@st.composite
def mutated_document(draw: st.DrawFn, original: Any) -> Any:
    """`original` with one to three values replaced, fields removed or fields added.

    Replacing a scalar is the most likely change, so most examples get past the
    document's shape to the checks of the values themselves.
    """
    document = copy.deepcopy(original)
    for _ in range(draw(st.integers(1, 3))):
        paths = list(value_paths(document))
        if not paths:
            return draw(nasty_value)  # everything is gone: the root itself
        kind = draw(st.sampled_from(["replace scalar"] * 4 + ["replace", "remove", "add"]))
        leaves = [path for path in paths if is_leaf(document, path)]
        path = draw(st.sampled_from(leaves if kind == "replace scalar" and leaves else paths))
        parent = container_at(document, path)
        if kind.startswith("replace"):
            parent[path[-1]] = draw(nasty_value)
        elif kind == "remove":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(text)] = draw(nasty_value)
        else:
            parent.append(draw(nasty_value))
    return document


NUMBER_FIELDS = {"cashBalance", "netQuantity", "target", "lowDrift", "highDrift"}
"""Keys whose values are numbers (prices are the values of the prices object)."""

extreme_number = st.one_of(
    st.sampled_from(EXTREME_TOKENS),
    st.sampled_from(EXTREME_TOKENS).map(lambda token: RAW + token),
    st.sampled_from(["1000000000", "999999999.99999999", "0.00100000", "-1e12", "1e15", "-1e15"]),
    st.decimals(min_value=-(10**16), max_value=10**16, places=3).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.integers(min_value=-(10**16), max_value=10**16),
    st.floats(allow_nan=True, allow_infinity=True),
)


@st.composite
def extreme_numbers(draw: st.DrawFn, original: Any, prices: bool) -> Any:
    """`original` (shape intact) with one to four of its numbers made extreme."""
    document = copy.deepcopy(original)
    numbers = [
        path
        for path in value_paths(document)
        if is_leaf(document, path) and (prices or path[-1] in NUMBER_FIELDS)
    ]
    for path in draw(st.lists(st.sampled_from(numbers), min_size=1, max_size=4)):
        container_at(document, path)[path[-1]] = draw(extreme_number)
    return document


def rebalance(folder: Path, files: dict[str, tuple[str, str | bytes]]) -> tuple[Result, Path]:
    """Write the three files (name -> (suffix, content)), run the CLI, return its result."""
    paths: dict[str, Path] = {}
    for name, (suffix, content) in files.items():
        paths[name] = folder / f"{name}{suffix}"
        if isinstance(content, bytes):
            paths[name].write_bytes(content)
        else:
            paths[name].write_text(content, encoding="utf-8")
    output = folder / "orders.json"
    result = runner.invoke(
        app,
        [
            "rebalance",
            "--model-file",
            str(paths["model"]),
            "--positions",
            str(paths["positions"]),
            "--prices",
            str(paths["prices"]),
            "--output",
            str(output),
            "--jobs",
            "1",
        ],
        env={"OPTIMIZATION_TIMEOUT": "5"},
    )
    return result, output


def check(result: Result, output: Path) -> None:
    """Never exit 1, never a traceback; exit 2 writes nothing and says why in words."""
    assert result.exit_code in (ExitCode.OK, ExitCode.INPUT, ExitCode.PARTIAL), (
        result.exit_code,
        result.output[-2000:],
        repr(result.exception),
    )
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    if result.exit_code == ExitCode.INPUT:
        assert not output.exists()
        errors = [line for line in result.output.splitlines() if line.startswith("error: ")]
        assert len(errors) == 1, result.output
        assert "None" not in errors[0] and "Decimal(" not in errors[0], errors[0]
    else:
        assert "summary" in json.loads(output.read_text())


def json_files(**replaced: str | bytes) -> dict[str, tuple[str, str | bytes]]:
    files: dict[str, tuple[str, str | bytes]] = {
        name: (".json", dumps(document)) for name, document in DOCUMENTS.items()
    }
    files.update({name: (".json", content) for name, content in replaced.items()})
    return files


def test_the_unmutated_files_rebalance() -> None:
    """The baseline the fuzzing mutates is valid, so refusals below come from the mutation."""
    with tempfile.TemporaryDirectory() as folder:
        result, output = rebalance(Path(folder), json_files())
        assert result.exit_code == ExitCode.OK, result.output
        check(result, output)


@FUZZ
@given(data=st.data())
def test_mutated_json_documents(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(sorted(DOCUMENTS)))
    document = data.draw(mutated_document(DOCUMENTS[name]))
    with tempfile.TemporaryDirectory() as folder:
        check(*rebalance(Path(folder), json_files(**{name: dumps(document)})))


@FUZZ
@given(data=st.data())
def test_extreme_numbers_in_well_formed_files(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(sorted(DOCUMENTS)))
    document = data.draw(extreme_numbers(DOCUMENTS[name], prices=name == "prices"))
    with tempfile.TemporaryDirectory() as folder:
        check(*rebalance(Path(folder), json_files(**{name: dumps(document)})))


whole_file = st.one_of(
    st.sampled_from(["", " ", "\n\n", "null", "[]", "{}", "0", '"x"', "[[]]", "[{}]", "NaN"]),
    st.binary(max_size=64),
    st.text(max_size=64),
    st.sampled_from([b"\xff\xfe", b"\xef\xbb\xbf", b"[\xc3(]", b'{"a": "\xe2\x82"}']),
)


@FUZZ
@given(data=st.data())
def test_empty_garbled_and_truncated_files(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(sorted(DOCUMENTS)))
    valid = dumps(DOCUMENTS[name])
    content = data.draw(
        st.one_of(
            whole_file,
            st.integers(0, len(valid) - 1).map(lambda cut: valid[:cut]),  # truncated
        )
    )
    with tempfile.TemporaryDirectory() as folder:
        check(*rebalance(Path(folder), json_files(**{name: content})))


def csv_rows() -> dict[str, list[list[str]]]:
    """The positions and prices documents as CSV rows (header first)."""
    positions = [["portfolio_id", "security_id", "quantity"]]
    for item in POSITIONS:
        positions.append([item["portfolioId"], "", str(item["cashBalance"])])
        positions += [
            [item["portfolioId"], held["securityId"], str(held["netQuantity"])]
            for held in item["securities"]
        ]
    prices = [["security_id", "price"], *([sid, str(p)] for sid, p in PRICES.items())]
    return {"positions": positions, "prices": prices}


csv_cell = st.one_of(st.sampled_from(EXTREME_STRINGS), text.map(lambda s: s.replace('"', "")))


@st.composite
def mutated_csv(draw: st.DrawFn, rows: list[list[str]]) -> str:
    """`rows` with cells replaced, values or columns dropped or added, rows dropped."""
    rows = [list(row) for row in rows]
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["cell", "drop value", "add value", "drop column", "drop row"]))
        row = draw(st.integers(0, len(rows) - 1))
        if kind == "cell" and rows[row]:
            rows[row][draw(st.integers(0, len(rows[row]) - 1))] = draw(csv_cell)
        elif kind == "drop value" and rows[row]:
            rows[row].pop()
        elif kind == "add value":
            rows[row].append(draw(csv_cell))
        elif kind == "drop column" and rows[0]:
            column = draw(st.integers(0, len(rows[0]) - 1))
            rows = [[v for i, v in enumerate(r) if i != column] for r in rows]
        elif kind == "drop row" and len(rows) > 1:
            del rows[row]
    return "".join(
        ",".join(f'"{value}"' if "," in value else value for value in row) + "\n" for row in rows
    )


@FUZZ
@given(data=st.data())
def test_mutated_csv_inputs(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(["positions", "prices"]))
    rows = csv_rows()
    files = json_files()
    for csv_name, csv_document in rows.items():
        files[csv_name] = (".csv", "".join(",".join(row) + "\n" for row in csv_document))
    files[name] = (".csv", data.draw(mutated_csv(rows[name])))
    with tempfile.TemporaryDirectory() as folder:
        check(*rebalance(Path(folder), files))


POLICY = {
    "trigger": "outside-bands",
    "innerBand": "0.875",
    "mode": "full",
    "cashReserve": {"amount": "100", "fraction": "0.01"},
    "minTrade": {"amount": "500", "fraction": "0", "shares": 1},
    "tradeCost": {"perOrder": "5", "bps": "2"},
    "restrictions": {gid("S"): "no-sell"},
}


def test_a_model_with_the_unmutated_policy_rebalances() -> None:
    with tempfile.TemporaryDirectory() as folder:
        model = dumps({**MODEL, "policy": POLICY})
        result, output = rebalance(Path(folder), json_files(model=model))
        assert result.exit_code == ExitCode.OK, result.output
        check(result, output)


@FUZZ
@given(data=st.data())
def test_mutated_model_policies(data: st.DataObject) -> None:
    wrapped = data.draw(mutated_document({"policy": POLICY}))
    model = {**MODEL, **wrapped} if isinstance(wrapped, dict) else {**MODEL, "policy": wrapped}
    with tempfile.TemporaryDirectory() as folder:
        check(*rebalance(Path(folder), json_files(model=dumps(model))))


@FUZZ
@given(data=st.data())
def test_mutated_portfolio_policy_files_are_read_or_refused_in_words(data: st.DataObject) -> None:
    overrides = {gid("P"): {**POLICY, "cashNeed": "2500"}, gid("Q"): {"mode": "sell-only"}}
    document = data.draw(mutated_document(overrides))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "policies.json"
        path.write_text(dumps(document), encoding="utf-8")
        try:
            read_portfolio_policies(path)
        except InputError as error:
            message = str(error)
            assert "\n" not in message and "None" not in message and "Decimal(" not in message
