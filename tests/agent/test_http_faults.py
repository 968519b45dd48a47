"""StationAPI against a small local server that misbehaves: every failure becomes Unauthorized, RetryLater or
BadRequest, and no call hangs. Also holds FaultServer, which the download tests use."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from stations.agent.http import BadRequest, NotFound, RetryLater, StationAPI, TooLarge, Unauthorized

ROOT = Path(__file__).resolve().parents[2]


class FaultServer:
    """A thread serving `routes[path] -> callable(handler)`; records each request as (method, path, headers)."""

    def __init__(self) -> None:
        self.routes: dict[str, Any] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.stop = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _any(self) -> None:
                outer.requests.append((self.command, self.path, dict(self.headers)))
                length = int(self.headers.get("Content-Length") or 0)
                self.body = self.rfile.read(length) if length else b""
                route = outer.routes.get(self.path.split("?")[0])
                if route is None:
                    self.send_json(404, {"detail": "Không có."})
                    return
                route(self)

            do_GET = do_POST = _any

            def send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(raw)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FaultServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def serve_file(data: bytes, *, cut_after: int | None = None, honour_range: bool = True):
    """A route serving `data` with Range support; `cut_after` closes the connection after that many body bytes
    (Content-Length still promises the whole range), as a broken link does."""

    def route(h: BaseHTTPRequestHandler) -> None:
        start = 0
        rng = h.headers.get("Range")
        if rng and honour_range:
            start = int(rng.split("=")[1].split("-")[0])
            if start >= len(data):
                h.send_json(416, {"detail": "Ngoài tệp."})
                return
        body = data[start:]
        h.send_response(206 if start else 200)
        h.send_header("Content-Type", "audio/mpeg")
        h.send_header("Content-Length", str(len(body)))
        if start:
            h.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        h.end_headers()
        if cut_after is not None:
            h.wfile.write(body[:cut_after])
            h.wfile.flush()
            h.close_connection = True
            h.connection.shutdown(2)
            return
        h.wfile.write(body)

    return route


@pytest.fixture
def server():
    with FaultServer() as s:
        yield s


def api_for(server: FaultServer, timeout: float = 5.0, **kw: Any) -> StationAPI:
    return StationAPI(server.url, "tok-123", timeout=timeout, **kw)


def test_every_call_sends_the_bearer_token_and_the_agent_version_to_the_api_root(server):
    server.routes["/api/v1/station/heartbeat/"] = lambda h: h.send_json(
        200, {"server_time": "2026-12-01T06:00:02+07:00", "playlist_versions": {}})

    reply = api_for(server).heartbeat({"agent_version": "x"})

    assert reply["server_time"] == "2026-12-01T06:00:02+07:00"
    method, path, headers = server.requests[0]
    assert (method, path) == ("POST", "/api/v1/station/heartbeat/")
    assert headers["Authorization"] == "Bearer tok-123" and headers["User-Agent"].startswith("loa-agent/")
    assert headers["Content-Type"].startswith("application/json")


def test_401_is_unauthorized_and_400_404_413_are_bad_requests(server):
    server.routes["/api/v1/station/heartbeat/"] = lambda h: h.send_json(401, {"detail": "Mã thiết bị đã bị thu hồi."})
    server.routes["/api/v1/station/reports/"] = lambda h: h.send_json(413, {"detail": "Quá nhiều."})
    server.routes["/api/v1/station/playlist/"] = lambda h: h.send_json(400, {"date": ["Chỉ có danh sách phát từ …"]})
    api = api_for(server)

    with pytest.raises(Unauthorized, match="thu hồi"):
        api.heartbeat({"agent_version": "x"})
    with pytest.raises(TooLarge):
        api.upload_reports([])
    with pytest.raises(BadRequest) as bad:
        api.playlist("2020-01-01")
    assert bad.value.status == 400 and bad.value.body == {"date": ["Chỉ có danh sách phát từ …"]}
    with pytest.raises(NotFound):
        api.download(server.url + "/nowhere.mp3", "/dev/null")


def test_429_and_503_wait_for_retry_after_and_other_5xx_back_off_growing(server):
    server.routes["/api/v1/station/heartbeat/"] = lambda h: h.send_json(429, {"detail": "Chậm lại."},
                                                                         {"Retry-After": "17"})
    server.routes["/api/v1/station/reports/"] = lambda h: h.send_json(500, {"detail": "Lỗi."})
    api = api_for(server)

    with pytest.raises(RetryLater) as throttled:
        api.heartbeat({"agent_version": "x"})
    assert throttled.value.seconds == 17 and throttled.value.status == 429
    waits = []
    for _ in range(3):
        with pytest.raises(RetryLater) as failed:
            api.upload_reports([])
        waits.append(failed.value.seconds)
    assert waits[0] < waits[1] < waits[2]


def test_an_etag_is_sent_back_and_304_returns_no_document(server):
    def playlist(h):
        if h.headers.get("If-None-Match") == '"v7"':
            h.send_response(304)
            h.send_header("ETag", '"v7"')
            h.send_header("Content-Length", "0")
            h.end_headers()
        else:
            h.send_json(200, {"version": 7, "items": []}, {"ETag": '"v7"'})

    server.routes["/api/v1/station/playlist/"] = playlist
    api = api_for(server)

    assert api.playlist("2026-12-01") == (200, '"v7"', {"version": 7, "items": []})
    assert api.playlist("2026-12-01", '"v7"') == (304, '"v7"', None)
    assert server.requests[0][1] == "/api/v1/station/playlist/?date=2026-12-01"


def test_a_server_that_never_answers_raises_retry_later_within_the_timeout(server):
    server.routes["/api/v1/station/heartbeat/"] = lambda h: server.stop.wait(30)
    api = api_for(server, timeout=0.5)

    began = time.monotonic()
    with pytest.raises(RetryLater):
        api.heartbeat({"agent_version": "x"})
    assert time.monotonic() - began < 10


def test_a_server_that_drips_bytes_is_given_up_at_the_overall_deadline(server):
    def drip(h):
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", "100000")
        h.end_headers()
        while not server.stop.is_set():
            try:
                h.wfile.write(b" ")
                h.wfile.flush()
            except OSError:
                return
            time.sleep(0.05)

    server.routes["/api/v1/station/heartbeat/"] = drip
    api = api_for(server, timeout=1.0, deadline_s=1.5)

    began = time.monotonic()
    with pytest.raises(RetryLater):
        api.heartbeat({"agent_version": "x"})
    assert time.monotonic() - began < 10


def test_a_refused_connection_is_retry_later():
    api = StationAPI("http://127.0.0.1:9", "t", timeout=2)
    with pytest.raises(RetryLater, match="Không kết nối"):
        api.playlist("2026-12-01")


def test_a_cut_download_keeps_what_arrived_and_resumes_with_range(server, tmp_path):
    data = os.urandom(200_000)
    server.routes["/a.mp3"] = serve_file(data, cut_after=50_000)
    api = api_for(server)
    part = tmp_path / "x.part"

    with pytest.raises(RetryLater):
        api.download(server.url + "/a.mp3", part, 0)
    assert part.stat().st_size == 50_000

    server.routes["/a.mp3"] = serve_file(data)
    written, total = api.download("/a.mp3", part, 50_000)

    assert (written, total) == (150_000, 200_000)
    assert part.read_bytes() == data
    assert server.requests[-1][2]["Range"] == "bytes=50000-"


def test_a_server_ignoring_range_restarts_the_file_from_zero(server, tmp_path):
    data = os.urandom(10_000)
    server.routes["/a.mp3"] = serve_file(data, honour_range=False)
    part = tmp_path / "x.part"
    part.write_bytes(b"junk" * 100)

    written, total = api_for(server).download("/a.mp3", part, 400)

    assert written == 10_000 and part.read_bytes() == data


@pytest.mark.skipif(not Path("/usr/bin/python3.11").exists(), reason="no /usr/bin/python3.11")
def test_the_agent_modules_import_and_run_on_python_3_11_without_django(tmp_path):
    code = (
        "import sys, stations.agent.http, stations.agent.store as s, stations.agent.sync, "
        "stations.agent.downloads, stations.agent.uploader\n"
        "st = s.Store.open(sys.argv[1]); rid = st.begin_play(1, '2026-12-01', '2026-12-01T06:00:00+07:00')\n"
        "st.finish_play(1, 'played', '2026-12-01T06:01:00+07:00'); assert st.queue_length() == 1\n"
        "import datetime as dt; from stations.agent.sync import merge_playlist\n"
        "now = dt.datetime(2026, 12, 1, 6, tzinfo=dt.timezone.utc)\n"
        "assert merge_playlist({'items': []}, {'items': []}, now, 300) == {'items': []}\n"
        "from stations.agent.downloads import AudioCache; AudioCache(sys.argv[1] + '/audio', None).evict(set())\n"
        "assert 'django' not in sys.modules, 'the agent imported Django'\n"
        "print('ok')\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "PYTHON"))}
    out = subprocess.run([shutil.which("python3.11") or "/usr/bin/python3.11", "-I", "-c",
                          f"import sys; sys.path.insert(0, {str(ROOT)!r}); exec({code!r})", str(tmp_path)],
                         capture_output=True, text=True, timeout=60, env=env, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
