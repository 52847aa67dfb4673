"""Small filesystems of their own (tmpfs, mounted as root) for the storage fault tests."""

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def tmpfs(mount_point: Path, size: str) -> Iterator[Path]:
    """A tmpfs of `size` at `mount_point`, unmounted however the block ends.

    Outside CI a machine where mounting is not allowed skips the test; in CI that fails it.
    """
    mount_point.mkdir(parents=True, exist_ok=True)
    command = ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount_point)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        reason = f"cannot mount a tmpfs here: {result.stderr.strip()}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "--lazy", str(mount_point)], check=True)


def remount_read_only(mount_point: Path) -> None:
    """Make a tmpfs from `tmpfs` read-only, as a failing disk or a wrong mount would be."""
    subprocess.run(["mount", "-o", "remount,ro", str(mount_point)], check=True)


def fill(filler: Path, leave: int) -> None:
    """Write `filler` until only about `leave` bytes of its filesystem stay free."""
    stats = os.statvfs(filler.parent)
    size = stats.f_bavail * stats.f_frsize - leave
    with filler.open("wb") as out:
        block = b"\0" * 65536
        while size > 0:
            size -= out.write(block[: min(size, len(block))])
