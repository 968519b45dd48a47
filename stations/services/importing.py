"""Writes a registry source into the database: districts, units of both maps, stations linked to their unit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from ..models import District, Station
from .edits import notify_stations_changed
from .rows import StationRow
from .units import UnitCounts, UnitPlan, new_commune_ids, save_units

STATION_IMPORT_FIELDS = ["code", "name", "kind", "district", "admin_code", "slots", "active", "unit",
                         "unit_choices"]
_ATTR = {"district": "district_id", "unit": "unit_id"}
_TARGETING_ATTRS = {_ATTR.get(f, f) for f in Station.TARGETING_FIELDS}


@dataclass
class ImportCounts:
    districts_created: int = 0
    districts_updated: int = 0
    stations_created: int = 0
    stations_updated: int = 0
    stations_unchanged: int = 0
    edits_kept: int = 0
    units: UnitCounts = field(default_factory=UnitCounts)
    stations_linked: int = 0  # stations whose unit of the two-level map this import set or changed
    units_kept: int = 0  # stations whose unit a person decided, kept although the source differs
    needing_decision: list[str] = field(default_factory=list)  # codes of the rows' stations
    without_unit: list[str] = field(default_factory=list)
    with_units: bool = False  # the source names units (the package, a CSV with unit_code)
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        units = ""
        if self.units.created or self.units.updated:
            units = (
                f" Đơn vị hành chính: tạo mới {self.units.created['province']} tỉnh/thành, "
                f"{self.units.created['commune']} xã/phường; cập nhật {self.units.updated['province']} tỉnh/thành, "
                f"{self.units.updated['commune']} xã/phường.")
        return (
            f"Quận/huyện: tạo mới {self.districts_created}, cập nhật {self.districts_updated}. "
            f"Đài: tạo mới {self.stations_created}, cập nhật {self.stations_updated}, "
            f"không đổi {self.stations_unchanged}."
            + (f" Giữ khung giờ/trạng thái sửa tay của {self.edits_kept} đài (--reset để ghi đè)."
               if self.edits_kept else "")
            + units
            + (f" Gắn xã/phường mới: {self.stations_linked} đài; cần người xác nhận: {len(self.needing_decision)} đài"
               + (f"; chưa có xã/phường: {len(self.without_unit)} đài" if self.without_unit else "")
               + (f"; giữ xã/phường do người chọn của {self.units_kept} đài" if self.units_kept else "")
               + "." if self.with_units else "")
        )


@transaction.atomic
def import_rows(
    rows: list[StationRow], progress: Callable[[int, int], None] | None = None, *, reset: bool = False,
    units: UnitPlan | None = None,
) -> ImportCounts:
    """Creates or updates districts, the `units` of both maps, and stations; keyed by official unit code,
    so re-runs never duplicate.

    A station's slots, active flag and unit that a person edited or confirmed (`Station.edited_fields`)
    are kept; `reset` overwrites them with the source's too and forgets the edits. A row naming no unit
    (a CSV without the column) leaves the station's unit as it is. All or nothing: one transaction.
    """
    counts = ImportCounts()
    districts = _save_districts(rows, counts)
    if units is not None:
        counts.units, unit_ids = save_units(units, districts)
    else:
        unit_ids = new_commune_ids({r.unit_code for r in rows if r.unit_code})

    by_admin = {(s.kind, s.admin_code): s for s in Station.objects.exclude(admin_code="")}
    by_code = {s.code: s for s in Station.objects.all()}
    to_create: list[Station] = []
    to_update: list[Station] = []
    row_stations: list[Station] = []
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
        if row.unit_code is not None or row.unit_choices is not None:
            values["unit_id"] = unit_ids.get(row.unit_code) if row.unit_code else None
        if row.unit_choices is not None:
            values["unit_choices"] = [c for c in row.unit_choices if c in unit_ids]
        station = by_admin.get((row.kind, row.admin_code)) if row.admin_code else None
        station = station or by_code.get(row.code)
        if station is None:
            station = Station(**values, edited_fields=["unit"] if row.unit_confirmed else [])
            to_create.append(station)
            counts.stations_linked += station.unit_id is not None
        else:
            unit_before = station.unit_id
            changed = _apply_row(station, values, reset=reset, counts=counts, confirm_unit=row.unit_confirmed)
            counts.stations_linked += station.unit_id is not None and station.unit_id != unit_before
            if changed:
                if changed & _TARGETING_ATTRS:
                    retargeted.add(station.pk)
                to_update.append(station)
            else:
                counts.stations_unchanged += 1
        row_stations.append(station)
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
    counts.with_units = units is not None or any(r.unit_code is not None for r in rows)
    for station in row_stations:
        if station.needs_unit_decision():
            counts.needing_decision.append(station.code)
        elif units is not None and station.unit_id is None:
            counts.without_unit.append(station.code)
    return counts


def _save_districts(rows: list[StationRow], counts: ImportCounts) -> dict[str, District]:
    districts = {d.code: d for d in District.objects.all()}
    wanted_by_code: dict[str, dict[str, str]] = {}
    for row in rows:
        wanted = {"name": row.district_name}
        if row.district_kind:
            wanted["kind"] = row.district_kind
        if row.province_code:
            wanted.update(province_code=row.province_code, province_name=row.province_name)
        wanted_by_code.setdefault(row.district_code, wanted)
    to_create, to_update = [], []
    for code, wanted in wanted_by_code.items():
        district = districts.get(code)
        if district is None:
            to_create.append(District(code=code, **wanted))
        elif any(getattr(district, k) != v for k, v in wanted.items()):
            for k, v in wanted.items():
                setattr(district, k, v)
            to_update.append(district)
    District.objects.bulk_create(to_create)
    if to_update:
        District.objects.bulk_update(to_update, ["name", "kind", "province_code", "province_name"])
    if to_create:
        districts = {d.code: d for d in District.objects.all()}
    counts.districts_created, counts.districts_updated = len(to_create), len(to_update)
    return districts


def _apply_row(station: Station, values: dict[str, Any], *, reset: bool, counts: ImportCounts,
               confirm_unit: bool = False) -> set[str]:
    """Sets the source's values on an existing station (but not the fields edited by hand, unless
    reset); returns the names of the attributes that changed. `confirm_unit`: the source records its
    unit as a person's decision (a CSV's unit_confirmed), which replaces an earlier one."""
    edited = set() if reset else set(station.edited_fields or [])
    if confirm_unit:
        edited.discard("unit")
    kept = {f for f in edited if _ATTR.get(f, f) in values and getattr(station, _ATTR.get(f, f)) != values[_ATTR.get(f, f)]}
    counts.edits_kept += bool(kept - {"unit"})
    counts.units_kept += "unit" in kept
    values = {k: v for k, v in values.items() if k not in {_ATTR.get(f, f) for f in kept}}
    values["edited_fields"] = sorted(edited | ({"unit"} if confirm_unit else set()))
    changed = {k for k, v in values.items() if getattr(station, k) != v}
    for k in changed:
        setattr(station, k, values[k])
    return changed
