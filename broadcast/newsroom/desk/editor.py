"""The editor: write a bulletin, see how it will be read while typing, and act on it through the
workflow services (save, submit, withdraw, delete a never-submitted draft, a recording instead of
speech). Service errors (WorkflowError) come back in Vietnamese beside their field or at the top."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from broadcast.api.bulletins.serializers import PronunciationSerializer
from broadcast.audio.errors import SpeakableTextError
from broadcast.models import Bulletin
from broadcast.newsroom.access import role_required
from broadcast.selectors import bulletins as selectors
from broadcast.services import bulletins as services
from broadcast.services import rendering
from stations import roles

from .forms import BulletinForm, PronunciationForm, RecordingForm

FIELDS = ("title", "category", "priority", "voice", "body")
# A text this many times over the limit is refused without reading it token by token on every keystroke.
PREVIEW_SLACK = 4


def bulletin_page(bulletin: Bulletin | int) -> str:
    """The bulletin's own page (listening, progress, history)."""
    return reverse("newsroom-bulletin", args=[getattr(bulletin, "pk", bulletin)])


def edit_page(bulletin: Bulletin | int) -> str:
    return reverse("newsroom-bulletin-edit", args=[getattr(bulletin, "pk", bulletin)])


# --- the reading shown while typing


def _segments(source: str, spans: list[dict[str, Any]], warnings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The source cut into plain text and rewritten spans, each span with what is said and the guess
    to check when a warning covers it."""
    parts: list[dict[str, Any]] = []
    pos = 0
    for span in sorted(spans, key=lambda s: (s["start"], -s["end"])):
        if span["start"] < pos:
            continue  # spans do not overlap; never show a piece twice if one ever did
        if span["start"] > pos:
            parts.append({"text": source[pos:span["start"]]})
        notes = [w["message"] for w in warnings
                 if w["start"] is not None and w["start"] < span["end"] and w["end"] > span["start"]]
        parts.append({**span, "text": source[span["start"]:span["end"]], "guess": " ".join(notes)})
        pos = span["end"]
    if pos < len(source):
        parts.append({"text": source[pos:]})
    return parts


def reading_context(title: str, body: str) -> dict[str, Any]:
    """What the preview shows: the text with its rewritten spans, the guesses, and the spoken length
    against the limit the services enforce (and their message when it is exceeded or empty)."""
    limit = selectors.speakable_limit()
    context: dict[str, Any] = {"limit": limit, "length": 0, "parts": [], "warnings": [], "error": "",
                               "empty": not (title.strip() or body.strip())}
    if context["empty"]:
        return context
    try:
        spoken = rendering.speakable_for(title, body)
        context["length"] = len(spoken)
    except SpeakableTextError as exc:
        context["error"] = str(exc)
        context["length"] = getattr(exc, "length", None) or len(title) + len(body)
    if len(title) + len(body) > PREVIEW_SLACK * limit:
        return context
    try:
        data = selectors.speakable_spans(title, body)
    except SpeakableTextError as exc:
        context["error"] = context["error"] or str(exc)
        return context
    if context["error"]:
        context["length"] = len(data["reading"])
    context.update(parts=_segments(data["source"], data["spans"], data["warnings"]), warnings=data["warnings"],
                   spans=len(data["spans"]))
    context["over"] = context["length"] > limit
    return context


@role_required(roles.EDITOR)
@require_POST
def preview(request: HttpRequest) -> HttpResponse:
    title, body = request.POST.get("title", ""), request.POST.get("body", "")
    return render(request, "newsroom/desk/_preview.html", {"reading": reading_context(title, body)})


# --- the page


def _own_bulletin(request: HttpRequest, pk: int) -> Bulletin:
    bulletin = get_object_or_404(selectors.bulletins_for(request.user), pk=pk)
    if not bulletin.is_author(request.user):  # the rule the drafting services apply
        raise PermissionDenied("Chỉ tác giả được sửa bản tin này.")
    return bulletin


def _initial(bulletin: Bulletin) -> dict[str, str]:
    revision = bulletin.current_revision
    return {field: getattr(revision, field, "") or getattr(bulletin, field, "") for field in FIELDS}


def _page(request: HttpRequest, form: BulletinForm, bulletin: Bulletin | None = None, *, status: int = 200,
          recording_form: RecordingForm | None = None, top_errors: list[str] | None = None) -> HttpResponse:
    values = form.data if form.is_bound else form.initial
    context = {
        "form": form,
        "bulletin": bulletin,
        "revision": bulletin.current_revision if bulletin else None,
        "rendition": selectors.current_rendition(bulletin) if bulletin else None,
        "reading": reading_context(values.get("title", "") or "", values.get("body", "") or ""),
        "recording_form": recording_form or RecordingForm(),
        "lexicon_form": PronunciationForm(),
        "top_errors": top_errors or [],
        "editable": bulletin is None or bulletin.is_editable(),
        "can_withdraw": bulletin is not None and bulletin.can_withdraw(request.user),
        "can_delete": bulletin is not None and bulletin.can_delete(request.user),
        "limits": rendering_limits(),
        "bulletin_page": bulletin_page(bulletin) if bulletin else "",
    }
    return render(request, "newsroom/desk/editor.html", context, status=status)


def rendering_limits() -> Any:
    from broadcast.audio.config import AudioConfig

    return AudioConfig.from_django_settings().limits


def _fail(form: BulletinForm, exc: services.WorkflowError) -> int:
    form.error_for(exc.field, exc.message)
    return exc.status_code


def _changes(form: BulletinForm) -> dict[str, str]:
    return {field: form.cleaned_data.get(field) or "" for field in FIELDS}


@role_required(roles.EDITOR)
@require_http_methods(["GET", "POST"])
def new_bulletin(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _page(request, BulletinForm())
    form = BulletinForm(request.POST)
    action = request.POST.get("action", "save")
    if not form.is_valid() or action == "preview":
        return _page(request, form, status=200 if action == "preview" else 400)
    try:
        bulletin = services.create_bulletin(request.user, **_changes(form))
    except services.WorkflowError as exc:
        return _page(request, form, status=_fail(form, exc))
    if action == "submit":
        try:
            services.submit(bulletin, request.user)
        except services.WorkflowError as exc:
            messages.error(request, f"Đã lưu bản nháp nhưng chưa gửi duyệt được: {exc.message}")
            return redirect(edit_page(bulletin))
        messages.success(request, "Đã gửi duyệt bản tin.")
    else:
        messages.success(request, "Đã lưu bản nháp.")
    return redirect(bulletin_page(bulletin))


@role_required(roles.EDITOR)
@require_http_methods(["GET", "POST"])
def edit_bulletin(request: HttpRequest, pk: int) -> HttpResponse:
    bulletin = _own_bulletin(request, pk)
    if request.method == "GET":
        return _page(request, BulletinForm(initial=_initial(bulletin), voice=bulletin.voice), bulletin)
    action = request.POST.get("action", "save")
    if action in ("withdraw", "delete"):
        return _act(request, bulletin, action)
    form = BulletinForm(request.POST, voice=bulletin.voice)
    if not form.is_valid() or action == "preview":
        return _page(request, form, bulletin, status=200 if action == "preview" else 400)
    try:
        bulletin = services.edit_bulletin(bulletin, request.user, **_changes(form))
        if action == "submit":
            services.submit(bulletin, request.user)
    except services.WorkflowError as exc:
        bulletin.refresh_from_db()
        return _page(request, form, bulletin, status=_fail(form, exc))
    messages.success(request, "Đã gửi duyệt bản tin." if action == "submit" else "Đã lưu bản nháp.")
    return redirect(bulletin_page(bulletin))


def _act(request: HttpRequest, bulletin: Bulletin, action: str) -> HttpResponse:
    try:
        if action == "withdraw":
            services.withdraw(bulletin, request.user, request.POST.get("comment", ""))
        else:
            services.delete_draft(bulletin, request.user)
    except services.WorkflowError as exc:
        form = BulletinForm(initial=_initial(bulletin), voice=bulletin.voice)
        return _page(request, form, bulletin, status=exc.status_code, top_errors=[exc.message])
    if action == "withdraw":
        messages.success(request, "Đã rút bản tin khỏi hàng chờ duyệt; bản tin trở lại bản nháp.")
        return redirect(edit_page(bulletin))
    messages.success(request, "Đã xóa bản nháp.")
    return redirect("newsroom-bulletins")


@role_required(roles.EDITOR)
@require_POST
def upload_recording(request: HttpRequest, pk: int) -> HttpResponse:
    bulletin = _own_bulletin(request, pk)
    upload_form = RecordingForm(request.POST, request.FILES)
    form = BulletinForm(initial=_initial(bulletin), voice=bulletin.voice)
    if not upload_form.is_valid():
        return _page(request, form, bulletin, status=400, recording_form=upload_form)
    upload = upload_form.cleaned_data["file"]
    try:
        services.attach_recording(bulletin, request.user, upload, size=upload.size)
    except services.WorkflowError as exc:
        upload_form.add_error("file", exc.message)
        return _page(request, form, bulletin, status=exc.status_code, recording_form=upload_form)
    messages.success(request, "Đã nhận bản ghi âm; bản tin sẽ phát bản ghi này thay cho giọng đọc tổng hợp.")
    return redirect(edit_page(bulletin))


# --- the pronunciation lexicon, from a highlighted word


@role_required(roles.EDITOR)
@require_POST
def add_pronunciation(request: HttpRequest) -> HttpResponse:
    """Adds an entry with the API's own validation; the preview listens for `lexicon-changed` and reads
    the text again."""
    form = PronunciationForm(request.POST)
    entry = PronunciationSerializer(data=request.POST)
    saved = form.is_valid() and entry.is_valid()
    if saved:
        entry.save(created_by=request.user)
    else:
        for field, errors in getattr(entry, "errors", {}).items() if form.is_valid() else ():
            for error in errors:
                form.add_error(field if field in form.fields else None, str(error))
    if request.htmx:
        response = render(request, "newsroom/desk/_lexicon.html",
                          {"lexicon_form": PronunciationForm() if saved else form,
                           "saved": entry.validated_data if saved else None}, status=200 if saved else 400)
        if saved:
            response["HX-Trigger"] = "lexicon-changed"
        return response
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, require_https=request.is_secure()):
        back = reverse("newsroom-bulletin-new")
    if saved:
        messages.success(request, f"Đã thêm cách đọc “{entry.validated_data['term']}”.")
    else:
        messages.error(request, "Chưa thêm được cách đọc: " + " ".join(
            str(e) for errors in form.errors.values() for e in errors))
    return HttpResponseRedirect(back)
