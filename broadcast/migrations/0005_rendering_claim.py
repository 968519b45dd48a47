"""Schema for rendering claims and retries."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("broadcast", "0004_demo_objects"),
    ]

    operations = []
