"""Reads for the newsroom's navigation and notifications page: cheap counts, one person's notifications."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from broadcast.models import Bulletin, Notification

__all__ = ["notifications_of", "unread_count", "waiting_for_approval_count"]


def unread_count(user: Any) -> int:
    """Unread notifications of `user` (one indexed count, on every newsroom page)."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def notifications_of(user: Any) -> QuerySet[Notification]:
    """Newest first, with what the list shows joined in (a constant number of queries per page)."""
    return (Notification.objects.filter(recipient=user)
            .select_related("bulletin", "transition", "transition__by", "transition__revision")
            .order_by("-created_at", "-id"))


def waiting_for_approval_count(user: Any) -> int:
    """Bulletins in review that `user` may decide on: not their own (four eyes)."""
    return Bulletin.objects.filter(status=Bulletin.Status.IN_REVIEW).exclude(author=user).count()
