"""A bulletin's own page: text and facts per status, the audio (player of the exact file, duration,
loudness, waveform), rendering progress polled without a reload and its retry, history with comments,
where it has aired, permissions and a constant query count."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from broadcast.models import AudioRendition, Bulletin, BulletinTransition, Schedule
from broadcast.services import bulletins as services
from broadcast.services.reports import ingest_reports
from stations.models import District
from tests.broadcast.factories_reports import make_playlist, report
from tests.factories import (
    CommuneOperatorFactory,
    DistrictFactory,
    DistrictOperatorFactory,
    ReadyRenditionFactory,
    StationFactory,
    UserFactory,
    approved_bulletin,
)
from tests.newsroom.pages import signed_in
from tests.newsroom.pages import visible_text as text

pytestmark = pytest.mark.django_db


def page(user, bulletin: Bulletin) -> str:
    response = signed_in(user).get(f"/newsroom/bulletins/{bulletin.pk}/")
    assert response.status_code == 200, response.content[:500]
    return response.content.decode()


def fragment(user, bulletin: Bulletin, **headers) -> str:
    response = signed_in(user).get(f"/newsroom/bulletins/{bulletin.pk}/audio/", HTTP_HX_REQUEST="true", **headers)
    assert response.status_code == 200
    return response.content.decode()


def draft(author, title: str = "Thông báo lịch tiêm chủng", body: str = "Tiêm chủng lúc 8 giờ ngày 15/4.") -> Bulletin:
    return services.create_bulletin(author, title, body, category="health", priority="high")


def _rendition_of(bulletin: Bulletin) -> AudioRendition:
    bulletin.refresh_from_db()
    return bulletin.current_revision.rendition


# --- content per status ------------------------------------------------------------------------------------


def test_a_draft_shows_its_facts_in_vietnamese_and_no_audio_yet(editor):
    bulletin = draft(editor)
    html = page(editor, bulletin)
    shown = text(html)
    assert '<html lang="vi">' in html
    for words in ("Thông báo lịch tiêm chủng", "Y tế", "Ưu tiên", "Bản nháp", "Tiêm chủng lúc 8 giờ ngày 15/4.",
                  "Chưa có âm thanh", "Tạo bản nháp", "phiên bản 1", "Chưa có lịch phát"):
        assert words in shown, words
    assert "hx-trigger" not in html  # nothing is being made: no polling


def test_a_submitted_bulletin_polls_while_its_audio_waits(editor):
    bulletin = draft(editor)
    services.submit(bulletin, editor)  # the render task runs on commit: never here, so it stays queued
    html = page(editor, bulletin)
    assert "Chờ duyệt" in text(html) and "Gửi duyệt" in text(html)
    assert 'hx-trigger="every 2s"' in html
    assert f'hx-get="/newsroom/bulletins/{bulletin.pk}/audio/"' in html
    assert 'aria-current="step">Đang chờ<' in html
    assert "<audio" not in html


def test_a_ready_bulletin_plays_the_exact_file_the_api_serves_with_duration_loudness_and_waveform(approver):
    bulletin = approved_bulletin(seconds=2.0)
    rendition = bulletin.current_revision.rendition
    AudioRendition.objects.filter(pk=rendition.pk).update(
        loudness_lufs=-16.04, true_peak_dbtp=-1.52, duration_ms=83_400, waveform=[0, 50, 100, 25])
    html = page(approver, bulletin)
    url = f"/api/v1/renditions/{rendition.pk}/file.mp3"
    assert f'src="{url}"' in html and "<audio" in html and "controls" in html
    assert f'data-sha256="{rendition.sha256}"' in html
    shown = text(html)
    assert "01:23" in shown and "-16,0 LUFS" in shown and "-1,5 dBTP" in shown and "Đã duyệt" in shown
    assert 'viewBox="0 0 4 100"' in html and 'd="M0 49.5h0.8v1h-0.8zM1 25h0.8v50h-0.8z' in html
    assert "hx-trigger" not in html
    # The same session fetches that file (the API's route, staff session access).
    audio = signed_in(approver).get(url)
    assert audio.status_code == 200 and audio["Content-Type"] == "audio/mpeg"
    assert b"".join(audio.streaming_content)[:3] in (b"ID3", b"\xff\xfb", b"\xff\xf3")


def test_a_rendition_made_before_waveforms_were_stored_says_so(approver):
    html = page(approver, approved_bulletin())
    assert "Chưa có hình sóng" in text(html) and "<svg" not in html


def test_links_to_the_next_step_follow_the_workflow_rules(editor, other_editor, approver):
    bulletin = draft(editor)
    edit, review = f"/newsroom/bulletins/{bulletin.pk}/edit/", f"/newsroom/review/{bulletin.pk}/"
    assert edit in page(editor, bulletin) and edit not in page(other_editor, bulletin)
    services.submit(bulletin, editor)
    assert edit not in page(editor, bulletin)  # in review: frozen
    assert review in page(approver, bulletin) and review not in page(editor, bulletin)
    both = UserFactory(username="bientap-duyet", roles=["editor", "approver"])
    own = draft(both)
    services.submit(own, both)
    assert f"/newsroom/review/{own.pk}/" not in page(both, own)  # nobody reviews their own


# --- the waveform is made once, at render ----------------------------------------------------------------


def test_a_render_of_real_text_stores_a_waveform_once_and_viewing_never_recomputes(
    editor, approver, settings, django_capture_on_commit_callbacks, monkeypatch
):
    settings.LOA_AUDIO = {**settings.LOA_AUDIO, "ENGINE": "espeak", "DEFAULT_CHIME": False}
    bulletin = draft(editor, body="UBND phường thông báo lịch tiêm chủng ngày 15/4/2024.")
    with django_capture_on_commit_callbacks(execute=True):
        services.submit(bulletin, editor)
    rendition = _rendition_of(bulletin)
    assert rendition.status == "ready" and len(rendition.waveform) == 200 and max(rendition.waveform) > 30
    stored = list(rendition.waveform)

    from broadcast.audio.render import waveform

    def refuse(*args, **kwargs):
        raise AssertionError("the page must not compute a waveform")

    monkeypatch.setattr(waveform, "peaks", refuse)
    monkeypatch.setattr(waveform.WaveformMeter, "feed", refuse)
    for _ in range(2):
        html = page(approver, bulletin)
        assert html.count("<path d=") == 1
    rendition.refresh_from_db()
    assert rendition.waveform == stored


def test_an_uploaded_recording_gets_its_waveform_at_render(editor, django_capture_on_commit_callbacks):
    import subprocess

    from django.core.files.uploadedfile import SimpleUploadedFile

    wav = subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "sine=frequency=330:duration=2",
         "-ac", "1", "-ar", "16000", "-f", "wav", "pipe:1"], capture_output=True, check=True,
    ).stdout
    bulletin = draft(editor)
    with django_capture_on_commit_callbacks(execute=True):
        services.attach_recording(bulletin, editor, SimpleUploadedFile("ghi-am.wav", wav, "audio/wav"),
                                  size=len(wav))
    rendition = _rendition_of(bulletin)
    assert rendition.source == "recording" and rendition.status == "ready"
    assert len(rendition.waveform) == 200 and max(rendition.waveform) > 30


# --- progress without reload ---------------------------------------------------------------------------------


def _submitted(editor) -> tuple[Bulletin, AudioRendition]:
    bulletin = draft(editor)
    services.submit(bulletin, editor)
    return bulletin, _rendition_of(bulletin)


def test_the_fragment_follows_queued_rendering_ready_and_stops_polling(editor, approver):
    bulletin, rendition = _submitted(editor)
    queued = fragment(approver, bulletin)
    assert 'hx-trigger="every 2s"' in queued and 'aria-current="step">Đang chờ<' in queued
    assert "<html" not in queued  # a fragment, not a page

    AudioRendition.objects.filter(pk=rendition.pk).update(status="rendering", started_at=timezone.now(),
                                                          heartbeat_at=timezone.now())
    rendering = fragment(approver, bulletin)
    assert 'hx-trigger="every 2s"' in rendering and 'aria-current="step">Đang tạo âm thanh<' in rendering
    assert "Thử lại" not in rendering  # its worker is alive and on time

    ready = ReadyRenditionFactory(seconds=1.0)
    AudioRendition.objects.filter(pk=rendition.pk).update(
        status="ready", file=ready.file, sha256=ready.sha256, duration_ms=1000, waveform=[10] * 200)
    done = fragment(approver, bulletin)
    assert "hx-trigger" not in done and "hx-get" not in done  # the final state stops the polling
    assert "<audio" in done and "00:01" in done


def test_a_failure_says_what_went_wrong_and_what_to_do_and_stops_polling(editor, approver):
    bulletin, rendition = _submitted(editor)
    AudioRendition.objects.filter(pk=rendition.pk).update(status="failed", error="Bộ đọc espeak không chạy được.")
    html = fragment(editor, bulletin)
    shown = text(html)
    assert "hx-trigger" not in html
    assert "Không tạo được âm thanh" in shown and "Bộ đọc espeak không chạy được." in shown
    assert "Thử lại" in shown and "bản ghi âm" in shown
    assert f'hx-post="/newsroom/bulletins/{bulletin.pk}/audio/retry/"' in html


def test_retry_queues_the_render_again_and_the_block_polls_again(editor, approver):
    bulletin, rendition = _submitted(editor)
    AudioRendition.objects.filter(pk=rendition.pk).update(status="failed", error="Hỏng.")
    response = signed_in(approver).post(f"/newsroom/bulletins/{bulletin.pk}/audio/retry/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'hx-trigger="every 2s"' in html and "Đang chờ" in html
    rendition.refresh_from_db()
    assert rendition.status == "pending" and rendition.error == ""


def test_retry_without_javascript_goes_back_to_the_page(editor):
    bulletin, rendition = _submitted(editor)
    AudioRendition.objects.filter(pk=rendition.pk).update(status="failed", error="Hỏng.")
    response = signed_in(editor).post(f"/newsroom/bulletins/{bulletin.pk}/audio/retry/")
    assert response.status_code == 302 and response["Location"] == f"/newsroom/bulletins/{bulletin.pk}/"


def test_retry_of_audio_that_is_fine_is_refused_in_vietnamese(editor):
    bulletin, _ = _submitted(editor)  # pending: nothing to retry
    response = signed_in(editor).post(f"/newsroom/bulletins/{bulletin.pk}/audio/retry/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Chỉ xử lý lại được bản âm thanh bị lỗi hoặc bị treo." in response.content.decode()
    plain = signed_in(editor).post(f"/newsroom/bulletins/{bulletin.pk}/audio/retry/")
    assert plain.status_code == 409 and "bị lỗi hoặc bị treo" in plain.content.decode()


def test_the_retry_button_and_route_only_for_editors_and_approvers(editor, supervisor):
    bulletin, rendition = _submitted(editor)
    AudioRendition.objects.filter(pk=rendition.pk).update(status="failed", error="Hỏng.")
    html = fragment(supervisor, bulletin)
    assert "Không tạo được âm thanh" in html and "Thử lại" not in html and "hx-post" not in html
    assert "Hãy báo biên tập viên" in html
    refused = signed_in(supervisor).post(f"/newsroom/bulletins/{bulletin.pk}/audio/retry/")
    assert refused.status_code == 403 and "Chỉ biên tập viên hoặc người duyệt" in refused.content.decode()
    rendition.refresh_from_db()
    assert rendition.status == "failed"


def test_a_render_stuck_past_its_time_offers_the_retry_while_still_polling(editor, settings):
    bulletin, rendition = _submitted(editor)
    long_ago = timezone.now() - dt.timedelta(seconds=settings.BULLETIN_RENDER_STUCK_SECONDS + 60)
    AudioRendition.objects.filter(pk=rendition.pk).update(status="rendering", started_at=long_ago,
                                                          heartbeat_at=timezone.now())
    html = fragment(editor, bulletin)
    assert 'hx-trigger="every 2s"' in html and "Thử lại" in html and "quá lâu" in html


# --- history ----------------------------------------------------------------------------------------------


def test_history_names_who_did_what_when_with_comments_and_revisions(editor, approver):
    editor.first_name, editor.last_name = "Lan", "Nguyễn"
    editor.save()
    bulletin, rendition = _submitted(editor)
    ready = ReadyRenditionFactory(seconds=1.0)
    AudioRendition.objects.filter(pk=rendition.pk).update(status="ready", file=ready.file, sha256=ready.sha256)
    services.reject(bulletin, approver, comment="Sai ngày tiêm, kiểm tra lại.")
    services.edit_bulletin(bulletin, editor, body="Tiêm chủng lúc 9 giờ ngày 16/4.")
    shown = text(page(editor, bulletin))
    history = shown[shown.index("Lịch sử"):shown.index("Phát sóng")]
    for words in ("Tạo bản nháp", "Gửi duyệt", "Trả lại", "Sai ngày tiêm, kiểm tra lại.", "kiemduyet", "Lan"):
        assert words in history, words
    assert history.index("Tạo bản nháp") < history.index("Gửi duyệt") < history.index("Trả lại")
    assert "phiên bản 1" in history
    assert re.search(r"\d\d:\d\d \d\d/\d\d/\d{4}", history)


# --- where it has aired ------------------------------------------------------------------------------------


@pytest.fixture
def aired(supervisor):
    """An approved bulletin scheduled yesterday on two stations: 3 of 4 plays reported, one failed."""
    bulletin = approved_bulletin(title="Phòng cháy chữa cháy")
    day = timezone.localdate() - dt.timedelta(days=1)
    district = DistrictFactory(code="009", name="Cầu Giấy")
    a, b = StationFactory(district=district, code="CG1"), StationFactory(district=district, code="CG2")
    Schedule.objects.create(bulletin=bulletin, start_date=day, end_date=day, slots=["morning", "evening"],
                            targets={"districts": ["009"], "stations": ["CG1"]}, target_station_count=2,
                            created_by=supervisor)
    items = {s.code: make_playlist(s, day, [bulletin]) for s in (a, b)}
    ingest_reports(a, [report(it, f"a{i}") for i, it in enumerate(items["CG1"])])
    ingest_reports(b, [report(items["CG2"][0], "b0", "failed")])
    return bulletin, items


def test_airing_summarizes_schedules_stations_and_plays(aired, supervisor):
    bulletin, items = aired
    expected = len(items["CG1"]) + len(items["CG2"])
    shown = text(page(supervisor, bulletin))
    airing = shown[shown.index("Phát sóng"):]
    played = len(items["CG1"])
    assert f"Đã phát {played} / {expected} lượt dự kiến" in airing
    assert "1 lượt lỗi" in airing and "1 / 2 đài đã phát" in airing
    assert "1 quận/huyện (bản đồ cũ), 1 đài" in airing and "Đang hiệu lực" in airing


def test_a_bulletin_never_scheduled_says_so(approver):
    assert "Chưa có lịch phát" in text(page(approver, approved_bulletin()))


# --- permissions ------------------------------------------------------------------------------------------


def test_signed_out_goes_to_login(editor):
    bulletin = draft(editor)
    response = Client().get(f"/newsroom/bulletins/{bulletin.pk}/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=")


def test_an_operator_reads_only_what_airs_for_them_and_gets_no_player(aired):
    bulletin, _ = aired
    outsider = CommuneOperatorFactory().user
    missing = signed_in(outsider).get(f"/newsroom/bulletins/{bulletin.pk}/")
    assert missing.status_code == 404
    assert "<html" in missing.content.decode().lower() and "Không tìm thấy" in missing.content.decode()
    operator = DistrictOperatorFactory(district=District.objects.get(code="009")).user
    html = page(operator, bulletin)
    assert "Phòng cháy chữa cháy" in html and "<audio" not in html
    assert "chỉ tòa soạn" in text(html)


def test_a_user_without_a_staff_role_gets_the_vietnamese_403(editor):
    bulletin = draft(editor)
    nobody = UserFactory(username="khach", roles=[])
    response = signed_in(nobody).get(f"/newsroom/bulletins/{bulletin.pk}/")
    assert response.status_code == 403 and "quyền" in response.content.decode()


def test_an_unknown_bulletin_is_a_vietnamese_404(editor):
    response = signed_in(editor).get("/newsroom/bulletins/999999/")
    assert response.status_code == 404 and "Không tìm thấy" in response.content.decode()


# --- constant queries -----------------------------------------------------------------------------------


def test_the_page_costs_the_same_queries_with_more_history_and_schedules(
    aired, supervisor, approver, django_assert_max_num_queries
):
    bulletin, _ = aired
    client = signed_in(supervisor)
    client.get(f"/newsroom/bulletins/{bulletin.pk}/")  # warm: sessions, content types
    with CaptureQueriesContext(connection) as few:
        assert client.get(f"/newsroom/bulletins/{bulletin.pk}/").status_code == 200
    for _ in range(5):  # more transitions and schedules, more stations and plays
        Schedule.objects.create(bulletin=bulletin, start_date=timezone.localdate(), end_date=timezone.localdate(),
                                slots=["morning"], targets={"all": True}, created_by=supervisor)
        station = StationFactory()
        make_playlist(station, timezone.localdate(), [bulletin])
    for n in range(5):
        BulletinTransition.objects.create(bulletin=bulletin, revision=bulletin.current_revision,
                                          from_status="approved", to_status="approved", by=approver,
                                          at=timezone.now(), comment=f"Ghi chú {n}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get(f"/newsroom/bulletins/{bulletin.pk}/").content.decode()
    assert html.count("Ghi chú") == 5 and html.count("Đang hiệu lực") == 6


def test_the_polling_fragment_is_a_few_queries(editor, django_assert_max_num_queries):
    bulletin, _ = _submitted(editor)
    client = signed_in(editor)
    client.get(f"/newsroom/bulletins/{bulletin.pk}/audio/")
    with django_assert_max_num_queries(6):
        client.get(f"/newsroom/bulletins/{bulletin.pk}/audio/", HTTP_HX_REQUEST="true")


def test_waveform_path_on_the_model():
    rendition = AudioRendition(waveform=[0, 100], duration_ms=3_725_000)
    assert rendition.waveform_path == "M0 49.5h0.8v1h-0.8zM1 0h0.8v100h-0.8z"
    assert rendition.duration_label == "1:02:05"
    assert AudioRendition(duration_ms=None).duration_label == ""
