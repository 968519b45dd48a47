"""Celery tasks of the stations app (id in, service call)."""

from __future__ import annotations

from celery import shared_task

from . import health

__all__ = ["sweep_station_health"]


@shared_task(name="stations.tasks.sweep_station_health", ignore_result=True)
def sweep_station_health() -> dict[str, int]:
    """Periodic: marks overdue stations late or silent. Idempotent: a second run changes nothing."""
    result = health.sweep_statuses()
    return {"late": result.late, "silent": result.silent}
