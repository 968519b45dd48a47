"""`mqtt_broker`: a real Mosquitto for one test, with Loa's generated config on two free ports.

Registered in tests/conftest.py (pytest_plugins). Never the system's broker on 1883: each test starts its
own from files written by stations.broker into tmp_path, and the process is killed whatever happens.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from stations import broker

INTERNAL_PASSWORD = "mat-khau-noi-bo-thu"
START_TIMEOUT_S = 10.0


def mosquitto_binary() -> str | None:
    """mosquitto on the PATH, or Debian's /usr/sbin/mosquitto (not on a non-root PATH)."""
    found = shutil.which("mosquitto")
    if found:
        return found
    return "/usr/sbin/mosquitto" if os.access("/usr/sbin/mosquitto", os.X_OK) else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Broker:
    binary: str
    directory: Path
    station_port: int
    internal_port: int
    host: str = "127.0.0.1"
    internal_user: str = "loa"
    internal_password: str = INTERNAL_PASSWORD
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def internal_url(self) -> str:
        return f"mqtt://{self.internal_user}:{self.internal_password}@{self.host}:{self.internal_port}"

    @property
    def public_url(self) -> str:
        return f"mqtt://{self.host}:{self.station_port}"

    @property
    def log(self) -> Path:
        return self.directory / "mosquitto.log"

    def sync(self) -> bool:
        """Rewrites the stations' password and ACL files from the database and reloads the broker; returns
        once the broker has begun the reload (a connection after that is checked against the new files)."""
        before = self.reloads()
        changed = broker.sync_stations(self.directory)
        if changed and self.running:
            self.wait_for_reload(before)
        return changed

    def reloads(self) -> int:
        """How many reloads the broker has logged."""
        try:
            return self.log.read_bytes().count(b"Reloading config.")
        except FileNotFoundError:
            return 0

    def wait_for_reload(self, before: int, timeout: float = START_TIMEOUT_S) -> None:
        # The broker reloads in its single-threaded loop: whatever it handles after logging this, it
        # handles with the new files.
        deadline = time.monotonic() + timeout
        while self.reloads() <= before:
            if time.monotonic() > deadline:
                raise RuntimeError(f"mosquitto không nạp lại cấu hình sau {timeout} giây")
            time.sleep(0.01)

    def start(self) -> None:
        if self.running:
            return
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [self.binary, "-c", str(self.directory / "mosquitto.conf")],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while not all(_accepts(self.host, port) for port in (self.station_port, self.internal_port)):
            if self.process.poll() is not None:
                raise RuntimeError(f"mosquitto dừng khi khởi động:\n{self.log.read_text(errors='replace')}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"mosquitto không nhận kết nối sau {START_TIMEOUT_S} giây")
            time.sleep(0.05)
        while broker.broker_pid(self.directory) != self.process.pid and time.monotonic() < deadline:
            time.sleep(0.02)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


def _accepts(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=0.2).close()
    except OSError:
        return False
    return True


@pytest.fixture
def mqtt_broker(db, settings, tmp_path):
    """A running Mosquitto with Loa's config (stations' listener + internal one), Django settings pointed at
    it (MQTT_URL, MQTT_PUBLIC_URL, MQTT_BROKER_DIR, ports, MQTT_PASSWORD); stopped after the test."""
    binary = mosquitto_binary()
    if binary is None:
        pytest.skip("mosquitto chưa được cài (gói Debian 'mosquitto'): bỏ qua các bài thử với broker thật")
    station_port = free_port()
    internal_port = free_port()
    while internal_port == station_port:
        internal_port = free_port()
    directory = tmp_path / "mosquitto"
    running = Broker(binary=binary, directory=directory, station_port=station_port, internal_port=internal_port)
    settings.MQTT_BROKER_DIR = directory
    settings.MQTT_STATION_PORT = station_port
    settings.MQTT_INTERNAL_PORT = internal_port
    settings.MQTT_PASSWORD = INTERNAL_PASSWORD
    settings.MQTT_URL = running.internal_url
    settings.MQTT_PUBLIC_URL = running.public_url
    settings.MQTT_TLS_CERTFILE = settings.MQTT_TLS_KEYFILE = ""
    config = broker.config_from_settings(directory=directory, station_bind=running.host)
    broker.write_config(config, internal_password=INTERNAL_PASSWORD)
    try:
        running.start()
        yield running
    finally:
        running.stop()
