"""TEMPORARY private mosquitto for the agent's MQTT tests, until tests/broker_fixtures.py (the shared
`mqtt_broker` fixture) exists; then this module goes."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
from types import SimpleNamespace

import pytest

INTERNAL_USER, INTERNAL_PASSWORD = "loa", "internal-secret"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def private_broker(tmp_path):
    directory = tmp_path / "mosquitto"
    directory.mkdir()
    passwords = directory / "passwd"
    passwords.write_text("")
    for user, password in ((INTERNAL_USER, INTERNAL_PASSWORD), ("00001", "mật-khẩu-trạm")):
        subprocess.run(["mosquitto_passwd", "-b", str(passwords), user, password], check=True)
    port = _free_port()
    conf = directory / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous false\npassword_file {passwords}\n"
                    f"persistence false\nlog_dest stderr\n" + ("user root\n" if os.geteuid() == 0 else ""), encoding="utf-8")
    log = open(directory / "log", "wb")  # noqa: SIM115
    process = subprocess.Popen(["/usr/sbin/mosquitto", "-c", str(conf)], stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            assert time.monotonic() < deadline, (directory / "log").read_text()
            time.sleep(0.05)
    yield SimpleNamespace(host="127.0.0.1", station_port=port, internal_port=port, directory=directory,
                          passwords=passwords, process=process)
    process.terminate()
    process.wait(10)
    log.close()


@contextlib.contextmanager
def paho_client(broker):  # noqa: ANN001
    import paho.mqtt.client as paho

    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"test-{time.monotonic_ns()}")
    client.username_pw_set(INTERNAL_USER, INTERNAL_PASSWORD)
    client.connect(broker.host, broker.internal_port)
    client.loop_start()
    try:
        yield client
    finally:
        client.loop_stop()
        client.disconnect()
