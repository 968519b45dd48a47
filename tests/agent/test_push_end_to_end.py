"""Push end to end: the real agent (`python3.11 -m stations.agent`) against the live server and a real
Mosquitto. The agent polls only every five minutes here, so only the push can explain an emergency
started within seconds of its schedule; a re-sent command is not played twice, a cancel stops the play,
no broker means polling as before, and the acks reach the server over MQTT and through the queue, whatever
kills the agent in between."""

from __future__ import annotations

import json
import signal
import sqlite3
import threading
import time

import pytest
from django.utils import timezone

from broadcast.models import EmergencyDelivery, PlaylistItem
from broadcast.services.schedules import cancel_schedule, create_schedule
from stations.models import EMERGENCY_SLOT
from tests.agent.push_helpers import paho_client
from tests.agent.test_agent_end_to_end import AgentProcess, reports_for, wait_for
from tests.factories import StationFactory, approved_bulletin

pytestmark = pytest.mark.django_db(transaction=True)

SLOW_POLL = {"poll_s": 300.0, "heartbeat_s": 300.0}


@pytest.fixture
def station_token(db):
    from stations.services import issue_station_token

    station = StationFactory()
    return station, issue_station_token(station)


def emergency(by, seconds: float = 1.0):  # noqa: ANN001
    """An immediate schedule for every station (what the approval of an emergency does); on commit the
    playlists rebuild and the stations are rung (eager Celery in the tests)."""
    bulletin = approved_bulletin(title="Khẩn cấp: lũ quét", priority="emergency", seconds=seconds)
    return create_schedule(bulletin, by=by, start_date=None, end_date=None, slots=[], targets={"all": True},
                           immediate=True)


def item_of(schedule, station) -> PlaylistItem:  # noqa: ANN001
    return PlaylistItem.objects.get(schedule=schedule, slot=EMERGENCY_SLOT, playlist__station=station)


def delivery(schedule, station) -> EmergencyDelivery | None:  # noqa: ANN001
    return EmergencyDelivery.objects.filter(schedule=schedule, station=station).first()


class AckListener:
    """The station's ack topic, heard on the internal listener (as Loa's push_listen does)."""

    def __init__(self, client, code: str) -> None:  # noqa: ANN001
        self.acks: list[dict] = []
        self.commands: list[bytes] = []
        self._lock = threading.Lock()
        subscribed = threading.Event()
        client.on_message = self._on_message
        client.on_subscribe = lambda *_: subscribed.set()
        client.subscribe([(f"loa/st/{code}/ack", 1), (f"loa/st/{code}/cmd", 1)])
        assert subscribed.wait(5)

    def _on_message(self, _c, _u, message) -> None:  # noqa: ANN001
        with self._lock:
            if message.topic.endswith("/ack"):
                self.acks.append(json.loads(message.payload))
            else:
                self.commands.append(message.payload)

    def states(self) -> list[str]:
        with self._lock:
            return [a["state"] for a in self.acks]


def connected_agent(tmp_path, live_server, token, agents, **settings) -> AgentProcess:  # noqa: ANN001, ANN003
    agent = AgentProcess(tmp_path, live_server.url, token, **{**SLOW_POLL, **settings})
    agents.append(agent.start())
    wait_for(lambda: "MQTT: đã kết nối" in agent.log_text(), 20, "the MQTT connection", agent)
    return agent


def test_a_pushed_emergency_starts_within_seconds_though_the_agent_polls_every_five_minutes(
        mqtt_broker, live_server, station_token, supervisor, tmp_path, agents):
    station, token = station_token
    mqtt_broker.sync()
    # The acks the broker confirmed wait for the spread or the report upload: the emergency's report.
    agent = connected_agent(tmp_path, live_server, token, agents, ack_spread_s=600.0)
    with paho_client(mqtt_broker) as client:
        heard = AckListener(client, station.code)
        asked = timezone.now()
        schedule = emergency(supervisor)

        report = wait_for(lambda: reports_for(item_of(schedule, station)), 20, "the play", agent)[0]
        latency = (report.started_at - asked).total_seconds()
        print(f"approval → started: {latency:.2f} s")  # noqa: T201 - the figure the README quotes
        assert report.status == "played"
        assert latency < 5, agent.log_text()
        wait_for(lambda: "completed" in heard.states(), 10, "the acks over MQTT", agent)
    # In order; the retained copy of the command, a duplicate, may have repeated the ack of the moment.
    assert list(dict.fromkeys(heard.states())) == ["received", "downloaded", "started", "completed"]
    assert heard.acks[0]["command"] == f"em-{schedule.pk}" and heard.acks[0]["schedule"] == schedule.pk
    # The same acks through the HTTP queue (the server takes whichever comes first).
    row = wait_for(lambda: (d := delivery(schedule, station)) and d.state == "completed" and d, 10, "the delivery")
    assert row.received_at and row.downloaded_at and row.started_at and row.ended_at
    wait_for(lambda: queued_acks(agent) == 0, 10, "the ack queue to empty", agent)
    assert agent.stop() == 0


def test_a_command_sent_again_is_not_played_again_but_its_latest_ack_is(
        mqtt_broker, live_server, station_token, supervisor, tmp_path, agents):
    station, token = station_token
    mqtt_broker.sync()
    agent = connected_agent(tmp_path, live_server, token, agents)
    with paho_client(mqtt_broker) as client:
        heard = AckListener(client, station.code)
        schedule = emergency(supervisor)
        wait_for(lambda: "completed" in heard.states(), 20, "the first play's acks", agent)
        wait_for(lambda: heard.commands, 5, "the command as Loa sent it")

        client.publish(f"loa/st/{station.code}/cmd", heard.commands[0], qos=1).wait_for_publish(5)
        wait_for(lambda: heard.states().count("completed") == 2, 10, "the latest ack again", agent)

    assert heard.states()[-2:] == ["completed", "completed"]
    time.sleep(1)
    assert len(reports_for(item_of(schedule, station))) == 1
    assert agent.log_text().count("[khẩn cấp]") == 1
    assert agent.stop() == 0


def test_an_expired_command_is_not_acted_on(mqtt_broker, live_server, station_token, tmp_path, agents):
    station, token = station_token
    mqtt_broker.sync()
    agent = connected_agent(tmp_path, live_server, token, agents)
    past = (timezone.now() - timezone.timedelta(minutes=1)).isoformat()
    command = {"v": 1, "id": "pl-2026-12-02-9", "kind": "playlist", "station": station.code, "issued_at": past,
               "expires_at": past, "date": timezone.localdate().isoformat(), "version": 9}
    with paho_client(mqtt_broker) as client:
        client.publish(f"loa/st/{station.code}/cmd", json.dumps(command).encode(), qos=1).wait_for_publish(5)
    wait_for(lambda: "đã hết hạn" in agent.log_text(), 10, "the command to be ignored", agent)
    assert "Lệnh đẩy pl-2026-12-02-9" not in agent.log_text()
    assert agent.stop() == 0


def test_a_cancel_stops_the_playing_emergency_which_is_reported_interrupted(
        mqtt_broker, live_server, station_token, supervisor, tmp_path, agents):
    station, token = station_token
    mqtt_broker.sync()
    agent = connected_agent(tmp_path, live_server, token, agents)
    schedule = emergency(supervisor, seconds=60)
    wait_for(lambda: agent.player_pid(), 20, "the emergency to start", agent)

    cancel_schedule(schedule, by=supervisor)

    report = wait_for(lambda: reports_for(item_of(schedule, station)), 15, "the report", agent)[0]
    assert report.status == "interrupted" and report.error == "Tin khẩn cấp đã bị huỷ"
    row = wait_for(lambda: (d := delivery(schedule, station)) and d.state == "interrupted" and d, 10,
                   "the interrupted ack")
    assert row.reason == "Tin khẩn cấp đã bị huỷ"
    assert agent.stop() == 0


def test_without_a_broker_the_agent_still_plays_the_emergency_by_polling(
        mqtt_broker, live_server, station_token, supervisor, tmp_path, agents):
    station, token = station_token
    mqtt_broker.stop()  # configured (the heartbeat names it) but down
    agent = AgentProcess(tmp_path, live_server.url, token, poll_s=1.0)
    agents.append(agent.start())
    wait_for(lambda: "MQTT" in agent.log_text(), 20, "the failed MQTT connection", agent)

    schedule = emergency(supervisor)

    report = wait_for(lambda: reports_for(item_of(schedule, station)), 20, "the play", agent)[0]
    assert report.status == "played"
    row = wait_for(lambda: (d := delivery(schedule, station)) and d.state == "completed" and d, 10, "the acks")
    assert row.received_at and row.started_at
    assert agent.stop() == 0


def test_with_the_broker_down_each_ack_goes_over_http_at_once_whatever_ack_spread_s(
        mqtt_broker, live_server, station_token, supervisor, tmp_path, agents):
    station, token = station_token
    mqtt_broker.stop()
    agent = AgentProcess(tmp_path, live_server.url, token, poll_s=1.0, ack_spread_s=600.0)
    agents.append(agent.start())
    wait_for(lambda: "MQTT" in agent.log_text(), 20, "the failed MQTT connection", agent)

    schedule = emergency(supervisor, seconds=60)

    # While it plays (no report yet to carry them): only an ack sent at once explains these.
    row = wait_for(lambda: (d := delivery(schedule, station)) and d.state == "started" and d, 20,
                   "the started ack during the play", agent)
    assert row.received_at and row.downloaded_at
    assert not reports_for(item_of(schedule, station))
    assert agent.stop() == 0


def queued_acks(agent: AgentProcess) -> int:
    path = agent.data_dir / "agent.sqlite3"
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as db:
        return db.execute("SELECT COUNT(*) FROM acks WHERE uploaded = 0").fetchone()[0]


def test_acks_queued_when_the_agent_is_killed_before_their_upload_arrive_after_the_restart(
        live_server, station_token, supervisor, tmp_path, agents, monkeypatch):
    from rest_framework.response import Response

    from broadcast.api.push import StationAcks

    station, token = station_token
    monkeypatch.setattr(StationAcks, "post", lambda self, request: Response(
        {"detail": "Bận."}, status=503, headers={"Retry-After": "1"}))  # the acks cannot go up
    agent = AgentProcess(tmp_path, live_server.url, token, poll_s=1.0)
    agents.append(agent.start())
    schedule = emergency(supervisor)
    wait_for(lambda: reports_for(item_of(schedule, station)), 20, "the play", agent)
    wait_for(lambda: queued_acks(agent) == 4, 10, "the four acks queued", agent)
    agent.stop(signal.SIGKILL)
    assert delivery(schedule, station).received_at is None

    monkeypatch.undo()
    back = AgentProcess(tmp_path, live_server.url, token, poll_s=1.0)
    agents.append(back.start())

    row = wait_for(lambda: (d := delivery(schedule, station)) and d.state == "completed" and d, 15, "the acks")
    assert row.received_at and row.downloaded_at and row.started_at and row.ended_at
    wait_for(lambda: queued_acks(back) == 0, 10, "the ack queue to empty", back)
    assert back.stop() == 0
