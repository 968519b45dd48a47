"""HTTP plumbing shared by every area.

Serving stored files: single byte ranges (206/416), conditional GET by ETag (304), and hand-off to
the front web server (X-Accel-Redirect / X-Sendfile) when AUDIO_SENDFILE is set.

Malformed requests: whatever a broken device, a fuzzer or an attacker sends (NUL bytes, JSON nested
past the decoder's limits, bodies over DATA_UPLOAD_MAX_MEMORY_SIZE, thousands of parameters) is
answered with a 4xx and a Vietnamese message, never a 500: a middleware, the JSON parser, the DRF
exception handler and the Django error views below.
"""

from __future__ import annotations

import codecs
import json as stdlib_json
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponsePermanentRedirect,
    JsonResponse,
    StreamingHttpResponse,
    UnreadablePostError,
)
from django.middleware import common
from django.shortcuts import render
from django.utils.html import escape
from django.utils.http import escape_leading_slashes
from rest_framework import exceptions, filters, parsers
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.utils import json

from stations.admin_search import MAX_SEARCH_TERMS

__all__ = [
    "CommonMiddleware", "JSONParser", "PrivateByDefaultMiddleware", "SearchFilter", "RejectNulBytesMiddleware", "api_exception_handler",
    "bad_request", "page_not_found", "csrf_failure", "parse_range", "permission_denied", "serve_file", "server_error",
]

MSG_BODY_TOO_LARGE = "Nội dung yêu cầu quá lớn."
MSG_NUL_BYTE = "Địa chỉ hoặc tham số chứa ký tự NUL không hợp lệ."
MSG_TOO_MANY_FIELDS = "Yêu cầu có quá nhiều tham số hoặc tệp."
MSG_JSON_TOO_DEEP = "JSON không hợp lệ: lồng nhau quá sâu."
MSG_JSON_INVALID = "JSON không hợp lệ (dòng {line}, cột {column}): {reason}."
MSG_JSON_UNREADABLE = "JSON không hợp lệ: {reason}."
MSG_JSON_NUL = "JSON không được chứa ký tự NUL (\\u0000)."
MSG_MULTIPART_INVALID = "Dữ liệu multipart/form-data không hợp lệ."
MSG_UNREADABLE_BODY = "Không đọc được nội dung yêu cầu."
MSG_CSRF = "Thiếu hoặc sai mã chống giả mạo (CSRF); hãy tải lại trang."
MSG_BAD_REQUEST = "Yêu cầu không hợp lệ."
MSG_FORBIDDEN = "Bạn không có quyền truy cập địa chỉ này."
MSG_PAGE_NOT_FOUND = "Không tìm thấy địa chỉ này."
MSG_SERVER_ERROR = "Máy chủ gặp lỗi, xin thử lại sau."

_RANGE_RE = re.compile(r"^bytes=([0-9]*)-([0-9]*)$")
# Past any file's size; longer digit strings are not converted (int() refuses over 4,300 digits).
_HUGE = 10**18


def _position(digits: str) -> int:
    digits = digits.lstrip("0") or "0"
    return _HUGE if len(digits) > 18 else int(digits)


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
        length = _position(last)
        if length == 0 or size == 0:
            return False
        return max(size - length, 0), size - 1
    start = _position(first)
    end = _position(last) if last else size - 1
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
        # Every '/' encoded too: a file name (built from a free-text station code) names no directory.
        headers["Content-Disposition"] = f"inline; filename*=UTF-8''{quote(filename, safe='')}"

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


# ---------------------------------------------------------------- malformed requests


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def error_response(request: HttpRequest, status: int, detail: str, code: str) -> HttpResponse:
    """JSON `{detail, code}` on the API, a small Vietnamese page elsewhere (admin, dashboard)."""
    if _is_api(request):
        return JsonResponse({"detail": detail, "code": code}, status=status,
                            json_dumps_params={"ensure_ascii": False})
    page = (f'<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>{status}</title></head>'
            f"<body><h1>{status}</h1><p>{escape(detail)}</p></body></html>")
    return HttpResponse(page, status=status, content_type="text/html; charset=utf-8")


class RejectNulBytesMiddleware:
    """A NUL byte in the path or the query string is a 400 before any view sees it.

    PostgreSQL refuses NUL in text, so such a value would otherwise surface as a database error
    (a 500) wherever a path segment or a filter reaches a query."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        query = request.META.get("QUERY_STRING", "")
        if "\x00" in request.path or "%00" in query or "\x00" in query:
            return error_response(request, 400, MSG_NUL_BYTE, "nul_byte")
        return self.get_response(request)


class PermanentRedirectKeepingMethod(HttpResponsePermanentRedirect):
    status_code = 308


class CommonMiddleware(common.CommonMiddleware):
    """Django's, except that the redirect adding a missing trailing slash is a 308, which keeps the
    method and body: Django's 301 turns a station's POST into a GET (then a 405, the reports lost), and
    in DEBUG it refuses a POST outright with a RuntimeError (a 500)."""

    response_redirect_class = PermanentRedirectKeepingMethod

    def get_full_path_with_slash(self, request: HttpRequest) -> str:
        return escape_leading_slashes(request.get_full_path(force_append_slash=True))


class PrivateByDefaultMiddleware:
    """API answers and dashboard pages are about a logged-in person's or a device's data: unless the view
    set its own Cache-Control (station downloads revalidate by ETag), no cache may store them, neither a
    proxy nor the browser of a shared computer (its back button after logout)."""

    PREFIXES = ("/api/v1/", "/dashboard/")

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Cache-Control" not in response and request.path.startswith(self.PREFIXES):
            response["Cache-Control"] = "private, no-store"
        return response


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser with Vietnamese messages. Nesting past the decoder's recursion limit is a
    400 (DRF lets the RecursionError through as a 500), and so is a NUL character in any string:
    PostgreSQL cannot store one (in text or jsonb), so it would fail later as a database error."""

    refuse_nul = True

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.getreader(encoding)(stream).read()
            data = json.loads(text, parse_constant=json.strict_constant if self.strict else None)
        except RecursionError:
            raise exceptions.ParseError(MSG_JSON_TOO_DEEP, code="json_too_deep") from None
        except stdlib_json.JSONDecodeError as exc:
            raise exceptions.ParseError(
                MSG_JSON_INVALID.format(line=exc.lineno, column=exc.colno, reason=_json_reason(exc.msg)),
                code="parse_error",
            ) from None
        except ValueError as exc:  # undecodable bytes, NaN/Infinity (strict JSON)
            reason = "không phải UTF-8" if isinstance(exc, UnicodeDecodeError) else "giá trị không được phép"
            raise exceptions.ParseError(MSG_JSON_UNREADABLE.format(reason=reason), code="parse_error") from None
        # A raw NUL is invalid JSON already; only the escape can bring one in (rarely: walk only then).
        if self.refuse_nul and "\\u0000" in text and _has_nul(data):
            raise exceptions.ParseError(MSG_JSON_NUL, code="nul_byte")
        return data


class ItemwiseJSONParser(JSONParser):
    """For batches whose service judges every item on its own (station reports): a NUL in one item
    must reject that item alone, not the whole upload the station would otherwise resend forever."""

    refuse_nul = False


class SearchFilter(filters.SearchFilter):
    """DRF's `?search=` with at most MAX_TERMS words: each adds an OR over the search fields, and a few
    hundred make a query SQLite refuses (a 500) and PostgreSQL runs slowly."""

    MAX_TERMS = MAX_SEARCH_TERMS  # the admin's search box has the same bound

    def get_search_terms(self, request: Any) -> list[str]:
        terms = super().get_search_terms(request)
        if len(terms) > self.MAX_TERMS:
            raise exceptions.ValidationError(
                {self.search_param: [f"Chỉ tìm được tối đa {self.MAX_TERMS} từ mỗi lần."]})
        return terms


def _has_nul(data: Any) -> bool:
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return True
        elif isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return False


_JSON_REASONS = {
    "Expecting value": "thiếu giá trị",
    "Extra data": "thừa dữ liệu sau giá trị",
    "Unterminated string starting at": "chuỗi chưa đóng",
    "Expecting property name enclosed in double quotes": "cần tên thuộc tính trong dấu nháy kép",
    "Expecting ':' delimiter": "thiếu dấu hai chấm",
    "Expecting ',' delimiter": "thiếu dấu phẩy",
    "Invalid control character at": "ký tự điều khiển không hợp lệ",
    "Invalid \\escape": "ký tự thoát không hợp lệ",
}


def _json_reason(message: str) -> str:
    return _JSON_REASONS.get(message, "sai cú pháp")


_DJANGO_404 = re.compile(r"^No .+ matches the given query\.$")


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """REST_FRAMEWORK's EXCEPTION_HANDLER: DRF's, plus the Django request errors it leaves as 500s
    or English (oversized bodies, too many parameters, Django's "No X matches the given query.")."""
    # Imported here: rest_framework.views reads the settings that name this module (DEFAULT_PARSER_CLASSES).
    from rest_framework.views import exception_handler as drf_exception_handler

    if isinstance(exc, RequestDataTooBig):
        return Response({"detail": MSG_BODY_TOO_LARGE, "code": "payload_too_large"}, status=413)
    if isinstance(exc, (TooManyFieldsSent, TooManyFilesSent)):
        return Response({"detail": MSG_TOO_MANY_FIELDS, "code": "too_many_fields"}, status=400)
    if isinstance(exc, UnreadablePostError):
        return Response({"detail": MSG_UNREADABLE_BODY, "code": "parse_error"}, status=400)
    if isinstance(exc, Http404) and (not exc.args or _DJANGO_404.match(str(exc.args[0]))):
        exc = exceptions.NotFound()
    elif isinstance(exc, exceptions.ParseError) and str(exc.detail).startswith("Multipart form parse error"):
        exc = exceptions.ParseError(MSG_MULTIPART_INVALID)
    elif isinstance(exc, exceptions.PermissionDenied) and str(exc.detail).startswith("CSRF Failed"):
        exc = exceptions.PermissionDenied(MSG_CSRF)
    response = drf_exception_handler(exc, context)
    # DRF names the view's first authenticator in the 401 challenge, the station's Bearer scheme on the
    # staff views too, which refuse station tokens: a view taking the staff token asks for that one.
    view = context.get("view")
    if response is not None and response.status_code == 401 and _takes_staff_token(view):
        response["WWW-Authenticate"] = 'Token realm="api"'
    # Errors are JSON whatever format was asked for (?format=csv, M3U8): such a renderer would send the
    # JSON under its own content type, and so would DRF's fallback to a view's first renderer when the
    # negotiation itself failed (an unknown ?format=). The browsable API keeps its page.
    request = context.get("request")
    renderer = getattr(request, "accepted_renderer", None)
    if response is not None and request is not None and getattr(renderer, "format", None) not in {"json", "api"}:
        request.accepted_renderer, request.accepted_media_type = JSONRenderer(), JSONRenderer.media_type
    return response


def _takes_staff_token(view: Any) -> bool:
    from .authentication import StaffTokenAuthentication

    return any(isinstance(a, StaffTokenAuthentication) for a in getattr(view, "get_authenticators", list)())


# Django's own error views (urls.py handler400/403/404/500), for what never reaches a DRF view: an
# unknown address, an oversized body read by Django itself, a crash.


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if isinstance(exception, RequestDataTooBig):
        return error_response(request, 413, MSG_BODY_TOO_LARGE, "payload_too_large")
    if isinstance(exception, (TooManyFieldsSent, TooManyFilesSent)):
        return error_response(request, 400, MSG_TOO_MANY_FIELDS, "too_many_fields")
    return error_response(request, 400, MSG_BAD_REQUEST, "bad_request")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """The API answers JSON; a page (newsroom, dashboard) explains in Vietnamese, in the newsroom's layout,
    with a link home."""
    message = str(exception) if isinstance(exception, PermissionDenied) and exception.args else MSG_FORBIDDEN
    if _is_api(request):
        return error_response(request, 403, message, "permission_denied")
    return render(request, "newsroom/403.html", {"message": message}, status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return error_response(request, 404, MSG_PAGE_NOT_FOUND, "not_found")
    return render(request, "newsroom/403.html", {"message": MSG_PAGE_NOT_FOUND, "heading": "Không tìm thấy trang"},
                  status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    return error_response(request, 500, MSG_SERVER_ERROR, "server_error")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: Django's own page is English. A page's form (an expired session, a page left
    open) gets the newsroom's page, with a link home."""
    if _is_api(request):
        return error_response(request, 403, MSG_CSRF, "csrf_failed")
    return render(request, "newsroom/403.html", {"message": MSG_CSRF, "heading": "Không gửi được biểu mẫu"},
                  status=403)
