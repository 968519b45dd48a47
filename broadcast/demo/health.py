"""Demo station health (for `seed_demo`): of the stations the simulator keeps quiet, about a third were heard
days ago (silent now) and a third minutes ago (late now), each through the real heartbeat and health sweep,
so the registry, the dashboard and the emergency call list show what a real network has. The other third
never connected. Only stations never heard from are touched, so a re-run changes nothing."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from stations.health import heartbeat_window, record_heartbeat, silent_after, sweep_statuses
from stations.models import Station

from .emergency import fraction, is_silent

AGENT_VERSION = "loa-sim/1.0"


def seed_station_health(now: dt.datetime | None = None) -> dict[str, int]:
    """{"late": n, "silent": n}: the stations newly made so."""
    now = now or timezone.now()
    # Heard just long enough ago to be late, or well past the silence threshold.
    late_seen = now - heartbeat_window() - silent_after() / 2
    silent_seen = now - heartbeat_window() - silent_after() - dt.timedelta(days=2)
    heard: dict[str, int] = {"late": 0, "silent": 0}
    for station in Station.objects.filter(status=Station.Status.NEVER, active=True).order_by("pk"):
        if not is_silent(station.code):
            continue
        share = fraction(station.code, "health")
        kind = "silent" if share < 1 / 3 else "late" if share < 2 / 3 else None
        if kind is None:
            continue
        seen = silent_seen if kind == "silent" else late_seen
        record_heartbeat(station, agent_version=AGENT_VERSION, state={"disk_free_mb": 1024}, now=seen)
        heard[kind] += 1
    if any(heard.values()):
        sweep_statuses(now)
    return heard
