"""The coverage pages: charts drawn from the same figures as the API, drill-down within a user's scope,
sorting, the play-log export button and the printable monthly report."""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import io
import re
from html import unescape

import pytest
from django.utils import timezone

from broadcast.selectors.coverage import range_report
from broadcast.services.reports import ingest_reports
from tests.broadcast.factories_reports import local, make_playlist, plain_bulletin, report
from tests.factories import (
    AdminUnitFactory,
    CommuneOperatorFactory,
    DistrictFactory,
    DistrictOperatorFactory,
    StationFactory,
)
from tests.newsroom.pages import signed_in, visible_text

pytestmark = pytest.mark.django_db
YESTERDAY = timezone.localdate() - dt.timedelta(days=1)


@pytest.fixture
def city():
    """Two districts, three units, six stations; yesterday and the day before, a different share played."""
    north, south = DistrictFactory(code="101", name="Quận Ba Đình"), DistrictFactory(code="102", name="Quận Tây Hồ")
    units = [AdminUnitFactory(code="00004", name="Phường Ba Đình"), AdminUnitFactory(code="00008", name="Phường Ngọc Hà"),
             AdminUnitFactory(code="00091", name="Phường Tây Hồ")]
    bulletin = plain_bulletin("Phòng chống sốt xuất huyết")
    stations = []
    for n in range(6):
        station = StationFactory(district=north if n < 4 else south, unit=units[n // 2], code=f"C{n}",
                                 name=f"Đài số {n}")
        stations.append(station)
        for day in (YESTERDAY - dt.timedelta(days=1), YESTERDAY):
            items = make_playlist(station, day, [bulletin])
            played = items[: n % 3]
            if played:
                ingest_reports(station, [report(it, f"{day}-{it.pk}") for it in played], now=local(day, "23:00"))
    return {"units": units, "stations": stations}


def _bars(html: str, key: str) -> list[tuple[str, str]]:
    return [(unescape(code), value) for code, value in
            re.findall(rf'<rect class="bar"[^>]* data-{key}="([^"]*)" data-value="([^"]*)"', html)]


def _value(pct) -> str:
    return "" if pct is None else f"{pct:.1f}"


def test_the_dashboard_draws_one_bar_per_unit_with_the_apis_values(city, supervisor, client_for):
    html = signed_in(supervisor).get("/dashboard/", {"date": YESTERDAY.isoformat()}).content.decode()
    api = client_for(supervisor).get("/api/v1/coverage/", {"date": YESTERDAY.isoformat()}).json()
    assert _bars(html, "unit") == [(row["code"], _value(row["coverage_pct"])) for row in api["units"]]
    assert 'role="img"' in html and "Giám sát" in html.split("</a>")[1]  # the shared layout's brand
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg"') == 3
    # The 30-day line has a point for each day with plays due: the day before yesterday and yesterday.
    points = re.findall(r'<circle [^>]*data-date="([^"]+)" data-value="([^"]*)"', html)
    assert [d for d, _ in points] == [(YESTERDAY - dt.timedelta(days=1)).isoformat(), YESTERDAY.isoformat()]
    assert points[-1][1] == _value(api["totals"]["coverage_pct"])
    split = dict(re.findall(r'data-outcome="(\w+)" data-value="(\d+)"', html))
    assert {k: int(v) for k, v in split.items()} == {k: api["totals"][k] for k in ("played", "failed", "missed", "pending")}


def test_bars_sort_by_coverage_or_name_both_ways(city, supervisor):
    client = signed_in(supervisor)

    def order(**params) -> list[str]:
        html = client.get("/dashboard/", {"date": YESTERDAY.isoformat(), **params}).content.decode()
        return [code for code, _ in _bars(html, "unit")]

    by_value = order(sort="coverage", order="asc")
    assert by_value == ["00004", "00008", "00091"]  # 1, 2 and 3 of their 4 plays a day
    assert order(sort="coverage", order="desc") == by_value[::-1]
    assert order(sort="name", order="desc") == ["00091", "00008", "00004"]  # Tây Hồ, Ngọc Hà, Ba Đình
    assert order(sort="nonsense", order="sideways") == ["00004", "00008", "00091"]  # by code


def test_a_unit_drills_down_to_its_stations_linked_to_their_station_page(city, supervisor, client_for):
    html = signed_in(supervisor).get("/dashboard/", {"date": YESTERDAY.isoformat(), "unit": "00008"}).content.decode()
    api = client_for(supervisor).get("/api/v1/coverage/stations/", {"date": YESTERDAY.isoformat(), "unit": "00008"}).json()
    assert _bars(html, "station") == [(s["code"], _value(s["coverage_pct"])) for s in api["results"]]
    assert [c for c, _ in _bars(html, "station")] == ["C2", "C3"]
    assert f'href="/operations/stations/C2/?date={YESTERDAY.isoformat()}"' in html
    # The city's bars link to each unit's drill-down.
    city_page = signed_in(supervisor).get("/dashboard/", {"date": YESTERDAY.isoformat()}).content.decode()
    assert f'href="?date={YESTERDAY.isoformat()}&amp;unit=00091"' in city_page


def test_drill_down_stays_within_an_operators_scope(city):
    operator = CommuneOperatorFactory(units=[city["units"][2]]).user
    client = signed_in(operator)
    other = client.get("/dashboard/", {"date": YESTERDAY.isoformat(), "unit": "00004"}).content.decode()
    assert _bars(other, "station") == [] and [c for c, _ in _bars(other, "unit")] == ["00091"]
    own = client.get("/dashboard/", {"date": YESTERDAY.isoformat(), "unit": "00091"}).content.decode()
    assert [c for c, _ in _bars(own, "station")] == ["C4", "C5"]
    district = DistrictOperatorFactory(district=city["stations"][0].district).user
    page = signed_in(district).get("/dashboard/", {"date": YESTERDAY.isoformat()}).content.decode()
    assert [c for c, _ in _bars(page, "unit")] == ["00004", "00008"]


def test_the_export_button_downloads_the_operators_play_log_of_the_day(city):
    operator = CommuneOperatorFactory(units=[city["units"][2]]).user
    client = signed_in(operator)
    html = client.get("/dashboard/", {"date": YESTERDAY.isoformat()}).content.decode()
    href = unescape(re.search(r'href="([^"]+)" data-testid="export-day-csv"', html).group(1))
    assert "Tải nhật ký phát (CSV)" in visible_text(html)
    response = client.get(href)  # the signed-in session, as the browser sends it
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    codes = {row[0] for row in rows[1:]}
    assert codes == {"C4", "C5"} and {row[6] for row in rows[1:]} == {YESTERDAY.isoformat()}
    month = unescape(re.search(r'href="([^"]+)" data-testid="export-month-csv"', html).group(1))
    assert client.get(month).status_code == 200
    # Narrowed to a unit that is not theirs: the export refuses, as the API does.
    assert client.get("/api/v1/reports/export.csv", {"from": YESTERDAY, "unit": "00004"}).status_code == 404


def test_the_monthly_report_has_the_months_figures_charts_and_signed_header(city, supervisor):
    month = f"{YESTERDAY:%Y-%m}"
    response = signed_in(supervisor).get("/dashboard/report/", {"month": month})
    assert response.status_code == 200
    html = response.content.decode()
    first = YESTERDAY.replace(day=1)
    expected = range_report(first, first.replace(day=calendar.monthrange(first.year, first.month)[1]))
    text = visible_text(html)
    assert f"Báo cáo độ phủ phát thanh tháng {YESTERDAY:%m/%Y}" in text
    assert "SỞ THÔNG TIN VÀ TRUYỀN THÔNG" in text and "Lập lúc" in text and "Người lập báo cáo" in text
    assert re.search(r'data-testid="total-played">(\d+)<', html).group(1) == str(expected.totals.played)
    assert _bars(html, "unit") == [(r.code, _value(r.counts.coverage_pct)) for r in expected.rows]
    assert "@media print" in open("broadcast/static/operations/coverage.css", encoding="utf-8").read()
    assert 'href="/static/operations/coverage.css"' in html


def test_the_monthly_report_names_the_department_of_the_settings(city, supervisor, settings):
    settings.DEPARTMENT_NAME = "Sở Văn hóa, Thể thao và Du lịch Hà Nội"
    response = signed_in(supervisor).get("/dashboard/report/", {"month": f"{YESTERDAY:%Y-%m}"})
    assert "SỞ VĂN HÓA, THỂ THAO VÀ DU LỊCH HÀ NỘI" in visible_text(response.content.decode())


def test_the_monthly_report_narrows_to_a_unit_and_refuses_a_bad_month_in_vietnamese(city, supervisor, editor):
    client = signed_in(supervisor)
    html = client.get("/dashboard/report/", {"month": f"{YESTERDAY:%Y-%m}", "unit": "00091"}).content.decode()
    assert [c for c, _ in _bars(html, "unit")] == ["00091"] and "Phường Tây Hồ" in visible_text(html)
    bad = client.get("/dashboard/report/", {"month": "2026-13"})
    assert bad.status_code == 400 and "không hợp lệ" in bad.content.decode()
    assert client.get("/dashboard/report/", {"month": "<script>"}).status_code == 400
    assert signed_in(editor).get("/dashboard/report/").status_code == 403


def test_a_month_before_july_2025_is_reported_by_district(supervisor):
    day = dt.date(2025, 6, 30)
    station = StationFactory(district=DistrictFactory(code="001", name="Quận Ba Đình"), code="Q1")
    ingest_reports(station, [report(make_playlist(station, day, [plain_bulletin()])[0], "p1")], now=local(day, "23:00"))
    html = signed_in(supervisor).get("/dashboard/report/", {"month": "2025-06"}).content.decode()
    assert "Theo quận/huyện (trước 01/07/2025)" in html and [c for c, _ in _bars(html, "district")] == ["001"]
