"""What the approval commands, and a run that needs approval, say on stderr."""

from rich.markup import escape

from ordergen.cli.render import stderr
from ordergen.run.execute import RunReport


def say_awaiting(report: RunReport, to_order_service: bool) -> None:
    """For a run that needs approval: that it awaits it, and that nothing was sent."""
    if report.approval is None:
        return
    orders = report.summary.buy_orders + report.summary.sell_orders
    sent = "nothing posted to the order service" if to_order_service else "nothing sent"
    stderr.print(
        f"[bold yellow]awaiting approval[/] ({report.approval['rule']}, proposed by "
        f"{escape(report.approval['proposedBy'])}): {orders} order(s) stored as proposed; "
        f"{sent}. Next: ordergen runs approve {escape(report.run_id)}, "
        f"then ordergen runs send {escape(report.run_id)}",
        highlight=False,
    )
