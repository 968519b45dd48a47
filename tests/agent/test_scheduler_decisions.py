"""The scheduler: a pure decision from absolute times (grace, skip, emergency preemption)."""

from __future__ import annotations

import datetime as dt

from stations.agent.scheduler import due

T0 = dt.datetime(2026, 12, 1, 6, 0, tzinfo=dt.timezone(dt.timedelta(hours=7)))


def item(id_: int, start_s: float, priority: str = "normal", position: int | None = None) -> dict:
    starts = T0 + dt.timedelta(seconds=start_s)
    return {"id": id_, "position": id_ if position is None else position, "starts_at": starts.isoformat(),
            "ends_at": (starts + dt.timedelta(seconds=60)).isoformat(), "bulletin": {"priority": priority},
            "date": "2026-12-01"}


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def test_nothing_plays_before_the_first_start_and_the_next_start_is_said():
    decision = due([item(1, 0), item(2, 60)], at(-5), 120, {})
    assert decision.play is None and decision.skip == () and decision.next_start == at(0)


def test_an_item_plays_from_its_start_time():
    assert due([item(1, 0)], at(0), 120, {}).play["id"] == 1


def test_a_late_start_within_the_grace_still_plays():
    assert due([item(1, 0)], at(119), 120, {}).play["id"] == 1


def test_past_the_grace_the_item_is_skipped_not_played():
    decision = due([item(1, 0)], at(121), 120, {})
    assert decision.play is None
    assert [i["id"] for i in decision.skip] == [1]


def test_items_already_started_or_done_are_neither_played_nor_skipped():
    items = [item(1, 0), item(2, 0)]
    decision = due(items, at(500), 120, {1: "done", 2: "started"})
    assert decision.play is None and decision.skip == ()


def test_the_answer_depends_only_on_the_time_asked_about_so_a_jump_skips_what_it_passed():
    # A box asleep for an hour (or a clock stepped forward) does not replay a chain of waits: it asks once.
    items = [item(1, 0), item(2, 600), item(3, 3600)]
    decision = due(items, at(3605), 120, {})
    assert [i["id"] for i in decision.skip] == [1, 2]
    assert decision.play["id"] == 3


def test_a_due_scheduled_item_waits_for_the_one_playing():
    playing = item(1, 0)
    decision = due([playing, item(2, 30)], at(40), 120, {1: "started"}, current=playing)
    assert decision.play is None and not decision.preempt and decision.skip == ()


def test_the_earliest_due_item_plays_first_then_by_position():
    items = [item(3, 10, position=1), item(2, 0, position=2), item(1, 0, position=3)]
    assert due(items, at(20), 120, {}).play["id"] == 2


def test_an_emergency_preempts_a_scheduled_item():
    playing = item(1, 0)
    decision = due([playing, item(9, 30, "emergency")], at(31), 120, {1: "started"}, current=playing)
    assert decision.play["id"] == 9 and decision.preempt


def test_an_emergency_goes_before_scheduled_items_due_at_the_same_time():
    decision = due([item(1, 0), item(2, 5, "emergency")], at(6), 120, {})
    assert decision.play["id"] == 2 and not decision.preempt


def test_an_emergency_does_not_preempt_another_emergency():
    playing = item(1, 0, "emergency")
    decision = due([playing, item(2, 1, "emergency")], at(2), 120, {1: "started"}, current=playing)
    assert decision.play is None and not decision.preempt


def test_a_scheduled_item_does_not_preempt_an_emergency_and_is_skipped_past_its_grace():
    playing = item(1, 0, "emergency")
    items = [playing, item(2, 10)]
    assert due(items, at(100), 120, {1: "started"}, current=playing).play is None
    assert [i["id"] for i in due(items, at(131), 120, {1: "started"}, current=playing).skip] == [2]


def test_high_priority_is_scheduled_not_emergency():
    playing = item(1, 0)
    decision = due([playing, item(2, 1, "high")], at(2), 120, {1: "started"}, current=playing)
    assert decision.play is None and not decision.preempt
