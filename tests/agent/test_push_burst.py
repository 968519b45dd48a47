"""The few seconds after a push, in-process: what the agent asks of the server. An ack MQTT delivered waits
for its HTTP upload (spread, or with the reports), one download per file, one playlist fetch per date when
two threads want it at once, and a failed push fetch tried again within seconds."""

from __future__ import annotations

import datetime as dt
import hashlib
import struct
import threading
import time
import types

import pytest

from stations.agent import push as push_module
from stations.agent.acks import CONFIRM_S, Acks
from stations.agent.agent import local_date
from stations.agent.config import AgentConfig, ConfigError
from stations.agent.downloads import AudioCache
from stations.agent.http import RetryLater
from stations.agent.mqtt import Client
from stations.agent.mqtt_packets import PUBACK
from stations.agent.store import Store
from stations.agent.sync import Syncer


class Clock:
    def __init__(self) -> None:
        self.mono = 1000.0

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def monotonic(self) -> float:
        return self.mono


class AckAPI:
    def __init__(self) -> None:
        self.batches: list[list[tuple[int, str]]] = []

    def upload_acks(self, acks: list[dict]) -> dict:
        self.batches.append([(a["schedule"], a["state"]) for a in acks])
        return {"accepted": len(acks), "duplicates": 0, "rejected": []}


def confirmed(ack, confirm=None) -> bool:  # noqa: ANN001 - the broker's PUBACK came at once
    confirm.set()
    return True


@pytest.fixture
def acks(tmp_path):
    made = Acks(Store.open(tmp_path / "data"), Clock(), spread_s=30.0)
    made.delay_s = 12.0  # drawn at random in 0…ack_spread_s; fixed here
    return made


# ---------------------------------------------------------------- acks: HTTP waits for what MQTT delivered


def test_acks_the_broker_confirmed_wait_for_the_spread_and_go_up_in_one_batch(acks):
    api = AckAPI()
    acks.publish = confirmed
    acks.record(7, "received")
    acks.record(7, "downloaded")
    start = acks.clock.mono

    assert acks.flush(api, start) == 0 and acks.flush(api, start + 11.9) == 0
    assert api.batches == [] and acks.queue_length() == 2  # still queued: nothing depends on MQTT alone

    assert acks.flush(api, start + 12.0) == 2
    assert api.batches == [[(7, "received"), (7, "downloaded")]] and acks.queue_length() == 0


def test_a_report_upload_takes_the_confirmed_acks_along_before_the_spread(acks):
    api = AckAPI()
    acks.publish = confirmed
    acks.record(7, "received")

    assert acks.flush(api, acks.clock.mono, with_reports=True) == 1
    assert api.batches == [[(7, "received")]]


def test_an_ack_mqtt_could_not_send_goes_over_http_at_once(acks):
    api = AckAPI()
    acks.publish = lambda ack, confirm=None: False  # not connected
    acks.record(7, "received")

    assert acks.flush(api, acks.clock.mono) == 1


def test_an_ack_without_a_puback_goes_over_http_after_a_few_seconds_with_the_confirmed_ones(acks):
    api = AckAPI()
    acks.publish = confirmed
    acks.record(7, "received")
    acks.publish = lambda ack, confirm=None: True  # queued to the broker, which never answers
    acks.record(7, "downloaded")
    start = acks.clock.mono

    assert acks.flush(api, start + CONFIRM_S - 0.1) == 0
    assert acks.flush(api, start + CONFIRM_S) == 2
    assert api.batches == [[(7, "received"), (7, "downloaded")]]


def test_a_confirmed_ack_left_by_a_killed_agent_goes_up_at_once_after_the_restart(acks, tmp_path):
    acks.publish = confirmed
    acks.record(7, "received")
    acks.store.close()  # the agent killed

    again = Acks(Store.open(tmp_path / "data"), Clock(), spread_s=30.0)
    again.delay_s = 12.0
    api = AckAPI()
    assert again.flush(api, again.clock.mono) == 1 and api.batches == [[(7, "received")]]


def test_ack_spread_s_is_a_setting_drawn_once_per_agent(tmp_path, make_agent):
    base = {"server_url": "http://127.0.0.1:9", "token": "t", "data_dir": tmp_path}
    assert AgentConfig(**base).ack_spread_s == 30.0
    with pytest.raises(ConfigError, match="ack_spread_s"):
        AgentConfig(**base, ack_spread_s=-1.0)
    agent = make_agent([], ack_spread_s=5.0)
    assert 0.0 <= agent.acks.delay_s <= 5.0
    assert make_agent([], ack_spread_s=0.0).acks.delay_s == 0.0


def test_the_mqtt_client_sets_the_confirm_event_on_the_brokers_puback():
    client = Client("mqtt://127.0.0.1:9", client_id="00001", username="00001", password="p",
                    subscriptions=[], on_message=lambda m: None)
    sent: list[bytes] = []
    sock = types.SimpleNamespace(sendall=sent.append, setblocking=lambda b: None, settimeout=lambda t: None)
    client.connected.set()
    confirm = threading.Event()
    assert client.publish("loa/st/00001/ack", b"{}", confirm=confirm)
    client._drain(sock)
    (packet_id,) = client._inflight

    client._handle(sock, PUBACK, 0, struct.pack("!H", packet_id + 1))
    assert not confirm.is_set()  # another message's PUBACK
    client._handle(sock, PUBACK, 0, struct.pack("!H", packet_id))
    assert confirm.is_set() and not client._inflight


# ---------------------------------------------------------------- one download per file


AUDIO = b"ID3 khan cap" * 100
SHA = hashlib.sha256(AUDIO).hexdigest()


class SlowDownloads:
    def __init__(self, fail: Exception | None = None) -> None:
        self.calls = 0
        self.release = threading.Event()
        self.fail = fail

    def download(self, url, dest, offset=0, max_bytes=None):  # noqa: ANN001
        self.calls += 1
        assert self.release.wait(5)
        if self.fail is not None:
            raise self.fail
        with open(dest, "wb") as f:
            f.write(AUDIO)


def both_ensure(cache: AudioCache, api: SlowDownloads) -> list:
    results: list = []

    def run() -> None:
        try:
            results.append(cache.ensure({"audio": {"url": "/a", "sha256": SHA}}))
        except Exception as exc:  # noqa: BLE001
            results.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
        time.sleep(0.1)  # the second comes while the first downloads
    api.release.set()
    for thread in threads:
        thread.join(5)
    return results


def test_a_file_two_threads_want_at_once_is_downloaded_once(tmp_path):
    api = SlowDownloads()
    cache = AudioCache(tmp_path / "audio", api)

    results = both_ensure(cache, api)

    assert api.calls == 1
    assert results == [cache.path_for(SHA)] * 2


def test_the_second_caller_takes_the_first_ones_failure_instead_of_downloading_again(tmp_path):
    api = SlowDownloads(fail=RetryLater("HTTP 503", 5.0, 503))
    cache = AudioCache(tmp_path / "audio", api)

    results = both_ensure(cache, api)

    assert api.calls == 1
    assert len(results) == 2 and all(isinstance(r, RetryLater) for r in results)


# ---------------------------------------------------------------- one playlist fetch per date


class SlowPlaylists:
    def __init__(self, date: str) -> None:
        self.calls: list[str | None] = []
        self.release = threading.Event()
        self.date = date

    def playlist(self, date, etag=None):  # noqa: ANN001
        self.calls.append(etag)
        assert self.release.wait(5)
        if etag == '"2"':
            return 304, etag, None
        return 200, '"2"', {"date": date, "version": 2, "items": []}


def test_two_threads_polling_one_date_at_once_make_one_fetch(tmp_path):
    store = Store.open(tmp_path / "data")
    today = local_date(dt.datetime.now(dt.UTC)).isoformat()
    api = SlowPlaylists(today)
    config = types.SimpleNamespace(change_freeze_s=300.0)
    changed: list = []
    threads = [threading.Thread(target=lambda: changed.append(Syncer(api, store, Clock(), config).poll([today])))
               for _ in range(2)]
    for thread in threads:
        thread.start()
        time.sleep(0.1)
    api.release.set()
    for thread in threads:
        thread.join(5)

    assert api.calls == [None]  # one request: the second poll waited for the first's answer
    assert sorted(changed) == [[], [today]] and store.versions()[today] == 2
    assert Syncer(api, store, Clock(), config).poll([today]) == [] and api.calls == [None, '"2"']  # later: 304


# ---------------------------------------------------------------- a failed push fetch is tried again soon


@pytest.fixture
def fast_retries(monkeypatch):
    monkeypatch.setattr(push_module, "RETRY_DELAY_S", (0.01, 0.02))


def test_a_failed_push_playlist_fetch_is_tried_again_within_seconds(make_agent, fast_retries):
    agent = make_agent([])
    today = local_date(dt.datetime.now(dt.UTC)).isoformat()
    answers = [RetryLater("timed out", 30.0), RetryLater("HTTP 502", 30.0, 502),
               (200, '"3"', {"date": today, "version": 3, "items": []})]
    calls: list[str] = []

    def playlist(date, etag=None):  # noqa: ANN001
        calls.append(date)
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    agent.api = types.SimpleNamespace(playlist=playlist)
    agent.push._poll(today, 3)

    assert calls == [today] * 3 and agent.store.versions()[today] == 3
    assert agent.push.take_requested() == []  # not left to the next poll


def test_a_long_retry_after_or_too_many_failures_leave_the_fetch_to_the_network_thread(make_agent, fast_retries):
    agent = make_agent([])
    today = local_date(dt.datetime.now(dt.UTC)).isoformat()
    calls: list[str] = []

    def busy(date, etag=None):  # noqa: ANN001
        calls.append(date)
        raise RetryLater("HTTP 429", 120.0, 429)

    agent.api = types.SimpleNamespace(playlist=busy)
    agent.push._poll(today, 3)
    assert calls == [today] and agent.push.take_requested() == [today]

    def down(date, etag=None):  # noqa: ANN001
        calls.append(date)
        raise RetryLater("HTTP 503", 0.0, 503)

    calls.clear()
    agent.api = types.SimpleNamespace(playlist=down)
    agent.push._poll(today, 3)
    assert calls == [today] * (push_module.RETRIES + 1) and agent.push.take_requested() == [today]


def test_a_short_retry_after_is_honoured(make_agent, fast_retries, monkeypatch):
    agent = make_agent([])
    waits: list[float] = []
    monkeypatch.setattr(agent.stopping, "wait", lambda delay: waits.append(delay) or False)
    assert agent.push._wait_retry(RetryLater("HTTP 429", 7.0, 429), 1, "x")
    assert waits == [7.0]


def test_a_failed_push_audio_download_is_tried_again_and_then_acked_downloaded(make_agent, fast_retries):
    agent = make_agent([])
    tries: list[dict] = []

    def ensure(item):  # noqa: ANN001
        tries.append(item)
        if len(tries) < 3:
            raise RetryLater("timed out", 30.0)
        return "/tmp/x.mp3"

    agent.cache = types.SimpleNamespace(ensure=ensure)
    agent.push._download({"url": "/a", "sha256": SHA}, 77)

    assert len(tries) == 3 and agent.acks.latest(77)["state"] == "downloaded"
