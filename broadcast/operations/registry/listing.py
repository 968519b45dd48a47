"""The list of stations: health, last heartbeat, device, today's plays; filters, search without
diacritics, sort, pages of 50. htmx swaps the results in place (and pushes the address); without
JavaScript the same form reloads the page."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from broadcast.newsroom.access import role_required
from broadcast.selectors import registry as selectors
from broadcast.selectors.playlists import local_today
from stations import roles

from .forms import FilterForm

PAGE_SIZE = 50
READERS = (roles.SUPERVISOR, *roles.OPERATOR_ROLES)


@role_required(*READERS)
def station_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = FilterForm(request.GET, units=selectors.unit_choices(user), districts=selectors.district_choices(user))
    status = 200
    data = form.cleaned_data if form.is_valid() else {}
    if form.is_valid():
        try:
            scope = selectors.registry_scope(user, unit_code=data.get("unit") or "",
                                             district_code=data.get("district") or "")
        except selectors.OutOfScope:
            raise Http404("Không có đơn vị này trong phạm vi của bạn.") from None
    else:
        # An unknown unit or status: say so above an empty list, the form keeps what was typed.
        status, scope = 400, None
    stations = selectors.registry_stations(user, scope=scope, query=data.get("q") or "", sort=data.get("sort") or "")
    counts = selectors.health_counts(stations)
    if data.get("status"):
        stations = stations.filter(status=data["status"])
    if status == 400:
        stations = stations.none()
    page = Paginator(stations, PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    rows = selectors.registry_rows(list(page.object_list), local_today(), now=now)
    query = request.GET.copy()
    query.pop("page", None)
    status_query = query.copy()
    status_query.pop("status", None)
    context = {
        "form": form, "page": page, "rows": rows, "now": now, "today": local_today(),
        "counts": [(value, label, counts[value]) for value, label in selectors.status_choices()],
        "total": sum(counts.values()), "selected_status": data.get("status") or "",
        "query": query.urlencode(), "status_query": status_query.urlencode(),
        "sees_everything": "district" in form.fields,
    }
    template = ("operations/registry/_results.html" if request.htmx and not request.htmx.boosted
                else "operations/registry/list.html")
    return render(request, template, context, status=status)

