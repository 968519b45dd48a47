"""The bulletin list: tabs, search without diacritics, filters, sorting, pages. htmx swaps the list in
place (and pushes the address); without JavaScript the same form reloads the page."""

from __future__ import annotations

from types import SimpleNamespace

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from rest_framework.exceptions import ValidationError

from broadcast.api.bulletins.workflow import BulletinListCreate
from broadcast.http import SearchFilter
from broadcast.newsroom.access import role_required
from broadcast.selectors import bulletins as selectors

from .forms import SORT_LABELS, TAB_LABELS, FilterForm

PAGE_SIZE = 25


def _search_terms(request: HttpRequest) -> list[str]:
    """The API's search words (its splitting, quoting and bound on their number), read from `q`."""
    search = SearchFilter()
    search.search_param = "q"
    return search.get_search_terms(SimpleNamespace(query_params=request.GET))


@role_required(*selectors.READER_ROLES)
def bulletin_list(request: HttpRequest) -> HttpResponse:
    form = FilterForm(request.GET)
    status = 200
    errors: list[str] = []
    bulletins = selectors.bulletins_for(request.user).none()
    data = form.cleaned_data if form.is_valid() else {}
    if not form.is_valid():
        status = 400
    else:
        try:
            terms = _search_terms(request)
        except ValidationError as exc:
            errors = [str(m) for m in exc.detail.get("q", [])]  # type: ignore[union-attr]
            status = 400
        else:
            bulletins = selectors.desk_bulletins(
                request.user,
                tab=data.get("tab") or "all",
                terms=terms,
                search_fields=list(BulletinListCreate.search_fields),
                category=data.get("category") or "",
                priority=data.get("priority") or "",
                status=data.get("status") or "",
                author=data.get("author"),
                created_from=data.get("created_from"),
                created_to=data.get("created_to"),
                sort=data.get("sort") or "newest",
            )
    page = Paginator(bulletins, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    tabs = []
    for key, label in TAB_LABELS.items():
        tab_query = query.copy()
        tab_query["tab"] = key
        tabs.append({"key": key, "label": label, "query": tab_query.urlencode()})
    context = {
        "form": form,
        "page": page,
        "errors": errors,
        "tab": data.get("tab") or "all",
        "tabs": tabs,
        "sorts": SORT_LABELS,
        "query": query.urlencode(),
        "can_write": request.user.has_perm("broadcast.add_bulletin"),
    }
    template = "newsroom/desk/_list.html" if request.htmx and not request.htmx.boosted else "newsroom/desk/list.html"
    return render(request, template, context, status=status)
