from django.db import migrations

from stations.roles import grant_permissions

_READ_CONTENT = [
    "view_bulletin", "view_bulletinrevision", "view_bulletintransition", "view_audiorendition",
    "view_pronunciationentry", "view_schedule", "view_playlist", "view_playlistitem",
]
GRANTS = {
    "editor": [*_READ_CONTENT, "add_bulletin", "change_bulletin", "add_pronunciationentry",
               "change_pronunciationentry", "delete_pronunciationentry", "add_schedule"],
    "approver": [*_READ_CONTENT, "change_bulletin", "add_schedule"],
    "supervisor": [*_READ_CONTENT, "add_schedule", "change_schedule", "delete_schedule", "view_playbackreport"],
    "district_operator": ["view_playlist", "view_playlistitem", "view_playbackreport"],
}


def forwards(apps, schema_editor):
    grant_permissions(apps, "broadcast", GRANTS)


class Migration(migrations.Migration):
    dependencies = [("broadcast", "0001_initial"), ("stations", "0002_roles")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
