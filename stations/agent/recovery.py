"""What a start settles from the previous run: plays it left open, and items of a store rebuilt from a
corrupt file.

A play that began and never ended (the agent was killed or the power cut) is settled from what the
player's wrapper recorded when the player exited (see player.py): one that ended by itself is reported
as the tick would have seen it (played, or failed, at its own end time); one the agent was stopping, or
with no record (the player was still running, or was killed with the agent), is interrupted. Each
outcome is stored (its report queued in the same transaction) before the record is removed, so a kill at
any point leaves either the open play and its record, or the stored outcome and a stale record, which the
next start removes.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from .clock import Clock
from .player import INTERRUPTED, End, Player, classify
from .scheduler import parse_time

log = logging.getLogger("loa.agent")

CRASH_ERROR = "Mất điện hoặc máy tắt giữa chừng"
# When the store was last rebuilt from a corrupt file (kept in it).
REBUILT_AT = "rebuilt_at"


def outcome_at_start(end: End | None, started_at: dt.datetime, duration_s: float | None, tail: str,
                     clock: Clock) -> tuple[str, dt.datetime | None, str | None]:
    """(status, ended_at, error) of a play found open at start, from the record of its end (if any)."""
    if end is None or end.code is None:
        return INTERRUPTED, None, CRASH_ERROR
    ended_at = max(end.ended_at(clock) or started_at, started_at)
    if end.stopped:  # whatever the exit code: the agent had cut it
        return INTERRUPTED, ended_at, CRASH_ERROR
    status, error = classify(end.code, (ended_at - started_at).total_seconds(), duration_s, tail)
    return status, ended_at, error


def settle_unfinished(store: Any, player: Player, clock: Clock, ends: dict[str, End]) -> list[tuple[str, str]]:
    """Stores the outcome of every open play from `ends` (read before a leftover player was stopped), then
    removes every record; returns [(report id, status)]."""
    settled = []
    tail = player.stderr_tail()  # the last play's: the only one that can be open
    for play in store.unfinished_plays():
        report_id = play["report_id"]
        status, ended_at, error = outcome_at_start(ends.get(report_id), parse_time(play["started_at"]),
                                                   _duration_s(store, play), tail, clock)
        store.finish_play(play["item_id"], status, ended_at, error)
        player.forget_end(report_id)
        settled.append((report_id, status))
    for report_id in player.ends():  # stale: their outcome was stored before they could be removed
        player.forget_end(report_id)
    return settled


def _duration_s(store: Any, play: dict[str, Any]) -> float | None:
    for item in (store.playlist(play["date"]) or {}).get("items") or []:
        if item.get("id") == play["item_id"]:
            ms = (item.get("audio") or {}).get("duration_ms")
            return ms / 1000 if ms else None
    return None


def rebuilt_at(store: Any, clock: Clock) -> dt.datetime | None:
    """When the store was rebuilt from a corrupt file (now, if it just was), or None."""
    if getattr(store, "rebuilt_from", None):
        log.error("Cơ sở dữ liệu đã làm lại (tệp hỏng ở %s).", store.rebuilt_from)
        # Kept in the new store: a restart before every playlist is back must still know it.
        store.set(REBUILT_AT, clock.now().isoformat())
    value = store.get(REBUILT_AT)
    return parse_time(value) if value else None


def forget_before_rebuild(store: Any, items: list[dict[str, Any]], rebuilt: dt.datetime) -> None:
    """Items that began before the store was rebuilt are not reported: the lost database may have played
    and reported them already, and a second report under a new id would count twice."""
    by_date: dict[str, list[int]] = {}
    for item in items:
        if parse_time(item["starts_at"]) < rebuilt:
            by_date.setdefault(item["date"], []).append(item["id"])
    for date, ids in by_date.items():
        if marked := store.mark_unreported(ids, date, rebuilt):
            log.warning("%d mục của ngày %s bắt đầu trước khi làm lại cơ sở dữ liệu: không báo cáo lại.",
                        marked, date)
