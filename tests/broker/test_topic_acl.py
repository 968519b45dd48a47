"""What a station may read and write on the real broker: its own topics only; Loa writes to every station."""

from __future__ import annotations

import time

PREFIX = "loa"


def cmd(code: str) -> str:
    return f"{PREFIX}/st/{code}/cmd"


def emergency(code: str) -> str:
    return f"{PREFIX}/st/{code}/emergency"


def ack(code: str) -> str:
    return f"{PREFIX}/st/{code}/ack"


def test_loa_publishes_to_any_stations_cmd_and_that_station_receives_it(make_station, mqtt_connect, loa_session):
    for code in ("00001", "00002"):
        station, password = make_station(code)
        session = mqtt_connect(code, password)
        session.subscribe(cmd(code))
        loa_session.publish(cmd(code), f"lenh-{code}")
        message = session.next_message()
        assert message is not None and message.topic == cmd(code) and message.payload == f"lenh-{code}".encode()


def test_a_station_never_receives_another_stations_cmd_or_emergency(make_station, mqtt_connect, loa_session):
    _, password = make_station("00001")
    make_station("00002")
    intruder = mqtt_connect("00001", password)
    for topic in (cmd("00002"), emergency("00002"), f"{PREFIX}/st/+/cmd", f"{PREFIX}/#", "#"):
        intruder.subscribe(topic)
    intruder.subscribe(cmd("00001"))
    loa_session.publish(cmd("00002"), "cho-00002")
    loa_session.publish(emergency("00002"), "khan-cap-00002")
    loa_session.publish(cmd("00001"), "cho-00001")  # sent last: when it arrives, the others would have
    received = [intruder.next_message()]
    time.sleep(0.3)
    while not intruder.messages.empty():
        received.append(intruder.messages.get())
    assert [(m.topic, m.payload) for m in received] == [(cmd("00001"), b"cho-00001")]


def test_a_station_writes_only_its_own_ack_topic(make_station, mqtt_connect, loa_session):
    _, password = make_station("00001")
    make_station("00002")
    loa_session.subscribe(f"{PREFIX}/#")
    station = mqtt_connect("00001", password)
    station.publish(ack("00002"), "gia-mao")  # another station's ack
    station.publish(cmd("00001"), "tu-ra-lenh")  # a command, even its own
    station.publish(cmd("00002"), "ra-lenh-cho-dai-khac")
    station.publish(emergency("00001"), "khan-cap-gia")
    station.publish(ack("00001"), "da-nhan")  # allowed: sent last
    received = [loa_session.next_message()]
    time.sleep(0.3)
    while not loa_session.messages.empty():
        received.append(loa_session.messages.get())
    assert [(m.topic, m.payload) for m in received] == [(ack("00001"), b"da-nhan")]


def test_a_station_cannot_take_another_stations_client_id_or_session(make_station, mqtt_connect, loa_session):
    _, password = make_station("00001")
    _, other_password = make_station("00002")
    owner = mqtt_connect("00001", password, client_id="00001", clean_session=False)
    owner.subscribe(cmd("00001"))
    # The broker replaces the asked client id with the user name: no takeover of 00001's connection.
    mqtt_connect("00002", other_password, client_id="00001", clean_session=False)
    time.sleep(0.3)
    assert not owner.disconnected.is_set()
    loa_session.publish(cmd("00001"), "van-den-dung-dai")
    message = owner.next_message()
    assert message is not None and message.payload == b"van-den-dung-dai"


def test_loa_connects_several_processes_with_their_own_client_ids(mqtt_broker, mqtt_connect):
    first = mqtt_connect(mqtt_broker.internal_user, mqtt_broker.internal_password, internal=True, client_id="web-1")
    second = mqtt_connect(mqtt_broker.internal_user, mqtt_broker.internal_password, internal=True, client_id="worker-1")
    time.sleep(0.3)
    assert first.accepted and second.accepted
    assert not first.disconnected.is_set() and not second.disconnected.is_set()


def test_loa_may_not_write_outside_its_prefix(mqtt_broker, mqtt_connect, loa_session):
    # Mosquitto 2.0 grants any SUBACK and filters at delivery: what arrives is the test.
    watcher = mqtt_connect(mqtt_broker.internal_user, mqtt_broker.internal_password, internal=True)
    watcher.subscribe("#")
    loa_session.publish("khac/x", "ngoai")
    loa_session.publish(f"{PREFIX}/x", "trong")
    message = watcher.next_message()
    assert message is not None and message.topic == f"{PREFIX}/x"


def test_no_reload_while_an_acl_file_is_missing_so_stations_stay_apart(make_station, mqtt_broker, mqtt_connect,
                                                                      loa_session):
    # Mosquitto 2.0 reads a missing ACL file at a reload as "no ACL": every topic open to every station.
    from stations import broker

    _, password = make_station("00001")
    make_station("00002")
    (mqtt_broker.directory / "stations.acl").unlink()
    assert broker.reload_broker(mqtt_broker.directory) is False
    intruder = mqtt_connect("00001", password)
    intruder.subscribe(cmd("00002"))
    intruder.subscribe(cmd("00001"))
    loa_session.publish(cmd("00002"), "cho-00002")
    loa_session.publish(cmd("00001"), "cho-00001")
    received = [intruder.next_message()]
    time.sleep(0.3)
    while not intruder.messages.empty():
        received.append(intruder.messages.get())
    assert [m.topic for m in received] == [cmd("00001")]
