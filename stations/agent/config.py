"""The agent's settings: one TOML file, each key overridable by a LOA_AGENT_<KEY> environment variable.

The environment wins so that a test (or a systemd drop-in) can change one value without a new file; list
values are given there as JSON (`LOA_AGENT_PLAYER='["mpv", "--ao=null", "{path}"]'`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import tomllib
from pathlib import Path
from typing import Any

ENV_PREFIX = "LOA_AGENT_"
NTP_CHECK = ["timedatectl", "show", "-p", "NTPSynchronized"]


class ConfigError(ValueError):
    """The settings file or an override is unusable; the message names the key."""


@dataclasses.dataclass
class AgentConfig:
    server_url: str
    token: str
    data_dir: Path
    # "auto" (mpv, then ffplay, then aplay: the first installed) or a command list with {path} and
    # optionally {duration_s} placeholders.
    player: Any = "auto"
    null_audio: bool = False  # "auto" players write to a null sink (a box or CI without a sound card)
    amp_on: list[str] | None = None
    amp_off: list[str] | None = None
    lead_in_s: float = 0.0
    lead_out_s: float = 0.0
    poll_s: float = 60.0
    heartbeat_s: float = 300.0
    grace_s: float = 120.0
    tick_s: float = 0.5
    # Reports of scheduled plays wait a random 0…upload_spread_s (drawn once per agent) before upload, so
    # stations ending a slot together do not upload together; an emergency's reports go at once.
    upload_spread_s: float = 30.0
    # An emergency ack the MQTT broker confirmed is uploaded over HTTP after a random 0…ack_spread_s (drawn
    # once per agent) or with the next report upload, whichever is first; an unconfirmed one at once.
    ack_spread_s: float = 30.0
    cache_days: int = 3
    cache_bytes: int = 2 * 1024 ** 3
    max_clock_offset_s: float = 30.0  # 0 turns the check against the server's time off
    require_ntp: bool = True
    ntp_check: list[str] = dataclasses.field(default_factory=lambda: list(NTP_CHECK))
    change_freeze_s: float = 300.0
    clock: str = "system"
    sim_start: dt.datetime | None = None
    sim_speed: float = 1.0
    http_timeout_s: float = 20.0
    log_level: str = "INFO"
    # The MQTT broker for push commands (mqtt://host:port or mqtts://…); empty: the address the heartbeat's
    # answer gives, if any (no broker: polling only).
    mqtt_url: str = ""

    def __post_init__(self) -> None:
        if not self.server_url:
            raise ConfigError("server_url: bắt buộc (địa chỉ máy chủ Loa).")
        self.server_url = self.server_url.rstrip("/")
        if not self.token:
            raise ConfigError("token: bắt buộc (token hoặc token_file).")
        self.data_dir = Path(self.data_dir)
        if self.clock not in ("system", "simulated"):
            raise ConfigError('clock: chỉ nhận "system" hoặc "simulated".')
        if self.clock == "simulated" and self.sim_start is None:
            raise ConfigError("sim_start: bắt buộc khi clock = \"simulated\".")
        if self.sim_start is not None and self.sim_start.tzinfo is None:
            raise ConfigError("sim_start: cần múi giờ, ví dụ 2026-12-01T05:59:50+07:00.")
        if self.sim_speed <= 0:
            raise ConfigError("sim_speed: phải lớn hơn 0.")
        if self.tick_s <= 0 or self.poll_s <= 0 or self.heartbeat_s <= 0:
            raise ConfigError("tick_s, poll_s, heartbeat_s: phải lớn hơn 0.")
        if self.upload_spread_s < 0:
            raise ConfigError("upload_spread_s: không được âm.")
        if self.ack_spread_s < 0:
            raise ConfigError("ack_spread_s: không được âm.")
        if self.mqtt_url and not self.mqtt_url.startswith(("mqtt://", "mqtts://")):
            raise ConfigError('mqtt_url: cần dạng "mqtt://máy:cổng" hoặc "mqtts://máy:cổng" (hoặc để trống).')
        if not (self.player == "auto" or _is_command(self.player)):
            raise ConfigError('player: "auto" hoặc một danh sách lệnh, ví dụ ["mpv", "{path}"].')
        for key in ("amp_on", "amp_off"):
            value = getattr(self, key)
            if value is not None and not _is_command(value):
                raise ConfigError(f"{key}: một danh sách lệnh, ví dụ [\"/usr/local/bin/amp\", \"on\"].")


def _is_command(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(p, str) for p in value)


_FIELDS = {f.name: f for f in dataclasses.fields(AgentConfig)}
_FLOATS = {"lead_in_s", "lead_out_s", "poll_s", "heartbeat_s", "grace_s", "tick_s", "upload_spread_s", "ack_spread_s",
           "max_clock_offset_s", "change_freeze_s", "sim_speed", "http_timeout_s"}
_INTS = {"cache_days", "cache_bytes"}
_BOOLS = {"require_ntp", "null_audio"}
_LISTS = {"amp_on", "amp_off", "ntp_check"}


def _from_env(key: str, raw: str) -> Any:
    if key in _LISTS or (key == "player" and raw.strip().startswith("[")):
        try:
            return json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{ENV_PREFIX}{key.upper()}: cần một danh sách JSON ({exc}).") from None
    if key in _BOOLS:
        return raw.strip().lower() in ("1", "true", "yes", "on")
    return raw


def _coerce(key: str, value: Any) -> Any:
    try:
        if key in _FLOATS:
            return float(value)
        if key in _INTS:
            return int(value)
        if key in _BOOLS and not isinstance(value, bool):
            raise ConfigError(f"{key}: cần true hoặc false.")
        if key == "sim_start" and isinstance(value, str):
            return dt.datetime.fromisoformat(value)
        if key == "sim_start" and isinstance(value, dt.datetime):
            return value
    except (TypeError, ValueError) as exc:
        if isinstance(exc, ConfigError):
            raise
        raise ConfigError(f"{key}: giá trị không hợp lệ ({value!r}).") from None
    return value


def load_config(path: str | os.PathLike[str] | None, environ: dict[str, str] | None = None) -> AgentConfig:
    """The settings from `path` (may be None: environment only), the environment overriding each key."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    if path is not None:
        try:
            with open(path, "rb") as fh:
                values = tomllib.load(fh)
        except FileNotFoundError:
            raise ConfigError(f"Không tìm thấy tệp cấu hình {path}.") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"Tệp cấu hình {path} sai cú pháp TOML: {exc}.") from None
    for key in list(_FIELDS) + ["token_file"]:
        name = ENV_PREFIX + key.upper()
        if name in environ:
            values[key] = _from_env(key, environ[name])
    unknown = set(values) - set(_FIELDS) - {"token_file"}
    if unknown:
        raise ConfigError(f"Khóa cấu hình không biết: {', '.join(sorted(unknown))}.")
    token_file = values.pop("token_file", None)
    if not values.get("token") and token_file:
        try:
            values["token"] = Path(token_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"token_file: không đọc được {token_file} ({exc.strerror}).") from None
    for key in ("server_url", "token", "data_dir"):
        values.setdefault(key, "")
    if not values["data_dir"]:
        raise ConfigError("data_dir: bắt buộc (thư mục lưu danh sách phát, âm thanh và báo cáo).")
    return AgentConfig(**{k: _coerce(k, v) for k, v in values.items()})
