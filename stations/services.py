"""Writes to the station registry: imports, exports, slots, credentials."""

from __future__ import annotations

import csv
import io
import json
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TextIO

from django.db import transaction
from django.utils import timezone

from .models import District, Station, StationCredential, default_slots, validate_slots
from .selectors import hash_token
from .signals import stations_changed

CSV_COLUMNS = ["code", "name", "kind", "district_code", "district_name", "admin_code", "slots", "active"]
_SLOT_RE = re.compile(r"^(?P<name>[a-z][a-z0-9_]*)=(?P<start>\d{2}:\d{2})-(?P<end>\d{2}:\d{2})$")
DISTRICT_CENTER_PREFIX = "TTVH-"
STATION_IMPORT_FIELDS = ["code", "name", "kind", "district", "admin_code", "slots", "active"]


class RegistryError(ValueError):
    """A registry input that cannot be imported; `errors` lists each problem with its line."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass
class ImportCounts:
    districts_created: int = 0
    districts_updated: int = 0
    stations_created: int = 0
    stations_updated: int = 0
    stations_unchanged: int = 0
    edits_kept: int = 0
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"Quận/huyện: tạo mới {self.districts_created}, cập nhật {self.districts_updated}. "
            f"Đài: tạo mới {self.stations_created}, cập nhật {self.stations_updated}, "
            f"không đổi {self.stations_unchanged}."
            + (f" Giữ khung giờ/trạng thái sửa tay của {self.edits_kept} đài (--reset để ghi đè)."
               if self.edits_kept else "")
        )


# ---------------------------------------------------------------- slots


def parse_slots(text: str) -> list[dict[str, str]]:
    """Parses the CSV form `morning=06:00-06:30;evening=17:00-17:30`."""
    slots = []
    for part in [p.strip() for p in text.split(";") if p.strip()]:
        match = _SLOT_RE.match(part)
        if not match:
            raise ValueError(f"khung giờ không hợp lệ: {part!r} (dạng ten=HH:MM-HH:MM)")
        slots.append(match.groupdict())
    return validate_slots(slots)


def format_slots(slots: Iterable[dict[str, str]]) -> str:
    return ";".join(f"{s['name']}={s['start']}-{s['end']}" for s in slots)


# ---------------------------------------------------------------- import


@dataclass(frozen=True)
class StationRow:
    code: str
    name: str
    kind: str
    district_code: str
    district_name: str
    admin_code: str
    slots: list[dict[str, str]]
    active: bool
    district_kind: str = ""
    province_code: str = ""
    province_name: str = ""


def rows_from_package(province_code: int, *, active: str = "all") -> list[StationRow]:
    """One commune station per pre-2025 commune-level unit, one district center per district.

    `active` is "all", "none", "district_centers" or "communes": which stations start active.
    """
    from vietnam_provinces.legacy import District as VpDistrict
    from vietnam_provinces.legacy import Province as VpProvince
    from vietnam_provinces.legacy import ProvinceCode, Ward

    try:
        province = VpProvince.from_code(ProvinceCode(province_code))
    except (ValueError, KeyError):
        raise RegistryError([f"không có tỉnh/thành mã {province_code} trong dữ liệu trước 2025"]) from None
    active_for = {
        "all": {Station.Kind.COMMUNE, Station.Kind.DISTRICT_CENTER},
        "none": set(),
        "district_centers": {Station.Kind.DISTRICT_CENTER},
        "communes": {Station.Kind.COMMUNE},
    }[active]
    prov_code = f"{int(province.code):02d}"
    rows: list[StationRow] = []
    for d in VpDistrict.iter_by_province(province.code):
        dcode = f"{int(d.code):03d}"
        common = {
            "district_code": dcode,
            "district_name": d.name,
            "district_kind": str(d.division_type.value if hasattr(d.division_type, "value") else d.division_type),
            "province_code": prov_code,
            "province_name": province.name,
        }
        rows.append(
            StationRow(
                code=f"{DISTRICT_CENTER_PREFIX}{dcode}",
                name=f"Trung tâm Văn hóa - Thông tin {d.name}",
                kind=Station.Kind.DISTRICT_CENTER,
                admin_code=dcode,
                slots=default_slots(),
                active=Station.Kind.DISTRICT_CENTER in active_for,
                **common,
            )
        )
        for w in Ward.iter_by_district(d.code):
            wcode = f"{int(w.code):05d}"
            rows.append(
                StationRow(
                    code=wcode,
                    name=f"Đài truyền thanh {w.name}",
                    kind=Station.Kind.COMMUNE,
                    admin_code=wcode,
                    slots=default_slots(),
                    active=Station.Kind.COMMUNE in active_for,
                    **common,
                )
            )
    return rows


def rows_from_csv(stream: TextIO) -> list[StationRow]:
    """Parses and validates a registry CSV completely; raises RegistryError listing every bad line."""
    reader = csv.DictReader(stream)
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        raise RegistryError([f"dòng 1: thiếu cột {', '.join(missing)}"])
    errors: list[str] = []
    rows: list[StationRow] = []
    seen_codes: dict[str, int] = {}
    seen_admin: dict[tuple[str, str], int] = {}
    district_names: dict[str, str] = {}
    for line_no, raw in enumerate(reader, start=2):
        rec = {k.strip(): (v or "").strip() for k, v in raw.items() if k}
        problems = []
        code, kind, dcode = rec["code"], rec["kind"], rec["district_code"]
        if not code:
            problems.append("thiếu mã đài (code)")
        elif code in seen_codes:
            problems.append(f"mã đài {code} trùng với dòng {seen_codes[code]}")
        if not rec["name"]:
            problems.append("thiếu tên đài (name)")
        if kind not in Station.Kind.values:
            problems.append(f"loại đài không hợp lệ: {kind!r} (commune hoặc district_center)")
        if not dcode:
            problems.append("thiếu mã quận/huyện (district_code)")
        elif rec["district_name"] and district_names.setdefault(dcode, rec["district_name"]) != rec["district_name"]:
            problems.append(f"quận/huyện {dcode} có hai tên khác nhau")
        admin_key = (kind, rec["admin_code"])
        if rec["admin_code"] and admin_key in seen_admin:
            problems.append(f"mã ĐVHC {rec['admin_code']} trùng với dòng {seen_admin[admin_key]}")
        try:
            slots = parse_slots(rec["slots"]) if rec["slots"] else default_slots()
        except ValueError as exc:
            problems.append(str(exc))
            slots = []
        active_raw = rec["active"].lower()
        if active_raw not in {"", "1", "0", "true", "false", "yes", "no"}:
            problems.append(f"giá trị active không hợp lệ: {rec['active']!r}")
        if problems:
            errors.extend(f"dòng {line_no}: {p}" for p in problems)
            continue
        seen_codes[code] = line_no
        if rec["admin_code"]:
            seen_admin[admin_key] = line_no
        rows.append(
            StationRow(
                code=code,
                name=rec["name"],
                kind=kind,
                district_code=dcode,
                district_name=rec["district_name"] or dcode,
                admin_code=rec["admin_code"],
                slots=slots,
                active=active_raw in {"", "1", "true", "yes"},
            )
        )
    if errors:
        raise RegistryError(errors)
    return rows


@transaction.atomic
def import_rows(
    rows: list[StationRow], progress: Callable[[int, int], None] | None = None, *, reset: bool = False,
) -> ImportCounts:
    """Creates or updates districts and stations; keyed by official unit code, so re-runs never duplicate.

    A station's slots and active flag that a supervisor edited by hand (`Station.edited_fields`) are kept;
    `reset` overwrites them with the source's too and forgets the edits. All or nothing: one transaction.
    """
    counts = ImportCounts()
    districts = {d.code: d for d in District.objects.all()}
    for row in rows:
        wanted = {"name": row.district_name}
        if row.district_kind:
            wanted["kind"] = row.district_kind
        if row.province_code:
            wanted.update(province_code=row.province_code, province_name=row.province_name)
        district = districts.get(row.district_code)
        if district is None:
            district = District.objects.create(code=row.district_code, **wanted)
            districts[district.code] = district
            counts.districts_created += 1
        elif any(getattr(district, k) != v for k, v in wanted.items()):
            for k, v in wanted.items():
                setattr(district, k, v)
            district.save()
            counts.districts_updated += 1

    by_admin = {(s.kind, s.admin_code): s for s in Station.objects.exclude(admin_code="")}
    by_code = {s.code: s for s in Station.objects.all()}
    to_create: list[Station] = []
    to_update: list[Station] = []
    retargeted: set[int] = set()
    for index, row in enumerate(rows, start=1):
        values: dict[str, Any] = {
            "code": row.code,
            "name": row.name,
            "kind": row.kind,
            "district_id": districts[row.district_code].pk,
            "admin_code": row.admin_code,
            "slots": row.slots,
            "active": row.active,
        }
        station = by_admin.get((row.kind, row.admin_code)) if row.admin_code else None
        station = station or by_code.get(row.code)
        if station is None:
            to_create.append(Station(**values))
        elif changed := _apply_row(station, values, reset=reset, counts=counts):
            if changed & _TARGETING_ATTRS:
                retargeted.add(station.pk)
            to_update.append(station)
        else:
            counts.stations_unchanged += 1
        if progress and (index % 200 == 0 or index == len(rows)):
            progress(index, len(rows))
    Station.objects.bulk_create(to_create, batch_size=500)
    if to_update:
        now = timezone.now()
        for station in to_update:
            station.updated_at = now
        Station.objects.bulk_update(to_update, [*STATION_IMPORT_FIELDS, "edited_fields", "updated_at"],
                                    batch_size=500)
    notify_stations_changed([*sorted(retargeted), *(s.pk for s in to_create if s.pk)])
    counts.stations_created = len(to_create)
    counts.stations_updated = len(to_update)
    return counts


_TARGETING_ATTRS = {"district_id" if f == "district" else f for f in Station.TARGETING_FIELDS}


def _apply_row(station: Station, values: dict[str, Any], *, reset: bool, counts: ImportCounts) -> set[str]:
    """Sets the source's values on an existing station (but not the fields edited by hand, unless
    reset); returns the names of the attributes that changed."""
    if reset:
        values = {**values, "edited_fields": []}
    else:
        kept = [f for f in station.edited_fields or [] if f in values and getattr(station, f) != values[f]]
        counts.edits_kept += bool(kept)
        values = {k: v for k, v in values.items() if k not in kept}
    changed = {k for k, v in values.items() if getattr(station, k) != v}
    for k in changed:
        setattr(station, k, values[k])
    return changed


# ---------------------------------------------------------------- edits by hand


def notify_stations_changed(station_ids: Iterable[int]) -> None:
    """After the commit, tell whoever listens (the playlist builder) that these stations' targeting changed."""
    ids = sorted({int(pk) for pk in station_ids})
    if ids:
        transaction.on_commit(lambda: stations_changed.send(sender=Station, station_ids=ids))


@transaction.atomic
def save_station_edit(station: Station, changed_fields: Iterable[str]) -> Station:
    """Saves a station a person edited (admin, API), already validated (`full_clean`): the editable
    fields changed by hand are remembered (a re-import keeps them) and a targeting change rebuilds
    the station's playlists."""
    changed = set(changed_fields)
    station.edited_fields = sorted(set(station.edited_fields or []) | (changed & set(Station.EDITABLE_FIELDS)))
    if station._state.adding:
        station.save()
    else:
        # Only what the person changed: the health fields heartbeats write meanwhile are not theirs.
        columns = changed & {f.name for f in Station._meta.concrete_fields}
        station.save(update_fields=[*sorted(columns), "edited_fields", "updated_at"])
    if changed & set(Station.TARGETING_FIELDS):
        notify_stations_changed([station.pk])
    return station


def edit_station(station: Station, changes: dict[str, Any]) -> Station:
    """A person's edit of a station's editable fields (slots, active): validated by the model's rules
    (django ValidationError by field, nothing saved), then saved as `save_station_edit` does."""
    unknown = set(changes) - set(Station.EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    changed = [name for name, value in changes.items() if getattr(station, name) != value]
    for name in changed:
        setattr(station, name, changes[name])
    station.full_clean()
    return save_station_edit(station, changed)


@transaction.atomic
def save_district_edit(district: District, changed_fields: Iterable[str]) -> District:
    """Saves a district a person edited; a new code changes which schedules reach its stations."""
    district.save()
    if "code" in set(changed_fields):
        notify_stations_changed(district.stations.values_list("pk", flat=True))
    return district


def export_rows(stream: TextIO, stations: Iterable[Station]) -> int:
    writer = csv.writer(stream)
    writer.writerow(CSV_COLUMNS)
    n = 0
    for s in stations:
        writer.writerow(
            [s.code, s.name, s.kind, s.district.code, s.district.name, s.admin_code,
             _exported_slots(s), "true" if s.active else "false"]
        )
        n += 1
    return n


def _exported_slots(station: Station) -> str:
    # A stored value breaking the slot rule is written as it is (JSON): a re-import then refuses that
    # line, naming it, instead of guessing slots.
    if station.slots_error():
        return json.dumps(station.slots, ensure_ascii=False)
    return format_slots(station.slots)


def export_csv_text(stations: Iterable[Station]) -> str:
    buf = io.StringIO()
    export_rows(buf, stations)
    return buf.getvalue()


# ---------------------------------------------------------------- credentials


@transaction.atomic
def issue_station_token(station: Station, *, issued_by: Any = None) -> str:
    """Revokes any live token of the station and returns a new one; only its hash is kept."""
    Station.objects.select_for_update().filter(pk=station.pk).first()
    StationCredential.objects.filter(station=station, revoked_at__isnull=True).update(revoked_at=timezone.now())
    raw = secrets.token_urlsafe(32)
    StationCredential.objects.create(
        station=station,
        token_hash=hash_token(raw),
        prefix=raw[:6],
        created_by=issued_by if getattr(issued_by, "pk", None) else None,
    )
    return raw


def revoke_station_tokens(station: Station) -> int:
    return StationCredential.objects.filter(station=station, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
