from django.db import migrations

from stations.migrations._grants import grant_permissions

# The grants as they were when this migration was written (later ones change them; stations/roles.py
# holds today's, re-applied after every migrate). Literal, so replaying history never needs permissions
# that models declare only later.
_READ = [
    "view_bulletin", "view_bulletinrevision", "view_bulletintransition", "view_audiorendition",
    "view_pronunciationentry", "view_schedule", "view_playlist", "view_playlistitem",
]
GRANTS = {
    "editor": [*_READ, "add_bulletin", "change_bulletin", "add_pronunciationentry", "change_pronunciationentry",
               "delete_pronunciationentry", "add_schedule"],
    "approver": [*_READ, "change_bulletin", "add_schedule"],
    "supervisor": [*_READ, "add_schedule", "change_schedule", "delete_schedule", "view_playbackreport"],
    "district_operator": ["view_playlist", "view_playlistitem", "view_playbackreport"],
}

def forwards(apps, schema_editor):
    grant_permissions(apps, "broadcast", GRANTS)

class Migration(migrations.Migration):
    dependencies = [("broadcast", "0001_initial"), ("stations", "0002_roles")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
