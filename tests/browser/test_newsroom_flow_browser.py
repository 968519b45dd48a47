"""Browser tier, the whole newsroom flow with two people in two browsers (Chromium): the editor writes a
bulletin with numbers and a document code, sees the highlighted reading, submits, waits for the audio on
the bulletin's page and plays it; the approver is told, opens it from the queue, sees the diff, plays
and approves; the editor sees it approved. A person holding both roles cannot approve their own bulletin,
and a send-back's reason reaches the editor. Screenshots under test-output/newsroom/flow-*.png."""

from __future__ import annotations

import re

import pytest

from tests.browser.chromium import AUTOPLAY, PASSWORD, launch, needs_chromium
from tests.browser.chromium import NEWSROOM_SHOTS as SHOTS

pytestmark = [
    needs_chromium,
    pytest.mark.django_db(transaction=True),
]


def _played(audio_id: str) -> str:
    return f"""() => {{
  const a = document.querySelector('#{audio_id}');
  return a !== null && a.duration > 0 && a.currentTime > 0.3;
}}"""


def _sign_in(browser, base: str, user) -> object:
    page = browser.new_page(viewport={"width": 1280, "height": 1000}, locale="vi-VN")
    page.goto(f"{base}/")
    page.wait_for_url(re.compile(r"/accounts/login/"))
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    return page


def test_an_editor_and_an_approver_take_a_bulletin_from_draft_to_approved_in_the_browser(
        live_server, monkeypatch, settings):
    from playwright.sync_api import expect, sync_playwright

    from broadcast.models import Bulletin
    from tests.factories import UserFactory

    settings.LOA_AUDIO = {**settings.LOA_AUDIO, "ENGINE": "espeak", "DEFAULT_CHIME": False}
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # the ORM is read between browser steps
    editor = UserFactory(username="bientap-luong", first_name="Lan", last_name="Nguyễn", roles=["editor"])
    approver = UserFactory(username="kiemduyet-luong", first_name="Minh", last_name="Trần", roles=["approver"])
    both = UserFactory(username="hai-vai", first_name="Hoa", last_name="Lê", roles=["editor", "approver"])
    for user in (editor, approver, both):
        user.set_password(PASSWORD)
        user.save()
    base = live_server.url
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = launch(pw, AUTOPLAY)
        try:
            # The editor writes: the reading of the code, the date and the numbers shows as they type.
            desk = _sign_in(browser, base, editor)
            desk.wait_for_url(re.compile(r"/newsroom/bulletins/$"))
            desk.click("[data-testid=nav-new]")
            desk.wait_for_url(re.compile(r"/newsroom/bulletins/new/$"))
            desk.fill("#id_title", "Hỗ trợ hộ bị ảnh hưởng bão số 3")
            desk.click("#id_body")
            desk.keyboard.type("Theo Quyết định số 1250/QĐ-UBND ngày 5/9/2026, 320 hộ được hỗ trợ 2.500.000 đồng mỗi hộ.")
            expect(desk.locator("#preview mark", has_text="1250/QĐ-UBND")).to_be_visible(timeout=10_000)
            expect(desk.locator("#preview mark", has_text="5/9/2026")).to_contain_text("tháng chín")
            expect(desk.locator("#preview mark", has_text="2.500.000")).to_contain_text("triệu")
            desk.screenshot(path=str(SHOTS / "flow-1-editor.png"), full_page=True)
            desk.click("button[name=action][value=submit]")
            desk.wait_for_url(re.compile(r"/newsroom/bulletins/\d+/$"))
            bulletin = Bulletin.objects.get(title="Hỗ trợ hộ bị ảnh hưởng bão số 3")
            assert bulletin.status == "in_review"

            # The bulletin's page: the audio is made (offline engine) and plays in the browser.
            expect(desk.locator("#player-audio")).to_be_visible(timeout=30_000)
            desk.evaluate("document.querySelector('#player-audio').play()")
            desk.wait_for_function(_played("player-audio"), timeout=15_000)
            desk.screenshot(path=str(SHOTS / "flow-2-bulletin-page.png"), full_page=True)

            # The approver is told (the queue's size), opens it, sees what changed, plays it and approves.
            review = _sign_in(browser, base, approver)
            review.wait_for_url(re.compile(r"/newsroom/review/$"))
            expect(review.locator("[data-testid=nav-review]")).to_contain_text("1")
            expect(review.locator("[data-testid=nav-notifications]")).to_contain_text("1")
            review.click(f"[data-testid=queue-row][data-bulletin='{bulletin.pk}'] [data-testid=open-review]")
            review.wait_for_url(re.compile(rf"/newsroom/review/{bulletin.pk}/$"))
            expect(review.locator("[data-testid=diff-none]")).to_contain_text("Bản tin mới")
            expect(review.locator("[data-testid=spoken-text]")).to_contain_text("triệu")
            review.evaluate("document.querySelector('#review-audio').play()")
            review.wait_for_function(_played("review-audio"), timeout=15_000)
            review.screenshot(path=str(SHOTS / "flow-3-review.png"), full_page=True)
            review.click("[data-testid=approve]")
            review.wait_for_url(re.compile(r"/newsroom/review/$"))
            bulletin.refresh_from_db()
            assert bulletin.status == "approved" and bulletin.live_revision.approved_by == approver

            # The editor sees it approved, and is told.
            desk.goto(f"{base}/newsroom/bulletins/{bulletin.pk}/")
            expect(desk.locator("main")).to_contain_text("Đã duyệt")
            expect(desk.locator("[data-testid=nav-notifications]")).to_contain_text("1")
            desk.screenshot(path=str(SHOTS / "flow-4-approved.png"), full_page=True)

            # Someone with both roles writes and submits: their own bulletin waits for another approver.
            own = _sign_in(browser, base, both)
            own.goto(f"{base}/newsroom/bulletins/new/")
            own.fill("#id_title", "Lịch cắt điện thôn Đông")
            own.fill("#id_body", "Cắt điện từ 8 giờ đến 11 giờ ngày 10/12/2026 để bảo dưỡng đường dây.")
            own.click("button[name=action][value=submit]")
            own.wait_for_url(re.compile(r"/newsroom/bulletins/\d+/$"))
            mine = Bulletin.objects.get(title="Lịch cắt điện thôn Đông")
            own.goto(f"{base}/newsroom/review/")
            row = own.locator(f"[data-testid=queue-row][data-bulletin='{mine.pk}']")
            expect(row).to_contain_text("Bài của bạn")
            own.goto(f"{base}/newsroom/review/{mine.pk}/")
            assert own.locator("[data-testid=approve]").count() == 0
            own.screenshot(path=str(SHOTS / "flow-5-own-bulletin.png"), full_page=True)
            assert Bulletin.objects.get(pk=mine.pk).status == "in_review"

            # The approver sends it back with a reason; its author reads the reason.
            review.goto(f"{base}/newsroom/review/{mine.pk}/")
            review.fill("#send-back-comment", "Ghi rõ những xóm bị cắt điện.")
            review.click("[data-testid=send-back]")
            review.wait_for_url(re.compile(r"/newsroom/review/$"))
            own.goto(f"{base}/newsroom/bulletins/")
            expect(own.locator("[data-testid=rejection-reason]")).to_contain_text("Ghi rõ những xóm bị cắt điện.")
            own.goto(f"{base}/newsroom/notifications/")
            expect(own.locator("[data-testid=notifications]")).to_contain_text("Ghi rõ những xóm bị cắt điện.")
            own.screenshot(path=str(SHOTS / "flow-6-sent-back.png"), full_page=True)
        finally:
            browser.close()
