"""The scheduling form: shapes only; the rules (dates, slots, targets, placement) are the service's."""

from __future__ import annotations

import re
from typing import Any

from django import forms

from broadcast.models import Schedule
from broadcast.models.schedules import WEEKDAY_NAMES
from broadcast.selectors import scheduling as selectors
from broadcast.services.schedules import MAX_PLAYS_PER_SLOT
from stations.models import Station

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
# The bulletins the picker lists before a search: thousands are airable, a person reads a few dozen.
SHOWN_BULLETINS = 50
_CODES = re.compile(r"[\s,;]+")


def _codes(value: str) -> list[str]:
    return sorted({c for c in _CODES.split(value or "") if c})


class BulletinSearchForm(forms.Form):
    """The picker's search (a GET of the page without JavaScript, the options partial with htmx)."""

    q = forms.CharField(label="Tìm bản tin", required=False, max_length=100)
    bulletin = forms.IntegerField(required=False, min_value=1)

    def options(self) -> tuple[list, bool]:
        data = self.cleaned_data if self.is_valid() else {}
        return selectors.bulletin_options((data.get("q") or "").strip(), limit=SHOWN_BULLETINS,
                                          chosen=data.get("bulletin"))


class ScheduleForm(forms.Form):
    # Any airable bulletin is accepted by id; the page lists only a few (see bulletin_options).
    bulletin = forms.ModelChoiceField(
        label="Bản tin đã duyệt", queryset=selectors.schedulable_bulletins(),
        error_messages={"invalid_choice": "Bản tin này chưa lên lịch được: chưa duyệt, đã lưu trữ "
                                          "hoặc chưa có âm thanh."})
    all = forms.BooleanField(label="Toàn thành phố (mọi đài đang hoạt động)", required=False)
    units = forms.MultipleChoiceField(label="Xã/phường (bản đồ hiện hành)", required=False,
                                      widget=forms.SelectMultiple(attrs={"size": 8}))
    stations = forms.CharField(label="Từng đài (mã đài, cách nhau bởi dấu phẩy)", required=False, max_length=4000)
    kinds = forms.MultipleChoiceField(label="Loại đài", required=False, choices=Station.Kind.choices,
                                      widget=forms.CheckboxSelectMultiple)
    districts = forms.CharField(required=False, widget=forms.HiddenInput, max_length=4000)
    start_date = forms.DateField(label="Từ ngày", widget=DATE)
    end_date = forms.DateField(label="Đến ngày", widget=DATE)
    days_of_week = forms.TypedMultipleChoiceField(
        label="Thứ trong tuần (không chọn: mọi ngày)", required=False, coerce=int,
        choices=list(enumerate(WEEKDAY_NAMES)), widget=forms.CheckboxSelectMultiple)
    slots = forms.MultipleChoiceField(label="Khung giờ", widget=forms.CheckboxSelectMultiple)
    plays_per_slot = forms.IntegerField(label="Số lần phát mỗi khung", min_value=1, max_value=MAX_PLAYS_PER_SLOT,
                                        initial=1)

    def __init__(self, *args: Any, schedule: Schedule | None = None,
                 choices: dict[str, list[tuple[str, str]]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # `choices`: read once per request when a view builds more than one form.
        choices = choices or self.read_choices()
        self.fields["units"].choices = choices["units"]
        self.fields["slots"].choices = choices["slots"]
        if schedule is not None:  # an edit: the bulletin stays
            del self.fields["bulletin"]

    @staticmethod
    def read_choices() -> dict[str, list[tuple[str, str]]]:
        return {"units": selectors.unit_choices(), "slots": selectors.slot_choices()}

    def chosen_bulletin(self) -> int | None:
        value = self["bulletin"].value() if "bulletin" in self.fields else None
        try:
            return int(value) if value not in (None, "") else None
        except (TypeError, ValueError):
            return None

    def chosen_units(self) -> set[str]:
        return {str(code) for code in self["units"].value() or ()}

    @staticmethod
    def initial_for(schedule: Schedule) -> dict[str, Any]:
        targets = schedule.targets or {}
        return {"all": targets.get("all", False), "units": targets.get("units") or [],
                "stations": ", ".join(targets.get("stations") or []), "kinds": targets.get("kinds") or [],
                "districts": ", ".join(targets.get("districts") or []), "start_date": schedule.start_date,
                "end_date": schedule.end_date, "days_of_week": schedule.days_of_week or [],
                "slots": schedule.slots or [], "plays_per_slot": schedule.plays_per_slot}

    def targets(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {"all": bool(data.get("all")), "units": list(data.get("units") or []),
                "stations": _codes(data.get("stations", "")), "kinds": list(data.get("kinds") or []),
                "districts": _codes(data.get("districts", ""))}

    def service_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {"start_date": data["start_date"], "end_date": data["end_date"], "slots": list(data["slots"]),
                "targets": self.targets(), "days_of_week": list(data.get("days_of_week") or []),
                "plays_per_slot": data["plays_per_slot"]}

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        for name, messages in errors.items():
            field = None if name in ("targets", "immediate") else name
            for message in messages:
                self.add_error(field if field in self.fields else None, message)


class TargetCountForm(forms.Form):
    """The target fields alone, read for the live station count."""

    all = forms.BooleanField(required=False)
    units = forms.MultipleChoiceField(required=False)
    stations = forms.CharField(required=False, max_length=4000)
    kinds = forms.MultipleChoiceField(required=False, choices=Station.Kind.choices)
    districts = forms.CharField(required=False, max_length=4000)

    def __init__(self, *args: Any, units: list[tuple[str, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["units"].choices = selectors.unit_choices() if units is None else units

    targets = ScheduleForm.targets


class ListFilterForm(forms.Form):
    state = forms.ChoiceField(label="Trạng thái", choices=list(selectors.STATES.items()), required=False)
    bulletin = forms.TypedChoiceField(label="Bản tin", coerce=int, empty_value=None, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["bulletin"].choices = [("", "Tất cả"), *selectors.bulletins_with_schedules()]
