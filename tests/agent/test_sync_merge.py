"""merge_playlist: a new playlist version does not rearrange the next few minutes unless an emergency is involved."""

from __future__ import annotations

import datetime as dt

from stations.agent.sync import local_date, merge_playlist

ICT = dt.timezone(dt.timedelta(hours=7))
NOW = dt.datetime(2026, 12, 1, 5, 58, tzinfo=ICT)


def it(item_id: int, hhmm: str, sha: str, priority: str = "normal", seconds: int = 60) -> dict:
    h, m = map(int, hhmm.split(":"))
    start = dt.datetime(2026, 12, 1, h, m, tzinfo=ICT)
    return {"id": item_id, "position": item_id, "starts_at": start.isoformat(),
            "ends_at": (start + dt.timedelta(seconds=seconds)).isoformat(),
            "bulletin": {"id": item_id, "title": "t", "priority": priority},
            "audio": {"sha256": sha * 64, "url": f"/a/{sha}", "duration_ms": seconds * 1000}}


def doc(version: int, *items: dict) -> dict:
    return {"station": "00001", "date": "2026-12-01", "version": version, "items": list(items)}


def ids(d: dict) -> list[int]:
    return [i["id"] for i in d["items"]]


def test_with_nothing_stored_the_new_version_is_taken_as_it_is():
    new = doc(2, it(1, "06:00", "a"))
    assert merge_playlist(None, new, NOW, 300) is new


def test_a_normal_change_to_a_slot_starting_within_the_freeze_keeps_the_old_items_there():
    old = doc(1, it(1, "06:00", "a"), it(2, "18:00", "b"))
    new = doc(2, it(3, "06:00", "c"), it(4, "18:00", "d"))

    merged = merge_playlist(old, new, NOW, 300)

    assert ids(merged) == [1, 4]
    assert merged["version"] == 2 and merged["kept_from_version"] == 1 and merged["kept_items"] == [1]


def test_the_same_change_outside_the_freeze_applies_in_full():
    old = doc(1, it(1, "06:00", "a"), it(2, "18:00", "b"))
    new = doc(2, it(3, "06:00", "c"), it(4, "18:00", "d"))

    assert ids(merge_playlist(old, new, NOW - dt.timedelta(minutes=10), 300)) == [3, 4]
    assert ids(merge_playlist(old, new, NOW, 0)) == [3, 4]


def test_an_emergency_added_within_the_freeze_applies_at_once():
    old = doc(1, it(1, "06:00", "a"))
    new = doc(2, it(9, "05:59", "e", "emergency"), it(1, "06:00", "a"))

    assert ids(merge_playlist(old, new, NOW, 300)) == [9, 1]


def test_an_emergency_withdrawn_within_the_freeze_is_withdrawn_at_once():
    old = doc(1, it(9, "05:59", "e", "emergency"), it(1, "06:00", "a"))
    new = doc(2, it(1, "06:00", "a"))

    assert ids(merge_playlist(old, new, NOW, 300)) == [1]


def test_the_item_playing_now_is_frozen_too():
    old = doc(1, it(1, "05:57", "a", seconds=120))
    new = doc(2, it(2, "05:57", "z", seconds=120))

    assert ids(merge_playlist(old, new, NOW, 300)) == [1]


def test_identical_items_under_new_ids_take_the_new_ids():
    old = doc(1, it(1, "06:00", "a"), it(2, "18:00", "b"))
    new = doc(2, it(11, "06:00", "a"), it(12, "19:00", "b"))

    merged = merge_playlist(old, new, NOW, 300)

    assert ids(merged) == [11, 12] and "kept_items" not in merged


def test_local_date_is_vietnam_time():
    assert local_date(dt.datetime(2026, 11, 30, 17, 30, tzinfo=dt.UTC)).isoformat() == "2026-12-01"


def test_prune_forgets_old_playlists_but_keeps_their_plays_two_days_longer(tmp_path):
    from types import SimpleNamespace

    from stations.agent.store import Store
    from stations.agent.sync import Syncer

    store = Store.open(tmp_path)
    for day in ("2026-11-26", "2026-11-28", "2026-11-30", "2026-12-01"):
        store.save_playlist(day, 1, None, doc(1))
        store.record_outcome(int(day[-2:]), day, "skipped", f"{day}T06:00:00+07:00")
    clock = SimpleNamespace(now=lambda: NOW)

    Syncer(None, store, clock, SimpleNamespace()).prune(keep_days_back=1)

    assert store.dates() == ["2026-11-30", "2026-12-01"]
    assert set(store.play_states()) == {28, 30, 1}


def test_a_heartbeat_answer_without_a_usable_server_time_is_retry_later_not_a_crash(tmp_path):
    from types import SimpleNamespace

    import pytest

    from stations.agent.http import RetryLater
    from stations.agent.store import Store
    from stations.agent.sync import Syncer

    clock = SimpleNamespace(now=lambda: NOW, monotonic=lambda: 0.0)
    for reply in ({}, {"server_time": "hôm qua"}, {"server_time": "2026-12-01T06:00:00"}, None):
        api = SimpleNamespace(heartbeat=lambda body, reply=reply: reply)
        with pytest.raises(RetryLater, match="không đúng mẫu"):
            Syncer(api, Store.open(tmp_path), clock, SimpleNamespace(data_dir=tmp_path)).heartbeat()
