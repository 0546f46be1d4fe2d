"""A MongoDB wire-protocol server for tests and measurements: the one the user names, or
a SecantusDB started on a free loopback port."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def mongo_server(given: str | None, storage: Path) -> Iterator[str]:
    """`given` (a real mongod's URI) as it is, else a SecantusDB storing in `storage`."""
    if given:
        yield given
        return
    from secantus import SecantusDBServer  # only needed when no real server is given

    server = SecantusDBServer(host="127.0.0.1", port=0, storage_path=str(storage))
    server.start()
    try:
        yield str(server.uri)
    finally:
        server.stop()
