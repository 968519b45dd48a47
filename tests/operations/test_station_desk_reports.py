"""A station operator's press becomes a playback report as a device's would: one per press, idempotent,
refused with a Vietnamese message (the form re-rendered, the reason kept) when it cannot be true."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from broadcast.models import PlaybackReport, PlaylistItem
from broadcast.services import station_desk as desk
from tests.broadcast.factories_reports import freeze
from tests.factories import UserFactory
from tests.newsroom.pages import signed_in, visible_text
from tests.operations.factories_station_desk import desk_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return desk_world()


def _url(item) -> str:
    return f"/my-station/items/{item.pk}/report/"


def _press(client, item, outcome="played", press_id=None, reason="", **headers):
    body = {"outcome": outcome, "press_id": press_id or desk.new_press_id(), "reason": reason}
    return client.post(_url(item), body, **headers)


def test_pressing_played_stores_one_report_at_the_planned_start_and_comes_back_to_the_page(world):
    client = signed_in(world.operator)
    press_id = desk.new_press_id()
    with freeze(world.noon):
        response = _press(client, world.morning, press_id=press_id)
    assert response.status_code == 302
    assert response["Location"] == f"/my-station/#item-{world.morning.pk}"
    report = PlaybackReport.objects.get()
    assert (report.report_id, report.status, report.station_id) == (f"op-{press_id}", "played", world.station.pk)
    assert report.started_at == world.morning.starts_at and report.ended_at is None
    assert report.playlist_item_id == world.morning.pk and report.error == ""
    assert PlaylistItem.objects.get(pk=world.morning.pk).report_status == "played"
    with freeze(world.noon):
        page = client.get("/my-station/")
    text = visible_text(page.content.decode())
    assert "Đã ghi nhận: «Lịch tiêm chủng tuần này» đã phát." in text


def test_pressing_twice_or_resending_the_same_form_stores_one_report_and_a_new_form_a_new_one(world):
    client = signed_in(world.operator)
    press_id = desk.new_press_id()
    with freeze(world.noon):
        _press(client, world.morning, press_id=press_id)
        again = _press(client, world.morning, press_id=press_id)
        assert PlaybackReport.objects.count() == 1
        assert again.status_code == 302
        _press(client, world.morning)  # a later press, from the next form
    assert PlaybackReport.objects.count() == 2


def test_a_press_before_its_planned_start_but_inside_the_slot_starts_now(world):
    # The urgent item is planned 06:00:01; pressed at 06:00:00.5 (inside the slot): started now.
    now = world.morning.starts_at + dt.timedelta(milliseconds=500)
    result = desk.press(world.station, world.urgent, "played", desk.new_press_id(), now=now)
    report = PlaybackReport.objects.get(report_id=result.report_id)
    assert report.started_at == now < world.urgent.starts_at


def test_not_played_with_a_reason_is_a_failed_report_carrying_the_reason(world):
    with freeze(world.noon):
        response = _press(signed_in(world.operator), world.morning, "failed", reason="  Mất điện cả buổi sáng ")
    assert response.status_code == 302
    report = PlaybackReport.objects.get()
    assert (report.status, report.error) == ("failed", "Mất điện cả buổi sáng")
    with freeze(world.noon):
        text = visible_text(signed_in(world.operator).get("/my-station/").content.decode())
    assert "Không phát được: Mất điện cả buổi sáng" in text


def test_a_reason_over_the_limit_is_refused_in_vietnamese_and_kept_in_the_form(world):
    reason = "Loa hỏng " * 60
    with freeze(world.noon):
        response = _press(signed_in(world.operator), world.morning, "failed", reason=reason)
    assert response.status_code == 400
    html = response.content.decode()
    assert f"Lý do dài quá {desk.REASON_MAX} ký tự" in visible_text(html)
    assert reason.strip() in html  # what was typed is not lost
    assert not PlaybackReport.objects.exists()


def test_a_press_before_the_slot_opens_is_refused_in_vietnamese(world):
    with freeze(world.noon):
        evening = _press(signed_in(world.operator), world.evening)
        tomorrow = _press(signed_in(world.operator), world.tomorrow[0], "failed", reason="Sẽ mất điện")
    assert evening.status_code == tomorrow.status_code == 400
    assert "Chưa đến khung giờ phát của mục này (từ 17:00 ngày" in visible_text(evening.content.decode())
    assert "Chưa đến khung giờ phát" in visible_text(tomorrow.content.decode())
    assert not PlaybackReport.objects.exists()


def test_a_late_confirmation_still_says_the_item_started_at_its_planned_time(world):
    late = world.noon + dt.timedelta(days=1, hours=12)
    result = desk.press(world.station, world.morning, "played", desk.new_press_id(), now=late)
    assert PlaybackReport.objects.get(report_id=result.report_id).started_at == world.morning.starts_at


def test_a_press_after_the_day_of_an_item_without_planned_time_is_refused_in_vietnamese(world):
    PlaylistItem.objects.filter(pk=world.morning.pk).update(starts_at=None)
    world.morning.refresh_from_db()
    late = world.noon + dt.timedelta(days=1, hours=12)
    with pytest.raises(desk.PressRefused, match="Ngày phát .* của mục này đã qua"):
        desk.press(world.station, world.morning, "played", desk.new_press_id(), now=late)
    assert not PlaybackReport.objects.exists()


def test_the_ingestion_refusals_reach_the_person(world):
    with freeze(world.noon):
        response = _press(signed_in(world.operator), world.morning, "failed", reason="Lỗi \x00 lạ")
    assert response.status_code == 400
    assert "ký tự NUL" in visible_text(response.content.decode())
    assert not PlaybackReport.objects.exists()


@pytest.mark.parametrize("press_id", ["", "abc", "g" * 32, "op-1", "A" * 32])
def test_a_missing_or_forged_press_id_is_refused(world, press_id):
    with freeze(world.noon):
        response = signed_in(world.operator).post(_url(world.morning), {"outcome": "played", "press_id": press_id})
    assert response.status_code == 400
    assert "hãy tải lại trang" in visible_text(response.content.decode())
    assert not PlaybackReport.objects.exists()


def test_an_unknown_outcome_is_refused(world):
    with freeze(world.noon):
        response = _press(signed_in(world.operator), world.morning, "skipped")
    assert response.status_code == 400 and not PlaybackReport.objects.exists()


def test_another_stations_item_is_404_and_stores_nothing(world):
    with freeze(world.noon):
        response = _press(signed_in(world.operator), world.theirs[0])
        missing = signed_in(world.operator).post("/my-station/items/999999/report/",
                                                 {"outcome": "played", "press_id": desk.new_press_id()})
    assert response.status_code == missing.status_code == 404
    assert not PlaybackReport.objects.exists()


def test_people_who_are_not_station_operators_cannot_report(world):
    with freeze(world.noon):
        response = _press(signed_in(UserFactory(roles=["supervisor"])), world.morning)
    assert response.status_code == 403 and not PlaybackReport.objects.exists()


def test_the_report_url_takes_only_posts(world):
    assert signed_in(world.operator).get(_url(world.morning)).status_code == 405


def test_with_htmx_the_answer_is_the_row_with_the_outcome_and_a_fresh_form(world):
    press_id = desk.new_press_id()
    with freeze(world.noon):
        response = _press(signed_in(world.operator), world.morning, press_id=press_id, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith(f'<li class="item outcome-played" id="item-{world.morning.pk}"')
    assert "<html" not in html
    assert "Đã ghi nhận: «Lịch tiêm chủng tuần này» đã phát." in visible_text(html)
    fresh = re.search(r'name="press_id" value="([0-9a-f]{32})"', html).group(1)
    assert fresh != press_id


def test_with_htmx_a_refusal_comes_back_in_the_row(world):
    with freeze(world.noon):
        response = _press(signed_in(world.operator), world.morning, "failed", reason="x" * 600,
                          HTTP_HX_REQUEST="true")
    assert response.status_code == 200  # htmx swaps only successful answers
    html = response.content.decode()
    assert 'role="alert"' in html and "Lý do dài quá" in html and "x" * 600 in html
    assert not PlaybackReport.objects.exists()


def test_the_report_counts_as_a_device_report_would_for_coverage(world):
    from broadcast.selectors.coverage import station_timeline

    with freeze(world.noon):
        before = station_timeline(world.station, world.today, now=world.noon)
        _press(signed_in(world.operator), world.morning)
        _press(signed_in(world.operator), world.urgent, "failed", reason="Hỏng loa")
    after = station_timeline(world.station, world.today, now=world.noon)
    assert (before.counts.played, before.counts.failed) == (0, 0)
    assert (after.counts.played, after.counts.failed) == (1, 1)
    assert after.item_outcomes[world.morning.pk] == "played" and after.item_outcomes[world.urgent.pk] == "failed"
