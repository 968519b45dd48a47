"""Emergency pages: send an approved emergency bulletin to stations now (choose, confirm with the number of
stations, send), then follow the stations' confirmations live and phone the silent ones.

Sending is for supervisors. District and commune operators may follow an emergency that reached their
area, seeing only their stations; any other emergency is a 404 for them. The live page's poll carries the
counts and the first stations to phone only; every station, by state, is on a paginated list.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from broadcast.models import Bulletin, Schedule
from broadcast.newsroom.access import role_required
from broadcast.selectors import emergency as selectors
from broadcast.selectors import push as push_selectors
from broadcast.services import emergency as services
from broadcast.services import push as push_services
from broadcast.services.schedules import (
    ScheduleConflict,
    ScheduleValidationError,
    cancel_schedule,
    validate_targets,
)
from stations import roles
from stations.selectors import user_scope

from .emergency_tokens import issue_token, spend_token

SENDERS = (roles.SUPERVISOR,)
VIEWERS = (roles.SUPERVISOR, roles.DISTRICT_OPERATOR, roles.COMMUNE_OPERATOR)
POLL_SECONDS = 3
STATIONS_PER_PAGE = 100
UNREACHABLE_SHOWN = 50
ALL, UNITS = "all", "units"


class EmergencyForm(forms.Form):
    bulletin = forms.TypedChoiceField(
        label="Bản tin khẩn cấp", coerce=int, widget=forms.RadioSelect,
        error_messages={"required": "Chọn một bản tin khẩn cấp đã duyệt.",
                        "invalid_choice": "Bản tin này không (còn) là bản tin khẩn cấp đã duyệt có âm thanh; "
                                          "hãy chọn bản tin khác."})
    target = forms.ChoiceField(
        label="Phát tới", widget=forms.RadioSelect, initial=ALL,
        choices=[(ALL, "Toàn thành phố (mọi đài đang hoạt động)"), (UNITS, "Chỉ các xã/phường chọn dưới đây")],
        error_messages={"required": "Chọn nơi phát.", "invalid_choice": "Nơi phát không hợp lệ."})
    units = forms.MultipleChoiceField(
        label="Xã/phường", required=False, widget=forms.SelectMultiple(attrs={"size": 10}),
        error_messages={"invalid_choice": "Không tìm thấy xã/phường «%(value)s»."})

    def __init__(self, *args: Any, bulletins: list[Bulletin], units: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.bulletins = {b.pk: b for b in bulletins}
        self.fields["bulletin"].choices = [(b.pk, b.live_revision.title) for b in bulletins]
        self.fields["units"].choices = [(u.code, f"{u.name} ({u.station_count} đài)") for u in units]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("target") == UNITS and not data.get("units"):
            self.add_error("units", "Chọn ít nhất một xã/phường, hoặc chọn phát toàn thành phố.")
        return data

    def targets(self) -> dict[str, Any]:
        if self.cleaned_data["target"] == ALL:
            return {"all": True}
        return {"units": sorted(self.cleaned_data["units"])}

    def chosen(self) -> Bulletin:
        return self.bulletins[self.cleaned_data["bulletin"]]


def _form(request: HttpRequest, data: Any = None) -> EmergencyForm:
    return EmergencyForm(data, bulletins=selectors.sendable_bulletins(), units=selectors.commune_units())


def _index(request: HttpRequest, form: EmergencyForm, status: int = 200) -> HttpResponse:
    return render(request, "operations/emergency/index.html",
                  {"form": form, "recent": selectors.recent_emergencies()}, status=status)


def _add_errors(form: EmergencyForm, errors: dict[str, list[str]]) -> None:
    fields = {"targets": "units", "immediate": "bulletin"}
    for field, messages_ in errors.items():
        for message in messages_:
            form.add_error(fields.get(field), message)


@require_http_methods(["GET", "POST"])
@role_required(*SENDERS)
def emergency_index(request: HttpRequest) -> HttpResponse:
    """GET: choose; POST step=review: the confirmation; POST step=send: send (once)."""
    if request.method == "GET":
        return _index(request, _form(request))
    form = _form(request, request.POST)
    if not form.is_valid():
        return _index(request, form, status=400)
    targets = form.targets()
    try:
        targets = validate_targets(targets)
    except ScheduleValidationError as exc:
        _add_errors(form, exc.errors)
        return _index(request, form, status=400)
    bulletin = form.chosen()
    reach = selectors.reach(targets)
    if reach.total == 0:
        form.add_error("units", "Không có đài nào đang hoạt động ở nơi đã chọn.")
        return _index(request, form, status=400)
    if request.POST.get("step") != "send":
        return _confirm(request, form, bulletin, reach)
    if not spend_token(request.session, request.POST.get("token", "")):
        existing = services.just_sent(bulletin)
        if existing is not None:
            messages.warning(request, "Bản tin này vừa được phát khẩn cấp; không gửi lần nữa.")
            return redirect("operations-emergency-live", pk=existing.pk)
        return _confirm(request, form, bulletin, reach, status=400,
                        error="Phiếu xác nhận đã dùng hoặc đã hết hạn. Kiểm tra lại rồi bấm phát một lần nữa.")
    try:
        sent = services.send_emergency(bulletin, by=request.user, targets=targets)
    except ScheduleConflict as exc:
        form.add_error("bulletin", str(exc))
        return _index(request, form, status=409)
    except ScheduleValidationError as exc:
        _add_errors(form, exc.errors)
        return _index(request, form, status=400)
    if sent.created:
        messages.success(request, f"Đã phát khẩn cấp «{bulletin.live_revision.title}» tới "
                                  f"{sent.schedule.target_station_count} đài.")
    else:
        messages.warning(request, "Bản tin này vừa được phát khẩn cấp; không gửi lần nữa.")
    return redirect("operations-emergency-live", pk=sent.schedule.pk)


def _confirm(request: HttpRequest, form: EmergencyForm, bulletin: Bulletin, reach: selectors.Reach,
             status: int = 200, error: str = "") -> HttpResponse:
    data = form.cleaned_data
    unit_names = dict(form.fields["units"].choices)
    return render(request, "operations/emergency/confirm.html", {
        "form": form, "bulletin": bulletin, "revision": bulletin.live_revision,
        "rendition": bulletin.live_revision.rendition, "reach": reach, "token": issue_token(request.session),
        "whole_city": data["target"] == ALL, "units": [(c, unit_names.get(c, c)) for c in data.get("units") or []],
        "error": error,
    }, status=status)


def _visible(request: HttpRequest, pk: int) -> Schedule:
    schedule = selectors.visible_emergency(pk, user_scope(request.user))
    if schedule is None:
        raise Http404("Không tìm thấy lần phát khẩn cấp này.")
    return schedule


def _state_links(schedule: Schedule, live_counts: selectors.Counts) -> list[tuple[str, str, int]]:
    """The full list's states with their counts: (state, label, count); "" is every station."""
    counts = {selectors.TO_CALL: live_counts.delivered - live_counts.confirmed,
              selectors.CONFIRMED: live_counts.confirmed, selectors.TROUBLE: live_counts.trouble,
              selectors.WAITING: live_counts.delivered - live_counts.confirmed - live_counts.trouble}
    return [*((state, label, counts[state]) for state, label in selectors.STATE_LABELS.items()),
            ("", "Tất cả", live_counts.delivered)]


def _push_steps(counts: dict) -> list[tuple[str, str, int]]:
    """How far the doorbell got, step by step; the unhappy ends only when they happened."""
    reached = counts["reached"]
    return [(step, label, reached[step]) for step, label in push_selectors.FUNNEL_LABELS.items()
            if reached[step] or step not in ("failed", "interrupted", push_selectors.UNREACHABLE)]


@require_http_methods(["GET"])
@role_required(*VIEWERS)
def emergency_live(request: HttpRequest, pk: int) -> HttpResponse:
    """The live confirmations; an htmx poll gets only the part that changes: the counts and the first
    stations to phone (never the confirmed ones: those are on the paginated list)."""
    schedule = _visible(request, pk)
    scope = user_scope(request.user)
    live = selectors.confirmations(schedule, scope, limit=selectors.TO_CALL_LIMIT)
    push_counts = push_selectors.delivery_counts(schedule.pk, scope)
    context = {
        "live": live, "states": _state_links(schedule, live.counts),
        "push": push_counts, "push_steps": _push_steps(push_counts),
        "unreachable": list(push_selectors.deliveries(schedule.pk, scope, push_selectors.UNREACHABLE)
                            [:UNREACHABLE_SHOWN]),
        "schedule": schedule, "bulletin": schedule.bulletin, "poll_seconds": POLL_SECONDS,
        "can_send": roles.has_role(request.user, *SENDERS), "now": timezone.now(),
        "push_unreachable_after": settings.PUSH_UNREACHABLE_AFTER_S,
        "live_url": reverse("operations-emergency-live", args=[schedule.pk]),
        "list_url": reverse("operations-emergency-stations", args=[schedule.pk]),
    }
    if request.htmx:
        return render(request, "operations/emergency/_live.html", context)
    return render(request, "operations/emergency/live.html", context)


@require_http_methods(["GET"])
@role_required(*VIEWERS)
def emergency_stations(request: HttpRequest, pk: int) -> HttpResponse:
    """Every station of the emergency in one state (?state=, default all), a page at a time (?page=)."""
    schedule = _visible(request, pk)
    scope = user_scope(request.user)
    state = request.GET.get("state", "")
    error = ""
    if state and state not in selectors.STATE_LABELS:
        error = f"Trạng thái không hợp lệ; chọn một trong: {', '.join(selectors.STATE_LABELS.values())}."
        state = ""
    counts = selectors.counts(schedule, scope)
    page = Paginator(selectors.station_items(schedule, scope, state), STATIONS_PER_PAGE).get_page(
        request.GET.get("page"))
    return render(request, "operations/emergency/stations.html", {
        "schedule": schedule, "bulletin": schedule.bulletin, "counts": counts, "whole": scope.everything,
        "states": _state_links(schedule, counts), "state": state,
        "state_label": selectors.STATE_LABELS.get(state, "Tất cả"), "page": page,
        "rows": selectors.rows(page.object_list), "error": error,
        "live_url": reverse("operations-emergency-live", args=[schedule.pk]),
        "list_url": reverse("operations-emergency-stations", args=[schedule.pk]),
    }, status=400 if error else 200)


@require_POST
@role_required(*SENDERS)
def emergency_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    schedule = _visible(request, pk)
    if request.POST.get("confirm") != "yes":
        messages.error(request, "Đánh dấu ô xác nhận trước khi hủy.")
        return redirect("operations-emergency-live", pk=schedule.pk)
    try:
        cancel_schedule(schedule, request.user)
    except ScheduleConflict as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Đã hủy lần phát khẩn cấp này.")
    return redirect("operations-emergency-live", pk=schedule.pk)


@require_POST
@role_required(*SENDERS)
def emergency_resend(request: HttpRequest, pk: int) -> HttpResponse:
    """Rings again, now, every station that has not acknowledged receiving the emergency."""
    schedule = _visible(request, pk)
    stats = push_services.resend(schedule.pk, by=request.user.get_username())
    if stats.error:
        messages.error(request, f"Không gửi lại được: {stats.error}")
    elif stats.deliveries:
        messages.success(request, f"Đã gửi lại tới {stats.published}/{stats.deliveries} đài chưa nhận.")
    else:
        messages.info(request, "Không còn đài nào chờ nhận.")
    return redirect("operations-emergency-live", pk=schedule.pk)


urlpatterns = [
    path("operations/emergency/", emergency_index, name="operations-emergency"),
    path("operations/emergency/<int:pk>/", emergency_live, name="operations-emergency-live"),
    path("operations/emergency/<int:pk>/stations/", emergency_stations, name="operations-emergency-stations"),
    path("operations/emergency/<int:pk>/cancel/", emergency_cancel, name="operations-emergency-cancel"),
    path("operations/emergency/<int:pk>/resend/", emergency_resend, name="operations-emergency-resend"),
]
