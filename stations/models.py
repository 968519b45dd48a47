"""What a station is: the registry (districts, stations), its credentials and its health."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

# The pseudo-slot of immediate (emergency) plays in a playlist: no station slot may take its name.
EMERGENCY_SLOT = "now"
_SLOT_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_TIME_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")

# Slot names are codes (the station protocol's); a person reads the usual ones in words.
SLOT_WORDS = {"morning": "Sáng", "noon": "Trưa", "afternoon": "Chiều", "evening": "Chiều tối", "night": "Tối",
              EMERGENCY_SLOT: "Phát ngay"}


def slot_words(name: str) -> str:
    """'Sáng' for morning; an unusual name as it is."""
    return SLOT_WORDS.get(name, name)


DEFAULT_SLOTS: list[dict[str, str]] = [
    {"name": "morning", "start": "06:00", "end": "06:30"},
    {"name": "evening", "start": "17:00", "end": "17:30"},
]


def default_slots() -> list[dict[str, str]]:
    return [dict(slot) for slot in DEFAULT_SLOTS]


def validate_slots(slots: Any) -> list[dict[str, str]]:
    """Checks a slot list ([{name, start, end}]) and returns it normalized (in time order); raises
    ValueError with a Vietnamese message. The one slot rule of the registry: import, admin and API."""
    if not isinstance(slots, list) or not slots:
        raise ValueError("cần ít nhất một khung giờ")
    seen: set[str] = set()
    cleaned = []
    for slot in slots:
        if not isinstance(slot, dict) or set(slot) != {"name", "start", "end"}:
            raise ValueError("mỗi khung giờ cần đúng các trường name, start, end")
        name, start, end = str(slot["name"]), str(slot["start"]), str(slot["end"])
        if not _SLOT_NAME_RE.match(name):
            raise ValueError(f"tên khung giờ không hợp lệ: {name!r}")
        if name == EMERGENCY_SLOT:
            raise ValueError(f"tên khung giờ {name!r} dành cho bản tin phát ngay")
        if name in seen:
            raise ValueError(f"khung giờ trùng tên: {name}")
        for value in (start, end):
            if not _TIME_RE.match(value):
                raise ValueError(f"giờ không hợp lệ: {value!r} (định dạng HH:MM)")
        if end <= start:
            raise ValueError(f"khung giờ {name}: giờ kết thúc phải sau giờ bắt đầu")
        seen.add(name)
        cleaned.append({"name": name, "start": start, "end": end})
    ordered = sorted(cleaned, key=lambda s: s["start"])
    for previous, current in zip(ordered, ordered[1:], strict=False):
        if current["start"] < previous["end"]:
            raise ValueError(f"khung giờ {previous['name']} và {current['name']} chồng nhau")
    return ordered


# Two-level local government: no district level from this day on, new commune-level units.
MAP_2025_START = dt.date(2025, 7, 1)


def map_in_force(day: dt.date) -> str:
    """Which administrative map records of `day` are grouped by: districts before 1 July 2025, the
    commune-level units of the two-level map since."""
    return AdminUnit.Map.SINCE_2025 if day >= MAP_2025_START else AdminUnit.Map.BEFORE_2025


class District(models.Model):
    """A district-level unit (quận/huyện/thị xã) of the map before 1 July 2025, in force until
    `VALID_UNTIL`. `code` is the official mã ĐVHC. Stations keep their district for history: records
    of days before the two-level map are grouped by it, and schedules targeting it keep their stations."""

    VALID_UNTIL = MAP_2025_START - dt.timedelta(days=1)

    code = models.CharField("mã ĐVHC", max_length=16, unique=True)
    name = models.CharField("tên", max_length=200)
    kind = models.CharField("loại đơn vị", max_length=40, blank=True, help_text="quận, huyện, thị xã…")
    province_code = models.CharField("mã tỉnh/thành", max_length=8, blank=True)
    province_name = models.CharField("tỉnh/thành", max_length=200, blank=True)

    class Meta:
        verbose_name = "quận/huyện"
        verbose_name_plural = "quận/huyện"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class AdminUnit(models.Model):
    """A province or commune-level unit (xã/phường/thị trấn/đặc khu) of either map, with the official
    code and the dates it was in force. Districts of the old map are `District`. Codes repeat across
    maps (commune 00004 is Phúc Xá before, Ba Đình since), so a unit is named by (map, level, code)."""

    class Map(models.TextChoices):
        BEFORE_2025 = "before_2025", "Trước 01/07/2025 (tỉnh, huyện, xã)"
        SINCE_2025 = "since_2025", "Từ 01/07/2025 (tỉnh, xã)"

    class Level(models.TextChoices):
        PROVINCE = "province", "Tỉnh/thành phố"
        COMMUNE = "commune", "Xã/phường"

    map = models.CharField("bản đồ", max_length=12, choices=Map.choices)
    level = models.CharField("cấp", max_length=10, choices=Level.choices)
    code = models.CharField("mã ĐVHC", max_length=16)
    name = models.CharField("tên", max_length=200)
    division_type = models.CharField("loại đơn vị", max_length=40, blank=True, help_text="phường, xã, đặc khu…")
    province_code = models.CharField("mã tỉnh/thành", max_length=8, blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children", verbose_name="thuộc"
    )
    district = models.ForeignKey(
        District, null=True, blank=True, on_delete=models.PROTECT, related_name="communes",
        verbose_name="quận/huyện (bản đồ trước 2025)",
    )
    valid_from = models.DateField("hiệu lực từ", null=True, blank=True)
    valid_until = models.DateField("hiệu lực đến", null=True, blank=True)

    class Meta:
        verbose_name = "đơn vị hành chính"
        verbose_name_plural = "đơn vị hành chính"
        ordering = ["map", "level", "code"]
        constraints = [
            models.UniqueConstraint(fields=["map", "level", "code"], name="admin_unit_unique_code"),
            models.CheckConstraint(condition=Q(map__in=["before_2025", "since_2025"]), name="admin_unit_map_valid"),
            models.CheckConstraint(condition=Q(level__in=["province", "commune"]), name="admin_unit_level_valid"),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True) | Q(valid_until__isnull=True) | Q(valid_until__gte=F("valid_from")),
                name="admin_unit_valid_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def in_force_on(self, day: dt.date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or day <= self.valid_until)


class Station(models.Model):
    class Kind(models.TextChoices):
        COMMUNE = "commune", "Đài xã/phường/thị trấn"
        DISTRICT_CENTER = "district_center", "Trung tâm văn hóa quận/huyện"

    class Status(models.TextChoices):
        NEVER = "never", "Chưa kết nối"
        ONLINE = "online", "Đang hoạt động"
        LATE = "late", "Chậm báo"
        SILENT = "silent", "Mất liên lạc"

    code = models.CharField("mã đài", max_length=32, unique=True)
    name = models.CharField("tên đài", max_length=200)
    kind = models.CharField("loại đài", max_length=20, choices=Kind.choices, default=Kind.COMMUNE)
    district = models.ForeignKey(
        District, on_delete=models.PROTECT, related_name="stations", verbose_name="quận/huyện"
    )
    admin_code = models.CharField("mã ĐVHC", max_length=16, blank=True)
    # The commune-level unit of the two-level map where the station stands; records of days since
    # 1 July 2025 are grouped by it (each playlist and report keeps the one it was made under).
    unit = models.ForeignKey(
        AdminUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="stations",
        verbose_name="xã/phường (từ 01/07/2025)",
        limit_choices_to={"map": AdminUnit.Map.SINCE_2025, "level": AdminUnit.Level.COMMUNE},
    )
    # The conversion table's new units for the station's old commune, first the one chosen by default;
    # more than one (a split commune) needs a person's decision, recorded as an edit of `unit`.
    unit_choices = models.JSONField("đơn vị có thể thuộc", default=list, blank=True, editable=False)
    slots = models.JSONField("khung giờ phát", default=default_slots)
    active = models.BooleanField("đang hoạt động", default=True)
    # Registry fields a person changed by hand (of EDITABLE_FIELDS): a re-import keeps them (unless reset).
    edited_fields = models.JSONField("sửa tay", default=list, blank=True, editable=False)
    created_at = models.DateTimeField("tạo lúc", auto_now_add=True)
    updated_at = models.DateTimeField("cập nhật lúc", auto_now=True)

    # Health, the healthchecks way: a stored deadline refreshed by each heartbeat and swept periodically.
    status = models.CharField(
        "trạng thái", max_length=10, choices=Status.choices, default=Status.NEVER, db_index=True
    )
    last_seen_at = models.DateTimeField("lần cuối liên lạc", null=True, blank=True)
    heartbeat_deadline = models.DateTimeField("hạn nhịp tim", null=True, blank=True, db_index=True)
    status_changed_at = models.DateTimeField("đổi trạng thái lúc", null=True, blank=True)
    agent_version = models.CharField("phiên bản thiết bị", max_length=64, blank=True)
    agent_state = models.JSONField("trạng thái thiết bị", default=dict, blank=True)
    # Whom to phone when the station stays silent (an emergency not confirmed, a day not reported).
    contact_name = models.CharField("người liên hệ", max_length=200, blank=True)
    contact_phone = models.CharField("điện thoại liên hệ", max_length=32, blank=True)

    class Meta:
        verbose_name = "đài"
        verbose_name_plural = "đài"
        ordering = ["district__code", "kind", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["commune", "district_center"]), name="station_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["never", "online", "late", "silent"]), name="station_status_valid"
            ),
            # A re-import keys on the official unit code, so one unit never gets two stations of a kind.
            models.UniqueConstraint(
                fields=["kind", "admin_code"], condition=~Q(admin_code=""), name="station_unique_admin_code"
            ),
        ]

    # Fields a schedule's targets or the playlist builder depend on: a change rebuilds the station's playlists.
    TARGETING_FIELDS = ("code", "kind", "district", "unit", "slots", "active")
    # Fields supervisors edit by hand, kept by a re-import of the registry.
    EDITABLE_FIELDS = ("slots", "active", "unit")

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def clean(self) -> None:
        try:
            self.slots = validate_slots(self.slots)
        except ValueError as exc:
            raise ValidationError({"slots": [f"Khung giờ không hợp lệ: {exc}."]}) from None

    def slots_error(self) -> str | None:
        """Why the stored slots break the slot rule (Vietnamese), or None: rows saved before the rule
        existed, or written around it, may hold anything."""
        try:
            validate_slots(self.slots)
        except ValueError as exc:
            return str(exc)
        return None

    @property
    def slot_names(self) -> list[str]:
        return [slot["name"] for slot in self.slots]

    @property
    def unit_confirmed(self) -> bool:
        """A person chose or confirmed the unit (admin, API, CSV): a re-import keeps it."""
        return "unit" in (self.edited_fields or [])

    def needs_unit_decision(self) -> bool:
        """Its old commune was split across several new units and nobody has confirmed the default."""
        return len(self.unit_choices or []) > 1 and not self.unit_confirmed


class StationStatusChange(models.Model):
    """One row per health status change, so a timeline shows when a station went silent and came back."""

    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=10, choices=Station.Status.choices)
    to_status = models.CharField(max_length=10, choices=Station.Status.choices)
    at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = "thay đổi trạng thái"
        verbose_name_plural = "thay đổi trạng thái"
        ordering = ["-at"]
        indexes = [models.Index(fields=["station", "-at"], name="status_change_station_at")]

    def __str__(self) -> str:
        return f"{self.station_id}: {self.from_status} → {self.to_status} @ {self.at:%Y-%m-%d %H:%M}"


class StationCredential(models.Model):
    """A station's API token. Only a SHA-256 of the token is stored; the token is shown once."""

    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="credentials")
    token_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField("tiền tố", max_length=8, help_text="first characters, to tell tokens apart")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    # Mosquitto's `$7$` hash of the station's MQTT password (derived from the token, never stored); empty
    # for tokens issued before push and for codes that are not safe MQTT user names (polling only).
    mqtt_password_hash = models.CharField("mã băm mật khẩu MQTT", max_length=160, blank=True, default="")

    class Meta:
        verbose_name = "khóa truy cập của đài"
        verbose_name_plural = "khóa truy cập của đài"
        constraints = [
            models.UniqueConstraint(
                fields=["station"], condition=Q(revoked_at__isnull=True), name="one_live_credential_per_station"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.station.code}:{self.prefix}…"


class CommuneOperator(models.Model):
    """Ties a user of the commune_operator group to the commune-level units (two-level map) they may see."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="commune_operator"
    )
    units = models.ManyToManyField(
        AdminUnit, related_name="operators", verbose_name="xã/phường",
        limit_choices_to={"map": AdminUnit.Map.SINCE_2025, "level": AdminUnit.Level.COMMUNE},
    )

    class Meta:
        verbose_name = "cán bộ xã/phường"
        verbose_name_plural = "cán bộ xã/phường"

    def __str__(self) -> str:
        return str(self.user)


class DistrictOperator(models.Model):
    """Ties a user of the district_operator group to the one district they may see (the map before
    1 July 2025; kept for history, and for the stations that district had)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="district_operator"
    )
    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="operators")

    class Meta:
        verbose_name = "cán bộ quận/huyện"
        verbose_name_plural = "cán bộ quận/huyện"

    def __str__(self) -> str:
        return f"{self.user} → {self.district}"


class StationOperator(models.Model):
    """Ties a user of the station_operator group to the one station they run by hand."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="station_operator"
    )
    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="operators",
                                verbose_name="đài")

    class Meta:
        verbose_name = "nhân viên đài"
        verbose_name_plural = "nhân viên đài"

    def __str__(self) -> str:
        return f"{self.user} → {self.station}"
