"""Schema for station downloads and retention."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("broadcast", "0006_staff_tokens"),
    ]

    operations = []
