"""Schema for staff API tokens."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("broadcast", "0005_rendering_claim"),
    ]

    operations = []
