"""Reads of the editorial workflow: bulletin lists, history, the pronunciation lexicon."""

from __future__ import annotations

from typing import Any

from django.db.models import Case, OuterRef, Q, QuerySet, Subquery, When

from broadcast.models import AudioRendition, Bulletin, BulletinTransition, PronunciationEntry, Schedule
from stations import roles
from stations.selectors import user_scope

from .access import schedules_reaching

__all__ = [
    "READER_ROLES",
    "bulletin_history",
    "bulletins_for",
    "available_voices",
    "can_read_bulletins",
    "current_rendition",
    "desk_authors",
    "desk_bulletins",
    "lexicon_overrides",
    "folded_pattern",
    "search_folded",
    "speakable_limit",
    "speakable_spans",
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


# --- the editor's desk: search without diacritics, filters, sorting, the reading of a text being written


def _letter_variants() -> dict[str, str]:
    """Each bare letter with every accented form in both cases ('a' → 'aAàÀáÁ…ậẬ', 'd' → 'dDđĐ'), as
    stations.names.fold folds them."""
    from stations.names import fold

    variants: dict[str, list[str]] = {}
    for code in (*range(0x41, 0x5B), *range(0x61, 0x7B), *range(0xC0, 0x250), *range(0x1E00, 0x1F00)):
        ch = chr(code)
        bare = fold(ch)
        if len(bare) == 1 and bare.isascii() and bare.isalpha():
            variants.setdefault(bare, []).append(ch)
    return {bare: "".join(chars) for bare, chars in variants.items()}


_VARIANTS = _letter_variants()


def folded_pattern(term: str) -> str:
    """A regular expression finding `term` whatever its case and diacritics ("bao" finds "Bão", "báo",
    "BAO"): each letter becomes the class of its forms. Understood alike by PostgreSQL (`~`) and the
    function Django gives SQLite, and far cheaper than folding every row's text before comparing."""
    from stations.names import fold

    parts = []
    for ch in term:
        bare = fold(ch)
        if len(bare) == 1 and bare in _VARIANTS:
            parts.append(f"[{_VARIANTS[bare]}]")
        elif ch.isalnum():
            parts.append(ch)
        elif ch.isspace():
            parts.append(r"\s+")
        else:
            parts.append("\\" + ch)
    return "".join(parts)


def search_folded(bulletins: QuerySet[Bulletin], terms: list[str], fields: list[str]) -> QuerySet[Bulletin]:
    """Every term found in one of `fields`, ignoring case and diacritics ("bao" finds "Bão")."""
    for term in terms:
        if not term.strip():
            continue
        pattern = folded_pattern(term.strip())
        match = Q()
        for name in fields:
            match |= Q(**{f"{name}__regex": pattern})
        bulletins = bulletins.filter(match)
    return bulletins


# What each desk tab lists; "mine" is the signed-in author's own drafts.
DESK_TABS = {
    "all": None,
    "mine": (Bulletin.Status.DRAFT,),
    "review": (Bulletin.Status.IN_REVIEW,),
    "rejected": (Bulletin.Status.REJECTED,),
    "approved": (Bulletin.Status.APPROVED,),
    "archived": (Bulletin.Status.ARCHIVED,),
}

DESK_SORTS = {
    "newest": ("-created_at", "-id"),
    "oldest": ("created_at", "id"),
    "updated": ("-updated_at", "-id"),
    "priority": ("priority_rank", "-created_at", "-id"),
    "title": ("title", "id"),
}


def desk_bulletins(
    user: Any,
    *,
    tab: str = "all",
    terms: list[str] | None = None,
    search_fields: list[str] | None = None,
    category: str = "",
    priority: str = "",
    status: str = "",
    author: int | None = None,
    created_from: Any = None,
    created_to: Any = None,
    sort: str = "newest",
) -> QuerySet[Bulletin]:
    """The desk's list: what `user` may read, narrowed by tab and filters, with the rejection reason (the
    last send-back comment) and the priority rank joined in, so a page costs the same queries at any size."""
    bulletins = bulletins_for(user)
    statuses = DESK_TABS.get(tab)
    if tab == "approved":
        # On air too: an approved bulletin being edited keeps airing its approved revision.
        bulletins = bulletins.filter(
            Q(status__in=statuses) | Q(live_revision__isnull=False) & ~Q(status=Bulletin.Status.ARCHIVED)
        )
    elif statuses:
        bulletins = bulletins.filter(status__in=statuses)
    if tab == "mine":
        bulletins = bulletins.filter(author=user)
    if terms:
        bulletins = search_folded(bulletins, terms, search_fields or ["title"])
    if category:
        bulletins = bulletins.filter(category=category)
    if priority:
        bulletins = bulletins.filter(priority=priority)
    if status:
        bulletins = bulletins.filter(status=status)
    if author:
        bulletins = bulletins.filter(author_id=author)
    if created_from:
        bulletins = bulletins.filter(created_at__date__gte=created_from)
    if created_to:
        bulletins = bulletins.filter(created_at__date__lte=created_to)
    rejection = (
        BulletinTransition.objects.filter(bulletin=OuterRef("pk"), to_status=Bulletin.Status.REJECTED)
        .order_by("-at", "-id")
        .values("comment")[:1]
    )
    P = Bulletin.Priority
    rank = Case(When(priority=P.EMERGENCY, then=0), When(priority=P.HIGH, then=1), default=2)
    bulletins = bulletins.annotate(rejection_reason=Subquery(rejection), priority_rank=rank)
    return bulletins.order_by(*DESK_SORTS.get(sort, DESK_SORTS["newest"]))


def desk_authors() -> QuerySet[Any]:
    """The people who wrote a bulletin (the desk's author filter)."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(bulletins__isnull=False).distinct().order_by("username")


def available_voices() -> tuple[str, ...]:
    """The voices the configured speech engine offers (empty when it takes any name)."""
    from broadcast.audio.config import AudioConfig

    config = AudioConfig.from_django_settings()
    return tuple(getattr(config.build_engine(config.engine), "voices", None) or ())


def speakable_limit() -> int:
    """The longest speakable text the services accept (the renderer's limit, LOA_AUDIO MAX_TEXT_CHARS)."""
    from broadcast.audio.config import AudioConfig

    return AudioConfig.from_django_settings().limits.max_text_chars


def speakable_spans(title: str, body: str) -> dict[str, Any]:
    """Every rewritten token of the reading of a title and body with the current lexicon (offsets in
    `source`, the pronunciation entry's id when the lexicon read it) and the guesses to check.
    Raises SpeakableTextError when nothing in it can be read."""
    from broadcast.audio.normalize import read_text

    source = f"{title.strip()}.\n\n{body}" if title.strip() else body
    reading = read_text(source, lexicon_overrides())
    terms = {span.term for span in reading.spans if span.term}
    entries = dict(PronunciationEntry.objects.filter(term__in=terms).values_list("term", "id")) if terms else {}
    spans = [{"start": s.start, "end": s.end, "source": s.source, "spoken": s.spoken, "rule": s.rule,
              "entry": entries.get(s.term) if s.term else None} for s in reading.spans]
    warnings = [{"code": w.code, "message": w.message, "start": w.start, "end": w.end, "source": w.source}
                for w in reading.warnings]
    return {"source": reading.source, "reading": reading.text, "spans": spans, "warnings": warnings}
