"""The desk's forms: the list's filters (GET) and the editor's fields. They check shapes only; the
workflow rules (lengths, choices, voices, the speakable limit) stay in the services."""

from __future__ import annotations

from typing import Any

from django import forms

from broadcast.models import Bulletin
from broadcast.selectors import bulletins as selectors

TAB_LABELS = {
    "all": "Tất cả",
    "mine": "Bản nháp của tôi",
    "review": "Chờ duyệt",
    "rejected": "Bị từ chối",
    "approved": "Đã duyệt / đang phát",
    "archived": "Lưu trữ",
}
SORT_LABELS = {
    "newest": "Mới nhất",
    "oldest": "Cũ nhất",
    "updated": "Mới cập nhật",
    "priority": "Ưu tiên (khẩn cấp trước)",
    "title": "Tiêu đề (A–Z)",
}
ANY = [("", "Tất cả")]


class FilterForm(forms.Form):
    tab = forms.ChoiceField(label="Nhóm", choices=list(TAB_LABELS.items()), required=False)
    q = forms.CharField(label="Tìm kiếm", required=False, max_length=200)
    category = forms.ChoiceField(label="Chuyên mục", choices=ANY + Bulletin.Category.choices, required=False)
    priority = forms.ChoiceField(label="Mức ưu tiên", choices=ANY + Bulletin.Priority.choices, required=False)
    status = forms.ChoiceField(label="Trạng thái", choices=ANY + Bulletin.Status.choices, required=False)
    author = forms.TypedChoiceField(label="Tác giả", coerce=int, empty_value=None, required=False)
    created_from = forms.DateField(label="Tạo từ ngày", required=False,
                                   widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    created_to = forms.DateField(label="đến ngày", required=False,
                                 widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    sort = forms.ChoiceField(label="Sắp xếp", choices=list(SORT_LABELS.items()), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["author"].choices = ANY + [
            (u.pk, u.get_full_name() or u.username) for u in selectors.desk_authors()
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("created_from"), data.get("created_to")
        if start and end and start > end:
            self.add_error("created_to", "Ngày kết thúc phải sau ngày bắt đầu.")
        return data


def voice_choices(current: str = "") -> list[tuple[str, str]]:
    choices = [("", "Giọng mặc định")] + [(v, v) for v in selectors.available_voices()]
    if current and current not in dict(choices):
        choices.append((current, current))  # an older voice stays visible; the service judges it
    return choices


class BulletinForm(forms.Form):
    title = forms.CharField(label="Tiêu đề", required=False,
                            widget=forms.TextInput(attrs={"autocomplete": "off", "maxlength": 300}))
    category = forms.ChoiceField(label="Chuyên mục", choices=Bulletin.Category.choices,
                                 initial=Bulletin.Category.OTHER)
    priority = forms.ChoiceField(label="Mức ưu tiên", choices=Bulletin.Priority.choices,
                                 initial=Bulletin.Priority.NORMAL)
    voice = forms.ChoiceField(label="Giọng đọc", required=False)
    body = forms.CharField(label="Nội dung", required=False, strip=False,
                           widget=forms.Textarea(attrs={"rows": 14}))

    def __init__(self, *args: Any, voice: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["voice"].choices = voice_choices(voice or (self.data.get("voice") if self.is_bound else ""))

    def error_for(self, field: str | None, message: str) -> None:
        """A service's message beside its field, or at the top."""
        self.add_error(field if field in self.fields else None, message)


class PronunciationForm(forms.Form):
    term = forms.CharField(label="Từ viết", max_length=100)
    spoken = forms.CharField(label="Cách đọc", max_length=300)


class RecordingForm(forms.Form):
    file = forms.FileField(label="Tệp ghi âm")
