"""Registry admin pages."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from broadcast.models import PlaylistItem
from broadcast.selectors.playlists import local_today
from broadcast.services.playlists import rebuild_playlists
from broadcast.services.schedules import create_schedule
from stations import services
from tests.factories import DistrictFactory, StationFactory, UserFactory, approved_bulletin

pytestmark = pytest.mark.django_db


def test_district_list_counts_stations_in_one_query_not_one_per_row(admin_client):
    def page_queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            resp = admin_client.get("/admin/stations/district/")
        assert resp.status_code == 200
        return len(ctx.captured_queries)

    StationFactory.create_batch(2, district=DistrictFactory())
    one_district = page_queries()
    for _ in range(5):
        StationFactory.create_batch(3, district=DistrictFactory())
    assert page_queries() == one_district
    resp = admin_client.get("/admin/stations/district/?o=5")  # sorted by the station count
    assert resp.status_code == 200
    assert b'<td class="field-station_total">3</td>' in resp.content


def _change_form(station, **changes) -> dict:
    """The station change form as the admin page posts it (no inline rows)."""
    data = {
        "code": station.code, "name": station.name, "kind": station.kind, "district": station.district_id,
        "admin_code": station.admin_code, "slots": json.dumps(station.slots),
        "credentials-TOTAL_FORMS": "0", "credentials-INITIAL_FORMS": "0",
        "status_changes-TOTAL_FORMS": "0", "status_changes-INITIAL_FORMS": "0",
    }
    if station.active:
        data["active"] = "on"
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


@pytest.mark.parametrize("slots", [
    [{"name": "sang", "start": "6h", "end": "06:30"}],
    [{"name": "sang", "start": "06:00"}],
    [{"name": "sang", "start": "07:00", "end": "06:30"}],
    [{"name": "now", "start": "06:00", "end": "06:30"}],  # the emergency slot's name
    "sang=06:00-06:30",
], ids=["bad-time", "missing-end", "end-before-start", "emergency-name", "not-a-list"])
def test_admin_refuses_a_malformed_slot_and_the_registry_keeps_working(admin_client, slots):
    station = StationFactory()
    before = station.slots

    resp = admin_client.post(f"/admin/stations/station/{station.pk}/change/",
                             _change_form(station, slots=json.dumps(slots)))

    assert resp.status_code == 200  # the form again, with the error, not a redirect
    assert resp.context["adminform"].form.errors["slots"]
    station.refresh_from_db()
    assert station.slots == before
    assert admin_client.get("/api/v1/stations/").status_code == 200
    call_command("export_registry", stdout=io.StringIO(), stderr=io.StringIO())


def test_the_station_model_validates_slots_with_the_registry_validator():
    station = StationFactory.build(district=DistrictFactory(),
                                   slots=[{"name": "now", "start": "06:00", "end": "06:30"}])
    with pytest.raises(ValidationError) as excinfo:
        station.full_clean()
    assert "slots" in excinfo.value.message_dict
    with pytest.raises(ValueError, match="now"):
        services.validate_slots([{"name": "now", "start": "06:00", "end": "06:30"}])


@pytest.mark.parametrize("edit", ["district", "kind", "code", "active", "slots"])
def test_an_admin_edit_that_changes_targeting_rebuilds_the_station_playlists(
        admin_client, django_capture_on_commit_callbacks, edit):
    home, elsewhere = DistrictFactory(), DistrictFactory()
    station = StationFactory(district=home, code="A-1")
    tomorrow = local_today() + dt.timedelta(days=1)
    targets = {"district": {"districts": [home.code]}, "kind": {"kinds": ["commune"]},
               "code": {"stations": ["A-1"]}, "active": {"all": True}, "slots": {"all": True}}[edit]
    create_schedule(approved_bulletin(), by=UserFactory(roles=["supervisor"]), start_date=tomorrow,
                    end_date=tomorrow, slots=["morning"], targets=targets)
    rebuild_playlists([station.pk], [tomorrow])
    assert PlaylistItem.objects.filter(playlist__station=station, position__isnull=False).count() == 1
    change = {"district": {"district": elsewhere.pk}, "kind": {"kind": "district_center"},
              "code": {"code": "A-2"}, "active": {"active": None},
              "slots": {"slots": json.dumps([{"name": "noon", "start": "11:00", "end": "11:30"}])}}[edit]

    with django_capture_on_commit_callbacks(execute=True):
        resp = admin_client.post(f"/admin/stations/station/{station.pk}/change/", _change_form(station, **change))

    assert resp.status_code == 302, resp.context["adminform"].form.errors if resp.context else resp
    assert not PlaylistItem.objects.filter(playlist__station=station, position__isnull=False).exists()


def test_a_district_code_edited_in_the_admin_rebuilds_its_stations(admin_client, django_capture_on_commit_callbacks):
    district = DistrictFactory(code="901")
    station = StationFactory(district=district)
    tomorrow = local_today() + dt.timedelta(days=1)
    create_schedule(approved_bulletin(), by=UserFactory(roles=["supervisor"]), start_date=tomorrow,
                    end_date=tomorrow, slots=["morning"], targets={"districts": ["901"]})
    rebuild_playlists([station.pk], [tomorrow])
    assert PlaylistItem.objects.filter(playlist__station=station, position__isnull=False).exists()

    with django_capture_on_commit_callbacks(execute=True):
        resp = admin_client.post(f"/admin/stations/district/{district.pk}/change/", {
            "code": "999", "name": district.name, "kind": district.kind, "province_code": district.province_code,
            "province_name": district.province_name})

    assert resp.status_code == 302
    assert not PlaylistItem.objects.filter(playlist__station=station, position__isnull=False).exists()
