"""Registry events that other apps may react to (stations never imports them)."""

from django.dispatch import Signal

# A station's slots or active flag changed. kwargs: station_ids (list[int]).
stations_changed = Signal()
