"""The MQTT broker (Mosquitto 2.0) that rings stations' doorbells: its generated files and keeping them
current with the station credentials. By concern: `passwords` (mosquitto's `$7$` hashes), `config` (the
text of mosquitto.conf, password and ACL files), `files` (atomic writes under a lock), `reload` (SIGHUP to
the running broker) and `sync` (from Django's settings and database). Never imports `broadcast`."""

from .config import BrokerConfig, BrokerConfigError
from .passwords import check_password, hash_password
from .reload import broker_pid, reload_broker
from .sync import (
    config_from_settings,
    internal_credentials,
    on_stations_changed,
    station_entries,
    sync_after_commit,
    sync_stations,
    write_config,
)

__all__ = [
    "BrokerConfig", "BrokerConfigError", "broker_pid", "check_password", "config_from_settings",
    "hash_password", "internal_credentials", "on_stations_changed", "reload_broker", "station_entries",
    "sync_after_commit", "sync_stations", "write_config",
]
