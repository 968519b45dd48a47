"""The demo operators of create_demo_users: `canbo` (a district of the old map) and `canboxa` (units of
the two-level map), neither with admin access (the admin is not kept to their scope)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from rest_framework.test import APIClient

from stations.models import AdminUnit, CommuneOperator
from tests.factories import AdminUnitFactory, DistrictFactory, StationFactory

pytestmark = pytest.mark.django_db


def test_demo_commune_operator_is_tied_to_units_where_the_demo_district_has_stations(demo_settings):
    first = DistrictFactory(code="001")
    ba_dinh, ngoc_ha, other = (AdminUnitFactory(code="00004"), AdminUnitFactory(code="00008"),
                               AdminUnitFactory(code="00010"))
    AdminUnitFactory(code="00001", map=AdminUnit.Map.BEFORE_2025)
    StationFactory(code="S1", district=first, unit=ba_dinh)
    StationFactory(code="S2", district=first, unit=ngoc_ha)
    StationFactory(code="S3", district=DistrictFactory(code="002"), unit=other)

    call_command("create_demo_users")

    user = get_user_model().objects.get(username="canboxa")
    assert user.check_password("loa-demo-2026") and not user.is_staff
    assert sorted(user.commune_operator.units.values_list("code", flat=True)) == ["00004", "00008"]
    assert not get_user_model().objects.get(username="canbo").is_staff
    client = APIClient()
    client.force_authenticate(user)
    listed = {row["code"] for row in client.get("/api/v1/stations/").json()["results"]}
    assert listed == {"S1", "S2"}


def test_demo_commune_operator_before_the_units_are_imported_then_after(demo_settings):
    call_command("create_demo_users")
    link = CommuneOperator.objects.get(user__username="canboxa")
    assert not link.units.exists()

    AdminUnitFactory(code="00004", province_code="01")
    AdminUnitFactory(code="26734", province_code="79")
    call_command("create_demo_users")
    assert list(link.units.values_list("code", flat=True)) == ["00004"]

    chosen = AdminUnitFactory(code="00008")
    link.units.set([chosen])
    call_command("create_demo_users")
    assert list(link.units.values_list("code", flat=True)) == ["00008"]  # a person's choice is kept


def test_demo_operators_made_with_admin_access_lose_it(demo_settings):
    get_user_model().objects.create_user("canbo", password="x", is_staff=True)
    call_command("create_demo_users")
    assert not get_user_model().objects.get(username="canbo").is_staff
    assert get_user_model().objects.get(username="giamsat").is_staff
