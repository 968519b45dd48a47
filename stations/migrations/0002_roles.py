from django.db import migrations

from stations.roles import ROLE_GRANTS, grant_permissions

def forwards(apps, schema_editor):
    grant_permissions(apps, "stations", ROLE_GRANTS["stations"])

def backwards(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=list(ROLE_GRANTS["stations"])).delete()

class Migration(migrations.Migration):
    dependencies = [
        ("stations", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
