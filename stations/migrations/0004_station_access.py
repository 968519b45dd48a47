"""Schema for station access."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("stations", "0003_registry_edits"),
    ]

    operations = []
