"""Many stations' emergency path in one process, for scripts/bench_emergency.py --swarm (thousands of
stations, where a process per agent does not fit the machine).

Each station speaks MQTT with the agent's own client (stations.agent.mqtt, one connection and thread per
station, user = code, password from the token as the agent derives it, persistent session, cmd and
emergency topics, QoS 1) and HTTP like the agent: If-None-Match polls every poll_s (each station at its
own phase), the playlist fetched again on an emergency command, the audio downloaded and its sha256
checked, acknowledgements published on its ack topic and posted to /api/v1/station/acks/. What it leaves
out: the player (it acknowledges "started" as soon as the audio is checked, where the agent's tick starts
it within tick_s), plays' reports, heartbeats, the store on disk. HTTP runs on a pool of threads.

    PYTHONPATH=<a copy of stations/agent's parent> python scripts/_fleet_swarm.py --stations s.json \
        --server http://127.0.0.1:8000 [--mqtt mqtt://127.0.0.1:1883] --poll-s 60
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import hashlib
import heapq
import json
import signal
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

from stations.agent import mqtt
from stations.agent.credentials import mqtt_password

LOCAL = dt.timezone(dt.timedelta(hours=7))
EMERGENCY_SLOT = "now"
COUNTS: Counter = Counter()
LOCK = threading.Lock()


def count(name: str, n: int = 1) -> None:
    with LOCK:
        COUNTS[name] += n


class Station:
    def __init__(self, swarm: Swarm, code: str, token: str, phase: float) -> None:
        self.swarm, self.code, self.token, self.phase = swarm, code, token, phase
        self.etag = ""
        self.handled: set[int] = set()
        self.seen: set[str] = set()
        self.lock = threading.Lock()
        self.client: mqtt.Client | None = None

    # ------------------------------------------------ MQTT

    def connect(self, url: str) -> None:
        base = f"loa/st/{self.code}"
        self.ack_topic = f"{base}/ack"
        self.client = mqtt.Client(url, client_id=self.code, username=self.code, password=mqtt_password(self.token),
                                  subscriptions=[(f"{base}/cmd", 1), (f"{base}/emergency", 1)],
                                  on_message=self.on_message)
        self.client.start()

    def on_message(self, message: mqtt.Message) -> None:
        if not message.payload:
            return
        try:
            command = json.loads(message.payload)
        except ValueError:
            count("bad commands")
            return
        cid, schedule = str(command.get("id") or ""), command.get("schedule")
        with self.lock:
            if cid in self.seen:
                count("duplicate commands")
                return
            self.seen.add(cid)
        count(f"commands {command.get('kind')}")
        if command.get("kind") == "emergency" and isinstance(schedule, int):
            if self.claim(schedule):
                self.ack(schedule, "received", mqtt_only=True)
                self.swarm.pool.submit(self.fetch, schedule, command.get("date"), command.get("audio"), "push")

    # ------------------------------------------------ HTTP

    def request(self, path_or_url: str, *, method: str = "GET", body: Any = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        url = urllib.parse.urljoin(self.swarm.server + "/", path_or_url)
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(url, data=data, method=method, headers={
            "Authorization": f"Bearer {self.token}", **({"Content-Type": "application/json"} if data else {}),
            **(headers or {})})
        try:
            with urllib.request.urlopen(req, timeout=30) as answer:
                return answer.status, dict(answer.headers), answer.read()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers or {}), exc.read()

    def poll(self, date: str | None = None) -> None:
        date = date or dt.datetime.now(LOCAL).date().isoformat()
        try:
            status, headers, body = self.request(f"/api/v1/station/playlist/?date={date}",
                                                 headers={"If-None-Match": self.etag} if self.etag else {})
        except OSError:
            count("poll errors")
            return
        count(f"poll {status}")
        if status != 200:
            return
        self.etag = headers.get("ETag", "")
        for item in json.loads(body).get("items", []):
            schedule = item.get("schedule")
            if item.get("slot") == EMERGENCY_SLOT and isinstance(schedule, int) and self.claim(schedule):
                self.ack(schedule, "received", mqtt_only=True)
                self.fetch(schedule, None, item.get("audio"), "poll")

    def claim(self, schedule: int) -> bool:
        with self.lock:
            if schedule in self.handled:
                return False
            self.handled.add(schedule)
            return True

    def fetch(self, schedule: int, date: str | None, audio: Any, via: str) -> None:
        """The emergency's audio (sha256 checked) and, after a command, the playlist; then the acks."""
        try:
            if via == "push":
                self.poll(date)
            status, _headers, body = self.request(audio["url"])
            if status != 200 or hashlib.sha256(body).hexdigest() != audio["sha256"]:
                count("download errors")
                with self.lock:
                    self.handled.discard(schedule)  # the next poll tries again
                return
            count(f"downloads ({via})")
            acks = [self.ack(schedule, "received"), self.ack(schedule, "downloaded"), self.ack(schedule, "started")]
            status, _headers, _body = self.request("/api/v1/station/acks/", method="POST", body={"acks": acks})
            count(f"ack posts {status}")
        except (OSError, KeyError, TypeError, ValueError) as exc:
            count(f"fetch errors {type(exc).__name__}")
            with self.lock:
                self.handled.discard(schedule)

    def ack(self, schedule: int, state: str, *, mqtt_only: bool = False) -> dict[str, Any]:
        ack = {"command": f"em-{schedule}", "schedule": schedule, "state": state,
               "at": dt.datetime.now(LOCAL).isoformat(timespec="milliseconds"), "reason": ""}
        if state != "received" or mqtt_only:  # "received" goes out once over MQTT, at once
            if self.client is not None and self.client.connected.is_set():
                self.client.publish(self.ack_topic, json.dumps(ack).encode())
                count("acks published")
        return ack


class Swarm:
    def __init__(self, args: argparse.Namespace) -> None:
        self.server = args.server.rstrip("/")
        self.pool = concurrent.futures.ThreadPoolExecutor(args.workers, thread_name_prefix="swarm-http")
        rows = json.loads(Path(args.stations).read_text())
        self.stations = [Station(self, r["code"], r["token"], float(r["phase"])) for r in rows]

    def run(self, args: argparse.Namespace, stop: threading.Event) -> None:
        if args.mqtt:
            for n, station in enumerate(self.stations):
                station.connect(args.mqtt)
                if n % 50 == 49:
                    time.sleep(0.05)  # the broker hashes each password: not all in one instant
        start = time.monotonic()
        due = [(start + s.phase * args.poll_s, n) for n, s in enumerate(self.stations)]
        heapq.heapify(due)
        while not stop.is_set():
            at, n = due[0]
            if stop.wait(max(0.0, at - time.monotonic())):
                break
            heapq.heapreplace(due, (at + args.poll_s, n))
            self.pool.submit(self.stations[n].poll)
        for station in self.stations:
            if station.client is not None:
                station.client.stop(timeout=0.1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stations", required=True, help='JSON: [{"code", "token", "phase" (0…1 of poll_s)}]')
    parser.add_argument("--server", required=True)
    parser.add_argument("--mqtt", default="", help="the stations' broker (empty: polling only)")
    parser.add_argument("--poll-s", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=16, help="HTTP threads")
    args = parser.parse_args()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    swarm = Swarm(args)
    swarm.run(args, stop)
    print(json.dumps(dict(COUNTS), sort_keys=True), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
