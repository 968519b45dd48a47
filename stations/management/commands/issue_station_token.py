"""Issues a new API token for a station (revoking the old one) and prints it once."""

from django.core.management.base import BaseCommand, CommandError

from stations import services
from stations.models import Station


class Command(BaseCommand):
    help = "Cấp khóa truy cập mới cho một đài (khóa cũ bị thu hồi). Khóa chỉ hiện một lần."

    def add_arguments(self, parser):
        parser.add_argument("code", help="mã đài")

    def handle(self, *args, code: str, **options):
        try:
            station = Station.objects.get(code=code)
        except Station.DoesNotExist:
            raise CommandError(f"Không có đài mã {code!r}") from None
        self.stdout.write(services.issue_station_token(station))
