"""HTTP helpers shared by the broadcast API modules: query-string dates and the district scope."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from rest_framework import exceptions

from stations.models import District
from stations.selectors import operator_district_id

from ..selectors.playlists import local_today

__all__ = ["local_today", "query_date", "scoped_district_id"]

MSG_BAD_DATE = "Ngày không hợp lệ, cần dạng YYYY-MM-DD."


def query_date(params: Mapping[str, Any], name: str = "date", default: dt.date | None = None) -> dt.date:
    """A `YYYY-MM-DD` query parameter (400 naming it when malformed); `default` (local today) when absent."""
    raw = params.get(name)
    if not raw:
        return default or local_today()
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise exceptions.ValidationError({name: [MSG_BAD_DATE]}) from None


def scoped_district_id(user: Any, code: str | None) -> int | None:
    """The district filter a user asked for, within what they may see (operators: only theirs; 404 else)."""
    own = operator_district_id(user)
    if not code:
        return own
    district_id = District.objects.filter(code=code).values_list("pk", flat=True).first()
    if district_id is None or (own is not None and district_id != own):
        raise exceptions.NotFound("Không tìm thấy quận/huyện.")
    return district_id
