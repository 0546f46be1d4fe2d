"""The package reads top to bottom: cli -> run -> (io, store, services, observability)
-> domain -> optimize. No module imports a package above its own, even inside a function."""

import ast
from pathlib import Path

import ordergen

# Lower numbers are higher up; packages at the same depth may use each other.
DEPTH = {
    "cli": 0,
    "run": 1,
    "io": 2,
    "store": 2,
    "services": 2,
    "observability": 2,
    "report": 2,
    "domain": 3,
    "optimize": 4,
}
PACKAGE = Path(ordergen.__file__).parent


def imported_packages(path: Path) -> set[str]:
    """The ordergen packages (first name under ordergen) that `path` imports."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            modules = [node.module]
        elif isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        else:
            continue
        for module in modules:
            parts = module.split(".")
            if parts[0] == "ordergen" and len(parts) > 1:
                found.add(parts[1])
    return found


def test_no_package_imports_one_above_it() -> None:
    upward = sorted(
        f"{path.relative_to(PACKAGE)} imports ordergen.{target}"
        for path in PACKAGE.rglob("*.py")
        if (source := path.relative_to(PACKAGE).parts[0]) in DEPTH
        for target in imported_packages(path)
        if target in DEPTH and DEPTH[target] < DEPTH[source]
    )
    assert upward == []


def test_the_check_sees_imports_inside_functions(tmp_path: Path) -> None:
    module = tmp_path / "late.py"
    module.write_text("def f() -> None:\n    from ordergen.run.engine import rebalance\n")
    assert imported_packages(module) == {"run"}
