"""Files derived for station downloads, cached under MEDIA_ROOT/cache and written once.

- Day bundles (`cache/bundles/<station id>/<date>-v<version>-<key>.zip`): one per playlist version, so a
  station on a bad link can resume it with Range and every request after the first is a file serve.
  The ZIP is byte-for-byte reproducible (fixed member times, fixed order), so a bundle rebuilt after
  retention removed it resumes correctly against the same ETag.
- Player copies (`cache/player/<sha256>.mp3`): the MP3 without its leading ID3v2 tag, for the M3U8.
  HLS players (ffmpeg, ffplay, mpv via libavformat) join the items into one stream; a second file's
  ID3 tag in the middle of that stream is garbage to the decoder ("Header missing"). The tag holds only
  the encoder's name. Devices that check sha256 download the exact file (Bearer), never this copy.

Files are written to a temporary name in the same directory and renamed into place, so a reader sees
either nothing or a whole file, and two concurrent builders both produce the same bytes.
Retention (services/retention.py) removes copies older than RETENTION_CACHE_DAYS.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from django.conf import settings

CACHE_DIRNAME = "cache"
_COPY_CHUNK = 256 * 1024


def cache_root() -> Path:
    return Path(settings.MEDIA_ROOT) / CACHE_DIRNAME


def bundle_path(station_id: int, date: dt.date, version: int, etag: str) -> Path:
    """Where the bundle of this playlist version lives; the key covers everything its bytes depend on.
    (The station's id, not its code: a code is free text and must not shape a path.)"""
    key = hashlib.sha256(etag.encode()).hexdigest()[:16]
    return cache_root() / "bundles" / str(int(station_id)) / f"{date.isoformat()}-v{version}-{key}.zip"


def _atomic_write(target: Path, write: Callable[[Any], None]) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def write_bundle(target: Path, document: dict[str, Any], m3u: str, files: Iterable[tuple[str, Path]],
                 date: dt.date) -> Path:
    """Writes the ZIP: playlist.json, playlist.m3u8 and audio/<sha256>.mp3, members stamped with `date`."""
    stamp = (date.year, date.month, date.day, 0, 0, 0)

    def member(name: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=stamp)
        info.compress_type = zipfile.ZIP_STORED  # MP3 does not compress; storing keeps offsets predictable
        info.external_attr = 0o644 << 16
        return info

    def write(fh: Any) -> None:
        with zipfile.ZipFile(fh, "w") as zf:
            zf.writestr(member("playlist.json"), json.dumps(document, ensure_ascii=False, indent=1))
            zf.writestr(member("playlist.m3u8"), m3u)
            for sha, path in files:
                with path.open("rb") as src, zf.open(member(f"audio/{sha}.mp3"), "w") as dst:
                    shutil.copyfileobj(src, dst, _COPY_CHUNK)

    _atomic_write(target, write)
    # Earlier versions of the same day are of no use any more (a station resuming one gets the whole
    # new bundle through If-Range); an open reader keeps its file until it is done.
    for older in target.parent.glob(f"{date.isoformat()}-v*.zip"):
        if older != target:
            older.unlink(missing_ok=True)
    return target


def id3v2_length(head: bytes) -> int:
    """Length of a leading ID3v2 tag (header, body, footer) given the file's first 10 bytes, else 0."""
    if len(head) < 10 or head[:3] != b"ID3" or any(b & 0x80 for b in head[6:10]):
        return 0
    size = (head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9]
    footer = 10 if head[5] & 0x10 else 0
    return 10 + size + footer


def player_copy(sha256: str, source: Path) -> Path:
    """The MP3 frames of `source` (its leading ID3v2 tag dropped), cached by sha256."""
    target = cache_root() / "player" / f"{sha256}.mp3"
    if target.is_file():
        return target

    def write(fh: Any) -> None:
        with source.open("rb") as src:
            skip = id3v2_length(src.read(10))
            src.seek(skip)
            shutil.copyfileobj(src, fh, _COPY_CHUNK)

    return _atomic_write(target, write)
