"""A person's edits of the registry (admin, API, commands): remembered, and the playlists they affect rebuilt."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from ..models import District, Station
from ..signals import stations_changed

MSG_NOTHING_TO_CONFIRM = "Đài chưa được gán xã/phường nào để xác nhận; hãy chọn xã/phường (unit)."


def notify_stations_changed(station_ids: Iterable[int]) -> None:
    """After the commit, tell whoever listens (the playlist builder) that these stations' targeting changed."""
    ids = sorted({int(pk) for pk in station_ids})
    if ids:
        transaction.on_commit(lambda: stations_changed.send(sender=Station, station_ids=ids))


@transaction.atomic
def save_station_edit(station: Station, changed_fields: Iterable[str], *, confirmed: Iterable[str] = ()) -> Station:
    """Saves a station a person edited (admin, API), already validated (`full_clean`): the editable
    fields changed by hand, and those `confirmed` unchanged, are remembered (a re-import keeps them) and
    a targeting change rebuilds the station's playlists."""
    changed = set(changed_fields)
    decided = (changed | set(confirmed)) & set(Station.EDITABLE_FIELDS)
    station.edited_fields = sorted(set(station.edited_fields or []) | decided)
    if station._state.adding:
        station.save()
    else:
        # Only what the person changed: the health fields heartbeats write meanwhile are not theirs.
        columns = changed & {f.name for f in Station._meta.concrete_fields}
        station.save(update_fields=[*sorted(columns), "edited_fields", "updated_at"])
    if changed & set(Station.TARGETING_FIELDS):
        notify_stations_changed([station.pk])
    return station


def edit_station(station: Station, changes: dict[str, Any], *, confirm_unit: bool = False) -> Station:
    """A person's edit of a station's editable fields (slots, active, unit: an AdminUnit of the two-level
    map's communes): validated by the model's rules (django ValidationError by field, nothing saved), then
    saved as `save_station_edit` does. `confirm_unit` records the unit (new or current) as a person's
    decision, which a re-import keeps."""
    unknown = set(changes) - set(Station.EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    changed = [name for name, value in changes.items() if getattr(station, name) != value]
    for name in changed:
        setattr(station, name, changes[name])
    station.full_clean()
    if confirm_unit and station.unit_id is None:
        raise ValidationError({"unit_confirmed": [MSG_NOTHING_TO_CONFIRM]})
    return save_station_edit(station, changed, confirmed=["unit"] if confirm_unit else [])


def confirm_units(stations: Iterable[Station]) -> tuple[int, int]:
    """Records each station's current unit as a person's decision (the admin's action); returns how many
    were confirmed and how many have no unit to confirm."""
    done = missing = 0
    for station in stations:
        if station.unit_id is None:
            missing += 1
            continue
        if not station.unit_confirmed:
            save_station_edit(station, [], confirmed=["unit"])
            done += 1
    return done, missing


@transaction.atomic
def save_district_edit(district: District, changed_fields: Iterable[str]) -> District:
    """Saves a district a person edited; a new code changes which schedules reach its stations."""
    district.save()
    if "code" in set(changed_fields):
        notify_stations_changed(district.stations.values_list("pk", flat=True))
    return district
