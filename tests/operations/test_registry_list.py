"""The stations list: scope, filters, search without diacritics, health counts, today's plays, pages."""

from __future__ import annotations

import pytest
from django.utils import timezone

from stations import health
from stations.models import Station
from tests.broadcast.factories_reports import make_playlist, plain_bulletin, report
from tests.factories import (
    AdminUnitFactory,
    CommuneOperatorFactory,
    DistrictFactory,
    DistrictOperatorFactory,
    StationFactory,
    UserFactory,
)
from tests.newsroom.pages import signed_in, visible_text

pytestmark = pytest.mark.django_db
URL = "/operations/stations/"


@pytest.fixture
def city():
    d1 = DistrictFactory(code="001", name="Quận Ba Đình")
    d2 = DistrictFactory(code="002", name="Quận Hoàn Kiếm")
    u1 = AdminUnitFactory(code="00004", name="Phường Ba Đình")
    u2 = AdminUnitFactory(code="00070", name="Phường Hoàn Kiếm")
    a = StationFactory(code="BD-01", name="Đài phường Điện Biên", district=d1, unit=u1)
    b = StationFactory(code="BD-02", name="Đài phường Kim Mã", district=d1, unit=u1)
    c = StationFactory(code="HK/01", name="Đài phường Hàng Bạc", district=d2, unit=u2)
    health.record_heartbeat(a, agent_version="loa-agent 1.4.2", state={"disk_free_mb": 2048.0})
    Station.objects.filter(pk=b.pk).update(status=Station.Status.SILENT)
    return {"d1": d1, "d2": d2, "u1": u1, "u2": u2, "a": a, "b": b, "c": c}


@pytest.fixture
def supervisor():
    return UserFactory(username="giamsat", roles=["supervisor"])


def _codes(response) -> list[str]:
    import re

    return re.findall(r'<tr data-code="([^"]+)"', response.content.decode())


def test_supervisor_sees_every_station_with_health_device_and_disk(city, supervisor):
    response = signed_in(supervisor).get(URL)
    assert response.status_code == 200
    assert _codes(response) == ["BD-01", "BD-02", "HK/01"]
    text = visible_text(response.content.decode())
    assert "Đang hoạt động" in text and "Mất liên lạc" in text and "Chưa kết nối" in text
    assert "loa-agent 1.4.2" in text and "2048 MB" in text
    assert "vừa xong" in text
    assert 'href="/operations/stations/HK/01/"' in response.content.decode()


def test_counts_per_status_at_the_top(city, supervisor):
    html = signed_in(supervisor).get(URL).content.decode()
    text = visible_text(html)
    assert "Tất cả 3" in text
    assert "Mất liên lạc 1" in text and "Đang hoạt động 1" in text and "Chưa kết nối 1" in text


def test_filter_by_status_keeps_the_counts_of_every_status(city, supervisor):
    response = signed_in(supervisor).get(URL, {"status": "silent"})
    assert _codes(response) == ["BD-02"]
    assert "Đang hoạt động 1" in visible_text(response.content.decode())


def test_filter_by_unit_and_by_old_district(city, supervisor):
    client = signed_in(supervisor)
    assert _codes(client.get(URL, {"unit": "00070"})) == ["HK/01"]
    assert _codes(client.get(URL, {"district": "001"})) == ["BD-01", "BD-02"]


def test_search_ignores_case_and_diacritics(city, supervisor):
    client = signed_in(supervisor)
    assert _codes(client.get(URL, {"q": "dien bien"})) == ["BD-01"]
    assert _codes(client.get(URL, {"q": "HANG BAC"})) == ["HK/01"]
    assert _codes(client.get(URL, {"q": "hk/0"})) == ["HK/01"]
    assert _codes(client.get(URL, {"q": "(["})) == []


def test_sort_by_health_puts_silent_first(city, supervisor):
    assert _codes(signed_in(supervisor).get(URL, {"sort": "health"})) == ["BD-02", "HK/01", "BD-01"]


def test_unknown_status_is_a_vietnamese_message_not_a_500(city, supervisor):
    response = signed_in(supervisor).get(URL, {"status": "burning"})
    assert response.status_code == 400
    assert "Bộ lọc chưa hợp lệ" in visible_text(response.content.decode())


def test_district_operator_sees_only_their_district(city):
    operator = DistrictOperatorFactory(district=city["d1"]).user
    response = signed_in(operator).get(URL)
    assert _codes(response) == ["BD-01", "BD-02"]
    assert 'name="district"' not in response.content.decode()  # the old districts: only for who sees all


def test_commune_operator_sees_only_their_units_and_another_unit_is_404(city):
    operator = CommuneOperatorFactory(units=[city["u2"]]).user
    client = signed_in(operator)
    assert _codes(client.get(URL)) == ["HK/01"]
    assert client.get(URL, {"unit": "00070"}).status_code == 200
    assert client.get(URL, {"unit": "00004"}).status_code == 400  # not among their choices
    # The old districts are no filter of theirs: the parameter changes nothing.
    assert _codes(client.get(URL, {"district": "001"})) == ["HK/01"]


def test_editor_may_not_open_the_registry(city):
    assert signed_in(UserFactory(username="bt", roles=["editor"])).get(URL).status_code == 403


def test_signed_out_goes_to_login(city, client):
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_today_plays_done_of_expected(city, supervisor):
    from broadcast.services.reports import ingest_reports

    today = timezone.localdate()
    items = make_playlist(city["a"], today, [plain_bulletin()])
    ingest_reports(city["a"], [report(items[0], "r1")])
    html = signed_in(supervisor).get(URL, {"q": "BD-01"}).content.decode()
    assert f"1 / {len(items)}" in visible_text(html)


def test_htmx_request_gets_only_the_results(city, supervisor):
    response = signed_in(supervisor).get(URL, {"status": "online"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<html" not in html and _codes(response) == ["BD-01"]


def test_pages_of_fifty(supervisor):
    district = DistrictFactory()
    for n in range(55):
        StationFactory(code=f"P{n:03d}", district=district)
    client = signed_in(supervisor)
    assert len(_codes(client.get(URL))) == 50
    assert _codes(client.get(URL, {"page": 2})) == [f"P{n:03d}" for n in range(50, 55)]


@pytest.mark.parametrize("rows", [3, 40])
def test_query_count_does_not_grow_with_rows(supervisor, django_assert_max_num_queries, rows):
    district = DistrictFactory()
    unit = AdminUnitFactory()
    bulletin = plain_bulletin()
    today = timezone.localdate()
    for n in range(rows):
        station = StationFactory(code=f"Q{n:03d}", district=district, unit=unit)
        make_playlist(station, today, [bulletin])
    client = signed_in(supervisor)
    client.get(URL)  # sessions, content types warmed
    with django_assert_max_num_queries(16):
        response = client.get(URL)
    assert len(_codes(response)) == rows
