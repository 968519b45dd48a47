"""Commune operators (two-level map): the district operator's reads, scoped to their units by the selectors."""

from django.db import migrations

from stations.migrations._grants import regrant

READS = {
    "stations": [("commune_operator", c) for c in
                 ("view_district", "view_adminunit", "view_station", "view_stationstatuschange")]
    + [(role, "view_adminunit") for role in ("editor", "approver", "supervisor", "district_operator")]
    + [("supervisor", "view_communeoperator")],
    "broadcast": [("commune_operator", c) for c in
                  ("view_bulletin", "view_schedule", "view_playlist", "view_playlistitem", "view_playbackreport")],
}


def grant(apps, schema_editor):
    for app_label, pairs in READS.items():
        regrant(apps, app_label, grant=pairs)


def ungrant(apps, schema_editor):
    for app_label, pairs in READS.items():
        regrant(apps, app_label, revoke=pairs)


class Migration(migrations.Migration):

    dependencies = [
        ("stations", "0005_admin_units"),
        ("broadcast", "0011_unit_snapshots"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, ungrant)]
