"""Newsroom pages: a bulletin's own page — its text, its audio (player, rendering progress, retry) and its
history (who did what, when; where it has aired).

Anyone who may read the bulletin through the API (selectors.bulletins_for) opens the page; the player
plays the same route the API serves (rendition-file), so only the roles that may fetch that file get a
player. The audio block is an htmx fragment polling itself every 2 s while the audio is being made; its
final state (ready, failed, or nothing to make) is returned without the trigger, which stops the polling.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from broadcast.models import AudioRendition, Bulletin
from broadcast.selectors import airing as airing_selectors
from broadcast.selectors import bulletins as selectors
from broadcast.services import bulletins as services
from stations import roles
from stations.models import slot_words
from stations.selectors import user_scope

from .access import role_required

# The API's rules: reading a bulletin needs this permission (operators: only what airs for them), the
# audio file the editorial roles, a retry an editor or an approver.
READ_PERMISSION = "broadcast.view_bulletin"
RETRY_ROLES = (roles.EDITOR, roles.APPROVER)
NO_READ = "Bạn không có quyền xem bản tin."

# What each step of the audio is called on the page.
PROGRESS_STEPS = (
    (AudioRendition.Status.PENDING, "Đang chờ"),
    (AudioRendition.Status.RENDERING, "Đang tạo âm thanh"),
    (AudioRendition.Status.READY, "Sẵn sàng"),
)

# The default slot names of the registry (stations.models.DEFAULT_SLOTS) in words; other names are shown as
# the stations define them.

# A transition named by what the person did.
_ACTIONS = {
    ("", Bulletin.Status.DRAFT): "Tạo bản nháp",
    (Bulletin.Status.DRAFT, Bulletin.Status.IN_REVIEW): "Gửi duyệt",
    (Bulletin.Status.IN_REVIEW, Bulletin.Status.DRAFT): "Rút khỏi hàng chờ duyệt",
    (Bulletin.Status.IN_REVIEW, Bulletin.Status.APPROVED): "Duyệt",
    (Bulletin.Status.IN_REVIEW, Bulletin.Status.REJECTED): "Trả lại",
    (Bulletin.Status.REJECTED, Bulletin.Status.DRAFT): "Sửa lại sau khi bị trả lại",
    (Bulletin.Status.APPROVED, Bulletin.Status.DRAFT): "Sửa bản đã duyệt (phiên bản mới)",
}


def action_label(from_status: str, to_status: str) -> str:
    if (from_status, to_status) in _ACTIONS:
        return _ACTIONS[(from_status, to_status)]
    if to_status == Bulletin.Status.ARCHIVED:
        return "Lưu trữ"
    return f"Chuyển sang “{Bulletin.Status(to_status).label}”"


def _readable_bulletin(request: HttpRequest, pk: int) -> Bulletin:
    if not request.user.has_perm(READ_PERMISSION):
        raise PermissionDenied(NO_READ)
    return get_object_or_404(selectors.bulletins_for(request.user), pk=pk)


def _audio_context(request: HttpRequest, bulletin: Bulletin, retry_error: str = "") -> dict[str, Any]:
    rendition = selectors.current_rendition(bulletin)
    status = rendition.status if rendition is not None else ""
    may_retry = roles.has_role(request.user, *RETRY_ROLES)
    return {
        "bulletin": bulletin,
        "rendition": rendition,
        "may_listen": selectors.can_read_bulletins(request.user),
        # Polling until a final state: ready, failed, or nothing being made.
        "polling": status in (AudioRendition.Status.PENDING, AudioRendition.Status.RENDERING),
        "steps": [(value, label, _step_state(status, value)) for value, label in PROGRESS_STEPS],
        "may_retry": may_retry,
        "retry_offered": may_retry and rendition is not None and rendition.can_retry(timezone.now()),
        "retry_error": retry_error,
    }


def _step_state(current: str, step: str) -> str:
    order = [value for value, _ in PROGRESS_STEPS]
    if current not in order:
        return ""
    here, there = order.index(current), order.index(step)
    return "done" if there < here else ("current" if there == here else "")


def _page(request: HttpRequest, bulletin: Bulletin, retry_error: str = "", status: int = 200) -> HttpResponse:
    history = [
        {"transition": t, "action": action_label(t.from_status, t.to_status)}
        for t in selectors.bulletin_history(bulletin)
    ]
    airing = airing_selectors.bulletin_airing(bulletin.pk, scope=user_scope(request.user))
    schedules = [{"schedule": s, "targets": airing_selectors.targets_summary(s.targets),
                  "slots": ", ".join(slot_words(name) for name in s.slots or [])}
                 for s in airing.schedules]
    user = request.user
    return render(request, "newsroom/bulletin/page.html", {
        **_audio_context(request, bulletin, retry_error),
        # Links to where the next step is taken (the desk's editor, the review page), by the model's rules.
        "may_edit": bulletin.is_author(user) and bulletin.is_editable(),
        "may_review": (roles.has_role(user, roles.APPROVER) and bulletin.status == Bulletin.Status.IN_REVIEW
                       and not bulletin.is_own_work(user)),
        "may_schedule": roles.has_role(user, roles.SUPERVISOR) and bulletin.status == Bulletin.Status.APPROVED,
        "revision": bulletin.current_revision,
        "history": history,
        "airing": airing,
        "schedules": schedules,
    }, status=status)


@role_required()
@require_GET
def bulletin_page(request: HttpRequest, pk: int) -> HttpResponse:
    return _page(request, _readable_bulletin(request, pk))


@role_required()
@require_GET
def audio_fragment(request: HttpRequest, pk: int) -> HttpResponse:
    """The audio block alone: what htmx polls while the audio is being made."""
    bulletin = _readable_bulletin(request, pk)
    return render(request, "newsroom/bulletin/audio.html", _audio_context(request, bulletin))


@role_required(*RETRY_ROLES, message="Chỉ biên tập viên hoặc người duyệt được tạo lại âm thanh.")
@require_POST
def retry_audio(request: HttpRequest, pk: int) -> HttpResponse:
    """The API's retry (services.retry_audio): failed or stuck audio is made again. The answer is the audio
    block (htmx) or, without JavaScript, the page again; a refusal is said in the block."""
    bulletin = _readable_bulletin(request, pk)
    error, status = "", 200
    try:
        services.retry_audio(bulletin, request.user)
    except services.WorkflowError as exc:
        error, status = exc.message, exc.status_code
    bulletin = selectors.bulletins_for(request.user).get(pk=bulletin.pk)  # the rendition as it is now
    if not request.htmx:
        if not error:
            return redirect("newsroom-bulletin", pk=bulletin.pk)
        return _page(request, bulletin, error, status)
    # htmx swaps only 2xx answers by default: a refusal is shown in the block, with a 200.
    return render(request, "newsroom/bulletin/audio.html", _audio_context(request, bulletin, error))


urlpatterns = [
    path("newsroom/bulletins/<int:pk>/", bulletin_page, name="newsroom-bulletin"),
    path("newsroom/bulletins/<int:pk>/audio/", audio_fragment, name="newsroom-bulletin-audio"),
    path("newsroom/bulletins/<int:pk>/audio/retry/", retry_audio, name="newsroom-bulletin-retry"),
]
