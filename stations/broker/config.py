"""The text of the broker's files: mosquitto.conf, the two password files and the two ACL files.

No Django here: `sync` fills a BrokerConfig from the settings and the database. Two listeners with their
own users and ACLs (`per_listener_settings true`): the stations' (user = station code, client id forced to
the user name, pattern ACLs on their own topics) and an internal one on 127.0.0.1 for Loa's own processes
(one user that may read and write everything under the prefix). An optional TLS listener takes the same
users and ACL as the stations' listener.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

CONF = "mosquitto.conf"
STATION_PASSWD = "stations.passwd"
STATION_ACL = "stations.acl"
INTERNAL_PASSWD = "internal.passwd"
INTERNAL_ACL = "internal.acl"
PID_FILE = "mosquitto.pid"

_PREFIX_RE = re.compile(r"[A-Za-z0-9_-]{1,64}(/[A-Za-z0-9_-]{1,64}){0,3}")
_USER_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")


class BrokerConfigError(ValueError):
    """A setting the broker's files cannot be written with (the message is for a person, in Vietnamese)."""


@dataclass(frozen=True)
class BrokerConfig:
    directory: Path
    prefix: str = "loa"
    station_port: int = 1883  # 0: no plain listener for stations (TLS only)
    station_bind: str = ""  # empty: every interface
    internal_port: int = 1884
    internal_user: str = "loa"
    tls_port: int = 8883
    tls_certfile: str = ""  # both set: a TLS listener for stations on tls_port
    tls_keyfile: str = ""
    run_as: str = ""  # `user`: the account a broker started as root switches to
    autosave_interval_s: int = 30
    persistent_client_expiration: str = "7d"
    max_queued_messages: int = 1000

    def __post_init__(self) -> None:
        if not _PREFIX_RE.fullmatch(self.prefix):
            raise BrokerConfigError(f"MQTT_TOPIC_PREFIX không hợp lệ: {self.prefix!r} (chữ, số, '_', '-', '/')")
        if not _USER_RE.fullmatch(self.internal_user):
            raise BrokerConfigError(f"tên người dùng nội bộ của MQTT không hợp lệ: {self.internal_user!r}")
        for name in ("station_port", "internal_port", "tls_port"):
            port = getattr(self, name)
            if not 0 <= port <= 65535:
                raise BrokerConfigError(f"cổng MQTT không hợp lệ: {port}")
        if self.internal_port == 0:
            raise BrokerConfigError("cần cổng nội bộ MQTT_INTERNAL_PORT (khác 0)")
        if bool(self.tls_certfile) != bool(self.tls_keyfile):
            raise BrokerConfigError("cần cả MQTT_TLS_CERTFILE và MQTT_TLS_KEYFILE (hoặc bỏ trống cả hai)")
        if self.station_port == 0 and not self.tls:
            raise BrokerConfigError("MQTT_STATION_PORT=0 chỉ dùng được khi có cổng TLS (MQTT_TLS_CERTFILE)")
        used = [p for p in (self.station_port, self.internal_port, self.tls_port if self.tls else 0) if p]
        if len(used) != len(set(used)):
            raise BrokerConfigError(f"các cổng MQTT phải khác nhau: {used}")
        for value in (str(self.directory), self.station_bind, self.tls_certfile, self.tls_keyfile, self.run_as):
            # A line break would start a new directive; mosquitto reads the rest of a line as one path.
            if any(ch in value for ch in "\r\n\0"):
                raise BrokerConfigError(f"đường dẫn hoặc tên không hợp lệ: {value!r}")

    @property
    def tls(self) -> bool:
        return bool(self.tls_certfile)


def render_conf(config: BrokerConfig) -> str:
    """mosquitto.conf for `mosquitto -c <directory>/mosquitto.conf` (foreground, logs on stderr)."""
    d = config.directory
    lines = [
        "# Written by Loa (manage.py broker_config); edits here are overwritten. See the README.",
        "per_listener_settings true",
        *([f"user {config.run_as}"] if config.run_as else []),
        f"pid_file {d / PID_FILE}",
        "",
        "# Queued QoS 1 commands and retained emergencies survive a restart (saved every few seconds);",
        "# a station's session (its undelivered commands) lives this long after its last disconnect.",
        "persistence true",
        f"persistence_location {d}/",
        "persistence_file mosquitto.db",
        f"autosave_interval {config.autosave_interval_s}",
        f"persistent_client_expiration {config.persistent_client_expiration}",
        f"max_queued_messages {config.max_queued_messages}",
        "max_packet_size 65536",
        "set_tcp_nodelay true",
        "",
        "log_dest stderr",
        "log_type error",
        "log_type warning",
        "log_type notice",
        "log_type information",
        "connection_messages true",
        "log_timestamp_format %Y-%m-%dT%H:%M:%S",
    ]
    station_auth = [
        "allow_anonymous false",
        "use_username_as_clientid true",
        f"password_file {d / STATION_PASSWD}",
        f"acl_file {d / STATION_ACL}",
    ]
    if config.station_port:
        bind = f" {config.station_bind}" if config.station_bind else ""
        lines += ["", "# Stations: user = station code, client id = user name.",
                  f"listener {config.station_port}{bind}", *station_auth]
    if config.tls:
        bind = f" {config.station_bind}" if config.station_bind else ""
        lines += ["", "# Stations over TLS (mqtts://).", f"listener {config.tls_port}{bind}",
                  f"certfile {config.tls_certfile}", f"keyfile {config.tls_keyfile}", *station_auth]
    lines += [
        "",
        "# Loa's own processes (web, worker, beat, push listener): this machine only.",
        f"listener {config.internal_port} 127.0.0.1",
        "allow_anonymous false",
        f"password_file {d / INTERNAL_PASSWD}",
        f"acl_file {d / INTERNAL_ACL}",
    ]
    return "\n".join(lines) + "\n"


def render_station_acl(prefix: str) -> str:
    """Each station reads its own cmd and emergency topics and writes its own ack topic; nothing else."""
    return (
        "# Written by Loa. %u is the user name, which is the station code (letters, digits, '_', '-').\n"
        f"pattern read {prefix}/st/%u/cmd\n"
        f"pattern read {prefix}/st/%u/emergency\n"
        f"pattern write {prefix}/st/%u/ack\n"
    )


def render_internal_acl(prefix: str, user: str) -> str:
    return f"# Written by Loa.\nuser {user}\ntopic readwrite {prefix}/#\n"


def render_password_file(entries: Iterable[tuple[str, str]]) -> str:
    """`user:hash` lines in user order; the caller passes only safe user names and `$7$` hashes."""
    return "".join(f"{user}:{encoded}\n" for user, encoded in sorted(entries))
