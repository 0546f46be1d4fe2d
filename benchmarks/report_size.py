"""The run report of a large run: its size in bytes and how long its first view takes to
draw in headless Chromium (issue 18: at most 5 MB and 3 s for 10,000 x 100).

`measure(orders)` builds the report of an orders file with `ordergen report` and opens
it in Debian's Chromium through Playwright; the benchmark's results take its figures.
By hand, from input files it generates:

    python -m benchmarks.report_size [--portfolios 10000] [--securities 100] [--seed 11]
"""

import argparse
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.end_to_end import ordergen_command
from benchmarks.instances import build

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    *("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"),
    *("--disable-component-update", "--disable-sync", "--no-first-run"),
]
FIRST_VIEW = (
    "[...document.querySelectorAll('[data-chart]')].every(e => e.dataset.drawn === 'true')"
    " && document.querySelectorAll('#portfolio-table tbody tr').length > 0"
)


@dataclass(frozen=True)
class ReportSize:
    """One report: its bytes, the seconds `ordergen report` took to write it, and the
    seconds from navigation start until every chart and the table's first page are drawn."""

    size_bytes: int
    build_seconds: float
    first_view_seconds: float


def first_view_seconds(page_file: Path, timeout_ms: float = 60_000) -> float:
    """Seconds from navigation start to the first view drawn, in headless Chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(page_file.as_uri(), timeout=timeout_ms)
            page.wait_for_function(FIRST_VIEW, timeout=timeout_ms, polling=20)
            elapsed_ms = float(page.evaluate("performance.now()"))
            if errors:
                raise RuntimeError(f"the report failed in the browser: {errors[0]}")
            return elapsed_ms / 1000
        finally:
            browser.close()


def measure(orders: Path, page_file: Path | None = None) -> ReportSize:
    """Build the report of the orders file `orders` and measure it (see `ReportSize`)."""
    page_file = page_file or orders.with_name("report.html")
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "ordergen", "report", "--orders", str(orders),
         "--output", str(page_file)],
        check=True, capture_output=True,
    )  # fmt: skip
    build_seconds = time.perf_counter() - started
    return ReportSize(page_file.stat().st_size, build_seconds, first_view_seconds(page_file))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--portfolios", type=int, default=10_000)
    parser.add_argument("--securities", type=int, default=100)
    parser.add_argument("--seed", type=int, default=11)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        instances = build(Path(folder), arguments.portfolios, arguments.securities, arguments.seed)
        orders = Path(folder) / "orders.json"
        command = ordergen_command(instances.files, orders)
        run = subprocess.run(command, check=False, capture_output=True)
        if run.returncode not in (0, 3):  # 3: some portfolios infeasible, as generated
            raise RuntimeError(f"ordergen failed: {run.stderr.decode()}")
        result = measure(orders)
    print(
        f"{arguments.portfolios:,} x {arguments.securities}: report {result.size_bytes:,} bytes "
        f"({result.size_bytes / 1e6:.2f} MB), written in {result.build_seconds:.1f} s, "
        f"first view in {result.first_view_seconds:.2f} s"
    )


if __name__ == "__main__":
    main()
