"""A run's policy overrides: read with the inputs, shared by every shard, part of the run id."""

import json
from pathlib import Path

from ordergen.demo import generate
from ordergen.domain.shard import Shard
from ordergen.io.inputs_out import write_inputs
from ordergen.observability.run import RunObserver
from ordergen.optimize.problem import Method
from ordergen.run.policies import digest_with_overrides
from ordergen.run.request import RunRequest, Source
from ordergen.run.sources import LoadedInputs, load_inputs
from ordergen.settings import load_settings


def load(
    files: tuple[Path, Path, Path], shard: Shard | None, policies: Path | None
) -> LoadedInputs:
    model, positions, prices = files
    request = RunRequest(
        source=Source.FILES,
        method=Method.AUTO,
        model_file=model,
        positions=positions,
        prices=prices,
        shard=shard,
        portfolio_policies=policies,
    )
    with RunObserver(per_portfolio_lines=False) as observer:
        return load_inputs(load_settings(job_name=None), None, observer, request)


def test_every_shard_shares_the_run_id_and_uses_its_own_portfolios_overrides(
    tmp_path: Path,
) -> None:
    data = generate(seed=5, portfolios=40, securities=6)
    files = write_inputs(tmp_path, data.model, data.summaries, data.prices)
    portfolios = data.model["portfolios"]
    policies = tmp_path / "policies.json"
    policies.write_text(json.dumps({pid: {"innerBand": "0.5"} for pid in portfolios[:10]}))

    whole = load(files, None, policies)
    shards = [load(files, Shard(index, 2), policies) for index in range(2)]
    assert {loaded.run_id for loaded in shards} == {whole.run_id}
    assert whole.run_id != load(files, None, None).run_id
    for loaded in shards:
        held = {holdings.portfolio_id for holdings in loaded.inputs.holdings}
        assert set(loaded.inputs.overrides) == held & set(portfolios[:10])
    assert sum(len(loaded.inputs.overrides) for loaded in shards) == 10


def test_without_overrides_the_digest_is_unchanged() -> None:
    assert digest_with_overrides("abc", {}) == "abc"
