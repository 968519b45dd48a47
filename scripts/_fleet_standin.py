"""A minimal stand-in for the station agent (stations.agent), so scripts/bench_fleet.py can be exercised
before the real agent exists or to compare against it: same TOML config keys (server_url, token,
data_dir, player, poll_s, heartbeat_s, grace_s, tick_s, clock, sim_start, sim_speed), standard library
only. It keeps its played items and its report queue in one JSON file written atomically, downloads
with Range resume and sha256 check, plays each item at its start by the configured command, and resends a
queued batch until a 200 came back.

    python scripts/_fleet_standin.py --config agent.toml
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
import uuid
from pathlib import Path

UTC = dt.UTC


class Agent:
    def __init__(self, cfg: dict) -> None:
        self.cfg = cfg
        self.base = cfg["server_url"].rstrip("/") + "/api/v1/"
        self.data = Path(cfg["data_dir"])
        (self.data / "audio").mkdir(parents=True, exist_ok=True)
        self.state_path = self.data / "state.json"
        try:
            self.state = json.loads(self.state_path.read_text())
        except (OSError, ValueError):
            self.state = {"plays": {}, "queue": {}, "etag": "", "doc": None}
        # A play started but not finished before a crash is reported interrupted, once.
        for item_id, play in self.state["plays"].items():
            if play["state"] == "started":
                self._finish(item_id, "interrupted", "Tác tử khởi động lại giữa lượt phát")
        self.offset = 0.0
        if cfg.get("clock") == "simulated":
            start = dt.datetime.fromisoformat(str(cfg["sim_start"]))
            self.offset = (start - dt.datetime.now(UTC)).total_seconds()
        self.player: subprocess.Popen | None = None
        self.playing: str | None = None
        self.stop = False

    def now(self) -> dt.datetime:
        return dt.datetime.now(UTC) + dt.timedelta(seconds=self.offset)

    def save(self) -> None:
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.state))
        os.replace(tmp, self.state_path)

    def call(self, method: str, path: str, body: dict | None = None, headers: dict | None = None,
             timeout: float = 20) -> tuple[int, dict, bytes]:
        req = urllib.request.Request(self.base + path, method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Authorization": f"Bearer {self.cfg['token']}",
                                              "Content-Type": "application/json", **(headers or {})})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, dict(resp.headers), resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read()

    def heartbeat(self) -> None:
        self.call("POST", "station/heartbeat/", {"agent_version": "loa-fleet-standin/1", "state": {
            "playing": self.playing, "queue": len(self.state["queue"])}})

    def poll(self) -> None:
        day = self.now().astimezone(dt.timezone(dt.timedelta(hours=7))).date().isoformat()
        status, headers, body = self.call("GET", f"station/playlist/?date={day}",
                                          headers={"If-None-Match": self.state["etag"]} if self.state["etag"] else {})
        if status == 200:
            self.state["doc"], self.state["etag"] = json.loads(body), headers.get("ETag", "")
            self.save()
        for item in (self.state["doc"] or {}).get("items", []):
            self.ensure(item["audio"])

    def ensure(self, audio: dict) -> Path:
        path = self.data / "audio" / f"{audio['sha256']}.mp3"
        if path.exists():
            return path
        part = path.with_suffix(".part")
        have = part.stat().st_size if part.exists() else 0
        url = audio["url"].split("/api/v1/", 1)[1]
        status, _, body = self.call("GET", url, headers={"Range": f"bytes={have}-"} if have else {}, timeout=60)
        if status not in (200, 206):
            raise OSError(f"audio {status}")
        with open(part, "ab" if status == 206 else "wb") as out:
            out.write(body)
        if hashlib.sha256(part.read_bytes()).hexdigest() != audio["sha256"]:
            part.unlink()
            raise OSError("sha256")
        os.replace(part, path)
        return path

    def _finish(self, item_id: str, status: str, error: str = "") -> None:
        play = self.state["plays"][item_id]
        play["state"] = "done"
        report = {"report_id": play["report_id"], "playlist_item": int(item_id), "status": status,
                  "started_at": play["started_at"]}
        if status == "played":
            report["ended_at"] = self.now().isoformat()
        if error:
            report["error"] = error
        self.state["queue"][play["report_id"]] = report
        self.save()

    def flush(self) -> None:
        if not self.state["queue"]:
            return
        batch = list(self.state["queue"].values())[:500]
        status, _, _ = self.call("POST", "station/reports/", {"reports": batch})
        if status == 200:
            for report in batch:
                self.state["queue"].pop(report["report_id"], None)
            self.save()

    def tick(self) -> None:
        if self.player is not None and self.player.poll() is not None:
            ok = self.player.returncode == 0
            self._finish(self.playing, "played" if ok else "failed", "" if ok else "Trình phát lỗi")
            self.player = self.playing = None
            self._safe(self.flush)
        if self.player is not None:
            return
        now = self.now()
        for item in (self.state["doc"] or {}).get("items", []):
            key = str(item["id"])
            if key in self.state["plays"]:
                continue
            start = dt.datetime.fromisoformat(item["starts_at"])
            if start > now:
                break
            self.state["plays"][key] = {"state": "started", "report_id": str(uuid.uuid4()),
                                        "started_at": now.isoformat()}
            if (now - start).total_seconds() > float(self.cfg.get("grace_s", 120)):
                self._finish(key, "skipped", "Quá thời gian cho phép")
                continue
            self.save()
            try:
                path = self.ensure(item["audio"])
            except OSError as exc:
                self._finish(key, "failed", f"Không tải được âm thanh: {exc}")
                continue
            cmd = [part.format(path=path, duration_s=item["audio"]["duration_ms"] / 1000)
                   for part in self.cfg["player"]]
            self.player = subprocess.Popen(cmd, start_new_session=True)
            self.playing = key
            return

    def _safe(self, fn) -> None:  # noqa: ANN001
        try:
            fn()
        except (OSError, ValueError, urllib.error.URLError):
            pass

    def run(self) -> None:
        last_poll = last_beat = -1e9
        while not self.stop:
            t = time.monotonic()
            if t - last_beat >= float(self.cfg.get("heartbeat_s", 300)):
                self._safe(self.heartbeat)
                last_beat = t
            if t - last_poll >= float(self.cfg.get("poll_s", 60)):
                self._safe(self.poll)
                self._safe(self.flush)
                last_poll = t
            self.tick()
            time.sleep(float(self.cfg.get("tick_s", 0.5)))
        if self.player is not None:
            os.killpg(self.player.pid, signal.SIGTERM)
            self.player.wait()
            self._finish(self.playing, "interrupted", "Tác tử dừng")
        self._safe(self.flush)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    args = parser.parse_args()
    with open(args.config, "rb") as fh:
        agent = Agent(tomllib.load(fh))
    signal.signal(signal.SIGTERM, lambda *_: setattr(agent, "stop", True))
    agent.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
