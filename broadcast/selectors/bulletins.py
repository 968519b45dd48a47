"""Reads of the editorial workflow: bulletin lists, history, the pronunciation lexicon."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from broadcast.models import AudioRendition, Bulletin, BulletinTransition, PronunciationEntry, Schedule
from stations import roles
from stations.selectors import user_scope

from .access import schedules_reaching

__all__ = [
    "READER_ROLES",
    "bulletin_history",
    "bulletins_for",
    "can_read_bulletins",
    "current_rendition",
    "lexicon_overrides",
]

# The editorial desk: every bulletin. Operators read only what live schedules air in their district or units.
READER_ROLES = (roles.EDITOR, roles.APPROVER, roles.SUPERVISOR)


def can_read_bulletins(user: Any) -> bool:
    return roles.has_role(user, *READER_ROLES)


def bulletins_for(user: Any) -> QuerySet[Bulletin]:
    """Bulletins a staff user may read, with everything the list and detail views show joined in
    (a constant number of queries whatever the page size)."""
    bulletins = Bulletin.objects.select_related(
        "author", "current_revision", "current_revision__rendition", "live_revision"
    )
    if can_read_bulletins(user):
        return bulletins
    scope = user_scope(user)
    if scope.everything:
        return Bulletin.objects.none()
    live = Schedule.objects.filter(cancelled_at__isnull=True)
    return bulletins.filter(pk__in=schedules_reaching(live, scope).values("bulletin_id"))


def bulletin_history(bulletin: Bulletin) -> QuerySet[BulletinTransition]:
    return bulletin.transitions.select_related("by", "revision").order_by("at", "id")


def current_rendition(bulletin: Bulletin) -> AudioRendition | None:
    revision = bulletin.current_revision
    return revision.rendition if revision is not None else None


def lexicon_overrides() -> dict[str, str]:
    """The editors' pronunciation entries (they extend and override the built-in lexicon)."""
    return dict(PronunciationEntry.objects.values_list("term", "spoken"))
