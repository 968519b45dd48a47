"""Telling a running broker to read its password and ACL files again (SIGHUP to the pid in its pid file).

Mosquitto 2.0 re-checks every connected client at a reload: a station whose user was removed or whose
password changed is disconnected at once (and refused when it reconnects); the others stay connected.
A missing or unreadable password file at a reload refuses everyone, but a missing or broken ACL file is
read as no ACL at all: every station may then read every topic (both measured with 2.0.11). So the files
are only ever replaced in one rename, and no reload is asked for while an ACL file is missing.
"""

from __future__ import annotations

import logging
import os
import signal
from pathlib import Path

from .config import INTERNAL_ACL, PID_FILE, STATION_ACL

logger = logging.getLogger(__name__)


def broker_pid(directory: Path) -> int | None:
    """The pid of the broker running with this directory's config, or None (no pid file, or a stale one
    left by a killed broker whose number now belongs to another program)."""
    try:
        pid = int((directory / PID_FILE).read_text().strip())
    except (OSError, ValueError):
        return None
    if pid <= 1:
        return None
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    if b"mosquitto" not in cmdline:
        return None
    return pid


def reload_broker(directory: Path) -> bool:
    """SIGHUP to the directory's broker; True if one was signalled. No broker running is not an error."""
    pid = broker_pid(directory)
    missing = [name for name in (STATION_ACL, INTERNAL_ACL) if not _has_rules(directory / name)]
    if pid is not None and missing:
        logger.error("MQTT: thiếu tệp ACL %s ở %s; không nạp lại broker (manage.py broker_config)", missing, directory)
        return False
    if pid is None:
        logger.info("MQTT: không có broker đang chạy với cấu hình ở %s; tệp đã ghi, dùng khi nó khởi động", directory)
        return False
    try:
        os.kill(pid, signal.SIGHUP)
    except ProcessLookupError:
        logger.info("MQTT: broker (pid %s) vừa dừng; tệp đã ghi, dùng khi nó khởi động", pid)
        return False
    except PermissionError:
        logger.warning("MQTT: không có quyền gửi SIGHUP cho broker (pid %s); hãy nạp lại nó bằng tay", pid)
        return False
    logger.debug("MQTT: đã nạp lại broker (pid %s)", pid)
    return True


def _has_rules(path: Path) -> bool:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return any(line.startswith(("pattern ", "topic ")) for line in text.splitlines())
