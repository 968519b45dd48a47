"""The waveform picture of a rendition, computed once at render (filled in by the listening pages' work)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [("broadcast", "0011_unit_snapshots")]

    operations = []
