"""JSON text with bare tokens in it: how the fuzz tests write what `json.dumps` cannot
(NaN, 1e400, an over-long integer) where a value goes."""

import json
from typing import Any

RAW = "\u27e6raw\u27e7"
"""A string starting with this is written as the bare token that follows it."""


def dumps(document: Any) -> str:
    """JSON text in which strings made of RAW + token become that bare token."""
    encoded = json.dumps(document, ensure_ascii=False)
    while RAW in encoded:
        start = encoded.index('"' + RAW)
        end = encoded.index('"', start + 1)
        encoded = encoded[:start] + encoded[start + 1 + len(RAW) : end] + encoded[end + 1 :]
    return encoded
