"""The administrative units of both maps for one province of the two-level map, from the vietnam-provinces
package, and where each old commune's or district's station stands on the new map (the 2025 conversion
table)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Q

from ..models import MAP_2025_START, AdminUnit, District
from ..names import bare_name, carries
from .errors import RegistryError

OLD_MAP_END = MAP_2025_START - dt.timedelta(days=1)
_NEW, _OLD = AdminUnit.Map.SINCE_2025, AdminUnit.Map.BEFORE_2025
_PROVINCE, _COMMUNE = AdminUnit.Level.PROVINCE, AdminUnit.Level.COMMUNE


def _kind(division_type: object) -> str:
    return str(getattr(division_type, "value", division_type))


@dataclass(frozen=True)
class UnitRow:
    """One AdminUnit as the package gives it; `parent` is the code of its province on the same map."""

    map: str
    level: str
    code: str
    name: str
    division_type: str
    province_code: str
    parent: str | None = None
    district_code: str | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.map, self.level, self.code)

    def values(self) -> dict[str, object]:
        new = self.map == _NEW
        return {
            "name": self.name, "division_type": self.division_type, "province_code": self.province_code,
            "valid_from": MAP_2025_START if new else None, "valid_until": None if new else OLD_MAP_END,
        }


@dataclass(frozen=True)
class UnitLink:
    """Where a station of the old map goes on the new one: `choices` are the candidate new commune
    codes, the default first (empty: the conversion table does not know the old unit)."""

    choices: tuple[str, ...] = ()

    @property
    def unit_code(self) -> str | None:
        return self.choices[0] if self.choices else None


@dataclass
class OldDistrict:
    code: str
    name: str
    kind: str
    province_code: str
    province_name: str
    communes: list[tuple[str, str]] = field(default_factory=list)  # (code, name), the package's order


@dataclass
class UnitPlan:
    """Everything the package says about one province of the two-level map and the old units merged
    into it: units to store, the old districts and communes (for stations), and the links."""

    province_code: str
    province_name: str
    old_provinces: list[tuple[str, str]]
    units: list[UnitRow]
    districts: list[OldDistrict]
    commune_links: dict[str, UnitLink]
    district_links: dict[str, UnitLink]
    new_names: dict[str, str]

    def link_for(self, kind: str, admin_code: str) -> UnitLink | None:
        links = self.district_links if kind == "district_center" else self.commune_links
        return links.get(admin_code)


def province_not_found(code: int) -> RegistryError:
    """The Vietnamese refusal of a province code that is not one of the two-level map's."""
    from vietnam_provinces import Province
    from vietnam_provinces import _province_conversion_2025 as conversion
    from vietnam_provinces.legacy import Province as OldProvince
    from vietnam_provinces.legacy import ProvinceCode as OldProvinceCode

    try:
        old = OldProvince.from_code(OldProvinceCode(code))
    except (ValueError, KeyError):
        return RegistryError([f"không có tỉnh/thành mã {code} (mã tỉnh/thành theo bản đồ từ 01/07/2025, "
                              f"ví dụ 1 = Hà Nội, 79 = TP Hồ Chí Minh)"])
    entry = conversion.OLD_TO_NEW.get(code)
    now = [Province.from_code(ref.code) for ref in (entry.new_provinces if entry else ())]
    into = ", ".join(f"{p.name} (mã {int(p.code)})" for p in now) or "không rõ"
    return RegistryError([
        f"mã {code:02d} là {old.name}, tỉnh/thành trước 01/07/2025 đã sáp nhập vào {into}; "
        f"dùng mã tỉnh/thành hiện nay: --province {int(now[0].code) if now else '…'}"])


def plan_units(province: int) -> UnitPlan:
    """Reads the package for `province` (a code of the two-level map): raises RegistryError in Vietnamese
    for another code (an old province's names the province it was merged into)."""
    from vietnam_provinces import Province, ProvinceCode, Ward
    from vietnam_provinces import _province_conversion_2025 as province_conversion
    from vietnam_provinces._ward_conversion_2025 import OLD_TO_NEW
    from vietnam_provinces.legacy import District as OldDistrictVp
    from vietnam_provinces.legacy import Province as OldProvince
    from vietnam_provinces.legacy import ProvinceCode as OldProvinceCode
    from vietnam_provinces.legacy import Ward as OldWard

    try:
        new_province = Province.from_code(ProvinceCode(province))
    except (ValueError, KeyError):
        raise province_not_found(province) from None
    pcode = f"{province:02d}"
    units = [UnitRow(_NEW, _PROVINCE, pcode, new_province.name, _kind(new_province.division_type), pcode)]
    new_names: dict[str, str] = {}
    for ward in Ward.iter_by_province(new_province.code):
        code = f"{int(ward.code):05d}"
        new_names[code] = ward.name
        units.append(UnitRow(_NEW, _COMMUNE, code, ward.name, _kind(ward.division_type), pcode, parent=pcode))

    # Each old commune goes to the new province of its table entry; one the table does not know, to the
    # new province that received most of its old province.
    old_codes = [ref.code for ref in province_conversion.NEW_TO_OLD[province].old_provinces]
    old_provinces: list[tuple[str, str]] = []
    old_units: list[UnitRow] = []
    districts: list[OldDistrict] = []
    commune_links: dict[str, UnitLink] = {}
    for old_code in old_codes:
        old = OldProvince.from_code(OldProvinceCode(old_code))
        ocode = f"{old_code:02d}"
        main_province = _main_new_province(old_code, province_conversion, OLD_TO_NEW)
        kept_here = False
        for d in OldDistrictVp.iter_by_province(old.code):
            district = OldDistrict(f"{int(d.code):03d}", d.name, _kind(d.division_type), ocode, old.name)
            for w in OldWard.iter_by_district(d.code):
                entry = OLD_TO_NEW.get(int(w.code))
                if entry is None and main_province != province:
                    continue
                candidates = [f"{ref.code:05d}" for ref in entry.new_wards] if entry else []
                here = [c for c in candidates if c in new_names]
                if candidates and not here:
                    continue
                wcode = f"{int(w.code):05d}"
                district.communes.append((wcode, w.name))
                old_units.append(UnitRow(_OLD, _COMMUNE, wcode, w.name, _kind(w.division_type), ocode,
                                         parent=ocode, district_code=district.code))
                commune_links[wcode] = UnitLink(_default_first(w.name, here, new_names))
            # A district without communes (an island district such as Côn Đảo) goes with its province.
            if district.communes or main_province == province:
                districts.append(district)
                kept_here = True
        if kept_here:
            old_provinces.append((ocode, old.name))
            old_units.insert(0, UnitRow(_OLD, _PROVINCE, ocode, old.name, _kind(old.division_type), ocode))
    district_links = {d.code: _district_link(d, commune_links, new_names) for d in districts}
    # Provinces before communes: a commune's parent must exist first.
    units = sorted([*units, *old_units], key=lambda u: u.level != _PROVINCE)
    return UnitPlan(pcode, new_province.name, old_provinces, units, districts, commune_links, district_links,
                    new_names)


def _main_new_province(old_code: int, province_conversion, old_to_new) -> int | None:
    entry = province_conversion.OLD_TO_NEW.get(old_code)
    targets = [ref.code for ref in entry.new_provinces] if entry else []
    if len(targets) <= 1:
        return targets[0] if targets else None
    received = Counter(e.new_wards[0].province_code for e in old_to_new.values()
                       if e.old_ward.province_code == old_code and e.new_wards)
    return max(targets, key=lambda code: received[code])


def _default_first(old_name: str, candidates: list[str], names: dict[str, str]) -> tuple[str, ...]:
    """The candidates in table order, the default first: the one named like the old commune (same name,
    else one carrying it), else the table's first."""
    bare = bare_name(old_name)
    chosen = next((c for c in candidates if bare_name(names[c]) == bare), None)
    chosen = chosen or next((c for c in candidates if carries(names[c], old_name)), None)
    if chosen is None:
        return tuple(candidates)
    return (chosen, *[c for c in candidates if c != chosen])


def _district_link(district: OldDistrict, communes: dict[str, UnitLink], names: dict[str, str]) -> UnitLink:
    """A district centre goes to the new unit named like its district; else to the one that received most
    of its old communes. The candidates considered are its choices (more than one: a person decides)."""
    received: Counter[str] = Counter()
    for code, _ in district.communes:
        received.update(communes[code].choices)
    ranked = [code for code, _ in received.most_common()]  # ties: first seen, the package's order
    named = [code for code in ranked or names if carries(names[code], district.name)]
    return UnitLink(tuple(named or ranked))


# ---------------------------------------------------------------- storing


@dataclass
class UnitCounts:
    created: Counter[str] = field(default_factory=Counter)  # by level
    updated: Counter[str] = field(default_factory=Counter)


def save_units(plan: UnitPlan, districts: dict[str, District]) -> tuple[UnitCounts, dict[str, int]]:
    """Creates or updates the plan's units in bulk (keyed by map, level and code: a re-run changes nothing).
    Returns the counts and the ids of the two-level map's communes by code. `districts` by code."""
    counts = UnitCounts()
    provinces = {u.province_code for u in plan.units}
    existing = {(u.map, u.level, u.code): u for u in AdminUnit.objects.filter(
        Q(province_code__in=sorted(provinces)) | Q(level=_PROVINCE, code__in=sorted(provinces)))}
    for level in (_PROVINCE, _COMMUNE):
        to_create, to_update = [], []
        for row in (u for u in plan.units if u.level == level):
            wanted = row.values()
            if row.parent:
                wanted["parent_id"] = existing[(row.map, _PROVINCE, row.parent)].pk
            if row.district_code:
                wanted["district_id"] = districts[row.district_code].pk
            unit = existing.get(row.key)
            if unit is None:
                unit = AdminUnit(map=row.map, level=row.level, code=row.code, **wanted)
                to_create.append(unit)
                existing[row.key] = unit
            elif any(getattr(unit, k) != v for k, v in wanted.items()):
                for k, v in wanted.items():
                    setattr(unit, k, v)
                to_update.append(unit)
        AdminUnit.objects.bulk_create(to_create, batch_size=500)
        if to_update:
            AdminUnit.objects.bulk_update(to_update, [
                "name", "division_type", "province_code", "parent", "district", "valid_from", "valid_until"],
                batch_size=500)
        counts.created[level] += len(to_create)
        counts.updated[level] += len(to_update)
    if any(u.pk is None for u in existing.values()):  # backends that return no ids from bulk_create
        existing = {(u.map, u.level, u.code): u for u in AdminUnit.objects.filter(province_code__in=sorted(provinces))}
    new_ids = {code: u.pk for (m, level, code), u in existing.items() if m == _NEW and level == _COMMUNE}
    return counts, new_ids


def new_commune_ids(codes: set[str] | None = None) -> dict[str, int]:
    """Ids of the two-level map's commune-level units by code (all, or those of `codes`)."""
    qs = AdminUnit.objects.filter(map=_NEW, level=_COMMUNE)
    if codes is not None:
        qs = qs.filter(code__in=sorted(codes))
    return dict(qs.values_list("code", "pk"))
