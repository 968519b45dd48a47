"""The agent's SQLite store: one report id per play, made before the player starts; one queued report per
finished play; a crash at any moment loses none and duplicates none; a corrupt file is moved aside."""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from stations.agent.store import FILENAME, Store

ROOT = Path(__file__).resolve().parents[2]
ICT = dt.timezone(dt.timedelta(hours=7))
T0 = dt.datetime(2026, 12, 1, 6, 0, tzinfo=ICT)


def test_a_play_gets_its_report_id_when_it_begins_and_its_report_is_queued_when_it_ends(tmp_path):
    store = Store.open(tmp_path)

    report_id = store.begin_play(4812, "2026-12-01", T0)
    assert store.play_state(4812) == "started" and store.queue_length() == 0
    assert store.finish_play(4812, "played", T0 + dt.timedelta(seconds=72)) == report_id

    assert store.play_state(4812) == "done"
    assert store.queue_batch(10) == [{"report_id": report_id, "playlist_item": 4812, "status": "played",
                                      "started_at": "2026-12-01T06:00:00+07:00",
                                      "ended_at": "2026-12-01T06:01:12+07:00"}]


def test_beginning_or_finishing_a_play_twice_never_makes_a_second_report(tmp_path):
    store = Store.open(tmp_path)
    first = store.begin_play(1, "2026-12-01", T0)

    assert store.begin_play(1, "2026-12-01", T0 + dt.timedelta(seconds=5)) == first
    store.finish_play(1, "played", T0 + dt.timedelta(seconds=60))
    store.finish_play(1, "failed", T0 + dt.timedelta(seconds=61), "lần hai")
    assert store.record_outcome(1, "2026-12-01", "skipped", T0) == first

    assert [r["report_id"] for r in store.queue_batch(10)] == [first]
    assert store.queue_batch(10)[0]["status"] == "played"


def test_after_a_crash_unfinished_plays_are_reported_interrupted_under_their_own_report_id(tmp_path):
    store = Store.open(tmp_path)
    rid = store.begin_play(7, "2026-12-01", T0)
    store.close()

    store = Store.open(tmp_path)
    assert store.unfinished_plays() == [{"item_id": 7, "date": "2026-12-01", "report_id": rid,
                                         "started_at": "2026-12-01T06:00:00+07:00"}]
    assert interrupt_unfinished(store, T0 + dt.timedelta(seconds=30)) == [rid]

    assert store.unfinished_plays() == []
    (body,) = store.queue_batch(10)
    assert body["report_id"] == rid and body["status"] == "interrupted" and body["error"]


def test_a_skipped_item_is_recorded_and_queued_in_one_step_and_error_text_is_made_sendable(tmp_path):
    store = Store.open(tmp_path)

    rid = store.record_outcome(9, "2026-12-01", "skipped", T0, error="Đồng hồ sai\x00 lệch " + "x" * 2000)

    (body,) = store.queue_batch(10)
    assert body["report_id"] == rid and body["status"] == "skipped" and "ended_at" not in body
    assert "\x00" not in body["error"] and len(body["error"]) <= 500
    assert store.play_state(9) == "done"


def test_queue_batches_in_order_and_deletes_only_the_given_ids(tmp_path):
    store = Store.open(tmp_path)
    ids = [store.record_outcome(i, "2026-12-01", "skipped", T0) for i in range(5)]

    assert [b["report_id"] for b in store.queue_batch(3)] == ids[:3]
    assert store.queue_delete(ids[:2]) == 2
    assert store.queue_length() == 3 and [b["report_id"] for b in store.queue_batch(10)] == ids[2:]


def test_playlists_are_kept_by_date_with_version_and_etag(tmp_path):
    store = Store.open(tmp_path)
    doc = {"version": 7, "items": [{"id": 1, "audio": {"sha256": "a" * 64}}]}

    store.save_playlist("2026-12-01", 7, '"e7"', doc)
    store.save_playlist("2026-12-02", 3, '"e3"', {"version": 3, "items": []})
    store.save_playlist("2026-12-01", 8, '"e8"', {**doc, "version": 8})

    assert store.versions() == {"2026-12-01": 8, "2026-12-02": 3}
    assert store.etag("2026-12-01") == '"e8"' and store.playlist("2026-12-01")["version"] == 8
    assert store.playlist("2026-11-30") is None and store.etag("2026-11-30") is None
    assert store.needed_shas() == {"a" * 64}
    store.forget_playlists_before("2026-12-02")
    assert store.dates() == ["2026-12-02"]


def test_last_error_survives_a_restart(tmp_path):
    Store.open(tmp_path).set_last_error("Mất kết nối")
    assert Store.open(tmp_path).last_error() == "Mất kết nối"


def test_the_database_uses_wal_and_full_synchronous_writes(tmp_path):
    store = Store.open(tmp_path)
    assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_a_corrupt_database_is_moved_aside_and_the_store_starts_empty(tmp_path):
    store = Store.open(tmp_path)
    store.record_outcome(1, "2026-12-01", "skipped", T0)
    store.close()
    for leftover in tmp_path.glob(FILENAME + "-*"):
        leftover.unlink()
    (tmp_path / FILENAME).write_bytes(b"\x00garbage, not SQLite" * 500)

    store = Store.open(tmp_path)

    assert store.rebuilt_from is not None and store.rebuilt_from.read_bytes().startswith(b"\x00garbage")
    assert store.rebuilt_from.name.startswith(FILENAME + ".corrupt-")
    assert store.queue_length() == 0 and store.versions() == {}
    assert "hỏng" in store.last_error()
    store.record_outcome(2, "2026-12-01", "skipped", T0)
    assert Store.open(tmp_path).queue_length() == 1 and Store.open(tmp_path).rebuilt_from is None


def test_a_database_with_a_damaged_page_is_detected_by_the_check_at_start(tmp_path):
    store = Store.open(tmp_path)
    for i in range(300):
        store.record_outcome(i, "2026-12-01", "skipped", T0, error="x" * 400)
    store._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    path = tmp_path / FILENAME
    raw = bytearray(path.read_bytes())
    page = 4096
    raw[page * 3: page * 6] = os.urandom(page * 3)  # b-tree pages in the middle of the file
    path.write_bytes(bytes(raw))

    store = Store.open(tmp_path)

    assert store.rebuilt_from is not None and store.queue_length() == 0


# ---------------------------------------------------------------- kill -9

CHILD = r"""
import sys
sys.path.insert(0, sys.argv[1])
from stations.agent.store import Store
store = Store.open(sys.argv[2])
item = int(sys.argv[3])
while True:
    rid = store.begin_play(item, "2026-12-01", "2026-12-01T06:00:00+07:00")
    print("begun", item, rid, flush=True)
    if item % 3:
        store.finish_play(item, "played", "2026-12-01T06:01:00+07:00")
    else:
        store.finish_play(item, "failed", "2026-12-01T06:00:30+07:00", "Loa hỏng")
    print("done", item, rid, flush=True)
    if item % 5 == 0:
        batch = store.queue_batch(3)
        print("sending", " ".join(b["report_id"] for b in batch), flush=True)
        store.queue_delete([b["report_id"] for b in batch])
        print("sent", " ".join(b["report_id"] for b in batch), flush=True)
    item += 1
"""


def test_kill_9_at_random_moments_loses_no_report_and_duplicates_none(tmp_path):
    rng = random.Random(14)
    begun: dict[str, int] = {}
    finished: set[str] = set()
    sent: set[str] = set()
    sending: set[str] = set()  # deleted from the queue, or about to be when the kill came
    next_item = 1
    for _round in range(6):
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(ROOT), str(tmp_path), str(next_item)],
                                 stdout=subprocess.PIPE, text=True)
        first = child.stdout.readline()  # it is writing by now
        assert first.startswith("begun"), first
        time.sleep(rng.uniform(0.0, 0.3))
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        out = child.stdout.read()  # not communicate(timeout=…): it would skip what readline() buffered
        for line in [first, *out.splitlines()]:
            kind, *rest = line.split() or [""]
            if kind in ("begun", "done") and len(rest) != 2:
                continue  # the line the kill cut short
            if kind == "begun":
                begun[rest[1]] = int(rest[0])
            elif kind == "done":
                finished.add(rest[1])
            elif kind == "sending":
                sending.update(rest)
            elif kind == "sent":
                sent.update(rest)

        store = Store.open(tmp_path)
        assert store.rebuilt_from is None
        queued = [b["report_id"] for b in store.queue_batch(100_000)]
        assert len(queued) == len(set(queued))
        unfinished = store.unfinished_plays()
        assert len(unfinished) <= 1
        # Every finished play that was not sent is queued exactly once; nothing sent is queued again.
        assert finished - sending <= set(queued)
        assert not (set(queued) & sent)
        # A play the child began is either done (queued or sent) or unfinished, under the same report id.
        in_play = {p["report_id"] for p in unfinished}
        for rid in begun:
            assert rid in in_play or rid in set(queued) or rid in sending, rid
        interrupt_unfinished(store, "2026-12-01T06:00:40+07:00")
        assert store.unfinished_plays() == []
        assert store.queue_length() == len(queued) + len(in_play)
        next_item = max(begun.values()) + 1
        store.close()
    assert len(finished) > 6  # the child did get work done between the kills


def test_after_a_rebuild_items_already_begun_can_be_settled_without_a_second_report(tmp_path):
    store = Store.open(tmp_path)
    kept = store.record_outcome(3, "2026-12-01", "skipped", T0)

    assert store.mark_unreported([1, 2, 3], "2026-12-01", T0) == 2

    assert store.play_states([1, 2, 3]) == {1: "done", 2: "done", 3: "done"}
    assert [b["report_id"] for b in store.queue_batch(10)] == [kept]
    assert store.begin_play(1, "2026-12-01", T0) != kept and store.queue_length() == 1


def interrupt_unfinished(store: Store, ended_at: dt.datetime | str) -> list[str]:
    return [store.finish_play(p["item_id"], "interrupted", ended_at, "Mất điện giữa chừng")
            for p in store.unfinished_plays()]
