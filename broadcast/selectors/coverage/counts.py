"""Coverage figures: the counts of a group of plays and the report of a day, as the API shows them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from stations.models import AdminUnit

FAILED_OUTCOMES = ("failed", "skipped", "interrupted")



@dataclass
class Counts:
    expected: int = 0
    played: int = 0
    failed: int = 0
    pending: int = 0

    @property
    def missed(self) -> int:
        return self.expected - self.played - self.failed - self.pending

    @property
    def due(self) -> int:
        return self.expected - self.pending

    @property
    def coverage_pct(self) -> float | None:
        """Share of the plays already due; never shown without played / expected and pending beside it."""
        return round(100.0 * self.played / self.due, 1) if self.due else None

    @property
    def played_of_expected(self) -> str:
        """The headline figure: an emergency heard by 1 of 556 stations reads "1 / 556", not "100 %"."""
        return f"{self.played} / {self.expected}"

    def share_of_expected(self, part: int) -> float:
        return round(100.0 * part / self.expected, 1) if self.expected else 0.0

    @property
    def played_share(self) -> float:
        return self.share_of_expected(self.played)

    @property
    def pending_share(self) -> float:
        return self.share_of_expected(self.pending)

    def add(self, other: Counts) -> None:
        self.expected += other.expected
        self.played += other.played
        self.failed += other.failed
        self.pending += other.pending

    def as_dict(self) -> dict[str, Any]:
        return {
            "expected": self.expected, "played": self.played, "failed": self.failed,
            "missed": self.missed, "pending": self.pending, "coverage_pct": self.coverage_pct,
            "played_of_expected": self.played_of_expected,
        }


GROUP_DISTRICT, GROUP_UNIT = "district", "unit"
UNASSIGNED_NAME = "Chưa gán xã/phường"


@dataclass
class UnitCoverage:
    """One row of a day's coverage: a district (map before 1 July 2025) or a commune-level unit of the
    two-level map; code "" is the row of plays whose playlist was made before its station had a unit."""

    level: str
    code: str
    name: str
    counts: Counts
    silent_stations: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, **self.counts.as_dict(), "silent_stations": self.silent_stations}


@dataclass
class CoverageReport:
    """A day's coverage grouped by the map in force that day: `rows` are districts before 1 July 2025,
    commune-level units since; totals are always the sum of the rows."""

    date: date
    map: str
    totals: Counts
    rows: list[UnitCoverage] = field(default_factory=list)

    @property
    def grouping(self) -> str:
        return GROUP_UNIT if self.map == AdminUnit.Map.SINCE_2025 else GROUP_DISTRICT

    @property
    def by_unit(self) -> bool:
        return self.grouping == GROUP_UNIT

    def as_dict(self) -> dict[str, Any]:
        key = "units" if self.by_unit else "districts"
        return {"date": self.date.isoformat(), "map": self.map, "grouping": self.grouping,
                "totals": self.totals.as_dict(), key: [row.as_dict() for row in self.rows]}
