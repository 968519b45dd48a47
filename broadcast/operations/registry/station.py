"""A station's page: health, device, whom to phone, the day's timeline, slots, token, health history.
Supervisors edit slots and contact and issue or revoke the token (POSTed to the page itself, `action`
naming what); operators read stations of their area (another area's: 404)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from broadcast.api.common import MAX_DATE, MIN_DATE
from broadcast.newsroom.access import check_roles, role_required
from broadcast.selectors import registry as selectors
from broadcast.selectors.coverage import station_timeline
from broadcast.selectors.playlists import local_today
from stations import roles
from stations.models import Station
from stations.services.contacts import edit_station_contact
from stations.services.credentials import issue_station_token, revoke_station_tokens
from stations.services.edits import edit_station

from .forms import ContactForm, slot_rows
from .listing import READERS

HISTORY_PAGE_SIZE = 20
OUTCOME_LABELS = {"played": "Đã phát", "failed": "Lỗi", "missed": "Bỏ lỡ", "pending": "Chờ phát"}
# The new token waits here between the POST and the page it redirects to, which takes it out: shown once.
NEW_TOKEN_KEY = "registry_new_token"
ACTIONS = ("slots", "contact", "issue_token", "revoke_token")
DENIED = "Chỉ giám sát viên được sửa thông tin đài và cấp, thu hồi khóa."


def _day(request: HttpRequest) -> dt.date:
    """The asked date, or today when it is malformed or outside the API's bounds."""
    try:
        day = dt.date.fromisoformat(request.GET.get("date") or "")
    except ValueError:
        return local_today()
    return day if MIN_DATE < day < MAX_DATE else local_today()


def _station(request: HttpRequest, code: str) -> Station:
    station = selectors.station_for(request.user, code)
    if station is None:
        raise Http404("Không có đài này trong phạm vi của bạn.")
    return station


@never_cache
@role_required(*READERS)
def station_page(request: HttpRequest, code: str) -> HttpResponse:
    station = _station(request, code)
    if request.method == "POST":
        return _act(request, station)
    new_token = None
    held = request.session.pop(NEW_TOKEN_KEY, None)
    if isinstance(held, dict) and held.get("station") == station.pk:
        new_token = held.get("token")
    return _render(request, station, new_token=new_token)


def _render(request: HttpRequest, station: Station, *, status: int = 200, **extra: Any) -> HttpResponse:
    user = request.user
    day = _day(request)
    now = timezone.now()
    timeline = station_timeline(station, day, now=now)
    can_edit = roles.has_role(user, roles.SUPERVISOR)
    history = Paginator(selectors.status_history(station), HISTORY_PAGE_SIZE).get_page(request.GET.get("history"))
    context: dict[str, Any] = {
        "station": station, "day": day, "today": local_today(),
        "prev_day": day - dt.timedelta(days=1), "next_day": day + dt.timedelta(days=1),
        "timeline": timeline,
        "plays": [(item, timeline.item_outcomes[item.pk], OUTCOME_LABELS[timeline.item_outcomes[item.pk]])
                  for item in timeline.items],
        "seen_ago": selectors.ago(station.last_seen_at, now),
        "disk_free_mb": selectors.disk_free_mb(station),
        "history": history, "can_edit": can_edit,
        "credential": selectors.live_credential(station) if can_edit else None,
        "slots_error": station.slots_error(),
        "slot_rows": extra.pop("slot_rows", None) or [*station.slots, *[{}] * 2],
        "contact_form": extra.pop("contact_form", None) or ContactForm(
            initial={"contact_name": station.contact_name, "contact_phone": station.contact_phone}),
        "confirm": request.GET.get("confirm") if can_edit else None,
        **extra,
    }
    return render(request, "operations/registry/station.html", context, status=status)


def _back(station: Station) -> HttpResponse:
    return redirect("operations-station", code=station.code)


def _act(request: HttpRequest, station: Station) -> HttpResponse:
    check_roles(request.user, (roles.SUPERVISOR,), DENIED)
    action = request.POST.get("action")
    if action not in ACTIONS:
        return _render(request, station, status=400, action_error="Không rõ thao tác cần làm.")
    if action == "slots":
        rows = slot_rows(request.POST)
        try:
            edit_station(station, {"slots": rows})
        except DjangoValidationError as exc:
            station.refresh_from_db()  # the refused slots were set on it by the check
            errors = [m for ms in exc.message_dict.values() for m in ms]
            return _render(request, station, status=400, slot_errors=errors, slot_rows=[*rows, {}])
        messages.success(request, "Đã lưu khung giờ phát; lịch phát của đài được dựng lại.")
        return _back(station)
    if action == "contact":
        form = ContactForm(request.POST)
        if form.is_valid():
            try:
                edit_station_contact(station, name=form.cleaned_data["contact_name"],
                                     phone=form.cleaned_data["contact_phone"])
            except DjangoValidationError as exc:
                for field, errors in exc.message_dict.items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
            else:
                messages.success(request, "Đã lưu người liên hệ.")
                return _back(station)
        station.refresh_from_db()
        return _render(request, station, status=400, contact_form=form)
    if action == "issue_token":
        raw = issue_station_token(station, issued_by=request.user)
        request.session[NEW_TOKEN_KEY] = {"station": station.pk, "token": raw}
        return _back(station)
    revoked = revoke_station_tokens(station)
    if revoked:
        messages.success(request, "Đã thu hồi khóa của đài; thiết bị không kết nối được cho tới khi có khóa mới.")
    else:
        messages.info(request, "Đài không có khóa nào đang dùng.")
    return _back(station)

