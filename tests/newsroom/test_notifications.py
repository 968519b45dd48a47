"""Notifications of the workflow: approvers when a bulletin waits for them, its author when it is approved or
sent back — an e-mail (to those with an address) sent after commit by a Celery task, and a count."""

from __future__ import annotations

import pytest
from django.core import mail

from broadcast.models import AudioRendition, Bulletin, BulletinTransition, Notification
from broadcast.selectors.notifications import unread_count
from broadcast.services import bulletins as services
from broadcast.services.notifications import notify_transition
from broadcast.tasks.notifications import notify_transition_task
from tests.factories import ReadyRenditionFactory, UserFactory

pytestmark = pytest.mark.django_db


def _draft(author, title: str = "Phòng chống bão số 3") -> Bulletin:
    """A draft whose revision carries a ready recording, so submitting renders nothing and approval may bind it."""
    bulletin = services.create_bulletin(author, title, "Người dân chằng chống nhà cửa trước 17 giờ.",
                                        priority=Bulletin.Priority.HIGH)
    revision = bulletin.current_revision
    revision.rendition = ReadyRenditionFactory(source=AudioRendition.Source.RECORDING)
    revision.save(update_fields=["rendition"])
    return bulletin


@pytest.fixture
def people(db):
    editor = UserFactory(username="bientap-tb", first_name="Lan", last_name="Nguyễn", roles=["editor"])
    return {
        "editor": editor,
        "approver": UserFactory(username="kiemduyet-tb", roles=["approver"]),
        "approver2": UserFactory(username="kiemduyet-tb2", roles=["approver"]),
        "no_mail": UserFactory(username="kiemduyet-khongthu", email="", roles=["approver"]),
        "gone": UserFactory(username="kiemduyet-nghi", roles=["approver"], is_active=False),
        "supervisor": UserFactory(username="giamsat-tb", roles=["supervisor"]),
    }


@pytest.fixture
def submitted(people, django_capture_on_commit_callbacks):
    bulletin = _draft(people["editor"])
    with django_capture_on_commit_callbacks(execute=True):
        services.submit(bulletin, people["editor"])
    return bulletin


def test_a_submission_emails_every_approver_with_an_address_after_commit(people, django_capture_on_commit_callbacks):
    bulletin = _draft(people["editor"])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.submit(bulletin, people["editor"])
    assert mail.outbox == [] and not Notification.objects.exists()  # nothing before the commit

    for callback in callbacks:
        callback()

    assert sorted(m.to[0] for m in mail.outbox) == ["kiemduyet-tb2@loa.test", "kiemduyet-tb@loa.test"]
    message = mail.outbox[0]
    assert message.subject == "[Loa] Bản tin chờ duyệt: Phòng chống bão số 3"
    assert "Lan Nguyễn đã gửi duyệt bản tin «Phòng chống bão số 3»" in message.body
    assert "mức: ưu tiên" in message.body
    assert f"/newsroom/review/{bulletin.pk}/" in message.body
    # The approver without an address is told in the newsroom only; the inactive one, the author and the
    # supervisor not at all.
    notified = set(Notification.objects.values_list("recipient__username", "kind"))
    assert notified == {("kiemduyet-tb", "submitted"), ("kiemduyet-tb2", "submitted"),
                        ("kiemduyet-khongthu", "submitted")}


def test_an_approver_who_submits_their_own_bulletin_is_not_told_of_it(people, django_capture_on_commit_callbacks):
    both = UserFactory(username="bientap-kiemduyet", roles=["editor", "approver"])
    bulletin = _draft(both)
    with django_capture_on_commit_callbacks(execute=True):
        services.submit(bulletin, both)

    assert "bientap-kiemduyet@loa.test" not in [m.to[0] for m in mail.outbox]
    assert not Notification.objects.filter(recipient=both).exists()
    assert Notification.objects.filter(recipient=people["approver"]).count() == 1


def test_approval_emails_the_author_with_the_approvers_note(people, submitted, django_capture_on_commit_callbacks):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.approve(submitted, people["approver"], comment="Phát ngay trong buổi sáng.")

    assert [m.to for m in mail.outbox] == [["bientap-tb@loa.test"]]
    assert mail.outbox[0].subject == "[Loa] Bản tin đã được duyệt: Phòng chống bão số 3"
    assert "Ghi chú của người duyệt: Phát ngay trong buổi sáng." in mail.outbox[0].body
    assert f"/newsroom/bulletins/{submitted.pk}/" in mail.outbox[0].body
    assert Notification.objects.get(recipient=people["editor"]).kind == "approved"
    # It no longer waits: the approvers' notifications of it are read.
    assert unread_count(people["approver2"]) == 0 and unread_count(people["approver"]) == 0


def test_a_send_back_emails_the_author_with_the_comment(people, submitted, django_capture_on_commit_callbacks):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.reject(submitted, people["approver"], "Sai số hiệu văn bản 15/2024/QĐ-UBND, hãy kiểm tra lại.")

    assert [m.to for m in mail.outbox] == [["bientap-tb@loa.test"]]
    message = mail.outbox[0]
    assert message.subject == "[Loa] Bản tin bị trả lại: Phòng chống bão số 3"
    assert "Lý do: Sai số hiệu văn bản 15/2024/QĐ-UBND, hãy kiểm tra lại." in message.body
    assert Notification.objects.get(recipient=people["editor"]).kind == "rejected"


def test_an_author_without_an_address_gets_no_email_but_the_count(people, django_capture_on_commit_callbacks):
    writer = UserFactory(username="bientap-khongthu", email="", roles=["editor"])
    bulletin = _draft(writer)
    with django_capture_on_commit_callbacks(execute=True):
        services.submit(bulletin, writer)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.reject(bulletin, people["approver"], "Thiếu nguồn tin.")

    assert mail.outbox == []
    assert unread_count(writer) == 1


def test_a_task_run_again_adds_and_sends_nothing(people, submitted):
    transition = BulletinTransition.objects.get(bulletin=submitted, to_status="in_review")
    rows, sent = Notification.objects.count(), len(mail.outbox)
    assert (rows, sent) == (3, 2)

    assert notify_transition_task.delay(transition.pk).get() == 0
    assert notify_transition(transition.pk) == 0

    assert Notification.objects.count() == rows and len(mail.outbox) == sent


def test_a_mail_server_failure_leaves_the_email_to_the_retry(people, monkeypatch):
    bulletin = _draft(people["editor"])
    services.submit(bulletin, people["editor"])  # in the test's transaction: the task is run by hand
    transition = BulletinTransition.objects.get(bulletin=bulletin, to_status="in_review")

    def refuse(self, messages):  # noqa: ANN001
        raise OSError("máy chủ thư không trả lời")

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", refuse)
    with pytest.raises(OSError):
        notify_transition(transition.pk)
    monkeypatch.undo()

    assert notify_transition(transition.pk) == 2
    assert len(mail.outbox) == 2


def test_withdrawing_makes_the_approvers_notifications_read(people, submitted, django_capture_on_commit_callbacks):
    assert unread_count(people["approver"]) == 1
    with django_capture_on_commit_callbacks(execute=True):
        services.withdraw(submitted, people["editor"])

    assert unread_count(people["approver"]) == 0
    assert Notification.objects.filter(recipient=people["approver"]).count() == 1  # kept in the list


def test_a_submission_decided_before_its_task_ran_is_recorded_read_and_not_emailed(people):
    bulletin = _draft(people["editor"])
    services.submit(bulletin, people["editor"])
    services.approve(bulletin, people["approver"])
    submission, approval = BulletinTransition.objects.filter(bulletin=bulletin).exclude(
        to_status="draft").order_by("at", "id")

    notify_transition(approval.pk)
    notify_transition(submission.pk)

    assert [m.to for m in mail.outbox] == [["bientap-tb@loa.test"]]
    assert unread_count(people["approver2"]) == 0
    assert Notification.objects.filter(kind="submitted").count() == 3


def test_drafting_steps_enqueue_nothing(people, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        services.create_bulletin(people["editor"], "Tin nháp", "Nội dung nháp.")
    assert callbacks == []
