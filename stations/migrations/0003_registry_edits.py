"""Schema for registry edits."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("stations", "0002_roles"),
    ]

    operations = []
