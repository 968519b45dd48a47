"""The editor: the live reading preview (spans, guesses, the spoken length against the services' limit),
each action through the page and the services, uploads, the lexicon, and errors as Vietnamese pages."""

from __future__ import annotations

import io
import subprocess

import pytest

from broadcast.models import AudioRendition, Bulletin, PronunciationEntry
from broadcast.selectors import bulletins as selectors
from broadcast.services import bulletins as services
from broadcast.services import rendering
from tests.broadcast.conftest import fake_render  # noqa: F401 - the audio pipeline's stand-in

pytestmark = pytest.mark.django_db
NEW = "/newsroom/bulletins/new/"
PREVIEW = "/newsroom/bulletins/preview/"
LEXICON = "/newsroom/bulletins/lexicon/"
TEXT = "Số 15/2025/NĐ-CP ngày 12/3/2025, 1.250 hộ được hỗ trợ."


def edit_url(bulletin: Bulletin) -> str:
    return f"/newsroom/bulletins/{bulletin.pk}/edit/"


def _form(**overrides: str) -> dict[str, str]:
    return {"title": "Thông báo hỗ trợ", "category": "policy", "priority": "high", "voice": "", "body": TEXT,
            "action": "save", **overrides}


@pytest.fixture
def signed_in(client, editor):
    client.force_login(editor)
    return client


# --- the preview


def test_preview_highlights_numbers_a_date_and_a_document_code_with_what_is_said(signed_in):
    response = signed_in.post(PREVIEW, {"title": "Thông báo", "body": TEXT}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    parts = [p for p in response.context["reading"]["parts"] if p.get("spoken")]
    by_text = {p["text"]: p for p in parts}
    assert by_text["15/2025/NĐ-CP"]["rule"] == "document_code"
    assert by_text["12/3/2025"]["rule"] == "date"
    assert by_text["1.250"]["rule"] == "number"
    for text, part in by_text.items():
        assert f"<span class=\"said\"> → {part['spoken']}</span>" in html
        assert f'title="Đọc là: {part["spoken"]}' in html
        assert f">{text}</button>" in html
    assert "nghìn" in by_text["1.250"]["spoken"] and "tháng ba" in by_text["12/3/2025"]["spoken"]


def test_preview_uses_the_apis_spans(signed_in, editor):
    bulletin = services.create_bulletin(editor, "Thông báo", TEXT)
    api = signed_in.get(f"/api/v1/bulletins/{bulletin.pk}/speakable/").json()
    reading = signed_in.post(PREVIEW, {"title": "Thông báo", "body": TEXT}).context["reading"]
    shown = [(p["start"], p["end"], p["spoken"], p["rule"]) for p in reading["parts"] if p.get("spoken")]
    assert shown == [(s["start"], s["end"], s["spoken"], s["rule"]) for s in api["spans"]]
    assert reading["length"] == len(api["text"])


def test_preview_warns_about_guesses(signed_in):
    reading = signed_in.post(PREVIEW, {"title": "Tin", "body": "Đoàn XKQZ về xã."}).context["reading"]
    assert reading["warnings"] and reading["warnings"][0]["source"] == "XKQZ"
    guessed = [p for p in reading["parts"] if p.get("guess")]
    assert guessed and guessed[0]["text"] == "XKQZ"


def test_counter_shows_the_spoken_length_against_the_services_limit(signed_in, settings):
    settings.LOA_AUDIO = {**settings.LOA_AUDIO, "MAX_TEXT_CHARS": 120}
    short = signed_in.post(PREVIEW, {"title": "Tin", "body": "Họp lúc 7 giờ."})
    assert short.context["reading"]["limit"] == selectors.speakable_limit() == 120
    assert "/ 120 ký tự" in short.content.decode()
    assert short.context["reading"]["length"] == len(rendering.speakable_for("Tin", "Họp lúc 7 giờ."))
    long = signed_in.post(PREVIEW, {"title": "Thông báo hỗ trợ", "body": "Số 1.250.000 hộ. " * 8})
    reading = long.context["reading"]
    assert reading["length"] > 120 and reading["error"]
    assert 'class="counter over"' in long.content.decode()
    # the same text is refused by the service when saving
    response = signed_in.post(NEW, _form(body="Số 1.250.000 hộ. " * 8))
    assert response.status_code == 400 and not Bulletin.objects.exists()
    assert reading["error"] in response.content.decode()


def test_preview_of_nothing_or_nonsense_is_a_hint_not_an_error(signed_in):
    assert signed_in.post(PREVIEW, {"title": "", "body": ""}).context["reading"]["empty"]
    reading = signed_in.post(PREVIEW, {"title": "", "body": "!!! ... 000"}).status_code
    assert reading == 200
    assert signed_in.get(PREVIEW).status_code == 405


# --- saving, submitting, withdrawing, deleting


def test_new_page_has_every_field_labelled_with_the_models_choices(signed_in):
    html = signed_in.get(NEW).content.decode()
    for field in ("title", "category", "priority", "voice", "body"):
        assert f'for="id_{field}"' in html
    for label in ("Thường", "Ưu tiên", "Khẩn cấp", "Chính sách", "Giọng mặc định"):
        assert label in html
    assert 'hx-trigger="keyup changed delay:400ms from:#id_title' in html and "csrfmiddlewaretoken" in html


def test_save_creates_a_draft_through_the_service_and_goes_to_its_page(signed_in, editor):
    response = signed_in.post(NEW, _form())
    bulletin = Bulletin.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/newsroom/bulletins/{bulletin.pk}/"
    assert (bulletin.status, bulletin.author, bulletin.priority, bulletin.category) == ("draft", editor, "high", "policy")
    assert bulletin.current_revision.body == TEXT and bulletin.transitions.count() == 1


def test_edit_saves_and_submits(signed_in, editor, fake_render):  # noqa: F811
    bulletin = services.create_bulletin(editor, "Tin cũ", "Nội dung cũ.")
    page = signed_in.get(edit_url(bulletin)).content.decode()
    assert "Tin cũ" in page and "Nội dung cũ." in page and "Xóa bản nháp" in page
    response = signed_in.post(edit_url(bulletin), _form(title="Tin mới", action="submit"))
    assert response.status_code == 302 and response["Location"] == f"/newsroom/bulletins/{bulletin.pk}/"
    bulletin.refresh_from_db()
    assert bulletin.status == "in_review" and bulletin.current_revision.title == "Tin mới"


def test_withdraw_from_review_then_delete_is_refused_once_submitted(signed_in, editor, fake_render):  # noqa: F811
    bulletin = services.submit(services.create_bulletin(editor, "Tin", "Nội dung."), editor)
    page = signed_in.get(edit_url(bulletin)).content.decode()
    assert "Rút lại để sửa" in page and "Xóa bản nháp" not in page and "<fieldset disabled>" in page
    saving = signed_in.post(edit_url(bulletin), _form())
    assert saving.status_code == 409 and "Không thể sửa bản tin" in saving.content.decode()
    response = signed_in.post(edit_url(bulletin), {"action": "withdraw", "comment": "Sửa số liệu."})
    assert response.status_code == 302 and response["Location"] == edit_url(bulletin)
    bulletin.refresh_from_db()
    assert bulletin.status == "draft" and bulletin.transitions.last().comment == "Sửa số liệu."
    refused = signed_in.post(edit_url(bulletin), {"action": "delete"})
    assert refused.status_code == 409 and "Không thể xóa bản tin đã gửi duyệt" in refused.content.decode()
    assert Bulletin.objects.filter(pk=bulletin.pk).exists()


def test_a_never_submitted_draft_is_deleted(signed_in, editor):
    bulletin = services.create_bulletin(editor, "Tin nháp", "Nội dung.")
    response = signed_in.post(edit_url(bulletin), {"action": "delete"})
    assert response.status_code == 302 and response["Location"] == "/newsroom/bulletins/"
    assert not Bulletin.objects.exists()


def test_another_editors_draft_is_a_vietnamese_403(client, editor, other_editor):
    bulletin = services.create_bulletin(editor, "Tin của tôi", "Nội dung.")
    client.force_login(other_editor)
    for response in (client.get(edit_url(bulletin)), client.post(edit_url(bulletin), _form()),
                     client.post(edit_url(bulletin), {"action": "delete"})):
        assert response.status_code == 403
        assert "Chỉ tác giả được sửa bản tin này." in response.content.decode()
    assert Bulletin.objects.get(pk=bulletin.pk).current_revision.title == "Tin của tôi"


def test_approvers_and_operators_cannot_open_the_editor(client, approver, district_operator, editor):
    bulletin = services.create_bulletin(editor, "Tin", "Nội dung.")
    for user in (approver, district_operator):
        client.force_login(user)
        for url in (NEW, edit_url(bulletin)):
            response = client.get(url)
            assert response.status_code == 403 and "Trang này chỉ dành cho" in response.content.decode()
        assert client.post(PREVIEW, {"title": "a", "body": "b"}).status_code == 403


def test_missing_bulletin_is_404(signed_in):
    assert signed_in.get("/newsroom/bulletins/999999/edit/").status_code == 404


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"title": ""}, "title", "Tiêu đề không được để trống."),
    ({"body": "   "}, "body", "Nội dung không được để trống."),
    ({"title": "x" * 301}, "title", "Tiêu đề tối đa 300 ký tự."),
    ({"category": "không-có"}, "category", None),
    ({"priority": "rất-cao"}, "priority", None),
])
def test_bad_input_is_a_400_page_with_the_message_beside_the_field(signed_in, overrides, field, message):
    response = signed_in.post(NEW, _form(**overrides))
    assert response.status_code == 400
    errors = response.context["form"].errors[field]
    assert errors
    if message:
        assert errors == [message]
        assert message in response.content.decode()
    assert not Bulletin.objects.exists()


def test_an_unknown_voice_is_refused_by_the_service_in_vietnamese(signed_in, settings):
    response = signed_in.post(NEW, _form(voice="giong-la"))
    assert response.status_code == 400 and not Bulletin.objects.exists()
    assert "giong-la" in response.content.decode()


def test_the_voice_list_is_the_engines(signed_in):
    html = signed_in.get(NEW).content.decode()
    for voice in selectors.available_voices():
        assert f'value="{voice}"' in html


def test_preview_button_without_javascript_renders_the_reading(signed_in):
    response = signed_in.post(NEW, _form(action="preview"))
    assert response.status_code == 200 and not Bulletin.objects.exists()
    assert "15/2025/NĐ-CP</button>" in response.content.decode()


def test_post_without_csrf_is_refused(editor):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(editor)
    assert client.post(NEW, _form()).status_code == 403
    assert not Bulletin.objects.exists()


def test_editor_query_count_is_constant(signed_in, editor, django_assert_max_num_queries):
    bulletin = services.create_bulletin(editor, "Tin", TEXT)
    with django_assert_max_num_queries(12):
        assert signed_in.get(edit_url(bulletin)).status_code == 200


# --- a recording instead of speech


def _wav(seconds: float = 1.0) -> io.BytesIO:
    data = subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", f"sine=frequency=330:duration={seconds}",
         "-ac", "1", "-ar", "16000", "-f", "wav", "pipe:1"], capture_output=True, check=True,
    ).stdout
    upload = io.BytesIO(data)
    upload.name = "ghi-am.wav"
    return upload


def test_upload_a_recording_through_the_service(signed_in, editor):
    bulletin = services.create_bulletin(editor, "Tin ghi âm", "Nội dung.")
    response = signed_in.post(f"/newsroom/bulletins/{bulletin.pk}/recording/", {"file": _wav()})
    assert response.status_code == 302 and response["Location"] == edit_url(bulletin)
    rendition = Bulletin.objects.get(pk=bulletin.pk).current_revision.rendition
    assert rendition.source == AudioRendition.Source.RECORDING
    assert "Dùng bản ghi âm" in signed_in.get(edit_url(bulletin)).content.decode()


def test_upload_errors_are_vietnamese_beside_the_file_field(signed_in, editor, settings):
    bulletin = services.create_bulletin(editor, "Tin", "Nội dung.")
    url = f"/newsroom/bulletins/{bulletin.pk}/recording/"
    garbage = io.BytesIO("Không phải âm thanh.\n".encode() * 200)
    garbage.name = "ghi-am.mp3"
    response = signed_in.post(url, {"file": garbage})
    assert response.status_code == 400
    assert response.context["recording_form"].errors["file"]
    settings.LOA_AUDIO = {**settings.LOA_AUDIO, "MAX_UPLOAD_MB": 0.001}
    big = io.BytesIO(b"\0" * 5000)
    big.name = "lon.wav"
    response = signed_in.post(url, {"file": big})
    assert response.status_code == 413 and 'data-testid="file-error"' in response.content.decode()
    missing = signed_in.post(url, {})
    assert missing.status_code == 400 and missing.context["recording_form"].errors["file"]
    assert not AudioRendition.objects.exists()


# --- the lexicon from a highlighted word


def test_lexicon_entry_added_by_htmx_tells_the_preview_to_read_again(signed_in, editor):
    response = signed_in.post(LEXICON, {"term": "NĐ-CP", "spoken": "nghị định chính phủ"},
                              headers={"HX-Request": "true"})
    assert response.status_code == 200 and response["HX-Trigger"] == "lexicon-changed"
    entry = PronunciationEntry.objects.get()
    assert (entry.term, entry.spoken, entry.created_by) == ("NĐ-CP", "nghị định chính phủ", editor)
    assert "Đã thêm" in response.content.decode()
    reading = signed_in.post(PREVIEW, {"title": "Tin", "body": "Theo HĐND xã."}).context["reading"]
    assert reading["parts"]
    signed_in.post(LEXICON, {"term": "HĐND", "spoken": "hội đồng dân"}, headers={"HX-Request": "true"})
    reading = signed_in.post(PREVIEW, {"title": "Tin", "body": "Theo HĐND xã."}).context["reading"]
    assert [p["spoken"] for p in reading["parts"] if p.get("text") == "HĐND"] == ["hội đồng dân"]


def test_lexicon_errors_are_400_in_vietnamese(signed_in):
    response = signed_in.post(LEXICON, {"term": "  ", "spoken": "x"}, headers={"HX-Request": "true"})
    assert response.status_code == 400 and "HX-Trigger" not in response
    signed_in.post(LEXICON, {"term": "UBND", "spoken": "ủy ban"}, headers={"HX-Request": "true"})
    duplicate = signed_in.post(LEXICON, {"term": "UBND", "spoken": "ủy ban"}, headers={"HX-Request": "true"})
    assert duplicate.status_code == 400 and "đã tồn tại" in duplicate.content.decode()
    assert PronunciationEntry.objects.count() == 1


def test_lexicon_without_javascript_returns_to_the_page(signed_in):
    response = signed_in.post(LEXICON, {"term": "TTYT", "spoken": "trung tâm y tế", "next": "/newsroom/bulletins/new/"})
    assert response.status_code == 302 and response["Location"] == "/newsroom/bulletins/new/"
    evil = signed_in.post(LEXICON, {"term": "X1", "spoken": "ích một", "next": "https://evil.example/"})
    assert evil["Location"] == NEW


def test_only_editors_add_lexicon_entries(client, approver):
    client.force_login(approver)
    assert client.post(LEXICON, {"term": "A", "spoken": "a"}).status_code == 403
    assert not PronunciationEntry.objects.exists()


def test_editing_an_approved_bulletin_opens_a_new_revision_and_the_approved_one_keeps_airing(signed_in, editor,
                                                                                             approver):
    from tests.factories import approved_bulletin

    bulletin = approved_bulletin(title="Lịch tiêm chủng", author=editor, approver=approver)
    page = signed_in.get(edit_url(bulletin)).content.decode()
    assert 'data-testid="new-revision"' in page
    response = signed_in.post(edit_url(bulletin), _form(title="Lịch tiêm chủng", body="Lịch mới: 7 giờ sáng."))
    assert response.status_code == 302
    bulletin.refresh_from_db()
    assert bulletin.status == "draft" and bulletin.current_revision.number == 2
    assert bulletin.live_revision.number == 1 and bulletin.live_revision.body != "Lịch mới: 7 giờ sáng."


def test_submit_from_the_new_page_that_the_service_refuses_keeps_the_draft_and_says_why(signed_in, settings,
                                                                                     monkeypatch):
    from broadcast.services.bulletins import drafting

    def refuse(*args, **kwargs):  # noqa: ANN002, ANN003
        raise services.InvalidInput("Bộ đọc không có giọng này.", field="voice")

    monkeypatch.setattr(drafting, "_validate_voice", lambda voice: None)
    monkeypatch.setattr(services, "submit", refuse)
    response = signed_in.post(NEW, _form(action="submit"), follow=True)
    bulletin = Bulletin.objects.get()
    assert bulletin.status == "draft"
    assert response.redirect_chain[-1][0] == edit_url(bulletin)
    assert "Đã lưu bản nháp nhưng chưa gửi duyệt được: Bộ đọc không có giọng này." in response.content.decode()
