"""Preview and edit of schedules: the preview says exactly what saving does (same validation, same
planner), nothing of a preview stays, an edit rebuilds the stations reached before and after."""

from __future__ import annotations

import datetime as dt

import pytest

from broadcast.models import PlaylistItem, Schedule
from broadcast.selectors.playlists import local_today
from broadcast.services.schedules import (
    ScheduleConflict,
    ScheduleValidationError,
    cancel_schedule,
    create_schedule,
    preview_schedule,
    preview_update,
    update_schedule,
)
from tests.factories import AdminUnitFactory, StationFactory
from tests.operations.factories_scheduling import SHORT_SLOTS, bulletin_of, tomorrow

pytestmark = pytest.mark.django_db

def _fields(**kw):
    return {"start_date": tomorrow(), "end_date": tomorrow(), "slots": ["morning"], "days_of_week": [],
            "plays_per_slot": 1, **kw}


def _written(schedule: Schedule) -> dict[str, int]:
    items = PlaylistItem.objects.filter(schedule=schedule)
    placed = items.filter(position__isnull=False)
    carried = sum(1 for slot, asked in placed.values_list("slot", "requested_slot") if slot != asked)
    return {"stations": items.values("playlist__station").distinct().count(), "planned": items.count(),
            "placed": placed.count(), "carried": carried, "unplaced": items.filter(position__isnull=True).count()}


def test_preview_numbers_are_what_the_rebuild_writes(supervisor, django_capture_on_commit_callbacks):
    unit = AdminUnitFactory(code="00004", name="Phường Ba Đình")
    for n in range(3):
        StationFactory(code=f"BD{n}", unit=unit, slots=SHORT_SLOTS)
    StationFactory(code="XX1", slots=SHORT_SLOTS)  # not in the unit
    filler = bulletin_of(40_000, "Đã có")
    with django_capture_on_commit_callbacks(execute=True):
        create_schedule(filler, by=supervisor, targets={"stations": ["BD0"]}, **_fields())
    news = bulletin_of(25_000, "Tin mới")
    fields = _fields(targets={"units": ["00004"]}, plays_per_slot=3)

    preview = preview_schedule(news, by=supervisor, **fields)

    assert not Schedule.objects.filter(bulletin=news).exists()  # nothing of the preview stays
    p = preview.placement
    # BD0: 40 s already in the 60 s morning slot → its 3 plays go to the evening (2 fit), 1 unplaced;
    # BD1, BD2: 2 fit in the morning, the third carried to the evening.
    assert (preview.station_count, p.planned, p.placed, p.carried, p.unplaced) == (3, 9, 8, 4, 1)
    assert p.reason_list()[0]["code"] == "slot_full"
    morning = p.fill[(tomorrow(), "morning")]
    assert morning.station_slots == 3 and morning.capacity_ms == 3 * 60_000
    assert morning.schedule_plays == 4 and not morning.overfull

    with django_capture_on_commit_callbacks(execute=True):
        saved = create_schedule(news, by=supervisor, **fields)
    assert _written(saved) == {"stations": 3, "planned": p.planned, "placed": p.placed, "carried": p.carried,
                               "unplaced": p.unplaced}
    assert (saved.placement.placed, saved.placement.unplaced) == (p.placed, p.unplaced)


def test_preview_refuses_bad_input_as_create_does(supervisor):
    StationFactory(code="A1")
    with pytest.raises(ScheduleValidationError) as exc:
        preview_schedule(bulletin_of(1000), by=supervisor, **_fields(targets={"stations": ["NOPE"]}, slots=["bogus"],
                                                                 end_date=local_today() - dt.timedelta(days=3)))
    assert exc.value.errors["targets"] == ["Không tìm thấy đài: NOPE."]
    assert "end_date" in exc.value.errors
    assert not Schedule.objects.exists()


def test_preview_of_a_schedule_that_places_nothing_says_why(supervisor):
    StationFactory(code="A1", slots=SHORT_SLOTS)
    preview = preview_schedule(bulletin_of(120_000), by=supervisor, **_fields(targets={"stations": ["A1"]}))
    assert preview.placement.placed == 0 and preview.placement.unplaced == 1
    assert preview.refused.startswith("Không xếp được lượt phát nào")
    with pytest.raises(ScheduleValidationError):
        create_schedule(bulletin_of(120_000), by=supervisor, **_fields(targets={"stations": ["A1"]}))


def test_an_edit_moves_the_plays_to_the_new_stations_and_slots(supervisor, django_capture_on_commit_callbacks):
    StationFactory(code="A1")
    StationFactory(code="B1")
    with django_capture_on_commit_callbacks(execute=True):
        schedule = create_schedule(bulletin_of(10_000), by=supervisor, **_fields(targets={"stations": ["A1"]}))
    new = _fields(targets={"stations": ["B1"]}, slots=["evening"], plays_per_slot=2)

    preview = preview_update(schedule, **new)
    assert Schedule.objects.get(pk=schedule.pk).slots == ["morning"]  # the preview changed nothing
    with django_capture_on_commit_callbacks(execute=True):
        update_schedule(schedule, **new)

    rows = set(PlaylistItem.objects.filter(schedule=schedule).values_list("playlist__station__code", "slot"))
    assert rows == {("B1", "evening")}  # A1's play is gone: it was rebuilt too
    assert PlaylistItem.objects.filter(schedule=schedule).count() == preview.placement.placed == 2
    schedule.refresh_from_db()
    assert schedule.target_station_count == 1 and schedule.plays_per_slot == 2


def test_a_cancelled_schedule_cannot_be_edited(supervisor, django_capture_on_commit_callbacks):
    StationFactory(code="A1")
    with django_capture_on_commit_callbacks(execute=True):
        schedule = create_schedule(bulletin_of(10_000), by=supervisor, **_fields(targets={"stations": ["A1"]}))
        cancel_schedule(schedule, supervisor)
    with pytest.raises(ScheduleConflict):
        update_schedule(schedule, **_fields(targets={"stations": ["A1"]}))
