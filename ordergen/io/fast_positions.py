"""Positions files in their usual shape, read in bulk.

`ordergen.io.files.read_positions` tries these readers first. Each either returns
exactly what the exact reader (per value, in file order) would return, or None:
for a file in any other shape, or with anything wrong in it, the exact reader then
reads the same bytes and reports the first problem with its precise message. So
these readers only have to be right about what they accept; they never word an
error.

What makes them fast: a positions file repeats a few hundred security ids and
quantity spellings a million times, so each distinct value is parsed and checked
once (the exact `ordergen.domain.values` functions, applied to the set of distinct
values) and the rows are mapped through the results with C-level loops.
"""

import codecs
import re
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from itertools import chain, groupby
from operator import itemgetter
from typing import Any

import orjson

from ordergen.collector import cyclic_gc_paused
from ordergen.domain.holdings import Holdings
from ordergen.domain.values import (
    parse_cash,
    parse_globeco_id,
    parse_whole_number,
)
from ordergen.errors import InputError

_SUMMARY_FIELDS = frozenset(
    {"portfolioId", "cashBalance", "securities", "securityCount", "lastUpdated"}
)
_OPTIONAL_FIELDS = ("securityCount", "lastUpdated")
_ITEM_KEYS = 2  # securityId and netQuantity: an item with more is left to the exact reader
_SECURITY_ID, _NET_QUANTITY = itemgetter("securityId"), itemgetter("netQuantity")
PIECE_BYTES = 4 << 20
# A comma between an object and an object whose first key is a summary's field (a
# security's first key is securityId or netQuantity): most likely between summaries.
_SUMMARY_BOUNDARY = re.compile(
    rb"\}[ \t\n\r]*(?P<comma>,)[ \t\n\r]*\{[ \t\n\r]*"
    rb'"(?:portfolioId|cashBalance|securities|securityCount|lastUpdated)"'
)

# CSV bytes the bulk reader handles: printable ASCII but the quote, the space, and
# LF or CRLF. Anything else (quotes, tabs, control characters, other line breaks,
# non-ASCII text) goes to the csv module.
_PLAIN_CSV_BYTES = bytes(range(0x20, 0x7F)).replace(b'"', b"") + b"\r\n"
_NOT_SEPARATORS = bytes(byte for byte in range(256) if byte not in b",\r\n")
_LINES_TO_COMMAS = bytes.maketrans(b"\n", b",")  # then one split gives every value


class _IrregularError(Exception):
    """The input is not in the shape the bulk reader handles: the exact reader decides."""


def _check_ids(values: Iterable[object]) -> None:
    """Check that every value is a GlobeCo id, each distinct value once.

    Raises
    ------
    InputError
        A value that is not (worded for no field: the caller gives up on the bulk read).
    """
    for value in set(values):
        parse_globeco_id(value, "")


def _whole_numbers(values: Iterable[object]) -> dict[object, int]:
    """Each distinct quantity (a str or int, never bool or float) -> its int.

    Raises
    ------
    _IrregularError
        A value of another type.
    InputError
        A value `parse_whole_number` refuses.
    """
    distinct = set(values)
    # bool and float compare equal to ints (True == 1, 1.0 == 1): a set would hide them
    # behind an int, so their absence is checked on the types, not the values.
    if not {type(value) for value in distinct} <= {str, int}:
        raise _IrregularError
    return {value: parse_whole_number(value, "") for value in distinct}


def _holdings(
    portfolio_id: str, cash: Decimal, ids: Sequence[str], quantities: Iterable[int]
) -> Holdings:
    held = dict(zip(ids, quantities, strict=True))
    if len(held) != len(ids):  # a security given twice
        raise _IrregularError
    return Holdings(portfolio_id, cash, held)


def json_positions(data: bytes, piece_bytes: int = PIECE_BYTES) -> dict[str, Holdings] | None:
    """Holdings from a JSON positions file in the usual shape, or None.

    The usual shape: a list of summary objects whose fields are those of a summary,
    securityCount and lastUpdated (if present) not lists or objects, each security an
    object of exactly securityId and netQuantity, no number with a fraction or
    exponent where a value is read, and no backslash escape anywhere.

    The list is parsed in pieces of about `piece_bytes` (`_list_pieces`).
    """
    start = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    # Without escapes, every string's text is its value, which the duplicate-key
    # check below relies on.
    if b"\\" in data:
        return None
    found: dict[str, Holdings] = {}
    summaries = 0
    try:
        with cyclic_gc_paused():
            for piece, only in _list_pieces(data, start, piece_bytes):
                summaries += _json_summaries(orjson.loads(piece), piece, found, only=only)
    except orjson.JSONDecodeError:
        return None
    except (_IrregularError, InputError, KeyError, TypeError, ValueError):
        return None
    if len(found) != summaries:  # a portfolio given twice
        return None
    return found


def _list_pieces(data: bytes, start: int, piece_bytes: int) -> Iterator[tuple[bytes, bool]]:
    """The JSON list in `data[start:]` as consecutive JSON lists of its elements, with
    whether the piece is the only one.

    The text is cut at commas that look like the ones between two summaries, about
    every `piece_bytes`: then only one piece's parsed objects (about 540 bytes a
    holding) are in memory at a time, not the whole file's. Wherever the cuts fall,
    the file is a JSON list of exactly the pieces' elements if every piece is a
    non-empty JSON list (the caller checks): each piece is the text between two cuts,
    bracketed.
    """
    view = memoryview(data)
    after_cut = start  # where the current piece's text starts
    cut_from = start + piece_bytes
    while cut_from < len(data):
        boundary = _SUMMARY_BOUNDARY.search(data, cut_from)
        if boundary is None:
            break
        cut = boundary.start("comma")
        opening = b"" if after_cut == start else b"["
        yield b"".join((opening, view[after_cut:cut], b"]")), False
        after_cut = cut + 1
        cut_from = cut + piece_bytes
    if after_cut == start:
        yield (data[start:] if start else data), True  # a copy only after a byte-order mark
    else:
        yield b"".join((b"[", view[after_cut:])), False


def _json_summaries(document: Any, piece: bytes, found: dict[str, Holdings], *, only: bool) -> int:
    """Add the holdings of a piece's summaries to `found`; the number of summaries.

    `only`: the piece is the whole list, which may be empty.
    """
    if type(document) is not list or not (document or only):
        raise _IrregularError
    keys = 0  # object keys in the parsed document
    colons_in_strings = 0
    summaries: list[tuple[str, object, list[str], list[object]]] = []
    for summary in document:
        if type(summary) is not dict or not summary.keys() <= _SUMMARY_FIELDS:
            raise _IrregularError
        keys += len(summary)
        if len(summary) > 3:
            for name in _OPTIONAL_FIELDS:
                extra = summary.get(name)
                if type(extra) is str:
                    colons_in_strings += extra.count(":")
                elif type(extra) not in (int, bool, type(None)):
                    raise _IrregularError  # a float (perhaps a huge integer), list or object
        portfolio_id = summary["portfolioId"]
        cash = summary["cashBalance"]
        securities = summary["securities"]
        if type(portfolio_id) is not str or type(cash) not in (str, int):
            raise _IrregularError
        if type(securities) is not list:
            raise _IrregularError
        # A non-object item raises TypeError, a missing key KeyError.
        ids = list(map(_SECURITY_ID, securities))
        quantities = list(map(_NET_QUANTITY, securities))
        keys += _ITEM_KEYS * len(ids)
        summaries.append((portfolio_id, cash, ids, quantities))
    # The parsed objects are no longer needed (their strings live on in `summaries`):
    # dropping them now keeps their memory out of the peak while the holdings are built.
    del document
    # orjson keeps the last of duplicate keys silently; the exact reader refuses them.
    # Every ':' outside a string introduces a key, and (no escapes) every ':' inside one
    # is in a value counted above (ids and numbers have none), so a dropped duplicate
    # key (or an item with more keys) leaves more colons in the text than keys here.
    if piece.count(b":") != keys + colons_in_strings:
        raise _IrregularError
    _check_ids(portfolio_id for portfolio_id, _, _, _ in summaries)
    _check_ids(chain.from_iterable(ids for _, _, ids, _ in summaries))
    whole = _whole_numbers(chain.from_iterable(held for _, _, _, held in summaries))
    for portfolio_id, cash, ids, quantities in summaries:
        found[portfolio_id] = _holdings(
            portfolio_id,
            parse_cash(cash, ""),
            ids,
            map(whole.__getitem__, quantities),
        )
    return len(summaries)


def csv_positions(data: bytes) -> dict[str, Holdings] | None:
    """Holdings from a CSV positions file in the usual shape, or None.

    The usual shape: the three columns (any order) and three values on every line,
    printable ASCII without quotes, LF or CRLF line ends, no blank lines, and each
    portfolio's rows together, one of them its cash row.
    """
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    # No copies of the whole file but the text's: checks scan `data` as it is, and the
    # \r of CRLF line ends are dropped as the text is made.
    if data.translate(None, _PLAIN_CSV_BYTES):
        return None
    line_end = b"\r\n" if b"\r" in data else b"\n"
    # Three values on every line, and no blank line: the separators alone (commas and
    # line ends) read ",,\n" (or ",,\r\n") per line. A lone \r, a line break to the csv
    # reader, does not fit either.
    separators = data.translate(None, _NOT_SEPARATORS)
    final_break = separators.endswith(line_end)
    lines = (len(separators) + (0 if final_break else len(line_end))) // (2 + len(line_end))
    expected = (b",," + line_end) * lines
    if separators != (expected if final_break else expected[: -len(line_end)]) or lines < 2:
        return None  # a line of other length, or the header alone
    try:
        with cyclic_gc_paused():
            cells = data.translate(_LINES_TO_COMMAS, b"\r").decode("ascii").split(",")
            if final_break:
                cells.pop()  # the empty value after the last line break
            return _csv_rows(cells, spaced=b" " in data)
    except (_IrregularError, InputError, KeyError, TypeError, ValueError):
        return None


def _csv_rows(cells: list[str], *, spaced: bool) -> dict[str, Holdings]:
    """Holdings from a CSV file's values, three a line, the header's first.

    `spaced`: some value may have spaces around it (the csv reader's values are stripped).
    """
    names = [name.strip() for name in cells[:3]]
    if sorted(names) != ["portfolio_id", "quantity", "security_id"]:
        raise _IrregularError
    del cells[:3]
    if spaced:
        cells = list(map(str.strip, cells))
    portfolios = cells[names.index("portfolio_id") :: 3]
    securities = cells[names.index("security_id") :: 3]
    amounts = cells[names.index("quantity") :: 3]
    runs = [(key, len(list(run))) for key, run in groupby(portfolios)]
    _check_ids(key for key, _ in runs)
    if len({key for key, _ in runs}) != len(runs):  # a portfolio's rows apart, or repeated
        raise _IrregularError
    # One cash row (an empty security id) per portfolio: each run has one, and there
    # are no more in all.
    if securities.count("") != len(runs):
        raise _IrregularError
    _check_ids(security for security in set(securities) if security)
    # Each portfolio's cash row; its amount is cash, so the whole numbers are parsed from
    # a copy of the amounts with "0" in the cash rows.
    cash_rows: list[int] = []
    quantities = amounts.copy()
    start = 0
    for _, count in runs:
        cash_row = securities.index("", start, start + count)  # ValueError: no cash row
        cash_rows.append(cash_row)
        quantities[cash_row] = "0"
        start += count
    whole = _whole_numbers(quantities)
    found: dict[str, Holdings] = {}
    start = 0
    for (portfolio_id, count), cash_row in zip(runs, cash_rows, strict=True):
        end = start + count
        held = dict(
            zip(securities[start:end], map(whole.__getitem__, quantities[start:end]), strict=True)
        )
        if len(held) != count:  # a security given twice
            raise _IrregularError
        del held[""]
        found[portfolio_id] = Holdings(portfolio_id, parse_cash(amounts[cash_row], ""), held)
        start = end
    return found
