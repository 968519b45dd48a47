"""Finds stations whose stored slots break the slot rule (saved before the rule existed, or written
around it) and, with --reset-slots, puts the default slots back as a supervisor's edit would. Also lists
the stations whose unit of the two-level map awaits a person's decision (a split commune): a to-do, not
an error, so it leaves the exit code alone unless --strict-units."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from stations import selectors, services
from stations.management.commands.import_registry import write_decisions
from stations.models import default_slots


class Command(BaseCommand):
    help = ("Kiểm tra danh sách đài: liệt kê các đài có khung giờ đang lưu không hợp lệ (mã thoát 1 nếu có) và các "
            "đài cần người xác nhận xã/phường (bản đồ từ 01/07/2025).")

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset-slots", action="store_true",
            help="đặt lại khung giờ mặc định cho các đài đó (ghi nhận là sửa tay, dựng lại danh sách phát)")
        parser.add_argument(
            "--strict-units", action="store_true",
            help="mã thoát 1 cả khi còn đài cần xác nhận xã/phường")

    def handle(self, *args, reset_slots: bool, strict_units: bool = False, **options):
        undecided = selectors.stations_needing_unit_decision()
        write_decisions(self, undecided)
        invalid = selectors.stations_with_invalid_slots()
        if not invalid:
            self.stdout.write("Mọi đài đều có khung giờ hợp lệ.")
            if strict_units and undecided:
                raise CommandError(f"{len(undecided)} đài cần người xác nhận xã/phường.", returncode=1)
            return
        failed = 0
        for station, error in invalid:
            line = f"{station.code}\t{station.name}\tkhung giờ không hợp lệ: {error}"
            if reset_slots:
                try:
                    # The edit service: remembered as a hand edit (a re-import keeps it) and the station's
                    # playlists are rebuilt.
                    services.edit_station(station, {"slots": default_slots()})
                except ValidationError as exc:
                    failed += 1
                    line += f"\tKHÔNG đặt lại được: {'; '.join(exc.messages)}"
                else:
                    line += "\tđã đặt lại khung giờ mặc định"
            self.stdout.write(line)
        if not reset_slots:
            raise CommandError(f"{len(invalid)} đài có khung giờ không hợp lệ; chạy lại với --reset-slots để đặt "
                               f"lại khung giờ mặc định cho các đài đó.", returncode=1)
        if failed:
            raise CommandError(f"{failed} đài chưa đặt lại được khung giờ (xem lý do ở trên).", returncode=1)
        self.stdout.write(f"Đã đặt lại khung giờ mặc định cho {len(invalid)} đài.")
        if strict_units and undecided:
            raise CommandError(f"{len(undecided)} đài cần người xác nhận xã/phường.", returncode=1)
