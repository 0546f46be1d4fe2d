"""The report as one self-contained HTML page: styles, data, the Vega-Lite runtime and the
page's own script inline, nothing fetched. A Content-Security-Policy forbids any request."""

import html
import json
from functools import cache
from importlib.resources import files
from typing import Any

from ordergen.report.charts import charts
from ordergen.report.formats import money, percent
from ordergen.report.model import PortfolioRow, Report, RunFacts
from ordergen.report.table import table_columns

ATTENTION_SHOWN = 200
"""Portfolios needing attention listed on the page; the per-portfolio table has them all."""

# No request may leave the page: only inline scripts and styles, data: and blob: images.
# Vega compiles its expressions with Function(), hence 'unsafe-eval'.
CSP = (
    "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'unsafe-inline'; img-src data: blob:"
)


@cache
def vega_runtime() -> str:
    """Vega, Vega-Lite and vega-embed as one script (vl-convert-python's bundle).

    Imported here, when a page is drawn: a run without a report never loads it.
    """
    import vl_convert

    return str(vl_convert.javascript_bundle("window.vegaEmbed = vegaEmbed;"))


def _asset(name: str) -> str:
    return files("ordergen.report").joinpath(name).read_text(encoding="utf-8")


def _json_script(element_id: str, value: Any) -> str:
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    # "<" cannot end the element or open a comment once escaped; JSON reads it back the same.
    text = text.replace("<", "\\u003c")
    return f'<script type="application/json" id="{element_id}">{text}</script>'


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _policy_text(policy: Any) -> str:
    if not policy:
        return "none"
    return json.dumps(policy, separators=(", ", ": "))


def _exit_text(facts: RunFacts) -> str:
    if facts.exit_code is not None:
        return str(facts.exit_code)
    return f"unknown (run {facts.run_status})" if facts.run_status else "unknown"


def header(report: Report) -> str:
    """The run's facts as a description list."""
    facts = report.facts
    items = [
        ("model", facts.model),
        ("method", facts.method),
        ("policy in force", _policy_text(facts.policy)),
        ("run id", facts.run_id),
        ("input digest", facts.input_digest),
        ("started", facts.started or "not recorded"),
        ("ended", facts.ended or "not recorded"),
        *([("run status", facts.run_status)] if facts.run_status else []),
        ("exit code", _exit_text(facts)),
        ("source", facts.source),
    ]
    rows = "".join(
        f'<div><dt>{_e(k)}</dt><dd data-field="{_e(k)}">{_e(v)}</dd></div>' for k, v in items
    )
    return f'<dl class="facts">{rows}</dl>'


def measures(report: Report) -> list[tuple[str, str]]:
    """The run's counts and totals, as label and text (the page's and the Markdown's)."""
    rows = [(f"portfolios {status}", f"{count:,}") for status, count in report.by_status.items()]
    rows += [
        ("portfolios", f"{report.portfolios:,}"),
        ("portfolios traded", f"{report.traded_portfolios:,}"),
        ("orders (buy / sell)", f"{report.buy_orders:,} / {report.sell_orders:,}"),
        ("turnover", money(report.turnover)),
        ("worst drift before", percent(report.worst_drift_before)),
        ("worst drift after", percent(report.worst_drift_after)),
    ]
    if report.missing_portfolios:
        rows.append(("model portfolios without positions", f"{len(report.missing_portfolios):,}"))
    if report.unmodelled_portfolios:
        rows.append(("positions outside the model", f"{len(report.unmodelled_portfolios):,}"))
    return rows


def _measures_table(report: Report) -> str:
    body = "".join(
        f'<tr><th scope="row">{_e(k)}</th><td data-measure="{_e(k)}">{_e(v)}</td></tr>'
        for k, v in measures(report)
    )
    return f'<table class="measures"><caption>The run in numbers</caption>{body}</table>'


def _attention_table(report: Report) -> str:
    rows: list[PortfolioRow] = report.attention
    if not rows:
        return "<p>No portfolio needs attention.</p>"
    head = "<tr><th>portfolio</th><th>status</th><th>reason</th></tr>"
    body = "".join(
        f"<tr><td><code>{_e(r.portfolio_id)}</code></td><td>{_e(r.approval or r.status)}</td>"
        f"<td>{_e(r.reason)}</td></tr>"
        for r in rows[:ATTENTION_SHOWN]
    )
    more = len(rows) - ATTENTION_SHOWN
    tail = f"<p>and {more:,} more: filter the table below by status.</p>" if more > 0 else ""
    caption = f"{len(rows):,} portfolio(s) need attention"
    return f'<table id="attention"><caption>{caption}</caption>{head}{body}</table>{tail}'


def _orders_table(report: Report) -> str:
    if not report.largest_orders:
        return "<p>The run has no orders.</p>"
    head = (
        "<tr><th>portfolio</th><th>security</th><th>side</th><th class=num>quantity</th>"
        "<th class=num>price</th><th class=num>value</th></tr>"
    )
    body = "".join(
        f"<tr><td><code>{_e(o.portfolio_id)}</code></td><td><code>{_e(o.security_id)}</code></td>"
        f'<td class="side-{o.side.lower()}">{_e(o.side)}</td><td class="num">{o.quantity:,}</td>'
        f'<td class="num">{_e(money(o.price))}</td><td class="num">{_e(money(o.value))}</td></tr>'
        for o in report.largest_orders
    )
    caption = f"The {len(report.largest_orders)} largest orders, by value"
    return f'<table id="largest-orders"><caption>{caption}</caption>{head}{body}</table>'


WIDE = ("securities",)


def _figure(key: str, title: str, summary: str) -> str:
    wide = " wide" if key in WIDE else ""
    return (
        f'<figure class="chart{wide}" role="group" aria-labelledby="{key}-title" '
        f'aria-describedby="{key}-summary"><figcaption><h3 id="{key}-title">{_e(title)}</h3>'
        f'<p id="{key}-summary">{_e(summary)}</p></figcaption>'
        f'<div class="view" id="chart-{key}" data-chart="{key}"></div></figure>'
    )


def render_html(report: Report) -> str:
    """The whole page."""
    drawn = charts(report)
    specs = {c.key: {"spec": c.spec, "canvas": c.canvas} for c in drawn}
    drill = report.drill
    data = {
        "table": table_columns(report),
        "drill": {
            "securities": drill.securities,
            "bands": drill.bands,
            **drill.encoded(),
        },
    }
    title = f"ordergen run {report.facts.run_id}: model {report.facts.model}"
    return "".join(
        [
            '<!doctype html><html lang="en"><head><meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{_e(title)}</title><style>{_asset('page.css')}</style></head><body>",
            f"<header><h1>{_e(title)}</h1>{header(report)}</header><main>",
            f"<section><h2>Counts</h2>{_measures_table(report)}</section>",
            '<section><h2>Charts</h2><div class="charts">',
            *(_figure(c.key, c.title, c.summary) for c in drawn),
            "</div></section>",
            f"<section><h2>Portfolios needing attention</h2>{_attention_table(report)}</section>",
            f"<section><h2>Largest orders</h2>{_orders_table(report)}</section>",
            '<section id="portfolios"><h2>Every portfolio</h2>',
            "<p>Sort by a column heading; filter by text or status; choose a portfolio to "
            "see its drifts before and after, security by security.</p>",
            '<div id="table-controls"></div>',
            '<div class="scroll"><table id="portfolio-table"></table></div>',
            '<div id="pager"></div><section id="drill" hidden></section></section>',
            "</main>",
            _json_script("report-charts", specs),
            _json_script("report-data", data),
            f"<script>{vega_runtime()}</script>",
            f"<script>{_asset('page.js')}</script>",
            "</body></html>",
        ]
    )
