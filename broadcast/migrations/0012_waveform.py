"""The waveform picture of a rendition, computed once at render."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [("broadcast", "0011_unit_snapshots")]

    operations = [
        migrations.AddField(
            model_name="audiorendition",
            name="waveform",
            field=models.JSONField(blank=True, default=list, verbose_name="hình sóng"),
        ),
    ]
