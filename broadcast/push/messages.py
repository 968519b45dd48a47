"""The push protocol's messages, free of Django: topics, commands to stations, and acknowledgements back.

A command is a doorbell: small, with an id stable for what it announces (a re-send carries the same id,
so a station that already acted on it only acknowledges again) and an expiry after which it is ignored.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any

VERSION = 1
ACK_STATES = ("received", "downloaded", "started", "completed", "failed", "interrupted")
MAX_REASON = 500
MAX_ACK_BYTES = 4096
_SCHEDULE_COMMAND = re.compile(r"^(em|cancel)-(\d{1,18})$")


def station_topic(prefix: str, code: str, leaf: str) -> str:
    """`<prefix>/st/<code>/<leaf>`: leaf is cmd, emergency (retained) or ack."""
    return f"{prefix}/st/{code}/{leaf}"


def code_from_ack_topic(prefix: str, topic: str) -> str | None:
    parts = topic.split("/")
    if len(parts) == 4 and parts[0] == prefix and parts[1] == "st" and parts[3] == "ack" and parts[2]:
        return parts[2]
    return None


def emergency_command_id(schedule_id: int) -> str:
    return f"em-{schedule_id}"


def cancel_command_id(schedule_id: int) -> str:
    return f"cancel-{schedule_id}"


def _iso(moment: dt.datetime, tz: dt.tzinfo) -> str:
    return moment.astimezone(tz).isoformat(timespec="seconds")


@dataclass(frozen=True, slots=True)
class EmergencyTarget:
    """What one station needs to hear of an emergency placed in its playlist."""

    code: str
    item_id: int
    date: dt.date
    version: int
    sha256: str
    audio_url: str


def emergency_command(schedule_id: int, target: EmergencyTarget, *, issued_at: dt.datetime,
                      expires_at: dt.datetime, tz: dt.tzinfo) -> dict[str, Any]:
    return {
        "v": VERSION, "id": emergency_command_id(schedule_id), "kind": "emergency", "station": target.code,
        "issued_at": _iso(issued_at, tz), "expires_at": _iso(expires_at, tz), "schedule": schedule_id,
        "item": target.item_id, "date": target.date.isoformat(), "version": target.version,
        "audio": {"url": target.audio_url, "sha256": target.sha256},
    }


def cancel_command(schedule_id: int, code: str, *, date: dt.date, version: int, issued_at: dt.datetime,
                   expires_at: dt.datetime, tz: dt.tzinfo) -> dict[str, Any]:
    return {
        "v": VERSION, "id": cancel_command_id(schedule_id), "kind": "cancel", "station": code,
        "issued_at": _iso(issued_at, tz), "expires_at": _iso(expires_at, tz), "schedule": schedule_id,
        "date": date.isoformat(), "version": version,
    }


def playlist_command(code: str, *, date: dt.date, version: int, issued_at: dt.datetime,
                     expires_at: dt.datetime, tz: dt.tzinfo) -> dict[str, Any]:
    return {
        "v": VERSION, "id": f"pl-{date.isoformat()}-{version}", "kind": "playlist", "station": code,
        "issued_at": _iso(issued_at, tz), "expires_at": _iso(expires_at, tz),
        "date": date.isoformat(), "version": version,
    }


def encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()


# ---------------------------------------------------------------- acknowledgements


@dataclass(frozen=True, slots=True)
class Ack:
    schedule_id: int
    state: str
    at: dt.datetime
    reason: str = ""


class AckError(ValueError):
    """A malformed acknowledgement; `errors` maps field → Vietnamese messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


def _parse_time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def parse_ack(data: Any) -> Ack:
    """One acknowledgement object (spec in README "Giao thức trạm"); raises AckError."""
    if not isinstance(data, dict):
        raise AckError({"non_field_errors": ["Xác nhận phải là một đối tượng JSON."]})
    errors: dict[str, list[str]] = {}
    schedule = data.get("schedule")
    command = data.get("command")
    if schedule is None and isinstance(command, str) and (match := _SCHEDULE_COMMAND.match(command)):
        schedule = int(match.group(2))
    if isinstance(schedule, bool) or not isinstance(schedule, int) or not 0 < schedule < 2**63:
        errors["schedule"] = ["Cần mã lịch phát khẩn cấp (số nguyên dương)."]
    state = data.get("state")
    if state not in ACK_STATES:
        errors["state"] = [f"Trạng thái phải là một trong: {', '.join(ACK_STATES)}."]
    at = _parse_time(data.get("at"))
    if at is None:
        errors["at"] = ["Cần thời điểm ISO 8601 có múi giờ."]
    reason = data.get("reason", "") or ""
    if not isinstance(reason, str):
        errors["reason"] = ["Lý do phải là chuỗi ký tự."]
    elif len(reason) > MAX_REASON:
        errors["reason"] = [f"Lý do dài quá {MAX_REASON} ký tự."]
    if errors:
        raise AckError(errors)
    return Ack(schedule_id=schedule, state=state, at=at, reason=reason)


def decode_ack(payload: bytes) -> Ack:
    """An MQTT payload: one JSON acknowledgement."""
    if len(payload) > MAX_ACK_BYTES:
        raise AckError({"non_field_errors": ["Xác nhận quá lớn."]})
    try:
        data = json.loads(payload.decode())
    except (UnicodeDecodeError, ValueError):
        raise AckError({"non_field_errors": ["Xác nhận không phải JSON hợp lệ."]}) from None
    return parse_ack(data)
