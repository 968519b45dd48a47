"""Coverage with pictures: the supervisors' and operators' dashboard (/dashboard/), its drill-down from the
city to a unit to a station, and the printable monthly report (/dashboard/report/)."""

from .urls import urlpatterns

__all__ = ["urlpatterns"]
