"""The broker's generated files: their content, how they are written, and `manage.py broker_config`."""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from stations import broker
from stations.agent.credentials import mqtt_password
from stations.broker.config import BrokerConfig, BrokerConfigError, render_conf
from stations.services import issue_station_token
from tests.broker_fixtures import Broker, free_port, mosquitto_binary
from tests.factories import StationFactory


def _listeners(conf: str) -> list[list[str]]:
    """Each listener's lines (up to the next listener)."""
    blocks: list[list[str]] = []
    for line in conf.splitlines():
        if line.startswith("listener "):
            blocks.append([line])
        elif blocks and line and not line.startswith("#"):
            blocks[-1].append(line)
    return blocks


def test_the_conf_has_a_stations_listener_and_an_internal_one_on_localhost_each_with_its_own_users(tmp_path):
    conf = render_conf(BrokerConfig(directory=tmp_path, station_port=1883, internal_port=1884))
    assert "per_listener_settings true" in conf
    stations, internal = _listeners(conf)
    assert stations[0] == "listener 1883"
    assert {"allow_anonymous false", "use_username_as_clientid true", f"password_file {tmp_path}/stations.passwd",
            f"acl_file {tmp_path}/stations.acl"} <= set(stations)
    assert internal[0] == "listener 1884 127.0.0.1"
    assert {"allow_anonymous false", f"password_file {tmp_path}/internal.passwd",
            f"acl_file {tmp_path}/internal.acl"} <= set(internal)
    assert "use_username_as_clientid true" not in internal
    for line in ("persistence true", "persistent_client_expiration 7d", "autosave_interval 30"):
        assert line in conf.splitlines()


def test_with_a_certificate_stations_get_a_tls_listener_with_the_same_users(tmp_path):
    conf = render_conf(BrokerConfig(directory=tmp_path, station_port=0, tls_port=8883,
                                    tls_certfile="/etc/loa/fullchain.pem", tls_keyfile="/etc/loa/privkey.pem"))
    (tls, internal) = _listeners(conf)
    assert tls[0] == "listener 8883"
    assert {"certfile /etc/loa/fullchain.pem", "keyfile /etc/loa/privkey.pem", "allow_anonymous false",
            "use_username_as_clientid true", f"password_file {tmp_path}/stations.passwd"} <= set(tls)


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"prefix": "loa/#"}, "MQTT_TOPIC_PREFIX"),
        ({"prefix": "a+b"}, "MQTT_TOPIC_PREFIX"),
        ({"station_port": 1884, "internal_port": 1884}, "khác nhau"),
        ({"tls_certfile": "/c.pem"}, "MQTT_TLS_KEYFILE"),
        ({"station_port": 0}, "TLS"),
        ({"directory": Path("/tmp/a\nlistener 1")}, "không hợp lệ"),
    ],
)
def test_settings_the_broker_cannot_use_are_refused_in_words(tmp_path, fields, words):
    with pytest.raises(BrokerConfigError, match=words):
        BrokerConfig(**{"directory": tmp_path, **fields})


def test_files_are_private_and_rewritten_only_when_their_content_changes(db, settings, tmp_path):
    settings.MQTT_PASSWORD = "noi-bo"
    config = broker.config_from_settings(directory=tmp_path)
    assert set(broker.write_config(config, internal_password="noi-bo")) == {
        "mosquitto.conf", "stations.passwd", "stations.acl", "internal.passwd", "internal.acl"}
    assert (tmp_path / "stations.passwd").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "internal.passwd").stat().st_mode & 0o777 == 0o600
    before = {p.name: p.stat().st_ino for p in tmp_path.iterdir()}
    assert broker.write_config(config, internal_password="noi-bo") == []
    assert {p.name: p.stat().st_ino for p in tmp_path.iterdir()} == before
    assert broker.write_config(config, internal_password="mat-khau-moi") == ["internal.passwd"]


def test_the_password_file_lists_live_credentials_of_active_stations_only(db, settings, tmp_path):
    config = broker.config_from_settings(directory=tmp_path)
    live = StationFactory(code="00001")
    token = issue_station_token(live)
    issue_station_token(StationFactory(code="00002"))
    revoked = StationFactory(code="00003")
    issue_station_token(revoked)
    from stations.services import revoke_station_tokens

    revoke_station_tokens(revoked)
    issue_station_token(StationFactory(code="00004", active=False))
    broker.write_config(config, internal_password="noi-bo")
    lines = (tmp_path / "stations.passwd").read_text().splitlines()
    assert [line.split(":")[0] for line in lines] == ["00001", "00002"]
    assert broker.check_password(mqtt_password(token), lines[0].split(":", 1)[1])


def test_a_directory_without_a_generated_conf_is_left_alone(db, tmp_path):
    directory = tmp_path / "mosquitto"
    directory.mkdir()
    issue_station_token(StationFactory(code="00001"))
    assert broker.sync_stations(directory) is False
    assert list(directory.iterdir()) == []


def test_a_stale_pid_file_never_signals_another_program(tmp_path):
    (tmp_path / "mosquitto.pid").write_text(f"{os.getpid()}\n")  # this test run: not a broker
    assert broker.broker_pid(tmp_path) is None
    assert broker.reload_broker(tmp_path) is False


def test_without_an_internal_password_the_command_says_what_to_set(db, settings, tmp_path):
    settings.MQTT_PASSWORD = ""
    settings.MQTT_URL = ""
    with pytest.raises(CommandError, match="MQTT_PASSWORD"):
        call_command("broker_config", "--directory", str(tmp_path))


def test_the_internal_password_may_come_from_mqtt_url(db, settings, tmp_path):
    settings.MQTT_PASSWORD = ""
    settings.MQTT_URL = "mqtt://loa:tu-url@127.0.0.1:1884"
    call_command("broker_config", "--directory", str(tmp_path))
    user, encoded = (tmp_path / "internal.passwd").read_text().strip().split(":", 1)
    assert user == "loa" and broker.check_password("tu-url", encoded)


def test_broker_config_reload_lets_a_running_broker_know_a_new_station(mqtt_broker, mqtt_connect, capsys):
    # The token is issued inside the test's transaction: no commit, so no automatic sync.
    station = StationFactory(code="00009")
    password = mqtt_password(issue_station_token(station))
    assert not mqtt_connect(station.code, password).accepted
    before = mqtt_broker.reloads()
    call_command("broker_config", "--directory", str(mqtt_broker.directory), "--bind", mqtt_broker.host,
                 "--reload")
    assert "Đã báo broker nạp lại" in capsys.readouterr().out
    mqtt_broker.wait_for_reload(before)
    assert mqtt_connect(station.code, password).accepted


@pytest.mark.skipif(shutil.which("openssl") is None or mosquitto_binary() is None,
                    reason="cần openssl và mosquitto")
def test_a_station_connects_over_tls_with_a_generated_tls_listener(db, settings, tmp_path):
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    directory = tmp_path / "mosquitto"
    internal_port, tls_port = free_port(), free_port()
    settings.MQTT_STATION_PORT, settings.MQTT_INTERNAL_PORT, settings.MQTT_TLS_PORT = 0, internal_port, tls_port
    settings.MQTT_TLS_CERTFILE, settings.MQTT_TLS_KEYFILE = str(cert), str(key)
    station = StationFactory(code="00001")
    password = mqtt_password(issue_station_token(station))
    broker.write_config(broker.config_from_settings(directory=directory, station_bind="127.0.0.1"),
                        internal_password="noi-bo")
    running = Broker(binary=mosquitto_binary(), directory=directory, station_port=tls_port,
                     internal_port=internal_port)
    try:
        running.start()
        context = ssl.create_default_context(cafile=str(cert))
        context.check_hostname = False
        with socket.create_connection(("127.0.0.1", tls_port), timeout=5) as raw, \
                context.wrap_socket(raw) as tls:
            tls.sendall(_connect_packet(station.code, password))
            assert tls.recv(4) == b"\x20\x02\x00\x00"  # CONNACK, accepted
    finally:
        running.stop()


def _connect_packet(user: str, password: str) -> bytes:
    """An MQTT 3.1.1 CONNECT with user name and password (clean session, keep-alive 30 s)."""

    def field(text: str) -> bytes:
        data = text.encode()
        return len(data).to_bytes(2, "big") + data

    body = field("MQTT") + bytes([4, 0xC2]) + (30).to_bytes(2, "big") + field(user) + field(user) + field(password)
    return bytes([0x10, len(body)]) + body


def test_no_stations_writes_the_broker_without_reading_the_station_credentials(db, settings, tmp_path,
                                                                             django_assert_num_queries):
    settings.MQTT_PASSWORD = "noi-bo"
    issue_station_token(StationFactory(code="00001"))
    with django_assert_num_queries(0):
        call_command("broker_config", "--directory", str(tmp_path), "--no-stations")
    assert (tmp_path / "stations.passwd").read_text() == ""
    assert (tmp_path / "mosquitto.conf").exists()
