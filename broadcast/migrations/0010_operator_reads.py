"""District operators read the bulletins that air in their district (the selectors narrow the rows)."""

from django.db import migrations

from stations.migrations._grants import regrant

GRANT = [("district_operator", "view_bulletin")]


def grant(apps, schema_editor):
    regrant(apps, "broadcast", grant=GRANT)


def ungrant(apps, schema_editor):
    regrant(apps, "broadcast", revoke=GRANT)


class Migration(migrations.Migration):

    dependencies = [
        ("broadcast", "0009_report_checks"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, ungrant)]
