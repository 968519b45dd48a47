"""Browser tier: a station operator on a phone marks one item played and another not played (with a
reason); a supervisor then sees both in coverage (the API the dashboard reads, and the dashboard).
Screenshots: test-output/operations/station-desk-*.png."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from tests.browser.chromium import launch, needs_chromium, sign_in_at

SHOTS = Path(__file__).resolve().parents[2] / "test-output" / "operations"
PHONE = {"width": 390, "height": 844}

pytestmark = [
    needs_chromium,
    pytest.mark.django_db(transaction=True),
]


def _world():
    """A station whose first slot opens at midnight (so its items can be reported whenever the test
    runs), two bulletins in each slot today and one tomorrow, its operator and a supervisor."""
    from broadcast.selectors.playlists import local_today
    from tests.broadcast.factories_reports import make_playlist
    from tests.factories import StationFactory, UserFactory, approved_bulletin
    from tests.operations.factories_station_desk import StationOperatorFactory

    today = local_today()
    station = StationFactory(code="HN-BD-01", name="Đài truyền thanh Phường Ba Đình", slots=[
        {"name": "morning", "start": "00:00", "end": "00:30"}, {"name": "evening", "start": "23:00", "end": "23:30"}])
    news = approved_bulletin(title="Lịch tiêm chủng vắc xin sởi tuần này", seconds=1.0)
    storm = approved_bulletin(title="Cảnh báo mưa lớn, ngập úng cục bộ", priority="emergency", seconds=1.0)
    items = make_playlist(station, today, [news, storm])
    make_playlist(station, today + dt.timedelta(days=1), [news])
    operator = StationOperatorFactory(station=station, user__username="nhanvien-bd", user__first_name="Hoa",
                                      user__last_name="Lê")
    supervisor = UserFactory(username="giamsat-bd", roles=["supervisor"], is_staff=True)
    return today, station, items, operator.user, supervisor


def test_a_station_operator_marks_items_and_the_supervisor_sees_them(live_server, monkeypatch):
    from playwright.sync_api import expect, sync_playwright

    from broadcast.models import PlaybackReport

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    today, station, items, operator, supervisor = _world()
    played, failed = items[0], items[1]
    base = live_server.url
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = launch(pw)
        try:
            page = browser.new_page(viewport=PHONE, locale="vi-VN", is_mobile=True, has_touch=True)
            weights: list[int] = []
            page.on("response", lambda r: weights.append(int(r.headers.get("content-length") or len(r.body())))
                    if r.request.resource_type in {"document", "stylesheet", "script"} else None)
            sign_in_at(page, base, "/my-station/", operator.username)
            assert page.get_attribute("html", "lang") == "vi"
            expect(page.get_by_test_id("desk-station")).to_have_text(station.name)
            expect(page.locator(f"#item-{played.pk} audio")).to_have_attribute("preload", "none")
            page.screenshot(path=str(SHOTS / "station-desk-today.png"), full_page=True)

            page.get_by_test_id(f"played-{played.pk}").click()
            expect(page.get_by_test_id(f"outcome-{played.pk}")).to_have_text("Đã phát")
            expect(page.locator(f"#item-{played.pk} .note")).to_contain_text("Đã ghi nhận")

            page.locator(f"#item-{failed.pk} summary").click()
            page.fill(f"#reason-{failed.pk}", "Mất điện từ 0 giờ đến 1 giờ")
            page.get_by_test_id(f"failed-{failed.pk}").click()
            expect(page.get_by_test_id(f"outcome-{failed.pk}")).to_contain_text(
                "Không phát được: Mất điện từ 0 giờ đến 1 giờ")
            page.screenshot(path=str(SHOTS / "station-desk-reported.png"), full_page=True)

            assert PlaybackReport.objects.filter(station=station).count() == 2
            page_weight = sum(weights)
            print(f"station desk page weight (document+css+js, sign-in included): {page_weight} bytes")

            desk = browser.new_page(viewport={"width": 1280, "height": 900}, locale="vi-VN")
            sign_in_at(desk, base, "/dashboard/", supervisor.username)
            expect(desk.locator("main")).to_contain_text("1 / 4")  # played / planned, the day's coverage
            desk.screenshot(path=str(SHOTS / "station-desk-supervisor-dashboard.png"), full_page=True)
        finally:
            browser.close()

    api = APIClient()
    api.force_authenticate(supervisor)
    rows = api.get("/api/v1/coverage/stations/", {"date": today.isoformat()}).json()["results"]
    row = next(r for r in rows if r["code"] == station.code)
    assert (row["played"], row["failed"]) == (1, 1)
    reports = {r.playlist_item_id: r for r in PlaybackReport.objects.filter(station=station)}
    assert reports[played.pk].status == "played" and reports[played.pk].report_id.startswith("op-")
    assert (reports[failed.pk].status, reports[failed.pk].error) == ("failed", "Mất điện từ 0 giờ đến 1 giờ")
