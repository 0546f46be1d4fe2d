"""The README's links lead somewhere, and it keeps the place of the benchmark's headline."""

import re
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
LINK = re.compile(r"\]\(([^)#\s]+)(?:#([^)\s]+))?\)")


def slugify(heading: str) -> str:
    """A heading's anchor as MkDocs' `toc` extension makes it by default."""
    text = unicodedata.normalize("NFKD", heading).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def anchors(path: Path) -> set[str]:
    """The heading anchors MkDocs makes for a Markdown page."""
    text = path.read_text(encoding="utf-8")
    # Headings only outside fenced code blocks.
    text = re.sub(r"^```.*?^```", "", text, flags=re.MULTILINE | re.DOTALL)
    headings = re.findall(r"^#{1,6} (.+)$", text, flags=re.MULTILINE)
    return {slugify(heading) for heading in headings}


def test_the_readme_links_resolve() -> None:
    links = LINK.findall(README.read_text(encoding="utf-8"))
    assert links
    for target, anchor in links:
        if "://" in target:
            continue
        path = ROOT / target
        assert path.exists(), target
        if anchor:
            assert anchor in anchors(path), f"{target}#{anchor}"


def test_the_readme_keeps_one_place_for_the_benchmark_headline() -> None:
    text = README.read_text(encoding="utf-8")
    start, end = "<!-- benchmark-headline -->", "<!-- /benchmark-headline -->"
    assert text.count(start) == 1
    assert text.count(end) == 1
    assert text.index(start) < text.index(end)
