"""The week view: built days read from the playlists, days not built yet planned by the builder's planner
("dự kiến"), slot fill and overfull, unplaced plays, emergencies apart; operators only in their area."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings

from broadcast.models import Playlist
from broadcast.selectors import week as selectors
from broadcast.selectors.playlists import local_today
from broadcast.services.schedules import create_schedule
from stations.models import Station
from tests.factories import (
    AdminUnitFactory,
    CommuneOperatorFactory,
    StationFactory,
    UserFactory,
)
from tests.newsroom.pages import signed_in, visible_text
from tests.operations.factories_scheduling import SHORT_SLOTS, bulletin_of

pytestmark = pytest.mark.django_db
@pytest.fixture
def unit(db):
    return AdminUnitFactory(code="00004", name="Phường Ba Đình")


def test_built_and_planned_days_both_show_the_plays(supervisor, unit, django_capture_on_commit_callbacks):
    StationFactory(code="BD0", unit=unit, slots=SHORT_SLOTS)
    StationFactory(code="BD1", unit=unit, slots=SHORT_SLOTS)
    today = local_today()
    start, end = today, today + dt.timedelta(days=settings.PLAYLIST_DAYS_AHEAD + 3)
    with django_capture_on_commit_callbacks(execute=True):
        create_schedule(bulletin_of(50_000, "Tin dài"), by=supervisor, start_date=start, end_date=end,
                        slots=["evening"], targets={"units": ["00004"]}, plays_per_slot=2)
    built_day = today + dt.timedelta(days=1)
    later_day = today + dt.timedelta(days=settings.PLAYLIST_DAYS_AHEAD + 1)
    assert not Playlist.objects.filter(date=later_day).exists()

    week = selectors.week_of(Station.objects.filter(unit=unit), selectors.monday_of(built_day), per_station=False)
    weeks = [week]
    if later_day >= week.end + dt.timedelta(days=1):
        weeks.append(selectors.week_of(Station.objects.filter(unit=unit), selectors.monday_of(later_day),
                                       per_station=False))
    cells = {c.date: c for w in weeks for r in w.rows if r.slot == "evening" for c in r.cells}
    for day in (built_day, later_day):
        # 2 stations × 2 plays of 50 s in a 60 s slot: 1 placed per station, the second unplaced
        # (nothing later that day).
        assert (cells[day].plays, cells[day].unplaced, cells[day].station_slots) == (2, 2, 2)
        assert cells[day].used_ms == 100_000 and cells[day].capacity_ms == 120_000
    days = {d.date: d for w in weeks for d in w.days}
    assert days[built_day].built and not days[built_day].planned
    assert days[later_day].planned


def test_station_week_page_lists_items_emergencies_and_marks_planned_days(supervisor, unit,
                                                                          django_capture_on_commit_callbacks):
    StationFactory(code="BD0", unit=unit)
    today = local_today()
    with django_capture_on_commit_callbacks(execute=True):
        create_schedule(bulletin_of(20_000, "Lịch tiêm chủng"), by=supervisor, start_date=today,
                        end_date=today + dt.timedelta(days=14), slots=["evening"], targets={"stations": ["BD0"]})
        create_schedule(bulletin_of(20_000, "Bão khẩn", "emergency"), by=supervisor, start_date=today, end_date=today,
                        slots=[], targets={"stations": ["BD0"]}, immediate=True)
    client = signed_in(supervisor)
    response = client.get("/operations/week/", {"station": "BD0"})
    assert response.status_code == 200
    text = visible_text(response.content.decode())
    assert "Lịch tiêm chủng" in text and "Chiều tối (evening)" in text and "17:00–17:30" in text
    assert "Thứ Hai" in text and "Chủ nhật" in text
    assert "Bão khẩn" in text.split("ngoài khung giờ)")[1]
    next_week = (selectors.monday_of(today) + dt.timedelta(days=7)).isoformat()
    assert f"start={next_week}" in response.content.decode()
    later = visible_text(client.get("/operations/week/", {"station": "BD0", "start": next_week}).content.decode())
    assert "dự kiến" in later and "Lịch tiêm chủng" in later


def test_overfull_slot_is_shown_in_red(supervisor, unit, django_capture_on_commit_callbacks):
    station = StationFactory(code="BD0", unit=unit, slots=[{"name": "evening", "start": "17:00", "end": "17:30"}])
    today = local_today()
    with django_capture_on_commit_callbacks(execute=True):
        create_schedule(bulletin_of(600_000, "Tin 10 phút"), by=supervisor, start_date=today + dt.timedelta(days=1),
                        end_date=today + dt.timedelta(days=1), slots=["evening"], targets={"stations": ["BD0"]},
                        plays_per_slot=2)
    # The slot is shortened afterwards; already-planned plays beyond the new length overfill it until a rebuild.
    Station.objects.filter(pk=station.pk).update(slots=[{"name": "evening", "start": "17:00", "end": "17:10"}])
    html = signed_in(supervisor).get("/operations/week/", {"unit": "00004",
                                                     "start": (today + dt.timedelta(days=1)).isoformat()}).content.decode()
    assert 'class="overfull"' in html and "1 đài quá tải" in html


def test_operators_see_only_their_area(unit):
    other = AdminUnitFactory(code="00070", name="Phường Hoàn Kiếm")
    StationFactory(code="BD0", unit=unit)
    StationFactory(code="HK0", unit=other)
    operator = CommuneOperatorFactory(units=[unit]).user
    client = signed_in(operator)
    assert client.get("/operations/week/", {"unit": "00004"}).status_code == 200
    assert client.get("/operations/week/", {"station": "BD0"}).status_code == 200
    assert client.get("/operations/week/", {"unit": "00070"}).status_code == 404
    assert client.get("/operations/week/", {"station": "HK0"}).status_code == 404
    assert client.get("/operations/week/", {"unit": "99999"}).status_code == 404
    picker = visible_text(client.get("/operations/week/").content.decode())
    assert "Phường Ba Đình" in picker and "Phường Hoàn Kiếm" not in picker
    assert signed_in(UserFactory(roles=["editor"])).get("/operations/week/").status_code == 403


def test_a_bad_start_date_says_so_in_vietnamese(supervisor, unit):
    StationFactory(code="BD0", unit=unit)
    response = signed_in(supervisor).get("/operations/week/", {"unit": "00004", "start": "2026-13-45"})
    assert response.status_code == 400
    assert "Ngày không hợp lệ" in visible_text(response.content.decode())
