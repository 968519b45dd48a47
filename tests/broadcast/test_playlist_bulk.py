"""Set-based playlist writes: a build's statement count does not depend on stations or items, item ids
survive rebuilds, concurrent builds are detected; the `bulk` helpers write what the ORM would."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from broadcast.models import PlaybackReport, Playlist, PlaylistItem
from broadcast.services import bulk
from broadcast.services import playlists as playlist_services
from broadcast.services.playlists import rebuild_playlists
from broadcast.services.schedules import cancel_schedule, create_schedule
from tests.broadcast.test_playlist_build import bulletin_of, tomorrow
from tests.factories import DistrictFactory, StationFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _schedule(bulletin, district, *, slots=("morning", "evening"), plays=1):
    return create_schedule(bulletin, by=UserFactory(roles=["supervisor"]), start_date=tomorrow(),
                           end_date=tomorrow(), slots=list(slots), plays_per_slot=plays,
                           targets={"districts": [district.code]})


def _statements(ctx: CaptureQueriesContext) -> list[str]:
    return [q["sql"].split(None, 1)[0].upper() for q in ctx.captured_queries]


def _build_twice_with_a_change(n_stations: int) -> tuple[list[str], list[str], list[str], dict[str, int]]:
    """First build, a rebuild that inserts, moves, updates and deletes items, and a no-change rebuild;
    the statements of each, and the ids of the items that did not change (by station code and key)."""
    district = DistrictFactory()
    stations = [StationFactory(district=district) for _ in range(n_stations)]
    ids = [s.pk for s in stations]
    keep = _schedule(bulletin_of(5_000, title="Giữ"), district)
    dropped = _schedule(bulletin_of(6_000, title="Bỏ"), district, slots=("evening",))
    with CaptureQueriesContext(connection) as first:
        rebuild_playlists(ids, [tomorrow()])
    kept_before = {f"{station}:{key}": pk for pk, key, station in PlaylistItem.objects.filter(
        playlist__station__in=ids, schedule=keep).values_list("id", "key", "playlist__station__code")}

    # An emergency goes in ahead of everything (positions move), one schedule goes away (deletes),
    # one plays twice as often (inserts).
    _schedule(bulletin_of(4_000, priority="emergency", title="Khẩn"), district)
    cancel_schedule(dropped, UserFactory(roles=["supervisor"]))
    with CaptureQueriesContext(connection) as second:
        stats = rebuild_playlists(ids, [tomorrow()])
    assert stats.playlists_changed == n_stations and stats.items_deleted == n_stations
    assert stats.items_updated >= n_stations  # positions moved behind the emergency

    kept_after = {f"{station}:{key}": pk for pk, key, station in PlaylistItem.objects.filter(
        playlist__station__in=ids, schedule=keep).values_list("id", "key", "playlist__station__code")}
    assert kept_after == kept_before and len(kept_after) == 2 * n_stations
    with CaptureQueriesContext(connection) as third:
        again = rebuild_playlists(ids, [tomorrow()])
    assert again.playlists_unchanged == n_stations and again.items_updated == 0
    return _statements(first), _statements(second), _statements(third), kept_after


def test_statement_count_of_a_build_is_the_same_for_5_and_50_stations():
    small = _build_twice_with_a_change(5)
    large = _build_twice_with_a_change(50)

    for few, many in zip(small[:3], large[:3], strict=True):
        assert few == many  # same statements, in the same order
    first, second, third = large[:3]
    assert first.count("INSERT") == 2  # playlists, items
    # The changing rebuild: delete, shift positions, update items, insert items, update playlists.
    # (+1 UPDATE: reports pointing at deleted items are set to NULL first.)
    assert (second.count("DELETE"), second.count("UPDATE"), second.count("INSERT")) == (1, 4, 1)
    assert len(second) <= 17  # + transaction control (and, on PostgreSQL, the read snapshot)
    assert "INSERT" not in third and "UPDATE" not in third and "DELETE" not in third


def test_item_ids_survive_a_rebuild_that_changes_other_items():
    district = DistrictFactory()
    station = StationFactory(district=district)
    keep = _schedule(bulletin_of(5_000, title="Giữ"), district, plays=2)
    other = _schedule(bulletin_of(5_000, title="Khác"), district)
    rebuild_playlists([station.pk], [tomorrow()])
    kept = dict(PlaylistItem.objects.filter(schedule=keep).values_list("key", "id"))
    playlist = Playlist.objects.get(station=station, date=tomorrow())

    doomed = PlaylistItem.objects.filter(schedule=other).first()
    report = PlaybackReport.objects.create(  # e.g. a station clock ahead: a report on a future item
        station=station, report_id="r1", playlist_item=doomed, status="played", started_at=timezone.now(),
        playlist_date=tomorrow(), bulletin_id_snapshot=doomed.bulletin_id, bulletin_title="Khác",
        revision_number=1, sha256=doomed.sha256, slot=doomed.slot)
    cancel_schedule(other, UserFactory(roles=["supervisor"]))
    _schedule(bulletin_of(3_000, priority="high", title="Mới"), district)
    stats = rebuild_playlists([station.pk], [tomorrow()])

    assert stats.items_deleted == 2 and stats.items_created == 2
    assert dict(PlaylistItem.objects.filter(schedule=keep).values_list("key", "id")) == kept
    report.refresh_from_db()
    assert report.playlist_item_id is None  # SET_NULL, as an ORM delete would do
    after = Playlist.objects.get(pk=playlist.pk)
    assert after.version == playlist.version + 1 and after.etag != playlist.etag
    positions = list(PlaylistItem.objects.filter(playlist=after, position__isnull=False)
                     .order_by("position").values_list("position", flat=True))
    assert positions == list(range(len(positions)))


def test_a_concurrent_build_between_plan_and_write_is_detected_and_planned_again(monkeypatch):
    district = DistrictFactory()
    station = StationFactory(district=district)
    _schedule(bulletin_of(5_000), district)
    rebuild_playlists([station.pk], [tomorrow()])
    _schedule(bulletin_of(6_000, title="Thêm"), district)
    real_plan, calls = playlist_services.builder._plan, []

    def plan_then_someone_else_builds(*args, **kwargs):
        plan = real_plan(*args, **kwargs)
        calls.append(kwargs["lock"])
        if len(calls) == 1:  # another worker commits a new version in between
            Playlist.objects.filter(station=station).update(version=7)
        return plan

    monkeypatch.setattr(playlist_services.builder, "_plan", plan_then_someone_else_builds)
    stats = rebuild_playlists([station.pk], [tomorrow()])

    assert calls == [False, False]
    assert stats.playlists_changed == 1
    assert Playlist.objects.get(station=station, date=tomorrow()).version == 8


def test_bulk_helpers_write_what_the_orm_would():
    station = StationFactory()
    now = timezone.now().replace(microsecond=123456)
    day = tomorrow()
    rows = bulk.insert(Playlist, ("station_id", "date", "version", "content_hash", "etag", "generated_at"),
                       [(station.pk, day, 3, "abc", '"x"', now),
                        (station.pk, day + dt.timedelta(days=1), 1, "def", '"y"', now)],
                       returning=("id", "station_id", "date"))
    if rows is not None:
        assert sorted(r[1:] for r in rows) == [(station.pk, day), (station.pk, day + dt.timedelta(days=1))]
    first = Playlist.objects.get(station=station, date=day)
    assert (first.version, first.content_hash, first.etag, first.generated_at) == (3, "abc", '"x"', now)

    later = now + dt.timedelta(hours=1)
    assert bulk.update(Playlist, ("version", "generated_at"), [(first.pk, 4, later)]) == 1
    assert bulk.shift(Playlist, "version", 10, [first.pk]) == 1
    first.refresh_from_db()
    assert (first.version, first.generated_at) == (14, later)
    assert Playlist.objects.filter(pk__in=bulk.id_list([first.pk])).count() == 1
    with pytest.raises(NotImplementedError):  # items CASCADE: not emulated, refused
        bulk.delete(Playlist, [first.pk])
