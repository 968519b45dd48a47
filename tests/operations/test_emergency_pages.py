"""Emergency pages: choose an approved emergency bulletin, confirm with the number of stations, send once;
follow who confirmed (counts, whom to phone), scoped for operators; cancel."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from broadcast.models import Bulletin, PlaylistItem, Schedule
from broadcast.selectors import emergency as selectors
from broadcast.services.reports import ingest_reports
from broadcast.services.schedules import create_schedule
from stations.models import EMERGENCY_SLOT, Station
from stations.selectors import EVERYTHING, user_scope
from tests.broadcast.factories_reports import plain_bulletin, report
from tests.factories import (
    AdminUnitFactory,
    CommuneOperatorFactory,
    DistrictFactory,
    DistrictOperatorFactory,
    StationFactory,
)
from tests.newsroom.pages import signed_in, visible_text

URL = "/operations/emergency/"


def emergency_bulletin(title: str = "Khẩn cấp: bão số 5 đổ bộ") -> Bulletin:
    bulletin = plain_bulletin(title, duration_ms=95_000)
    Bulletin.objects.filter(pk=bulletin.pk).update(priority=Bulletin.Priority.EMERGENCY)
    bulletin.refresh_from_db()
    return bulletin


@pytest.fixture
def city(db):
    return make_city()


def make_city() -> dict:
    """Two districts, one new unit spanning part of the first; five stations of varied health."""
    north, south = DistrictFactory(name="Quận Bắc"), DistrictFactory(name="Quận Nam")
    unit = AdminUnitFactory(name="Phường Hồng Hà")
    stations = [
        StationFactory(district=north, unit=unit, status=Station.Status.ONLINE, contact_name="Nguyễn Văn An",
                       contact_phone="0912 345 678"),
        StationFactory(district=north, unit=unit, status=Station.Status.SILENT, contact_name="Trần Thị Bình",
                       contact_phone="0987654321", last_seen_at=timezone.now() - dt.timedelta(days=2)),
        StationFactory(district=north, status=Station.Status.NEVER),
        StationFactory(district=south, status=Station.Status.ONLINE),
        StationFactory(district=south, status=Station.Status.LATE),
    ]
    StationFactory(district=south, active=False)
    return {"north": north, "south": south, "unit": unit, "stations": stations}


def send(supervisor, bulletin, targets=None, capture=None):
    with capture(execute=True):
        schedule = create_schedule(bulletin, by=supervisor, start_date=None, end_date=None, slots=[],
                                   targets=targets or {"all": True}, immediate=True)
    return schedule


def item_of(schedule, station) -> PlaylistItem:
    return PlaylistItem.objects.get(schedule=schedule, slot=EMERGENCY_SLOT, playlist__station=station)


# ---------------------------------------------------------------- sending through the page


def test_review_states_bulletin_duration_and_exact_station_counts(supervisor, city):
    bulletin = emergency_bulletin()
    client = signed_in(supervisor)
    page = client.get(URL)
    assert page.status_code == 200
    assert bulletin.title in visible_text(page.content.decode())
    review = client.post(URL, {"step": "review", "bulletin": bulletin.pk, "target": "all"})
    assert review.status_code == 200
    text = visible_text(review.content.decode())
    assert "Khẩn cấp: bão số 5 đổ bộ" in text
    assert "01:35" in text  # 95 s
    assert "5 đài" in text  # five active stations, the inactive one not counted
    assert "1 đài mất liên lạc, 1 đài chưa kết nối lần nào" in text
    assert "Phát khẩn cấp" in text
    assert not Schedule.objects.exists()  # reviewing never sends


def test_sending_a_unit_reaches_only_its_stations_once_and_a_second_click_does_not_send_again(
        supervisor, city, django_capture_on_commit_callbacks):
    bulletin = emergency_bulletin()
    client = signed_in(supervisor)
    review = client.post(URL, {"step": "review", "bulletin": bulletin.pk, "target": "units",
                               "units": [city["unit"].code]})
    assert "2 đài" in visible_text(review.content.decode())
    token = review.context["token"]
    data = {"step": "send", "token": token, "bulletin": bulletin.pk, "target": "units", "units": [city["unit"].code]}
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(URL, data)
    schedule = Schedule.objects.get()
    assert sent.status_code == 302 and sent["Location"] == f"{URL}{schedule.pk}/"
    assert schedule.immediate and schedule.targets["units"] == [city["unit"].code]
    assert schedule.target_station_count == 2
    assert PlaylistItem.objects.filter(schedule=schedule, slot=EMERGENCY_SLOT).count() == 2
    again = client.post(URL, data)  # the same token twice (a double click, a resent form)
    assert again.status_code == 302 and again["Location"] == f"{URL}{schedule.pk}/"
    fresh = client.post(URL, {**data, "token": client.post(URL, {**data, "step": "review"}).context["token"]})
    assert fresh.status_code == 302  # even a new token within the minute answers with the one just sent
    assert Schedule.objects.count() == 1


def test_a_forged_token_sends_nothing_and_asks_to_confirm_again(supervisor, city):
    bulletin = emergency_bulletin()
    response = signed_in(supervisor).post(URL, {"step": "send", "token": "gia-mao", "bulletin": bulletin.pk,
                                                "target": "all"})
    assert response.status_code == 400
    assert "Phiếu xác nhận đã dùng hoặc đã hết hạn" in visible_text(response.content.decode())
    assert not Schedule.objects.exists()


def test_a_normal_bulletin_is_refused_in_vietnamese(supervisor, city):
    normal = plain_bulletin("Lịch tiêm chủng")
    client = signed_in(supervisor)
    assert "Lịch tiêm chủng" not in visible_text(client.get(URL).content.decode())
    response = client.post(URL, {"step": "send", "token": "x", "bulletin": normal.pk, "target": "all"})
    assert response.status_code == 400
    assert "không (còn) là bản tin khẩn cấp đã duyệt" in visible_text(response.content.decode())
    assert not Schedule.objects.exists()


def test_a_bulletin_archived_between_review_and_send_is_refused_with_a_message(supervisor, city):
    bulletin = emergency_bulletin()
    client = signed_in(supervisor)
    token = client.post(URL, {"step": "review", "bulletin": bulletin.pk, "target": "all"}).context["token"]
    Bulletin.objects.filter(pk=bulletin.pk).update(status=Bulletin.Status.ARCHIVED)
    response = client.post(URL, {"step": "send", "token": token, "bulletin": bulletin.pk, "target": "all"})
    assert response.status_code == 400
    assert "Bản tin này không (còn)" in visible_text(response.content.decode())
    assert not Schedule.objects.exists()


@pytest.mark.parametrize("data", [
    {},
    {"step": "review", "bulletin": "abc", "target": "all"},
    {"step": "review", "bulletin": "999999", "target": "all"},
    {"step": "review", "target": "units"},
    {"step": "send", "target": "nowhere", "units": ["<script>"]},
    {"step": "review", "target": "units", "units": ["00000"]},
])
def test_bad_input_re_renders_the_form_with_a_vietnamese_message_never_a_500(supervisor, city, data):
    emergency_bulletin()
    response = signed_in(supervisor).post(URL, data)
    assert response.status_code == 400
    text = visible_text(response.content.decode())
    assert "Chọn" in text or "Không tìm thấy" in text or "không hợp lệ" in text
    assert not Schedule.objects.exists()


def test_units_chosen_without_any_are_asked_for(supervisor, city):
    bulletin = emergency_bulletin()
    response = signed_in(supervisor).post(URL, {"step": "review", "bulletin": bulletin.pk, "target": "units"})
    assert "Chọn ít nhất một xã/phường" in visible_text(response.content.decode())


def test_only_supervisors_send(city, district_operator):
    client = signed_in(district_operator)
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"step": "review"}).status_code == 403


# ---------------------------------------------------------------- the live page


def test_counts_follow_the_reports_and_silent_stations_come_first_in_the_call_list(
        supervisor, city, django_capture_on_commit_callbacks):
    bulletin = emergency_bulletin()
    schedule = send(supervisor, bulletin, capture=django_capture_on_commit_callbacks)
    online, silent, never, online2, late = city["stations"]
    ingest_reports(online, [report(item_of(schedule, online), "e1")])
    ingest_reports(late, [report(item_of(schedule, late), "e2", status="failed", error="Mất điện")])
    live = selectors.confirmations(schedule, EVERYTHING)
    assert (live.counts.targeted, live.counts.confirmed, live.counts.trouble, live.counts.waiting) == (5, 1, 1, 3)
    assert [r.code for r in live.to_call] == [silent.code, never.code, late.code, online2.code]
    assert live.to_call[0].tel == "0987654321" and not live.finished

    client = signed_in(supervisor)
    page = client.get(f"{URL}{schedule.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'hx-trigger="every 3s"' in html
    assert 'href="tel:0987654321"' in html and "Trần Thị Bình" in html
    assert "Lỗi phát" in visible_text(html)
    partial = client.get(f"{URL}{schedule.pk}/", HTTP_HX_REQUEST="true")
    assert partial.status_code == 200 and b"<html" not in partial.content and b'data-testid="live"' in partial.content

    for n, station in enumerate((silent, never, online2, late)):
        ingest_reports(station, [report(item_of(schedule, station), f"f{n}")])
    done = client.get(f"{URL}{schedule.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in done  # everyone confirmed: the polling stops
    assert "Mọi đài đã xác nhận" in visible_text(done)


def test_the_live_page_reads_a_fixed_number_of_queries_whatever_the_station_count(
        supervisor, city, django_capture_on_commit_callbacks):
    bulletin = emergency_bulletin()
    schedule = send(supervisor, bulletin, capture=django_capture_on_commit_callbacks)
    client = signed_in(supervisor)
    client.get(f"{URL}{schedule.pk}/")
    with CaptureQueriesContext(connection) as few:
        client.get(f"{URL}{schedule.pk}/", HTTP_HX_REQUEST="true")
    StationFactory.create_batch(20, district=city["south"])
    second = send(supervisor, emergency_bulletin("Khẩn cấp: lũ"), capture=django_capture_on_commit_callbacks)
    with CaptureQueriesContext(connection) as many:
        response = client.get(f"{URL}{second.pk}/", HTTP_HX_REQUEST="true")
    assert response.content.decode().count('data-testid="call-row"') == 25
    assert len(many) == len(few)


def test_operators_see_only_their_stations_and_nothing_outside_their_area(
        supervisor, city, django_capture_on_commit_callbacks):
    bulletin = emergency_bulletin()
    south_only = send(supervisor, bulletin, {"districts": [city["south"].code]},
                      capture=django_capture_on_commit_callbacks)
    Schedule.objects.filter(pk=south_only.pk).update(created_at=timezone.now() - dt.timedelta(minutes=5))
    everywhere = send(supervisor, emergency_bulletin("Khẩn cấp: cháy rừng"),
                      capture=django_capture_on_commit_callbacks)
    operator = DistrictOperatorFactory(district=city["north"]).user
    client = signed_in(operator)
    assert client.get(f"{URL}{south_only.pk}/").status_code == 404
    page = client.get(f"{URL}{everywhere.pk}/")
    assert page.status_code == 200
    assert page.content.decode().count('data-testid="call-row"') == 3
    assert "Hủy phát khẩn cấp" not in page.content.decode()
    live = selectors.confirmations(everywhere, user_scope(operator))
    assert live.counts.targeted == 3 and not live.whole
    commune = CommuneOperatorFactory(units=[city["unit"]]).user
    assert signed_in(commune).get(f"{URL}{everywhere.pk}/").content.decode().count('data-testid="call-row"') == 2
    listed = client.get(f"{URL}{everywhere.pk}/stations/").content.decode()
    assert listed.count('data-testid="station-row"') == 3
    assert client.get(f"{URL}{south_only.pk}/stations/").status_code == 404
    assert client.post(f"{URL}{everywhere.pk}/cancel/", {"confirm": "yes"}).status_code == 403
    assert client.get(f"{URL}99999/").status_code == 404


def test_a_poll_sends_the_counts_and_a_capped_call_list_never_the_confirmed_stations(
        supervisor, city, django_capture_on_commit_callbacks, monkeypatch):
    schedule = send(supervisor, emergency_bulletin(), capture=django_capture_on_commit_callbacks)
    online, silent, never, online2, late = city["stations"]
    ingest_reports(online, [report(item_of(schedule, online), "c1")])
    monkeypatch.setattr(selectors, "TO_CALL_LIMIT", 2)
    poll = signed_in(supervisor).get(f"{URL}{schedule.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert [f'data-station="{s.code}"' in poll for s in (silent, never, late, online2)] == [True, True, False, False]
    assert online.code not in poll and 'data-testid="station-row"' not in poll
    assert "và 2 đài khác" in visible_text(poll)
    assert f'href="{URL}{schedule.pk}/stations/?state=to_call"' in poll
    assert f'href="{URL}{schedule.pk}/stations/?state=confirmed"' in poll


def test_the_full_list_shows_one_state_a_page_at_a_time(
        supervisor, city, django_capture_on_commit_callbacks, monkeypatch):
    schedule = send(supervisor, emergency_bulletin(), capture=django_capture_on_commit_callbacks)
    online, silent, never, online2, late = city["stations"]
    for n, station in enumerate((online, online2, late)):
        ingest_reports(station, [report(item_of(schedule, station), f"l{n}")])
    client = signed_in(supervisor)
    monkeypatch.setattr("broadcast.operations.emergency.STATIONS_PER_PAGE", 2)
    first = client.get(f"{URL}{schedule.pk}/stations/", {"state": "confirmed"})
    html = first.content.decode()
    assert first.status_code == 200 and "hx-trigger" not in html
    codes = sorted(s.code for s in (online, online2, late))
    assert [c for c in codes if f'data-station="{c}"' in html] == codes[:2]
    assert "Trang 1/2" in visible_text(html) and "state=confirmed&amp;page=2" in html
    second = client.get(f"{URL}{schedule.pk}/stations/", {"state": "confirmed", "page": "2"}).content.decode()
    assert f'data-station="{codes[2]}"' in second and 'data-outcome="confirmed"' in second
    assert client.get(f"{URL}{schedule.pk}/stations/", {"page": "abc"}).status_code == 200
    bad = client.get(f"{URL}{schedule.pk}/stations/", {"state": "<script>"})
    assert bad.status_code == 400 and "Trạng thái không hợp lệ" in visible_text(bad.content.decode())


def test_a_scheduled_not_immediate_schedule_is_not_an_emergency_page(supervisor, city):
    bulletin = emergency_bulletin()
    schedule = create_schedule(bulletin, by=supervisor, start_date=timezone.localdate() + dt.timedelta(days=1),
                               end_date=timezone.localdate() + dt.timedelta(days=1), slots=["evening"],
                               targets={"all": True})
    assert signed_in(supervisor).get(f"{URL}{schedule.pk}/").status_code == 404


def test_cancel_needs_the_confirmation_box_then_stops_the_polling(
        supervisor, city, django_capture_on_commit_callbacks):
    schedule = send(supervisor, emergency_bulletin(), capture=django_capture_on_commit_callbacks)
    client = signed_in(supervisor)
    client.post(f"{URL}{schedule.pk}/cancel/", {})
    schedule.refresh_from_db()
    assert schedule.cancelled_at is None
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"{URL}{schedule.pk}/cancel/", {"confirm": "yes"})
    schedule.refresh_from_db()
    assert schedule.cancelled_by == supervisor
    # What the page says: a play already in today's playlists is not recalled (the planner freezes it).
    assert PlaylistItem.objects.filter(schedule=schedule, slot=EMERGENCY_SLOT).count() == 5
    html = client.get(f"{URL}{schedule.pk}/").content.decode()
    assert "hx-trigger" not in html and "Đã hủy" in visible_text(html)
    again = client.post(f"{URL}{schedule.pk}/cancel/", {"confirm": "yes"}, follow=True)
    assert "đã bị hủy" in visible_text(again.content.decode())


def test_recent_emergencies_show_their_confirmation_counts(supervisor, city, django_capture_on_commit_callbacks):
    schedule = send(supervisor, emergency_bulletin(), capture=django_capture_on_commit_callbacks)
    station = city["stations"][0]
    ingest_reports(station, [report(item_of(schedule, station), "r")])
    recent = selectors.recent_emergencies()
    assert [(r.schedule.pk, r.counts.targeted, r.counts.confirmed, r.counts.waiting) for r in recent] == [
        (schedule.pk, 5, 1, 4)]
    row = visible_text(signed_in(supervisor).get(URL).content.decode())
    assert "1 (20%)" in row
