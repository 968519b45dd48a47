"""A station's page: header, timeline, slots edit (the API's rule), contact, token shown once, revoke,
history; operators read their area only."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from stations import health
from stations.models import Station, StationCredential, StationStatusChange
from stations.selectors import credential_for_token
from stations.services import issue_station_token
from tests.broadcast.factories_reports import make_playlist, plain_bulletin
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


@pytest.fixture
def station():
    unit = AdminUnitFactory(code="00070", name="Phường Hoàn Kiếm")
    s = StationFactory(code="HK/01", name="Đài phường Hàng Bạc", district=DistrictFactory(code="002"), unit=unit,
                       contact_name="Chị Lan", contact_phone="0912 345 678")
    health.record_heartbeat(s, agent_version="loa-agent 1.4.2", state={"disk_free_mb": 512})
    return s


@pytest.fixture
def other():
    return StationFactory(code="BD-01", district=DistrictFactory(code="001"), unit=AdminUnitFactory(code="00004"))


@pytest.fixture
def supervisor():
    return UserFactory(username="giamsat", roles=["supervisor"])


def url(station: Station) -> str:
    return f"/operations/stations/{station.code}/"


def test_page_shows_health_device_disk_contact_and_the_day(station, supervisor):
    make_playlist(station, timezone.localdate(), [plain_bulletin("Thông báo tiêm chủng")])
    response = signed_in(supervisor).get(url(station))
    assert response.status_code == 200
    text = visible_text(response.content.decode())
    for words in ("Đài phường Hàng Bạc", "HK/01", "Đang hoạt động", "vừa xong", "loa-agent 1.4.2", "512 MB",
                  "Chị Lan", "0912 345 678", "Phường Hoàn Kiếm", "Thông báo tiêm chủng", "Chưa kết nối → Đang hoạt động"):
        assert words in text, words
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_a_bad_date_falls_back_to_today(station, supervisor):
    response = signed_in(supervisor).get(url(station), {"date": "2025-13-40"})
    assert response.status_code == 200
    assert timezone.localdate().strftime("%d/%m/%Y") in visible_text(response.content.decode())


def test_unknown_code_is_404(supervisor):
    assert signed_in(supervisor).get("/operations/stations/NOPE/").status_code == 404


def test_district_operator_reads_their_station_but_another_district_is_404(station, other):
    operator = DistrictOperatorFactory(district=station.district).user
    client = signed_in(operator)
    response = client.get(url(station))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="slots-form"' not in html and "Cấp khóa mới" not in html  # read-only
    assert client.get(url(other)).status_code == 404


def test_commune_operator_another_unit_is_404(station, other):
    operator = CommuneOperatorFactory(units=[other.unit]).user
    client = signed_in(operator)
    assert client.get(url(other)).status_code == 200
    assert client.get(url(station)).status_code == 404
    assert client.post(url(station), {"action": "issue_token"}).status_code == 404


def test_operator_may_not_edit(station):
    operator = DistrictOperatorFactory(district=station.district).user
    client = signed_in(operator)
    before = list(station.slots)
    response = client.post(url(station), {"action": "slots", "slot_name": ["x"], "slot_start": ["01:00"],
                                          "slot_end": ["02:00"]})
    assert response.status_code == 403
    assert client.post(url(station), {"action": "issue_token"}).status_code == 403
    station.refresh_from_db()
    assert station.slots == before and not StationCredential.objects.filter(station=station).exists()


def test_supervisor_edits_slots_and_the_rule_orders_them(station, supervisor):
    client = signed_in(supervisor)
    response = client.post(url(station), {
        "action": "slots",
        "slot_name": ["evening", "morning", "", "noon"],
        "slot_start": ["17:00", "05:30", "", "11:00"],
        "slot_end": ["17:30", "06:00", "", "11:15"],
    })
    assert response.status_code == 302 and response["Location"] == url(station)
    station.refresh_from_db()
    assert station.slots == [{"name": "morning", "start": "05:30", "end": "06:00"},
                             {"name": "noon", "start": "11:00", "end": "11:15"},
                             {"name": "evening", "start": "17:00", "end": "17:30"}]
    assert "slots" in station.edited_fields  # a re-import keeps the person's edit, as the API's edit does
    assert "Đã lưu khung giờ" in visible_text(client.get(url(station)).content.decode())


@pytest.mark.parametrize(("names", "starts", "ends", "message"), [
    (["morning", "late"], ["06:00", "06:15"], ["06:30", "07:00"], "chồng nhau"),
    (["Sáng"], ["06:00"], ["06:30"], "tên khung giờ không hợp lệ"),
    (["morning"], ["07:00"], ["06:30"], "giờ kết thúc phải sau giờ bắt đầu"),
    (["now"], ["07:00"], ["07:30"], "dành cho bản tin phát ngay"),
    ([""], [""], [""], "cần ít nhất một khung giờ"),
    (["morning"], ["25:00"], ["26:00"], "giờ không hợp lệ"),
])
def test_invalid_slots_are_refused_in_vietnamese_and_nothing_is_lost(station, supervisor, names, starts, ends,
                                                                      message):
    before = list(station.slots)
    response = signed_in(supervisor).post(url(station), {"action": "slots", "slot_name": names,
                                                         "slot_start": starts, "slot_end": ends})
    assert response.status_code == 400
    html = response.content.decode()
    assert message in visible_text(html)
    for value in [*names, *starts]:
        if value:
            assert f'value="{value}"' in html  # what was typed is still in the form
    station.refresh_from_db()
    assert station.slots == before


def test_contact_edit_and_a_bad_phone(station, supervisor):
    client = signed_in(supervisor)
    response = client.post(url(station), {"action": "contact", "contact_name": "Anh Minh",
                                          "contact_phone": "+84 24 3825 1234"})
    assert response.status_code == 302
    station.refresh_from_db()
    assert (station.contact_name, station.contact_phone) == ("Anh Minh", "+84 24 3825 1234")
    response = client.post(url(station), {"action": "contact", "contact_name": "Chị Hoa", "contact_phone": "gọi tôi"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Số điện thoại chỉ gồm chữ số" in visible_text(html) and 'value="Chị Hoa"' in html
    station.refresh_from_db()
    assert station.contact_name == "Anh Minh"


def _shown_token(html: str) -> str | None:
    found = re.search(r'id="new-token-value"[^>]*value="([^"]+)"', html)
    return found.group(1) if found else None


def test_new_token_is_shown_once_and_works(station, supervisor):
    old = issue_station_token(station)
    client = signed_in(supervisor)
    response = client.post(url(station), {"action": "issue_token"})
    assert response.status_code == 302 and response["Location"] == url(station)
    page = client.get(url(station))
    token = _shown_token(page.content.decode())
    assert token and "chỉ hiện một lần" in visible_text(page.content.decode())
    assert credential_for_token(token).station == station
    assert credential_for_token(old) is None  # the old one is revoked
    assert "no-store" in page["Cache-Control"]
    again = client.get(url(station)).content.decode()  # a reload
    assert _shown_token(again) is None and token not in again
    assert token[:6] in again  # its prefix stays listed


def test_a_new_token_is_not_shown_on_another_station(station, other, supervisor):
    client = signed_in(supervisor)
    client.post(url(station), {"action": "issue_token"})
    assert _shown_token(client.get(url(other)).content.decode()) is None


def test_issue_and_revoke_ask_for_confirmation_first(station, supervisor):
    issue_station_token(station)
    client = signed_in(supervisor)
    html = client.get(url(station), {"confirm": "revoke"}).content.decode()
    assert 'data-testid="confirm-revoke"' in html and "Thu hồi khóa" in html
    html = client.get(url(station), {"confirm": "issue"}).content.decode()
    assert 'data-testid="confirm-issue"' in html


def test_revoke(station, supervisor):
    raw = issue_station_token(station)
    client = signed_in(supervisor)
    response = client.post(url(station), {"action": "revoke_token"})
    assert response.status_code == 302
    assert credential_for_token(raw) is None
    text = visible_text(client.get(url(station)).content.decode())
    assert "Đã thu hồi khóa" in text and "chưa có khóa nào đang dùng" in text


def test_unknown_action_is_400(station, supervisor):
    assert signed_in(supervisor).post(url(station), {"action": "explode"}).status_code == 400


def test_history_newest_first_and_paginated(station, supervisor):
    start = timezone.now() - timezone.timedelta(days=10)
    StationStatusChange.objects.bulk_create([
        StationStatusChange(station=station, from_status="online", to_status="late",
                            at=start + timezone.timedelta(hours=n)) for n in range(30)])
    client = signed_in(supervisor)
    html = client.get(url(station)).content.decode()
    rows = re.findall(r"<tr><td>(\d\d:\d\d \d\d/\d\d/\d{4})</td>", html.split('id="history"')[1])
    assert len(rows) == 20
    assert "Trang 1 / 2" in visible_text(html)
    html2 = client.get(url(station), {"history": 2}).content.decode()
    assert len(re.findall(r"<tr><td>", html2.split('id="history"')[1])) == 11


def test_station_page_query_count_is_bounded(station, supervisor, django_assert_max_num_queries):
    issue_station_token(station)
    make_playlist(station, timezone.localdate(), [plain_bulletin(), plain_bulletin()])
    client = signed_in(supervisor)
    client.get(url(station))
    with django_assert_max_num_queries(25):
        assert client.get(url(station)).status_code == 200
