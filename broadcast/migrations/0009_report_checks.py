"""Schema for proof of play."""

import datetime

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import F, Q, TextField, Value
from django.db.models.functions import Cast, Coalesce, Concat

# Before report times were validated, PostgreSQL accepted times outside what Python can read back
# (e.g. year 1 at +07:00 = 1 BC in UTC), and every later read of such a row failed.
EARLIEST = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
LATEST = datetime.datetime(9000, 1, 1, tzinfo=datetime.UTC)


def repair_unreadable_times(apps, schema_editor):
    """Moves out-of-range report times to the planned time (or the receipt time), keeping the original
    value as text in `error`, so the play log and the dashboard can read every row again."""
    PlaybackReport = apps.get_model("broadcast", "PlaybackReport")
    bad_start = Q(started_at__lt=EARLIEST) | Q(started_at__gte=LATEST)
    bad_end = Q(ended_at__lt=EARLIEST) | Q(ended_at__gte=LATEST)
    # The end goes too (kept as text): it may lie before the new start (report_end_after_start).
    PlaybackReport.objects.filter(bad_start).update(
        error=Concat(F("error"), Value(" [started_at gốc không hợp lệ: "), Cast("started_at", TextField()),
                     Value(", ended_at gốc: "), Cast("ended_at", TextField()), Value("]"), output_field=TextField()),
        started_at=Coalesce(F("planned_start"), F("received_at")),
        ended_at=None,
    )
    PlaybackReport.objects.filter(bad_end).update(
        error=Concat(F("error"), Value(" [ended_at gốc không hợp lệ: "), Cast("ended_at", TextField()),
                     Value("]"), output_field=TextField()),
        ended_at=None,
    )


def open_spans_of_inactive_stations(apps, schema_editor):
    """Stations already inactive: their deactivation time was not kept; their last registry change is
    the best estimate."""
    Station = apps.get_model("stations", "Station")
    StationInactivity = apps.get_model("broadcast", "StationInactivity")
    StationInactivity.objects.bulk_create(
        StationInactivity(station_id=pk, since=updated_at)
        for pk, updated_at in Station.objects.filter(active=False).values_list("pk", "updated_at")
    )


class Migration(migrations.Migration):

    dependencies = [
        ("broadcast", "0007_station_download"),
        ("stations", "0004_station_access"),
    ]

    operations = [
        migrations.RunPython(repair_unreadable_times, migrations.RunPython.noop, elidable=True),
        migrations.CreateModel(
            name="StationInactivity",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("since", models.DateTimeField(verbose_name="ngừng hoạt động từ")),
                ("until", models.DateTimeField(blank=True, null=True, verbose_name="hoạt động lại lúc")),
                ("station", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE,
                                              related_name="inactivities", to="stations.station")),
            ],
            options={
                "verbose_name": "thời gian ngừng hoạt động",
                "verbose_name_plural": "thời gian ngừng hoạt động",
                "ordering": ["station", "since"],
                "indexes": [models.Index(fields=["station", "since"], name="inactivity_station_since")],
                "constraints": [models.UniqueConstraint(condition=models.Q(("until__isnull", True)),
                                                        fields=("station",), name="inactivity_one_open_per_station")],
            },
        ),
        migrations.RunPython(open_spans_of_inactive_stations, migrations.RunPython.noop),
    ]
