"""The report's small parts: number formats, bins, Markdown cells, the narrowest columns."""

import base64
import zlib
from decimal import Decimal

import numpy as np

from ordergen.report.bins import histogram, nice_step, paired_histograms
from ordergen.report.drill import DrillTable
from ordergen.report.formats import money, percent
from ordergen.report.markdown import _cell


def test_money_keeps_the_files_digits_and_groups_thousands() -> None:
    assert money(Decimal("5874824.65")) == "5,874,824.65"
    assert money(Decimal("18500")) == "18,500"
    assert money(Decimal("-1234.5000")) == "-1,234.5000"
    assert money(None) == "-"


def test_weights_are_percentages_with_the_files_four_places() -> None:
    assert percent(Decimal("0.1211")) == "12.11%"
    assert percent(Decimal("0.0000")) == "0.00%"
    assert percent(None) == "-"


def test_bins_cover_every_value_once() -> None:
    assert nice_step(7.5) == 0.25
    before, after = paired_histograms([0.0, 0.01, 0.06], [0.0, 0.0])
    assert sum(b.count for b in before) == 3 and sum(b.count for b in after) == 2
    assert [b.start for b in before] == [b.start for b in after]
    assert histogram([], 1.0, 0.0) == []


def test_a_markdown_cell_cannot_end_early() -> None:
    assert _cell("a | b\nc") == "a \\| b c"


def test_drill_columns_take_the_narrowest_integers() -> None:
    table = DrillTable()
    drift = {
        "securityId": "S", "target": "0.5", "lowDrift": "0.05", "highDrift": "0.05",
        "originalQuantity": 40, "price": "10", "actual": "0.5010",
    }  # fmt: skip
    table.add([drift], Decimal(1000))
    table.add([], None)
    assert table.rows(0) == [("S", -1000, 10)]
    encoded = table.encoded()
    assert encoded["dtypes"] == [1, 1, 2, 1]
    raw = zlib.decompress(base64.b64decode(encoded["data"]))
    assert np.frombuffer(raw[2:3], dtype="<i1").tolist() == [0]
    assert np.frombuffer(raw[3:5], dtype="<i2").tolist() == [-1000]
    assert table.band_edges == {Decimal("0.05")}
