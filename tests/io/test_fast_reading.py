"""The bulk positions readers agree with the per-value reader, and the digest is unchanged.

`json_positions` and `csv_positions` may decline a file (None) but must never accept
one the per-value reader refuses, nor read one differently: same portfolios in the
same order, same cash (digits and exponent), same quantities in the same order.
"""

import hashlib
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ordergen.domain.holdings import Holdings, check_market_values, market_value
from ordergen.errors import InputError
from ordergen.io.fast_positions import csv_positions, json_positions
from ordergen.io.files import content_digest, read_positions_per_value
from tests.factories import gid

AGREE = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

IDS = [gid(name) for name in "PQRSTUVWXYZ"]
SECURITIES = [gid(name) for name in "ABCDEFGHIJKLMNO"]
BAD_IDS = ["", "short", gid("A").lower() + "x", "Ａ" * 24, 12, None]
QUANTITIES: list[object] = [
    "10", "0", "007", "-5", "+5", "1.0", "1.5", "", " 5", "1e3", "١٢", "9" * 15, "9" * 16,
    10, -3, 10**15, 10**15 + 1, 2**70, True, 1.0, 2.5, None, [1],
]  # fmt: skip
CASH: list[object] = ["100", "100.50", "1.10", "-7", "1e3", "0.123456789", "1e13", 5, 1.5, None]


def rarely_bad(good: list[Any], bad: list[Any]) -> st.SearchStrategy[Any]:
    """A good value 29 times in 30, else a bad one."""
    return st.integers(0, 29).flatmap(lambda roll: st.sampled_from(bad if roll == 0 else good))


def ids(good: list[str], bad: list[object]) -> st.SearchStrategy[object]:
    return rarely_bad(good, bad)


@st.composite
def summaries(draw: st.DrawFn) -> list[Any]:
    """Portfolio summaries, mostly valid, some with one or more things wrong."""
    found = []
    for _ in range(draw(st.integers(0, 4))):
        items = []
        for _ in range(draw(st.integers(0, 4))):
            item: dict[str, object] = {
                "securityId": draw(ids(SECURITIES, BAD_IDS)),
                "netQuantity": draw(rarely_bad([*QUANTITIES[:3], 10, -3], QUANTITIES)),
            }
            if draw(st.integers(0, 29)) == 0:
                del item[draw(st.sampled_from(["securityId", "netQuantity"]))]
            if draw(st.integers(0, 29)) == 0:
                item["note"] = draw(st.sampled_from(["x:y", 1, {"a": 1}]))
            items.append(item)
        summary: dict[str, object] = {
            "portfolioId": draw(ids(IDS, BAD_IDS)),
            "cashBalance": draw(rarely_bad([*CASH[:4], 5], CASH)),
            "securities": items,
        }
        for name in ("securityCount", "lastUpdated", "other"):
            if draw(st.integers(0, 5)) == 0 and (name != "other" or draw(st.integers(0, 4)) == 0):
                summary[name] = draw(
                    st.sampled_from(["2024-01-02T10:11:12Z", 3, 2.5, None, [1], {"a:b": 1}])
                )
        if draw(st.integers(0, 29)) == 0:
            del summary[draw(st.sampled_from(["portfolioId", "cashBalance", "securities"]))]
        found.append(summary)
    return found


def json_text(draw: st.DrawFn, document: Any) -> str:
    text = json.dumps(document, indent=draw(st.sampled_from([None, 1])))
    change = draw(st.integers(0, 15))
    if change == 0 and '"securityId":' in text:  # a key given twice in one object
        text = text.replace('"securityId":', '"securityId": "x", "securityId":', 1)
    elif change == 1 and '"cashBalance":' in text:
        text = text.replace('"cashBalance":', '"cashBalance": 1, "cashBalance":', 1)
    elif change == 2:
        text = text.replace(gid("A"), gid("A")[:-1] + "\\u0041", 1)  # an escape
    elif change == 3:
        text = "\ufeff" + text
    elif change == 4:
        text = text.replace('"100"', "NaN", 1)
    return text


def same(fast: dict[str, Holdings], exact: dict[str, Holdings]) -> None:
    """Equal, in the same order, with cash spelt alike (Decimal == ignores the exponent)."""
    assert list(fast) == list(exact)
    for key, held in fast.items():
        other = exact[key]
        assert held == other
        assert str(held.cash) == str(other.cash)
        assert list(held.quantities.items()) == list(other.quantities.items())
        assert all(type(quantity) is int for quantity in held.quantities.values())


def agree(path: Path, data: bytes, fast: dict[str, Holdings] | None) -> None:
    try:
        exact = read_positions_per_value(path, data)
    except InputError:
        assert fast is None, "the bulk reader accepted a file the per-value reader refuses"
        return
    if fast is not None:
        same(fast, exact)


@AGREE
@given(data=st.data())
def test_json_bulk_reader_agrees_with_the_per_value_reader(tmp_path: Path, data: Any) -> None:
    text = json_text(data.draw, data.draw(summaries()))
    agree(tmp_path / "p.json", text.encode(), json_positions(text.encode()))


@st.composite
def csv_text(draw: st.DrawFn) -> str:
    columns = draw(st.permutations(["portfolio_id", "security_id", "quantity"]))
    rows = []
    for portfolio in draw(st.lists(ids(IDS, BAD_IDS[:3]), max_size=3)):
        rows.append({"portfolio_id": portfolio, "security_id": "", "quantity": "100.5"})
        for _ in range(draw(st.integers(0, 3))):
            quantity = draw(
                rarely_bad(["10", "-5", "007"], [q for q in QUANTITIES if isinstance(q, str)])
            )
            rows.append(
                {
                    "portfolio_id": portfolio,
                    "security_id": draw(ids(SECURITIES, ["", "x"])),
                    "quantity": quantity,
                }
            )
    rows = draw(st.permutations(rows)) if draw(st.booleans()) else rows
    space = draw(st.sampled_from(["", " "]))
    lines = [",".join(f"{space}{name}" for name in columns)]
    lines += [",".join(f"{space}{row[name]}" for name in columns) for row in rows]
    if draw(st.integers(0, 5)) == 0 and lines:
        lines.insert(draw(st.integers(0, len(lines))), draw(st.sampled_from(["", "a,b", '"x",,1'])))
    end = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    return end.join(lines) + draw(st.sampled_from(["", end]))


@AGREE
@given(text=csv_text())
def test_csv_bulk_reader_agrees_with_the_per_value_reader(tmp_path: Path, text: str) -> None:
    agree(tmp_path / "p.csv", text.encode(), csv_positions(text.encode()))


def test_usual_files_are_read_in_bulk(tmp_path: Path) -> None:
    summary = {
        "portfolioId": IDS[0],
        "cashBalance": "100.50",
        "lastUpdated": "2024-01-02T10:11:12Z",
        "securities": [
            {"securityId": SECURITIES[0], "netQuantity": "10"},
            {"securityId": SECURITIES[1], "netQuantity": -3},
        ],
    }
    data = json.dumps([summary], indent=1).encode()
    fast = json_positions(data)
    assert fast is not None
    same(fast, read_positions_per_value(tmp_path / "p.json", data))
    text = (
        f"portfolio_id,security_id,quantity\r\n{IDS[0]},,100.50\r\n"
        f"{IDS[0]},{SECURITIES[0]},10\r\n{IDS[0]},{SECURITIES[1]},-3\r\n"
    )
    fast = csv_positions(text.encode())
    assert fast is not None
    same(fast, read_positions_per_value(tmp_path / "p.csv", text.encode()))


def test_the_digest_frames_each_file_and_string_with_a_nul_byte() -> None:
    expected = content_digest((b"[]\n", b"x,y\r\n"), "model", "auto", "")
    # The framing, spelt out: each file's bytes and each string followed by a NUL byte.
    assert expected == hashlib.sha256(b"[]\n\0x,y\r\n\0model\0auto\0\0").hexdigest()


PRICES = {SECURITIES[0]: Decimal("0.001"), SECURITIES[1]: Decimal("1e9")}


@settings(max_examples=200, deadline=None)
@given(
    cash=st.decimals(-(10**12) - 10, 10**12 + 10, places=3),
    first=st.integers(-(10**15), 10**15),
    second=st.integers(-(10**4), 10**4),
)
def test_market_value_screening_refuses_exactly_what_market_value_refuses(
    cash: Decimal, first: int, second: int
) -> None:
    held = Holdings(IDS[0], cash, {SECURITIES[0]: first, SECURITIES[1]: second})
    try:
        market_value(held, PRICES)
    except InputError as exc:
        with pytest.raises(InputError) as caught:
            check_market_values([held], PRICES)
        assert str(caught.value) == str(exc)
    else:
        check_market_values([held], PRICES)


@settings(AGREE, max_examples=50)
@given(data=st.data())
def test_json_bulk_reader_read_in_pieces_agrees_with_the_per_value_reader(
    tmp_path: Path, data: Any
) -> None:
    # Pieces of a few bytes: a cut after nearly every summary, wherever one may fall.
    text = json_text(data.draw, data.draw(summaries()))
    piece_bytes = data.draw(st.integers(1, 300))
    agree(tmp_path / "p.json", text.encode(), json_positions(text.encode(), piece_bytes))


@pytest.mark.parametrize("indent", [None, 1])
def test_a_usual_file_read_in_pieces_is_read_in_bulk(tmp_path: Path, indent: int | None) -> None:
    document = [
        {
            "portfolioId": portfolio,
            "cashBalance": f"{index}.25",
            "securities": [
                {"netQuantity": str(index * 7 + held), "securityId": security}
                for held, security in enumerate(SECURITIES[: index + 1])
            ],
            "securityCount": index + 1,
        }
        for index, portfolio in enumerate(IDS)
    ]
    data = json.dumps(document, indent=indent, sort_keys=True).encode()
    exact = read_positions_per_value(tmp_path / "p.json", data)
    for piece_bytes in (1, 100, 1000, len(data)):
        fast = json_positions(data, piece_bytes)
        assert fast is not None
        same(fast, exact)


def test_a_portfolio_given_again_in_a_later_piece_is_left_to_the_per_value_reader() -> None:
    summary = {"portfolioId": IDS[0], "cashBalance": "1", "securities": []}
    data = json.dumps([summary, {**summary, "cashBalance": "2"}]).encode()
    assert json_positions(data, 1) is None
