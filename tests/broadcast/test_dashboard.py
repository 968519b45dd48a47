"""The supervisors' dashboard pages: access, the numbers shown, the station timeline, the login page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from broadcast.services.reports import ingest_reports
from stations import health
from stations.models import Station
from tests.broadcast.factories_reports import local, make_playlist, plain_bulletin, report
from tests.factories import (
    AdminUnitFactory,
    CommuneOperatorFactory,
    DistrictFactory,
    DistrictOperatorFactory,
    StationFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
YESTERDAY = timezone.localdate() - dt.timedelta(days=1)


def _browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def day_data():
    north, south = DistrictFactory(code="101", name="Quận Ba Đình"), DistrictFactory(code="102", name="Quận Tây Hồ")
    ba_dinh, tay_ho = AdminUnitFactory(code="00004", name="Phường Ba Đình"), AdminUnitFactory(code="00091", name="Phường Tây Hồ")
    a = StationFactory(district=north, unit=ba_dinh, code="D1", name="Đài Phường Trúc Bạch")
    b = StationFactory(district=south, unit=tay_ho, code="D2", name="Đài Phường Nhật Tân")
    bulletin = plain_bulletin("Phòng chống sốt xuất huyết")
    items_a = make_playlist(a, YESTERDAY, [bulletin])
    make_playlist(b, YESTERDAY, [bulletin])
    ingest_reports(a, [report(items_a[0], "p1")])
    t0 = timezone.now() - dt.timedelta(days=1)
    health.record_heartbeat(b, now=t0)
    health.sweep_statuses(now=t0 + dt.timedelta(hours=3))
    health.record_heartbeat(a)
    return {"a": a, "b": b, "units": (ba_dinh, tay_ho)}


def test_anonymous_is_sent_to_the_vietnamese_login_page():
    resp = Client().get("/dashboard/")
    assert resp.status_code == 302 and resp["Location"].startswith("/accounts/login/")
    page = Client().get(resp["Location"]).content.decode()
    assert "Đăng nhập" in page and "Mật khẩu" in page


def test_login_form_logs_a_supervisor_in_and_lands_on_the_dashboard():
    UserFactory(username="giamsat1", roles=["supervisor"])
    client = Client()
    resp = client.post("/accounts/login/", {"username": "giamsat1", "password": "mat-khau-thu-nghiem",
                                            "next": "/dashboard/"})
    assert resp.status_code == 302 and resp["Location"] == "/dashboard/"
    assert client.get("/dashboard/").status_code == 200
    bad = Client().post("/accounts/login/", {"username": "giamsat1", "password": "sai"})
    assert "không đúng" in bad.content.decode()


def test_editors_may_not_open_the_dashboard(editor):
    assert _browser(editor).get("/dashboard/").status_code == 403


def test_dashboard_shows_city_coverage_by_unit_since_july_2025_and_silent_stations(day_data, supervisor, client_for):
    page = _browser(supervisor).get("/dashboard/", {"date": YESTERDAY.isoformat()})
    assert page.status_code == 200
    html = page.content.decode()
    api = client_for(supervisor).get("/api/v1/coverage/", {"date": YESTERDAY.isoformat()}).json()
    assert api["totals"]["coverage_pct"] == 25.0
    assert 'data-testid="coverage-pct">25,0%' in html or 'data-testid="coverage-pct">25.0%' in html
    assert "Theo xã/phường (từ 01/07/2025)" in html
    assert 'data-unit="00004"' in html and 'data-unit="00091"' in html and "data-district=" not in html
    assert '<select id="unit" name="unit">' in html and "Phường Tây Hồ" in html
    # The silent station is listed with its last-seen time; the online one with a playlist is not.
    attention = html.split('id="attention"')[1]
    assert "Đài Phường Nhật Tân" in attention and "Mất liên lạc" in attention
    assert "Đài Phường Trúc Bạch" not in attention
    assert "Mất liên lạc: 1" in html and "Đang hoạt động: 1" in html


def test_district_operator_sees_only_their_district(day_data, supervisor):
    operator = DistrictOperatorFactory(district=day_data["a"].district).user
    client = _browser(operator)
    html = client.get("/dashboard/", {"date": YESTERDAY.isoformat(), "unit": "00091"}).content.decode()
    assert 'data-unit="00004"' in html and 'data-unit="00091"' not in html
    assert "Đài Phường Nhật Tân" not in html and "<select" not in html
    assert client.get(f"/dashboard/stations/{day_data['b'].code}/").status_code == 404


def test_commune_operator_sees_only_their_unit_and_no_select_of_others(day_data):
    operator = CommuneOperatorFactory(units=[day_data["units"][1]]).user
    client = _browser(operator)
    html = client.get("/dashboard/", {"date": YESTERDAY.isoformat()}).content.decode()
    assert 'data-unit="00091"' in html and 'data-unit="00004"' not in html
    assert "<select" not in html and "Phường Ba Đình" not in html
    assert client.get(f"/dashboard/stations/{day_data['a'].code}/").status_code == 404
    old_link = client.get(f"/dashboard/stations/{day_data['b'].code}/", {"date": YESTERDAY.isoformat()})
    assert old_link.status_code == 302
    assert old_link["Location"] == f"/operations/stations/{day_data['b'].code}/?date={YESTERDAY.isoformat()}"
    assert client.get(old_link["Location"]).status_code == 200


def test_a_day_before_july_2025_is_shown_by_district_with_the_district_filter(supervisor):
    old_day = dt.date(2025, 6, 30)
    north, south = DistrictFactory(code="101", name="Quận Ba Đình"), DistrictFactory(code="102", name="Quận Tây Hồ")
    a = StationFactory(district=north, unit=AdminUnitFactory(code="00004", name="Phường Ba Đình"), code="D1")
    b = StationFactory(district=south, code="D2")
    bulletin = plain_bulletin("Phòng chống sốt xuất huyết")
    ingest_reports(a, [report(make_playlist(a, old_day, [bulletin])[0], "p1")], now=local(old_day, "20:00"))
    make_playlist(b, old_day, [bulletin])
    client = _browser(supervisor)
    html = client.get("/dashboard/", {"date": old_day.isoformat()}).content.decode()
    assert "Theo quận/huyện (trước 01/07/2025)" in html
    assert 'data-district="101"' in html and 'data-district="102"' in html and "data-unit=" not in html
    assert '<select id="district" name="district">' in html
    only = client.get("/dashboard/", {"date": old_day.isoformat(), "district": "102"}).content.decode()
    assert 'data-district="102"' in only and 'data-district="101"' not in only
    # The next day is on the two-level map: its link does not carry the district filter over as a unit.
    assert "?date=2025-07-01&district=102" in only


def test_old_station_links_lead_to_the_station_page_of_the_same_day(day_data, supervisor):
    """The station's day moved to the station page (/operations/stations/<code>/): an old dashboard link
    (a bookmark, a printed report) redirects there with its date, and the page shows that day's plays."""
    station = day_data["b"]
    client = _browser(supervisor)
    resp = client.get(f"/dashboard/stations/{station.code}/", {"date": YESTERDAY.isoformat()}, follow=True)
    assert resp.redirect_chain == [(f"/operations/stations/{station.code}/?date={YESTERDAY.isoformat()}", 302)]
    assert resp.status_code == 200
    html = resp.content.decode()
    assert station.name in html and "Phòng chống sốt xuất huyết" in html
    # A malformed date is today's, as on every coverage page.
    today = timezone.localdate().isoformat()
    assert client.get(f"/dashboard/stations/{station.code}/", {"date": "hôm qua"})["Location"].endswith(today)


def test_the_overview_links_stations_to_their_station_page(day_data, supervisor):
    html = _browser(supervisor).get("/dashboard/", {"date": YESTERDAY.isoformat()}).content.decode()
    assert f'href="/operations/stations/{day_data["b"].code}/?date={YESTERDAY.isoformat()}"' in html


def test_dashboard_query_count_does_not_grow_with_stations(supervisor, django_assert_max_num_queries):
    bulletin = plain_bulletin()
    for n in range(30):
        station = StationFactory(status=Station.Status.SILENT if n % 3 == 0 else Station.Status.ONLINE)
        make_playlist(station, YESTERDAY, [bulletin])
    client = _browser(supervisor)
    with django_assert_max_num_queries(15):
        assert client.get("/dashboard/", {"date": YESTERDAY.isoformat()}).status_code == 200
