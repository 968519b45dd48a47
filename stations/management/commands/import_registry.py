"""Fills the station registry from the vietnam-provinces package (pre-2025 data) or from a CSV."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from stations import services

HANOI = 1


class Command(BaseCommand):
    help = "Nhập danh sách đài: từ dữ liệu hành chính (trước 2025) của một tỉnh/thành, hoặc từ tệp CSV."

    def add_arguments(self, parser):
        parser.add_argument("--province", type=int, default=HANOI,
                            help="mã tỉnh/thành (mặc định 1 = Hà Nội)")
        parser.add_argument("--active", choices=["all", "none", "district_centers", "communes"], default="all",
                            help="những đài nào bắt đầu ở trạng thái hoạt động")
        parser.add_argument("--csv", type=Path, help="tệp CSV (cột: " + ", ".join(services.CSV_COLUMNS) + ")")
        parser.add_argument("--reset", action="store_true",
                            help="ghi đè cả khung giờ và trạng thái hoạt động mà giám sát đã sửa tay")

    def handle(self, *args, province: int, active: str, csv: Path | None, reset: bool = False, **options):
        started = time.monotonic()
        try:
            if csv:
                if not csv.exists():
                    raise CommandError(f"Không tìm thấy tệp {csv}")
                with csv.open(encoding="utf-8-sig", newline="") as stream:
                    rows = services.rows_from_csv(stream)
            else:
                rows = services.rows_from_package(province, active=active)
        except services.RegistryError as exc:
            for line in exc.errors:
                self.stderr.write(line)
            raise CommandError(f"Không nhập được: {len(exc.errors)} lỗi, chưa ghi gì vào cơ sở dữ liệu.") from None

        show_progress = sys.stderr.isatty() or options.get("verbosity", 1) > 1

        def progress(done: int, total: int) -> None:
            self.stderr.write(f"\r  {done}/{total} đài", ending="")

        counts = services.import_rows(rows, progress=progress if show_progress else None, reset=reset)
        if show_progress and rows:
            self.stderr.write("")  # end the progress line
        self.stdout.write(self.style.SUCCESS(counts.summary()) + f" ({time.monotonic() - started:.2f} s)")
