"""Fills the station registry from the vietnam-provinces package (a province of the two-level map: its units
of both maps and the stations of its old communes and districts) or from a CSV."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from stations import selectors, services

HANOI = 1


class Command(BaseCommand):
    help = ("Nhập danh sách đài: từ dữ liệu hành chính của một tỉnh/thành (bản đồ từ 01/07/2025 và các tỉnh, "
            "huyện, xã trước đó đã nhập vào), hoặc từ tệp CSV.")

    def add_arguments(self, parser):
        parser.add_argument("--province", type=int, default=HANOI,
                            help="mã tỉnh/thành theo bản đồ từ 01/07/2025 (34 tỉnh/thành; mặc định 1 = Hà Nội)")
        parser.add_argument("--active", choices=["all", "none", "district_centers", "communes"], default="all",
                            help="những đài nào bắt đầu ở trạng thái hoạt động")
        parser.add_argument("--csv", type=Path, help="tệp CSV (cột: " + ", ".join(services.CSV_COLUMNS)
                            + "; tùy chọn: " + ", ".join(services.CSV_UNIT_COLUMNS) + ")")
        parser.add_argument("--reset", action="store_true",
                            help="ghi đè cả khung giờ, trạng thái hoạt động và xã/phường mà người đã sửa/xác nhận")

    def handle(self, *args, province: int, active: str, csv: Path | None, reset: bool = False, **options):
        started = time.monotonic()
        units = None
        try:
            if csv:
                if not csv.exists():
                    raise CommandError(f"Không tìm thấy tệp {csv}")
                with csv.open(encoding="utf-8-sig", newline="") as stream:
                    rows = services.rows_from_csv(stream)
            else:
                registry = services.registry_from_package(province, active=active)
                rows, units = registry.rows, registry.units
        except services.RegistryError as exc:
            for line in exc.errors:
                self.stderr.write(line)
            raise CommandError(f"Không nhập được: {len(exc.errors)} lỗi, chưa ghi gì vào cơ sở dữ liệu.") from None

        show_progress = sys.stderr.isatty() or options.get("verbosity", 1) > 1

        def progress(done: int, total: int) -> None:
            self.stderr.write(f"\r  {done}/{total} đài", ending="")

        counts = services.import_rows(rows, progress=progress if show_progress else None, reset=reset, units=units)
        if show_progress and rows:
            self.stderr.write("")  # end the progress line
        if units is not None:
            olds = ", ".join(f"{name} ({code})" for code, name in units.old_provinces)
            self.stdout.write(f"{units.province_name} (mã {units.province_code}) từ 01/07/2025: "
                              f"{len(units.new_names)} xã/phường; trước đó: {olds}.")
        self.stdout.write(self.style.SUCCESS(counts.summary()) + f" ({time.monotonic() - started:.2f} s)")
        write_decisions(self, selectors.stations_needing_unit_decision(codes=counts.needing_decision))
        if counts.without_unit:
            shown = ", ".join(counts.without_unit[:20]) + (" …" if len(counts.without_unit) > 20 else "")
            self.stdout.write(f"{len(counts.without_unit)} đài chưa có xã/phường mới (bảng chuyển đổi không có đơn "
                              f"vị cũ của đài): {shown}. Chọn cho đài trong trang quản trị hoặc qua API.")


HOW_TO_DECIDE = (
    "Quyết định bằng một trong các cách: trang quản trị (Đài → lọc \"Cần xác nhận xã/phường\", sửa ô xã/phường "
    "hoặc chọn thao tác \"Xác nhận xã/phường đang gán\"); API PATCH /api/v1/stations/<mã đài>/ với "
    "{\"unit\": \"<mã xã/phường>\"} hoặc {\"unit_confirmed\": true}; tệp CSV (cột unit_code, unit_confirmed); "
    "hoặc manage.py remap_units --confirm <mã đài>=<mã xã/phường>.")


def write_decisions(command: BaseCommand, stations: list, limit: int = 20) -> None:
    """Lists the stations whose old commune was split (the first `limit`) with their candidates, and how to decide."""
    if not stations:
        return
    names = selectors.unit_names({code for s in stations[:limit] for code in s.unit_choices})
    command.stdout.write(f"Cần người xác nhận xã/phường: {len(stations)} đài (xã/phường cũ chia cho nhiều đơn vị "
                         f"mới; đang gán đơn vị mặc định). {min(limit, len(stations))} đài đầu:")
    for station in stations[:limit]:
        current = f"{station.unit.code} {station.unit.name}" if station.unit else "chưa gán"
        others = ", ".join(f"{c} {names.get(c, '?')}" for c in station.unit_choices if station.unit is None
                           or c != station.unit.code)
        command.stdout.write(f"  {station.code} {station.name}: đang gán {current}; có thể: {others}")
    command.stdout.write(HOW_TO_DECIDE)
