"""Schema for registry edits: which fields a person changed by hand (a re-import keeps them)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("stations", "0002_roles"),
    ]

    operations = [
        migrations.AddField(
            model_name="station",
            name="edited_fields",
            field=models.JSONField(blank=True, default=list, editable=False, verbose_name="sửa tay"),
        ),
    ]
