"""Running external programs (ffmpeg, ffprobe) with timeouts and readable errors."""

from __future__ import annotations

import os
import shutil
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
) -> bytes:
    """Run a tool to completion; return stdout. Errors name ``what`` was being done."""
    exe = resolve_tool(args[0])
    try:
        proc = subprocess.run(
            [exe, *args[1:]],
            input=input,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError:
        raise ToolMissingError(f"Không tìm thấy chương trình '{args[0]}'.") from None
    except subprocess.TimeoutExpired:
        raise RenderError(f"{what}: quá thời gian {timeout:g} giây.", code="tool_timeout") from None
    if proc.returncode != 0:
        detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RenderError(
            f"{what}: lỗi ({detail[-1] if detail else f'mã {proc.returncode}'}).", code="tool_failed"
        )
    return proc.stdout
