"""Bulletins waiting for review, made directly (not through the services), for the review page tests."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from broadcast.models import AudioRendition, Bulletin, BulletinRevision, BulletinTransition
from tests.factories import ReadyRenditionFactory, UserFactory, approved_bulletin


def in_review(
    *, author=None, title: str = "Thông báo lịch tiêm chủng", body: str = "Nội dung thông báo.",
    priority: str = "normal", category: str = "health", seconds: float = 2.0,
    submitted_ago: dt.timedelta = dt.timedelta(hours=1), live: dict | None = None,
    rendition: AudioRendition | None = None,
) -> Bulletin:
    """A bulletin in review with a ready rendition. `live` (title/body/priority…) first makes an approved
    revision 1 that airs, so the one in review is revision 2 (an edit of what is on air)."""
    author = author or UserFactory(roles=["editor"])
    submitted = timezone.now() - submitted_ago
    if live is not None:
        bulletin = approved_bulletin(author=author, **live)
        number = 2
    else:
        bulletin = Bulletin.objects.create(title=title, category=category, priority=priority, author=author)
        number = 1
    rendition = rendition or ReadyRenditionFactory(seconds=seconds)
    revision = BulletinRevision.objects.create(
        bulletin=bulletin, number=number, title=title, body=body, category=category, priority=priority,
        created_by=author, submitted_at=submitted, rendition=rendition,
    )
    BulletinTransition.objects.create(bulletin=bulletin, revision=revision, from_status="draft",
                                      to_status="in_review", by=author, at=submitted)
    bulletin.current_revision = revision
    bulletin.status = Bulletin.Status.IN_REVIEW
    bulletin.save(update_fields=["current_revision", "status"])
    return bulletin
