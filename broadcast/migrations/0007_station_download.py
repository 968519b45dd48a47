"""Schema for station downloads and retention."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("broadcast", "0006_staff_tokens"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="playlistitem",
            index=models.Index(fields=["playlist", "sha256"], name="playlist_item_sha256"),
        ),
    ]
