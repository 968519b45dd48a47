from django.db import migrations

from stations.migrations._grants import grant_permissions

# The grants as they were when this migration was written (literal: stations/roles.py holds today's).
GRANTS = {
    "editor": ["view_district", "view_station"],
    "approver": ["view_district", "view_station"],
    "supervisor": [
        "view_district", "view_station", "change_station", "view_stationstatuschange",
        "view_stationcredential", "add_stationcredential", "view_districtoperator",
    ],
    "district_operator": ["view_district", "view_station", "view_stationstatuschange"],
}

def forwards(apps, schema_editor):
    grant_permissions(apps, "stations", GRANTS)

def backwards(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=list(GRANTS)).delete()

class Migration(migrations.Migration):
    dependencies = [
        ("stations", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
