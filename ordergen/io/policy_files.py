"""Per-portfolio policy overrides for one run (`--portfolio-policies FILE`), read and written.

The file is JSON, or YAML for .yaml/.yml: one object whose keys are portfolio ids and
whose values are policy fields plus `cashNeed`, in the camelCase shape of
docs/policies.md, for example `{"<portfolioId>": {"mode": "sell-only", "cashNeed":
"2500"}}`. Every problem is an `InputError` naming the file, the portfolio id and
the field, with the value as written.
"""

import json
from collections.abc import Mapping
from pathlib import Path

from ordergen.domain.policy import PolicyOverride, parse_policy_override
from ordergen.domain.values import parse_globeco_id
from ordergen.errors import InputError
from ordergen.io.files import load_structured, value_kind

POLICIES_WHAT = "an object {portfolioId: policy fields} (JSON or YAML)"


def read_portfolio_policies(path: Path) -> dict[str, PolicyOverride]:
    """Policy overrides by portfolio id, each checked by `parse_policy_override`."""
    raw = load_structured(path, POLICIES_WHAT)
    if not isinstance(raw, Mapping):
        raise InputError(str(path), None, f"must hold {POLICIES_WHAT}, not {value_kind(raw)}")
    overrides: dict[str, PolicyOverride] = {}
    for portfolio_id, fields in raw.items():
        parse_globeco_id(portfolio_id, f"{path}: portfolio id")
        overrides[portfolio_id] = parse_policy_override(fields, f"{path}: {portfolio_id}")
    return overrides


PORTFOLIO_POLICIES_FILE = "portfolio-policies.json"


def write_portfolio_policies(directory: Path, overrides: Mapping[str, object]) -> Path:
    """Write `overrides` (documents by portfolio id) to `directory`/portfolio-policies.json.

    A snapshot's copy of the overrides a run used: `--portfolio-policies` replays them.
    """
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / PORTFOLIO_POLICIES_FILE
    path.write_text(json.dumps(overrides, indent=2) + "\n", encoding="utf-8")
    return path
