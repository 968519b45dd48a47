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


def test_district_operators_read_no_bulletin_that_does_not_air_in_their_district(
    district_operator, editor, client_for, api_client,
):
    draft = services.create_bulletin(editor, "Tin nội bộ", "Nội dung.")
    assert client_for(district_operator).get(URL).json()["results"] == []
    assert client_for(district_operator).get(f"{URL}{draft.pk}/").status_code == 404
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


# ------------------------------------------------------------- limits checked where the editor can fix them


def _limit(settings, chars: int) -> None:  # noqa: ANN001
    settings.LOA_AUDIO = {**settings.LOA_AUDIO, "MAX_TEXT_CHARS": chars}


def test_a_megabyte_body_is_refused_at_create_and_nothing_is_stored(editor, client_for):
    response = client_for(editor).post(URL, {**PAYLOAD, "body": "Thông báo. " * 120_000}, format="json")
    assert response.status_code == 400 and "quá dài" in response.data["body"][0]
    assert not Bulletin.objects.exists()


def test_a_body_whose_spoken_form_is_over_the_limit_is_refused_at_create(editor, client_for, settings):
    _limit(settings, 200)
    body = "Số điện thoại 0912345678, mã 123456789. " * 4  # under 200 characters written, far over spoken
    assert len(body) < 200
    response = client_for(editor).post(URL, {**PAYLOAD, "body": body}, format="json")
    assert response.status_code == 400, response.data
    assert "đọc" in response.data["body"][0] and "200" in response.data["body"][0]
    assert not Bulletin.objects.exists()


def test_an_edit_over_the_limit_is_refused_and_the_text_is_kept(editor, client_for, settings):
    data = _create(client_for(editor))
    _limit(settings, 200)
    response = client_for(editor).patch(f"{URL}{data['id']}/", {"body": "Nội dung dài. " * 30}, format="json")
    assert response.status_code == 400 and "body" in response.data
    assert Bulletin.objects.get(pk=data["id"]).current_revision.body == PAYLOAD["body"]


def test_a_voice_the_engine_does_not_have_is_refused_at_create_and_edit(editor, client_for):
    response = client_for(editor).post(URL, {**PAYLOAD, "voice": "en-klingon"}, format="json")
    assert response.status_code == 400 and "en-klingon" in response.data["voice"][0]
    data = _create(client_for(editor), voice="vi-vn-x-south")
    response = client_for(editor).patch(f"{URL}{data['id']}/", {"voice": "en-klingon"}, format="json")
    assert response.status_code == 400 and "Giọng đọc" in response.data["voice"][0]


def test_submit_refuses_a_voice_the_configured_engine_no_longer_has(editor, client_for, settings, fake_render):
    data = _create(client_for(editor), voice="vi-vn-x-south")
    settings.LOA_AUDIO = {**settings.LOA_AUDIO, "ENGINE": "gtts"}  # gTTS reads only "vi"
    response = client_for(editor).post(f"{URL}{data['id']}/submit/")
    assert response.status_code == 400 and "voice" in response.data
    assert Bulletin.objects.get(pk=data["id"]).status == "draft"
    assert fake_render.calls == []


# ------------------------------------------------------------------------------- withdraw and delete


def test_the_author_withdraws_a_bulletin_from_review_back_to_draft(editor, client_for, fake_render,
                                                                   django_capture_on_commit_callbacks):
    data = _submitted(client_for(editor), django_capture_on_commit_callbacks)
    response = client_for(editor).post(f"{URL}{data['id']}/withdraw/", {"comment": "Sửa lại số liệu"},
                                       format="json")
    assert response.status_code == 200, response.data
    assert response.data["status"] == "draft"
    history = client_for(editor).get(f"{URL}{data['id']}/history/").data
    assert (history[-1]["from_status"], history[-1]["to_status"]) == ("in_review", "draft")
    assert history[-1]["by"] == editor.username and history[-1]["comment"] == "Sửa lại số liệu"
    # editable again, and submittable again
    assert client_for(editor).patch(f"{URL}{data['id']}/", {"title": "Tin đã sửa"}, format="json").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        assert client_for(editor).post(f"{URL}{data['id']}/submit/").status_code == 200


def test_only_the_author_withdraws_and_only_from_review(editor, other_editor, approver, client_for, fake_render,
                                                        django_capture_on_commit_callbacks):
    data = _submitted(client_for(editor), django_capture_on_commit_callbacks)
    response = client_for(other_editor).post(f"{URL}{data['id']}/withdraw/")
    assert response.status_code == 403 and "tác giả" in response.data["detail"]
    assert client_for(approver).post(f"{URL}{data['id']}/withdraw/").status_code == 403
    draft = _create(client_for(editor))
    response = client_for(editor).post(f"{URL}{draft['id']}/withdraw/")
    assert response.status_code == 409 and "Bản nháp" in response.data["detail"]


def test_the_author_deletes_a_draft_never_submitted(editor, client_for):
    data = _create(client_for(editor))
    client_for(editor).patch(f"{URL}{data['id']}/", {"title": "Tin khác"}, format="json")
    assert client_for(editor).delete(f"{URL}{data['id']}/").status_code == 204
    assert not Bulletin.objects.filter(pk=data["id"]).exists()
    assert not BulletinTransition.objects.filter(bulletin_id=data["id"]).exists()


def test_others_cannot_delete_and_a_submitted_bulletin_is_never_deleted(editor, other_editor, approver, client_for,
                                                                        fake_render,
                                                                        django_capture_on_commit_callbacks):
    draft = _create(client_for(editor))
    response = client_for(other_editor).delete(f"{URL}{draft['id']}/")
    assert response.status_code == 403 and "tác giả" in response.data["detail"]
    assert client_for(approver).delete(f"{URL}{draft['id']}/").status_code == 403
    submitted = _submitted(client_for(editor), django_capture_on_commit_callbacks)
    client_for(editor).post(f"{URL}{submitted['id']}/withdraw/")  # a draft again, but it was submitted
    response = client_for(editor).delete(f"{URL}{submitted['id']}/")
    assert response.status_code == 409 and "đã gửi duyệt" in response.data["detail"]
    assert Bulletin.objects.filter(pk__in=[draft["id"], submitted["id"]]).count() == 2


def test_withdraw_and_delete_rules_live_on_the_bulletin(editor, other_editor):
    bulletin = services.create_bulletin(editor, "Tin", "Nội dung.")
    assert bulletin.can_delete(editor) and not bulletin.can_delete(other_editor)
    assert not bulletin.can_withdraw(editor)
