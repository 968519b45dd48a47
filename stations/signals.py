"""Registry events that other apps may react to (stations never imports them)."""

from django.dispatch import Signal

# Something a schedule's targets or the playlist builder depend on changed for these stations (code,
# kind, district or its code, slots, active), from an import, the admin or the API; sent after the
# commit (`services.notify_stations_changed`). kwargs: station_ids (list[int]).
stations_changed = Signal()
