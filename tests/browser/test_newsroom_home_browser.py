"""Browser tier: the demo editor and approver sign in with Chromium from the site root, land on their start
pages, see the navigation of their role (the queue's size, the notification count), read a send-back's
reason, sign out; a page of another role is refused in Vietnamese with a link home. Screenshots under
test-output/newsroom/."""

from __future__ import annotations

import pytest

from tests.browser.chromium import NEWSROOM_SHOTS as SHOTS
from tests.browser.chromium import PASSWORD, launch, needs_chromium

pytestmark = [
    needs_chromium,
    pytest.mark.django_db(transaction=True),
]


def _newsroom():
    """The demo accounts' roles (bientap, kiemduyet) with one bulletin waiting for approval and one sent
    back, through the workflow services: the notifications are made as in production (after commit)."""
    from broadcast.services import bulletins as services
    from tests.factories import UserFactory
    from tests.newsroom.test_notifications import _draft

    editor = UserFactory(username="bientap", first_name="Lan", last_name="Nguyễn", roles=["editor"])
    approver = UserFactory(username="kiemduyet", first_name="Minh", last_name="Trần", roles=["approver"])
    waiting = _draft(editor, "Thông báo lịch tiêm chủng mở rộng tháng 12")
    services.submit(waiting, editor)
    sent_back = _draft(editor, "Phòng chống bão số 3")
    services.submit(sent_back, editor)
    services.reject(sent_back, approver, "Ghi rõ số hiệu văn bản 15/2024/QĐ-UBND và giờ sơ tán.")
    return editor, approver


def _sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/")
    assert page.url == f"{base}/accounts/login/?next=/"
    assert page.get_attribute("html", "lang") == "vi"
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")


def _nav(page) -> dict[str, str]:
    return {link.get_attribute("data-testid"): " ".join(link.inner_text().split())
            for link in page.query_selector_all("nav.nav a")}


def test_editor_and_approver_sign_in_to_their_start_pages_with_the_navigation_of_their_role(live_server, monkeypatch):
    from playwright.sync_api import sync_playwright

    _newsroom()
    base = live_server.url
    # Playwright's sync API runs an event loop in this thread, and the test reads the ORM meanwhile.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = launch(pw)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(f"{base}/")
            page.screenshot(path=str(SHOTS / "login.png"), full_page=True)

            # The editor: the desk, and a send-back told in the navigation.
            _sign_in(page, base, "bientap")
            page.wait_for_url(f"{base}/newsroom/bulletins/")
            page.screenshot(path=str(SHOTS / "editor-start.png"), full_page=True)
            page.goto(f"{base}/newsroom/notifications/")
            nav = _nav(page)
            assert nav == {"nav-bulletins": "Bản tin", "nav-new": "Soạn mới", "nav-notifications": "Thông báo 0"}, nav
            # Opening the page read the one notification; it is still listed, marked new this once.
            item = page.inner_text("[data-testid=notifications] li")
            assert "Minh Trần đã trả lại bản tin «Phòng chống bão số 3»" in " ".join(item.split())
            assert "Lý do: Ghi rõ số hiệu văn bản 15/2024/QĐ-UBND và giờ sơ tán." in item and "Mới" in item
            assert page.inner_text("[data-testid=user-name]") == "Lan Nguyễn"
            page.screenshot(path=str(SHOTS / "editor-notifications.png"), full_page=True)

            # Keyboard: the first Tab reaches the skip link, shown with a visible focus ring.
            page.keyboard.press("Tab")
            assert page.evaluate("document.activeElement.className") == "skip-link"
            outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
            assert outline == "solid"
            page.screenshot(path=str(SHOTS / "focus-skip-link.png"))

            # A page of another role: a Vietnamese explanation and a link home.
            page.goto(f"{base}/dashboard/")
            assert page.inner_text("h1") == "Bạn không có quyền xem trang này"
            page.screenshot(path=str(SHOTS / "forbidden.png"), full_page=True)
            page.click("[data-testid=home-link]")
            page.wait_for_url(f"{base}/newsroom/bulletins/")

            page.click("[data-testid=logout]")
            page.wait_for_url(f"{base}/accounts/login/")

            # The approver: the queue, its size in the navigation.
            _sign_in(page, base, "kiemduyet")
            page.wait_for_url(f"{base}/newsroom/review/")
            page.screenshot(path=str(SHOTS / "approver-start.png"), full_page=True)
            page.goto(f"{base}/newsroom/notifications/")
            nav = _nav(page)
            assert nav == {"nav-review": "Hàng chờ duyệt 1", "nav-notifications": "Thông báo 0"}, nav
            assert page.get_attribute("[data-testid=nav-notifications]", "aria-current") == "page"
            # The submission that was decided is read already; the one still waiting was new.
            items = [" ".join(li.inner_text().split()) for li in page.query_selector_all("[data-testid=notifications] li")]
            assert len(items) == 2 and all("Lan Nguyễn gửi duyệt" in text for text in items), items
            assert ["Mới" in text for text in items] == [False, True], items
            page.screenshot(path=str(SHOTS / "approver-notifications.png"), full_page=True)

            # A phone: the navigation wraps under the brand, nothing overflows sideways.
            phone = browser.new_page(viewport={"width": 375, "height": 740}, device_scale_factor=2)
            phone.context.add_cookies(page.context.cookies())
            phone.goto(f"{base}/newsroom/notifications/")
            assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            phone.screenshot(path=str(SHOTS / "approver-notifications-phone.png"), full_page=True)
        finally:
            browser.close()
