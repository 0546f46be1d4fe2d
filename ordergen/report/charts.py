"""The report's charts as Vega-Lite specifications, each with a title and a text summary.

Buys and sells (and before and after) differ by direction, not only by colour: sells and
"after" are drawn below or left of the axis. Colours are blue and orange, which readers
with the common colour-vision deficiencies still tell apart.
"""

from dataclasses import dataclass
from typing import Any

from ordergen.report.bins import Bin, paired_histograms
from ordergen.report.formats import money, percent
from ordergen.report.model import Report, SecurityFlow

BUY, SELL = "#1f6fb4", "#e66b00"
BEFORE, AFTER = "#e66b00", "#1f6fb4"
PORTFOLIOS_DATASET = "portfolios"
"""The per-portfolio table, which the page passes to the charts that need it."""

Spec = dict[str, Any]


@dataclass(frozen=True)
class Chart:
    """One chart: an id for the page, its title, a one-paragraph summary and its spec.

    `canvas` charts draw many marks (one per portfolio), which a canvas does faster
    than SVG.
    """

    key: str
    title: str
    summary: str
    spec: Spec
    canvas: bool = False


def _base(title: str, summary: str) -> Spec:
    return {
        "title": title,
        "description": summary,
        "width": "container",
        "autosize": {"type": "fit-x", "contains": "padding"},
        "config": {"font": "system-ui, sans-serif", "view": {"stroke": None}},
    }


def _mirrored(bins: tuple[list[Bin], list[Bin]], labels: tuple[str, str]) -> list[Spec]:
    rows = [
        {"start": b.start * 100, "end": b.end * 100, "count": sign * b.count, "when": label}
        for sign, label, histogram in ((1, labels[0], bins[0]), (-1, labels[1], bins[1]))
        for b in histogram
        if b.count
    ]
    return rows


def _mirrored_bars(rows: list[Spec], x_title: str, labels: tuple[str, str]) -> Spec:
    return {
        "data": {"values": rows},
        "mark": {"type": "bar", "stroke": "white", "strokeWidth": 0.5},
        "encoding": {
            "x": {"field": "start", "type": "quantitative", "title": x_title},
            "x2": {"field": "end"},
            "y": {
                "field": "count",
                "type": "quantitative",
                "stack": None,
                "title": f"portfolios ({labels[0]} above, {labels[1]} below)",
                "axis": {"labelExpr": "abs(datum.value)"},
            },
            "y2": {"datum": 0},
            "color": {
                "field": "when",
                "type": "nominal",
                "title": None,
                "scale": {"domain": list(labels), "range": [BEFORE, AFTER]},
                "legend": {"orient": "top"},
            },
            "tooltip": [
                {"field": "when", "title": "when"},
                {"field": "start", "title": "from %", "format": ".2f"},
                {"field": "end", "title": "to %", "format": ".2f"},
                {"field": "count", "title": "portfolios", "format": "d"},
            ],
        },
    }


def _rules(marks: list[tuple[float, str]]) -> Spec:
    return {
        "data": {
            "values": [
                {"x": x * 100, "label": label, "row": 14 * i} for i, (x, label) in enumerate(marks)
            ]
        },
        "layer": [
            {
                "mark": {"type": "rule", "strokeDash": [4, 3], "color": "#333"},
                "encoding": {"x": {"field": "x", "type": "quantitative"}},
            },
            {
                "mark": {"type": "text", "align": "left", "dx": 3, "dy": -4, "baseline": "top"},
                "encoding": {
                    "x": {"field": "x", "type": "quantitative"},
                    "y": {"field": "row", "type": "quantitative", "scale": None},
                    "text": {"field": "label"},
                },
            },
        ],
    }


def status_chart(report: Report) -> Chart:
    counts = ", ".join(f"{status} {count}" for status, count in report.by_status.items())
    summary = f"{report.portfolios} portfolios by status: {counts}."
    spec = {
        **_base("Portfolios by status", summary),
        "height": 26 * len(report.by_status),
        "data": {"values": [{"status": s, "count": n} for s, n in report.by_status.items()]},
        "layer": [
            {"mark": {"type": "bar", "color": "#4c6a8a"}},
            {
                "mark": {"type": "text", "align": "left", "dx": 3},
                "encoding": {"text": {"field": "count"}},
            },
        ],
        "encoding": {
            "y": {"field": "status", "type": "nominal", "sort": None, "title": None},
            "x": {"field": "count", "type": "quantitative", "title": "portfolios"},
            "tooltip": [{"field": "status"}, {"field": "count", "format": ","}],
        },
    }
    return Chart("status", "Portfolios by status", summary, spec)


def drift_chart(report: Report) -> Chart:
    before = [float(r.worst_drift_before) for r in report.rows if r.worst_drift_before is not None]
    after = [float(r.worst_drift_after) for r in report.rows if r.worst_drift_after is not None]
    labels = ("before", "after")
    rows = _mirrored(paired_histograms(before, after), labels)
    edges = report.band_edges
    marks = []
    if edges:
        marks.append((float(edges[0]), f"tightest band {percent(edges[0])}"))
        if edges[-1] != edges[0]:
            marks.append((float(edges[-1]), f"widest band {percent(edges[-1])}"))
    summary = (
        f"Each portfolio's worst drift (largest |weight − target|): before trading at most "
        f"{percent(report.worst_drift_before)} over {len(before)} portfolios, after at most "
        f"{percent(report.worst_drift_after)} over {len(after)}. "
        + (
            f"The model's bands allow from {percent(edges[0])} to {percent(edges[-1])}."
            if edges
            else ""
        )
    )
    title = "Worst drift per portfolio, before and after"
    spec = {
        **_base(title, summary),
        "height": 260,
        "layer": [_mirrored_bars(rows, "worst drift, % of market value", labels), _rules(marks)],
    }
    return Chart("drift", title, summary, spec)


def _flow_rows(flows: list[SecurityFlow]) -> list[Spec]:
    rows = []
    for rank, flow in enumerate(flows):
        for side, turnover, orders, sign in (
            ("BUY", flow.buy_turnover, flow.buy_orders, 1),
            ("SELL", flow.sell_turnover, flow.sell_orders, -1),
        ):
            if orders:
                rows.append(
                    {
                        "security": flow.security_id,
                        "rank": rank,
                        "side": side,
                        "turnover": sign * float(turnover),
                        "orders": sign * orders,
                        "amount": money(turnover),
                        "count": orders,
                    }
                )
    return rows


def _diverging(field: str, title: str, show_y: bool) -> Spec:
    return {
        "mark": "bar",
        "width": 250,
        "encoding": {
            "y": {
                "field": "security",
                "type": "nominal",
                "sort": {"field": "rank"},
                "title": None,
                "axis": {"labelLimit": 220} if show_y else None,
            },
            "x": {
                "field": field,
                "type": "quantitative",
                "title": title,
                "axis": {"labelExpr": "format(abs(datum.value), '~s')"},
            },
            "color": {
                "field": "side",
                "type": "nominal",
                "title": None,
                "scale": {"domain": ["BUY", "SELL"], "range": [BUY, SELL]},
                "legend": {
                    "orient": "top",
                    "labelExpr": "datum.label == 'BUY' ? 'BUY (right)' : 'SELL (left)'",
                },
            },
            "tooltip": [
                {"field": "security"},
                {"field": "side"},
                {"field": "amount", "title": "turnover"},
                {"field": "count", "title": "orders", "format": ","},
            ],
        },
    }


def securities_chart(report: Report) -> Chart:
    flows = report.top_securities()
    top = report.securities[:1]
    summary = f"{len(report.securities)} securities traded, {money(report.turnover)} in all." + (
        f" The most traded is {top[0].security_id}: buys {money(top[0].buy_turnover)}, "
        f"sells {money(top[0].sell_turnover)}."
        if top
        else ""
    )
    title = "Turnover and orders by security (top 20 and the rest): buys right, sells left"
    spec = {
        **_base(title, summary),
        "data": {"values": _flow_rows(flows)},
        "hconcat": [
            _diverging("turnover", "turnover (money)", True),
            _diverging("orders", "orders", False),
        ],
    }
    del spec["width"], spec["autosize"]
    return Chart("securities", title, summary, spec)


def scatter_chart(report: Report) -> Chart:
    traded = [r for r in report.rows if r.orders and r.market_value]
    ratios = sorted((r.turnover / r.market_value, r.portfolio_id) for r in traded if r.market_value)
    summary = f"{len(traded)} portfolios traded, each a point: market value across, turnover up."
    if ratios:
        ratio, most = ratios[-1]
        summary += f" The most traded for its size is {most} ({percent(ratio)} of its value)."
    title = "Market value against turnover, per portfolio"
    spec = {
        **_base(title, summary),
        "height": 300,
        "data": {"name": PORTFOLIOS_DATASET},
        "transform": [{"filter": "datum.turnover > 0 && datum.marketValue > 0"}],
        "mark": {"type": "point", "filled": True, "opacity": 0.6, "size": 18},
        "encoding": {
            "x": {
                "field": "marketValue",
                "type": "quantitative",
                "scale": {"type": "log"},
                "title": "market value (log)",
            },
            "y": {
                "field": "turnover",
                "type": "quantitative",
                "scale": {"type": "log"},
                "title": "turnover (log)",
            },
            "color": {"value": "#4c6a8a"},
            "tooltip": [
                {"field": "id", "title": "portfolio"},
                {"field": "mvText", "title": "market value"},
                {"field": "turnoverText", "title": "turnover"},
                {"field": "orders", "title": "orders"},
            ],
        },
    }
    return Chart("scatter", title, summary, spec, canvas=True)


def cash_chart(report: Report) -> Chart:
    shares = [
        (float(r.cash_before / r.market_value), float(r.cash_after / r.market_value))
        for r in report.rows
        if r.cash_before is not None and r.cash_after is not None and r.market_value
    ]
    labels = ("before", "after")
    rows = _mirrored(paired_histograms([s[0] for s in shares], [s[1] for s in shares]), labels)
    floors = sorted(
        float((r.market_value - r.cash_floor) / r.market_value)
        for r in report.rows
        if r.cash_floor is not None and r.market_value
    )
    marks = []
    summary = f"Cash as a share of market value, over the {len(shares)} portfolios solved."
    if floors:
        median = floors[len(floors) // 2]
        name = "cash floor" if floors[0] == floors[-1] else "median cash floor"
        marks.append((median, f"{name} {median:.2%}"))
        summary += f" The policy keeps at least {median:.2%} in cash ({name})."
    title = "Cash before and after, as a share of market value"
    spec = {
        **_base(title, summary),
        "height": 220,
        "layer": [_mirrored_bars(rows, "cash, % of market value", labels), _rules(marks)],
    }
    return Chart("cash", title, summary, spec)


def _count(value: int) -> str:
    return f"{value:,}"


def policy_chart(report: Report) -> Chart | None:
    """What the policy saved against trading every portfolio back to target, when known."""
    baseline = report.baseline
    if baseline is None:
        return None
    measures: list[tuple[str, tuple[float, str], tuple[float, str]]] = [
        (
            "portfolios traded",
            (baseline.traded_portfolios, _count(baseline.traded_portfolios)),
            (report.traded_portfolios, _count(report.traded_portfolios)),
        ),
        (
            "orders",
            (baseline.orders, _count(baseline.orders)),
            (report.orders, _count(report.orders)),
        ),
        (
            "turnover",
            (float(baseline.turnover), money(baseline.turnover)),
            (float(report.turnover), money(report.turnover)),
        ),
    ]
    rows = [
        {"measure": name, "kind": run, "run": f"{run}: {text}", "value": value}
        for name, target, policy in measures
        for run, (value, text) in (("back to target", target), ("this run", policy))
    ]
    summary = (
        f"Back to target would trade {baseline.traded_portfolios:,} portfolios with "
        f"{baseline.orders:,} orders and {money(baseline.turnover)} turnover; this run trades "
        f"{report.traded_portfolios:,} with {report.orders:,} orders and "
        f"{money(report.turnover)}, leaving {report.within_bands:,} portfolios within their bands."
    )
    title = "What the policy saved against back to target"
    spec = {
        **_base(title, summary),
        "data": {"values": rows},
        "facet": {"row": {"field": "measure", "type": "nominal", "sort": None, "title": None}},
        "resolve": {"scale": {"x": "independent", "y": "independent"}},
        "spec": {
            "width": 420,
            "mark": "bar",
            "encoding": {
                "y": {"field": "run", "type": "nominal", "title": None, "sort": None},
                "x": {"field": "value", "type": "quantitative", "title": None},
                "color": {
                    "field": "kind",
                    "type": "nominal",
                    "legend": None,
                    "scale": {"range": ["#9aa5b1", "#4c6a8a"]},
                },
                "tooltip": [{"field": "measure"}, {"field": "run"}],
            },
        },
    }
    del spec["width"], spec["autosize"]
    return Chart("policy", title, summary, spec)


def charts(report: Report) -> list[Chart]:
    """Every chart of the report, in page order."""
    found = [
        status_chart(report),
        drift_chart(report),
        securities_chart(report),
        scatter_chart(report),
        cash_chart(report),
        policy_chart(report),
    ]
    return [chart for chart in found if chart is not None]
