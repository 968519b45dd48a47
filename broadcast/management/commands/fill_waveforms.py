"""Draws the waveform of ready renditions that have none (rendered before waveforms were stored)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Vẽ hình sóng cho các bản âm thanh đã tạo trước khi Loa lưu hình sóng (chạy lại không sao)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--limit", type=int, default=None, help="tối đa bao nhiêu bản mỗi lần chạy")

    def handle(self, *args: Any, **opts: Any) -> None:
        from broadcast.services.rendering.waveforms import fill_missing_waveforms

        filled, problems = fill_missing_waveforms(limit=opts["limit"])
        for problem in problems:
            self.stderr.write(f"  ! {problem}")
        self.stdout.write(self.style.SUCCESS(f"Đã vẽ hình sóng cho {filled} bản âm thanh."))
