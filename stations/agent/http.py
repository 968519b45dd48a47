"""The station API over HTTP (README "Giao thức trạm"), with urllib only.

Every call has a socket timeout and an overall deadline, so a server that stalls or drips bytes never
holds the agent. Failures come back as three kinds the loop can act on: `Unauthorized` (stop and wait
for a new token), `RetryLater` (try again after `seconds`) and `BadRequest` (do not resend unchanged).
"""

from __future__ import annotations

import http.client
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from stations.agent import VERSION

CHUNK = 64 * 1024
BACKOFF_FIRST_S = 5.0
BACKOFF_MAX_S = 300.0


class APIError(Exception):
    """Anything the station API call could not do."""

    def __init__(self, message: str, status: int | None = None, body: Any = None):
        super().__init__(message)
        self.status = status
        self.body = body


class Unauthorized(APIError):
    """401: the token is missing, wrong or revoked, or the station is suspended. Do not retry in a loop."""


class RetryLater(APIError):
    """429/503 (with Retry-After), any other 5xx, a timeout or a broken connection: retry after `seconds`."""

    def __init__(self, message: str, seconds: float, status: int | None = None, body: Any = None):
        super().__init__(message, status, body)
        self.seconds = seconds


class BadRequest(APIError):
    """A 4xx other than 401/429: resending the same request would get the same answer."""


class NotFound(BadRequest):
    """404: e.g. audio no longer in this station's playlists (fetch the playlist again)."""


class RangeNotSatisfiable(BadRequest):
    """416: the resume offset is past the file; restart the download from zero."""


class TooLarge(BadRequest):
    """413: too many reports in one request, or a body too large: split it."""


class StationAPI:
    """The calls a station makes. `base_url` is the server's root (`https://loa.example`) or its API root
    (`…/api/v1`); audio URLs from a playlist are used as given (relative ones against the server)."""

    def __init__(self, base_url: str, token: str, timeout: float = 30.0, *, deadline_s: float | None = None,
                 user_agent: str = VERSION):
        base = base_url.rstrip("/")
        if not base.endswith("/api/v1"):
            base += "/api/v1"
        self.api_root = base + "/"
        self.token = token
        self.timeout = timeout
        # One call never takes longer than this in total (a download gets more: it is resumable anyway).
        self.deadline_s = deadline_s if deadline_s is not None else max(timeout * 4, timeout + 10)
        self.user_agent = user_agent
        self.failures = 0  # consecutive transient failures, for the backoff

    # ------------------------------------------------------------ calls

    def heartbeat(self, body: dict[str, Any]) -> dict[str, Any]:
        status, _headers, data = self._json("POST", "station/heartbeat/", body)
        return data

    def playlist(self, date: str, etag: str | None = None) -> tuple[int, str | None, dict[str, Any] | None]:
        """(200, etag, document) or (304, etag, None) when `etag` still matches."""
        headers = {"If-None-Match": etag} if etag else {}
        path = "station/playlist/?" + urllib.parse.urlencode({"date": str(date)})
        status, resp_headers, data = self._json("GET", path, None, headers)
        new_etag = resp_headers.get("ETag") or etag
        if status == 304:
            return 304, new_etag, None
        return status, new_etag, data

    def upload_reports(self, reports: list[dict[str, Any]]) -> dict[str, Any]:
        """The server's answer: {"accepted": n, "duplicates": n, "rejected": [...]}."""
        _status, _headers, data = self._json("POST", "station/reports/", {"reports": reports})
        return data

    def upload_acks(self, acks: list[dict[str, Any]]) -> dict[str, Any]:
        """Emergency acknowledgements; the server's answer: {"accepted": n, "duplicates": n, "rejected": [...]}."""
        _status, _headers, data = self._json("POST", "station/acks/", {"acks": acks})
        return data

    def download(self, url: str, dest_tmp: str | os.PathLike[str], offset: int = 0,
                 max_bytes: int | None = None) -> tuple[int, int | None]:
        """Appends the file at `url` to `dest_tmp` from byte `offset` (Range); returns (bytes written by this
        call, total size of the file or None when the server did not say). A cut connection raises
        `RetryLater` with what arrived kept in `dest_tmp`, so the next call resumes from its size."""
        full = urllib.parse.urljoin(self.api_root, url)
        headers = {"Range": f"bytes={offset}-"} if offset > 0 else {}
        started = time.monotonic()
        deadline = started + max(self.deadline_s, 600.0)
        try:
            resp = self._open("GET", full, None, headers)
        except urllib.error.HTTPError as exc:
            raise self._error(exc.code, exc.headers, _read_small(exc)) from None
        written = 0
        with resp, open(dest_tmp, "r+b" if os.path.exists(dest_tmp) else "w+b") as out:
            status = resp.status
            length = _int(resp.headers.get("Content-Length"))
            if status == 206:
                start, total = _content_range(resp.headers.get("Content-Range"))
                if start is None or start > offset:
                    raise RetryLater(f"Content-Range lạ: {resp.headers.get('Content-Range')!r}", self._backoff())
                out.seek(start)
            elif status == 200:
                start, total = 0, length
                out.seek(0)
            else:
                raise self._error(status, resp.headers, b"")
            out.truncate()
            expected = (length if length is not None else None)
            try:
                while True:
                    if time.monotonic() > deadline:
                        raise RetryLater("Tải tệp quá lâu, sẽ tải tiếp sau.", self._backoff())
                    chunk = resp.read1(CHUNK)
                    if not chunk:
                        break
                    out.write(chunk)
                    written += len(chunk)
                    if max_bytes is not None and start + written > max_bytes:
                        raise BadRequest(f"Tệp lớn hơn dự kiến ({max_bytes} byte).")
            except (OSError, http.client.HTTPException) as exc:
                out.flush()
                raise RetryLater(f"Mất kết nối khi tải: {_describe(exc)}", self._backoff()) from None
            finally:
                out.flush()
            if expected is not None and written < expected:
                raise RetryLater(f"Tải dở: nhận {written}/{expected} byte.", self._backoff())
        self.failures = 0
        return written, total

    # ------------------------------------------------------------ plumbing

    def _json(self, method: str, path: str, body: Any, headers: dict[str, str] | None = None
              ) -> tuple[int, Any, Any]:
        data = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
        hdrs = dict(headers or {})
        if data is not None:
            hdrs["Content-Type"] = "application/json; charset=utf-8"
        hdrs["Accept"] = "application/json"
        deadline = time.monotonic() + self.deadline_s
        try:
            resp = self._open(method, self.api_root + path, data, hdrs)
        except urllib.error.HTTPError as exc:
            if exc.code == 304:
                self.failures = 0
                return 304, exc.headers, None
            raise self._error(exc.code, exc.headers, _read_small(exc)) from None
        try:
            with resp:
                raw = _read_all(resp, deadline)
        except (OSError, http.client.HTTPException) as exc:
            raise RetryLater(f"Mất kết nối: {_describe(exc)}", self._backoff()) from None
        if resp.status == 304:
            self.failures = 0
            return 304, resp.headers, None
        try:
            parsed = json.loads(raw.decode("utf-8")) if raw else None
        except (UnicodeDecodeError, ValueError):
            raise RetryLater(f"Máy chủ trả lời không phải JSON (HTTP {resp.status}).", self._backoff(),
                             resp.status) from None
        self.failures = 0
        return resp.status, resp.headers, parsed

    def _open(self, method: str, url: str, data: bytes | None, headers: dict[str, str]):
        req = urllib.request.Request(url, data=data, method=method)
        req.add_header("Authorization", f"Bearer {self.token}")
        req.add_header("User-Agent", self.user_agent)
        for k, v in headers.items():
            req.add_header(k, v)
        try:
            return urllib.request.urlopen(req, timeout=self.timeout)  # noqa: S310 (the configured server)
        except urllib.error.HTTPError:
            raise
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            raise RetryLater(f"Không kết nối được máy chủ: {_describe(exc)}", self._backoff()) from None

    def _backoff(self) -> float:
        self.failures += 1
        return min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2 ** (self.failures - 1))

    def _error(self, status: int, headers: Any, raw: bytes) -> APIError:
        body = _parse(raw)
        detail = body.get("detail") if isinstance(body, dict) else None
        message = f"HTTP {status}: {detail or _short(raw)}"
        if status == 401:
            return Unauthorized(message, status, body)
        if status in (429, 503) or status >= 500:
            retry_after = _retry_after(headers.get("Retry-After") if headers is not None else None)
            backoff = self._backoff()
            return RetryLater(message, retry_after if retry_after is not None else backoff, status, body)
        if status == 404:
            return NotFound(message, status, body)
        if status == 413:
            return TooLarge(message, status, body)
        if status == 416:
            return RangeNotSatisfiable(message, status, body)
        return BadRequest(message, status, body)


def _read_all(resp: Any, deadline: float, limit: int = 32 * 1024 * 1024) -> bytes:
    parts: list[bytes] = []
    size = 0
    while True:
        if time.monotonic() > deadline:
            raise TimeoutError("trả lời quá chậm")
        chunk = resp.read1(CHUNK)
        if not chunk:
            return b"".join(parts)
        parts.append(chunk)
        size += len(chunk)
        if size > limit:
            raise http.client.HTTPException("trả lời quá lớn")


def _read_small(exc: urllib.error.HTTPError) -> bytes:
    try:
        return exc.read(64 * 1024) or b""
    except (OSError, http.client.HTTPException):
        return b""
    finally:
        exc.close()


def _parse(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None


def _short(raw: bytes) -> str:
    return raw[:200].decode("utf-8", "replace").strip() or "(không có nội dung)"


def _describe(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None)
    return str(reason or exc) or type(exc).__name__


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _retry_after(value: str | None) -> float | None:
    seconds = _int(value.strip()) if value else None
    return float(max(0, min(seconds, 3600))) if seconds is not None else None


def _content_range(value: str | None) -> tuple[int | None, int | None]:
    """`bytes 100-199/1000` → (100, 1000); total None when `*`."""
    if not value or not value.startswith("bytes "):
        return None, None
    try:
        span, _, total = value[6:].partition("/")
        start = int(span.split("-", 1)[0])
        return start, (int(total) if total.strip() != "*" else None)
    except ValueError:
        return None, None
