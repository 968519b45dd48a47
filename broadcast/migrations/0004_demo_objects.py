"""Schema for demo content and re-runs."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("broadcast", "0003_revision_request_fields"),
    ]

    operations = []
