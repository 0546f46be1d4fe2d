"""Writing inputs in the formats `ordergen rebalance` reads (demo data, run snapshots)."""

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ordergen.io.orders_json import atomic_text_file

MODEL_FILE, POSITIONS_FILE, PRICES_FILE = "model.json", "positions.json", "prices.json"


def write_json(path: Path, document: Any) -> None:
    """Pretty-printed, key-sorted JSON, written atomically."""
    with atomic_text_file(path) as stream:
        json.dump(document, stream, indent=1, sort_keys=True, default=str)
        stream.write("\n")


def write_inputs(
    directory: Path,
    model: Mapping[str, Any],
    summaries: Sequence[Mapping[str, Any]],
    prices: Mapping[str, Any],
) -> tuple[Path, Path, Path]:
    """model.json, positions.json and prices.json in `directory`; returns their paths."""
    paths = (directory / MODEL_FILE, directory / POSITIONS_FILE, directory / PRICES_FILE)
    for path, document in zip(paths, (model, list(summaries), dict(prices)), strict=True):
        write_json(path, document)
    return paths
