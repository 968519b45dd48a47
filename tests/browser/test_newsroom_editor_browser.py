"""Browser tier: an editor writes a bulletin with numbers and a document code in Chromium, watches the
highlighted reading update while typing (no reload), teaches the lexicon a word from the preview, saves,
submits; the desk list filters in place. Screenshots under test-output/newsroom/."""

from __future__ import annotations

import re

import pytest

from tests.broadcast.conftest import fake_render  # noqa: F401 - the audio pipeline's stand-in
from tests.browser.chromium import NEWSROOM_SHOTS as SHOTS
from tests.browser.chromium import launch, needs_chromium, sign_in_at

pytestmark = [
    needs_chromium,
    pytest.mark.django_db(transaction=True),
]


def _desk():
    """An editor with a few bulletins of every kind, through the workflow services."""
    from broadcast.models import Bulletin
    from broadcast.services import bulletins as services
    from tests.factories import UserFactory, approved_bulletin

    editor = UserFactory(username="bientap-desk", first_name="Lan", last_name="Nguyễn", roles=["editor"])
    approver = UserFactory(username="kiemduyet-desk", roles=["approver"])
    services.create_bulletin(editor, "Cảnh báo bão số 3 đổ bộ", "Bão số 3 đổ bộ đêm nay, sơ tán 1.250 hộ.",
                             category="emergency", priority="emergency")
    sent_back = services.create_bulletin(editor, "Họp tổ dân phố số 5", "Họp lúc 19 giờ ngày 5/12.")
    Bulletin.objects.filter(pk=sent_back.pk).update(status=Bulletin.Status.IN_REVIEW)
    services.reject(Bulletin.objects.get(pk=sent_back.pk), approver, "Ghi rõ địa điểm họp.")
    approved_bulletin(title="Lịch tiêm chủng tháng 12", author=editor, approver=approver, category="health")
    return editor


def test_editor_writes_sees_the_highlighted_reading_saves_and_submits(live_server, monkeypatch, fake_render):  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    from broadcast.models import Bulletin, PronunciationEntry

    editor = _desk()
    base = live_server.url
    # Playwright's sync API runs an event loop in this thread, and the test reads the ORM meanwhile.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = launch(pw, "--lang=vi-VN")
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="vi-VN")
            sign_in_at(page, base, "/newsroom/bulletins/new/", editor.username)
            assert page.get_attribute("html", "lang") == "vi"

            # Typing updates the reading in place: the marker set on this document survives.
            page.evaluate("window.__sameDocument = true")
            page.fill("#id_title", "Thông báo hỗ trợ hộ nghèo")
            page.select_option("#id_priority", "high")
            page.select_option("#id_category", "policy")
            page.click("#id_body")
            page.keyboard.type("Theo Nghị định số 15/2025/NĐ-CP ngày 12/3/2025, 1.250 hộ của xã ABQZ được hỗ trợ.")
            doc_code = page.locator("#preview mark", has_text="15/2025/NĐ-CP")
            expect(doc_code).to_be_visible(timeout=10_000)
            assert "→" in doc_code.inner_text() and "nghị định" in doc_code.inner_text().lower()
            assert "Đọc là:" in doc_code.get_attribute("title")
            expect(page.locator("#preview mark", has_text="12/3/2025")).to_contain_text("tháng ba")
            expect(page.locator("#preview mark", has_text="1.250")).to_contain_text("nghìn")
            guess = page.locator("#preview mark.guess", has_text="ABQZ")
            expect(guess).to_be_visible()
            expect(page.locator("[data-testid=warnings]")).to_contain_text("ABQZ")
            counter = page.inner_text("[data-testid=counter]")
            assert re.search(r"Độ dài khi đọc: \d+ / \d+ ký tự", counter), counter
            assert page.evaluate("window.__sameDocument") is True
            page.screenshot(path=str(SHOTS / "desk-editor.png"), full_page=True)

            # A highlighted word fills the lexicon form; once added, the reading uses it.
            guess.locator("button").click()
            assert page.input_value("#id_lex_term") == "ABQZ"
            page.fill("#id_lex_spoken", "a bê quy dét")
            page.click(".lexicon-form button[type=submit]")
            expect(page.locator("[data-testid=lexicon-saved]")).to_be_visible()
            expect(page.locator("#preview mark", has_text="ABQZ")).to_contain_text("a bê quy dét", timeout=10_000)
            assert PronunciationEntry.objects.get(term="ABQZ").created_by == editor
            assert page.evaluate("window.__sameDocument") is True
            page.screenshot(path=str(SHOTS / "desk-editor-lexicon.png"), full_page=True)

            page.click("button[name=action][value=save]")
            page.wait_for_url(re.compile(r"/newsroom/bulletins/\d+/$"))
            bulletin = Bulletin.objects.get(title="Thông báo hỗ trợ hộ nghèo")
            assert (bulletin.status, bulletin.priority, bulletin.category) == ("draft", "high", "policy")
            assert "15/2025/NĐ-CP" in bulletin.current_revision.body

            page.goto(f"{base}/newsroom/bulletins/{bulletin.pk}/edit/")
            expect(page.locator("#preview mark", has_text="15/2025/NĐ-CP")).to_be_visible()
            page.click("button[name=action][value=submit]")
            page.wait_for_url(re.compile(rf"/newsroom/bulletins/{bulletin.pk}/$"))
            bulletin.refresh_from_db()
            assert bulletin.status == "in_review"

            # The desk: the list filters in place (search without diacritics) and keeps the address.
            page.goto(f"{base}/newsroom/bulletins/")
            expect(page.locator("table.bulletins tbody tr")).to_have_count(4)
            expect(page.locator("[data-testid=rejection-reason]")).to_contain_text("Ghi rõ địa điểm họp.")
            page.screenshot(path=str(SHOTS / "desk-list.png"), full_page=True)
            page.evaluate("window.__sameDocument = true")
            page.fill("#id_q", "bao so 3 do bo")
            expect(page.locator("table.bulletins tbody tr")).to_have_count(1, timeout=10_000)
            expect(page.locator("table.bulletins tbody tr")).to_contain_text("Cảnh báo bão số 3")
            page.wait_for_function("new URLSearchParams(location.search).get('q') === 'bao so 3 do bo'")  # hx-push-url
            page.select_option("#id_sort", "priority")
            page.fill("#id_q", "")
            expect(page.locator("table.bulletins tbody tr")).to_have_count(4, timeout=10_000)
            expect(page.locator("table.bulletins tbody tr").first).to_contain_text("Cảnh báo bão số 3")
            page.locator("label.tab", has_text="Chờ duyệt").click()
            expect(page.locator("table.bulletins tbody tr")).to_have_count(1, timeout=10_000)
            expect(page.locator("table.bulletins tbody tr")).to_contain_text("Thông báo hỗ trợ hộ nghèo")
            assert page.evaluate("window.__sameDocument") is True
            checked = page.locator("label.tab:has(input:checked)")
            expect(checked).to_have_count(1)
            expect(checked).to_have_text("Chờ duyệt")
            page.screenshot(path=str(SHOTS / "desk-list-filtered.png"), full_page=True)

            # A phone's width: the editor stacks the preview under the form.
            phone = browser.new_page(viewport={"width": 390, "height": 844}, storage_state=page.context.storage_state())
            phone.goto(f"{base}/newsroom/bulletins/new/")
            phone.fill("#id_title", "Tin khẩn")
            phone.fill("#id_body", "Số 15/2025/NĐ-CP, 1.250 hộ.")  # pasted: read when the field is left
            phone.focus("#id_title")
            expect(phone.locator("#preview mark", has_text="1.250")).to_be_visible(timeout=10_000)
            phone.screenshot(path=str(SHOTS / "desk-editor-phone.png"), full_page=True)
        finally:
            browser.close()
