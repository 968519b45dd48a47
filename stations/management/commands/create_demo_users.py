"""Creates one demo account per role, all with the same printed password.

Development only: refused when DEBUG is off, and refused on any database but the embedded SQLite
default (var/loa.sqlite3) unless asked for with --force or LOA_DEMO=true: a DATABASE_URL inherited
from the shell may name a real database, where a known password would be an open door.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

from stations import roles
from stations.models import AdminUnit, CommuneOperator, District, DistrictOperator, Station, StationOperator

DEMO_PASSWORD = "loa-demo-2026"
DEMO_USERS = [
    ("admin", None),
    ("bientap", roles.EDITOR),
    ("bientap2", roles.EDITOR),
    ("kiemduyet", roles.APPROVER),
    ("giamsat", roles.SUPERVISOR),
    ("canbo", roles.DISTRICT_OPERATOR),
    ("canboxa", roles.COMMUNE_OPERATOR),
    ("nhanvien", roles.STATION_OPERATOR),
]
DEMO_PROVINCE = "01"  # Hà Nội, the registry scripts/run imports
DEMO_UNITS = 2


def demo_units(district: District | None) -> list[AdminUnit]:
    """Units of the two-level map for the demo commune operator: the first ones where stations of the
    demo district operator's district stand now (so both demo operators share some stations), else
    Hà Nội's first; none before the units are imported."""
    units = AdminUnit.objects.filter(map=AdminUnit.Map.SINCE_2025, level=AdminUnit.Level.COMMUNE)
    if district is not None:
        shared = list(units.filter(stations__district=district).distinct().order_by("code")[:DEMO_UNITS])
        if shared:
            return shared
    return list(units.filter(province_code=DEMO_PROVINCE).order_by("code")[:DEMO_UNITS])


def demo_station(unit_ids: list[int]) -> Station | None:
    """The station of the demo station operator: the first active one (by code) with broadcast slots in
    the demo commune operator's units (so that operator's dashboard shows what is reported), else the
    first anywhere; seed_demo schedules its bulletins to every active station, so it gets a playlist."""
    stations = Station.objects.filter(active=True).exclude(slots=[]).order_by("code")
    return stations.filter(unit_id__in=unit_ids).first() or stations.first()


def embedded_default_database() -> bool:
    return settings.DATABASE_URL == f"sqlite:///{settings.VAR_DIR / 'loa.sqlite3'}"


def check_demo_allowed(what: str, force: bool = False) -> None:
    """Raises CommandError unless demo data may go into this database (shared with `seed_demo`)."""
    if not settings.DEBUG:
        raise CommandError(f"{what} chỉ được tạo khi DEBUG bật (môi trường phát triển).")
    if force or settings.LOA_DEMO or embedded_default_database():
        return
    raise CommandError(
        f"{what} chỉ được tạo trong cơ sở dữ liệu SQLite mặc định (var/loa.sqlite3). DATABASE_URL đang chỉ "
        "tới một cơ sở dữ liệu khác, có thể là dữ liệu thật: nếu đúng là cơ sở dữ liệu để thử, hãy chạy lại "
        "với --force hoặc đặt LOA_DEMO=true."
    )


class Command(BaseCommand):
    help = ("Tạo tài khoản dùng thử cho mỗi vai trò (chỉ khi DEBUG bật, và chỉ trong SQLite mặc định "
            "trừ khi có --force hoặc LOA_DEMO=true).")

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true",
                            help="tạo cả trong cơ sở dữ liệu do DATABASE_URL chỉ định (chỉ khi đó là dữ liệu thử)")

    def handle(self, *args, **options):
        check_demo_allowed("Tài khoản dùng thử", force=options["force"])
        User = get_user_model()
        district = District.objects.order_by("code").first()
        self.stdout.write(f"Tài khoản dùng thử (CHỈ ĐỂ THỬ, mật khẩu chung: {DEMO_PASSWORD}):")
        for username, role in DEMO_USERS:
            user, created = User.objects.get_or_create(username=username)
            if created:
                user.set_password(DEMO_PASSWORD)
                # Operators work in the dashboard and the API (a station operator on their page); they
                # have nothing to change in the admin.
                user.is_staff = role not in (*roles.OPERATOR_ROLES, roles.STATION_OPERATOR)
                user.is_superuser = role is None
                user.save()
            elif role in roles.OPERATOR_ROLES and user.is_staff:  # made by an older version of this command
                user.is_staff = False
                user.save(update_fields=["is_staff"])
            if role:
                user.groups.add(Group.objects.get(name=role))
            where = ""
            if role == roles.DISTRICT_OPERATOR and district:
                link, _ = DistrictOperator.objects.get_or_create(user=user, defaults={"district": district})
                where = f" — {link.district}"
            if role == roles.COMMUNE_OPERATOR:
                link, _ = CommuneOperator.objects.get_or_create(user=user)
                if not link.units.exists():  # a choice made since in the admin is kept
                    link.units.add(*demo_units(district))
                names = ", ".join(f"{u.name} ({u.code})" for u in link.units.order_by("code"))
                where = f" — {names}" if names else " — chưa gắn xã/phường nào (chưa nhập bản đồ hai cấp)"
            if role == roles.STATION_OPERATOR:
                link = StationOperator.objects.filter(user=user).select_related("station").first()
                if link is None:  # a station chosen since in the admin is kept
                    units = list(CommuneOperator.objects.filter(user__username="canboxa")
                                 .values_list("units", flat=True))
                    station = demo_station([u for u in units if u is not None])
                    link = StationOperator.objects.create(user=user, station=station) if station else None
                where = (f" — {link.station.name} ({link.station.code})" if link
                         else " — chưa gắn đài nào (chưa nhập danh sách đài)")
            label = roles.ROLE_LABELS.get(role, "Quản trị hệ thống")
            self.stdout.write(f"  {username:<10} {label}{' (mới)' if created else ''}{where}")
