"""The editorial workflow through the HTTP API: states, four eyes, audio binding, audit trail."""

from __future__ import annotations

import pytest

from broadcast.models import AudioRendition, Bulletin, BulletinTransition
from broadcast.services import bulletins as services
from broadcast.signals import live_revision_changed
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/bulletins/"
PAYLOAD = {
    "title": "Phòng chống sốt xuất huyết",
    "body": "Trung tâm Y tế quận thông báo: người dân cần diệt bọ gậy, loăng quăng.",
    "category": "health",
    "priority": "normal",
}


@pytest.fixture
def live_changes():
    received: list[int] = []

    def receiver(sender, bulletin_id, **kwargs):  # noqa: ANN001
        received.append(bulletin_id)

    live_revision_changed.connect(receiver, weak=False)
    yield received
    live_revision_changed.disconnect(receiver)


def _create(client, **overrides) -> dict:  # noqa: ANN001
    response = client.post(URL, {**PAYLOAD, **overrides}, format="json")
    assert response.status_code == 201, response.data
    return response.data


def _submitted(client, capture, **overrides) -> dict:  # noqa: ANN001
    data = _create(client, **overrides)
    with capture(execute=True):
        response = client.post(f"{URL}{data['id']}/submit/")
    assert response.status_code == 200, response.data
    return response.data


def test_editor_creates_a_draft_with_first_revision_and_records_it(editor, client_for):
    data = _create(client_for(editor))
    assert data["status"] == "draft"
    assert data["revision"] == 1
    assert data["author"] == editor.username
    assert data["body"] == PAYLOAD["body"]
    transitions = list(BulletinTransition.objects.filter(bulletin_id=data["id"]).values_list("from_status", "to_status"))
    assert transitions == [("", "draft")]


def test_only_editors_create_bulletins(approver, district_operator, client_for):
    assert client_for(approver).post(URL, PAYLOAD, format="json").status_code == 403
    assert client_for(district_operator).post(URL, PAYLOAD, format="json").status_code == 403


def test_create_rejects_missing_body_and_unknown_priority_field_by_field(editor, client_for):
    response = client_for(editor).post(URL, {"title": "Tin", "priority": "urgent"}, format="json")
    assert response.status_code == 400
    assert set(response.data) == {"body", "priority"}


def test_submit_moves_to_review_and_renders_the_revision_audio(editor, client_for, fake_render,
                                                               django_capture_on_commit_callbacks):
    data = _submitted(client_for(editor), django_capture_on_commit_callbacks)
    assert data["status"] == "in_review"
    bulletin = Bulletin.objects.get(pk=data["id"])
    rendition = bulletin.current_revision.rendition
    assert rendition.status == AudioRendition.Status.READY
    assert rendition.sha256 and rendition.file.startswith(f"audio/{rendition.text_hash[:2]}/")
    assert bulletin.current_revision.submitted_at is not None
    # the engine read the title and the body
    assert PAYLOAD["title"] in fake_render.calls[0]


def test_submit_by_someone_else_is_forbidden_and_twice_is_a_conflict(editor, other_editor, client_for, fake_render,
                                                                     django_capture_on_commit_callbacks):
    data = _create(client_for(editor))
    assert client_for(other_editor).post(f"{URL}{data['id']}/submit/").status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        assert client_for(editor).post(f"{URL}{data['id']}/submit/").status_code == 200
    assert client_for(editor).post(f"{URL}{data['id']}/submit/").status_code == 409


def test_approval_binds_the_rendered_sha256_and_announces_the_live_revision(
    editor, approver, client_for, fake_render, django_capture_on_commit_callbacks, live_changes
):
    data = _submitted(client_for(editor), django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(approver).post(f"{URL}{data['id']}/approve/", {"comment": "Đạt"}, format="json")
    assert response.status_code == 200, response.data
    assert response.data["status"] == "approved"
    bulletin = Bulletin.objects.get(pk=data["id"])
    revision = bulletin.live_revision
    assert revision == bulletin.current_revision
    assert revision.approved_by == approver
    assert revision.approved_sha256 == revision.rendition.sha256
    assert response.data["approved_sha256"] == revision.rendition.sha256
    assert live_changes == [bulletin.pk]


def test_the_author_may_not_approve_even_with_the_approver_role(client_for, fake_render,
                                                                django_capture_on_commit_callbacks):
    both = UserFactory(username="kiemnhiem", roles=["editor", "approver"])
    data = _submitted(client_for(both), django_capture_on_commit_callbacks)
    response = client_for(both).post(f"{URL}{data['id']}/approve/", {}, format="json")
    assert response.status_code == 403
    assert Bulletin.objects.get(pk=data["id"]).status == "in_review"


def test_editors_cannot_approve(editor, other_editor, client_for, fake_render, django_capture_on_commit_callbacks):
    data = _submitted(client_for(editor), django_capture_on_commit_callbacks)
    assert client_for(other_editor).post(f"{URL}{data['id']}/approve/", {}, format="json").status_code == 403


def test_approving_before_the_audio_is_ready_is_a_conflict(editor, approver, client_for, fake_render):
    data = _create(client_for(editor))
    # on_commit callbacks are not run here, so the render task never ran: audio is pending
    assert client_for(editor).post(f"{URL}{data['id']}/submit/").status_code == 200
    response = client_for(approver).post(f"{URL}{data['id']}/approve/", {}, format="json")
    assert response.status_code == 409
    assert response.data["code"] == "audio_not_ready"


def test_approving_failed_audio_is_a_conflict(editor, approver, client_for, fake_render,
                                              django_capture_on_commit_callbacks):
    from broadcast.audio.errors import EngineError

    fake_render.fail_with = EngineError("Bộ đọc lỗi.")
    data = _submitted(client_for(editor), django_capture_on_commit_callbacks)
    audio = client_for(editor).get(f"{URL}{data['id']}/audio/").data
    assert audio["status"] == "failed" and audio["error"] == "Bộ đọc lỗi."
    assert client_for(approver).post(f"{URL}{data['id']}/approve/", {}, format="json").status_code == 409


def test_reject_requires_a_comment(editor, approver, client_for, fake_render, django_capture_on_commit_callbacks):
    data = _submitted(client_for(editor), django_capture_on_commit_callbacks)
    response = client_for(approver).post(f"{URL}{data['id']}/reject/", {"comment": "  "}, format="json")
    assert response.status_code == 400
    assert "comment" in response.data


def test_rejected_then_edited_opens_a_new_draft_revision_and_cannot_be_approved(
    editor, approver, client_for, fake_render, django_capture_on_commit_callbacks
):
    data = _submitted(client_for(editor), django_capture_on_commit_callbacks)
    rejected = client_for(approver).post(f"{URL}{data['id']}/reject/", {"comment": "Sai số liệu"}, format="json")
    assert rejected.status_code == 200 and rejected.data["status"] == "rejected"
    assert client_for(approver).post(f"{URL}{data['id']}/approve/", {}, format="json").status_code == 409

    edited = client_for(editor).patch(f"{URL}{data['id']}/", {"body": "Nội dung đã sửa số liệu."}, format="json")
    assert edited.status_code == 200, edited.data
    assert edited.data["status"] == "draft"
    assert edited.data["revision"] == 2
    history = client_for(approver).get(f"{URL}{data['id']}/history/").data
    assert [(h["from_status"], h["to_status"], h["revision"]) for h in history] == [
        ("", "draft", 1), ("draft", "in_review", 1), ("in_review", "rejected", 1), ("rejected", "draft", 2),
    ]
    assert history[2]["by"] == approver.username and history[2]["comment"] == "Sai số liệu"


def test_editing_an_approved_bulletin_keeps_the_approved_revision_airing(
    editor, approver, client_for, fake_render, django_capture_on_commit_callbacks
):
    data = _submitted(client_for(editor), django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        client_for(approver).post(f"{URL}{data['id']}/approve/", {}, format="json")
    response = client_for(editor).patch(
        f"{URL}{data['id']}/", {"body": "Bản cập nhật.", "priority": "emergency"}, format="json"
    )
    assert response.status_code == 200
    assert response.data["status"] == "draft" and response.data["revision"] == 2
    assert response.data["priority"] == "emergency"  # what is being proposed
    bulletin = Bulletin.objects.get(pk=data["id"])
    assert bulletin.live_revision.number == 1
    assert bulletin.live_revision.body == PAYLOAD["body"]
    # the escalation does not reach what airs until someone else approves it
    assert bulletin.priority == "normal"

    with django_capture_on_commit_callbacks(execute=True):
        client_for(editor).post(f"{URL}{data['id']}/submit/")
    with django_capture_on_commit_callbacks(execute=True):
        approved = client_for(approver).post(f"{URL}{data['id']}/approve/", {}, format="json")
    assert approved.status_code == 200
    bulletin.refresh_from_db()
    assert bulletin.live_revision.number == 2 and bulletin.priority == "emergency"


def test_only_the_author_edits_and_never_while_in_review(editor, other_editor, client_for, fake_render,
                                                         django_capture_on_commit_callbacks):
    data = _create(client_for(editor))
    assert client_for(other_editor).patch(f"{URL}{data['id']}/", {"title": "Khác"}, format="json").status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        client_for(editor).post(f"{URL}{data['id']}/submit/")
    assert client_for(editor).patch(f"{URL}{data['id']}/", {"title": "Khác"}, format="json").status_code == 409


def test_a_draft_edit_changes_the_same_revision(editor, client_for):
    data = _create(client_for(editor))
    response = client_for(editor).patch(f"{URL}{data['id']}/", {"title": "Tiêu đề mới"}, format="json")
    assert response.status_code == 200
    assert response.data["revision"] == 1 and response.data["title"] == "Tiêu đề mới"
    assert Bulletin.objects.get(pk=data["id"]).title == "Tiêu đề mới"


def test_archiving_stops_airing_and_is_final(editor, approver, client_for, fake_render,
                                             django_capture_on_commit_callbacks, live_changes):
    data = _submitted(client_for(editor), django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        client_for(approver).post(f"{URL}{data['id']}/approve/", {}, format="json")
        response = client_for(approver).post(f"{URL}{data['id']}/archive/", {}, format="json")
    assert response.status_code == 200 and response.data["status"] == "archived"
    assert Bulletin.objects.get(pk=data["id"]).live_revision is None
    assert live_changes == [data["id"], data["id"]]
    assert client_for(approver).post(f"{URL}{data['id']}/archive/", {}, format="json").status_code == 409
    assert client_for(editor).patch(f"{URL}{data['id']}/", {"title": "x"}, format="json").status_code == 409


def test_same_text_is_synthesized_once_across_bulletins(editor, other_editor, client_for, fake_render,
                                                        django_capture_on_commit_callbacks):
    first = _submitted(client_for(editor), django_capture_on_commit_callbacks)
    second = _submitted(client_for(other_editor), django_capture_on_commit_callbacks)
    a = Bulletin.objects.get(pk=first["id"]).current_revision.rendition_id
    b = Bulletin.objects.get(pk=second["id"]).current_revision.rendition_id
    assert a == b
    assert len(fake_render.calls) == 1
    assert AudioRendition.objects.count() == 1


def test_list_filters_and_searches(editor, client_for):
    client = client_for(editor)
    _create(client, title="Bão số 3", priority="emergency", category="emergency")
    _create(client, title="Tiêm chủng", body="Lịch tiêm chủng mở rộng tháng này.")
    assert client.get(URL, {"priority": "emergency"}).data["count"] == 1
    assert client.get(URL, {"search": "tiêm chủng mở rộng"}).data["count"] == 1
    assert client.get(URL, {"status": "draft"}).data["count"] == 2
    assert client.get(URL, {"status": "approved"}).data["count"] == 0


def test_district_operators_and_anonymous_cannot_read_bulletins(district_operator, client_for, api_client):
    assert client_for(district_operator).get(URL).status_code == 403
    assert api_client.get(URL).status_code in (401, 403)


def test_unknown_bulletin_is_404(editor, client_for):
    assert client_for(editor).get(f"{URL}999999/").status_code == 404


def test_list_query_count_does_not_grow_with_bulletins(editor, client_for, django_assert_max_num_queries):
    client = client_for(editor)
    for i in range(3):
        services.create_bulletin(editor, f"Tin {i}", "Nội dung.")
    with django_assert_max_num_queries(8) as small:
        client.get(URL)
    for i in range(30):
        services.create_bulletin(editor, f"Tin thêm {i}", "Nội dung.")
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(URL).data["count"] == 33


def test_a_patch_that_changes_nothing_gets_the_same_answer_as_an_edit(editor, client_for, fake_render,
                                                                      django_capture_on_commit_callbacks):
    data = _create(client_for(editor))
    with django_capture_on_commit_callbacks(execute=True):
        client_for(editor).post(f"{URL}{data['id']}/submit/")
    same = client_for(editor).patch(f"{URL}{data['id']}/", {"title": data["title"]}, format="json")
    assert same.status_code == 409  # in review: no edits, not even empty ones
