"""Reads of the approver's side: the queue of bulletins waiting for a decision, and the version a
bulletin in review is compared against."""

from __future__ import annotations

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

from broadcast.models import Bulletin, BulletinRevision

__all__ = ["comparison_base", "review_queue"]

# An emergency waits for nobody: what the revision asks for, or the bulletin's own priority when the
# revision names none.
_EMERGENCY = Q(current_revision__priority=Bulletin.Priority.EMERGENCY) | (
    Q(current_revision__priority="") & Q(priority=Bulletin.Priority.EMERGENCY)
)


def review_queue() -> QuerySet[Bulletin]:
    """Bulletins in review, emergency first then the longest waiting (oldest submitted) first, with the
    author, the revision and its audio joined in (a constant number of queries whatever the page size)."""
    return (
        Bulletin.objects.filter(status=Bulletin.Status.IN_REVIEW)
        .select_related("author", "current_revision", "current_revision__rendition")
        # The waveform and the spoken text are the review page's, not the queue's.
        .defer("current_revision__rendition__waveform", "current_revision__rendition__speakable_text",
               "current_revision__rendition__engine_attempts")
        .annotate(emergency_rank=Case(When(_EMERGENCY, then=Value(0)), default=Value(1),
                                      output_field=IntegerField()))
        .order_by("emergency_rank", "current_revision__submitted_at", "current_revision_id", "id")
    )


def comparison_base(bulletin: Bulletin) -> BulletinRevision | None:
    """What the revision in review changes: the version on air (the live revision) if there is one, else the
    revision before it; None for a bulletin's first version."""
    current = bulletin.current_revision
    revisions = BulletinRevision.objects.select_related("rendition")
    if bulletin.live_revision_id and bulletin.live_revision_id != current.pk:
        return revisions.filter(pk=bulletin.live_revision_id).first()
    return revisions.filter(bulletin_id=bulletin.pk, number__lt=current.number).order_by("-number").first()
