"""Schedules targeting commune-level units of the two-level map (`targets.units`): validated, stored
normalized, counted, reaching the stations standing in those units now, following a station that
moves; and schedules targeting old districts keeping their stations when the map changes."""

from __future__ import annotations

import datetime as dt

import pytest

from broadcast.models import PlaylistItem, Schedule
from broadcast.selectors.playlists import local_today, target_station_ids
from broadcast.services.schedules import create_schedule
from stations.models import AdminUnit, Station
from stations.services import edit_station, remap_units
from tests.factories import (
    AdminUnitFactory,
    DistrictFactory,
    DistrictOperatorFactory,
    StationFactory,
    approved_bulletin,
)

URL = "/api/v1/schedules/"
def tomorrow() -> dt.date:
    return local_today() + dt.timedelta(days=1)

pytestmark = pytest.mark.django_db


def _body(bulletin, targets) -> dict:
    return {"bulletin": bulletin.pk, "start_date": tomorrow().isoformat(), "end_date": tomorrow().isoformat(),
            "slots": ["morning"], "targets": targets}


def _stations_with_plays_of(schedule: Schedule, date: dt.date | None = None) -> set[str]:
    return set(PlaylistItem.objects.filter(schedule=schedule, playlist__date=date or tomorrow())
               .values_list("playlist__station__code", flat=True))


def test_a_schedule_targeting_units_reaches_the_stations_standing_in_them(
        client_for, supervisor, django_capture_on_commit_callbacks):
    ba_dinh, hoan_kiem = AdminUnitFactory(code="00004", name="Phường Ba Đình"), AdminUnitFactory(code="00070")
    StationFactory(code="A1", unit=ba_dinh)
    StationFactory(code="A2", unit=ba_dinh)
    StationFactory(code="A3", unit=ba_dinh, active=False)
    StationFactory(code="B1", unit=hoan_kiem)
    StationFactory(code="C1")  # not linked to a new unit yet

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(supervisor).post(
            URL, _body(approved_bulletin(), {"units": ["00004", "00004"]}), format="json")

    assert response.status_code == 201, response.content
    data = response.json()
    assert data["targets"] == {"all": False, "districts": [], "units": ["00004"], "stations": [], "kinds": []}
    assert data["target_station_count"] == 2
    schedule = Schedule.objects.get(pk=data["id"])
    assert schedule.targets["units"] == ["00004"]
    assert _stations_with_plays_of(schedule) == {"A1", "A2"}


def test_unknown_or_old_map_unit_codes_are_refused_in_vietnamese(client_for, supervisor):
    AdminUnitFactory(code="00001", map=AdminUnit.Map.BEFORE_2025, name="Phường Phúc Xá")  # old map only
    AdminUnitFactory(code="00004")
    response = client_for(supervisor).post(
        URL, _body(approved_bulletin(), {"units": ["00004", "00001", "99999"]}), format="json")
    assert response.status_code == 400
    assert response.json()["targets"] == ["Không tìm thấy xã/phường: 00001, 99999."]
    bad = client_for(supervisor).post(URL, _body(approved_bulletin(), {"units": "00004"}), format="json")
    assert bad.status_code == 400 and "targets" in bad.json()
    assert not Schedule.objects.exists()


def test_an_empty_target_names_units_among_the_choices(client_for, supervisor):
    response = client_for(supervisor).post(URL, _body(approved_bulletin(), {"units": []}), format="json")
    assert response.status_code == 400
    assert "units" in response.json()["targets"][0]


def test_a_station_moved_to_another_unit_leaves_and_joins_unit_schedules(supervisor, django_capture_on_commit_callbacks):
    old_unit, new_unit = AdminUnitFactory(), AdminUnitFactory()
    moving = StationFactory(code="M1", unit=old_unit)
    StationFactory(code="M2", unit=old_unit)
    StationFactory(code="N1", unit=new_unit)
    with django_capture_on_commit_callbacks(execute=True):
        leaves = create_schedule(approved_bulletin(title="cũ"), by=supervisor, start_date=tomorrow(),
                                 end_date=tomorrow(), slots=["morning"], targets={"units": [old_unit.code]})
        joins = create_schedule(approved_bulletin(title="mới"), by=supervisor, start_date=tomorrow(),
                                end_date=tomorrow(), slots=["morning"], targets={"units": [new_unit.code]})
    assert _stations_with_plays_of(leaves) == {"M1", "M2"}
    assert _stations_with_plays_of(joins) == {"N1"}

    with django_capture_on_commit_callbacks(execute=True):
        edit_station(Station.objects.get(pk=moving.pk), {"unit": new_unit})

    assert _stations_with_plays_of(leaves) == {"M2"}
    assert _stations_with_plays_of(joins) == {"M1", "N1"}
    assert sorted(target_station_ids(leaves.targets)) == [Station.objects.get(code="M2").pk]


def test_schedule_targeting_a_district_keeps_its_stations_after_they_are_linked_to_new_units(
        client_for, supervisor, django_capture_on_commit_callbacks):
    """A district names where stations stood on the map before 1 July 2025, which a re-mapping never
    changes: linking the stations to units of the two-level map (even units reaching into another old
    district) leaves the schedule's stations, its playlists and its operators as they were."""
    tay_ho, other = DistrictFactory(code="003"), DistrictFactory(code="004")
    operator = DistrictOperatorFactory(district=tay_ho).user
    stations = [StationFactory(code=f"TH{n}", district=tay_ho) for n in range(3)]
    StationFactory(code="X1", district=other)
    with django_capture_on_commit_callbacks(execute=True):
        schedule = create_schedule(approved_bulletin(), by=supervisor, start_date=tomorrow(), end_date=tomorrow(),
                                   slots=["morning"], targets={"districts": [tay_ho.code]})
    before_ids, before_plays = target_station_ids(schedule.targets), _stations_with_plays_of(schedule)
    assert before_plays == {"TH0", "TH1", "TH2"}

    # The new map: TH0 and TH1 merge into one unit with X1 (another old district), TH2 into another.
    merged, split = AdminUnitFactory(code="00091"), AdminUnitFactory(code="00092")
    with django_capture_on_commit_callbacks(execute=True):
        for station, unit in ((stations[0], merged), (stations[1], merged), (stations[2], split)):
            edit_station(Station.objects.get(pk=station.pk), {"unit": unit})
        edit_station(Station.objects.get(code="X1"), {"unit": merged})

    assert set(Station.objects.filter(code__startswith="TH").values_list("district__code", flat=True)) == {"003"}
    assert target_station_ids(schedule.targets) == before_ids
    assert _stations_with_plays_of(schedule) == before_plays
    listed = client_for(operator).get(URL).json()["results"]
    assert [row["id"] for row in listed] == [schedule.pk]
    assert client_for(supervisor).get(URL, {"unit": merged.code}).json()["results"][0]["id"] == schedule.pk


def test_schedule_list_filter_by_unit(client_for, supervisor):
    u, v = AdminUnitFactory(), AdminUnitFactory()
    su, sv = StationFactory(unit=u), StationFactory(unit=v)
    by_unit = create_schedule(approved_bulletin(), by=supervisor, start_date=tomorrow(), end_date=tomorrow(),
                              slots=["morning"], targets={"units": [u.code]})
    by_station = create_schedule(approved_bulletin(), by=supervisor, start_date=tomorrow(), end_date=tomorrow(),
                                 slots=["morning"], targets={"stations": [su.code]})
    elsewhere = create_schedule(approved_bulletin(), by=supervisor, start_date=tomorrow(), end_date=tomorrow(),
                                slots=["morning"], targets={"stations": [sv.code]})
    everyone = create_schedule(approved_bulletin(), by=supervisor, start_date=tomorrow(), end_date=tomorrow(),
                               slots=["morning"], targets={"all": True})

    listed = client_for(supervisor).get(URL, {"unit": u.code}).json()["results"]

    assert sorted(row["id"] for row in listed) == sorted([by_unit.pk, by_station.pk, everyone.pk])
    assert elsewhere.pk not in [row["id"] for row in listed]
    assert client_for(supervisor).get(URL, {"unit": "KHONG-CO"}).status_code == 404


def test_the_openapi_schema_documents_targets_units_and_the_unit_filter(client_for, supervisor):
    schema = client_for(supervisor).get("/api/schema/", {"format": "json"}).json()
    targets = schema["components"]["schemas"]["Targets"]["properties"]
    assert "units" in targets and "bản đồ hai cấp" in targets["units"]["description"]
    params = {p["name"] for p in schema["paths"]["/api/v1/schedules/"]["get"]["parameters"]}
    assert {"unit", "district"} <= params


def test_remapping_hanoi_to_the_two_level_map_keeps_district_schedules_and_feeds_unit_schedules(
        client_for, supervisor, django_capture_on_commit_callbacks):
    """The real re-mapping (remap_units, Hà Nội): Phúc Xá and Trúc Bạch (old district Ba Đình, 001)
    become units of the two-level map; a schedule naming district 001 keeps both stations, and one
    naming the new unit of Phúc Xá reaches it from then on."""
    ba_dinh = DistrictFactory(code="001", name="Quận Ba Đình")
    phuc_xa = StationFactory(code="00001", admin_code="00001", district=ba_dinh)
    truc_bach = StationFactory(code="00004", admin_code="00004", district=ba_dinh)
    with django_capture_on_commit_callbacks(execute=True):
        by_district = create_schedule(approved_bulletin(), by=supervisor, start_date=tomorrow(), end_date=tomorrow(),
                                      slots=["morning"], targets={"districts": ["001"]})
    assert _stations_with_plays_of(by_district) == {"00001", "00004"}

    with django_capture_on_commit_callbacks(execute=True):
        remap_units(1)

    phuc_xa.refresh_from_db()
    truc_bach.refresh_from_db()
    assert phuc_xa.unit is not None and truc_bach.unit is not None
    assert phuc_xa.district_id == truc_bach.district_id == ba_dinh.pk
    assert _stations_with_plays_of(by_district) == {"00001", "00004"}
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(supervisor).post(URL, _body(approved_bulletin(), {"units": [phuc_xa.unit.code]}),
                                               format="json")
    assert response.status_code == 201, response.content
    reached = _stations_with_plays_of(Schedule.objects.get(pk=response.json()["id"]))
    assert "00001" in reached
    assert ("00004" in reached) == (truc_bach.unit_id == phuc_xa.unit_id)
