"""Parsing the YAML files `ordergen.io.files` reads: floats as Decimal, text keys only.

A module of its own so that PyYAML is imported only when a .yaml/.yml file is read.
"""

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from ordergen.errors import InputError


class _DecimalYamlLoader(yaml.SafeLoader):
    """Safe YAML whose floats become Decimals made from the digits as written."""


_YAML_SPECIAL = {".inf": "Infinity", "+.inf": "Infinity", "-.inf": "-Infinity", ".nan": "NaN"}


def _yaml_decimal(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Decimal:
    text = str(loader.construct_scalar(node)).replace("_", "")
    special = _YAML_SPECIAL.get(text.lower())
    if special is not None:
        return Decimal(special)
    try:
        return Decimal(text)
    except InvalidOperation:  # YAML 1.1 base-60 floats such as 1:30.5
        return Decimal(str(loader.construct_yaml_float(node)))


_DecimalYamlLoader.add_constructor("tag:yaml.org,2002:float", _yaml_decimal)


def _non_text_key(document: object) -> object | None:
    """The first mapping key in `document` that is not a string (YAML allows any), or None."""
    seen: set[int] = set()
    pending: list[object] = [document]
    while pending:
        item = pending.pop()
        if id(item) in seen:  # YAML aliases can share (or nest) a node
            continue
        seen.add(id(item))
        if isinstance(item, Mapping):
            mapping: Mapping[object, object] = item
            for key, value in mapping.items():
                if not isinstance(key, str):
                    return key
                pending.append(value)
        elif isinstance(item, list):
            pending.extend(item)
    return None


def load_yaml(path: Path, text: str) -> Any:
    """Parse `text`, the content of the YAML file `path` (floats as Decimal)."""
    try:
        # A SafeLoader subclass: it builds plain data only, as yaml.safe_load does.
        document = yaml.load(text, Loader=_DecimalYamlLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = "" if mark is None else f" at line {mark.line + 1}, column {mark.column + 1}"
        raise InputError(str(path), None, f"is not valid YAML: {exc.problem}{where}") from None
    except (yaml.YAMLError, ValueError, RecursionError) as exc:
        # ValueError: a timestamp such as 2024-13-01, or an over-long integer.
        first_line = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise InputError(str(path), None, f"is not valid YAML: {first_line}") from None
    key = _non_text_key(document)
    if key is not None:
        raise InputError(str(path), key, "is not a text key: every key must be text")
    return document
