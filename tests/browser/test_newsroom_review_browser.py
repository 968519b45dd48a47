"""Browser tier: an approver works through the queue in Chromium. A bulletin on air, edited by its editor
and submitted again (audio rendered for real, offline), is opened from the queue: the diff against the
version on air shows the changed words, title, priority and audio; the approver plays the audio and
approves it (bound to the file played). A second bulletin is sent back with a reason. Screenshots under
test-output/newsroom/."""

from __future__ import annotations

import re

import pytest

from tests.browser.chromium import AUTOPLAY, launch, needs_chromium, sign_in_at
from tests.browser.chromium import NEWSROOM_SHOTS as SHOTS

pytestmark = [
    needs_chromium,
    pytest.mark.django_db(transaction=True),
]

PLAYED = """() => {
  const a = document.querySelector('#review-audio');
  return a !== null && a.duration > 0 && a.currentTime > 0.3;
}"""


def _workflow():
    """Through the services, as the pages and the API do: an editor's bulletin approved once (on air), then
    edited (title, priority, a time) and submitted again; a second bulletin submitted for the first time."""
    from broadcast.services import bulletins as services
    from tests.factories import UserFactory

    editor = UserFactory(username="bientap-duyet", first_name="Lan", last_name="Nguyễn", roles=["editor"])
    approver = UserFactory(username="kiemduyet-duyet", first_name="Minh", last_name="Trần", roles=["approver"])
    first_approver = UserFactory(username="kiemduyet-truoc", roles=["approver"])
    edited = services.create_bulletin(
        editor, "Lịch tiêm chủng", "Trạm y tế phường tiêm chủng lúc 8 giờ ngày 15/12/2026.",
        category="health", priority="normal")
    services.submit(edited, editor)
    services.approve(edited, first_approver, "Đạt")
    services.edit_bulletin(edited, editor, title="Lịch tiêm chủng đợt 2",
                           body="Trạm y tế phường tiêm chủng lúc 9 giờ ngày 16/12/2026, mang theo sổ tiêm.",
                           priority="high")
    services.submit(edited, editor)
    sent_back = services.create_bulletin(editor, "Cấm đường Lê Lợi",
                                         "Cấm đường Lê Lợi từ 7 giờ đến 11 giờ ngày 20/12 để sửa cống.")
    services.submit(sent_back, editor)
    return editor, approver, edited, sent_back


def test_an_approver_compares_listens_approves_and_sends_back(live_server, monkeypatch, settings):
    from playwright.sync_api import expect, sync_playwright

    from broadcast.models import Bulletin, BulletinTransition

    settings.LOA_AUDIO = {**settings.LOA_AUDIO, "ENGINE": "espeak", "DEFAULT_CHIME": False}
    # Playwright's sync API runs an event loop in this thread, and the test reads the ORM meanwhile.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    editor, approver, edited, sent_back = _workflow()
    edited.refresh_from_db()
    rendition = edited.current_revision.rendition
    assert rendition.status == "ready" and edited.live_revision.number == 1
    base = live_server.url
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = launch(pw, AUTOPLAY)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000}, locale="vi-VN")
            sign_in_at(page, base, "/newsroom/review/", approver.username)
            assert page.get_attribute("html", "lang") == "vi"
            rows = page.locator("[data-testid=queue-row]")
            expect(rows).to_have_count(2)
            # The edit was submitted first (it waits longer): rows show author, age, duration and audio state.
            first = rows.nth(0)
            expect(first).to_contain_text("Lịch tiêm chủng đợt 2")
            expect(first).to_contain_text("Lan Nguyễn")
            expect(first).to_contain_text("Sẵn sàng")
            expect(first).to_contain_text(rendition.duration_label)
            expect(first).to_contain_text(re.compile(r"vừa xong|phút trước"))
            page.screenshot(path=str(SHOTS / "review-queue.png"), full_page=True)

            # Open it from the queue, from the keyboard.
            first.locator("[data-testid=open-review]").focus()
            page.keyboard.press("Enter")
            page.wait_for_url(re.compile(rf"/newsroom/review/{edited.pk}/$"))
            diff = page.locator("[data-testid=review-diff]")
            expect(diff).to_contain_text("Thay đổi so với bản đang phát (phiên bản 1)")
            expect(page.locator("[data-testid=diff-title] ins")).to_contain_text("đợt 2")
            expect(page.locator("[data-testid=diff-priority] del")).to_contain_text("Thường")
            expect(page.locator("[data-testid=diff-priority] ins")).to_contain_text("Ưu tiên")
            expect(page.locator("[data-testid=diff-audio]")).to_contain_text("Âm thanh đã thay đổi")
            body_del = page.locator("[data-testid=diff-body] del").all_inner_texts()
            body_ins = page.locator("[data-testid=diff-body] ins").all_inner_texts()
            assert any("8" in t for t in body_del) and any("9" in t for t in body_ins)
            assert any("mang theo sổ tiêm" in t for t in body_ins)
            expect(page.locator("[data-testid=spoken-text]")).to_contain_text("chín giờ")

            # Play the audio: the exact file, and the form carries the sha256 of what plays.
            audio = page.locator("#review-audio")
            assert audio.get_attribute("src") == f"/api/v1/renditions/{rendition.pk}/file.mp3"
            assert audio.get_attribute("data-sha256") == rendition.sha256
            assert page.locator("input[name=sha256]").get_attribute("value") == rendition.sha256
            page.evaluate("document.querySelector('#review-audio').play()")
            page.wait_for_function(PLAYED, timeout=15_000)
            page.screenshot(path=str(SHOTS / "review-page.png"), full_page=True)

            page.fill("#id_comment", "Đạt, phát từ tuần này.")
            page.click("[data-testid=approve]")
            page.wait_for_url(re.compile(r"/newsroom/review/$"))
            expect(page.locator(".message.success")).to_contain_text("Đã duyệt “Lịch tiêm chủng đợt 2”")
            expect(rows).to_have_count(1)
            edited.refresh_from_db()
            assert edited.status == "approved" and edited.live_revision.number == 2
            assert edited.live_revision.approved_sha256 == rendition.sha256
            assert edited.live_revision.approved_by == approver
            page.screenshot(path=str(SHOTS / "review-approved.png"), full_page=True)

            # Send back: without a reason the page says what is missing, with one it goes back to the author.
            page.click(f"[data-testid=queue-row][data-bulletin='{sent_back.pk}'] [data-testid=open-review]")
            page.wait_for_url(re.compile(rf"/newsroom/review/{sent_back.pk}/$"))
            expect(page.locator("[data-testid=diff-none]")).to_contain_text("Bản tin mới")
            page.click("[data-testid=send-back]")
            expect(page.locator("[data-testid=send-back-errors]")).to_contain_text("Cần ghi lý do trả lại")
            assert Bulletin.objects.get(pk=sent_back.pk).status == "in_review"
            page.screenshot(path=str(SHOTS / "review-send-back-required.png"), full_page=True)
            page.fill("#send-back-comment", "Ghi rõ đoạn đường cấm và đường đi thay thế.")
            page.click("[data-testid=send-back]")
            page.wait_for_url(re.compile(r"/newsroom/review/$"))
            expect(page.locator(".message.success")).to_contain_text("Đã trả lại “Cấm đường Lê Lợi”")
            expect(page.locator("[data-testid=queue-empty]")).to_be_visible()
            transition = BulletinTransition.objects.filter(bulletin=sent_back).latest("id")
            assert (transition.to_status, transition.comment) == (
                "rejected", "Ghi rõ đoạn đường cấm và đường đi thay thế.")
        finally:
            browser.close()
