"""The registry written as CSV, the columns the CSV import reads."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from typing import TextIO

from ..models import Station
from .rows import CSV_COLUMNS, CSV_UNIT_COLUMNS, format_slots

# unit_name only informs the reader; the import reads unit_code.
EXPORT_COLUMNS = [*CSV_COLUMNS, *CSV_UNIT_COLUMNS, "unit_name"]


def export_rows(stream: TextIO, stations: Iterable[Station]) -> int:
    """Writes the stations (with `district` and `unit` selected) as CSV; returns how many."""
    writer = csv.writer(stream)
    writer.writerow(EXPORT_COLUMNS)
    n = 0
    for s in stations:
        writer.writerow(
            [s.code, s.name, s.kind, s.district.code, s.district.name, s.admin_code,
             _exported_slots(s), "true" if s.active else "false",
             s.unit.code if s.unit else "", "true" if s.unit and s.unit_confirmed else "false",
             s.unit.name if s.unit else ""]
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
