"""Playlist building: packing rules, emergencies, targeted rebuilds, versioning, crash safety."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from broadcast.models import AudioRendition, Bulletin, BulletinRevision, Playlist, PlaylistItem, Schedule
from broadcast.selectors.playlists import LOCAL_TZ, local_today, playlist_versions
from broadcast.services import bulk
from broadcast.services import playlists as playlist_services
from broadcast.services.playlists import rebuild_playlists
from broadcast.services.schedules import cancel_schedule, create_schedule, rebuild_for_schedule
from broadcast.signals import live_revision_changed
from stations.models import Station
from stations.signals import stations_changed
from tests.factories import (
    DistrictFactory,
    ReadyRenditionFactory,
    StationFactory,
    UserFactory,
    approved_bulletin,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

SHORT_SLOTS = [{"name": "morning", "start": "06:00", "end": "06:01"},
               {"name": "evening", "start": "17:00", "end": "17:01"}]


def tomorrow() -> dt.date:
    return local_today() + dt.timedelta(days=1)


def at_local(date: dt.date, hhmm: str) -> dt.datetime:
    h, m = map(int, hhmm.split(":"))
    return dt.datetime.combine(date, dt.time(h, m), tzinfo=LOCAL_TZ)


def bulletin_of(ms: int, *, priority: str = "normal", title: str = "Bản tin") -> Bulletin:
    bulletin = approved_bulletin(title=title, priority=priority, seconds=1.0)
    AudioRendition.objects.filter(pk=bulletin.live_revision.rendition_id).update(duration_ms=ms)
    return Bulletin.objects.select_related("live_revision__rendition").get(pk=bulletin.pk)


def schedule(bulletin: Bulletin, stations: list[Station], *, slots=("morning",), **kw):
    user = UserFactory(username="lich", roles=["supervisor"])
    start = kw.pop("start_date", local_today())
    end = kw.pop("end_date", start + dt.timedelta(days=2) if start else None)
    return create_schedule(bulletin, by=user, start_date=start, end_date=end, slots=list(slots),
                           targets={"stations": [s.code for s in stations]}, **kw)


def items_of(station: Station, date: dt.date) -> list[PlaylistItem]:
    return list(PlaylistItem.objects.filter(playlist__station=station, playlist__date=date)
                .order_by("position", "key"))


def placed(station: Station, date: dt.date) -> list[PlaylistItem]:
    return [i for i in items_of(station, date) if i.position is not None]


def test_priorities_pack_emergency_then_high_then_normal_and_overflow_moves_to_next_slot(settings):
    settings.PLAYLIST_SLOT_GAP_SECONDS = 2
    station = StationFactory(slots=SHORT_SLOTS)
    normal = schedule(bulletin_of(25_000, title="Thường"), [station])
    high = schedule(bulletin_of(25_000, priority="high", title="Cao"), [station])
    emergency = schedule(bulletin_of(25_000, priority="emergency", title="Khẩn"), [station])

    rebuild_playlists([station.pk], [tomorrow()])

    items = placed(station, tomorrow())
    assert [i.schedule_id for i in items] == [emergency.pk, high.pk, normal.pk]
    assert [i.slot for i in items] == ["morning", "morning", "evening"]
    assert items[2].requested_slot == "morning"  # carried over, not dropped
    assert items[0].starts_at == at_local(tomorrow(), "06:00")
    assert items[1].starts_at == at_local(tomorrow(), "06:00") + dt.timedelta(seconds=27)
    assert items[2].starts_at == at_local(tomorrow(), "17:00")


def test_within_a_priority_the_older_schedule_gets_the_slot():
    station = StationFactory(slots=SHORT_SLOTS)
    older = schedule(bulletin_of(40_000, title="Cũ"), [station])
    newer = schedule(bulletin_of(40_000, title="Mới"), [station])

    rebuild_playlists([station.pk], [tomorrow()])

    by_schedule = {i.schedule_id: i for i in placed(station, tomorrow())}
    assert by_schedule[older.pk].slot == "morning"
    assert by_schedule[newer.pk].slot == "evening"


def test_what_fits_no_slot_is_recorded_unplaced_with_a_reason_never_dropped():
    station = StationFactory(slots=SHORT_SLOTS)
    roomy = StationFactory()  # s3 fits there, so it is accepted (a schedule placing nothing is refused)
    s1 = schedule(bulletin_of(50_000), [station], slots=("morning",))
    s2 = schedule(bulletin_of(50_000), [station], slots=("morning",))
    s3 = schedule(bulletin_of(50_000), [station, roomy], slots=("evening",))

    rebuild_playlists([station.pk], [tomorrow()])

    items = {i.schedule_id: i for i in items_of(station, tomorrow())}
    assert items[s1.pk].slot == "morning" and items[s1.pk].position is not None
    assert items[s2.pk].slot == "evening"  # carried
    assert items[s3.pk].position is None
    assert "Không đủ thời lượng" in items[s3.pk].unplaced_reason
    # Nothing overfills its slot.
    for item in placed(station, tomorrow()):
        slot = next(s for s in SHORT_SLOTS if s["name"] == item.slot)
        assert item.ends_at <= at_local(tomorrow(), slot["end"])


def test_plays_per_slot_and_days_of_week_are_honoured():
    station = StationFactory()
    day = tomorrow()
    s = schedule(bulletin_of(5_000), [station], slots=("morning", "evening"), plays_per_slot=2,
                 days_of_week=[day.weekday()])
    other_day = day + dt.timedelta(days=1)

    rebuild_playlists([station.pk], [day, other_day])

    assert sorted(i.key for i in placed(station, day)) == sorted(
        f"s{s.pk}:{slot}:{n}" for slot in ("morning", "evening") for n in range(2))
    assert placed(station, other_day) == []


def test_targets_are_the_union_of_districts_stations_and_kinds():
    d1, d2, d3 = DistrictFactory(), DistrictFactory(), DistrictFactory()
    in_d1 = [StationFactory(district=d1), StationFactory(district=d1)]
    named = StationFactory(district=d2)
    StationFactory(district=d2)  # not targeted
    center = StationFactory(district=d3, kind=Station.Kind.DISTRICT_CENTER)
    commune_d3 = StationFactory(district=d3)
    StationFactory(district=d1, active=False)  # inactive stations get nothing
    user = UserFactory(roles=["supervisor"])
    s = create_schedule(bulletin_of(5_000), by=user, start_date=tomorrow(), end_date=tomorrow(), slots=["morning"],
                        targets={"districts": [d1.code], "stations": [named.code], "kinds": ["district_center"]})

    assert s.target_station_count == 4
    rebuild_playlists(None, [tomorrow()])
    reached = set(PlaylistItem.objects.filter(schedule=s).values_list("playlist__station_id", flat=True))
    assert reached == {in_d1[0].pk, in_d1[1].pk, named.pk, center.pk}
    assert commune_d3.pk not in reached


def test_immediate_emergency_jumps_to_the_top_of_today_and_bumps_the_version(django_capture_on_commit_callbacks):
    station, other = StationFactory(), StationFactory()
    schedule(bulletin_of(5_000), [station], slots=("morning", "evening"), start_date=local_today())
    rebuild_playlists([station.pk, other.pk], [local_today()])
    before = Playlist.objects.get(station=station, date=local_today())
    other_before = Playlist.objects.get(station=other, date=local_today())

    with django_capture_on_commit_callbacks(execute=True):
        urgent = schedule(bulletin_of(8_000, priority="emergency", title="Bão"), [station], slots=(),
                          immediate=True, start_date=None, end_date=None)

    after = Playlist.objects.get(station=station, date=local_today())
    assert after.version == before.version + 1 and after.etag != before.etag
    assert playlist_versions(station)[local_today().isoformat()] == after.version
    top = placed(station, local_today())[0]
    assert top.schedule_id == urgent.pk and top.slot == "now" and top.position == 0
    assert abs((top.starts_at - timezone.now()).total_seconds()) < 60
    assert Playlist.objects.get(pk=other_before.pk).version == other_before.version  # not targeted


def test_rebuild_on_a_new_schedule_touches_only_targeted_stations(django_capture_on_commit_callbacks):
    a, b = StationFactory(), StationFactory()
    rebuild_playlists([a.pk, b.pk], [tomorrow()])
    b_before = Playlist.objects.get(station=b, date=tomorrow())

    with django_capture_on_commit_callbacks(execute=True):
        schedule(bulletin_of(5_000), [a], start_date=tomorrow(), end_date=tomorrow())

    assert Playlist.objects.get(station=a, date=tomorrow()).version == 2
    b_after = Playlist.objects.get(station=b, date=tomorrow())
    assert (b_after.version, b_after.generated_at, b_after.etag) == (
        b_before.version, b_before.generated_at, b_before.etag)


def test_a_rebuild_that_changes_nothing_keeps_version_etag_and_item_ids():
    station = StationFactory()
    schedule(bulletin_of(5_000), [station], slots=("morning", "evening"))
    rebuild_playlists([station.pk], [tomorrow()])
    first = Playlist.objects.get(station=station, date=tomorrow())
    ids = [i.pk for i in items_of(station, tomorrow())]

    stats = rebuild_playlists([station.pk], [tomorrow()])

    again = Playlist.objects.get(pk=first.pk)
    assert (again.version, again.etag, again.generated_at) == (first.version, first.etag, first.generated_at)
    assert [i.pk for i in items_of(station, tomorrow())] == ids
    assert stats.playlists_unchanged == 1 and stats.items_updated == 0


def test_a_new_approved_revision_replaces_future_audio_keeping_item_ids(django_capture_on_commit_callbacks):
    station = StationFactory()
    bulletin = bulletin_of(5_000)
    schedule(bulletin, [station], slots=("morning",))
    rebuild_playlists([station.pk], [tomorrow()])
    (item,) = placed(station, tomorrow())
    version = Playlist.objects.get(station=station, date=tomorrow()).version

    rendition = ReadyRenditionFactory()
    revision = BulletinRevision.objects.create(
        bulletin=bulletin, number=2, title="Bản tin (sửa)", body="Nội dung mới.", created_by=bulletin.author,
        submitted_at=timezone.now(), rendition=rendition, approved_by=UserFactory(roles=["approver"]),
        approved_at=timezone.now(), approved_sha256=rendition.sha256)
    Bulletin.objects.filter(pk=bulletin.pk).update(live_revision=revision, current_revision=revision)
    with django_capture_on_commit_callbacks(execute=True):
        live_revision_changed.send(sender=Bulletin, bulletin_id=bulletin.pk)

    (updated,) = placed(station, tomorrow())
    assert updated.pk == item.pk
    assert updated.sha256 == rendition.sha256 and updated.revision_id == revision.pk
    assert Playlist.objects.get(station=station, date=tomorrow()).version == version + 1


def test_archived_bulletin_leaves_the_coming_playlists(django_capture_on_commit_callbacks):
    station = StationFactory()
    bulletin = bulletin_of(5_000)
    schedule(bulletin, [station])
    rebuild_playlists([station.pk], [tomorrow()])
    assert placed(station, tomorrow())

    Bulletin.objects.filter(pk=bulletin.pk).update(status=Bulletin.Status.ARCHIVED, live_revision=None)
    with django_capture_on_commit_callbacks(execute=True):  # the rebuild is queued once this commits
        live_revision_changed.send(sender=Bulletin, bulletin_id=bulletin.pk)

    assert placed(station, tomorrow()) == []


def test_changed_station_slots_rebuild_that_station(django_capture_on_commit_callbacks):
    station = StationFactory()
    schedule(bulletin_of(5_000), [station], slots=("evening",))
    rebuild_playlists([station.pk], [tomorrow()])
    assert placed(station, tomorrow())[0].starts_at == at_local(tomorrow(), "17:00")

    Station.objects.filter(pk=station.pk).update(
        slots=[{"name": "morning", "start": "06:00", "end": "06:30"},
               {"name": "evening", "start": "18:00", "end": "18:30"}])
    with django_capture_on_commit_callbacks(execute=True):
        stations_changed.send(sender=Station, station_ids=[station.pk])

    assert placed(station, tomorrow())[0].starts_at == at_local(tomorrow(), "18:00")


def test_a_slot_the_station_lacks_is_listed_unplaced():
    station = StationFactory(slots=[{"name": "morning", "start": "06:00", "end": "06:30"}])
    other = StationFactory()  # has "evening", so the slot is valid for the schedule as a whole
    schedule(bulletin_of(5_000), [station, other], slots=("evening",))

    rebuild_playlists([station.pk], [tomorrow()])

    (item,) = items_of(station, tomorrow())
    assert item.position is None and "evening" in item.unplaced_reason


def test_cancelling_removes_future_plays_but_keeps_ones_whose_slot_has_started():
    station = StationFactory()
    today = local_today()
    s = schedule(bulletin_of(5_000), [station], slots=("morning", "evening"), start_date=today)
    rebuild_playlists([station.pk], [today, today + dt.timedelta(days=1)], now=at_local(today, "05:00"))
    morning_item = next(i for i in placed(station, today) if i.slot == "morning")

    cancel_schedule(s, UserFactory(roles=["supervisor"]))
    rebuild_playlists([station.pk], [today, today + dt.timedelta(days=1)], now=at_local(today, "12:00"))

    remaining = placed(station, today)
    assert [i.pk for i in remaining] == [morning_item.pk]  # aired (or airing): kept, same id
    assert placed(station, today + dt.timedelta(days=1)) == []


def test_a_crash_mid_rebuild_leaves_the_previous_version_intact(monkeypatch):
    station = StationFactory()
    schedule(bulletin_of(5_000), [station])
    rebuild_playlists([station.pk], [tomorrow()])
    before = Playlist.objects.get(station=station, date=tomorrow())
    items_before = [(i.pk, i.sha256) for i in items_of(station, tomorrow())]
    schedule(bulletin_of(6_000), [station])

    real_update = bulk.update

    def boom(model, *args, **kwargs):  # items are already written when the playlists' versions are
        if model is Playlist:
            raise RuntimeError("disk full")
        return real_update(model, *args, **kwargs)

    monkeypatch.setattr(bulk, "update", boom)
    with pytest.raises(RuntimeError):
        rebuild_playlists([station.pk], [tomorrow()])

    after = Playlist.objects.get(pk=before.pk)
    assert (after.version, after.etag) == (before.version, before.etag)
    assert [(i.pk, i.sha256) for i in items_of(station, tomorrow())] == items_before


def test_build_query_count_does_not_grow_with_the_number_of_stations():
    district = DistrictFactory()
    few = [StationFactory(district=district) for _ in range(3)]
    many = [StationFactory(district=district) for _ in range(30)]
    b1, b2 = bulletin_of(5_000), bulletin_of(6_000, priority="high")
    user = UserFactory(roles=["supervisor"])
    for b in (b1, b2):
        create_schedule(b, by=user, start_date=tomorrow(), end_date=tomorrow(), slots=["morning", "evening"],
                        targets={"districts": [district.code]})

    with CaptureQueriesContext(connection) as small:
        rebuild_playlists([s.pk for s in few], [tomorrow()])
    with CaptureQueriesContext(connection) as large:
        rebuild_playlists([s.pk for s in many], [tomorrow()])

    assert PlaylistItem.objects.filter(playlist__station__in=many).count() == 30 * 4
    assert len(large.captured_queries) == len(small.captured_queries)


def test_items_keys_are_stable_and_content_hash_ignores_ids():
    station = StationFactory()
    s = schedule(bulletin_of(5_000), [station], slots=("morning",))
    rebuild_playlists([station.pk], [tomorrow()])
    (item,) = placed(station, tomorrow())
    assert item.key == f"s{s.pk}:morning:0"
    digest = Playlist.objects.get(station=station, date=tomorrow()).content_hash
    # Rebuilding from scratch (all items deleted) gives the same content hash: it is over content only.
    PlaylistItem.objects.filter(pk=item.pk).delete()
    Playlist.objects.filter(station=station).delete()
    rebuild_playlists([station.pk], [tomorrow()])
    assert Playlist.objects.get(station=station, date=tomorrow()).content_hash == digest
    assert playlist_services.IMMEDIATE_SLOT == "now"


def test_cancelling_removes_plays_from_a_station_that_has_moved_district(django_capture_on_commit_callbacks):
    old, new = DistrictFactory(), DistrictFactory()
    station = StationFactory(district=old)
    user = UserFactory(roles=["supervisor"])
    s = create_schedule(bulletin_of(5_000), by=user, start_date=tomorrow(), end_date=tomorrow(),
                        slots=["morning"], targets={"districts": [old.code]})
    rebuild_playlists([station.pk], [tomorrow()])
    assert len(placed(station, tomorrow())) == 1
    Station.objects.filter(pk=station.pk).update(district=new)  # its own rebuild has not run yet

    with django_capture_on_commit_callbacks(execute=True):
        cancel_schedule(s, user)

    assert PlaylistItem.objects.filter(schedule=s).count() == 0


def test_cancelling_removes_plays_from_a_deactivated_station(django_capture_on_commit_callbacks):
    station = StationFactory()
    user = UserFactory(roles=["supervisor"])
    s = schedule(bulletin_of(5_000), [station], start_date=tomorrow(), end_date=tomorrow())
    rebuild_playlists([station.pk], [tomorrow()])
    assert len(placed(station, tomorrow())) == 1
    Station.objects.filter(pk=station.pk).update(active=False)

    with django_capture_on_commit_callbacks(execute=True):
        cancel_schedule(s, user)

    assert PlaylistItem.objects.filter(schedule=s).count() == 0


def test_a_deactivated_station_loses_its_coming_plays_at_its_rebuild(django_capture_on_commit_callbacks):
    station = StationFactory()
    schedule(bulletin_of(5_000), [station], start_date=tomorrow(), end_date=tomorrow())
    rebuild_playlists([station.pk], [tomorrow()])
    Station.objects.filter(pk=station.pk).update(active=False)

    with django_capture_on_commit_callbacks(execute=True):
        stations_changed.send(sender=Station, station_ids=[station.pk])

    assert placed(station, tomorrow()) == []


def test_a_request_for_a_slot_that_has_begun_is_listed_unplaced_with_the_reason():
    station = StationFactory()
    today = local_today()
    s = schedule(bulletin_of(5_000), [station], slots=("morning", "evening"), start_date=today)

    rebuild_playlists([station.pk], [today], now=at_local(today, "12:00"))

    items = {i.requested_slot: i for i in items_of(station, today) if i.schedule_id == s.pk}
    assert items["evening"].position is not None
    assert items["morning"].position is None and "đã bắt đầu" in items["morning"].unplaced_reason


def _build_with_a_cancellation_in_between(monkeypatch, doomed, station):
    """A build reads its inputs (the doomed schedule live); while it plans, the schedule is cancelled and
    the cancellation's own rebuild runs to its end; then the first build writes."""
    real_plan, cancelled = playlist_services.builder._plan, []

    def plan_then_cancel(*args, **kwargs):
        plan = real_plan(*args, **kwargs)
        if not cancelled:
            cancelled.append(True)
            Schedule.objects.filter(pk=doomed.pk).update(cancelled_at=timezone.now())
            rebuild_for_schedule(doomed.pk)
        return plan

    monkeypatch.setattr(playlist_services.builder, "_plan", plan_then_cancel)
    rebuild_playlists([station.pk], [tomorrow()])
    assert cancelled


def test_a_build_planned_before_a_cancellation_never_writes_the_cancelled_plays_back(monkeypatch):
    station = StationFactory()
    keep = schedule(bulletin_of(5_000, title="Giữ"), [station], start_date=tomorrow(), end_date=tomorrow())
    doomed = schedule(bulletin_of(5_000, title="Hủy"), [station], slots=("evening",), start_date=tomorrow(),
                      end_date=tomorrow())
    rebuild_playlists([station.pk], [tomorrow()])
    assert {i.schedule_id for i in placed(station, tomorrow())} == {keep.pk, doomed.pk}
    added = schedule(bulletin_of(5_000, title="Thêm"), [station], start_date=tomorrow(), end_date=tomorrow())

    _build_with_a_cancellation_in_between(monkeypatch, doomed, station)  # both builds add `added`

    assert {i.schedule_id for i in placed(station, tomorrow())} == {keep.pk, added.pk}


@pytest.mark.skipif("connection.vendor == 'postgresql'",
                    reason="PostgreSQL serializes builds with a lock: tests/integration/test_playlist_build_race.py")
def test_sqlite_a_stale_plan_is_not_written_when_the_newer_build_changed_nothing(monkeypatch):
    station = StationFactory()
    doomed = schedule(bulletin_of(5_000, title="Hủy"), [station], start_date=tomorrow(), end_date=tomorrow())
    rebuild_playlists([station.pk], [tomorrow()])
    PlaylistItem.objects.filter(schedule=doomed).delete()  # as if the build of its creation had not run yet
    Playlist.objects.filter(station=station).update(content_hash="")

    _build_with_a_cancellation_in_between(monkeypatch, doomed, station)

    assert placed(station, tomorrow()) == []
