"""Browser tier: a supervisor sends an emergency through the pages in Chromium (choose, confirm with the
station count, the red button), then watches the live page: a station reports the play through the real
station API with its own token and the page updates without a reload. Screenshots under
test-output/operations/emergency-*.png."""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path

import pytest

from tests.browser.chromium import launch, needs_chromium, sign_in_at

pytestmark = [needs_chromium, pytest.mark.django_db(transaction=True)]
SHOTS = Path(__file__).resolve().parents[2] / "test-output" / "operations"


def _post_report(base: str, token: str, item) -> dict:
    body = json.dumps({"reports": [{
        "report_id": f"browser-{item.pk}", "playlist_item": item.pk, "status": "played",
        "started_at": item.starts_at.isoformat(),
    }]}).encode()
    request = urllib.request.Request(f"{base}/api/v1/station/reports/", data=body, method="POST", headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def test_a_supervisor_sends_an_emergency_and_the_live_page_follows_a_station_report(live_server, monkeypatch):
    from playwright.sync_api import expect, sync_playwright

    from broadcast.models import Bulletin, PlaylistItem, Schedule
    from stations.models import EMERGENCY_SLOT, Station
    from stations.services import issue_station_token
    from tests.broadcast.factories_reports import plain_bulletin
    from tests.factories import DistrictFactory, StationFactory, UserFactory

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    supervisor = UserFactory(username="giamsat-khancap", first_name="Hà", last_name="Lê", roles=["supervisor"])
    district = DistrictFactory(name="Quận Ba Đình")
    reporter = StationFactory(name="Đài Phường Ngọc Hà", status=Station.Status.ONLINE, district=district,
                              contact_name="Nguyễn Văn An", contact_phone="0912 345 678")
    StationFactory(name="Đài Phường Kim Mã", status=Station.Status.SILENT, district=district,
                   contact_name="Trần Thị Bình", contact_phone="0987 654 321")
    StationFactory(name="Đài Phường Đội Cấn", status=Station.Status.NEVER, district=district)
    bulletin = plain_bulletin("Khẩn cấp: bão số 5 đổ bộ", duration_ms=95_000)
    Bulletin.objects.filter(pk=bulletin.pk).update(priority=Bulletin.Priority.EMERGENCY)
    token = issue_station_token(reporter)
    base = live_server.url
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = launch(pw)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="vi-VN")
            sign_in_at(page, base, "/operations/emergency/", supervisor.username)
            page.get_by_label("Khẩn cấp: bão số 5 đổ bộ").check()
            page.screenshot(path=str(SHOTS / "emergency-choose.png"), full_page=True)
            page.click("[data-testid=review]")
            expect(page.locator("[data-testid=confirm-count]")).to_have_text("3 đài")
            expect(page.locator("[data-testid=confirm-duration]")).to_have_text("01:35")
            expect(page.locator("[data-testid=confirm-unreachable]")).to_contain_text("1 đài mất liên lạc")
            page.screenshot(path=str(SHOTS / "emergency-confirm.png"), full_page=True)
            page.click("[data-testid=send]")
            page.wait_for_url(re.compile(r"/operations/emergency/\d+/$"))
            schedule = Schedule.objects.get()
            assert schedule.immediate and schedule.target_station_count == 3
            expect(page.locator("[data-testid=count-targeted]")).to_have_text("3")
            expect(page.locator("[data-testid=count-confirmed]")).to_have_text("0")
            expect(page.locator("[data-testid=call-row]")).to_have_count(3)
            expect(page.locator("[data-testid=call-row]").first).to_contain_text("Mất liên lạc")
            expect(page.locator("a[href='tel:0987654321']")).to_be_visible()
            page.screenshot(path=str(SHOTS / "emergency-live-sent.png"), full_page=True)
            page.evaluate("window.notReloaded = true")

            item = PlaylistItem.objects.get(schedule=schedule, slot=EMERGENCY_SLOT, playlist__station=reporter)
            assert _post_report(base, token, item)["accepted"] == 1

            expect(page.locator("[data-testid=count-confirmed]")).to_have_text("1", timeout=10_000)
            expect(page.locator("[data-testid=count-waiting]")).to_have_text("2")
            expect(page.locator("[data-testid=call-row]")).to_have_count(2)
            expect(page.locator(f"[data-testid=call-row][data-station='{reporter.code}']")).to_have_count(0)
            expect(page.locator("[data-testid=state-confirmed]")).to_have_text("Đã phát (1)")
            assert page.evaluate("window.notReloaded") is True  # updated in place, no reload
            page.screenshot(path=str(SHOTS / "emergency-live-confirmed.png"), full_page=True)

            # The confirmed stations are not in the poll: they are on the full list, on demand.
            page.click("[data-testid=state-confirmed]")
            page.wait_for_url(re.compile(r"/stations/\?state=confirmed$"))
            expect(page.locator("[data-testid=station-row]")).to_have_count(1)
            expect(page.locator(f"[data-testid=station-row][data-station='{reporter.code}']")).to_have_attribute(
                "data-outcome", "confirmed")
            page.screenshot(path=str(SHOTS / "emergency-stations-confirmed.png"), full_page=True)
        finally:
            browser.close()
