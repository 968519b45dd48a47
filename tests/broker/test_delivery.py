"""The broker keeps what a station must not miss: the retained emergency and commands sent while offline."""

from __future__ import annotations

import time

from tests.broker.test_topic_acl import cmd, emergency


def test_the_retained_emergency_is_delivered_at_subscribe_and_cleared_by_an_empty_retained_message(
    make_station, mqtt_connect, loa_session
):
    _, password = make_station("00001")
    loa_session.publish(emergency("00001"), '{"id": "em-1"}', retain=True)

    first = mqtt_connect("00001", password)
    first.subscribe(emergency("00001"))
    message = first.next_message()
    assert message is not None and message.retain and message.payload == b'{"id": "em-1"}'
    first.close()

    loa_session.publish(emergency("00001"), b"", retain=True)
    later = mqtt_connect("00001", password)
    later.subscribe(emergency("00001"))
    later.subscribe(cmd("00001"))
    loa_session.publish(cmd("00001"), "sau-khi-xoa")
    message = later.next_message()  # a retained emergency would have come first, at its subscribe
    assert message is not None and message.topic == cmd("00001")


def test_a_command_sent_while_the_station_was_offline_arrives_when_it_reconnects(
    make_station, mqtt_connect, loa_session
):
    _, password = make_station("00001")
    station = mqtt_connect("00001", password, client_id="00001", clean_session=False)
    station.subscribe(cmd("00001"))
    station.close()
    time.sleep(0.2)
    loa_session.publish(cmd("00001"), "khi-mat-ket-noi")
    back = mqtt_connect("00001", password, client_id="00001", clean_session=False)
    message = back.next_message()
    assert message is not None and message.payload == b"khi-mat-ket-noi"


def test_the_retained_emergency_and_queued_commands_survive_a_broker_restart(
    make_station, mqtt_broker, mqtt_connect, loa_session
):
    _, password = make_station("00001")
    station = mqtt_connect("00001", password, clean_session=False)
    station.subscribe(cmd("00001"))
    station.close()
    loa_session.publish(emergency("00001"), "khan-cap", retain=True)
    loa_session.publish(cmd("00001"), "dang-cho")
    loa_session.close()

    mqtt_broker.stop()  # a clean stop saves the database
    mqtt_broker.start()

    back = mqtt_connect("00001", password, clean_session=False)
    queued = back.next_message()
    assert queued is not None and queued.payload == b"dang-cho"
    back.subscribe(emergency("00001"))
    retained = back.next_message()
    assert retained is not None and retained.payload == b"khan-cap"
