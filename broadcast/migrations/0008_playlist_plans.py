"""Schema for playlist rebuilds."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("broadcast", "0007_station_download"),
    ]

    operations = []
