"""The packing planner on its own: plain data in, items and a placement summary out (no database)."""

from __future__ import annotations

import datetime as dt

from broadcast.selectors.playlists import LOCAL_TZ, StationRow
from broadcast.services.playlists.planner import (
    SLOT_FULL,
    SLOT_MISSING,
    SLOT_STARTED,
    PlanSchedule,
    plan_day,
    summarize,
)

DAY = dt.date(2026, 3, 2)
STATION = StationRow(id=1, code="A", district_id=1, district_code="001", kind="commune",
                     slots=[{"name": "morning", "start": "06:00", "end": "06:01"},
                            {"name": "evening", "start": "17:00", "end": "17:01"}])


def at(hhmm: str) -> dt.datetime:
    h, m = map(int, hhmm.split(":"))
    return dt.datetime.combine(DAY, dt.time(h, m), tzinfo=LOCAL_TZ)


def sched(pk: int, *, slots: list[str], ms: int = 50_000) -> PlanSchedule:
    return PlanSchedule(
        id=pk, rank=2, created_at=at("00:00") + dt.timedelta(seconds=pk), created_date=DAY, immediate=False,
        slots=slots, plays_per_slot=1, days_of_week=frozenset(), start_date=DAY, end_date=DAY,
        targets={"all": True}, bulletin_id=pk, revision_id=pk, rendition_id=pk, sha256=f"{pk:064d}",
        duration_ms=ms, priority="normal",
    )


def test_the_planner_places_carries_and_says_why_it_cannot_place_the_rest():
    schedules = [sched(1, slots=["morning"]), sched(2, slots=["morning"]), sched(3, slots=["morning"])]

    day = plan_day(STATION, DAY, schedules, {}, at("05:00"), gap_ms=2_000)

    first, second, third = (summarize([day], pk) for pk in (1, 2, 3))
    assert (first.planned, first.placed, first.carried, first.unplaced) == (1, 1, 0, 0)
    assert (second.planned, second.placed, second.carried, second.unplaced) == (1, 1, 1, 0)
    assert (third.planned, third.placed, third.unplaced, dict(third.reasons)) == (1, 0, 1, {SLOT_FULL: 1})
    assert day["s2:morning:0"]["slot"] == "evening" and day["s2:morning:0"]["starts_at"] == at("17:00")


def test_the_planner_lists_a_slot_that_has_begun_and_a_missing_slot_as_unplaced():
    day = plan_day(STATION, DAY, [sched(1, slots=["morning", "evening", "noon"], ms=5_000)], {}, at("12:00"),
                   gap_ms=2_000)

    summary = summarize([day], 1)
    assert (summary.planned, summary.placed, summary.unplaced) == (3, 1, 2)
    assert dict(summary.reasons) == {SLOT_STARTED: 1, SLOT_MISSING: 1}
    assert day["s1:morning:0"]["position"] is None and "đã bắt đầu" in day["s1:morning:0"]["unplaced_reason"]
    assert day["s1:evening:0"]["position"] == 0
