"""A chunk's results as the orders file's JSON text, written in bulk.

Each portfolio's text is exactly `json.dumps(portfolio_document(result),
separators=(",", ":"))` (ordergen.io.orders_json; the tests hold the two to the
same bytes), but built from per-security fragments and numbers formatted a whole
array at a time, not from a dict per security walked by the JSON encoder.
"""

import json
from collections.abc import Iterable, Iterator
from decimal import Decimal
from json.encoder import encode_basestring_ascii as json_string

import numpy as np

from ordergen.domain.columns import RebalancedColumns, ResultChunk
from ordergen.domain.fixed_point import from_units
from ordergen.domain.holdings_columns import OutsideHolding
from ordergen.domain.model import Position
from ordergen.domain.model_columns import WEIGHT_SCALE
from ordergen.domain.results import BUY, SELL, PortfolioResult
from ordergen.domain.values import decimal_text
from ordergen.io.fixed_text import FixedText

Pieces = list[str]
"""Text in pieces, joined once per portfolio."""


def _decimal(value: Decimal | None) -> str:
    return "null" if value is None else f'"{decimal_text(value)}"'


def _head(result: PortfolioResult) -> str:
    return (
        f'{{"portfolioId":{json_string(result.portfolio_id)},"status":{json_string(result.status)}'
        f',"marketValue":{_decimal(result.market_value)},"cashAfter":{_decimal(result.cash_after)}'
        f',"objective":{_decimal(result.objective)},"orders":['
    )


_BETWEEN = '],"drifts":['


def _tail(result: PortfolioResult) -> str:
    policy = "" if result.policy is None else f',"policy":{_compact(result.policy.document())}'
    return (
        f'],"worstDriftBefore":{_decimal(result.worst_drift_before)}'
        f',"worstDriftAfter":{_decimal(result.worst_drift_after)}'
        f',"solver":{json_string(result.solver)},"message":{json_string(result.message)}'
        f"{policy}}}"
    )


def _compact(document: object) -> str:
    return json.dumps(document, separators=(",", ":"))


def _order_start(security_id: str, side: str) -> str:
    """An order's text up to its quantity."""
    return f'{{"securityId":{json_string(security_id)},"side":"{side}","quantity":'


def _sold(item: OutsideHolding) -> str:
    start = _order_start(item.security_id, SELL if item.quantity > 0 else BUY)
    return f'{start}{abs(item.quantity)},"price":{_decimal(item.price)}}}'


def _drift_start(position: Position, *, first: bool) -> str:
    """A model security's drift text up to its original quantity, after the previous one's."""
    previous = "" if first else '"},'  # the end of the previous security's text
    return (
        f'{previous}{{"securityId":{json_string(position.security_id)}'
        f',"target":{_decimal(position.target)},"lowDrift":{_decimal(position.low_drift)}'
        f',"highDrift":{_decimal(position.high_drift)},"originalQuantity":'
    )


def _outside_drift(item: OutsideHolding) -> str:
    return (
        f'{{"securityId":{json_string(item.security_id)},"target":"0","lowDrift":"0"'
        f',"highDrift":"0","originalQuantity":{item.quantity},"adjustedQuantity":0'
        f',"price":{_decimal(item.price)},"actual":"0","actualDrift":null}}'
    )


def _kept_drift(security_id: str, original: int, adjusted: int, price: Decimal, actual: str) -> str:
    """A security outside the model that a policy let stay held (target 0)."""
    return (
        f'{{"securityId":{json_string(security_id)},"target":"0","lowDrift":"0"'
        f',"highDrift":"0","originalQuantity":{original},"adjustedQuantity":{adjusted}'
        f',"price":{_decimal(price)},"actual":"{actual}","actualDrift":null}}'
    )


def _weight(units: int) -> str:
    return decimal_text(from_units(units, WEIGHT_SCALE))


def _adjusted_quantity(units: int) -> str:
    return f',"adjustedQuantity":{units}'


def _actual_drift(units: int) -> str:
    return f'","actualDrift":"{_weight(units)}'


def _then(pieces: Pieces, texts: Iterable[str]) -> Pieces:
    """`pieces` followed by each of `texts`, comma-separated from what precedes them."""
    for text in texts:
        if pieces:
            pieces.append(",")
        pieces.append(text)
    return pieces


class PortfolioTexts:
    """The text of each portfolio of a run's chunks; number tables last the run."""

    def __init__(self) -> None:
        self._quantities = FixedText(str)  # JSON integers, as json.dumps writes them
        self._adjusted_quantities = FixedText(_adjusted_quantity)
        self._weights = FixedText(_weight)
        self._actual_drifts = FixedText(_actual_drift)

    def __call__(self, chunk: ResultChunk) -> Iterator[str]:
        """One JSON text per result of `chunk`, in order."""
        pieces: dict[int, tuple[Pieces, Pieces]] = {}
        for columns in chunk.columns:
            both = zip(self._orders(columns), self._drifts(columns), strict=True)
            pieces.update(zip(columns.rows, both, strict=True))
        for row, result in enumerate(chunk.results):
            orders, drifts = pieces.pop(row, ([], []))
            yield "".join([_head(result), *orders, _BETWEEN, *drifts, _tail(result)])

    def _orders(self, columns: RebalancedColumns) -> list[Pieces]:
        """Each row's orders: model securities in order, then the ones sold to zero."""
        model = columns.model
        rows, securities = np.nonzero(columns.delta)
        units = columns.delta[rows, securities]
        starts = np.empty((model.size, 2), dtype=object)  # [security, buys]: after a comma
        starts[:, 0] = [f",{_order_start(sid, SELL)}" for sid in model.security_ids]
        starts[:, 1] = [f",{_order_start(sid, BUY)}" for sid in model.security_ids]
        ends = np.array([f',"price":{_decimal(price)}}}' for price in model.prices], dtype=object)
        cells = np.empty((len(units), 3), dtype=object)
        cells[:, 0] = starts[securities, (units > 0).astype(np.intp)]
        cells[:, 1] = self._quantities(np.abs(units))
        cells[:, 2] = ends[securities]
        flat = cells.ravel().tolist()
        counts = np.bincount(rows, minlength=len(columns.rows)) * cells.shape[1]
        orders = []
        start = 0
        for count, outside in zip(counts.tolist(), columns.outside, strict=True):
            pieces = flat[start : start + count]
            if pieces:
                pieces[0] = pieces[0][1:]  # the first order has no comma before it
            orders.append(_then(pieces, map(_sold, outside)) if outside else pieces)
            start += count
        return orders

    def _drifts(self, columns: RebalancedColumns) -> list[Pieces]:
        """Each row's drift report: model securities in order, then the outside ones: those
        a policy let stay held, then those sold to zero."""
        model = columns.model
        count, size = columns.original.shape[0], columns.modelled
        cells = np.empty((count, size, 6), dtype=object)
        cells[:, :, 0] = np.array(
            [
                _drift_start(position, first=column == 0)
                for column, position in enumerate(columns.positions)
            ],
            dtype=object,
        )
        cells[:, :, 1] = self._quantities(columns.original[:, :size])
        cells[:, :, 2] = self._adjusted_quantities(columns.adjusted[:, :size])
        cells[:, :, 3] = np.array(
            [f',"price":{_decimal(price)},"actual":"' for price in model.prices[:size]],
            dtype=object,
        )
        weights = np.where(columns.weighted[:, None], self._weights(columns.actual), "0")
        cells[:, :, 4] = weights[:, :size]
        cells[:, :, 5] = self._actual_drifts(columns.actual_drift[:, :size])
        drifts = cells.reshape(count, size * cells.shape[2]).tolist()
        for index, (pieces, outside) in enumerate(zip(drifts, columns.outside, strict=True)):
            if size:
                pieces.append('"}')  # the end of the last model security's text
            kept = [
                _kept_drift(
                    model.security_ids[column],
                    int(columns.original[index, column]),
                    int(columns.adjusted[index, column]),
                    model.prices[column],
                    str(weights[index, column]),
                )
                for column in columns.kept_outside(index)
            ]
            _then(pieces, [*kept, *map(_outside_drift, outside)])
        return drifts
