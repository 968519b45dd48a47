"""seed_demo sends its emergency bulletin to every station and most (not all) confirm it, through the
same services as real stations; a re-run the same day changes nothing; stations get people to phone."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.core.management import call_command

from broadcast.demo.emergency import contact_for, is_silent
from broadcast.models import PlaybackReport, Schedule
from broadcast.selectors import emergency as selectors
from stations.models import Station
from stations.selectors import EVERYTHING
from tests.factories import AdminUnitFactory, DistrictFactory, StationFactory, UserFactory
from tests.newsroom.pages import signed_in


@pytest.fixture
def emergency_sample(samples_file) -> Path:
    return samples_file({
        "title": "Khẩn cấp: mưa lớn gây ngập", "category": "emergency", "priority": "emergency",
        "body": "Mưa lớn gây ngập sâu, người dân không ra đường khi không cần thiết.",
    })


@pytest.mark.django_db(transaction=True)
def test_demo_emergency_is_confirmed_by_most_not_all_stations_once(emergency_sample: Path, settings) -> None:
    settings.DEBUG = True
    district = DistrictFactory(code="001", name="Quận Ba Đình")
    unit = AdminUnitFactory(code="00004", name="Phường Ba Đình")
    stations = [StationFactory(code=f"E{n:03d}", district=district, unit=unit) for n in range(60)]
    Station.objects.filter(pk=stations[0].pk).update(contact_name="Người thật", contact_phone="0241234567")

    started = time.perf_counter()
    call_command("seed_demo", samples=str(emergency_sample), force=True)
    seconds = time.perf_counter() - started

    schedule = Schedule.objects.get(immediate=True)
    assert schedule.is_demo and schedule.targets["all"] and schedule.bulletin.priority == "emergency"
    live = selectors.confirmations(schedule, EVERYTHING)
    silent = {s.code for s in stations if is_silent(s.code)}
    assert 0 < len(silent) < 20
    assert live.counts.targeted == 60 and live.counts.waiting == len(silent)
    assert live.counts.confirmed + live.counts.trouble == 60 - len(silent)
    assert 40 <= live.counts.confirmed < 60  # most, never all
    assert {r.code for r in live.to_call if r.outcome == "waiting"} == silent
    contacts = dict(Station.objects.values_list("code", "contact_phone"))
    assert contacts["E000"] == "0241234567"  # a real contact is never overwritten
    assert contacts["E001"] == contact_for("E001")[1] and contacts["E001"].startswith("0")
    assert seconds < 60

    before = (Schedule.objects.count(), PlaybackReport.objects.count(),
              sorted(Station.objects.values_list("code", "contact_name")))
    call_command("seed_demo", samples=str(emergency_sample), force=True)
    assert (Schedule.objects.count(), PlaybackReport.objects.count(),
            sorted(Station.objects.values_list("code", "contact_name"))) == before
    assert selectors.confirmations(schedule, EVERYTHING).counts == live.counts

    page = signed_in(UserFactory(roles=["supervisor"])).get(f"/operations/emergency/{schedule.pk}/")
    assert page.status_code == 200 and b"tel:" in page.content
