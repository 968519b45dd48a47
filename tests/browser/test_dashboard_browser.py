"""Browser tier: a supervisor logs in with Chromium and the dashboard shows what the coverage API says."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

CHROMIUM = Path("/usr/bin/chromium")
OUTPUT = Path(__file__).resolve().parents[2] / "test-output"

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium (apt-get install chromium)"),
    pytest.mark.django_db(transaction=True),
]


def _demo_day():
    """A small city: 3 districts, 9 stations, 2 bulletins in both slots, most stations reporting."""
    from broadcast.services.reports import ingest_reports
    from stations import health
    from tests.broadcast.factories_reports import make_playlist, plain_bulletin, report
    from tests.factories import DistrictFactory, StationFactory

    day = timezone.localdate() - dt.timedelta(days=1)
    bulletins = [plain_bulletin("Thông báo khẩn về bão số 3"), plain_bulletin("Phòng chống sốt xuất huyết")]
    names = [("001", "Quận Ba Đình"), ("002", "Quận Hoàn Kiếm"), ("003", "Quận Tây Hồ")]
    for d_index, (code, name) in enumerate(names):
        district = DistrictFactory(code=code, name=name)
        for s_index in range(3):
            station = StationFactory(district=district, code=f"{code}{s_index}")
            items = make_playlist(station, day, bulletins)
            played = items[: len(items) - d_index - s_index]  # a different share per station
            ingest_reports(station, [report(it, f"b{n}") for n, it in enumerate(played)])
            if (d_index, s_index) != (2, 2):
                health.record_heartbeat(station)
    return day


def test_supervisor_sees_dashboard_numbers_matching_the_coverage_api(live_server, monkeypatch):
    from playwright.sync_api import sync_playwright

    from tests.factories import UserFactory

    supervisor = UserFactory(username="giamsat-browser", roles=["supervisor"])
    day = _demo_day()
    api = APIClient()
    api.force_authenticate(supervisor)
    expected = api.get("/api/v1/coverage/", {"date": day.isoformat()}).json()
    assert expected["totals"]["played"] > 0

    # Playwright's sync API runs an event loop in this thread, and the test reads the ORM meanwhile.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    OUTPUT.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{live_server.url}/dashboard/?date={day.isoformat()}")
            assert "/accounts/login/" in page.url
            page.fill("#id_username", "giamsat-browser")
            page.fill("#id_password", "mat-khau-thu-nghiem")
            page.click("button[type=submit]")
            page.wait_for_selector("#districts")
            assert "/dashboard/" in page.url

            # The headline is played / expected with pending beside it, never a bare percentage.
            assert page.inner_text("[data-testid=coverage-headline]") == expected["totals"]["played_of_expected"]
            assert int(page.inner_text("[data-testid=headline-pending]")) == expected["totals"]["pending"]
            shown_pct = page.inner_text("[data-testid=coverage-pct]")
            assert float(shown_pct.rstrip("%").replace(",", ".")) == expected["totals"]["coverage_pct"]
            for key in ("expected", "played", "failed", "missed", "pending"):
                assert int(page.inner_text(f"[data-testid=total-{key}]")) == expected["totals"][key], key

            rows = page.query_selector_all("#districts tbody tr")
            assert [r.get_attribute("data-district") for r in rows] == [d["code"] for d in expected["districts"]]
            for row, district in zip(rows, expected["districts"], strict=True):
                assert row.query_selector(".name").inner_text() == district["name"]
                assert row.query_selector(".ratio").inner_text() == district["played_of_expected"]
                for key in ("expected", "played", "missed", "pending", "silent"):
                    api_key = "silent_stations" if key == "silent" else key
                    assert int(row.query_selector(f".{key}").inner_text()) == district[api_key], (district, key)
                pct = row.query_selector(".pct").inner_text()
                assert re.sub(",", ".", pct).rstrip("%") == f"{district['coverage_pct']:.1f}"
            page.screenshot(path=str(OUTPUT / "dashboard.png"), full_page=True)
        finally:
            browser.close()
