"""Writes the station registry as CSV (the same columns import_registry --csv reads)."""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand

from stations import selectors, services
from stations.models import Station


class Command(BaseCommand):
    help = "Xuất danh sách đài ra CSV."

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", type=Path, help="tệp đích (mặc định: in ra màn hình)")

    def handle(self, *args, output: Path | None, **options):
        stations = Station.objects.select_related("district", "unit").order_by("district__code", "kind", "code")
        if output:
            with output.open("w", encoding="utf-8", newline="") as stream:
                n = services.export_rows(stream, stations)
            self.stderr.write(f"Đã xuất {n} đài vào {output}")
        else:
            services.export_rows(sys.stdout, stations)
        invalid = selectors.stations_with_invalid_slots()
        if invalid:
            codes = ", ".join(station.code for station, _ in invalid)
            self.stderr.write(f"Cảnh báo: {len(invalid)} đài có khung giờ đang lưu không hợp lệ, đã xuất nguyên "
                              f"giá trị: {codes}. Xem và sửa: manage.py check_registry")
