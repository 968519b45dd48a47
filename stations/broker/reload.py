"""Telling a running broker to read its password and ACL files again (SIGHUP to the pid in its pid file).

Mosquitto 2.0 re-checks every connected client at a reload: a station whose user was removed or whose
password changed is disconnected at once (and refused when it reconnects); the others stay connected.
"""

from __future__ import annotations

import logging
import os
import signal
from pathlib import Path

from .config import PID_FILE

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
    logger.info("MQTT: đã nạp lại broker (pid %s)", pid)
    return True
