"""Schema for proof of play."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("broadcast", "0008_playlist_plans"),
    ]

    operations = []
