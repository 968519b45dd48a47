"""Playlists and heartbeats: what the station should hold, kept in step with the server.

Polling sends each stored playlist's ETag (an unchanged day is a bodiless 304); a heartbeat's
`playlist_versions` names the days that changed, which are fetched at once. A new version does not
rearrange the next few minutes (`change_freeze_s`) unless an emergency is involved: `merge_playlist`.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
import threading
import time
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from stations.agent import VERSION
from stations.agent.http import BadRequest, RetryLater

log = logging.getLogger("loa.agent.sync")

LOCAL_TZ = dt.timezone(dt.timedelta(hours=7), "ICT")  # Asia/Ho_Chi_Minh has had no DST since 1975
STATE_MAX_BYTES = 4096
FETCH_WAIT_S = 30.0  # how long a poll waits for another thread's fetch of the same date


def local_date(now: dt.datetime) -> dt.date:
    return now.astimezone(LOCAL_TZ).date()


def parse_time(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


def merge_playlist(old_doc: dict[str, Any] | None, new_doc: dict[str, Any], now: dt.datetime,
                   freeze_s: float) -> dict[str, Any]:
    """The playlist to keep when `new_doc` replaces `old_doc` at `now`.

    Items that overlap [now, now + freeze_s) are frozen: if the new version changes them (different audio,
    times or priority there) and the change neither adds nor withdraws an emergency, the old items of that
    window stay and the rest of the new version applies; an emergency change applies at once. Identical
    items under new ids take the new ids (reports must name items the server still has)."""
    if not old_doc or freeze_s <= 0:
        return new_doc
    end = now + dt.timedelta(seconds=freeze_s)
    old_in = [i for i in old_doc.get("items") or [] if _overlaps(i, now, end)]
    new_in = [i for i in new_doc.get("items") or [] if _overlaps(i, now, end)]
    if [_signature(i) for i in _ordered(old_in)] == [_signature(i) for i in _ordered(new_in)]:
        return new_doc
    if _emergencies(old_in) != _emergencies(new_in):
        return new_doc
    new_in_ids = {id(i) for i in new_in}
    kept = [i for i in new_doc.get("items") or [] if id(i) not in new_in_ids] + old_in
    merged = dict(new_doc)
    merged["items"] = _ordered(kept)
    merged["kept_from_version"] = old_doc.get("version")
    merged["kept_items"] = [i.get("id") for i in old_in]
    return merged


def _overlaps(item: dict[str, Any], start: dt.datetime, end: dt.datetime) -> bool:
    begins = parse_time(item["starts_at"])
    ends = parse_time(item["ends_at"]) if item.get("ends_at") else begins + dt.timedelta(
        milliseconds=int((item.get("audio") or {}).get("duration_ms") or 0))
    return begins < end and ends > start


def _signature(item: dict[str, Any]) -> tuple[Any, ...]:
    return (parse_time(item["starts_at"]), (item.get("audio") or {}).get("sha256"), _priority(item))


def _priority(item: dict[str, Any]) -> str:
    return (item.get("bulletin") or {}).get("priority") or "normal"


def _emergencies(items: list[dict[str, Any]]) -> set[tuple[Any, ...]]:
    return {_signature(i) for i in items if _priority(i) == "emergency"}


def _ordered(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(items, key=lambda i: (parse_time(i["starts_at"]), i.get("position", 0), i.get("id", 0)))


class Syncer:
    """`config` needs `change_freeze_s` and `data_dir` (read with defaults); `downloads` is an AudioCache
    (optional: only `prefetch` uses it)."""

    def __init__(self, api: Any, store: Any, clock: Any, config: Any, downloads: Any = None):
        self.api = api
        self.store = store
        self.clock = clock
        self.config = config
        self.downloads = downloads
        self.server_versions: dict[str, int] = {}  # from the last heartbeat
        self.clock_offset_s: float | None = None  # server time minus ours, at the last heartbeat
        self.server_time: dt.datetime | None = None

    # ------------------------------------------------------------ playlists

    def dates(self) -> list[str]:
        """Today and the days ahead the server publishes (tomorrow too before the first heartbeat)."""
        today = local_date(self.clock.now())
        wanted = {today.isoformat()}
        if self.server_versions:
            wanted |= {d for d in self.server_versions if d >= today.isoformat()}
        else:
            wanted.add((today + dt.timedelta(days=1)).isoformat())
        return sorted(wanted)

    def poll(self, dates: Iterable[str] | None = None) -> list[str]:
        """Fetches each date with If-None-Match; returns the dates whose stored playlist changed. A date
        the server does not serve (400) is skipped; RetryLater and Unauthorized propagate. One fetch of a
        date at a time (a push command's thread, the network thread's poll and heartbeat): a caller that
        found one under way waits for it and does not fetch again if it succeeded meanwhile."""
        changed: list[str] = []
        for date in list(dates) if dates is not None else self.dates():
            with _one_fetch(self.store, date) as fresh:
                if fresh:
                    continue
                if self._fetch(date):
                    changed.append(date)
        return changed

    def _fetch(self, date: str) -> bool:
        try:
            status, etag, doc = self.api.playlist(date, self.store.etag(date))
        except BadRequest as exc:
            log.warning("Máy chủ không cho danh sách phát ngày %s: %s", date, exc)
            return False
        if status == 304 or doc is None:
            return False
        old = self.store.playlist(date)
        merged = merge_playlist(old, doc, self.clock.now(), float(getattr(self.config, "change_freeze_s", 300)))
        self.store.save_playlist(date, int(doc.get("version") or 0), etag, merged)
        if old is not None and json.dumps(old, sort_keys=True) == json.dumps(merged, sort_keys=True):
            return False
        kept = merged.get("kept_items")
        log.info("Danh sách phát ngày %s: phiên bản %s (%d mục)%s.", date, doc.get("version"),
                 len(merged.get("items") or []),
                 f", giữ {len(kept)} mục sắp phát của bản cũ" if kept else "")
        return True

    def prune(self, keep_days_back: int = 1) -> None:
        """Forgets playlists older than `keep_days_back` days, and finished plays two days later still (a play
        outlives its playlist, so an old item seen again is never reported twice)."""
        today = local_date(self.clock.now())
        self.store.forget_playlists_before((today - dt.timedelta(days=keep_days_back)).isoformat())
        self.store.forget_plays_before((today - dt.timedelta(days=keep_days_back + 2)).isoformat())

    def prefetch(self, dates: Iterable[str] | None = None) -> list[tuple[str, str]]:
        """Downloads every item's audio of the stored playlists (today and ahead by default); returns
        (sha256, error) for the ones that failed. Unauthorized propagates."""
        from stations.agent.http import Unauthorized

        failures: list[tuple[str, str]] = []
        seen: set[str] = set()
        for date in list(dates) if dates is not None else self.dates():
            for item in (self.store.playlist(date) or {}).get("items") or []:
                sha = (item.get("audio") or {}).get("sha256")
                if not sha or sha in seen:
                    continue
                seen.add(sha)
                try:
                    self.downloads.ensure(item)
                except Unauthorized:
                    raise
                except Exception as exc:  # noqa: BLE001 (one file never stops the others)
                    failures.append((sha, str(exc)))
        return failures

    # ------------------------------------------------------------ heartbeat

    def heartbeat(self, state: dict[str, Any] | None = None) -> dict[str, Any]:
        """Sends the heartbeat and refetches at once every date whose version differs from ours. Returns
        {"server_time", "playlist_versions", "clock_offset_s", "refetched"}."""
        body = self.heartbeat_body(state)
        before_wall = self.clock.now()
        before = self.clock.monotonic()
        reply = self.api.heartbeat(body)
        rtt = max(0.0, self.clock.monotonic() - before)
        try:
            server_time = parse_time(reply["server_time"])
            if server_time.tzinfo is None:
                raise ValueError("không có múi giờ")
        except (TypeError, KeyError, ValueError) as exc:
            raise RetryLater(f"Máy chủ trả lời nhịp tim không đúng mẫu ({exc}).", 60) from None
        local_mid = before_wall + dt.timedelta(seconds=rtt / 2)
        self.clock_offset_s = round((server_time - local_mid).total_seconds(), 3)
        self.server_time = server_time
        versions = {str(k): int(v) for k, v in (reply.get("playlist_versions") or {}).items()}
        self.server_versions = versions
        mine = self.store.versions()
        stale = sorted(d for d, v in versions.items() if mine.get(d) != v)
        refetched = self.poll(stale) if stale else []
        return {"server_time": server_time, "playlist_versions": versions, "clock_offset_s": self.clock_offset_s,
                "refetched": refetched, "push": reply.get("push")}

    def heartbeat_body(self, state: dict[str, Any] | None = None) -> dict[str, Any]:
        today = local_date(self.clock.now()).isoformat()
        full: dict[str, Any] = {
            "clock_offset_s": self.clock_offset_s,
            "queue_length": self.store.queue_length(),
            "last_error": self.store.last_error(),
        }
        extra = dict(state or {})
        full.update(extra)
        if len(json.dumps(full, ensure_ascii=False).encode()) > STATE_MAX_BYTES:
            full = {k: full[k] for k in ("clock_offset_s", "queue_length", "last_error")}
            full["last_error"] = (full["last_error"] or "")[:1000] or None
        body: dict[str, Any] = {"agent_version": VERSION, "state": full,
                                "playlist_version": self.store.versions().get(today)}
        free = _disk_free_mb(getattr(self.config, "data_dir", None))
        if free is not None:
            body["disk_free_mb"] = free
        return body


def _disk_free_mb(path: Any) -> float | None:
    if not path:
        return None
    try:
        return round(shutil.disk_usage(path).free / (1024 * 1024), 1)
    except OSError:
        return None


# Per store (one box), per date: the lock of its fetch and when a fetch of it last succeeded.
_FETCHES: weakref.WeakKeyDictionary[Any, dict[str, list[Any]]] = weakref.WeakKeyDictionary()
_FETCHES_BY_ID: dict[int, dict[str, list[Any]]] = {}  # a store that takes no weak reference
_FETCHES_GUARD = threading.Lock()


@contextmanager
def _one_fetch(store: Any, date: str) -> Iterator[bool]:
    """Holds `date`'s fetch lock; yields True when another caller's fetch finished while this one waited
    (its answer is in the store: no second request)."""
    with _FETCHES_GUARD:
        try:
            dates = _FETCHES.setdefault(store, {})
        except TypeError:
            dates = _FETCHES_BY_ID.setdefault(id(store), {})
        entry = dates.setdefault(date, [threading.Lock(), 0.0])
        for old in sorted(dates)[:-16]:  # bounded: a box needs only a few days
            if old != date:
                dates.pop(old)
    lock: threading.Lock = entry[0]
    waited_from = None
    if not lock.acquire(blocking=False):
        waited_from = time.monotonic()
        if not lock.acquire(timeout=FETCH_WAIT_S):
            yield False  # the other fetch hangs: fetch anyway
            return
    try:
        fresh = waited_from is not None and entry[1] >= waited_from
        yield fresh
        if not fresh:
            entry[1] = time.monotonic()
    finally:
        lock.release()
