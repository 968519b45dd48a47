"""Station access: supervisors may revoke a station's token (change_stationcredential)."""

from django.db import migrations


def _permission(apps):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    ct, _ = ContentType.objects.get_or_create(app_label="stations", model="stationcredential")
    perm, _ = Permission.objects.get_or_create(
        content_type=ct, codename="change_stationcredential",
        defaults={"name": "Can change khóa truy cập của đài"},
    )
    return perm


def grant(apps, schema_editor):
    group, _ = apps.get_model("auth", "Group").objects.get_or_create(name="supervisor")
    group.permissions.add(_permission(apps))


def ungrant(apps, schema_editor):
    group = apps.get_model("auth", "Group").objects.filter(name="supervisor").first()
    if group is not None:
        group.permissions.remove(_permission(apps))


class Migration(migrations.Migration):

    dependencies = [
        ("stations", "0003_registry_edits"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, ungrant)]
