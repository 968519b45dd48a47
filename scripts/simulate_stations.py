#!/usr/bin/env python3
"""Station simulator: plays the part of the loudspeaker stations over HTTP, with real tokens.

For every active station it, as the station, sends a heartbeat, downloads today's playlist and reports what "aired": every item whose planned
start has passed is reported played (a few fail), and an emergency play is also acknowledged (received,
downloaded, started, completed or failed) as a box's queue would send it. It does not speak MQTT. A fraction of stations stays silent (never calls),
so the dashboard shows true, non-trivial coverage. Deterministic for a given --seed. scripts/run runs
real station agents (stations/agent) for a few stations and this simulator, skipping those (--skip), for
the rest: hundreds of agent processes would be too heavy for a newcomer's machine.

Station tokens are kept in --tokens (default $LOA_VAR_DIR/simulator-tokens.json, mode 0600): a supervisor
issues a token only for a station that has none there or whose token the server refuses (issuing one
revokes the station's previous token, so re-issuing all on every run would cut off real devices).

    python scripts/simulate_stations.py --base-url http://127.0.0.1:8000 --username giamsat --password …

Only the standard library and `requests` are used; it never touches the database directly.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import requests

AGENT = "loa-sim/1.0"
REPO = Path(__file__).resolve().parents[1]


def default_tokens_path() -> Path:
    return Path(os.environ.get("LOA_VAR_DIR") or REPO / "var") / "simulator-tokens.json"


@dataclass
class TokenStore:
    """Station tokens of one server, kept between runs in a file only the owner can read."""

    path: Path
    base_url: str
    tokens: dict[str, str] = field(default_factory=dict)
    issued: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def load(cls, path: Path, base_url: str) -> TokenStore:
        store = cls(path, base_url)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return store
        # Tokens of another server are never sent to this one.
        if isinstance(data, dict) and data.get("base_url") == base_url and isinstance(data.get("tokens"), dict):
            store.tokens = {str(k): str(v) for k, v in data["tokens"].items()}
        return store

    def get(self, code: str) -> str | None:
        with self.lock:
            return self.tokens.get(code)

    def put(self, code: str, token: str) -> None:
        with self.lock:
            self.tokens[code] = token
            self.issued += 1

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out, self.lock:
            json.dump({"base_url": self.base_url, "tokens": self.tokens}, out, indent=1, sort_keys=True)
        os.replace(tmp, self.path)


@dataclass
class Outcome:
    code: str
    silent: bool = False
    reported: int = 0
    accepted: int = 0
    failed: int = 0
    error: str = ""


def _fraction(code: str, seed: int, salt: str) -> float:
    digest = hashlib.sha256(f"{seed}:{salt}:{code}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32


def staff_session(base: str, username: str, password: str) -> requests.Session:
    session = requests.Session()
    resp = session.post(f"{base}/api/v1/auth/token/", json={"username": username, "password": password}, timeout=30)
    resp.raise_for_status()
    session.headers["Authorization"] = f"Token {resp.json()['token']}"
    return session


def active_stations(staff: requests.Session, base: str, limit: int | None) -> list[str]:
    codes: list[str] = []
    url: str | None = f"{base}/api/v1/stations/?active=true"
    while url and (limit is None or len(codes) < limit):
        resp = staff.get(url, timeout=60)
        resp.raise_for_status()
        body = resp.json()
        codes.extend(s["code"] for s in body["results"])
        url = body.get("next")
    return codes[:limit] if limit else codes


def issue_token(staff: requests.Session, base: str, code: str, store: TokenStore) -> str:
    resp = staff.post(f"{base}/api/v1/stations/{code}/token/", timeout=30)
    resp.raise_for_status()
    token = resp.json()["token"]
    store.put(code, token)
    return token


def emergency_acks(item: dict, start: dt.datetime, end: dt.datetime, failed: bool) -> list[dict]:
    """received → downloaded → started → completed (or failed) of an emergency play, a second apart
    before its start."""
    schedule = item["schedule"]
    steps = [("received", start - dt.timedelta(seconds=2)), ("downloaded", start - dt.timedelta(seconds=1)),
             ("started", start), ("failed", start) if failed else ("completed", end)]
    return [{"command": f"em-{schedule}", "schedule": schedule, "state": state, "at": at.isoformat(),
             **({"reason": "Mất điện giữa chừng"} if state == "failed" else {})} for state, at in steps]


def simulate_one(code: str, args: argparse.Namespace, staff: requests.Session, now: dt.datetime,
                 store: TokenStore) -> Outcome:
    out = Outcome(code)
    if _fraction(code, args.seed, "silent") < args.silent_fraction:
        out.silent = True
        return out
    try:
        token = store.get(code) or issue_token(staff, args.base_url, code, store)
        station = requests.Session()
        station.headers["Authorization"] = f"Bearer {token}"
        beat = {"agent_version": AGENT, "state": "idle", "disk_free_mb": 2048, "volume": 80}
        hb = station.post(f"{args.base_url}/api/v1/station/heartbeat/", json=beat, timeout=30)
        if hb.status_code == 401:  # revoked, or the database was reset: only then a new token
            station.headers["Authorization"] = f"Bearer {issue_token(staff, args.base_url, code, store)}"
            hb = station.post(f"{args.base_url}/api/v1/station/heartbeat/", json=beat, timeout=30)
        hb.raise_for_status()
        day = args.date or hb.json()["server_time"][:10]
        playlist = station.get(f"{args.base_url}/api/v1/station/playlist/", params={"date": day}, timeout=60)
        if playlist.status_code == 404:
            return out
        playlist.raise_for_status()
        reports, acks = [], []
        for item in playlist.json().get("items", []):
            if not item.get("starts_at"):
                continue
            start = dt.datetime.fromisoformat(item["starts_at"])
            if start > now:
                continue  # not aired yet: stays pending
            fail = _fraction(f"{code}:{item['id']}", args.seed, "fail") < args.fail_fraction
            end = start + dt.timedelta(milliseconds=item.get("audio", {}).get("duration_ms") or 60_000)
            reports.append({
                "report_id": f"sim-{code}-{item['id']}", "playlist_item": item["id"],
                "status": "failed" if fail else "played", "started_at": start.isoformat(),
                **({"error": "Mất điện giữa chừng"} if fail else {"ended_at": end.isoformat()}),
            })
            out.failed += fail
            if item.get("slot") == "now" and item.get("schedule"):
                acks += emergency_acks(item, start, end, fail)
        for i in range(0, len(reports), 1000):
            resp = station.post(f"{args.base_url}/api/v1/station/reports/", json={"reports": reports[i:i + 1000]},
                                timeout=60)
            resp.raise_for_status()
            out.accepted += resp.json()["accepted"]
        out.reported = len(reports)
        if acks:  # what a box acknowledges of an emergency, as its report queue would send it
            station.post(f"{args.base_url}/api/v1/station/acks/", json={"acks": acks}, timeout=60).raise_for_status()
    except requests.RequestException as exc:
        out.error = str(exc)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-url", default=os.environ.get("LOA_BASE_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--username", default=os.environ.get("LOA_SIM_USER", "giamsat"))
    parser.add_argument("--password", default=os.environ.get("LOA_SIM_PASSWORD", "loa-demo-2026"))
    parser.add_argument("--silent-fraction", type=float, default=0.12, help="stations that never call (default 0.12)")
    parser.add_argument("--fail-fraction", type=float, default=0.04, help="plays reported failed (default 0.04)")
    parser.add_argument("--date", help="playlist date YYYY-MM-DD (default: the server's today)")
    parser.add_argument("--limit", type=int, help="simulate only the first N active stations")
    parser.add_argument("--skip", default="", help="station codes to leave alone (comma-separated): real agents play them")
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--tokens", type=Path, default=default_tokens_path(),
                        help="file keeping the station tokens between runs (default: $LOA_VAR_DIR/simulator-tokens.json)")
    args = parser.parse_args(argv)
    args.base_url = args.base_url.rstrip("/")
    if not args.password:
        parser.error("--password (or LOA_SIM_PASSWORD) is required: a supervisor issues the station tokens")

    staff = staff_session(args.base_url, args.username, args.password)
    skip = {c.strip() for c in args.skip.split(",") if c.strip()}
    codes = [c for c in active_stations(staff, args.base_url, args.limit) if c not in skip]
    now = dt.datetime.now(dt.UTC)
    store = TokenStore.load(args.tokens, args.base_url)
    try:
        with ThreadPoolExecutor(max_workers=args.workers) as pool:
            outcomes = list(pool.map(lambda c: simulate_one(c, args, staff, now, store), codes))
    finally:
        store.save()
    silent = sum(o.silent for o in outcomes)
    errors = [o for o in outcomes if o.error]
    print(f"Mô phỏng {len(codes)} đài: {len(codes) - silent} gửi nhịp tim, {silent} im lặng; "
          f"{sum(o.reported for o in outcomes)} báo cáo ({sum(o.accepted for o in outcomes)} mới, "
          f"{sum(o.failed for o in outcomes)} lỗi phát); {len(errors)} đài gặp lỗi kết nối; "
          f"{store.issued} khóa truy cập mới cấp (các khóa được giữ trong {args.tokens}).")
    for o in errors[:5]:
        print(f"  {o.code}: {o.error}", file=sys.stderr)
    return 1 if errors and len(errors) == len(codes) - silent else 0


if __name__ == "__main__":
    sys.exit(main())
