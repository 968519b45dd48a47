"""Browser tier: a supervisor logs in with Chromium and the dashboard shows what the coverage API says."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from tests.browser.chromium import PASSWORD, launch, needs_chromium

OUTPUT = Path(__file__).resolve().parents[2] / "test-output"
SHOTS = Path("/tmp/shots")

pytestmark = [
    needs_chromium,
    pytest.mark.django_db(transaction=True),
]


OLD_DAY = dt.date(2025, 6, 30)  # the last day with districts (before the two-level map)


def _demo_city():
    """A small city: 3 districts of the old map, 9 stations in 4 commune-level units of the new one
    (the third district's last station not linked yet), 2 bulletins in both slots on today and on
    30/06/2025, most stations reporting."""
    from broadcast.services.reports import ingest_reports
    from stations import health
    from tests.broadcast.factories_reports import local, make_playlist, plain_bulletin, report
    from tests.factories import AdminUnitFactory, DistrictFactory, StationFactory

    today = timezone.localdate()
    bulletins = [plain_bulletin("Thông báo khẩn về bão số 3"), plain_bulletin("Phòng chống sốt xuất huyết")]
    names = [("001", "Quận Ba Đình"), ("002", "Quận Hoàn Kiếm"), ("003", "Quận Tây Hồ")]
    units = [AdminUnitFactory(code=code, name=name) for code, name in [
        ("00004", "Phường Ba Đình"), ("00008", "Phường Ngọc Hà"), ("00070", "Phường Hoàn Kiếm"),
        ("00091", "Phường Tây Hồ")]]
    for d_index, (code, name) in enumerate(names):
        district = DistrictFactory(code=code, name=name)
        for s_index in range(3):
            unit = None if (d_index, s_index) == (2, 2) else units[min(3, d_index + (s_index == 2) + (d_index > 0))]
            station = StationFactory(district=district, unit=unit, code=f"{code}{s_index}")
            for day in (OLD_DAY, today):
                items = make_playlist(station, day, bulletins)
                played = items[: len(items) - d_index - s_index]  # a different share per station
                ingest_reports(station, [report(it, f"b{day}-{n}") for n, it in enumerate(played)],
                               now=local(day, "23:00") if day < today else None)
            if (d_index, s_index) != (2, 2):
                health.record_heartbeat(station)
    return today


def _check_table(page, expected, rows_key, attribute):
    rows = page.query_selector_all(f"#{rows_key} tbody tr")
    assert [r.get_attribute(attribute) for r in rows] == [d["code"] for d in expected[rows_key]]
    for row, group in zip(rows, expected[rows_key], strict=True):
        assert row.query_selector(".name").inner_text() == group["name"]
        assert row.query_selector(".ratio").inner_text() == group["played_of_expected"]
        for key in ("expected", "played", "missed", "pending", "silent"):
            api_key = "silent_stations" if key == "silent" else key
            assert int(row.query_selector(f".{key}").inner_text()) == group[api_key], (group, key)
        pct = row.query_selector(".pct").inner_text()
        if group["coverage_pct"] is None:
            assert pct == "—"
        else:
            assert re.sub(",", ".", pct).rstrip("%") == f"{group['coverage_pct']:.1f}"


def _check_totals(page, expected):
    # The headline is played / expected with pending beside it, never a bare percentage.
    assert page.inner_text("[data-testid=coverage-headline]") == expected["totals"]["played_of_expected"]
    assert int(page.inner_text("[data-testid=headline-pending]")) == expected["totals"]["pending"]
    shown_pct = page.inner_text("[data-testid=coverage-pct]")
    if expected["totals"]["coverage_pct"] is not None:
        assert float(shown_pct.rstrip("%").replace(",", ".")) == expected["totals"]["coverage_pct"]
    for key in ("expected", "played", "failed", "missed", "pending"):
        assert int(page.inner_text(f"[data-testid=total-{key}]")) == expected["totals"][key], key


def test_supervisor_sees_dashboard_numbers_matching_the_coverage_api(live_server, monkeypatch):
    from playwright.sync_api import sync_playwright

    from tests.factories import UserFactory

    supervisor = UserFactory(username="giamsat-browser", roles=["supervisor"])
    today = _demo_city()
    api = APIClient()
    api.force_authenticate(supervisor)
    expected_today = api.get("/api/v1/coverage/", {"date": today.isoformat()}).json()
    expected_old = api.get("/api/v1/coverage/", {"date": OLD_DAY.isoformat()}).json()
    assert expected_today["grouping"] == "unit" and expected_old["grouping"] == "district"
    assert expected_today["totals"]["played"] > 0 and expected_old["totals"]["played"] > 0

    # Playwright's sync API runs an event loop in this thread, and the test reads the ORM meanwhile.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    OUTPUT.mkdir(exist_ok=True)
    SHOTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = launch(pw)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{live_server.url}/dashboard/")
            assert "/accounts/login/" in page.url
            page.fill("#id_username", "giamsat-browser")
            page.fill("#id_password", PASSWORD)
            page.click("button[type=submit]")
            # Today: by the commune-level units of the two-level map, the unit filter beside the date.
            page.wait_for_selector("#units")
            assert "/dashboard/" in page.url
            assert page.inner_text("[data-testid=grouping]") == "Theo xã/phường (từ 01/07/2025)"
            _check_totals(page, expected_today)
            _check_table(page, expected_today, "units", "data-unit")
            assert page.query_selector("#districts") is None
            assert page.inner_text("#units tbody tr:last-child .name") == "Chưa gán xã/phường"
            page.screenshot(path=str(OUTPUT / "dashboard.png"), full_page=True)
            page.screenshot(path=str(SHOTS / "dashboard-today-by-unit.png"), full_page=True)
            page.select_option("#unit", "00091")
            page.click(".daynav button[type=submit]")
            page.wait_for_url(re.compile(r"unit=00091"))
            assert [r.get_attribute("data-unit") for r in page.query_selector_all("#units tbody tr")] == ["00091"]

            # A day before July 2025: by district, with the district filter.
            page.select_option("#unit", "")
            page.fill("#date", OLD_DAY.isoformat())
            page.click(".daynav button[type=submit]")
            page.wait_for_selector("#districts")
            assert page.inner_text("[data-testid=grouping]") == "Theo quận/huyện (trước 01/07/2025)"
            _check_totals(page, expected_old)
            _check_table(page, expected_old, "districts", "data-district")
            assert page.query_selector("#district") is not None and page.query_selector("#unit") is None
            page.screenshot(path=str(SHOTS / "dashboard-2025-06-30-by-district.png"), full_page=True)
        finally:
            browser.close()
