"""Start-up: the CLI, `--help` and a files-in/JSON-out run import none of the libraries
only a database, the GlobeCo services, YAML, solver workers or a run report need."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

HEAVY = (
    *("pymongo", "httpx", "tenacity", "pybreaker", "yaml", "cvxpy", "joblib"),
    # The run report and its chart library: imported only when a report is asked for.
    *("ordergen.report", "ordergen.report.html", "vl_convert"),
)

# Run in a fresh interpreter: the test process has imported all of them already.
SCRIPT = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path

    heavy = {heavy!r}

    def loaded():
        return [name for name in heavy if name in sys.modules]

    from ordergen.cli.main import app
    seen = {{"import": loaded()}}

    from typer.testing import CliRunner
    from ordergen.demo import generate
    from ordergen.io.inputs_out import write_inputs

    runner = CliRunner()
    seen["helpExit"] = runner.invoke(app, ["--help"]).exit_code
    seen["help"] = loaded()
    data = generate(seed=3, portfolios=60, securities=12)
    folder = Path({folder!r})
    model, positions, prices = write_inputs(folder, data.model, data.summaries, data.prices)
    result = runner.invoke(
        app,
        [
            "rebalance", "--model-file", str(model), "--positions", str(positions),
            "--prices", str(prices), "--output", str(folder / "orders.json"), "--jobs", "1",
        ],
    )
    seen["runExit"] = result.exit_code
    seen["run"] = loaded()
    print(json.dumps(seen))
    """
)


def test_files_run_imports_no_database_service_or_yaml_library(tmp_path: Path) -> None:
    script = SCRIPT.format(heavy=HEAVY, folder=str(tmp_path))
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    seen = json.loads(done.stdout.splitlines()[-1])
    assert seen["import"] == []
    assert (seen["helpExit"], seen["help"]) == (0, [])
    assert (seen["runExit"], seen["run"]) == (0, [])
    assert (tmp_path / "orders.json").is_file()
