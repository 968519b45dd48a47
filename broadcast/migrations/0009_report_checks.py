"""Schema for proof of play."""

import datetime

from django.db import migrations
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


class Migration(migrations.Migration):

    dependencies = [
        ("broadcast", "0008_playlist_plans"),
    ]

    operations = [
        migrations.RunPython(repair_unreadable_times, migrations.RunPython.noop, elidable=True),
    ]
