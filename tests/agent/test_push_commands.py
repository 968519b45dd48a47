"""Push commands and emergency acks in-process (no broker, no server): which command is acted on, which
ack is queued with which state change, how the ack queue goes up, and a cancel stopping the play."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest

from stations.agent.acks import Acks
from stations.agent.agent import local_date
from stations.agent.http import NotFound, RetryLater
from stations.agent.push import SEEN_MAX
from tests.agent.test_agent_loop import item, now, queued, run_until


def emergency(id_: int, starts_at: dt.datetime, seconds: float = 0.3, schedule: int = 77) -> dict:
    return {**item(id_, starts_at, seconds, "emergency"), "slot": "now", "schedule": schedule}


def command(kind: str = "emergency", schedule: int = 77, **extra) -> dict:
    ids = {"emergency": f"em-{schedule}", "cancel": f"cancel-{schedule}", "playlist": "pl-2026-12-02-8"}
    expires = (now() + dt.timedelta(hours=1)).isoformat()
    return {"v": 1, "id": ids[kind], "kind": kind, "station": "00001", "issued_at": now().isoformat(),
            "expires_at": expires, "schedule": schedule, "date": local_date(now()).isoformat(), "version": 2,
            **extra}


def acks_of(agent) -> list[tuple[int, str]]:  # noqa: ANN001
    return [(int(s), st) for s, st in agent.store._all("SELECT schedule, state FROM acks ORDER BY created_at, rowid")]


@pytest.fixture
def quiet_fetch(monkeypatch):
    """Records what a command would fetch instead of starting threads against a server."""
    fetched: list[tuple] = []
    monkeypatch.setattr("stations.agent.push.Push._fetch_now", lambda self, *a: fetched.append(a))
    return fetched


# ---------------------------------------------------------------- acks of emergency items


def test_an_emergency_item_is_acked_received_started_and_completed_once_each(make_agent):
    agent = make_agent([emergency(9, now() + dt.timedelta(seconds=0.2)), item(1, now() + dt.timedelta(hours=1))])
    agent.start()

    run_until(agent, lambda: 9 in queued(agent))
    for _ in range(20):
        agent.tick()

    assert acks_of(agent) == [(77, "received"), (77, "downloaded"), (77, "started"), (77, "completed")]
    bodies = Acks(agent.store, agent.clock).queued()
    assert all(b["command"] == "em-77" and b["schedule"] == 77 for b in bodies)
    assert dt.datetime.fromisoformat(bodies[1]["at"]).utcoffset() == dt.timedelta(hours=7)


def test_items_without_a_schedule_or_outside_the_emergency_slot_are_not_acked(make_agent):
    plain_emergency = {**item(3, now() + dt.timedelta(seconds=0.1), 0.2, "emergency"), "slot": "now"}
    scheduled = {**item(4, now() + dt.timedelta(seconds=0.4), 0.2), "schedule": 5}
    agent = make_agent([plain_emergency, scheduled])
    agent.start()

    run_until(agent, lambda: 4 in queued(agent))

    assert acks_of(agent) == []


def test_the_started_ack_is_written_in_the_plays_own_transaction(make_agent, monkeypatch):
    agent = make_agent([emergency(9, now(), seconds=30)])
    agent.start()
    sent: list[dict] = []
    agent.acks.publish = lambda ack, confirm=None: sent.append(ack) or True
    add_ack = agent.store.add_ack

    def failing(db, ack):  # noqa: ANN001 - the disk fails as the ack is written
        if any(a and a["state"] == "started" for a in (ack if isinstance(ack, list) else [ack])):
            raise OSError("đĩa đầy")
        return add_ack(db, ack)

    monkeypatch.setattr(agent.store, "add_ack", failing)
    with pytest.raises(OSError):
        agent.tick()
    assert agent.store.play_state(9) is None  # the play's start went with its ack
    monkeypatch.setattr(agent.store, "add_ack", add_ack)

    run_until(agent, lambda: agent.playing is not None)

    assert agent.store.play_state(9) == "started" and (77, "started") in acks_of(agent)
    assert [a["state"] for a in sent] == ["received", "downloaded", "started"]  # over MQTT after the commit


def test_a_skipped_emergency_is_acked_failed_with_its_reason(make_agent):
    agent = make_agent([emergency(9, now() - dt.timedelta(seconds=60))])
    agent.start()
    agent.tick()

    latest = agent.acks.latest(77)
    assert latest["state"] == "failed" and latest["reason"].startswith("Quá giờ phát")


# ---------------------------------------------------------------- commands


def test_an_emergency_command_is_acted_on_once_and_a_duplicate_resends_the_latest_ack(make_agent, quiet_fetch):
    agent = make_agent([])
    sent: list[dict] = []
    agent.acks.publish = lambda ack, confirm=None: sent.append(ack) or True

    assert agent.push.handle(command()) == "acted"
    agent.acks.record(77, "downloaded")
    assert agent.push.handle(command()) == "duplicate"

    assert len(quiet_fetch) == 1  # fetched once
    assert [a["state"] for a in sent] == ["received", "downloaded", "downloaded"]
    assert acks_of(agent) == [(77, "received"), (77, "downloaded")]


def test_an_expired_command_and_an_unknown_one_are_not_acted_on(make_agent, quiet_fetch):
    agent = make_agent([])
    expired = command(expires_at=(now() - dt.timedelta(seconds=1)).isoformat())

    assert agent.push.handle(expired) == "expired"
    assert agent.push.handle({**command(), "v": 2}) == "ignored"
    assert agent.push.handle({**command(), "kind": "reboot"}) == "ignored"

    assert quiet_fetch == [] and acks_of(agent) == []
    assert agent.push.handle(command()) == "acted"  # the expired one was not remembered as acted on


def test_a_playlist_command_asks_the_network_thread_for_that_day(make_agent):
    agent = make_agent([])

    agent.push.handle(command("playlist", date="2026-12-03"))

    assert agent.push.take_requested() == ["2026-12-03"] and agent.shared.wake.is_set()
    assert agent.push.take_requested() == []


def test_seen_command_ids_survive_a_restart_and_stay_bounded(make_agent, quiet_fetch):
    agent = make_agent([])
    for n in range(SEEN_MAX + 5):
        agent.push._remember(f"pl-{n}")
    assert agent.store._one("SELECT COUNT(*) FROM commands", ())[0] == SEEN_MAX

    agent.push.handle(command())
    again = make_agent([])  # the same store directory: a restarted agent
    assert again.push.handle(command()) == "duplicate"


def test_a_retained_empty_message_means_no_emergency_and_garbage_is_ignored(make_agent, quiet_fetch):
    from stations.agent.mqtt import Message

    agent = make_agent([])
    agent.push.on_message(Message("loa/st/00001/emergency", b"", 1, True, 1))
    agent.push.on_message(Message("loa/st/00001/cmd", b"\xff{", 1, False, 2))
    agent.push.on_message(Message("loa/st/00001/cmd", b"[1]", 1, False, 3))
    assert quiet_fetch == [] and acks_of(agent) == []

    agent.push.on_message(Message("loa/st/00001/cmd", json.dumps(command()).encode(), 1, False, 4))
    assert acks_of(agent) == [(77, "received")]


def test_a_cancel_stops_the_playing_emergency_reported_interrupted_and_it_does_not_start_again(
        make_agent, quiet_fetch):
    agent = make_agent([emergency(9, now(), seconds=30)])
    agent.start()
    run_until(agent, lambda: agent.playing is not None)

    agent.push.handle(command("cancel"))
    assert agent.shared.tick_wake.is_set()
    agent.tick()

    assert agent.playing is None
    report = queued(agent)[9]
    assert report["status"] == "interrupted" and report["error"] == "Tin khẩn cấp đã bị huỷ"
    latest = agent.acks.latest(77)
    assert latest["state"] == "interrupted" and latest["reason"] == "Tin khẩn cấp đã bị huỷ"


def test_a_cancel_before_the_start_keeps_the_emergency_from_starting(make_agent, quiet_fetch):
    agent = make_agent([emergency(9, now() + dt.timedelta(seconds=0.2))])
    agent.start()
    agent.push.handle(command("cancel"))

    for _ in range(30):
        agent.tick()

    assert agent.playing is None and 9 not in queued(agent)


# ---------------------------------------------------------------- the ack queue's upload


class AckAPI:
    def __init__(self, fail=None) -> None:  # noqa: ANN001
        self.fail, self.batches = fail, []

    def upload_acks(self, acks):  # noqa: ANN001
        self.batches.append(acks)
        if self.fail:
            raise self.fail
        return {"accepted": len(acks), "duplicates": 0, "rejected": []}


def test_acks_go_up_in_batches_of_at_most_500_and_leave_the_queue_once_answered(make_agent):
    agent = make_agent([])
    for schedule in range(1201):
        agent.acks.record(schedule, "received")
    api = AckAPI()

    assert agent.acks.flush(api) == 1201

    assert [len(b) for b in api.batches] == [500, 500, 201]
    assert agent.acks.queue_length() == 0
    assert agent.acks.flush(api) == 0 and len(api.batches) == 3  # nothing pending: no request
    assert agent.acks.latest(5)["state"] == "received"  # kept (uploaded) for a re-send


@pytest.mark.parametrize("failure", [RetryLater("hết giờ", 30), NotFound("HTTP 404", 404)])
def test_a_failed_ack_upload_keeps_the_queue_and_waits_before_trying_again(make_agent, failure):
    agent = make_agent([])
    agent.acks.record(77, "received")

    assert agent.acks.flush(AckAPI(failure), mono=100.0) == 0
    assert agent.acks.queue_length() == 1
    api = AckAPI()
    assert agent.acks.flush(api, mono=101.0) == 0 and api.batches == []  # not in a loop
    assert agent.acks.flush(api, mono=200.0) == 1 and agent.acks.queue_length() == 0


class PlaylistAPI:
    """Serves one day's playlist, a step behind for the first `behind` calls (a lagging server or cache)."""

    def __init__(self, date: str, items: list[dict], behind: int) -> None:
        self.date, self.items, self.behind, self.calls = date, items, behind, 0

    def playlist(self, date, etag=None):  # noqa: ANN001
        self.calls += 1
        version = 1 if self.calls <= self.behind else 2
        doc = {"date": self.date, "version": version, "items": self.items if version == 2 else []}
        return 200, f'"v{version}"', doc


def test_a_pushed_day_still_older_than_the_command_is_fetched_again_a_second_later(make_agent, monkeypatch):
    monkeypatch.setattr("stations.agent.push.time.sleep", lambda s: None)
    agent = make_agent([])
    today = local_date(now()).isoformat()
    agent.api = PlaylistAPI(today, [emergency(9, now() + dt.timedelta(minutes=5))], behind=2)
    generation = agent.shared.playlists_generation

    agent.push._poll(today, 2)

    assert agent.api.calls == 3 and agent.store.versions()[today] == 2
    assert agent.shared.playlists_generation > generation and agent.shared.tick_wake.is_set()
    assert agent.push.take_requested() == []


def test_a_reconnection_polls_today_after_a_random_delay_the_first_connection_does_not(make_agent, monkeypatch):
    monkeypatch.setattr("stations.agent.push.RECONNECT_POLL_SPREAD_S", 0.05)
    agent = make_agent([])
    agent.push._on_connect()
    time.sleep(0.2)
    assert agent.push.take_requested() == []

    agent.push._on_connect()
    time.sleep(0.2)
    assert agent.push.take_requested() == [local_date(now()).isoformat()]


def test_the_broker_comes_from_the_config_else_from_the_heartbeat_and_none_means_polling(make_agent):
    agent = make_agent([])
    assert agent.heartbeat_state()["mqtt_connected"] is None  # not configured: polling only
    try:
        agent.push.configure({"url": "mqtt://127.0.0.1:9", "username": "00007", "prefix": "loa"})
        assert agent.push.settings == ("mqtt://127.0.0.1:9", "00007", "loa")
        assert agent.push.client.subscriptions == [("loa/st/00007/cmd", 1), ("loa/st/00007/emergency", 1)]
        assert agent.heartbeat_state()["mqtt_connected"] is False

        agent.config.mqtt_url = "mqtts://00007@broker.example:8883"
        agent.push.configure(None)  # the config wins; the user name comes from its URL
        assert agent.push.settings == ("mqtts://00007@broker.example:8883", "00007", "loa")

        agent.config.mqtt_url = ""
        agent.push.configure({})  # the server no longer names a broker
        assert agent.push.client is None and agent.push.settings is None
    finally:
        agent.push.stop()
