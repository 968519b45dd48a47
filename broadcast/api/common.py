"""HTTP helpers shared by the broadcast API modules: query-string dates and ids, and the district scope."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import django_filters
from django import forms
from rest_framework import exceptions

from stations.selectors import Scope, narrowed_scope

from ..selectors.playlists import local_today

__all__ = ["IdFilter", "check_date_range", "local_today", "query_date", "query_id", "request_scope"]

# Dates a request may name. Far outside Loa's life they mean nothing, and near date.min/date.max the
# day arithmetic behind coverage and playlists (the next day, local midnight in UTC) overflows.
MIN_DATE = dt.date(2000, 1, 1)
MAX_DATE = dt.date(2100, 12, 31)
# Largest id a database key can hold (64-bit); a bigger number in a query would overflow the driver.
MAX_ID = 2**63 - 1

MSG_BAD_DATE = "Ngày không hợp lệ, cần dạng YYYY-MM-DD."
MSG_DATE_RANGE = f"Ngày phải trong khoảng {MIN_DATE.isoformat()} đến {MAX_DATE.isoformat()}."
MSG_BAD_ID = "Mã phải là số nguyên dương."


def check_date_range(value: dt.date | None, name: str | None = None) -> None:
    """A date inside MIN_DATE … MAX_DATE: a serializer field validator, or with `name` (a query
    parameter, e.g. in a filter method) a 400 naming that parameter."""
    if value is not None and not MIN_DATE <= value <= MAX_DATE:
        raise exceptions.ValidationError({name: [MSG_DATE_RANGE]} if name else MSG_DATE_RANGE)


def query_date(params: Mapping[str, Any], name: str = "date", default: dt.date | None = None) -> dt.date:
    """A `YYYY-MM-DD` query parameter (400 naming it when malformed); `default` (local today) when absent."""
    raw = params.get(name)
    if not raw:
        return default or local_today()
    try:
        value = dt.date.fromisoformat(raw)
    except ValueError:
        raise exceptions.ValidationError({name: [MSG_BAD_DATE]}) from None
    if not MIN_DATE <= value <= MAX_DATE:
        raise exceptions.ValidationError({name: [MSG_DATE_RANGE]})
    return value


def query_id(params: Mapping[str, Any], name: str) -> int | None:
    """A positive integer id query parameter (400 naming it when it is not one, or too large); None when absent."""
    raw = params.get(name)
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) <= MAX_ID:
        raise exceptions.ValidationError({name: [MSG_BAD_ID]})
    return int(raw)


class IdFilter(django_filters.NumberFilter):
    """A filter on an id: a whole number a database key can hold (NumberFilter takes any decimal,
    so `1e20` or 20 digits reached the database and overflowed)."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


def request_scope(user: Any, params: Mapping[str, Any]) -> Scope:
    """The scope a request asks for with `?district=` (map before 1 July 2025) or `?unit=` (a
    commune-level unit of the two-level map), within what the user may see: 404 outside it, 400 for both."""
    try:
        scope = narrowed_scope(user, district_code=params.get("district") or None,
                               unit_code=params.get("unit") or None)
    except ValueError as exc:
        raise exceptions.ValidationError({"unit": [str(exc)]}) from None
    if scope is None:
        raise exceptions.NotFound("Không tìm thấy đơn vị hành chính.")
    return scope
