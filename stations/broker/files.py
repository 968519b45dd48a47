"""Writing the broker's files so that the broker never reads half of one, and one writer at a time."""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ..agent.files import fsync_dir

LOCK_FILE = ".loa-broker.lock"


def write_if_changed(path: Path, text: str, *, mode: int = 0o600) -> bool:
    """Replaces `path` by `text` in one rename (fsynced) unless it already holds exactly that; True if
    written. The password files are private to the account that runs the broker (0600)."""
    data = text.encode("utf-8")
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)
    return True


@contextlib.contextmanager
def locked(directory: Path) -> Iterator[None]:
    """Holds the directory's lock: two processes that read the credentials and write the files one after
    the other never leave the older reading on disk."""
    fd = os.open(directory / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock
