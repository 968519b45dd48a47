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
from stations.models import District, DistrictOperator

DEMO_PASSWORD = "loa-demo-2026"
DEMO_USERS = [
    ("admin", None),
    ("bientap", roles.EDITOR),
    ("bientap2", roles.EDITOR),
    ("kiemduyet", roles.APPROVER),
    ("giamsat", roles.SUPERVISOR),
    ("canbo", roles.DISTRICT_OPERATOR),
]


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
                user.is_staff = True
                user.is_superuser = role is None
                user.save()
            if role:
                user.groups.add(Group.objects.get(name=role))
            if role == roles.DISTRICT_OPERATOR and district:
                DistrictOperator.objects.get_or_create(user=user, defaults={"district": district})
            label = roles.ROLE_LABELS.get(role, "Quản trị hệ thống")
            self.stdout.write(f"  {username:<10} {label}{' (mới)' if created else ''}")
