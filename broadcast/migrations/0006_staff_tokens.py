"""Schema for staff API tokens; existing plaintext tokens are hashed over; scheduling is the supervisor's.

Tokens of `rest_framework.authtoken` (stored in plain text) are copied as SHA-256 hashes into StaffToken,
so API clients already logged in keep working until the new expiry, and the plaintext rows are deleted.
"""

import datetime
import hashlib

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from stations.migrations._grants import regrant

LEGACY_TABLE = "authtoken_token"


def hash_legacy_tokens(apps, schema_editor):
    connection = schema_editor.connection
    if LEGACY_TABLE not in connection.introspection.table_names():
        return
    StaffToken = apps.get_model("broadcast", "StaffToken")
    ttl_days = getattr(settings, "STAFF_TOKEN_TTL_DAYS", 30)
    now = django.utils.timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT key, user_id FROM {LEGACY_TABLE}")  # noqa: S608 (constant name)
        rows = cursor.fetchall()
        StaffToken.objects.bulk_create([
            StaffToken(user_id=user_id, token_hash=hashlib.sha256(key.encode()).hexdigest(), prefix=key[:6],
                       created_at=now, expires_at=now + datetime.timedelta(days=ttl_days))
            for key, user_id in rows
        ], ignore_conflicts=True)
        cursor.execute(f"DELETE FROM {LEGACY_TABLE}")  # noqa: S608


# (role, codename) changes of this migration; the full grants live in stations/roles.py (post_migrate).
GRANT = [
    ("approver", "approve_bulletin"), ("approver", "archive_bulletin"), ("supervisor", "archive_bulletin"),
    ("district_operator", "view_schedule"),
]
REVOKE = [("editor", "add_schedule"), ("approver", "add_schedule"), ("approver", "change_bulletin")]


NAMES = {"approve_bulletin": "Can approve or reject bulletin", "archive_bulletin": "Can archive bulletin"}


def regrant_roles(apps, schema_editor):
    regrant(apps, "broadcast", grant=GRANT, revoke=REVOKE, names=NAMES)


def unregrant(apps, schema_editor):
    regrant(apps, "broadcast", grant=REVOKE, revoke=GRANT, names=NAMES)


class Migration(migrations.Migration):

    dependencies = [
        ("broadcast", "0005_rendering_claim"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="bulletin",
            options={
                "ordering": ["-created_at", "-id"],
                "permissions": [
                    ("approve_bulletin", "Can approve or reject bulletin"), ("archive_bulletin", "Can archive bulletin"),
                ],
                "verbose_name": "bản tin",
                "verbose_name_plural": "bản tin",
            },
        ),
        migrations.CreateModel(
            name="StaffToken",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("token_hash", models.CharField(max_length=64, unique=True)),
                ("prefix", models.CharField(help_text="first characters, to tell tokens apart", max_length=8,
                                            verbose_name="tiền tố")),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="tạo lúc")),
                ("expires_at", models.DateTimeField(db_index=True, verbose_name="hết hạn lúc")),
                ("revoked_at", models.DateTimeField(blank=True, null=True, verbose_name="thu hồi lúc")),
                ("last_used_at", models.DateTimeField(blank=True, null=True, verbose_name="dùng lần cuối")),
                ("user", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="staff_tokens",
                                           to=settings.AUTH_USER_MODEL, verbose_name="người dùng")),
            ],
            options={
                "verbose_name": "khóa API của cán bộ",
                "verbose_name_plural": "khóa API của cán bộ",
                "ordering": ["-created_at"],
            },
        ),
        migrations.RunPython(hash_legacy_tokens, migrations.RunPython.noop),
        migrations.RunPython(regrant_roles, unregrant),
    ]
