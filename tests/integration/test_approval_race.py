"""Two approvers act on the same bulletin at the same moment: on PostgreSQL exactly one wins."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.utils import timezone

from broadcast.models import Bulletin, BulletinTransition
from broadcast.services import bulletins as services
from tests.factories import ReadyRenditionFactory, UserFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _in_review_bulletin() -> Bulletin:
    editor = UserFactory(username="tacgia-race", roles=["editor"])
    bulletin = services.create_bulletin(editor, "Thông báo cắt điện", "Điện lực phường thông báo lịch cắt điện.",
                                        category="other")
    revision = bulletin.current_revision
    revision.rendition = ReadyRenditionFactory()
    revision.submitted_at = timezone.now()
    revision.save(update_fields=["rendition", "submitted_at"])
    Bulletin.objects.filter(pk=bulletin.pk).update(status=Bulletin.Status.IN_REVIEW)
    return bulletin


def test_two_concurrent_approvals_exactly_one_wins_the_other_gets_a_conflict():
    bulletin = _in_review_bulletin()
    approvers = [UserFactory(username=f"duyet-race-{n}", roles=["approver"]) for n in (1, 2)]
    start = threading.Barrier(len(approvers))
    outcomes: list[str] = []

    def approve(user) -> None:  # noqa: ANN001
        try:
            start.wait(timeout=10)
            services.approve(Bulletin.objects.get(pk=bulletin.pk), user, comment=f"duyệt bởi {user.username}")
            outcomes.append("approved")
        except services.StateConflict:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(user,)) for user in approvers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["approved", "conflict"]
    bulletin.refresh_from_db()
    assert bulletin.status == Bulletin.Status.APPROVED
    approvals = BulletinTransition.objects.filter(bulletin=bulletin, to_status=Bulletin.Status.APPROVED)
    assert approvals.count() == 1
    assert bulletin.live_revision.approved_by == approvals.get().by
