"""Celery tasks of the proof-of-play area (ids in, service call)."""

from __future__ import annotations

from celery import shared_task

from broadcast.services import reports as report_services

__all__ = ["refold_report_outcomes"]


@shared_task(name="broadcast.tasks.refold_report_outcomes", ignore_result=True)
def refold_report_outcomes(item_ids: list[int]) -> int:
    """Re-derives playlist items' report outcomes from stored reports. Safe to run twice."""
    return report_services.refold_items(item_ids)
