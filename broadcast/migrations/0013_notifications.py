"""Staff notifications: a bulletin waits for approval, or was approved or sent back (newsroom count, e-mail)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("broadcast", "0012_waveform"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Notification",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("kind", models.CharField(choices=[("submitted", "Chờ duyệt"), ("approved", "Đã duyệt"),
                                                   ("rejected", "Bị trả lại")], max_length=10, verbose_name="loại")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="tạo lúc")),
                ("read_at", models.DateTimeField(blank=True, null=True, verbose_name="đã xem lúc")),
                ("emailed_at", models.DateTimeField(blank=True, null=True, verbose_name="gửi thư lúc")),
                ("bulletin", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE,
                                               related_name="notifications", to="broadcast.bulletin",
                                               verbose_name="bản tin")),
                ("recipient", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE,
                                                related_name="notifications", to=settings.AUTH_USER_MODEL,
                                                verbose_name="người nhận")),
                ("transition", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE,
                                                 related_name="notifications", to="broadcast.bulletintransition",
                                                 verbose_name="bước")),
            ],
            options={
                "verbose_name": "thông báo",
                "verbose_name_plural": "thông báo",
                "ordering": ["-created_at", "-id"],
                "indexes": [models.Index(fields=["recipient", "read_at"], name="notification_unread")],
                "constraints": [
                    models.UniqueConstraint(fields=("transition", "recipient"), name="notification_once_per_step"),
                    models.CheckConstraint(condition=models.Q(("kind__in", ["submitted", "approved", "rejected"])),
                                           name="notification_kind_valid"),
                ],
            },
        ),
    ]
