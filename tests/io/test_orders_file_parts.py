"""The orders file's parts written by another process: appended whole, synced early."""

import errno
import os
from pathlib import Path

import pytest

from ordergen.io.orders_json import EarlySync, append_file


@pytest.mark.parametrize("in_kernel", [True, False], ids=["copy_file_range", "blocks"])
def test_append_file_adds_all_of_the_source_at_the_targets_position(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, in_kernel: bool
) -> None:
    if not in_kernel:
        monkeypatch.delattr(os, "copy_file_range", raising=False)
    part = os.urandom(3 << 20) + b"end"  # more than one block of the fallback
    source_path, target_path = tmp_path / "part", tmp_path / "orders"
    source_path.write_bytes(part)
    with source_path.open("rb") as source, target_path.open("w", encoding="utf-8") as target:
        target.write("head,")
        target.flush()
        source.read(10)  # the source's own position does not matter
        append_file(source, target.fileno())
        target.write(",tail")
    assert target_path.read_bytes() == b"head," + part + b",tail"


def test_early_sync_returns_once_the_file_is_synced(tmp_path: Path) -> None:
    with (tmp_path / "orders").open("wb") as stream:
        stream.write(b"x" * 1000)
        stream.flush()
        EarlySync(stream.fileno()).wait()


def test_early_sync_raises_the_syncs_failure() -> None:
    sync = EarlySync(1 << 30)  # no such descriptor: the sync fails
    with pytest.raises(OSError) as raised:
        sync.wait()
    assert raised.value.errno == errno.EBADF
