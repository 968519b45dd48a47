"""Serving stored files over HTTP: single byte ranges (206/416), conditional GET by ETag (304),
and hand-off to the front web server (X-Accel-Redirect / X-Sendfile) when AUDIO_SENDFILE is set.

Reusable by every area that serves audio (staff preview, station downloads).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse

__all__ = ["parse_range", "serve_file"]

_RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")
_CHUNK = 64 * 1024


def parse_range(header: str | None, size: int) -> tuple[int, int] | None | bool:
    """Parse a `Range` header against a file of `size` bytes.

    Returns (start, end) inclusive for one satisfiable range, None when there is no usable header
    (serve the whole file; multi-range requests are answered with the whole file too, as RFC 9110
    allows), or False when the range cannot be satisfied (416).
    """
    if not header:
        return None
    match = _RANGE_RE.match(header.strip().replace(" ", ""))
    if not match:
        return None
    first, last = match.groups()
    if first == "" and last == "":
        return None
    if first == "":  # suffix: the last N bytes
        length = int(last)
        if length == 0 or size == 0:
            return False
        return max(size - length, 0), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if start >= size or (last and end < start):
        return False
    return start, min(end, size - 1)


def _iter_range(path: Path, start: int, length: int):  # noqa: ANN202 - generator
    with path.open("rb") as fh:
        fh.seek(start)
        remaining = length
        while remaining > 0:
            chunk = fh.read(min(_CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk


def _etag_matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    candidates = [c.strip().removeprefix("W/") for c in if_none_match.split(",")]
    return f'"{etag}"' in candidates or etag in candidates


def _if_range_holds(if_range: str | None, etag: str | None) -> bool:
    """RFC 9110 If-Range: the range applies only if the validator is our strong ETag. No Last-Modified
    is sent, so a date never validates."""
    if not if_range:
        return True
    return etag is not None and if_range.strip() == f'"{etag}"'


def serve_file(
    request: HttpRequest,
    path: Path | str,
    *,
    content_type: str = "audio/mpeg",
    etag: str | None = None,
    filename: str | None = None,
    cache_control: str = "private, max-age=86400",
) -> HttpResponse:
    """Answer GET/HEAD for a file on disk with Range, ETag and optional sendfile hand-off.

    `etag` should be a content hash (e.g. the sha256), so it stays valid across servers.
    """
    path = Path(path)
    size = path.stat().st_size
    headers: dict[str, str] = {"Accept-Ranges": "bytes", "Cache-Control": cache_control}
    if etag:
        headers["ETag"] = f'"{etag}"'
    if filename:
        headers["Content-Disposition"] = f"inline; filename*=UTF-8''{quote(filename)}"

    if etag and _etag_matches(request.headers.get("If-None-Match"), etag):
        response = HttpResponse(status=304)
        for key, value in headers.items():
            response[key] = value
        return response

    sendfile = getattr(settings, "AUDIO_SENDFILE", "")
    if sendfile:
        # The front server handles ranges itself; we only authorize and point at the file.
        response = HttpResponse(content_type=content_type)
        if sendfile == "x-accel-redirect":
            media_root = Path(settings.MEDIA_ROOT).resolve()
            relative = path.resolve().relative_to(media_root).as_posix()
            prefix = getattr(settings, "AUDIO_INTERNAL_PREFIX", "/protected-media/")
            response["X-Accel-Redirect"] = quote(prefix.rstrip("/") + "/" + relative)
        else:
            response["X-Sendfile"] = os.fspath(path.resolve())
        for key, value in headers.items():
            response[key] = value
        return response

    byte_range = parse_range(request.headers.get("Range"), size)
    if byte_range is not None and not _if_range_holds(request.headers.get("If-Range"), etag):
        byte_range = None  # the client holds part of another version: it gets the whole current one
    if byte_range is False:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        for key, value in headers.items():
            response[key] = value
        return response

    head = request.method == "HEAD"
    if byte_range is None:
        if head:
            response = HttpResponse(content_type=content_type)
        else:
            response = FileResponse(path.open("rb"), content_type=content_type)
        response["Content-Length"] = str(size)
    else:
        start, end = byte_range
        length = end - start + 1
        if head:
            response = HttpResponse(content_type=content_type, status=206)
        else:
            response = StreamingHttpResponse(_iter_range(path, start, length), content_type=content_type, status=206)
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
        response["Content-Length"] = str(length)
    for key, value in headers.items():
        response[key] = value
    return response
