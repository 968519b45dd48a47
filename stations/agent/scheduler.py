"""What should play now: a pure function of the items, the time and what has been played.

The agent calls `due` on every tick with the clock's absolute time; nothing here sleeps or remembers, so
a late wake-up, a restart or a clock step simply gives the right answer for the moment asked about.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

EMERGENCY = "emergency"


@dataclasses.dataclass(frozen=True)
class Decision:
    # The item to start now (None: keep what plays, or silence).
    play: dict[str, Any] | None = None
    # Whether the item playing now must be stopped first (an emergency preempting a scheduled item); the
    # stopped one is reported interrupted.
    preempt: bool = False
    # Items never started whose start is past the grace: report each skipped.
    skip: tuple[dict[str, Any], ...] = ()
    # When the next item not yet due starts (for the log and for sleeping no longer than needed).
    next_start: dt.datetime | None = None


def parse_time(value: str | dt.datetime) -> dt.datetime:
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"time without an offset: {value!r}")
    return moment


def priority(item: Mapping[str, Any]) -> str:
    return (item.get("bulletin") or {}).get("priority") or item.get("priority") or "normal"


def is_emergency(item: Mapping[str, Any]) -> bool:
    return priority(item) == EMERGENCY


def _order(item: Mapping[str, Any]) -> tuple:
    return (0 if is_emergency(item) else 1, parse_time(item["starts_at"]), item.get("position", 0), item["id"])


def due(items: Iterable[Mapping[str, Any]], now: dt.datetime, grace_s: float,
        played_states: Mapping[Any, str | None], current: Mapping[str, Any] | None = None) -> Decision:
    """The decision at `now` (aware).

    `played_states` maps item id -> "started" | "done" (absent: never started); `current` is the item
    playing now, if any. Emergency > scheduled > silence: a due emergency preempts a scheduled item; a due
    scheduled item waits for whatever plays (within its grace, then it is skipped); an item is due from its
    `starts_at` until `starts_at + grace_s`.
    """
    grace = dt.timedelta(seconds=grace_s)
    waiting: list[Mapping[str, Any]] = []
    skip: list[dict[str, Any]] = []
    next_start: dt.datetime | None = None
    current_id = current["id"] if current is not None else None
    for item in items:
        if item["id"] == current_id or played_states.get(item["id"]) in ("started", "done"):
            continue
        starts = parse_time(item["starts_at"])
        if now < starts:
            next_start = starts if next_start is None else min(next_start, starts)
        elif now > starts + grace:
            skip.append(dict(item))
        else:
            waiting.append(item)
    skip.sort(key=_order)
    if not waiting:
        return Decision(skip=tuple(skip), next_start=next_start)
    best = min(waiting, key=_order)
    if current is None:
        return Decision(play=dict(best), skip=tuple(skip), next_start=next_start)
    if is_emergency(best) and not is_emergency(current):
        return Decision(play=dict(best), preempt=True, skip=tuple(skip), next_start=next_start)
    return Decision(skip=tuple(skip), next_start=next_start)
