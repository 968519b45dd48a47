"""Writes to the station registry, by concern: `rows` (reading the package or a CSV), `units` (the units
of both maps and where stations stand on the new one), `importing`, `remap` (linking an existing
registry), `export`, `edits` (a person's changes) and `credentials`. The public names are here too."""

# validate_slots: callers checked slots through this module before the rule moved to the model.
from ..models import validate_slots
from .credentials import issue_station_token, revoke_station_tokens
from .edits import (
    confirm_units,
    edit_station,
    notify_stations_changed,
    save_district_edit,
    save_station_edit,
)
from .errors import RegistryError
from .export import EXPORT_COLUMNS, export_csv_text, export_rows
from .importing import STATION_IMPORT_FIELDS, ImportCounts, import_rows
from .remap import RemapResult, confirm_unit_choices, remap_units
from .rows import (
    CSV_COLUMNS,
    CSV_UNIT_COLUMNS,
    DISTRICT_CENTER_PREFIX,
    PackageRegistry,
    StationRow,
    format_slots,
    parse_slots,
    registry_from_package,
    rows_from_csv,
    rows_from_package,
)
from .units import UnitCounts, UnitLink, UnitPlan, plan_units, save_units

__all__ = [
    "CSV_COLUMNS", "CSV_UNIT_COLUMNS", "DISTRICT_CENTER_PREFIX", "EXPORT_COLUMNS", "STATION_IMPORT_FIELDS",
    "ImportCounts", "PackageRegistry", "RegistryError", "RemapResult", "StationRow", "UnitCounts", "UnitLink",
    "UnitPlan", "confirm_unit_choices", "confirm_units", "edit_station", "export_csv_text", "export_rows",
    "format_slots", "import_rows", "issue_station_token", "notify_stations_changed", "parse_slots",
    "plan_units", "registry_from_package", "remap_units", "revoke_station_tokens", "rows_from_csv",
    "rows_from_package", "save_district_edit", "save_station_edit", "save_units", "validate_slots",
]
