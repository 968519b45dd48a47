#!/usr/bin/env python3
"""Sets up the demo's real station agents for scripts/run: picks a few stations the simulator would play,
gives each a token, a settings file and a data directory under $VAR/agents/<code>/, and prints their codes
(one a line) for scripts/run to start `python -m stations.agent --config …` on each and to keep the
simulator off them.

Tokens are kept in $VAR/agent-tokens.json (mode 0600) and reused: one is issued only for a station that
has none there or whose token the server refuses (issuing revokes the station's previous token).

The clock: when an item of the station's playlist for today is due now or within a few minutes (the
emergency seed_demo has just sent), the agent runs on the real clock and plays it at once. Otherwise it
runs on a simulated clock at normal speed that starts just before the next item not yet played of
today's slots (or, late in the day, of today's last slot), so a newcomer hears the day's playlist within
a minute.
scripts/run re-checks every minute (--recheck) and restarts an agent whose clock should change, never
one that is playing: so the agents play the emergency at once, then the morning, then the evening. The
server accepts those reports: they are within the item's day and after its slot's start, and never more
than a day ahead of the server (REPORTS_MAX_FUTURE_SECONDS); the agent's check against the server's time
is off for a simulated clock (max_clock_offset_s = 0), as it would refuse to play otherwise.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sqlite3
import sys
import tomllib
import zoneinfo
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from simulate_stations import (  # noqa: E402
    TokenStore,
    _fraction,
    active_stations,
    issue_token,
    staff_session,
)

LOCAL_TZ = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")
LEAD_S = 20  # the simulated clock starts this long before the slot
SOON_S = 300  # an item starting within this (or begun within DUE_S) plays on the real clock
DUE_S = 60  # well inside the agent's 120 s grace, leaving time for its start and first download


def pick_stations(codes: Iterable[str], count: int, seed: int = 1, silent_fraction: float = 0.12) -> list[str]:
    """The first `count` stations (by code) the simulator would play: seed_demo has them heard and
    confirming today's emergency, so they are stations that talk."""
    talking = [c for c in sorted(codes) if _fraction(c, seed, "silent") >= silent_fraction]
    return talking[:max(count, 0)]


def _start(item: Mapping[str, Any]) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(item["starts_at"])
    except (KeyError, TypeError, ValueError):
        return None
    return moment if moment.tzinfo is not None else None


def choose_clock(items: Iterable[Mapping[str, Any]], now: dt.datetime,
                 done: Iterable[int] = ()) -> tuple[str, dt.datetime | None]:
    """("system", None) when an item not yet played is due now or soon; else ("simulated", start) just
    before the slot of the next item not yet played, or today's last slot when all are past; ("system",
    None) when there is nothing to play."""
    finished = set(done)
    timed = [(start, item) for item in items if (start := _start(item)) is not None]
    waiting = [(s, i) for s, i in timed if i.get("id") not in finished]
    if any(now - dt.timedelta(seconds=DUE_S) <= s <= now + dt.timedelta(seconds=SOON_S) for s, _ in waiting):
        return "system", None
    later = [(s, i) for s, i in waiting if s > now]
    if later:
        slot = min(later, key=lambda pair: pair[0])[1].get("slot")
    elif timed:
        # All past: today's last slot again (what was played is never played twice).
        slot = max(timed, key=lambda pair: pair[0])[1].get("slot")
    else:
        return "system", None
    # From the slot's first item not yet played (its first item when all are), so a slot cut short
    # goes on at once.
    in_slot = [(s, i) for s, i in timed if i.get("slot") == slot]
    first = min((s for s, i in in_slot if i.get("id") not in finished), default=min(s for s, _ in in_slot))
    return "simulated", first - dt.timedelta(seconds=LEAD_S)


def same_slot(items: Iterable[Mapping[str, Any]], a: tuple[str, dt.datetime | None] | None,
              b: tuple[str, dt.datetime | None]) -> bool:
    """Whether two clock choices are the same, or simulated clocks into the same slot: an agent between
    two items of the slot it plays is left alone (its clock already runs through the slot)."""
    if a is None or a[0] != b[0]:
        return False
    if a[1] == b[1]:
        return True
    if a[1] is None or b[1] is None:
        return False
    lead = dt.timedelta(seconds=LEAD_S)
    slot_of = {_start(i): i.get("slot") for i in items}
    slot = slot_of.get(a[1] + lead)
    return slot is not None and slot == slot_of.get(b[1] + lead)


def plays(data_dir: Path) -> tuple[set[int], bool]:
    """Items the agent's store has finished, and whether one is playing now (nothing without a store)."""
    path = data_dir / "agent.sqlite3"
    if not path.exists():
        return set(), False
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as db:
            rows = db.execute("SELECT item_id, state FROM plays").fetchall()
    except sqlite3.Error:
        return set(), False
    return {int(item) for item, state in rows if state == "done"}, any(state == "started" for _, state in rows)


def current_clock(config: Path) -> tuple[str, dt.datetime | None] | None:
    """The clock a settings file written here names (None when there is none or it is unreadable)."""
    try:
        values = tomllib.loads(config.read_text(encoding="utf-8"))
        start = values.get("sim_start")
        return values["clock"], dt.datetime.fromisoformat(start) if start else None
    except (OSError, KeyError, ValueError, tomllib.TOMLDecodeError):
        return None


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, dt.datetime):
        return json.dumps(value.isoformat())
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(str(value))  # a JSON string is a valid TOML basic string


def agent_settings(base_url: str, data_dir: Path, token_file: Path, clock: str,
                   sim_start: dt.datetime | None) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "server_url": base_url, "token_file": str(token_file), "data_dir": str(data_dir),
        "player": "auto", "null_audio": True, "require_ntp": False,
        "poll_s": 30, "heartbeat_s": 60, "clock": clock,
        "upload_spread_s": 5,  # three boxes need no spreading; a newcomer sees their reports at once
    }
    if clock == "simulated":
        settings.update(sim_start=sim_start, sim_speed=1.0, max_clock_offset_s=0)
    return settings


def write_private(path: Path, text: str) -> None:
    """Writes `path` readable by its owner only, replacing it whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(tmp, path)


def write_config(agent_dir: Path, settings: Mapping[str, Any]) -> Path:
    path = agent_dir / "agent.toml"
    lines = ["# Written by scripts/run (scripts/_demo_agents.py) at each start; edits are lost."]
    lines += [f"{key} = {_toml(value)}" for key, value in settings.items() if value is not None]
    write_private(path, "\n".join(lines) + "\n")
    return path


def today_items(base: str, token: str, staff: requests.Session, code: str,
                store: TokenStore) -> tuple[str, list[dict[str, Any]]]:
    """The station's token (a new one if the server refuses it) and its playlist items for today."""
    for attempt in (0, 1):
        resp = requests.get(f"{base}/api/v1/station/playlist/", headers={"Authorization": f"Bearer {token}"},
                            timeout=60)
        if resp.status_code == 401 and attempt == 0:
            token = issue_token(staff, base, code, store)  # revoked, or the database was reset
            continue
        if resp.status_code == 404:
            return token, []
        resp.raise_for_status()
        return token, list(resp.json().get("items", []))
    raise RuntimeError(f"{code}: máy chủ từ chối khóa truy cập vừa cấp")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--var", type=Path, required=True, help="the run's var directory")
    parser.add_argument("--count", type=int, default=3)
    parser.add_argument("--recheck", nargs="*", metavar="CODE",
                        help="only these running agents: rewrite the settings of those whose clock should "
                             "change (none while one plays) and print their codes")
    parser.add_argument("--username", default=os.environ.get("LOA_SIM_USER", "giamsat"))
    parser.add_argument("--password", default=os.environ.get("LOA_SIM_PASSWORD", "loa-demo-2026"))
    args = parser.parse_args(argv)
    base = args.base_url.rstrip("/")
    if args.recheck is None and args.count <= 0:
        return 0
    staff = staff_session(base, args.username, args.password)
    codes = args.recheck if args.recheck is not None else pick_stations(active_stations(staff, base, None),
                                                                         args.count)
    store = TokenStore.load(args.var / "agent-tokens.json", base)
    now = dt.datetime.now(dt.UTC)
    try:
        for code in codes:
            agent_dir = args.var / "agents" / code
            token, items = today_items(base, store.get(code) or issue_token(staff, base, code, store),
                                       staff, code, store)
            token_file = agent_dir / "token"
            try:
                new_token = token_file.read_text(encoding="utf-8").strip() != token
            except OSError:
                new_token = True
            if new_token:
                write_private(token_file, token + "\n")
            data_dir = agent_dir / "data"
            done, busy = plays(data_dir)
            choice = choose_clock(items, now, done)
            unchanged = busy or same_slot(items, current_clock(agent_dir / "agent.toml"), choice)
            if args.recheck is not None and unchanged and not new_token:
                continue
            write_config(agent_dir, agent_settings(base, data_dir, token_file, *choice))
            sim_start = choice[1]
            when = ("đồng hồ thật" if sim_start is None else
                    f"đồng hồ mô phỏng từ {sim_start.astimezone(LOCAL_TZ):%H:%M:%S %d/%m}")
            print(f"  Đài {code}: {len(items)} mục hôm nay, {len(done)} đã phát; {when}", file=sys.stderr)
            print(code)
    finally:
        store.save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
