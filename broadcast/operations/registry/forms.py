"""The registry pages' forms: they check shapes; the rules (slots, contact) stay in stations' services."""

from __future__ import annotations

from typing import Any

from django import forms

from broadcast.selectors import registry as selectors
from stations.models import Station

ANY = [("", "Tất cả")]


class FilterForm(forms.Form):
    q = forms.CharField(label="Tìm theo tên hoặc mã", required=False, max_length=100)
    status = forms.ChoiceField(label="Tình trạng", choices=ANY + Station.Status.choices, required=False)
    unit = forms.ChoiceField(label="Xã/phường", required=False)
    district = forms.ChoiceField(label="Quận/huyện (trước 01/07/2025)", required=False)
    sort = forms.ChoiceField(label="Sắp xếp", required=False,
                             choices=[(key, label) for key, (label, _) in selectors.SORTS.items()])

    def __init__(self, *args: Any, units: list[tuple[str, str]], districts: list[tuple[str, str]],
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = ANY + [(code, f"{name} ({code})") for code, name in units]
        if districts:
            self.fields["district"].choices = ANY + [(code, f"{name} ({code})") for code, name in districts]
        else:
            del self.fields["district"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("unit") and data.get("district"):
            self.add_error("district", "Chỉ lọc theo xã/phường hoặc theo quận/huyện, không cả hai.")
        return data


class ContactForm(forms.Form):
    contact_name = forms.CharField(label="Người liên hệ", required=False, max_length=200)
    contact_phone = forms.CharField(label="Điện thoại", required=False, max_length=32,
                                    widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}))


def slot_rows(data: Any) -> list[dict[str, str]]:
    """The slot rows a supervisor submitted (name/start/end lists, one per table row): a row left wholly
    empty is dropped (how a slot is removed), anything else kept as typed for the rule to judge."""
    names, starts, ends = data.getlist("slot_name"), data.getlist("slot_start"), data.getlist("slot_end")
    rows = []
    for name, start, end in zip(names, starts, ends, strict=False):
        row = {"name": name.strip(), "start": start.strip(), "end": end.strip()}
        if any(row.values()):
            rows.append(row)
    return rows
