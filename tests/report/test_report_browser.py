"""The demo's report in a real browser: headless Chromium (Debian's, which `.ci/run`
installs) driven by Playwright. It loads with no console error and no request outside
the file, draws every chart, opens a portfolio's drill-down, and leaves a screenshot.

Skipped where /usr/bin/chromium is missing, except in CI, where it fails instead.
"""

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    *("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"),
    *("--disable-component-update", "--disable-sync", "--no-first-run"),
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ALL_DRAWN = "[...document.querySelectorAll('[data-chart]')].every(e => e.dataset.drawn === 'true')"

if not CHROMIUM.exists():
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium")
    pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)", allow_module_level=True)

from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo, run as a user runs it: its folder, with report.html."""
    folder = tmp_path_factory.mktemp("demo") / "ordergen-demo"
    done = subprocess.run(
        [sys.executable, "-m", "ordergen", "demo", "--dir", str(folder), "--portfolios", "120"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert f"report written to {folder / 'report.html'}" in " ".join(done.stderr.split())
    return folder


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Visit:
    """A page opened from disk, with every console message, page error and request seen."""

    def __init__(self, browser: Browser, path: Path) -> None:
        self.page: Page = browser.new_page(viewport={"width": 1280, "height": 900})
        self.messages: list[tuple[str, str]] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.messages.append((m.type, m.text)))
        self.page.on("pageerror", lambda e: self.messages.append(("pageerror", str(e))))
        self.page.on("request", lambda r: self.requests.append(r.url))
        # Anything that is not the file itself is refused (and recorded above).
        self.page.route(
            "**/*",
            lambda route: (
                route.continue_() if route.request.url == path.as_uri() else route.abort()
            ),
        )
        self.page.goto(path.as_uri())
        self.page.wait_for_function(ALL_DRAWN, timeout=20_000)

    def errors(self) -> list[tuple[str, str]]:
        return [(kind, text) for kind, text in self.messages if kind in ("error", "pageerror")]


def charts_drawn(page: Page) -> dict[str, Any]:
    """Per chart: whether it holds a non-empty SVG or a canvas with pixels."""
    return dict(
        page.evaluate(
            """() => [...document.querySelectorAll('[data-chart]')].map(e => {
                const svg = e.querySelector('svg');
                const canvas = e.querySelector('canvas');
                const drawn = (svg && svg.querySelectorAll('path, rect, line, text').length > 0)
                    || (canvas && canvas.width > 0 && canvas.height > 0);
                return [e.dataset.chart, Boolean(drawn)];
            })"""
        )
    )


def keep(page: Page, name: str, tmp: Path) -> Path:
    """A full-page screenshot in `tmp`, copied to test-artifacts/ in CI."""
    shot = tmp / name
    page.screenshot(path=str(shot), full_page=True)
    if os.environ.get("CI"):
        ARTIFACTS.mkdir(exist_ok=True)
        shutil.copy(shot, ARTIFACTS / name)
    return shot


def test_the_demo_report_draws_offline_and_opens_a_drill_down(
    browser: Browser, demo: Path, tmp_path: Path
) -> None:
    page_file = demo / "report.html"
    visit = Visit(browser, page_file)
    page = visit.page
    assert visit.errors() == []
    assert visit.requests == [page_file.as_uri()]
    drawn = charts_drawn(page)
    assert set(drawn) == {"status", "drift", "securities", "scatter", "cash"}
    assert all(drawn.values()), drawn
    # Every chart has a title and a summary a screen reader announces.
    for key in drawn:
        assert page.locator(f"#{key}-title").inner_text()
        assert page.locator(f"#{key}-summary").inner_text()
    # Sort by turnover (a number column sorts largest first), then open the first portfolio.
    page.get_by_role("button", name="turnover", exact=True).click()
    assert page.locator("th[aria-sort='descending']").inner_text().startswith("turnover")
    first = page.locator("#portfolio-table .portfolio-link").first
    portfolio = first.inner_text()
    first.click()
    page.wait_for_selector("#drill-chart[data-drawn='true']")
    assert portfolio in page.locator("#drill-title").inner_text()
    assert page.locator("#drill-chart svg rect, #drill-chart svg path").count() > 0
    # The filter narrows the table to that one portfolio.
    page.get_by_label("Filter portfolios by id or message").fill(portfolio)
    assert page.locator("#portfolio-table tbody tr").count() == 1
    assert visit.errors() == []
    assert visit.requests == [page_file.as_uri()]
    assert keep(page, "report.png", tmp_path).stat().st_size > 10_000
    page.close()


def test_the_desk_policy_report_shows_what_the_policy_saved(
    browser: Browser, demo: Path, tmp_path: Path
) -> None:
    visit = Visit(browser, demo / "report-desk-policy.html")
    drawn = charts_drawn(visit.page)
    assert drawn.get("policy") and all(drawn.values()), drawn
    assert "within their bands" in visit.page.locator("#policy-summary").inner_text()
    assert visit.errors() == []
    assert len(visit.requests) == 1
    keep(visit.page, "report-desk-policy.png", tmp_path)
    visit.page.close()


def test_the_markdown_summary_parses_as_tables_and_headings(demo: Path, tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    subprocess.run(
        [sys.executable, "-m", "ordergen", "report", "--orders", str(demo / "orders.json"),
         "--output", str(summary), "--format", "md"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    tokens = MarkdownIt("commonmark").enable("table").parse(summary.read_text())
    headings = [
        t.content for i, t in enumerate(tokens) if i and tokens[i - 1].type == "heading_open"
    ]
    assert headings[1:] == [
        "Portfolios needing attention: 1",
        "Worst drifts before trading",
        "Top trades",
    ]
    assert sum(t.type == "table_open" for t in tokens) == 4
    assert summary.stat().st_size < 16_000  # far below a CI job summary's 1 MiB
