"""Staff notifications (filled in by the newsroom home/notifications work)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [("broadcast", "0012_waveform")]

    operations = []
