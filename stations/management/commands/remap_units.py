"""Links an existing registry to the two-level map (stations made before the units existed), and records
people's decisions for split communes."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from stations import selectors, services
from stations.management.commands.import_registry import HANOI, write_decisions


def _pair(text: str) -> tuple[str, str]:
    station, sep, unit = text.partition("=")
    if not sep or not station.strip() or not unit.strip():
        raise CommandError(f"--confirm cần dạng <mã đài>=<mã xã/phường>, nhận được {text!r}")
    return station.strip(), unit.strip()


class Command(BaseCommand):
    help = ("Gắn các đài đã có vào xã/phường của bản đồ từ 01/07/2025 theo bảng chuyển đổi (tạo đơn vị hành chính "
            "của cả hai bản đồ nếu chưa có); không đổi xã/phường người đã chọn, tên, khung giờ, trạng thái hay lịch sử.")

    def add_arguments(self, parser):
        parser.add_argument("--province", type=int, default=HANOI,
                            help="mã tỉnh/thành theo bản đồ từ 01/07/2025 (mặc định 1 = Hà Nội)")
        parser.add_argument("--dry-run", action="store_true", help="chỉ in những gì sẽ đổi, không ghi gì")
        parser.add_argument("--confirm", nargs="+", metavar="MÃ_ĐÀI=MÃ_XÃ", default=[],
                            help="quyết định của người: đặt (hoặc xác nhận) xã/phường cho đài, được giữ khi nhập lại")

    def handle(self, *args, province: int, dry_run: bool, confirm: list[str], **options):
        pairs = [_pair(text) for text in confirm]
        try:
            with transaction.atomic():  # the linking and the decisions: all or nothing
                result = services.remap_units(province, dry_run=dry_run)
                decided = [] if dry_run else services.confirm_unit_choices(pairs)
        except services.RegistryError as exc:
            for line in exc.errors:
                self.stderr.write(line)
            raise CommandError(f"Không gắn được: {len(exc.errors)} lỗi, chưa ghi gì vào cơ sở dữ liệu.") from None
        prefix = "(chạy thử, chưa ghi gì) " if dry_run else ""
        units = result.units
        self.stdout.write(
            f"{prefix}Đơn vị hành chính: tạo mới {units.created['province']} tỉnh/thành, {units.created['commune']} "
            f"xã/phường; cập nhật {units.updated['province']} tỉnh/thành, {units.updated['commune']} xã/phường"
            + (f"; tạo {result.districts_created} quận/huyện" if result.districts_created else "") + ".")
        self.stdout.write(
            f"{prefix}Đài đổi xã/phường: {len(result.moved)}; đổi danh sách xã/phường có thể thuộc: "
            f"{result.choices_changed}; giữ xã/phường người đã chọn: {result.confirmed_kept}.")
        names = selectors.unit_names({new for *_, new in result.moved[:20]} | {old for *_, old, _ in result.moved[:20] if old})
        for code, name, before, now in result.moved[:20]:
            was = f"{before} {names.get(before, '')}".strip() if before else "chưa gán"
            self.stdout.write(f"  {code} {name}: {was} → {now} {names.get(now, '')}")
        if len(result.moved) > 20:
            self.stdout.write(f"  … và {len(result.moved) - 20} đài khác")
        if result.unknown:
            self.stdout.write(f"{len(result.unknown)} đài không có trong bảng chuyển đổi (chưa gắn): "
                              + ", ".join(result.unknown[:20]) + (" …" if len(result.unknown) > 20 else ""))
        for station in decided:
            self.stdout.write(f"Đã ghi quyết định: {station.code} → {station.unit.code} {station.unit.name}")
        write_decisions(self, selectors.stations_needing_unit_decision())
