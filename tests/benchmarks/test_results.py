"""The published figures are the benchmark's: the results file renders from its JSON, and
README's headline is the one the results hold (no figure is typed by hand)."""

import json

from benchmarks import results

LATEST = results.RESULTS / "latest.json"


def test_the_results_markdown_is_rendered_from_the_results_json() -> None:
    document = json.loads(LATEST.read_text())
    assert (results.RESULTS / "latest.md").read_text() == results.markdown(document)


def test_readme_headline_is_the_results_headline() -> None:
    document = json.loads(LATEST.read_text())
    assert results.documented_headline(results.README.read_text()) == document["headline"]


def test_every_target_and_row_is_in_the_results() -> None:
    document = json.loads(LATEST.read_text())
    assert {target["name"] for target in document["targets"]} == set(results.TARGETS)
    assert set(results.LABELS) == set(document["rows"])
    assert all(row["tally"]["sample"] > 0 for row in document["rows"].values())


def test_the_documentation_includes_the_results_file() -> None:
    page = (results.ROOT / "docs" / "benchmarks.md").read_text()
    assert '--8<-- "benchmarks/results/latest.md"' in page
