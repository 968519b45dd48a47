"""The editorial workflow through a real worker: submit renders real speech (espeak) in the
worker process, the approver listens and approves, and a re-delivered task changes nothing."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest
from django.conf import settings

from broadcast.models import AudioRendition, Bulletin

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

URL = "/api/v1/bulletins/"


def _wait_for_audio(bulletin_id: int, timeout: float = 180.0) -> AudioRendition:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rendition = Bulletin.objects.get(pk=bulletin_id).current_revision.rendition
        if rendition is not None and rendition.status in ("ready", "failed"):
            return rendition
        time.sleep(0.3)
    raise AssertionError(f"audio of bulletin {bulletin_id} not rendered within {timeout}s")


def test_submit_renders_in_the_worker_and_approval_binds_that_file(celery_worker, editor, approver, client_for):
    created = client_for(editor).post(URL, {
        "title": "Thông báo khẩn về bão số 3",
        "body": "UBND phường đề nghị các hộ gia đình chằng chống nhà cửa trước 17h00 ngày 6/9/2024.",
        "category": "emergency", "priority": "emergency",
    }, format="json").data
    assert client_for(editor).post(f"{URL}{created['id']}/submit/").status_code == 200

    rendition = _wait_for_audio(created["id"])
    assert rendition.status == "ready", rendition.error
    path = Path(settings.MEDIA_ROOT) / rendition.file
    assert hashlib.sha256(path.read_bytes()).hexdigest() == rendition.sha256
    assert rendition.duration_ms > 2000 and rendition.engine_used

    served = client_for(approver).get(f"/api/v1/renditions/{rendition.pk}/file.mp3", HTTP_RANGE="bytes=0-99")
    assert served.status_code == 206
    approved = client_for(approver).post(f"{URL}{created['id']}/approve/", {"comment": "Phát ngay"}, format="json")
    assert approved.status_code == 200 and approved.data["approved_sha256"] == rendition.sha256

    # A duplicate delivery of the task (acks_late, worker restart) renders nothing again.
    from broadcast.tasks.rendering import render_rendition_task

    render_rendition_task.delay(rendition.pk)
    time.sleep(2)
    again = AudioRendition.objects.get(pk=rendition.pk)
    assert (again.status, again.sha256, again.render_attempts) == ("ready", rendition.sha256, 1)


def test_the_same_text_submitted_twice_is_synthesized_once(celery_worker, editor, other_editor, client_for):
    body = {"title": "Lịch tiêm chủng", "body": "Trạm Y tế phường tiêm chủng mở rộng vào sáng thứ Bảy.",
            "category": "health", "priority": "normal"}
    ids = []
    for user in (editor, other_editor):
        created = client_for(user).post(URL, body, format="json").data
        assert client_for(user).post(f"{URL}{created['id']}/submit/").status_code == 200
        ids.append(created["id"])
    first, second = (_wait_for_audio(i) for i in ids)
    assert first.pk == second.pk and first.status == "ready"
    assert first.render_attempts == 1
