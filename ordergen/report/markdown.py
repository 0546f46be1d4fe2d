"""The report as a short Markdown summary, for a CI job's summary or a log collector.

It stays small whatever the run's size (GitHub takes at most 1 MiB per step summary):
the counts, the worst drifts, at most `LISTED` portfolios needing attention and trades.
"""

import json

from ordergen.report.formats import money, percent
from ordergen.report.html import measures
from ordergen.report.model import PortfolioRow, Report

LISTED = 10


def _cell(text: object) -> str:
    """Text safe in a table cell: no pipe or line break ends the cell early."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _table(head: tuple[str, ...], rows: list[tuple[object, ...]]) -> list[str]:
    aligned = [
        "---:"
        if name.endswith(("value", "quantity", "price", "before", "after", "turnover"))
        else "---"
        for name in head
    ]
    lines = [f"| {' | '.join(head)} |", f"| {' | '.join(aligned)} |"]
    lines += [f"| {' | '.join(_cell(value) for value in row)} |" for row in rows]
    return lines


def _more(total: int) -> list[str]:
    return ["", f"and {total - LISTED:,} more."] if total > LISTED else []


def _worst(rows: list[PortfolioRow]) -> list[PortfolioRow]:
    drifted = [row for row in rows if row.worst_drift_before is not None]
    return sorted(drifted, key=lambda row: row.worst_drift_before, reverse=True)[:LISTED]  # type: ignore[arg-type, return-value]


def _policy(policy: object) -> str:
    if not policy:
        return "none"
    return f"`{json.dumps(policy, separators=(',', ':'))}`"


def _saved(report: Report) -> list[str]:
    """What the policy saved against back to target, when that is known."""
    base = report.baseline
    if base is None:
        return []
    return [
        f"Back to target would trade {base.traded_portfolios:,} portfolios with "
        f"{base.orders:,} orders and {money(base.turnover)} turnover; this run trades "
        f"{report.traded_portfolios:,} with {report.orders:,} orders and "
        f"{money(report.turnover)}; {report.within_bands:,} are left within their bands.",
        "",
    ]


def render_markdown(report: Report) -> str:
    """The summary: a heading, the run's facts, its numbers and the short lists."""
    facts = report.facts
    exit_code = "unknown" if facts.exit_code is None else str(facts.exit_code)
    lines = [
        f"## ordergen run `{facts.run_id}`: model {_cell(facts.model)}",
        "",
        f"Method `{facts.method}`, exit code {exit_code}, input digest "
        f"`{facts.input_digest[:16]}`, policy {_policy(facts.policy)}.",
        "",
        *_saved(report),
        *_table(("measure", "value"), list(measures(report))),
        "",
    ]
    attention = report.attention
    lines += [f"### Portfolios needing attention: {len(attention):,}", ""]
    if attention:
        lines += _table(
            ("portfolio", "status", "reason"),
            [(f"`{r.portfolio_id}`", r.approval or r.status, r.reason) for r in attention[:LISTED]],
        )
        lines += _more(len(attention))
    else:
        lines.append("None.")
    lines += ["", "### Worst drifts before trading", ""]
    worst = _worst(report.rows)
    if worst:
        lines += _table(
            ("portfolio", "status", "before", "after"),
            [
                (
                    f"`{r.portfolio_id}`",
                    r.status,
                    percent(r.worst_drift_before),
                    percent(r.worst_drift_after),
                )
                for r in worst
            ],
        )
    else:
        lines.append("No portfolio was valued.")
    lines += ["", "### Top trades", ""]
    if report.largest_orders:
        lines += _table(
            ("portfolio", "security", "side", "quantity", "price", "value"),
            [
                (
                    f"`{o.portfolio_id}`",
                    f"`{o.security_id}`",
                    o.side,
                    f"{o.quantity:,}",
                    money(o.price),
                    money(o.value),
                )
                for o in report.largest_orders[:LISTED]
            ],
        )
    else:
        lines.append("No orders.")
    return "\n".join(lines) + "\n"
