"""Uploader: the report queue goes up in batches and an entry leaves only once the server answered for it
(accepted, duplicate or rejected); a timeout, a kill mid-upload or a wrong address loses nothing and the
server never counts a play twice."""

from __future__ import annotations

import datetime as dt
import random
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest

from stations.agent.http import BadRequest, NotFound, RetryLater, StationAPI, TooLarge
from stations.agent.store import Store
from stations.agent.uploader import Uploader

ROOT = Path(__file__).resolve().parents[2]
ICT = dt.timezone(dt.timedelta(hours=7))
T0 = dt.datetime(2026, 12, 1, 6, 0, tzinfo=ICT)


def queue(store: Store, bodies: list[dict]) -> None:
    with store._tx() as db:
        for body in bodies:
            store._enqueue(db, body)


def body(item: int = 1, **extra) -> dict:
    return {"report_id": str(uuid.uuid4()), "playlist_item": item, "status": "skipped",
            "started_at": T0.isoformat(), **extra}


class FakeAPI:
    """Answers like the server: accepts every report, or fails as told."""

    def __init__(self, fail=None):
        self.fail = fail
        self.batches: list[list[dict]] = []

    def upload_reports(self, reports):
        self.batches.append([r["report_id"] for r in reports])
        if self.fail:
            self.fail(reports)
        return {"accepted": len(reports), "duplicates": 0, "rejected": []}


# ---------------------------------------------------------------- against a fake API


def test_the_queue_goes_up_in_batches_of_at_most_500(tmp_path):
    store = Store.open(tmp_path)
    queue(store, [body() for _ in range(1201)])
    api = FakeAPI()

    result = Uploader(api, store).flush()

    assert [len(b) for b in api.batches] == [500, 500, 201]
    assert result.sent == result.accepted == 1201 and result.remaining == 0 and store.queue_length() == 0


def test_a_timeout_deletes_nothing_and_the_same_batch_is_sent_again(tmp_path):
    store = Store.open(tmp_path)
    queue(store, [body() for _ in range(3)])

    def timeout(reports):
        raise RetryLater("hết giờ", 30)

    failing = FakeAPI(timeout)
    result = Uploader(failing, store).flush()
    assert result.retry_after == 30 and store.queue_length() == 3

    ok = FakeAPI()
    Uploader(ok, store).flush()
    assert ok.batches == failing.batches and store.queue_length() == 0


def test_413_splits_the_batch(tmp_path):
    store = Store.open(tmp_path)
    queue(store, [body() for _ in range(8)])

    def too_large(reports):
        if len(reports) > 2:
            raise TooLarge("413", 413)

    api = FakeAPI(too_large)
    result = Uploader(api, store, batch_size=8).flush()

    assert [len(b) for b in api.batches] == [8, 4, 2, 2, 2, 2]
    assert result.accepted == 8 and store.queue_length() == 0


def test_a_report_that_breaks_the_envelope_is_isolated_and_dropped_while_the_others_go_up(tmp_path):
    store = Store.open(tmp_path)
    bodies = [body() for _ in range(6)]
    poison = bodies[3]["report_id"]
    queue(store, bodies)
    delivered: list[str] = []

    def reject_poison(reports):
        if any(r["report_id"] == poison for r in reports):
            raise BadRequest("HTTP 400", 400)
        delivered.extend(r["report_id"] for r in reports)

    result = Uploader(FakeAPI(reject_poison), store).flush()

    assert sorted(delivered) == sorted(b["report_id"] for b in bodies if b["report_id"] != poison)
    assert [r["report_id"] for r in result.rejected] == [poison]
    assert store.queue_length() == 0 and store.last_error()


def test_a_wrong_address_keeps_every_report(tmp_path):
    store = Store.open(tmp_path)
    queue(store, [body() for _ in range(3)])

    def not_found(reports):
        raise NotFound("HTTP 404", 404)

    result = Uploader(FakeAPI(not_found), store).flush()

    assert store.queue_length() == 3 and result.retry_after and "404" in store.last_error()


# ---------------------------------------------------------------- against the real server


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def live(live_server, tmp_path):
    from broadcast.selectors.playlists import local_today
    from stations.services import issue_station_token
    from tests.broadcast.factories_reports import make_playlist, plain_bulletin
    from tests.factories import StationFactory

    station = StationFactory()
    yesterday = local_today() - dt.timedelta(days=1)
    items = make_playlist(station, yesterday, [plain_bulletin("Lịch tiêm chủng", duration_ms=30_000)])
    token = issue_station_token(station)
    return SimpleNamespace(station=station, items=items, token=token, url=live_server.url,
                           api=StationAPI(live_server.url, token, timeout=20), store=Store.open(tmp_path / "data"),
                           data=tmp_path / "data")


def played(item) -> dict:
    return body(item.pk, status="played", started_at=item.starts_at.isoformat(), ended_at=item.ends_at.isoformat())


def test_accepted_duplicate_and_rejected_reports_all_leave_the_queue_and_the_rejection_is_kept(live):
    from broadcast.models import PlaybackReport

    good = [played(i) for i in live.items]
    stranger = body(987654321)
    queue(live.store, [*good, stranger])

    result = Uploader(live.api, live.store).flush()

    assert result.accepted == len(good) and [r["report_id"] for r in result.rejected] == [stranger["report_id"]]
    assert live.store.queue_length() == 0 and stranger["report_id"] in live.store.last_error()
    assert PlaybackReport.objects.filter(station=live.station).count() == len(good)

    queue(live.store, good)  # the agent died after sending, before deleting: sent again as they are
    again = Uploader(live.api, live.store).flush()
    assert again.duplicates == len(good) and live.store.queue_length() == 0
    assert PlaybackReport.objects.filter(station=live.station).count() == len(good)


CHILD = r"""
import sys
sys.path.insert(0, sys.argv[1])
from stations.agent.http import StationAPI
from stations.agent.store import Store
from stations.agent.uploader import Uploader
store = Store.open(sys.argv[2])
print("open", flush=True)
while store.queue_length():
    Uploader(StationAPI(sys.argv[3], sys.argv[4], timeout=20), store, batch_size=int(sys.argv[5])).flush(max_batches=1)
print("empty", flush=True)
"""


def queued_count(data: Path) -> int:
    db = sqlite3.connect(f"file:{data / 'agent.sqlite3'}?mode=ro", uri=True, timeout=10)
    try:
        return db.execute("SELECT COUNT(*) FROM queue").fetchone()[0]
    finally:
        db.close()


def test_kill_9_mid_upload_loses_no_report_and_the_server_counts_none_twice(live):
    from broadcast.models import PlaybackReport

    rng = random.Random(7)
    item = live.items[0]
    bodies = [played(item) for _ in range(1000)]
    queue(live.store, bodies)
    live.store.close()
    killed_midway = 0
    for _round in range(3):
        before = queued_count(live.data)
        if before == 0:
            break
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(ROOT), str(live.data), live.url, live.token,
                                  "20"], stdout=subprocess.PIPE, text=True)
        assert child.stdout.readline().strip() == "open"
        deadline = time.monotonic() + 30
        while queued_count(live.data) == before and time.monotonic() < deadline:
            time.sleep(0.01)  # until a batch has gone up, so the kill lands during the upload
        time.sleep(rng.uniform(0.0, 0.1))
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        out = child.stdout.read()  # not communicate(timeout=…): it would skip what readline() buffered
        killed_midway += "empty" not in out and queued_count(live.data) > 0

    store = Store.open(live.data)
    assert store.rebuilt_from is None
    uploader = Uploader(live.api, store)
    for _ in range(20):  # as the agent does: the server may still be busy with the killed child's request
        if uploader.flush().retry_after is None:
            break
        time.sleep(0.5)

    assert killed_midway >= 1
    assert store.queue_length() == 0
    on_server = list(PlaybackReport.objects.filter(station=live.station).values_list("report_id", flat=True))
    assert sorted(on_server) == sorted(b["report_id"] for b in bodies)


def test_an_outage_is_logged_when_it_starts_and_when_it_ends_not_at_every_attempt(tmp_path, caplog):
    store = Store.open(tmp_path)
    queue(store, [body()])
    down = True

    def maybe_down(reports):
        if down:
            raise RetryLater("Không kết nối được máy chủ", 5)

    uploader = Uploader(FakeAPI(maybe_down), store)
    with caplog.at_level("INFO", logger="loa.agent.uploader"):
        for _ in range(5):
            uploader.flush()
        down = False
        uploader.flush()
        uploader.flush()

    assert [r.levelname for r in caplog.records] == ["WARNING", "INFO"]
    assert store.queue_length() == 0
