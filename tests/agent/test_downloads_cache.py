"""AudioCache: a verified file is never fetched again; a cut or killed download resumes with Range from its .part;
a wrong hash is thrown away; eviction keeps what the playlists need within days and bytes."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from stations.agent.downloads import AudioCache, HashMismatch
from stations.agent.http import RetryLater, StationAPI
from tests.agent.test_http_faults import FaultServer, serve_file

ROOT = Path(__file__).resolve().parents[2]
DATA = os.urandom(300_000)
SHA = hashlib.sha256(DATA).hexdigest()


def item(url: str, sha: str = SHA, size: int | None = len(DATA)) -> dict:
    return {"id": 1, "audio": {"url": url, "sha256": sha, "size_bytes": size, "duration_ms": 1000}}


def audio_requests(server: FaultServer) -> list[dict[str, str]]:
    return [h for _m, p, h in server.requests if p == "/a.mp3"]


@pytest.fixture
def server():
    with FaultServer() as s:
        s.routes["/a.mp3"] = serve_file(DATA)
        yield s


def test_a_file_is_downloaded_verified_and_renamed_and_never_downloaded_again(server, tmp_path):
    cache = AudioCache(tmp_path / "audio", StationAPI(server.url, "t", timeout=5))

    path = cache.ensure(item(server.url + "/a.mp3"))
    assert path == tmp_path / "audio" / f"{SHA}.mp3" and path.read_bytes() == DATA
    assert not (tmp_path / "audio" / f"{SHA}.part").exists()

    assert cache.ensure(item(server.url + "/a.mp3")) == path
    fresh = AudioCache(tmp_path / "audio", StationAPI(server.url, "t", timeout=5))  # after a restart: hashed once
    assert fresh.ensure(item(server.url + "/a.mp3")) == path and fresh.has(SHA)
    assert len(audio_requests(server)) == 1


def test_a_cut_download_resumes_from_the_part_with_range(server, tmp_path):
    server.routes["/a.mp3"] = serve_file(DATA, cut_after=100_000)
    cache = AudioCache(tmp_path / "audio", StationAPI(server.url, "t", timeout=5))

    with pytest.raises(RetryLater):
        cache.ensure(item(server.url + "/a.mp3"))
    assert (tmp_path / "audio" / f"{SHA}.part").stat().st_size == 100_000

    server.routes["/a.mp3"] = serve_file(DATA)
    path = cache.ensure(item(server.url + "/a.mp3"))

    assert hashlib.sha256(path.read_bytes()).hexdigest() == SHA
    assert audio_requests(server)[-1]["Range"] == "bytes=100000-"


def test_a_download_with_the_wrong_hash_is_deleted_and_raises(server, tmp_path):
    cache = AudioCache(tmp_path / "audio", StationAPI(server.url, "t", timeout=5))
    wrong = "0" * 64

    with pytest.raises(HashMismatch, match="sai mã băm"):
        cache.ensure(item(server.url + "/a.mp3", sha=wrong))

    assert list((tmp_path / "audio").iterdir()) == []


def test_a_damaged_file_on_disk_is_noticed_and_downloaded_again(server, tmp_path):
    cache = AudioCache(tmp_path / "audio", StationAPI(server.url, "t", timeout=5))
    (tmp_path / "audio" / f"{SHA}.mp3").write_bytes(DATA[:-10] + b"0123456789")

    path = cache.ensure(item(server.url + "/a.mp3"))

    assert path.read_bytes() == DATA and len(audio_requests(server)) == 1


def test_a_part_longer_than_the_file_or_past_the_end_starts_over(server, tmp_path):
    cache = AudioCache(tmp_path / "audio", StationAPI(server.url, "t", timeout=5))
    part = tmp_path / "audio" / f"{SHA}.part"
    part.write_bytes(b"x" * 10)  # right length prefix but wrong bytes: the hash catches it, then a clean retry

    with pytest.raises(HashMismatch):
        cache.ensure(item(server.url + "/a.mp3"))
    assert cache.ensure(item(server.url + "/a.mp3")).read_bytes() == DATA

    os.unlink(tmp_path / "audio" / f"{SHA}.mp3")
    part.write_bytes(DATA + b"extra")  # past the end (size unknown): the server answers 416, restart
    assert cache.ensure(item(server.url + "/a.mp3", size=None)).read_bytes() == DATA


def test_eviction_keeps_needed_files_and_removes_old_then_oldest_beyond_the_byte_budget(tmp_path):
    root = tmp_path / "audio"
    cache = AudioCache(root, api=None, cache_days=3, cache_bytes=3000)
    now = time.time()
    files = {}
    for name, age_days in (("needed", 10), ("old", 4), ("a", 2), ("b", 1), ("c", 0.5)):
        sha = hashlib.sha256(name.encode()).hexdigest()
        path = root / f"{sha}.mp3"
        path.write_bytes(b"x" * 1000)
        os.utime(path, (now - age_days * 86400, now - age_days * 86400))
        files[name] = path
    stray = root / f"{hashlib.sha256(b'stray').hexdigest()}.part"
    stray.write_bytes(b"x")
    (root / "notes.txt").write_text("not ours")

    removed = cache.evict({files["needed"].stem}, now=now)

    assert set(removed) == {files["old"], files["a"], stray}
    assert sorted(p.name for p in root.iterdir()) == sorted(
        [files["needed"].name, files["b"].name, files["c"].name, "notes.txt"])


# ---------------------------------------------------------------- kill -9

CHILD = r"""
import sys
sys.path.insert(0, sys.argv[1])
from stations.agent.downloads import AudioCache
from stations.agent.http import StationAPI
cache = AudioCache(sys.argv[2], StationAPI(sys.argv[3], "t", timeout=10))
cache.ensure({"audio": {"url": sys.argv[3] + "/slow.mp3", "sha256": sys.argv[4], "size_bytes": int(sys.argv[5])}})
print("finished", flush=True)
"""


def slow_file(data: bytes, server: FaultServer):
    def route(h):
        start = int(h.headers["Range"].split("=")[1].split("-")[0]) if h.headers.get("Range") else 0
        body = data[start:]
        h.send_response(206 if start else 200)
        h.send_header("Content-Length", str(len(body)))
        if start:
            h.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        h.end_headers()
        for i in range(0, len(body), 8192):
            if server.stop.is_set():
                return
            try:
                h.wfile.write(body[i:i + 8192])
                h.wfile.flush()
            except OSError:
                return
            time.sleep(0.02)

    return route


def test_a_download_killed_midway_resumes_from_its_part_and_ends_with_the_right_file(server, tmp_path):
    root = tmp_path / "audio"
    server.routes["/slow.mp3"] = slow_file(DATA, server)
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(ROOT), str(root), server.url, SHA, str(len(DATA))],
                             stdout=subprocess.PIPE, text=True)
    part = root / f"{SHA}.part"
    deadline = time.monotonic() + 30
    while not (part.exists() and part.stat().st_size >= 40_000) and time.monotonic() < deadline:
        time.sleep(0.02)
    child.send_signal(signal.SIGKILL)
    out, _ = child.communicate(timeout=30)
    assert "finished" not in out
    kept = part.stat().st_size
    assert 0 < kept < len(DATA)
    assert not (root / f"{SHA}.mp3").exists()

    server.routes["/slow.mp3"] = serve_file(DATA)
    path = AudioCache(root, StationAPI(server.url, "t", timeout=5)).ensure(
        {"audio": {"url": server.url + "/slow.mp3", "sha256": SHA, "size_bytes": len(DATA)}})

    assert hashlib.sha256(path.read_bytes()).hexdigest() == SHA
    last = [h for _m, p, h in server.requests if p == "/slow.mp3"][-1]
    assert last["Range"] == f"bytes={kept}-"
