"""The broker's files from Django's settings and the live station credentials, and keeping them current.

`write_config` writes everything (manage.py broker_config, scripts/run); `sync_stations` rewrites the
stations' password and ACL files and reloads the broker; `sync_after_commit` does that once the current
transaction commits (a credential issued or revoked). A directory without a generated mosquitto.conf has no
broker to keep current: nothing is written there.
"""

from __future__ import annotations

import logging
import os
import pwd
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.db import transaction

from stations.agent.credentials import mqtt_username_ok

from .config import (
    CONF,
    INTERNAL_ACL,
    INTERNAL_PASSWD,
    STATION_ACL,
    STATION_PASSWD,
    BrokerConfig,
    BrokerConfigError,
    render_conf,
    render_internal_acl,
    render_password_file,
    render_station_acl,
)
from .files import locked, write_if_changed
from .passwords import check_password, hash_password, is_hash
from .reload import reload_broker

logger = logging.getLogger(__name__)

DEFAULT_INTERNAL_USER = "loa"


def broker_dir() -> Path:
    return Path(settings.MQTT_BROKER_DIR)


def internal_credentials() -> tuple[str, str]:
    """(user, password) of Loa's own processes on the internal listener: MQTT_PASSWORD, or else the
    password in MQTT_URL; the user is MQTT_URL's, or `loa`."""
    url = urlsplit(settings.MQTT_URL or "")
    user = unquote(url.username) if url.username else DEFAULT_INTERNAL_USER
    password = settings.MQTT_PASSWORD or (unquote(url.password) if url.password else "")
    return user, password


def config_from_settings(*, directory: Path | None = None, station_bind: str = "") -> BrokerConfig:
    """The broker's shape from the settings (MQTT_* in broadcast/settings.py)."""
    return BrokerConfig(
        directory=Path(directory or broker_dir()).resolve(),
        prefix=settings.MQTT_TOPIC_PREFIX,
        station_port=settings.MQTT_STATION_PORT,
        station_bind=station_bind,
        internal_port=settings.MQTT_INTERNAL_PORT,
        internal_user=internal_credentials()[0],
        tls_port=settings.MQTT_TLS_PORT,
        tls_certfile=settings.MQTT_TLS_CERTFILE,
        tls_keyfile=settings.MQTT_TLS_KEYFILE,
        run_as=pwd.getpwuid(os.geteuid()).pw_name,
    )


def station_entries() -> list[tuple[str, str]]:
    """(station code, hash) of every active station's live credential that has an MQTT password: the
    codes that are not safe user names and credentials issued before MQTT (no hash) are left out."""
    from stations.models import StationCredential

    rows = (
        StationCredential.objects.filter(revoked_at__isnull=True, station__active=True)
        .exclude(mqtt_password_hash="")
        .values_list("station__code", "mqtt_password_hash")
    )
    return [(code, encoded) for code, encoded in rows if mqtt_username_ok(code) and is_hash(encoded)]


def write_config(config: BrokerConfig, *, internal_password: str, with_stations: bool = True) -> list[str]:
    """Writes every file of the broker into config.directory (created); returns the names changed.
    with_stations=False: no station may log in yet (a database not migrated, as in CI before pytest)."""
    if not internal_password:
        raise BrokerConfigError(
            "cần mật khẩu MQTT nội bộ: đặt MQTT_PASSWORD (hoặc mật khẩu trong MQTT_URL, "
            "ví dụ mqtt://loa:<mật khẩu>@127.0.0.1:1884)"
        )
    directory = config.directory
    directory.mkdir(parents=True, exist_ok=True)
    changed = []
    with locked(directory):
        internal_passwd = directory / INTERNAL_PASSWD
        if not _holds_password(internal_passwd, config.internal_user, internal_password):
            # A fresh salt each time: only rewritten when the password or the user changed.
            text = render_password_file([(config.internal_user, hash_password(internal_password))])
            write_if_changed(internal_passwd, text)
            changed.append(INTERNAL_PASSWD)
        if write_if_changed(directory / INTERNAL_ACL, render_internal_acl(config.prefix, config.internal_user)):
            changed.append(INTERNAL_ACL)
        changed += _write_station_files(directory, config.prefix, with_stations=with_stations)
        if write_if_changed(directory / CONF, render_conf(config), mode=0o644):
            changed.append(CONF)
    return changed


def sync_stations(directory: Path | None = None, *, reload: bool = True) -> bool:
    """Rewrites the stations' password and ACL files from the database and, if they changed, reloads the
    broker; False when the directory holds no generated config (no broker here) or nothing changed."""
    directory = Path(directory or broker_dir())
    if not (directory / CONF).exists():
        logger.debug("MQTT: chưa có cấu hình broker ở %s (manage.py broker_config); bỏ qua", directory)
        return False
    with locked(directory):
        changed = _write_station_files(directory, settings.MQTT_TOPIC_PREFIX)
    if changed and reload:
        reload_broker(directory)
    return bool(changed)


def sync_after_commit() -> None:
    """After the current transaction commits (at once outside one): the broker learns the new credentials.
    A failure is logged, never raised: the token change stands, stations keep polling."""
    transaction.on_commit(_sync_quietly)


def on_stations_changed(sender: object = None, **kwargs: object) -> None:
    """Receiver of stations.signals.stations_changed (sent after the commit): a station's code (its MQTT
    user name) or its `active` flag may have changed, so the password file follows."""
    _sync_quietly()


def _sync_quietly() -> None:
    try:
        sync_stations()
    except Exception:
        logger.exception("MQTT: không cập nhật được tệp mật khẩu của broker ở %s", broker_dir())


def _write_station_files(directory: Path, prefix: str, *, with_stations: bool = True) -> list[str]:
    changed = []
    entries = station_entries() if with_stations else []
    if write_if_changed(directory / STATION_PASSWD, render_password_file(entries)):
        changed.append(STATION_PASSWD)
    if write_if_changed(directory / STATION_ACL, render_station_acl(prefix)):
        changed.append(STATION_ACL)
    return changed


def _holds_password(path: Path, user: str, password: str) -> bool:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return False
    return len(lines) == 1 and lines[0].startswith(f"{user}:") and check_password(password, lines[0][len(user) + 1:])
