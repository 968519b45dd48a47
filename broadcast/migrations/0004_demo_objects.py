"""Schema for demo content and re-runs."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("broadcast", "0003_revision_request_fields"),
    ]

    operations = [
        migrations.AddField(
            model_name="bulletin",
            name="is_demo",
            field=models.BooleanField(default=False, editable=False, verbose_name="dữ liệu mẫu"),
        ),
        migrations.AddField(
            model_name="schedule",
            name="is_demo",
            field=models.BooleanField(default=False, editable=False, verbose_name="dữ liệu mẫu"),
        ),
    ]
