"""Schema for rendering claims and retries."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("broadcast", "0004_demo_objects"),
    ]

    operations = [
        migrations.AddField(
            model_name="audiorendition",
            name="claimed_by",
            field=models.CharField(blank=True, max_length=255, verbose_name="tác vụ đang xử lý"),
        ),
        migrations.AddField(
            model_name="audiorendition",
            name="heartbeat_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="xử lý còn chạy lúc"),
        ),
        migrations.AddField(
            model_name="audiorendition",
            name="queued_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="xếp hàng lúc"),
        ),
    ]
