"""The registry's sources, read into station rows: the vietnam-provinces package (one province of the
two-level map and the old units merged into it) or a CSV."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TextIO

from ..models import AdminUnit, Station, default_slots, validate_slots
from .errors import RegistryError
from .units import UnitPlan, plan_units

CSV_COLUMNS = ["code", "name", "kind", "district_code", "district_name", "admin_code", "slots", "active"]
# Optional: the station's commune-level unit of the two-level map, and whether a person decided it.
CSV_UNIT_COLUMNS = ["unit_code", "unit_confirmed"]
_SLOT_RE = re.compile(r"^(?P<name>[a-z][a-z0-9_]*)=(?P<start>\d{2}:\d{2})-(?P<end>\d{2}:\d{2})$")
DISTRICT_CENTER_PREFIX = "TTVH-"
_TRUE = {"1", "true", "yes", "có", "co", "x", "đúng", "dung"}
_FALSE = {"", "0", "false", "no", "không", "khong", "sai"}


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
    # The unit of the two-level map (a commune code) and its candidates, default first; None: the source
    # says nothing (an old CSV), so the station's unit is left as it is.
    unit_code: str | None = None
    unit_choices: tuple[str, ...] | None = None
    unit_confirmed: bool = False


@dataclass(frozen=True)
class PackageRegistry:
    """A province's stations and the units of both maps they stand in."""

    rows: list[StationRow]
    units: UnitPlan


def registry_from_package(province_code: int, *, active: str = "all") -> PackageRegistry:
    """One commune station per pre-2025 commune-level unit, one district center per district, of the old
    provinces merged into `province_code` (a province of the two-level map), each linked to its unit of
    the new map.

    `active` is "all", "none", "district_centers" or "communes": which stations start active.
    """
    plan = plan_units(province_code)
    active_for = {
        "all": {Station.Kind.COMMUNE, Station.Kind.DISTRICT_CENTER},
        "none": set(),
        "district_centers": {Station.Kind.DISTRICT_CENTER},
        "communes": {Station.Kind.COMMUNE},
    }[active]
    rows: list[StationRow] = []
    for d in plan.districts:
        common = {"district_code": d.code, "district_name": d.name, "district_kind": d.kind,
                  "province_code": d.province_code, "province_name": d.province_name}
        link = plan.district_links[d.code]
        rows.append(StationRow(
            code=f"{DISTRICT_CENTER_PREFIX}{d.code}", name=f"Trung tâm Văn hóa - Thông tin {d.name}",
            kind=Station.Kind.DISTRICT_CENTER, admin_code=d.code, slots=default_slots(),
            active=Station.Kind.DISTRICT_CENTER in active_for, unit_code=link.unit_code,
            unit_choices=link.choices, **common))
        for wcode, wname in d.communes:
            link = plan.commune_links[wcode]
            rows.append(StationRow(
                code=wcode, name=f"Đài truyền thanh {wname}", kind=Station.Kind.COMMUNE, admin_code=wcode,
                slots=default_slots(), active=Station.Kind.COMMUNE in active_for, unit_code=link.unit_code,
                unit_choices=link.choices, **common))
    return PackageRegistry(rows, plan)


def rows_from_package(province_code: int, *, active: str = "all") -> list[StationRow]:
    """The stations of `registry_from_package` (their units are linked only where those already exist)."""
    return registry_from_package(province_code, active=active).rows


def _unit_code(raw: str) -> str:
    # A spreadsheet drops the leading zeros of '00004'.
    return raw.zfill(5) if raw.isdigit() else raw


def rows_from_csv(stream: TextIO) -> list[StationRow]:
    """Parses and validates a registry CSV completely; raises RegistryError listing every bad line."""
    reader = csv.DictReader(stream)
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        raise RegistryError([f"dòng 1: thiếu cột {', '.join(missing)}"])
    with_units = "unit_code" in header
    known_units = set(AdminUnit.objects.filter(
        map=AdminUnit.Map.SINCE_2025, level=AdminUnit.Level.COMMUNE).values_list("code", flat=True)) if with_units else set()
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
        unit_code = _unit_code(rec.get("unit_code", "")) or None
        if unit_code and unit_code not in known_units:
            problems.append(f"không có xã/phường mã {rec['unit_code']!r} trên bản đồ từ 01/07/2025 (unit_code; "
                            f"nhập đơn vị hành chính trước: manage.py import_registry --province <mã tỉnh>)")
        confirmed_raw = rec.get("unit_confirmed", "").lower()
        if confirmed_raw not in _TRUE | _FALSE:
            problems.append(f"giá trị unit_confirmed không hợp lệ: {rec['unit_confirmed']!r} (có/không, true/false)")
        elif confirmed_raw in _TRUE and not unit_code:
            problems.append("unit_confirmed cần mã xã/phường trong cột unit_code")
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
                unit_code=unit_code,
                unit_confirmed=confirmed_raw in _TRUE,
            )
        )
    if errors:
        raise RegistryError(errors)
    return rows
