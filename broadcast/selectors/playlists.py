"""Reads for schedules, playlists and the station download protocol."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from stations.models import AdminUnit, Station
from stations.selectors import visible_stations

from ..models import AudioRendition, Bulletin, Playlist, PlaylistItem, Schedule

LOCAL_TZ = ZoneInfo(settings.TIME_ZONE)


def local_today() -> dt.date:
    return timezone.localdate(timezone.now(), LOCAL_TZ)


def build_dates(start: dt.date | None = None) -> list[dt.date]:
    """Today and the coming days that the nightly build (and every change) keeps materialized."""
    start = start or local_today()
    return [start + dt.timedelta(days=n) for n in range(settings.PLAYLIST_DAYS_AHEAD + 1)]


def published_range(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """Dates a station may ask for; outside it the station API answers 400."""
    today = today or local_today()
    return (today - dt.timedelta(days=settings.PLAYLIST_DAYS_BACK),
            today + dt.timedelta(days=settings.PLAYLIST_DAYS_AHEAD))


# ---------------------------------------------------------------- slots


@dataclass(frozen=True, slots=True)
class Slot:
    """A station's broadcast slot on one local date (the builder packs into it, coverage waits for its end)."""

    name: str
    start: dt.datetime
    end: dt.datetime

    @property
    def capacity_ms(self) -> int:
        return int((self.end - self.start).total_seconds() * 1000)


def _parse_hhmm(value: str) -> dt.time:
    hours, minutes = value.split(":")
    return dt.time(int(hours), int(minutes))


def parse_slot_bounds(slots: Sequence[dict[str, str]], date: dt.date) -> list[Slot]:
    """A station's slots on a local date as aware datetimes, in time order (bad entries skipped)."""
    out = []
    for slot in slots or ():
        try:
            start = dt.datetime.combine(date, _parse_hhmm(slot["start"]), tzinfo=LOCAL_TZ)
            end = dt.datetime.combine(date, _parse_hhmm(slot["end"]), tzinfo=LOCAL_TZ)
        except (KeyError, ValueError, TypeError, AttributeError):
            continue
        if end > start:
            out.append(Slot(str(slot["name"]), start, end))
    return sorted(out, key=lambda s: s.start)


# ---------------------------------------------------------------- targeting


@dataclass(frozen=True, slots=True)
class StationRow:
    """The few registry fields the builder needs, loaded in one query for all stations."""

    id: int
    code: str
    district_id: int
    district_code: str
    kind: str
    slots: list[dict[str, str]]
    unit_id: int | None = None
    unit_code: str = ""


def schedule_targets_station(targets: dict[str, Any], station: StationRow) -> bool:
    """Targets are a union: all, or any of the districts (where the station stood before 1 July 2025,
    which never changes), commune-level units (where it stands now), stations or kinds listed."""
    if targets.get("all"):
        return True
    return (
        station.district_code in (targets.get("districts") or ())
        or (station.unit_code and station.unit_code in (targets.get("units") or ()))
        or station.code in (targets.get("stations") or ())
        or station.kind in (targets.get("kinds") or ())
    )


def target_station_ids(targets: dict[str, Any]) -> list[int]:
    """Ids of the active stations a target spec reaches (one query)."""
    if targets.get("all"):
        return list(Station.objects.filter(active=True).order_by("pk").values_list("pk", flat=True))
    q = Q(pk__in=[])
    if targets.get("districts"):
        q |= Q(district__code__in=targets["districts"])
    if targets.get("units"):
        q |= Q(unit__code__in=targets["units"], unit__map=AdminUnit.Map.SINCE_2025)
    if targets.get("stations"):
        q |= Q(code__in=targets["stations"])
    if targets.get("kinds"):
        q |= Q(kind__in=targets["kinds"])
    return list(Station.objects.filter(q, active=True).order_by("pk").values_list("pk", flat=True))


# ---------------------------------------------------------------- schedules


def schedules_for_dates(dates: Iterable[dt.date]) -> list[Schedule]:
    """Live schedules touching any of `dates`, with what the builder needs already joined."""
    dates = sorted(set(dates))
    if not dates:
        return []
    return list(
        Schedule.objects.filter(cancelled_at__isnull=True, start_date__lte=dates[-1], end_date__gte=dates[0])
        .select_related("bulletin", "bulletin__live_revision", "bulletin__live_revision__rendition")
        .order_by("created_at", "pk")
    )


def schedule_list(*, bulletin_id: int | None = None, date: dt.date | None = None) -> QuerySet[Schedule]:
    qs = Schedule.objects.select_related("bulletin", "created_by", "cancelled_by")
    if bulletin_id is not None:
        qs = qs.filter(bulletin_id=bulletin_id)
    if date is not None:
        qs = qs.filter(start_date__lte=date, end_date__gte=date)
    return qs


def schedule_is_airable(bulletin: Bulletin) -> bool:
    """An approved live revision with its audio ready: the only thing that may be scheduled or listed."""
    revision = bulletin.live_revision
    return (
        bulletin.status != Bulletin.Status.ARCHIVED
        and revision is not None
        and revision.approved_at is not None
        and revision.rendition is not None
        and revision.rendition.status == AudioRendition.Status.READY
    )


# ---------------------------------------------------------------- playlists


def playlist_versions(station: Station | int, dates: Iterable[dt.date] | None = None) -> dict[str, int]:
    """{ISO date: version} of this station's playlists for today and the coming days (for heartbeats)."""
    station_id = station if isinstance(station, int) else station.pk
    qs = Playlist.objects.filter(station_id=station_id)
    if dates is None:
        qs = qs.filter(date__gte=local_today())
    else:
        qs = qs.filter(date__in=list(dates))
    return {d.isoformat(): v for d, v in qs.order_by("date").values_list("date", "version")}


def empty_playlist_etag(station_code: str, date: dt.date) -> str:
    """The ETag of a date that has no playlist (yet): version 0, no items."""
    return f'"{station_code}-{date:%Y%m%d}-v0-empty"'


def playlist_etag(station: Station, date: dt.date) -> str:
    """The ETag alone, for the cheap 304 path: one query on the (station, date) unique index."""
    etag = Playlist.objects.filter(station_id=station.pk, date=date).values_list("etag", flat=True).first()
    return etag or empty_playlist_etag(station.code, date)


def playlist_validator(station: Station, date: dt.date) -> tuple[int, str]:
    """(version, ETag) of the station's playlist for the date, (0, empty ETag) without one: one query."""
    row = Playlist.objects.filter(station_id=station.pk, date=date).values_list("version", "etag").first()
    return row if row and row[1] else (0, empty_playlist_etag(station.code, date))


class PollCheck(NamedTuple):
    """What the 304 fast path learns from its one query."""

    station_id: int
    etag: str
    last_seen_at: dt.datetime | None


def etag_for_token(token_hash: str, date: dt.date) -> PollCheck | None:
    """The 304 fast path: a live credential of an active station, that station's playlist ETag for the
    date (the empty-playlist ETag when it has none) and its last_seen_at (for the throttle and the
    last-seen write), in one query; None if the token is not valid.

    Hand-written SQL, built once: on this path building and compiling an ORM query cost more than the
    query itself (scripts/bench_playlists.py measures the path end to end). On PostgreSQL the statement
    is prepared once per connection (DB_PREPARE_POLL): parsing and planning it cost as much as running it."""
    with _poll_cursor() as cursor:
        cursor.execute(_etag_sql(), [date, token_hash])
        row = cursor.fetchone()
    if row is None:
        return None
    station_id, code, etag, last_seen_at = row
    if isinstance(last_seen_at, str):  # SQLite without declared-type conversion
        last_seen_at = dt.datetime.fromisoformat(last_seen_at)
    if last_seen_at is not None and timezone.is_naive(last_seen_at):  # SQLite stores UTC, naive
        last_seen_at = last_seen_at.replace(tzinfo=dt.UTC)
    return PollCheck(station_id, etag or empty_playlist_etag(code, date), last_seen_at)


def _poll_cursor() -> Any:
    """A cursor for the poll's query: on PostgreSQL one that prepares its statements server-side (Django
    turns preparing off for every connection, for poolers in transaction mode; DB_PREPARE_POLL=false
    does the same here), wrapped like any Django cursor so query logging and execute wrappers see it."""
    if connection.vendor != "postgresql" or not settings.DB_PREPARE_POLL:
        return connection.cursor()
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold is None:
        # None turns preparing off for the whole connection; Django's cursors bind on the client side,
        # which never prepares, so a threshold reaches only cursors like this one that ask for it.
        raw.prepare_threshold = 1_000_000
    with connection.wrap_database_errors:
        cursor = _prepared_cursor_class()(raw)
    return connection.make_debug_cursor(cursor) if connection.queries_logged else connection.make_cursor(cursor)


@functools.cache
def _prepared_cursor_class() -> type:
    import psycopg

    class PreparedCursor(psycopg.Cursor):
        def execute(self, query: Any, params: Any = None, *, prepare: bool | None = None,
                    binary: bool | None = None) -> Any:
            return super().execute(query, params, prepare=True, binary=binary)

    return PreparedCursor


@functools.cache
def _etag_sql() -> str:
    from stations.models import Station, StationCredential

    cred, station, playlist = StationCredential._meta, Station._meta, Playlist._meta
    return (
        f'SELECT s."id", s."code", p."etag", s."last_seen_at" FROM "{cred.db_table}" c '
        f'JOIN "{station.db_table}" s ON s."id" = c."station_id" '
        f'LEFT JOIN "{playlist.db_table}" p ON p."station_id" = s."id" AND p."date" = %s '
        f'WHERE c."token_hash" = %s AND c."revoked_at" IS NULL AND s."active"'
    )


def station_playlist(station_id: int, date: dt.date) -> Playlist | None:
    """The playlist with its placed items in order (what the station gets), or None."""
    items = (
        PlaylistItem.objects.filter(position__isnull=False)
        .select_related("revision", "rendition")
        .order_by("position")
    )
    return (
        Playlist.objects.filter(station_id=station_id, date=date)
        .prefetch_related(Prefetch("items", queryset=items, to_attr="placed_items"))
        .first()
    )


def station_has_audio(station_id: int, sha256: str, date: dt.date | None = None) -> AudioRendition | None:
    """The ready rendition with this sha256 if it is listed in this station's playlist of `date`, or of
    any date a station may ask for (published_range). Index probes: (station, date) then (playlist, sha256)."""
    dates = Q(playlist__date=date) if date else Q(playlist__date__range=published_range())
    item = (
        PlaylistItem.objects.filter(
            dates, playlist__station_id=station_id, sha256=sha256, position__isnull=False,
            rendition__status=AudioRendition.Status.READY,
        )
        .select_related("rendition")
        .only("id", "rendition")
        .first()
    )
    return item.rendition if item else None


def staff_playlists(user: Any, *, date: dt.date, station_code: str | None = None) -> QuerySet[Playlist]:
    """Playlists a staff user may see for a date (operators: of the stations standing in their district or
    units now), items included."""
    stations = visible_stations(user)
    qs = Playlist.objects.filter(date=date, station__in=stations.values("pk"))
    if station_code:
        qs = qs.filter(station__code=station_code)
    items = PlaylistItem.objects.select_related("revision").order_by("position", "key")
    return (
        qs.select_related("station", "station__district")
        .prefetch_related(Prefetch("items", queryset=items))
        .order_by("station__code")
    )
