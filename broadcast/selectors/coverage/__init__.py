"""Coverage: planned plays (playlist items) against what stations reported, by unit of the map in force
on the day (districts before 1 July 2025, commune-level units since) and by station.

An item is `played` once a played report arrived (late ones count), `failed` when only failed,
skipped or interrupted reports arrived, `pending` while its slot has not ended plus the grace period,
and `missed` after that. coverage_pct = played / (expected − pending), the share of the plays already
due; it is always given with played / expected and pending beside it. One aggregate over items.

counts: the figures; items: which plays a day expects and which are pending; report: a day's report by
unit and by station; daily: a range of days per day or summed per unit; stations: attention, health counts and one station's day.
"""

from .counts import (
    FAILED_OUTCOMES,
    GROUP_DISTRICT,
    GROUP_UNIT,
    UNASSIGNED_NAME,
    Counts,
    CoverageReport,
    UnitCoverage,
)
from .daily import daily_counts, last_days, range_report, range_report_and_days
from .items import day_bounds, grace, inactive_q, pending_q, planned_items
from .report import Place, coverage_by_station, coverage_report, station_places, stations_in_coverage
from .stations import Timeline, station_timeline, stations_needing_attention, status_counts

__all__ = [
    "FAILED_OUTCOMES", "GROUP_DISTRICT", "GROUP_UNIT", "UNASSIGNED_NAME", "Counts", "CoverageReport", "Place",
    "Timeline", "UnitCoverage", "coverage_by_station", "coverage_report", "daily_counts", "day_bounds", "grace", "inactive_q", "last_days",
    "pending_q", "planned_items", "range_report", "range_report_and_days", "station_places", "station_timeline", "stations_in_coverage",
    "stations_needing_attention", "status_counts",
]
