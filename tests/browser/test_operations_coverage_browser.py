"""Browser tier: the coverage charts in Chromium carry the coverage API's figures (one bar per unit), the
drill-down reaches a unit's stations, and the monthly report prints (print media emulated)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from tests.browser.chromium import launch, needs_chromium, sign_in_at

SHOTS = Path(__file__).resolve().parents[2] / "test-output" / "operations"

pytestmark = [needs_chromium, pytest.mark.django_db(transaction=True)]


def _city(days: int = 12) -> dt.date:
    """4 units, 10 stations, 2 bulletins in both slots on each of the last `days` days, a share played
    that changes with the station and the day."""
    from broadcast.services.reports import ingest_reports
    from tests.broadcast.factories_reports import local, make_playlist, plain_bulletin, report
    from tests.factories import AdminUnitFactory, DistrictFactory, StationFactory

    today = timezone.localdate()
    bulletins = [plain_bulletin("Thông báo khẩn về bão số 3"), plain_bulletin("Phòng chống sốt xuất huyết")]
    district = DistrictFactory(code="001", name="Quận Ba Đình")
    units = [AdminUnitFactory(code=code, name=name) for code, name in [
        ("00004", "Phường Ba Đình"), ("00008", "Phường Ngọc Hà"), ("00070", "Phường Hoàn Kiếm"),
        ("00091", "Phường Tây Hồ")]]
    for n in range(10):
        station = StationFactory(district=district, unit=units[n % 4], code=f"B{n:02d}", name=f"Đài số {n}")
        for back in range(days, 0, -1):
            day = today - dt.timedelta(days=back)
            items = make_playlist(station, day, bulletins)
            played = items[: (n + back) % (len(items) + 1)]
            if played:
                ingest_reports(station, [report(it, f"{day}-{it.pk}") for it in played], now=local(day, "23:00"))
    return today - dt.timedelta(days=1)


def test_the_charts_show_the_apis_figures_and_the_monthly_report_prints(live_server, monkeypatch):
    from playwright.sync_api import sync_playwright

    from tests.factories import UserFactory

    supervisor = UserFactory(username="giamsat-charts", roles=["supervisor"])
    day = _city()
    api = APIClient()
    api.force_authenticate(supervisor)
    expected = api.get("/api/v1/coverage/", {"date": day.isoformat()}).json()
    stations_api = api.get("/api/v1/coverage/stations/", {"date": day.isoformat(), "unit": "00008"}).json()
    assert expected["grouping"] == "unit" and len(expected["units"]) == 4

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = launch(pw)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            path = f"/dashboard/?date={day.isoformat()}"
            sign_in_at(page, live_server.url, path, "giamsat-charts")
            page.wait_for_selector("svg.chart-bars")
            # One bar per unit, with the API's coverage of the plays due and played / expected.
            bars = page.eval_on_selector_all(
                "svg.chart-bars rect.bar",
                "els => els.map(e => [e.dataset.unit, e.dataset.value, +e.dataset.played, +e.dataset.expected])")
            assert bars == [[u["code"], "" if u["coverage_pct"] is None else f"{u['coverage_pct']:.1f}",
                             u["played"], u["expected"]] for u in expected["units"]]
            # Drawn to scale: each bar's length against its track is the share of the expected plays played.
            shares = page.eval_on_selector_all(
                "svg.chart-bars rect.bar", "els => els.map(e => e.getBBox().width / e.previousElementSibling.getBBox().width)")
            assert [round(s, 3) for s in shares] == [round(u["played"] / u["expected"], 3) for u in expected["units"]]
            # The split and the 30-day line, both drawn and labelled.
            split = page.eval_on_selector_all("svg.chart-split rect.seg",
                                              "els => Object.fromEntries(els.map(e => [e.dataset.outcome, +e.dataset.value]))")
            assert split == {k: expected["totals"][k] for k in ("played", "failed", "missed", "pending")}
            points = page.eval_on_selector_all("svg.chart-line circle", "els => els.map(e => e.dataset.date)")
            assert len(points) == 12 and points[-1] == day.isoformat()
            assert page.locator("svg.chart-line > title").text_content().startswith("Độ phủ theo ngày")
            page.screenshot(path=str(SHOTS / "coverage-dashboard.png"), full_page=True)

            # Sorted by coverage, highest first.
            page.click("text=Độ phủ ↓")
            page.wait_for_url(re.compile(r"sort=coverage&order=desc"))
            values = page.eval_on_selector_all("svg.chart-bars rect.bar", "els => els.map(e => +e.dataset.value)")
            assert values == sorted(values, reverse=True)

            # Drill-down: a unit's name in the chart leads to its stations, each linked to its station page.
            page.click("svg.chart-bars a:has-text('Phường Ngọc Hà')")
            page.wait_for_url(re.compile(r"unit=00008"))
            stations = page.eval_on_selector_all("svg.chart-bars rect.bar",
                                                 "els => els.map(e => [e.dataset.station, e.dataset.value])")
            assert stations == [[s["code"], "" if s["coverage_pct"] is None else f"{s['coverage_pct']:.1f}"]
                                for s in stations_api["results"]]
            href = page.get_attribute("svg.chart-bars a", "href")
            assert href == f"/operations/stations/{stations[0][0]}/?date={day.isoformat()}"
            page.screenshot(path=str(SHOTS / "coverage-drilldown.png"), full_page=True)

            # The monthly report, as printed.
            page.click("[data-testid=month-report]")
            page.wait_for_selector("#month-totals")
            assert f"tháng {day:%m/%Y}" in page.inner_text("h1")
            page.emulate_media(media="print")
            assert not page.is_visible("header.top") and not page.is_visible("form.choose")
            assert page.is_visible("svg.chart-line") and page.is_visible("svg.chart-bars")
            page.screenshot(path=str(SHOTS / "coverage-report-print.png"), full_page=True)
            page.pdf(path=str(SHOTS / "coverage-report.pdf"), format="A4")
        finally:
            browser.close()
