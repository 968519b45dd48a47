"""Retention: what old data is removed, and when (manage.py prune, and the nightly beat task).

Removed once older than RETENTION_DAYS:
- station status history (`StationStatusChange`);
- audio renditions no bulletin revision, playlist or play-log report refers to (superseded uploads,
  failed renderings), with their files and uploaded originals;
- the files of renditions that only superseded revisions refer to (no playlist, no play-log report):
  the row stays for the audit trail, marked failed ("removed by retention"); the same text or
  recording submitted again renders again;
- uploaded originals (MEDIA_ROOT/uploads) of failed or superseded recordings, and abandoned partial
  uploads;
- files under MEDIA_ROOT/audio that no rendition names.
Removed once older than RETENTION_CACHE_DAYS: cached bundles and player copies (MEDIA_ROOT/cache;
they are rebuilt byte-identical on demand).
Kept for the legal period RETENTION_PLAY_LOG_DAYS (default two years), then removed: the play log,
i.e. playlists with their planned plays and the playback reports of those dates.
With the embedded SQLite broker (kombu's SQLAlchemy transport, `sqla+…`), delivered messages
(`kombu_message` rows with visible = false, which kombu never deletes) older than
RETENTION_BROKER_HOURS are deleted.

Every step is idempotent and bounded by age, so running it twice, or alongside a live system, is safe:
nothing live (a current or live revision's audio, anything rendering, any playlist in the play-log
period) is ever a candidate. `dry_run` counts what would go and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from stations.models import StationStatusChange

from ..models import AudioRendition, Bulletin, BulletinRevision, PlaybackReport, Playlist, PlaylistItem
from . import downloads

log = logging.getLogger(__name__)

BATCH = 500
RETENTION_MARK = "Đã xóa tệp theo chính sách lưu trữ."
KINDS = (
    "status_changes", "play_log_reports", "play_log_playlists", "play_log_items", "renditions",
    "rendition_files", "upload_files", "orphan_audio_files", "cache_files", "broker_messages",
)


@dataclass
class PruneResult:
    dry_run: bool = False
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _cutoff(now: dt.datetime, days: int) -> dt.datetime:
    return now - dt.timedelta(days=days)


def _local_date(moment: dt.datetime) -> dt.date:
    return timezone.localdate(moment)


def _files_older_than(root: Path, cutoff: dt.datetime) -> Iterator[Path]:
    if not root.is_dir():
        return
    limit = cutoff.timestamp()
    for path in root.rglob("*"):
        try:
            if path.is_file() and path.stat().st_mtime < limit:
                yield path
        except FileNotFoundError:  # removed meanwhile (another prune, a rebuild's rename)
            continue


def _unlink(path: Path) -> bool:
    try:
        path.unlink()
        return True
    except FileNotFoundError:
        return False


# ---------------------------------------------------------------- database rows


def _prune_status_changes(now: dt.datetime, result: PruneResult) -> None:
    old = StationStatusChange.objects.filter(at__lt=_cutoff(now, settings.RETENTION_DAYS))
    result.counts["status_changes"] = old.count() if result.dry_run else old.delete()[0]


def _prune_play_log(now: dt.datetime, result: PruneResult) -> None:
    """Playlists (with their planned plays) and reports of dates before the legal period."""
    first_kept = _local_date(now) - dt.timedelta(days=settings.RETENTION_PLAY_LOG_DAYS)
    reports = PlaybackReport.objects.filter(playlist_date__lt=first_kept)
    playlists = Playlist.objects.filter(date__lt=first_kept)
    if result.dry_run:
        result.counts["play_log_reports"] = reports.count()
        result.counts["play_log_playlists"] = playlists.count()
        result.counts["play_log_items"] = PlaylistItem.objects.filter(playlist__date__lt=first_kept).count()
        return
    result.counts["play_log_reports"] = reports.delete()[0]
    while ids := list(playlists.order_by("pk").values_list("pk", flat=True)[:BATCH]):
        with transaction.atomic():
            result.counts["play_log_items"] += PlaylistItem.objects.filter(playlist_id__in=ids).delete()[0]
            result.counts["play_log_playlists"] += Playlist.objects.filter(pk__in=ids).delete()[0]


def _in_use() -> Q:
    """Renditions something still needs: in a playlist, in the play log, or the audio of a bulletin's
    current or live revision (it may still be approved or scheduled)."""
    in_playlist = Exists(PlaylistItem.objects.filter(rendition_id=OuterRef("pk")))
    in_play_log = Exists(PlaybackReport.objects.filter(sha256=OuterRef("sha256")))
    current = Exists(Bulletin.objects.filter(
        Q(current_revision__rendition_id=OuterRef("pk")) | Q(live_revision__rendition_id=OuterRef("pk"))))
    return Q(in_playlist) | (~Q(sha256="") & Q(in_play_log)) | Q(current)


def _old_renditions(now: dt.datetime):  # noqa: ANN202 - a queryset
    cutoff = _cutoff(now, settings.RETENTION_DAYS)
    return (
        AudioRendition.objects
        .exclude(status__in=[AudioRendition.Status.PENDING, AudioRendition.Status.RENDERING])
        .filter(created_at__lt=cutoff)
        .filter(Q(finished_at__isnull=True) | Q(finished_at__lt=cutoff))
        .exclude(_in_use())
    )


def _rendition_files(rendition: AudioRendition) -> list[Path]:
    media = Path(settings.MEDIA_ROOT)
    files = [media / rendition.file] if rendition.file else []
    if rendition.source == AudioRendition.Source.RECORDING:
        files.append(media / "uploads" / f"{rendition.text_hash}.bin")
    return files


def _prune_renditions(now: dt.datetime, result: PruneResult) -> None:
    old = _old_renditions(now)
    orphans = old.exclude(Exists(BulletinRevision.objects.filter(rendition_id=OuterRef("pk"))))
    superseded = old.filter(status=AudioRendition.Status.READY).exclude(file="").exclude(pk__in=orphans.values("pk"))
    if result.dry_run:
        result.counts["renditions"] = orphans.count()
        result.counts["rendition_files"] = superseded.count()
        return
    for rendition in orphans.only("id", "file", "source", "text_hash").iterator(chunk_size=BATCH):
        # Row first: if it is still referenced after all (a race), nothing is lost.
        if AudioRendition.objects.filter(pk=rendition.pk).exclude(_in_use()).delete()[0]:
            result.counts["renditions"] += 1
            for path in _rendition_files(rendition):
                _unlink(path)
    for rendition in superseded.only("id", "file", "source", "text_hash").iterator(chunk_size=BATCH):
        # Conditional on the row being unchanged and still unused, so a concurrent scheduling wins.
        marked = (
            AudioRendition.objects.filter(pk=rendition.pk, status=AudioRendition.Status.READY, file=rendition.file)
            .exclude(_in_use())
            .update(status=AudioRendition.Status.FAILED, file="", error=RETENTION_MARK)
        )
        if marked:
            result.counts["rendition_files"] += 1
            for path in _rendition_files(rendition):
                _unlink(path)


# ---------------------------------------------------------------- files


def _prune_uploads(now: dt.datetime, result: PruneResult) -> None:
    """Originals of recordings whose rendition is gone, failed, or no longer needed; partial uploads."""
    keep = {
        f"{text_hash}.bin"
        for text_hash in AudioRendition.objects.filter(source=AudioRendition.Source.RECORDING)
        .filter(Q(status__in=[AudioRendition.Status.PENDING, AudioRendition.Status.RENDERING])
                | (Q(status=AudioRendition.Status.READY) & _in_use()))
        .values_list("text_hash", flat=True)
    }
    for path in _files_older_than(Path(settings.MEDIA_ROOT) / "uploads", _cutoff(now, settings.RETENTION_DAYS)):
        if path.name not in keep and (result.dry_run or _unlink(path)):
            result.counts["upload_files"] += 1


def _prune_orphan_audio(now: dt.datetime, result: PruneResult) -> None:
    root = Path(settings.MEDIA_ROOT) / "audio"
    named = set(AudioRendition.objects.exclude(file="").values_list("file", flat=True))
    media = Path(settings.MEDIA_ROOT)
    for path in _files_older_than(root, _cutoff(now, settings.RETENTION_DAYS)):
        if path.relative_to(media).as_posix() not in named and (result.dry_run or _unlink(path)):
            result.counts["orphan_audio_files"] += 1


def _prune_cache(now: dt.datetime, result: PruneResult) -> None:
    for path in _files_older_than(downloads.cache_root(), _cutoff(now, settings.RETENTION_CACHE_DAYS)):
        if result.dry_run or _unlink(path):
            result.counts["cache_files"] += 1
    if not result.dry_run:
        for directory in sorted(downloads.cache_root().rglob("*"), reverse=True):
            if directory.is_dir():
                try:
                    directory.rmdir()  # only empty ones
                except OSError:
                    pass


# ---------------------------------------------------------------- broker


def _prune_broker(now: dt.datetime, result: PruneResult) -> None:
    """Delivered messages of kombu's SQLAlchemy transport, which it keeps forever (visible = false)."""
    url = settings.CELERY_BROKER_URL
    if not url.startswith("sqla+"):
        return
    import sqlalchemy as sa

    engine = sa.create_engine(url.removeprefix("sqla+"))
    try:
        if not sa.inspect(engine).has_table("kombu_message"):
            return
        # kombu stamps the delivery time with the naive local clock (datetime.now()).
        cutoff = dt.datetime.now() - dt.timedelta(hours=settings.RETENTION_BROKER_HOURS)  # noqa: DTZ005
        where = "visible = :no AND timestamp < :cutoff"
        params = {"no": False, "cutoff": cutoff}
        with engine.begin() as conn:
            if result.dry_run:
                count = conn.execute(sa.text(f"SELECT COUNT(*) FROM kombu_message WHERE {where}"), params).scalar()
            else:
                count = conn.execute(sa.text(f"DELETE FROM kombu_message WHERE {where}"), params).rowcount
        result.counts["broker_messages"] = int(count or 0)
    finally:
        engine.dispose()


# ---------------------------------------------------------------- entry point


def prune(*, now: dt.datetime | None = None, dry_run: bool = False) -> PruneResult:
    """Applies the retention policy (see the module docstring); returns what was (or would be) removed."""
    now = now or timezone.now()
    result = PruneResult(dry_run=dry_run)
    _prune_status_changes(now, result)
    _prune_play_log(now, result)  # first: audio the expired play log referred to becomes free
    _prune_renditions(now, result)
    _prune_uploads(now, result)
    _prune_orphan_audio(now, result)
    _prune_cache(now, result)
    _prune_broker(now, result)
    log.info("retention %s: %s", "dry run" if dry_run else "pruned", result.counts)
    return result

