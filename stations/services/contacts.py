"""Whom to phone at a station: a supervisor's edit of the contact name and phone."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

from ..models import Station

_PHONE_RE = re.compile(r"^\+?[0-9][0-9 .\-()]{5,30}$")
MSG_PHONE = "Số điện thoại chỉ gồm chữ số (có thể bắt đầu bằng +, cách nhau bằng dấu cách, chấm, gạch)."


def edit_station_contact(station: Station, *, name: str, phone: str) -> Station:
    """Checks and saves the contact (both may be empty: nobody named yet); ValidationError by field in
    Vietnamese, nothing saved. Only these two columns are written: heartbeats update the row meanwhile."""
    name, phone = name.strip(), phone.strip()
    errors: dict[str, list[str]] = {}
    if len(name) > Station._meta.get_field("contact_name").max_length:
        errors["contact_name"] = ["Tên người liên hệ tối đa 200 ký tự."]
    if len(phone) > Station._meta.get_field("contact_phone").max_length:
        errors["contact_phone"] = ["Số điện thoại tối đa 32 ký tự."]
    elif phone and not _PHONE_RE.match(phone):
        errors["contact_phone"] = [MSG_PHONE]
    if errors:
        raise ValidationError(errors)
    station.contact_name, station.contact_phone = name, phone
    station.save(update_fields=["contact_name", "contact_phone", "updated_at"])
    return station
