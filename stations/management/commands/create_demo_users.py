"""Creates one demo account per role. Development only: refused when DEBUG is off."""

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


class Command(BaseCommand):
    help = "Tạo tài khoản dùng thử cho mỗi vai trò (chỉ khi DEBUG bật)."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("Tài khoản dùng thử chỉ được tạo khi DEBUG bật (môi trường phát triển).")
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
