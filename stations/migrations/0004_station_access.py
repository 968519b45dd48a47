"""Station access: supervisors may revoke a station's token (change_stationcredential)."""

from django.db import migrations

from stations.migrations._grants import regrant

GRANT = [("supervisor", "change_stationcredential")]
NAMES = {"change_stationcredential": "Can change khóa truy cập của đài"}


def grant(apps, schema_editor):
    regrant(apps, "stations", grant=GRANT, names=NAMES)


def ungrant(apps, schema_editor):
    regrant(apps, "stations", revoke=GRANT, names=NAMES)


class Migration(migrations.Migration):

    dependencies = [
        ("stations", "0003_registry_edits"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, ungrant)]
