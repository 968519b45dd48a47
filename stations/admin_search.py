"""The admin's search box, bounded like the API's `?search=`: each word adds conditions over every search
field, and a few hundred make a query SQLite refuses ("Expression tree is too large", a 500) and
PostgreSQL runs slowly. The admin searches the first MAX_SEARCH_TERMS words and says so."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.text import smart_split

MAX_SEARCH_TERMS = 20
MSG_SEARCH_CUT = f"Chỉ tìm được tối đa {MAX_SEARCH_TERMS} từ mỗi lần; đã tìm theo {MAX_SEARCH_TERMS} từ đầu."


class BoundedSearchMixin:
    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str) -> tuple[QuerySet, bool]:
        # The words as the admin splits them (a quoted phrase is one word, its quotes kept).
        terms = list(smart_split(search_term))
        if len(terms) > MAX_SEARCH_TERMS:
            search_term = " ".join(terms[:MAX_SEARCH_TERMS])
            messages.warning(request, MSG_SEARCH_CUT, fail_silently=True)
        return super().get_search_results(request, queryset, search_term)  # type: ignore[misc]


class BoundedSearchAdmin(BoundedSearchMixin, admin.ModelAdmin):
    """The ModelAdmin every admin of the project derives from."""


def bound_registered_searches(site: Any = admin.site) -> None:
    """Gives the bound to the admins already registered by other apps (auth's users and groups, the
    periodic tasks): each is registered again as a subclass with the bound."""
    for model, model_admin in list(site._registry.items()):
        cls = type(model_admin)
        if model_admin.search_fields and not isinstance(model_admin, BoundedSearchMixin):
            site.unregister(model)
            site.register(model, type(cls.__name__, (BoundedSearchMixin, cls), {"__module__": __name__}))


class FoldedUnitSearchMixin:
    """Searches administrative units by name without diacritics ("ba dinh" finds "Ba Đình") or by code:
    their names are few (hundreds a province), folded in Python. The autocomplete of a station's unit uses it."""

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str) -> tuple[QuerySet, bool]:
        from .names import matches_search

        terms = list(smart_split(search_term))
        if len(terms) > MAX_SEARCH_TERMS:
            search_term = " ".join(terms[:MAX_SEARCH_TERMS])
            messages.warning(request, MSG_SEARCH_CUT, fail_silently=True)
        if not search_term.strip():
            return queryset, False
        found = [pk for pk, name, code in queryset.values_list("pk", "name", "code")
                 if matches_search(name, code, search_term)]
        return queryset.filter(pk__in=found), False
