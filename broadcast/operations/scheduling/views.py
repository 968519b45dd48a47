"""The supervisor's scheduling pages: the list, a new schedule, a schedule's page (edit, cancel), each
with the preview of what saving does (the service's preview: the builder's own planner), the live
station count of the target picker. htmx swaps the preview and the count in place; without JavaScript
the same buttons reload the page."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from broadcast.models import Schedule
from broadcast.models.schedules import WEEKDAY_NAMES
from broadcast.newsroom.access import role_required
from broadcast.selectors import scheduling as selectors
from broadcast.selectors.week import slot_label
from broadcast.services import schedules as services
from stations import roles

from .forms import BulletinSearchForm, ListFilterForm, ScheduleForm, TargetCountForm

PAGE_SIZE = 25
supervisor_only = role_required(roles.SUPERVISOR)


def describe(schedule: Schedule) -> dict:
    """What a person reads about a schedule: days, slots and targets in words."""
    targets = schedule.targets or {}
    parts = []
    if targets.get("all"):
        parts.append("Toàn thành phố")
    if targets.get("units"):
        parts.append("Xã/phường: " + ", ".join(targets["units"]))
    if targets.get("districts"):
        parts.append("Quận/huyện (bản đồ cũ): " + ", ".join(targets["districts"]))
    if targets.get("stations"):
        parts.append("Đài: " + ", ".join(targets["stations"]))
    if targets.get("kinds"):
        parts.append("Loại đài: " + ", ".join(targets["kinds"]))
    days = schedule.days_of_week or []
    return {"days": ", ".join(WEEKDAY_NAMES[d] for d in days) if days else "Mọi ngày",
            "slots": ", ".join(slot_label(s) for s in schedule.slots or []) or "Phát ngay",
            "targets": "; ".join(parts)}


@supervisor_only
@require_GET
def schedule_list(request: HttpRequest) -> HttpResponse:
    form = ListFilterForm(request.GET)
    data = form.cleaned_data if form.is_valid() else {}
    state = data.get("state") or "live"
    page = Paginator(selectors.schedules_by_state(state, bulletin_id=data.get("bulletin")), PAGE_SIZE).get_page(
        request.GET.get("page"))
    rows = [(s, describe(s)) for s in page.object_list]
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "operations/scheduling/list.html",
                  {"form": form, "state": state, "states": selectors.STATES, "page": page, "rows": rows,
                   "query": query.urlencode()}, status=200 if form.is_valid() else 400)


def _preview_or_errors(form: ScheduleForm, run) -> tuple[object | None, int]:
    """Runs a preview or a save; service errors land on the form (400)."""
    try:
        return run(), 200
    except services.ScheduleValidationError as exc:
        form.add_service_errors(exc.errors)
    except services.ScheduleConflict as exc:
        form.add_error(None, str(exc))
    return None, 400


def _bulletin_picker(search: BulletinSearchForm) -> dict:
    """The picker's options: the newest airable bulletins (or those the search finds) and the chosen one."""
    bulletins, more = search.options()
    chosen = search.cleaned_data.get("bulletin") if search.is_valid() else None
    return {"bulletins": bulletins, "more": more, "chosen_bulletin": chosen,
            "bulletin_q": search.cleaned_data.get("q", "") if search.is_valid() else "",
            "missing_bulletin": chosen if chosen and all(b.pk != chosen for b in bulletins) else None}


def _render_form(request: HttpRequest, template: str, context: dict, status: int) -> HttpResponse:
    if request.htmx and request.POST.get("action") == "preview":
        return render(request, "operations/scheduling/_preview.html", context, status=status)
    return render(request, template, context, status=status)


def _saved(request: HttpRequest, schedule: Schedule, done: str) -> HttpResponse:
    """After a save: back to the schedule's page, saying how many stations it reaches and what it placed."""
    p = schedule.placement
    messages.success(request, f"{done} {schedule.target_station_count} đài: "
                              f"{p.placed} lượt xếp được, {p.unplaced} lượt chưa xếp.")
    return redirect("operations-schedule", pk=schedule.pk)


@supervisor_only
@require_http_methods(["GET", "POST"])
def new_schedule(request: HttpRequest) -> HttpResponse:
    preview, status = None, 200
    if request.method == "GET":
        search = BulletinSearchForm(request.GET)
        chosen = search.cleaned_data.get("bulletin") if search.is_valid() else None
        form = ScheduleForm(initial={"bulletin": chosen, "plays_per_slot": 1})
    else:
        form = ScheduleForm(request.POST)
        search = BulletinSearchForm({"bulletin": form.chosen_bulletin()})
        action = request.POST.get("action")
        if not form.is_valid():
            status = 400
        elif action == "save":
            schedule, status = _preview_or_errors(form, lambda: services.create_schedule(
                form.cleaned_data["bulletin"], by=request.user, **form.service_fields()))
            if schedule is not None:
                return _saved(request, schedule, "Đã lên lịch cho")
        else:
            preview, status = _preview_or_errors(form, lambda: services.preview_schedule(
                form.cleaned_data["bulletin"], by=request.user, **form.service_fields()))
    context = {"form": form, "preview": preview, "schedule": None,
               "preview_url": request.path, "count": _count_of(form)}
    if not (request.htmx and request.POST.get("action") == "preview"):
        context |= _bulletin_picker(search)
    return _render_form(request, "operations/scheduling/form.html", context, status)


@supervisor_only
@require_http_methods(["GET", "POST"])
def schedule_detail(request: HttpRequest, pk: int) -> HttpResponse:
    schedule = get_object_or_404(Schedule.objects.select_related("bulletin", "created_by", "cancelled_by"), pk=pk)
    editable = schedule.cancelled_at is None and not schedule.immediate
    preview, status, cancel_error = None, 200, ""
    choices = ScheduleForm.read_choices() if editable else {"units": [], "slots": []}
    form = ScheduleForm(initial=ScheduleForm.initial_for(schedule), schedule=schedule, choices=choices)
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "cancel":
            if not request.POST.get("confirm"):
                cancel_error, status = "Đánh dấu ô xác nhận để hủy lịch phát.", 400
            else:
                try:
                    services.cancel_schedule(schedule, request.user)
                except services.ScheduleConflict as exc:
                    cancel_error, status = str(exc), 409
                else:
                    messages.success(request, "Đã hủy lịch phát; các lượt chưa phát sẽ được gỡ khỏi danh sách.")
                    return redirect("operations-schedule", pk=schedule.pk)
        elif editable:
            form = ScheduleForm(request.POST, schedule=schedule, choices=choices)
            if not form.is_valid():
                status = 400
            elif action == "save":
                saved, status = _preview_or_errors(form, lambda: services.update_schedule(
                    schedule, **form.service_fields()))
                if saved is not None:
                    return _saved(request, saved, "Đã lưu thay đổi cho")
            else:
                preview, status = _preview_or_errors(form, lambda: services.preview_update(
                    schedule, **form.service_fields()))
        else:
            status = 409
            cancel_error = "Lịch phát này không sửa được nữa."
    context = {"form": form, "preview": preview, "schedule": schedule, "about": describe(schedule),
               "editable": editable, "cancel_error": cancel_error, "preview_url": request.path,
               "count": _count_of(form) if editable else None}
    return _render_form(request, "operations/scheduling/detail.html", context, status)


def _count_of(form: ScheduleForm) -> int | None:
    """The station count of the form's targets as it stands (None when they are not valid yet)."""
    data = form.data if form.is_bound else None
    if data is None:
        initial = form.initial
        data = {k: initial.get(k) for k in ("all", "stations", "districts")} | {
            "units": initial.get("units") or [], "kinds": initial.get("kinds") or []}
    count_form = TargetCountForm(data, units=form.fields["units"].choices)
    if not count_form.is_valid():
        return None
    targets = count_form.targets()
    return selectors.station_count(targets) if any(targets.values()) else 0


@supervisor_only
@require_GET
def target_count(request: HttpRequest) -> HttpResponse:
    form = TargetCountForm(request.GET)
    count = None
    if form.is_valid():
        targets = form.targets()
        count = selectors.station_count(targets) if any(targets.values()) else 0
    return render(request, "operations/scheduling/_count.html", {"count": count},
                  status=200 if form.is_valid() else 400)


@supervisor_only
@require_GET
def bulletin_options(request: HttpRequest) -> HttpResponse:
    """The picker's options for a search (htmx swaps them into the select)."""
    search = BulletinSearchForm(request.GET)
    return render(request, "operations/scheduling/_bulletin_options.html", _bulletin_picker(search),
                  status=200 if search.is_valid() else 400)
