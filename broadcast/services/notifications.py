"""Telling people about the workflow: approvers when a bulletin waits for them, its author when it is
approved or sent back. Each step becomes one Notification per recipient (the count in the newsroom's
navigation) and an e-mail to those with an address, sent through Django's mail settings.

The work runs after the step is committed, in a Celery task taking the transition's id
(`notify_on_commit`); the task may run twice (a retry, a re-sent message): the notifications are unique
per (step, recipient) and each e-mail is claimed before it is sent, so nobody is told twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.utils import timezone

from broadcast.models import Bulletin, BulletinTransition, Notification
from stations import roles

log = logging.getLogger(__name__)

S = Bulletin.Status
K = Notification.Kind

KIND_OF_STEP = {S.IN_REVIEW: K.SUBMITTED, S.APPROVED: K.APPROVED, S.REJECTED: K.REJECTED}

# Where a notification leads (the newsroom's routes; paths, so this module needs no page module).
REVIEW_PAGE = "/newsroom/review/{id}/"
BULLETIN_PAGE = "/newsroom/bulletins/{id}/"


def concerns(transition: BulletinTransition) -> bool:
    """Whether a step tells anyone anything: a submission, a decision, or leaving the queue (which makes
    the approvers' 'waiting' notifications of that bulletin stale)."""
    return transition.to_status in KIND_OF_STEP or transition.from_status == S.IN_REVIEW


def notify_on_commit(transition_id: int) -> None:
    from broadcast.tasks.notifications import notify_transition_task

    transaction.on_commit(lambda: notify_transition_task.delay(transition_id))


def page_path(notification: Notification) -> str:
    template = REVIEW_PAGE if notification.kind == K.SUBMITTED else BULLETIN_PAGE
    return template.format(id=notification.bulletin_id)


def _recipients(transition: BulletinTransition, kind: str) -> list[Any]:
    User = get_user_model()
    bulletin = transition.bulletin
    if kind == K.SUBMITTED:
        # Every approver but those who wrote it (they may not approve their own work).
        writers = {transition.by_id, bulletin.author_id, transition.revision.created_by_id}
        return list(User.objects.filter(is_active=True, groups__name=roles.APPROVER)
                    .exclude(pk__in=writers).distinct().order_by("pk"))
    author = bulletin.author
    if not author.is_active or author.pk == transition.by_id:
        return []
    return [author]


def notify_transition(transition_id: int) -> int:
    """Records the notifications of one workflow step and e-mails them; returns the e-mails sent.
    Safe to run again: nothing is added or sent twice."""
    transition = (BulletinTransition.objects.select_related("bulletin__author", "revision", "by")
                  .filter(pk=transition_id).first())
    if transition is None:  # a draft deleted since: nothing to tell
        return 0
    now = timezone.now()
    kind = KIND_OF_STEP.get(transition.to_status)
    with transaction.atomic():
        if transition.from_status == S.IN_REVIEW:
            # Decided or withdrawn: it no longer waits for anyone.
            Notification.objects.filter(bulletin_id=transition.bulletin_id, kind=K.SUBMITTED, read_at__isnull=True,
                                        transition__at__lte=transition.at).update(read_at=now)
        if kind is None:
            return 0
        # A submission decided or withdrawn before this ran is recorded as read, and not e-mailed.
        stale = kind == K.SUBMITTED and not _still_waiting(transition)
        Notification.objects.bulk_create(
            [Notification(recipient=user, bulletin_id=transition.bulletin_id, transition=transition, kind=kind,
                          read_at=now if stale else None)
             for user in _recipients(transition, kind)],
            ignore_conflicts=True,
        )
    return _send_emails(transition)


def _still_waiting(transition: BulletinTransition) -> bool:
    bulletin = transition.bulletin
    return bulletin.status == S.IN_REVIEW and bulletin.current_revision_id == transition.revision_id


@dataclass(frozen=True)
class Letter:
    subject: str
    body: str


def _absolute(path: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}{path}" if settings.PUBLIC_BASE_URL else path


def compose(notification: Notification, transition: BulletinTransition) -> Letter:
    """The e-mail of one notification, in Vietnamese."""
    title = transition.revision.title
    by = transition.by.get_full_name() or transition.by.username
    when = timezone.localtime(transition.at).strftime("%H:%M %d/%m/%Y")
    link = _absolute(page_path(notification))
    name = notification.recipient.get_full_name() or notification.recipient.username
    comment = transition.comment.strip()
    if notification.kind == K.SUBMITTED:
        priority = Bulletin.Priority(transition.revision.priority or transition.bulletin.priority).label
        subject = f"[Loa] Bản tin chờ duyệt: {title}"
        lines = [f"{by} đã gửi duyệt bản tin «{title}» lúc {when} (mức: {priority.lower()}).",
                 f"Nghe và duyệt tại: {link}"]
    elif notification.kind == K.APPROVED:
        subject = f"[Loa] Bản tin đã được duyệt: {title}"
        lines = [f"{by} đã duyệt bản tin «{title}» của bạn lúc {when}."]
        if comment:
            lines.append(f"Ghi chú của người duyệt: {comment}")
        lines.append(f"Xem bản tin: {link}")
    else:
        subject = f"[Loa] Bản tin bị trả lại: {title}"
        lines = [f"{by} đã trả lại bản tin «{title}» của bạn lúc {when}.",
                 f"Lý do: {comment}", f"Sửa và gửi duyệt lại tại: {link}"]
    body = "\n\n".join([f"Chào {name},", *lines, "— Loa, hệ thống truyền thanh cơ sở"])
    return Letter(subject=subject, body=body + "\n")


def _send_emails(transition: BulletinTransition) -> int:
    pending = list(Notification.objects.filter(transition=transition, emailed_at__isnull=True, read_at__isnull=True)
                   .exclude(recipient__email="").select_related("recipient").order_by("pk"))
    if not pending:
        return 0
    sent = 0
    with get_connection() as connection:
        for notification in pending:
            # Claimed first: a second run of the task racing this one skips what this one sends.
            claimed = Notification.objects.filter(pk=notification.pk, emailed_at__isnull=True).update(
                emailed_at=timezone.now())
            if not claimed:
                continue
            letter = compose(notification, transition)
            message = EmailMessage(letter.subject, letter.body, settings.DEFAULT_FROM_EMAIL,
                                   [notification.recipient.email], connection=connection)
            try:
                message.send()
            except Exception:
                # Unclaimed, so the task's retry sends it.
                Notification.objects.filter(pk=notification.pk).update(emailed_at=None)
                raise
            sent += 1
    return sent


def mark_read(user: Any, notification_ids: list[int]) -> int:
    """Marks the given unread notifications of `user` read (others' ids are ignored)."""
    if not notification_ids:
        return 0
    return Notification.objects.filter(recipient=user, pk__in=notification_ids, read_at__isnull=True).update(
        read_at=timezone.now())
