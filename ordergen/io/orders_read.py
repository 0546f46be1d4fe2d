"""Reading an orders file back, portfolio by portfolio, without holding all of it.

ordergen writes the header and the opening of `portfolios` on the first line, each
portfolio on a line of its own and the summary on the last (`ordergen.io.orders_json`),
so a 290 MB file is read one portfolio at a time. A file laid out otherwise (indented
by hand, say) is read whole.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from ordergen.errors import InputError

OPENING = b',"portfolios":['


class OrdersFile:
    """An orders file: its `header` (every top-level field but the portfolios and the
    summary), its `portfolios()` in order, and its `summary`, read at the end."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.summary: dict[str, Any] = {}
        try:
            with path.open("rb") as stream:
                first = stream.readline()
        except OSError as exc:
            raise InputError("orders file", str(path), f"cannot be read: {exc.strerror}") from exc
        self._streamed = first.rstrip(b"\r\n").endswith(OPENING)
        if self._streamed:
            opening = first.rstrip(b"\r\n")[: -len(OPENING)] + b"}"
            self.header: dict[str, Any] = self._parse(opening)
        else:
            self._whole = self._parse(path.read_bytes())
            self.header = {
                k: v for k, v in self._whole.items() if k not in ("portfolios", "summary")
            }
            self.summary = dict(self._whole.get("summary") or {})
        if "runId" not in self.header:
            raise InputError(str(self.path), None, "not an orders file: it has no runId")

    def _parse(self, text: bytes) -> dict[str, Any]:
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise InputError(str(self.path), None, f"not an orders file: {exc}") from exc
        if not isinstance(value, dict):
            raise InputError(str(self.path), None, "not an orders file: not a JSON object")
        return value

    def portfolios(self) -> Iterator[dict[str, Any]]:
        """Each portfolio's document, in the file's order; then `summary` is set."""
        if not self._streamed:
            yield from self._whole.get("portfolios") or []
            return
        with self.path.open("rb") as stream:
            stream.readline()
            for line in stream:
                text = line.rstrip(b"\r\n")
                if text.startswith(b"]"):
                    self.summary = dict(self._parse(b"{" + text[2:]).get("summary") or {})
                    return
                if text:
                    yield self._parse(text.removesuffix(b","))
        raise InputError(str(self.path), None, "not an orders file: it ends before its summary")
