"""A report's start time must be plausible for the planned play it names: not before its slot began
(minus the clock-skew tolerance) and not after its day ended (plus that tolerance)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from broadcast.models import PlaybackReport, PlaylistItem
from broadcast.services.reports import ingest_reports
from tests.broadcast.factories_reports import local, make_playlist, plain_bulletin, report

pytestmark = pytest.mark.django_db
SKEW = 900


@pytest.fixture(autouse=True)
def _skew(settings):
    settings.REPORTS_CLOCK_SKEW_SECONDS = SKEW


def _one(station, item, started, *, now, report_id="r", status="played"):
    result = ingest_reports(station, [report(item, report_id, status, started_at=started.isoformat(), ended_at=None)],
                            now=now)
    return result


def test_a_1990_timestamp_for_a_2026_item_is_refused(station):
    day = dt.date(2026, 3, 10)
    (item, *_) = make_playlist(station, day, [plain_bulletin()])
    result = _one(station, item, dt.datetime(1990, 1, 1, 6, tzinfo=dt.UTC), now=local(day, "12:00"))
    assert result.accepted == 0
    (rejected,) = result.rejected
    assert list(rejected["errors"]) == ["started_at"] and "khung giờ" in rejected["errors"]["started_at"][0]
    assert not PlaybackReport.objects.exists()
    item.refresh_from_db()
    assert item.report_status == ""


def test_a_played_report_for_tomorrows_item_is_refused(station):
    today = timezone.localdate()
    (item, *_) = make_playlist(station, today + dt.timedelta(days=1), [plain_bulletin()])
    now = timezone.now()
    result = _one(station, item, now, now=now)
    assert result.accepted == 0 and "started_at" in result.rejected[0]["errors"]
    assert PlaylistItem.objects.get(pk=item.pk).report_status == ""


def test_clock_skew_tolerance_before_the_slot_begins(station):
    day = dt.date(2026, 3, 10)
    morning = make_playlist(station, day, [plain_bulletin(), plain_bulletin()], slots=("morning",))
    second = morning[1]  # planned after the first one; may still start as early as the slot does
    slot_start = local(day, "06:00")
    now = local(day, "12:00")
    assert _one(station, second, slot_start - dt.timedelta(seconds=SKEW - 1), now=now, report_id="a").accepted == 1
    late_by_skew = _one(station, second, slot_start - dt.timedelta(seconds=SKEW + 60), now=now, report_id="b")
    assert late_by_skew.accepted == 0 and "started_at" in late_by_skew.rejected[0]["errors"]


def test_a_report_long_after_the_items_day_ended_is_refused(station):
    day = dt.date(2026, 3, 10)
    (item, *_) = make_playlist(station, day, [plain_bulletin()])
    day_end = local(day + dt.timedelta(days=1), "00:00")
    now = day_end + dt.timedelta(days=3)
    assert _one(station, item, day_end + dt.timedelta(seconds=SKEW - 1), now=now, report_id="a").accepted == 1
    result = _one(station, item, day_end + dt.timedelta(days=2), now=now, report_id="b")
    assert result.accepted == 0 and "started_at" in result.rejected[0]["errors"]


def test_a_late_upload_of_a_play_at_its_planned_time_is_still_welcome(station):
    day = dt.date(2026, 3, 10)
    (item, *_) = make_playlist(station, day, [plain_bulletin()])
    result = _one(station, item, item.starts_at, now=local(day + dt.timedelta(days=5), "09:00"))
    assert result.accepted == 1
