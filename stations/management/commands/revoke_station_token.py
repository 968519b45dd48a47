"""Revokes a station's API token without issuing a new one (a lost or stolen device)."""

from django.core.management.base import BaseCommand, CommandError

from stations import services
from stations.models import Station


class Command(BaseCommand):
    help = "Thu hồi khóa truy cập của một đài mà không cấp khóa mới (thiết bị bị mất, bị lấy cắp)."

    def add_arguments(self, parser):
        parser.add_argument("code", help="mã đài")

    def handle(self, *args, code: str, **options):
        try:
            station = Station.objects.get(code=code)
        except Station.DoesNotExist:
            raise CommandError(f"Không có đài mã {code!r}") from None
        revoked = services.revoke_station_tokens(station)
        self.stdout.write(f"Đã thu hồi {revoked} khóa của đài {station.code}.")
