from django.db import migrations

from stations.roles import ROLE_GRANTS, grant_permissions

def forwards(apps, schema_editor):
    grant_permissions(apps, "broadcast", ROLE_GRANTS["broadcast"])

class Migration(migrations.Migration):
    dependencies = [("broadcast", "0001_initial"), ("stations", "0002_roles")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
