"""Pausing Python's cyclic garbage collector around work that makes many small objects
and frees none of them by cycles (a bulk read, one exact solve)."""

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Keep the cyclic collector out of the block, and restore it as it was.

    Reference counting still frees what the block drops; a collection in between would
    only walk the live objects again (in a large run's heap, a hundred milliseconds).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
