"""Links an existing registry to the two-level map: each station of an old commune or district goes to its
unit of the new map as the import would put it, without touching anything else about the station."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ..models import AdminUnit, District, Station
from .edits import edit_station, notify_stations_changed
from .errors import RegistryError
from .units import UnitCounts, plan_units, save_units


@dataclass
class RemapResult:
    units: UnitCounts = field(default_factory=UnitCounts)
    districts_created: int = 0
    # (station code, station name, unit code before or None, unit code now), in code order
    moved: list[tuple[str, str, str | None, str]] = field(default_factory=list)
    choices_changed: int = 0
    confirmed_kept: int = 0  # stations whose unit a person decided, left as they are
    unknown: list[str] = field(default_factory=list)  # station codes the conversion table does not know

    @property
    def changed(self) -> int:
        return len(self.moved) + self.choices_changed + sum(self.units.created.values()) + sum(
            self.units.updated.values()) + self.districts_created


@transaction.atomic
def remap_units(province: int, *, dry_run: bool = False) -> RemapResult:
    """Builds the units of both maps for `province` (a code of the two-level map) where missing and links
    every station of its old communes and districts (by admin_code) to its unit of the new map, as the
    import does; a unit a person decided is never touched, nor names, slots, active or history. The moved
    stations' coming playlists are rebuilt. `dry_run` rolls everything back and reports what it would do."""
    plan = plan_units(province)
    result = RemapResult()
    districts = {d.code: d for d in District.objects.filter(code__in=[d.code for d in plan.districts])}
    missing = [District(code=d.code, name=d.name, kind=d.kind, province_code=d.province_code,
                        province_name=d.province_name) for d in plan.districts if d.code not in districts]
    if missing:
        District.objects.bulk_create(missing)
        districts = {d.code: d for d in District.objects.filter(code__in=[d.code for d in plan.districts])}
        result.districts_created = len(missing)
    result.units, unit_ids = save_units(plan, districts)
    code_of = {pk: code for code, pk in unit_ids.items()}

    stations = Station.objects.filter(admin_code__in=[*plan.commune_links, *plan.district_links]).order_by("code")
    to_update: list[Station] = []
    moved_ids: list[int] = []
    for station in stations:
        link = plan.link_for(station.kind, station.admin_code)
        if link is None:
            continue
        if not link.choices:
            result.unknown.append(station.code)
            continue
        choices = [c for c in link.choices if c in unit_ids]
        dirty = False
        if station.unit_choices != choices:
            station.unit_choices = choices
            dirty = True
        if station.unit_confirmed:
            result.confirmed_kept += 1
        elif choices and station.unit_id != unit_ids[choices[0]]:
            before = code_of.get(station.unit_id) if station.unit_id else None
            if station.unit_id and before is None:
                before = AdminUnit.objects.filter(pk=station.unit_id).values_list("code", flat=True).first()
            station.unit_id = unit_ids[choices[0]]
            result.moved.append((station.code, station.name, before, choices[0]))
            moved_ids.append(station.pk)
            dirty = True
        if dirty:
            to_update.append(station)
    if to_update:
        now = timezone.now()
        for station in to_update:
            station.updated_at = now
        Station.objects.bulk_update(to_update, ["unit", "unit_choices", "updated_at"], batch_size=500)
    moved = set(moved_ids)
    result.choices_changed = sum(1 for s in to_update if s.pk not in moved)  # updated, unit unchanged
    if dry_run:
        transaction.set_rollback(True)
    else:
        notify_stations_changed(moved_ids)
    return result


@transaction.atomic
def confirm_unit_choices(pairs: list[tuple[str, str]]) -> list[Station]:
    """A person's decisions `(station code, unit code)`: each station moved to that commune-level unit of
    the two-level map (or its current one confirmed) through the edit service. All or nothing; a
    RegistryError in Vietnamese lists every station or unit that does not exist."""
    errors: list[str] = []
    decided: list[tuple[Station, AdminUnit]] = []
    for station_code, unit_code in pairs:
        station = Station.objects.filter(code=station_code).first()
        unit = AdminUnit.objects.filter(map=AdminUnit.Map.SINCE_2025, level=AdminUnit.Level.COMMUNE,
                                        code=unit_code.zfill(5) if unit_code.isdigit() else unit_code).first()
        if station is None:
            errors.append(f"{station_code}={unit_code}: không có đài mã {station_code}")
        if unit is None:
            errors.append(f"{station_code}={unit_code}: không có xã/phường mã {unit_code} trên bản đồ từ 01/07/2025")
        if station and unit:
            decided.append((station, unit))
    if errors:
        raise RegistryError(errors)
    for station, unit in decided:
        try:
            edit_station(station, {"unit": unit}, confirm_unit=True)
        except ValidationError as exc:
            raise RegistryError([f"{station.code}: {'; '.join(exc.messages)}"]) from None
    return [station for station, _ in decided]
