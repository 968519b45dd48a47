"""Running external programs (ffmpeg, ffprobe) with timeouts and readable errors."""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
from collections.abc import Sequence

from .errors import RenderError, ToolMissingError


def resolve_tool(binary: str) -> str:
    """Absolute path of ``binary`` or ToolMissingError naming it."""
    path = binary if os.sep in binary else shutil.which(binary)
    if not path or not os.path.isfile(path) or not os.access(path, os.X_OK):
        raise ToolMissingError(
            f"Không tìm thấy chương trình '{binary}' trên máy chủ (cần cài đặt để xử lý âm thanh).",
            code="tool_missing",
        )
    return path


def run_tool(
    args: Sequence[str],
    *,
    input: bytes | None = None,  # noqa: A002 - mirrors subprocess.run
    timeout: float,
    what: str,
    cpu_seconds: float | None = None,
) -> bytes:
    """Run a tool to completion; return stdout. Errors name ``what`` was being done.

    ``cpu_seconds`` caps the CPU time of the child (RLIMIT_CPU): a wall-clock timeout alone lets a
    crafted input burn a whole core for that long, the limit stops it at its CPU budget.
    """
    exe = resolve_tool(args[0])
    try:
        proc = subprocess.run(
            [exe, *args[1:]],
            input=input,
            capture_output=True,
            timeout=timeout,
            check=False,
            preexec_fn=_cpu_limit(cpu_seconds) if cpu_seconds else None,
        )
    except FileNotFoundError:
        raise ToolMissingError(f"Không tìm thấy chương trình '{args[0]}'.") from None
    except subprocess.TimeoutExpired:
        raise RenderError(f"{what}: quá thời gian {timeout:g} giây.", code="tool_timeout") from None
    if cpu_seconds and proc.returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        raise RenderError(f"{what}: vượt quá {cpu_seconds:g} giây xử lý cho phép.", code="tool_cpu_limit")
    if proc.returncode != 0:
        detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RenderError(
            f"{what}: lỗi ({detail[-1] if detail else f'mã {proc.returncode}'}).", code="tool_failed"
        )
    return proc.stdout


def _cpu_limit(seconds: float):  # noqa: ANN202 - a preexec_fn
    soft = max(1, int(seconds))

    def limit() -> None:  # runs in the child between fork and exec: SIGXCPU at soft, SIGKILL at hard
        resource.setrlimit(resource.RLIMIT_CPU, (soft, soft + 1))

    return limit
