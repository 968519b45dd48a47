"""Retention (manage.py prune, the nightly task): each kind of old data is pruned, and what must stay stays."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from broadcast.models import AudioRendition, BulletinRevision, PlaybackReport, Playlist, PlaylistItem
from broadcast.services import retention
from stations.models import StationStatusChange
from tests.broadcast.factories_reports import make_playlist, plain_bulletin
from tests.factories import StationFactory

NOW = timezone.now()
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _policy(settings, tmp_path):
    settings.RETENTION_DAYS = 90
    settings.RETENTION_CACHE_DAYS = 10
    settings.RETENTION_PLAY_LOG_DAYS = 730
    settings.RETENTION_BROKER_HOURS = 24
    settings.CELERY_BROKER_URL = "memory://"


def days_ago(n: float) -> dt.datetime:
    return NOW - dt.timedelta(days=n)


def media_file(relative: str, *, age_days: float, content: bytes = b"x") -> Path:
    from django.conf import settings

    path = Path(settings.MEDIA_ROOT) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    stamp = days_ago(age_days).timestamp()
    os.utime(path, (stamp, stamp))
    return path


def aged(rendition: AudioRendition, days: float) -> AudioRendition:
    AudioRendition.objects.filter(pk=rendition.pk).update(created_at=days_ago(days), finished_at=days_ago(days))
    return rendition


def recording(status: str = AudioRendition.Status.READY, *, age_days: float = 200) -> AudioRendition:
    """A recording rendition with its rendered file and its uploaded original on disk."""
    digest = hashlib.sha256(os.urandom(8)).hexdigest()
    ready = status == AudioRendition.Status.READY
    rendition = AudioRendition.objects.create(
        source=AudioRendition.Source.RECORDING, text_hash=digest, engine="recording", voice="", settings_key="t",
        status=status, file=f"audio/{digest[:2]}/{digest[:24]}.mp3" if ready else "",
        sha256=digest if ready else "", duration_ms=1000,
    )
    if ready:
        media_file(rendition.file, age_days=age_days)
    media_file(f"uploads/{digest}.bin", age_days=age_days)
    return aged(rendition, age_days)


def superseded(bulletin):
    """Gives the bulletin a newer live revision with its own audio; returns the old revision's rendition."""
    old = bulletin.live_revision
    new_rendition = recording(age_days=200)
    revision = BulletinRevision.objects.create(
        bulletin=bulletin, number=old.number + 1, title=old.title, body="Bản mới.", created_by=old.created_by,
        rendition=new_rendition, approved_by=old.approved_by, approved_at=NOW, approved_sha256=new_rendition.sha256,
    )
    bulletin.current_revision = bulletin.live_revision = revision
    bulletin.save(update_fields=["current_revision", "live_revision"])
    return old.rendition


def with_file(rendition: AudioRendition, age_days: float = 200) -> AudioRendition:
    media_file(rendition.file, age_days=age_days)
    return aged(rendition, age_days)


# ---------------------------------------------------------------- station status history


def test_old_station_status_history_is_pruned_and_recent_history_kept():
    station = StationFactory()
    old = StationStatusChange.objects.create(station=station, from_status="online", to_status="late", at=days_ago(91))
    recent = StationStatusChange.objects.create(station=station, from_status="late", to_status="online",
                                                at=days_ago(89))

    result = retention.prune(now=NOW)

    assert result.counts["status_changes"] == 1
    assert list(StationStatusChange.objects.values_list("pk", flat=True)) == [recent.pk]
    assert old.pk != recent.pk


# ---------------------------------------------------------------- the play log


def test_the_play_log_is_kept_for_the_legal_period_and_pruned_after_it():
    station = StationFactory()
    bulletin = plain_bulletin()
    today = timezone.localdate(NOW)
    expired_day, kept_day = today - dt.timedelta(days=731), today - dt.timedelta(days=700)
    expired = make_playlist(station, expired_day, [bulletin])
    kept = make_playlist(station, kept_day, [bulletin])
    for n, item in enumerate([*expired, *kept]):
        PlaybackReport.objects.create(
            station=station, report_id=f"r{n}", playlist_item=item, status="played", started_at=item.starts_at,
            playlist_date=item.playlist.date, bulletin_id_snapshot=bulletin.pk, bulletin_title=bulletin.title,
            revision_number=1, sha256=item.sha256, slot=item.slot)

    result = retention.prune(now=NOW)

    assert result.counts["play_log_reports"] == len(expired)
    assert result.counts["play_log_playlists"] == 1 and result.counts["play_log_items"] == len(expired)
    assert list(Playlist.objects.values_list("date", flat=True)) == [kept_day]
    assert PlaybackReport.objects.filter(playlist_date=kept_day).count() == len(kept)
    assert not PlaybackReport.objects.filter(playlist_date=expired_day).exists()
    assert PlaylistItem.objects.count() == len(kept)


def test_the_legal_period_is_configurable(settings):
    station = StationFactory()
    day = timezone.localdate(NOW) - dt.timedelta(days=400)
    make_playlist(station, day, [plain_bulletin()])

    assert retention.prune(now=NOW).counts["play_log_playlists"] == 0
    settings.RETENTION_PLAY_LOG_DAYS = 365
    assert retention.prune(now=NOW).counts["play_log_playlists"] == 1


# ---------------------------------------------------------------- renditions and their files


def test_an_old_superseded_upload_no_revision_refers_to_is_removed_with_its_files():
    orphan = recording()
    files = retention._rendition_files(orphan)
    assert all(p.exists() for p in files) and len(files) == 2

    result = retention.prune(now=NOW)

    assert result.counts["renditions"] == 1
    assert not AudioRendition.objects.filter(pk=orphan.pk).exists()
    assert not any(p.exists() for p in files)


def test_a_recent_unreferenced_rendition_and_one_rendering_are_kept():
    recent = recording(age_days=10)
    rendering = recording(AudioRendition.Status.RENDERING)

    assert retention.prune(now=NOW).counts["renditions"] == 0
    assert AudioRendition.objects.filter(pk__in=[recent.pk, rendering.pk]).count() == 2
    assert all(p.exists() for p in retention._rendition_files(recent))


def test_the_audio_of_a_live_revision_is_kept_however_old():
    rendition = with_file(plain_bulletin().live_revision.rendition)

    result = retention.prune(now=NOW)

    assert result.counts["renditions"] == result.counts["rendition_files"] == 0
    rendition.refresh_from_db()
    assert rendition.status == "ready" and (Path(retention.settings.MEDIA_ROOT) / rendition.file).exists()


def test_audio_only_a_superseded_revision_refers_to_loses_its_file_but_keeps_its_row():
    bulletin = plain_bulletin()
    old = with_file(superseded(bulletin))
    path = Path(retention.settings.MEDIA_ROOT) / old.file

    result = retention.prune(now=NOW)

    assert result.counts["rendition_files"] == 1 and not path.exists()
    old.refresh_from_db()
    assert old.status == "failed" and old.file == "" and old.error == retention.RETENTION_MARK
    assert old.sha256  # the audit trail keeps which audio was approved
    assert BulletinRevision.objects.filter(rendition=old).exists()


def test_superseded_audio_still_in_a_playlist_or_in_the_play_log_is_kept():
    station = StationFactory()
    in_playlist, in_play_log = plain_bulletin(), plain_bulletin()
    make_playlist(station, timezone.localdate(NOW) - dt.timedelta(days=300), [in_playlist])
    planned = with_file(superseded(in_playlist))
    reported = with_file(superseded(in_play_log))
    PlaybackReport.objects.create(
        station=station, report_id="r", status="played", started_at=days_ago(300),
        playlist_date=timezone.localdate(NOW) - dt.timedelta(days=300), bulletin_id_snapshot=in_play_log.pk,
        bulletin_title="t", revision_number=1, sha256=reported.sha256, slot="morning")

    assert retention.prune(now=NOW).counts["rendition_files"] == 0
    for rendition in (planned, reported):
        rendition.refresh_from_db()
        assert rendition.status == "ready"
        assert (Path(retention.settings.MEDIA_ROOT) / rendition.file).exists()


def test_failed_uploads_lose_their_original_and_live_recordings_keep_theirs():
    failed = recording(AudioRendition.Status.FAILED)
    bulletin = plain_bulletin()
    live = recording()
    BulletinRevision.objects.filter(pk=bulletin.live_revision.pk).update(rendition=live)
    BulletinRevision.objects.create(  # the failed upload belongs to a revision, so its row must stay
        bulletin=bulletin, number=2, title="t", body="b", created_by=bulletin.author, rendition=failed)
    stray = media_file("uploads/.upload-abc123", age_days=2)
    abandoned = media_file("uploads/.upload-def456", age_days=100)

    result = retention.prune(now=NOW)

    assert result.counts["upload_files"] == 2  # the failed one and the abandoned partial upload
    media = Path(retention.settings.MEDIA_ROOT)
    assert not (media / "uploads" / f"{failed.text_hash}.bin").exists() and not abandoned.exists()
    assert (media / "uploads" / f"{live.text_hash}.bin").exists() and stray.exists()
    assert AudioRendition.objects.filter(pk=failed.pk).exists()


def test_audio_files_no_rendition_names_are_removed_once_old():
    named = with_file(plain_bulletin().live_revision.rendition)
    orphan = media_file("audio/ab/orphan-r999.mp3", age_days=120)
    fresh = media_file("audio/ab/fresh-r998.mp3", age_days=1)

    assert retention.prune(now=NOW).counts["orphan_audio_files"] == 1
    assert not orphan.exists() and fresh.exists()
    assert (Path(retention.settings.MEDIA_ROOT) / named.file).exists()


# ---------------------------------------------------------------- cached downloads


def test_cached_bundles_and_player_copies_are_removed_after_the_cache_age():
    old_bundle = media_file("cache/bundles/T1/2026-01-01-v1-abc.zip", age_days=11)
    new_bundle = media_file("cache/bundles/T1/2026-01-09-v2-def.zip", age_days=1)
    old_copy = media_file("cache/player/" + "a" * 64 + ".mp3", age_days=30)

    assert retention.prune(now=NOW).counts["cache_files"] == 2
    assert not old_bundle.exists() and not old_copy.exists() and new_bundle.exists()


# ---------------------------------------------------------------- the embedded broker


def test_delivered_messages_of_the_sqlite_broker_are_pruned_and_pending_ones_kept(settings, tmp_path):
    import sqlalchemy as sa
    from kombu import Connection

    url = f"sqla+sqlite:///{tmp_path / 'broker-bench.sqlite3'}"
    with Connection(url) as conn:
        queue = conn.SimpleQueue("loa-test")
        for n in range(5):
            queue.put({"n": n})
        for _ in range(3):  # delivered: kombu keeps the row with visible = false
            queue.get(timeout=1).ack()
        queue.close()
    engine = sa.create_engine(url.removeprefix("sqla+"))
    with engine.begin() as db:  # two deliveries long ago, one just now
        db.execute(sa.text("UPDATE kombu_message SET timestamp = :t WHERE id IN "
                           "(SELECT id FROM kombu_message WHERE visible = 0 ORDER BY id LIMIT 2)"),
                   {"t": dt.datetime.now() - dt.timedelta(hours=30)})  # noqa: DTZ005 - kombu's clock
    settings.CELERY_BROKER_URL = url

    dry = retention.prune(now=NOW, dry_run=True)
    assert dry.counts["broker_messages"] == 2
    assert retention.prune(now=NOW).counts["broker_messages"] == 2

    with engine.connect() as db:
        rows = db.execute(sa.text("SELECT visible, COUNT(*) FROM kombu_message GROUP BY visible")).all()
    engine.dispose()
    assert dict(rows) == {0: 1, 1: 2}  # the recent delivery and both pending messages stay


def test_other_brokers_are_left_alone(settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/13"
    assert retention.prune(now=NOW).counts["broker_messages"] == 0


# ---------------------------------------------------------------- the command and the task


def test_dry_run_counts_and_changes_nothing_and_a_second_run_finds_nothing():
    station = StationFactory()
    StationStatusChange.objects.create(station=station, from_status="online", to_status="late", at=days_ago(200))
    orphan = recording()
    cached = media_file("cache/player/" + "b" * 64 + ".mp3", age_days=30)

    out = io.StringIO()
    call_command("prune", "--dry-run", stdout=out)
    assert "Sẽ xóa 1 lịch sử trạng thái đài [status_changes]" in out.getvalue()
    assert StationStatusChange.objects.exists() and AudioRendition.objects.filter(pk=orphan.pk).exists()
    assert cached.exists()

    out = io.StringIO()
    call_command("prune", stdout=out)
    assert "Đã xóa 1 lịch sử trạng thái đài [status_changes]" in out.getvalue()
    assert "Đã xóa 1 bản âm thanh không còn dùng [renditions]" in out.getvalue()
    assert not StationStatusChange.objects.exists() and not cached.exists()

    assert retention.prune().total == 0


def test_the_nightly_task_prunes_and_is_scheduled(settings):
    from broadcast.tasks import prune_retention_task

    StationStatusChange.objects.create(station=StationFactory(), from_status="online", to_status="late",
                                       at=days_ago(200))
    assert prune_retention_task.delay().get()["status_changes"] == 1
    assert prune_retention_task.delay().get()["status_changes"] == 0
    assert settings.CELERY_BEAT_SCHEDULE["retention-prune"]["task"] == prune_retention_task.name
