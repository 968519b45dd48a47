"""Newsroom pages: the approver's queue and the review page (listen, compare, decide).

Decisions go through the workflow services, as the API's do: the four-eyes rule, the states and the
binding of the approval to the audio heard (the page posts the sha256 of the file its player played) are
the service's. A refusal is shown on the review page in Vietnamese (with the status the API would give),
never a 500; the refused audio_changed answer shows the new audio to listen to.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from broadcast.models import Bulletin
from broadcast.selectors import bulletins as bulletin_selectors
from broadcast.selectors import review as selectors
from broadcast.services import bulletins as services
from stations import roles

from .access import role_required
from .diff import audio_change, field_change, word_diff

PAGE_SIZE = 25
OWN_WORK = "Bài của bạn — người khác phải duyệt."
APPROVERS = (roles.APPROVER,)


def age_label(since: dt.datetime | None, now: dt.datetime) -> str:
    """How long ago, the way people say it: "vừa xong", "5 phút trước", "3 giờ trước", "2 ngày trước"."""
    if since is None:
        return "—"
    seconds = max(0, int((now - since).total_seconds()))
    if seconds < 60:
        return "vừa xong"
    for size, unit in ((86400, "ngày"), (3600, "giờ"), (60, "phút")):
        if seconds >= size:
            return f"{seconds // size} {unit} trước"
    return "vừa xong"  # pragma: no cover - the loop always returns from 60 s


def _priority_label(value: str) -> str:
    return Bulletin.Priority(value).label if value in Bulletin.Priority.values else value


# ---------------------------------------------------------------- forms


class ApproveForm(forms.Form):
    comment = forms.CharField(label="Ghi chú khi duyệt (không bắt buộc)", required=False, max_length=2000,
                              widget=forms.Textarea(attrs={"rows": 3}),
                              error_messages={"max_length": "Ghi chú tối đa %(limit_value)d ký tự."})
    sha256 = forms.RegexField(
        regex=r"^[0-9a-fA-F]{64}$", widget=forms.HiddenInput,
        error_messages={"required": "Trang chưa gửi kèm mã của bản âm thanh đã nghe; hãy tải lại trang và nghe lại.",
                        "invalid": "Mã của bản âm thanh đã nghe không hợp lệ; hãy tải lại trang và nghe lại."},
    )


class SendBackForm(forms.Form):
    comment = forms.CharField(label="Lý do trả lại (bắt buộc)", max_length=2000,
                              widget=forms.Textarea(attrs={"rows": 3}),
                              error_messages={"required": "Cần ghi lý do trả lại để người viết biết phải sửa gì.",
                                              "max_length": "Lý do tối đa %(limit_value)d ký tự."})

    def clean_comment(self) -> str:
        comment = self.cleaned_data["comment"].strip()
        if not comment:
            raise forms.ValidationError("Cần ghi lý do trả lại để người viết biết phải sửa gì.")
        return comment


# ---------------------------------------------------------------- the queue


@require_GET
@role_required(*APPROVERS)
def review_queue(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.review_queue(), PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    rows = []
    for bulletin in page.object_list:
        revision = bulletin.current_revision
        rendition = revision.rendition
        rows.append({
            "bulletin": bulletin,
            "revision": revision,
            "title": revision.title,
            "priority": revision.priority or bulletin.priority,
            "priority_label": _priority_label(revision.priority or bulletin.priority),
            "author": bulletin.author,
            "age": age_label(revision.submitted_at, now),
            "submitted_at": revision.submitted_at,
            "duration": rendition.duration_label if rendition is not None else "",
            "audio_status": rendition.status if rendition is not None else "",
            "audio_label": rendition.get_status_display() if rendition is not None else "Chưa có âm thanh",
            "own": bulletin.is_own_work(request.user),
        })
    return render(request, "newsroom/review/queue.html", {"page": page, "rows": rows, "own_work": OWN_WORK})


# ---------------------------------------------------------------- the review page


def _bulletin(request: HttpRequest, pk: int) -> Bulletin:
    return get_object_or_404(bulletin_selectors.bulletins_for(request.user), pk=pk)


def _comparison(bulletin: Bulletin) -> dict[str, Any]:
    current = bulletin.current_revision
    base = selectors.comparison_base(bulletin)
    rendition = current.rendition
    context: dict[str, Any] = {"base": base, "base_is_live": base is not None and base.pk == bulletin.live_revision_id}
    if base is None:
        return context
    base_rendition = base.rendition
    base_priority = base.priority or bulletin.priority
    new_priority = current.priority or bulletin.priority
    context.update(
        title=field_change(base.title, current.title),
        title_diff=word_diff(base.title, current.title),
        body=field_change(base.body, current.body),
        body_diff=word_diff(base.body, current.body),
        priority=field_change(_priority_label(base_priority), _priority_label(new_priority)),
        audio=audio_change(
            base_rendition.sha256 if base_rendition else None, rendition.sha256 if rendition else None,
            base_rendition.duration_ms if base_rendition else None, rendition.duration_ms if rendition else None,
        ),
        base_duration=base_rendition.duration_label if base_rendition else "",
    )
    return context


def _page(request: HttpRequest, bulletin: Bulletin, *, approve_form: ApproveForm | None = None,
          send_back_form: SendBackForm | None = None, error: str = "", status: int = 200) -> HttpResponse:
    current = bulletin.current_revision
    rendition = current.rendition
    ready = rendition is not None and rendition.status == rendition.Status.READY and bool(rendition.sha256)
    in_review = bulletin.status == Bulletin.Status.IN_REVIEW
    own = bulletin.is_own_work(request.user)
    context = {
        "bulletin": bulletin,
        "revision": current,
        "rendition": rendition,
        "ready": ready,
        "in_review": in_review,
        "own": own,
        "own_work": OWN_WORK,
        "can_decide": in_review and not own,
        "priority_label": _priority_label(current.priority or bulletin.priority),
        "category_label": Bulletin.Category(current.category or bulletin.category).label,
        "spoken_text": rendition.speakable_text if rendition is not None and rendition.speakable_text else "",
        "is_recording": rendition is not None and rendition.source == rendition.Source.RECORDING,
        # The hidden field always names the file the page plays now, even after a refused approval.
        "approve_form": _with_heard(approve_form or ApproveForm(), rendition),
        "send_back_form": send_back_form or SendBackForm(),
        "error": error,
        "age": age_label(current.submitted_at, timezone.now()),
        **_comparison(bulletin),
    }
    return render(request, "newsroom/review/review.html", context, status=status)


def _with_heard(form: ApproveForm, rendition: Any) -> ApproveForm:
    sha256 = rendition.sha256 if rendition is not None else ""
    if form.is_bound:
        form.data = form.data.copy()
        form.data[form.add_prefix("sha256")] = sha256
    else:
        form.initial["sha256"] = sha256
    return form


@require_GET
@role_required(*APPROVERS)
def review_page(request: HttpRequest, pk: int) -> HttpResponse:
    return _page(request, _bulletin(request, pk))


def _refused(request: HttpRequest, pk: int, exc: services.WorkflowError, **forms_: Any) -> HttpResponse:
    """The service said no: the page again, fresh from the database (the new audio when it changed)."""
    return _page(request, _bulletin(request, pk), error=exc.message, status=exc.status_code, **forms_)


@require_POST
@role_required(*APPROVERS)
def approve(request: HttpRequest, pk: int) -> HttpResponse:
    bulletin = _bulletin(request, pk)
    form = ApproveForm(request.POST)
    if not form.is_valid():
        return _page(request, bulletin, approve_form=form, status=400)
    try:
        services.approve(bulletin, request.user, form.cleaned_data["comment"].strip(),
                         heard_sha256=form.cleaned_data["sha256"])
    except services.WorkflowError as exc:
        if exc.code == "audio_changed":
            form = ApproveForm(initial={"comment": form.cleaned_data["comment"]})
        return _refused(request, pk, exc, approve_form=form)
    messages.success(request, f"Đã duyệt “{bulletin.current_revision.title}”: bản này từ nay là bản được phát.")
    return redirect("newsroom-review")


@require_POST
@role_required(*APPROVERS)
def send_back(request: HttpRequest, pk: int) -> HttpResponse:
    bulletin = _bulletin(request, pk)
    form = SendBackForm(request.POST)
    if not form.is_valid():
        return _page(request, bulletin, send_back_form=form, status=400)
    try:
        services.reject(bulletin, request.user, form.cleaned_data["comment"])
    except services.WorkflowError as exc:
        if exc.status_code == 400 and exc.field == "comment":
            form.add_error("comment", exc.message)
            return _page(request, bulletin, send_back_form=form, status=400)
        return _refused(request, pk, exc, send_back_form=form)
    messages.success(request, f"Đã trả lại “{bulletin.current_revision.title}” cho người viết, kèm lý do.")
    return redirect("newsroom-review")


urlpatterns = [
    path("newsroom/review/", review_queue, name="newsroom-review"),
    path("newsroom/review/<int:pk>/", review_page, name="newsroom-review-bulletin"),
    path("newsroom/review/<int:pk>/approve/", approve, name="newsroom-review-approve"),
    path("newsroom/review/<int:pk>/send-back/", send_back, name="newsroom-review-send-back"),
]
