"""Audio files on the box: downloaded once, resumed after a cut, verified, and kept in a bounded cache.

A file is written as <sha256>.part (resumed with Range from its size), checked against its sha256,
fsynced, renamed to <sha256>.mp3 and the directory fsynced; so a kill or power cut at any moment leaves
either a .part to resume (a bad one fails the hash and starts over) or a complete, verified file.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from stations.agent.files import fsync_dir
from stations.agent.http import RangeNotSatisfiable, RetryLater

log = logging.getLogger("loa.agent.downloads")

SHA_RE = re.compile(r"[0-9a-f]{64}")
TOUCH_EVERY_S = 3600  # a used file's mtime is refreshed at most this often (SD cards: few writes)
WAIT_S = 120.0  # how long a caller waits for another thread's download of the same file


class HashMismatch(Exception):
    """The downloaded bytes are not the file the playlist names; the partial file was deleted."""


class AudioCache:
    def __init__(self, root: str | os.PathLike[str], api: Any, *, cache_days: float = 3,
                 cache_bytes: int = 2 * 1024**3):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.api = api
        self.cache_days = cache_days
        self.cache_bytes = cache_bytes
        self._verified: dict[str, tuple[int, int]] = {}  # sha -> (size, mtime_ns) when last hashed
        # One download of a file at a time: a push command fetches an emergency's audio on its own thread
        # while the network thread may be at the same file; both writing one .part would corrupt it, and
        # the second must not download it again: it waits for the first's result (sha -> that download).
        self._flights: dict[str, _Flight] = {}
        self._locks_guard = threading.Lock()

    def path_for(self, sha256: str) -> Path:
        return self.root / f"{_sha(sha256)}.mp3"

    def has(self, sha256: str) -> bool:
        """True when the verified file is on disk (hashes it once if not yet verified)."""
        return self._present(_sha(sha256)) is not None

    def ensure(self, item: dict[str, Any]) -> Path:
        """The local path of a playlist item's audio (or its `audio` dict), downloading it if needed.
        Raises http.RetryLater (the .part is kept to resume), HashMismatch, or another http error."""
        audio = item.get("audio", item)
        sha = _sha(audio["sha256"])
        with self._locks_guard:
            flight = self._flights.get(sha)
            leader = flight is None
            if flight is None:
                flight = self._flights[sha] = _Flight()
        if not leader:
            if not flight.done.wait(WAIT_S):
                raise RetryLater(f"Tệp âm thanh {sha[:12]}… đang được tải ở luồng khác, quá lâu.", 10.0)
            if flight.error is not None:
                raise flight.error
            assert flight.path is not None
            return flight.path
        try:
            flight.path = self._ensure(audio, sha)
            return flight.path
        except Exception as exc:
            flight.error = exc
            raise
        finally:
            with self._locks_guard:
                self._flights.pop(sha, None)
            flight.done.set()

    def _ensure(self, audio: dict[str, Any], sha: str) -> Path:
        present = self._present(sha)
        if present is not None:
            return present
        part = self.root / f"{sha}.part"
        size = audio.get("size_bytes")
        offset = part.stat().st_size if part.exists() else 0
        if size is not None and offset > size:
            offset = 0  # longer than the file can be: not ours, start over
        if size is None or offset < size:
            try:
                self.api.download(audio["url"], part, offset, max_bytes=size)
            except RangeNotSatisfiable:
                log.warning("Không tải tiếp được %s từ byte %d; tải lại từ đầu.", sha[:12], offset)
                part.unlink(missing_ok=True)
                self.api.download(audio["url"], part, 0, max_bytes=size)
        digest = _hash_file(part)
        if digest != sha:
            part.unlink(missing_ok=True)
            raise HashMismatch(f"Tệp âm thanh {sha[:12]}… tải về sai mã băm ({digest[:12]}…); đã xoá để tải lại.")
        with open(part, "rb+") as f:
            os.fsync(f.fileno())
        final = self.path_for(sha)
        os.replace(part, final)
        fsync_dir(self.root)
        st = final.stat()
        self._verified[sha] = (st.st_size, st.st_mtime_ns)
        log.info("Đã tải tệp âm thanh %s (%d byte).", sha[:12], st.st_size)
        return final

    def evict(self, needed_shas: Iterable[str], now: float | None = None) -> list[Path]:
        """Removes files no kept playlist needs: those older than cache_days, then the oldest while the
        cache is over cache_bytes. A needed file is never removed. Returns what was removed."""
        now = time.time() if now is None else now
        needed = {s.lower() for s in needed_shas}
        max_age = self.cache_days * 86400
        removed: list[Path] = []
        candidates: list[tuple[float, int, Path]] = []
        total = 0
        for path in self.root.iterdir():
            if path.suffix not in (".mp3", ".part") or not SHA_RE.fullmatch(path.stem):
                continue
            try:
                st = path.stat()
            except FileNotFoundError:
                continue
            total += st.st_size
            if path.stem in needed:
                continue
            if path.suffix == ".part" or now - st.st_mtime > max_age:
                removed.append(path)
            else:
                candidates.append((st.st_mtime, st.st_size, path))
        for path in removed:
            total -= path.stat().st_size
        candidates.sort()
        for _mtime, size, path in candidates:
            if total <= self.cache_bytes:
                break
            removed.append(path)
            total -= size
        for path in removed:
            path.unlink(missing_ok=True)
            self._verified.pop(path.stem, None)
        if removed:
            fsync_dir(self.root)
            log.info("Đã xoá %d tệp âm thanh không còn cần.", len(removed))
        return removed

    def _present(self, sha: str) -> Path | None:
        path = self.path_for(sha)
        try:
            st = path.stat()
        except FileNotFoundError:
            self._verified.pop(sha, None)
            return None
        if self._verified.get(sha) != (st.st_size, st.st_mtime_ns):
            if _hash_file(path) != sha:
                log.warning("Tệp %s trên đĩa sai mã băm; xoá để tải lại.", path.name)
                path.unlink(missing_ok=True)
                self._verified.pop(sha, None)
                return None
        if time.time() - st.st_mtime > TOUCH_EVERY_S:
            os.utime(path)  # the cache's age counts from the last use
            st = path.stat()
        self._verified[sha] = (st.st_size, st.st_mtime_ns)
        return path


class _Flight:
    """One download under way: the callers that came during it take its result."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.path: Path | None = None
        self.error: Exception | None = None


def _sha(value: str) -> str:
    sha = str(value).lower()
    if not SHA_RE.fullmatch(sha):
        raise ValueError(f"Mã băm âm thanh không hợp lệ: {value!r}")
    return sha


def _hash_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1024 * 1024), b""):
            h.update(chunk)
    return h.hexdigest()
