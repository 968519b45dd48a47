"""The demo station operator of create_demo_users: `nhanvien`, tied to a station of the demo commune
operator's units that has broadcast slots, without admin access; the supervisor manages the tie."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from stations.models import StationOperator
from tests.factories import AdminUnitFactory, DistrictFactory, StationFactory

pytestmark = pytest.mark.django_db


def test_demo_station_operator_runs_a_station_with_slots_in_the_demo_commune_operators_units(demo_settings):
    first = DistrictFactory(code="001")
    ba_dinh, elsewhere = AdminUnitFactory(code="00004"), AdminUnitFactory(code="00010")
    StationFactory(code="A0", district=DistrictFactory(code="002"), unit=elsewhere)  # first by code, not theirs
    StationFactory(code="S1", district=first, unit=ba_dinh, slots=[])  # no slots: nothing to air
    StationFactory(code="S2", district=first, unit=ba_dinh, active=False)
    StationFactory(code="S3", district=first, unit=ba_dinh)

    out = __import__("io").StringIO()
    call_command("create_demo_users", stdout=out)

    user = get_user_model().objects.get(username="nhanvien")
    assert user.check_password("loa-demo-2026") and not user.is_staff
    assert user.groups.filter(name="station_operator").exists()
    assert user.station_operator.station.code == "S3"
    assert "nhanvien" in out.getvalue() and "Nhân viên đài" in out.getvalue()
    canboxa_units = get_user_model().objects.get(username="canboxa").commune_operator.units
    assert canboxa_units.filter(pk=ba_dinh.pk).exists()


def test_demo_station_operator_before_the_registry_then_after_and_a_choice_is_kept(demo_settings):
    call_command("create_demo_users")
    assert not StationOperator.objects.exists()

    StationFactory(code="S9")
    call_command("create_demo_users")
    link = StationOperator.objects.get(user__username="nhanvien")
    assert link.station.code == "S9"

    chosen = StationFactory(code="S1")
    link.station = chosen
    link.save()
    call_command("create_demo_users")
    assert StationOperator.objects.get(user__username="nhanvien").station.code == "S1"


def test_a_supervisor_ties_a_person_to_a_station_in_the_admin(demo_settings, client):
    station = StationFactory(code="S5")
    call_command("create_demo_users")
    StationOperator.objects.all().delete()
    nhanvien = get_user_model().objects.get(username="nhanvien")
    client.force_login(get_user_model().objects.get(username="giamsat"))

    form = client.get("/admin/stations/stationoperator/add/")
    assert form.status_code == 200
    assert "nhanvien" in form.content.decode() and "bientap" not in form.content.decode()
    response = client.post("/admin/stations/stationoperator/add/", {"user": nhanvien.pk, "station": station.pk})
    assert response.status_code == 302
    assert StationOperator.objects.get(user=nhanvien).station == station
    assert client.get("/admin/stations/stationoperator/").status_code == 200
