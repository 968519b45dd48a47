"""Who the real broker lets in: stations by their derived password, never by a wrong or revoked one."""

from __future__ import annotations

import pytest

from stations.agent.credentials import mqtt_password
from stations.models import StationCredential
from stations.services import issue_station_token, revoke_station_tokens
from tests.factories import StationFactory


def test_a_station_connects_with_the_password_derived_from_its_token(make_station, mqtt_connect):
    station, password = make_station("00001")
    assert mqtt_connect(station.code, password).accepted


def test_a_wrong_password_is_refused(make_station, mqtt_connect):
    station, password = make_station("00001")
    session = mqtt_connect(station.code, password[:-1] + ("0" if password[-1] != "0" else "1"))
    assert not session.accepted
    assert str(session.connect_result) == "Not authorized"


def test_the_api_token_itself_is_not_the_mqtt_password(db, mqtt_broker, mqtt_connect):
    station = StationFactory(code="00001")
    token = issue_station_token(station)
    mqtt_broker.sync()
    assert not mqtt_connect(station.code, token).accepted
    assert mqtt_connect(station.code, mqtt_password(token)).accepted


def test_another_stations_password_is_refused(make_station, mqtt_connect):
    make_station("00001")
    _, other_password = make_station("00002")
    assert not mqtt_connect("00001", other_password).accepted


def test_revoking_the_token_disconnects_the_station_and_refuses_it_after_the_commit(
    make_station, mqtt_broker, mqtt_connect, django_capture_on_commit_callbacks
):
    station, password = make_station("00001")
    other, other_password = make_station("00002")
    connected = mqtt_connect(station.code, password)
    bystander = mqtt_connect(other.code, other_password)
    assert connected.accepted and bystander.accepted

    before = mqtt_broker.reloads()
    with django_capture_on_commit_callbacks(execute=True):
        revoke_station_tokens(station)
    mqtt_broker.wait_for_reload(before)

    # Mosquitto 2.0 re-checks connected clients at the reload: the revoked one is cut off at once.
    assert connected.disconnected.wait(5)
    assert not mqtt_connect(station.code, password).accepted
    assert not bystander.disconnected.is_set()
    assert mqtt_connect(other.code, other_password).accepted


def test_a_new_token_replaces_the_old_password_after_the_commit(
    make_station, mqtt_broker, mqtt_connect, django_capture_on_commit_callbacks
):
    station, old_password = make_station("00001")
    before = mqtt_broker.reloads()
    with django_capture_on_commit_callbacks(execute=True):
        new_token = issue_station_token(station)
    mqtt_broker.wait_for_reload(before)
    assert not mqtt_connect(station.code, old_password).accepted
    assert mqtt_connect(station.code, mqtt_password(new_token)).accepted


def test_without_the_commit_the_broker_is_not_told(make_station, mqtt_connect, django_capture_on_commit_callbacks):
    station, password = make_station("00001")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        revoke_station_tokens(station)
    assert callbacks  # the sync waits for the commit
    assert mqtt_connect(station.code, password).accepted


def test_a_suspended_station_is_refused(make_station, mqtt_broker, mqtt_connect):
    station, password = make_station("00001")
    station.active = False
    station.save(update_fields=["active"])
    mqtt_broker.sync()
    assert not mqtt_connect(station.code, password).accepted


@pytest.mark.parametrize("code", ["tram+1", "tram#", "a/b", "đài-1"])
def test_a_code_that_is_no_safe_user_name_gets_no_mqtt_credentials(db, mqtt_broker, mqtt_connect, code):
    station = StationFactory(code=code)
    token = issue_station_token(station)
    mqtt_broker.sync()
    assert StationCredential.objects.get(station=station, revoked_at__isnull=True).mqtt_password_hash == ""
    assert code not in (mqtt_broker.directory / "stations.passwd").read_text()
    assert not mqtt_connect(code, mqtt_password(token)).accepted


def test_the_internal_user_is_refused_on_the_stations_listener_and_stations_on_the_internal_one(
    make_station, mqtt_broker, mqtt_connect
):
    station, password = make_station("00001")
    assert not mqtt_connect(mqtt_broker.internal_user, mqtt_broker.internal_password).accepted
    assert not mqtt_connect(station.code, password, internal=True).accepted
    assert mqtt_connect(mqtt_broker.internal_user, mqtt_broker.internal_password, internal=True).accepted


def test_anonymous_clients_are_refused_on_both_listeners(mqtt_broker, mqtt_connect):
    assert not mqtt_connect("", "").accepted
    assert not mqtt_connect("", "", internal=True).accepted


def test_a_station_suspended_by_an_edit_is_cut_off_once_the_registry_says_so(
    make_station, mqtt_broker, mqtt_connect, django_capture_on_commit_callbacks
):
    # The stations app connects the broker's sync to stations_changed (sent after the commit of an edit).
    from stations.services import edit_station

    station, password = make_station("00001")
    connected = mqtt_connect(station.code, password)
    before = mqtt_broker.reloads()
    with django_capture_on_commit_callbacks(execute=True):
        edit_station(station, {"active": False})
    mqtt_broker.wait_for_reload(before)
    assert connected.disconnected.wait(5)
    assert not mqtt_connect(station.code, password).accepted
