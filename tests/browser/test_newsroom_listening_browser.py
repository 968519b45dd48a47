"""Browser tier: a bulletin's page in Chromium. Its audio, rendered by the real offline pipeline (espeak),
loads in the player (duration known to the browser) beside its waveform; a queued rendition's progress
updates in place (queued → rendering → ready, no reload) and the polling stops once ready; a failure
says why and offers "Thử lại", which makes the audio again. Screenshots under test-output/newsroom/."""

from __future__ import annotations

import pytest

from tests.browser.chromium import AUTOPLAY, launch, needs_chromium, sign_in_at
from tests.browser.chromium import NEWSROOM_SHOTS as SHOTS

pytestmark = [
    needs_chromium,
    pytest.mark.django_db(transaction=True),
]

AUDIO_LOADED = """() => {
  const a = document.querySelector('#player-audio');
  return a !== null && a.readyState >= 1 && a.duration > 0;
}"""


def _bulletins(monkeypatch):
    """Two submitted bulletins: the first rendered for real at submit (tasks run eagerly on commit), the
    second left queued (its render task not sent)."""
    from broadcast.models import AudioRendition
    from broadcast.services import bulletins as services
    from broadcast.services import rendering
    from tests.factories import UserFactory

    editor = UserFactory(username="bientap-nghe", first_name="Lan", last_name="Nguyễn", roles=["editor"])
    approver = UserFactory(username="kiemduyet-nghe", first_name="Minh", last_name="Trần", roles=["approver"])
    ready = services.create_bulletin(
        editor, "Lịch tiêm chủng tháng 12", "UBND phường thông báo lịch tiêm chủng ngày 15/12/2026 tại trạm y tế.",
        category="health", priority="high")
    services.submit(ready, editor)
    queued = services.create_bulletin(
        editor, "Họp tổ dân phố số 5", "Họp tổ dân phố lúc 19 giờ ngày 5/12 tại nhà văn hóa.")
    with monkeypatch.context() as m:
        m.setattr(rendering, "enqueue_render", lambda rendition_id: None)
        services.submit(queued, editor)
    failed = services.create_bulletin(editor, "Cắt điện khu phố 3", "Cắt điện từ 8 giờ đến 11 giờ ngày 6/12.")
    with monkeypatch.context() as m:
        m.setattr(rendering, "enqueue_render", lambda rendition_id: None)
        services.submit(failed, editor)
    failed.refresh_from_db()
    AudioRendition.objects.filter(pk=failed.current_revision.rendition_id).update(
        status="failed", error="Bộ đọc tạm thời lỗi.")
    return editor, approver, ready, queued, failed


def _aired(editor, approver):
    """Sent back once with a comment, then approved on revision 2, scheduled yesterday on two stations
    (one played both slots, the other one slot, its other play failed)."""
    import datetime as dt

    from django.utils import timezone

    from broadcast.models import Schedule
    from broadcast.services import bulletins as services
    from broadcast.services.reports import ingest_reports
    from tests.broadcast.factories_reports import make_playlist, report
    from tests.factories import DistrictFactory, StationFactory, UserFactory

    bulletin = services.create_bulletin(editor, "Lịch cắt điện phường Nghĩa Đô",
                                        "Cắt điện từ 8 giờ đến 11 giờ ngày 6/12.", category="other")
    services.submit(bulletin, editor)
    services.reject(bulletin, approver, "Ghi rõ giờ cắt điện.")
    services.edit_bulletin(bulletin, editor, body="Cắt điện từ 8 giờ đến 11 giờ 30 ngày 6/12 để sửa đường dây.")
    services.submit(bulletin, editor)  # rendered at once (tasks run eagerly on commit)
    bulletin.refresh_from_db()
    heard = bulletin.current_revision.rendition.sha256
    services.approve(bulletin, approver, comment="Đồng ý phát.", heard_sha256=heard)
    bulletin.refresh_from_db()
    supervisor = UserFactory(username="giamsat-nghe", roles=["supervisor"])
    day = timezone.localdate() - dt.timedelta(days=1)
    district = DistrictFactory(code="005", name="Quận Cầu Giấy")
    a, b = StationFactory(district=district, code="CG01"), StationFactory(district=district, code="CG02")
    Schedule.objects.create(bulletin=bulletin, start_date=day, end_date=day, slots=["morning", "evening"],
                            targets={"districts": ["005"]}, target_station_count=2, created_by=supervisor)
    items = {s.code: make_playlist(s, day, [bulletin], slots=("morning", "evening")) for s in (a, b)}
    ingest_reports(a, [report(it, f"a{n}") for n, it in enumerate(items["CG01"])])
    ingest_reports(b, [report(items["CG02"][0], "b0"), report(items["CG02"][1], "b1", "failed")])
    return bulletin


def test_the_bulletin_page_plays_its_audio_and_follows_rendering_without_reload(live_server, monkeypatch, settings):
    from django.utils import timezone
    from playwright.sync_api import expect, sync_playwright

    from broadcast.models import AudioRendition
    from broadcast.services.rendering import render_rendition

    settings.LOA_AUDIO = {**settings.LOA_AUDIO, "ENGINE": "espeak", "DEFAULT_CHIME": False}
    # Playwright's sync API runs an event loop in this thread, and the test reads the ORM meanwhile.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    editor, approver, ready, queued, failed = _bulletins(monkeypatch)
    ready.refresh_from_db()
    queued.refresh_from_db()
    assert ready.current_revision.rendition.status == "ready"
    base = live_server.url
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = launch(pw, AUTOPLAY)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000}, locale="vi-VN")
            sign_in_at(page, base, f"/newsroom/bulletins/{ready.pk}/", approver.username)
            assert page.get_attribute("html", "lang") == "vi"

            # Ready at once: the exact file the API serves, loaded by the browser, and its waveform.
            rendition = AudioRendition.objects.get(pk=ready.current_revision.rendition_id)
            audio = page.locator("#player-audio")
            assert audio.get_attribute("src") == f"/api/v1/renditions/{rendition.pk}/file.mp3"
            assert audio.get_attribute("data-sha256") == rendition.sha256
            page.wait_for_function(AUDIO_LOADED, timeout=10_000)
            duration = page.evaluate("document.querySelector('#player-audio').duration")
            assert abs(duration * 1000 - rendition.duration_ms) < 150
            expect(page.locator(".player-duration")).to_have_text(rendition.duration_label)
            assert page.locator("svg.player-waveform path").count() == 1
            box = page.locator("svg.player-waveform").bounding_box()
            assert box["width"] > 300 and box["height"] > 40
            expect(page.locator(".timeline")).to_contain_text("Gửi duyệt")
            expect(page.locator(".timeline")).to_contain_text("Lan Nguyễn")
            # The player is usable from the keyboard: it takes the focus.
            page.focus("#player-audio")
            assert page.evaluate("document.activeElement.id") == "player-audio"
            page.screenshot(path=str(SHOTS / "bulletin-ready.png"), full_page=True)

            # A queued rendition: the block polls and moves on by itself, without a reload.
            page.goto(f"{base}/newsroom/bulletins/{queued.pk}/")
            page.evaluate("window.__sameDocument = true")
            expect(page.locator(".audio-steps [aria-current=step]")).to_have_text("Đang chờ")
            page.screenshot(path=str(SHOTS / "bulletin-queued.png"), full_page=True)
            queued_rendition = queued.current_revision.rendition
            now = timezone.now()  # a worker took it and is alive
            AudioRendition.objects.filter(pk=queued_rendition.pk).update(status="rendering", started_at=now,
                                                                         heartbeat_at=now)
            expect(page.locator(".audio-steps [aria-current=step]")).to_have_text("Đang tạo âm thanh", timeout=6_000)
            assert page.locator("#bulletin-audio button").count() == 0  # nothing to retry while it runs
            page.screenshot(path=str(SHOTS / "bulletin-rendering.png"), full_page=True)
            AudioRendition.objects.filter(pk=queued_rendition.pk).update(status="pending")
            assert render_rendition(queued_rendition.pk).status == "ready"  # the worker's part, done here
            expect(page.locator("#player-audio")).to_be_visible(timeout=6_000)
            page.wait_for_function(AUDIO_LOADED, timeout=10_000)
            assert page.evaluate("window.__sameDocument") is True  # no reload
            assert page.locator("#bulletin-audio[hx-trigger]").count() == 0
            # Once ready the page asks no more.
            polls: list[str] = []
            page.on("request", lambda request: polls.append(request.url) if "/audio/" in request.url else None)
            page.wait_for_timeout(4_500)
            assert polls == []
            page.screenshot(path=str(SHOTS / "bulletin-rendered-in-place.png"), full_page=True)

            # A failure says what went wrong and offers "Thử lại", which makes the audio again (the task runs
            # eagerly here, within the click's request).
            page.goto(f"{base}/newsroom/bulletins/{failed.pk}/")
            expect(page.locator(".audio-failed")).to_contain_text("Bộ đọc tạm thời lỗi.")
            assert page.locator("#bulletin-audio[hx-trigger]").count() == 0  # a failure is final: no polling
            page.screenshot(path=str(SHOTS / "bulletin-failed.png"), full_page=True)
            page.click("#bulletin-audio button:has-text('Thử lại')")
            expect(page.locator("#player-audio")).to_be_visible(timeout=15_000)
            page.wait_for_function(AUDIO_LOADED, timeout=10_000)
            assert AudioRendition.objects.get(pk=failed.current_revision.rendition_id).status == "ready"

            # History and airing of an approved bulletin sent back once, scheduled and partly played.
            aired = _aired(editor, approver)
            page.goto(f"{base}/newsroom/bulletins/{aired.pk}/")
            expect(page.locator(".timeline")).to_contain_text("Ghi rõ giờ cắt điện.")
            expect(page.locator(".airing-summary")).to_contain_text("Đã phát 3 / 4 lượt dự kiến")
            expect(page.locator(".airing-summary")).to_contain_text("1 lượt lỗi; 2 / 2 đài đã phát")
            expect(page.locator("table.schedules tbody tr")).to_contain_text("Sáng, Chiều tối")
            page.screenshot(path=str(SHOTS / "bulletin-history-airing.png"), full_page=True)
            page.set_viewport_size({"width": 390, "height": 844})  # a phone: nothing wider than the screen
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            page.screenshot(path=str(SHOTS / "bulletin-phone.png"), full_page=True)
        finally:
            browser.close()
