"""The supervisors' dashboard pages: access, the numbers shown, the station timeline, the login page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from broadcast.services.reports import ingest_reports
from stations import health
from stations.models import Station
from tests.broadcast.factories_reports import make_playlist, plain_bulletin, report
from tests.factories import DistrictFactory, DistrictOperatorFactory, StationFactory, UserFactory

pytestmark = pytest.mark.django_db
YESTERDAY = timezone.localdate() - dt.timedelta(days=1)


def _browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def day_data():
    north, south = DistrictFactory(code="101", name="Quận Ba Đình"), DistrictFactory(code="102", name="Quận Tây Hồ")
    a = StationFactory(district=north, code="D1", name="Đài Phường Trúc Bạch")
    b = StationFactory(district=south, code="D2", name="Đài Phường Nhật Tân")
    bulletin = plain_bulletin("Phòng chống sốt xuất huyết")
    items_a = make_playlist(a, YESTERDAY, [bulletin])
    make_playlist(b, YESTERDAY, [bulletin])
    ingest_reports(a, [report(items_a[0], "p1")])
    t0 = timezone.now() - dt.timedelta(days=1)
    health.record_heartbeat(b, now=t0)
    health.sweep_statuses(now=t0 + dt.timedelta(hours=3))
    health.record_heartbeat(a)
    return {"a": a, "b": b}


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


def test_dashboard_shows_city_coverage_districts_and_silent_stations(day_data, supervisor, client_for):
    page = _browser(supervisor).get("/dashboard/", {"date": YESTERDAY.isoformat()})
    assert page.status_code == 200
    html = page.content.decode()
    api = client_for(supervisor).get("/api/v1/coverage/", {"date": YESTERDAY.isoformat()}).json()
    assert api["totals"]["coverage_pct"] == 25.0
    assert 'data-testid="coverage-pct">25,0%' in html or 'data-testid="coverage-pct">25.0%' in html
    assert "Quận Ba Đình" in html and "Quận Tây Hồ" in html
    assert 'data-district="101"' in html and 'data-district="102"' in html
    # The silent station is listed with its last-seen time; the online one with a playlist is not.
    attention = html.split('id="attention"')[1]
    assert "Đài Phường Nhật Tân" in attention and "Mất liên lạc" in attention
    assert "Đài Phường Trúc Bạch" not in attention
    assert "Mất liên lạc: 1" in html and "Đang hoạt động: 1" in html


def test_district_operator_sees_only_their_district(day_data, supervisor):
    operator = DistrictOperatorFactory(district=day_data["a"].district).user
    client = _browser(operator)
    html = client.get("/dashboard/", {"date": YESTERDAY.isoformat(), "district": "102"}).content.decode()
    assert 'data-district="101"' in html and 'data-district="102"' not in html
    assert "Đài Phường Nhật Tân" not in html
    assert client.get(f"/dashboard/stations/{day_data['b'].code}/").status_code == 404


def test_station_timeline_shows_plays_outcomes_and_status_changes(day_data, supervisor):
    station = day_data["b"]
    when = timezone.localtime(Station.objects.get(pk=station.pk).status_changed_at).date()
    html = _browser(supervisor).get(f"/dashboard/stations/{station.code}/", {"date": YESTERDAY.isoformat()}
                                    ).content.decode()
    assert "Phòng chống sốt xuất huyết" in html
    assert html.count('class="badge missed">Bỏ lỡ') == 2
    changes = _browser(supervisor).get(f"/dashboard/stations/{station.code}/", {"date": when.isoformat()}
                                       ).content.decode()
    assert "Mất liên lạc" in changes.split('id="status-changes"')[1]


def test_dashboard_query_count_does_not_grow_with_stations(supervisor, django_assert_max_num_queries):
    bulletin = plain_bulletin()
    for n in range(30):
        station = StationFactory(status=Station.Status.SILENT if n % 3 == 0 else Station.Status.ONLINE)
        make_playlist(station, YESTERDAY, [bulletin])
    client = _browser(supervisor)
    with django_assert_max_num_queries(15):
        assert client.get("/dashboard/", {"date": YESTERDAY.isoformat()}).status_code == 200
