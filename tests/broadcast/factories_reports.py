"""Test data for proof of play: playlists and items built straight from the models (fast, no ffmpeg)."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
from typing import Any

from django.utils import timezone

from broadcast.models import AudioRendition, Bulletin, BulletinRevision, Playlist, PlaylistItem
from stations.models import Station

_seq = itertools.count(1)
TZ = timezone.get_default_timezone()


def local(day: dt.date, hhmm: str) -> dt.datetime:
    h, m = (int(x) for x in hhmm.split(":"))
    return dt.datetime.combine(day, dt.time(h, m), TZ)


def _user(username: str, role: str):
    """A role user without password hashing (fast); reused across bulletins of a test."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    user, created = get_user_model().objects.get_or_create(username=username)
    if created:
        user.groups.add(Group.objects.get(name=role))
    return user


def plain_bulletin(title: str = "Thông báo lịch tiêm chủng", *, duration_ms: int = 60_000) -> Bulletin:
    """An approved bulletin with a `ready` rendition row (no real file: reports never read audio)."""
    n = next(_seq)
    author = _user("pb-bientap", "editor")
    approver = _user("pb-kiemduyet", "approver")
    sha = hashlib.sha256(f"audio-{n}".encode()).hexdigest()
    rendition = AudioRendition.objects.create(
        text_hash=hashlib.sha256(f"text-{n}".encode()).hexdigest(), engine="fake", voice="vi", settings_key="t",
        status=AudioRendition.Status.READY, file=f"audio/{sha}.mp3", sha256=sha, duration_ms=duration_ms,
        size_bytes=1000,
    )
    bulletin = Bulletin.objects.create(title=title, author=author, status=Bulletin.Status.APPROVED)
    now = timezone.now()
    revision = BulletinRevision.objects.create(
        bulletin=bulletin, number=1, title=title, body=f"Nội dung {title}.", created_by=author, submitted_at=now,
        rendition=rendition, approved_by=approver, approved_at=now, approved_sha256=sha,
    )
    bulletin.current_revision = bulletin.live_revision = revision
    bulletin.save(update_fields=["current_revision", "live_revision"])
    return bulletin


def make_playlist(
    station: Station, day: dt.date, bulletins: list[Bulletin], *, slots: tuple[str, ...] | None = None,
    version: int = 1,
) -> list[PlaylistItem]:
    """One item per (slot, bulletin), played back to back from the slot's start."""
    playlist, _ = Playlist.objects.get_or_create(
        station=station, date=day,
        defaults={"version": version, "etag": f'"{station.pk}-{day}-{version}"', "generated_at": timezone.now()},
    )
    slot_defs = {s["name"]: s for s in station.slots}
    items: list[PlaylistItem] = []
    position = playlist.items.count()
    for slot_name in slots or tuple(slot_defs):
        start = local(day, slot_defs[slot_name]["start"])
        for bulletin in bulletins:
            revision = bulletin.live_revision
            rendition = revision.rendition
            ends = start + dt.timedelta(milliseconds=rendition.duration_ms)
            position += 1
            items.append(PlaylistItem(
                playlist=playlist, key=f"{bulletin.pk}:{slot_name}:{position}", position=position, slot=slot_name,
                starts_at=start, ends_at=ends, bulletin=bulletin, revision=revision, rendition=rendition,
                sha256=rendition.sha256, duration_ms=rendition.duration_ms, priority=bulletin.priority,
            ))
            start = ends
    return PlaylistItem.objects.bulk_create(items)


def report(item: PlaylistItem, report_id: str, status: str = "played", **extra: Any) -> dict[str, Any]:
    """A report as a station sends it, started at the item's planned time."""
    started = extra.pop("started_at", item.starts_at)
    body = {"report_id": report_id, "playlist_item": item.pk, "status": status,
            "started_at": started.isoformat() if isinstance(started, dt.datetime) else started}
    if status == "played" and "ended_at" not in extra:
        body["ended_at"] = (item.ends_at or item.starts_at).isoformat()
    body.update(extra)
    return body


def freeze(now: dt.datetime):
    """Patches django.utils.timezone.now (for API tests, where `now=` cannot be passed)."""
    from unittest import mock

    return mock.patch("django.utils.timezone.now", return_value=now)
