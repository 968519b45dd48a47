"""A station's unit of the two-level map in the CSV, the admin and the API: a person's decision is
remembered (a re-import keeps it) and goes through the edit service."""

from __future__ import annotations

import io
import json

import pytest

from stations import services
from stations.models import AdminUnit, District, Station
from tests.factories import AdminUnitFactory, StationFactory

pytestmark = pytest.mark.django_db

HEADER = "code,name,kind,district_code,district_name,admin_code,slots,active"


def _csv(*lines: str, header: str = HEADER) -> io.StringIO:
    return io.StringIO("\n".join([header, *lines]) + "\n")


def _split_station() -> tuple[Station, AdminUnit, AdminUnit]:
    first = AdminUnitFactory(code="00008", name="Phường Ngọc Hà")
    second = AdminUnitFactory(code="00004", name="Phường Ba Đình")
    station = StationFactory(code="00016", unit=first, unit_choices=["00008", "00004"])
    return station, first, second


def test_csv_unit_columns_round_trip():
    station, first, second = _split_station()
    StationFactory(code="A2", unit=second, edited_fields=["unit"])
    StationFactory(code="A3")  # no unit
    exported = services.export_csv_text(Station.objects.select_related("district", "unit").order_by("code"))
    header, *lines = exported.splitlines()
    assert header.endswith("active,unit_code,unit_confirmed,unit_name")
    assert lines[0].endswith(",00008,false,Phường Ngọc Hà")
    assert lines[1].endswith(",00004,true,Phường Ba Đình") and lines[2].endswith(",,false,")
    snapshot = sorted(Station.objects.values_list("code", "unit__code", "edited_fields"))

    Station.objects.all().delete()
    counts = services.import_rows(services.rows_from_csv(io.StringIO(exported)))

    assert counts.stations_created == 3
    assert sorted(Station.objects.values_list("code", "unit__code", "edited_fields")) == snapshot


def test_csv_unit_confirmed_records_a_persons_decision_that_a_later_source_row_keeps():
    station, first, second = _split_station()
    row = f"00016,Đài,commune,{station.district.code},{station.district.name},00016,,true"
    services.import_rows(services.rows_from_csv(_csv(row + ",4,có", header=HEADER + ",unit_code,unit_confirmed")))
    station.refresh_from_db()
    assert station.unit == second and station.unit_confirmed  # "4": a spreadsheet dropped the zeros

    counts = services.import_rows(services.rows_from_csv(_csv(row + ",00008,không",
                                                              header=HEADER + ",unit_code,unit_confirmed")))
    station.refresh_from_db()
    assert station.unit == second and counts.units_kept == 1


def test_an_old_csv_without_unit_columns_leaves_units_alone():
    station, first, _ = _split_station()
    row = f"00016,Đài mới,commune,{station.district.code},{station.district.name},00016,,true"
    services.import_rows(services.rows_from_csv(_csv(row)))
    station.refresh_from_db()
    assert (station.name, station.unit, station.unit_choices) == ("Đài mới", first, ["00008", "00004"])


@pytest.mark.parametrize(("cells", "expected"), [
    (",99999,", "dòng 2: không có xã/phường mã '99999' trên bản đồ từ 01/07/2025"),
    (",00008,có lẽ", "dòng 2: giá trị unit_confirmed không hợp lệ"),
    (",,true", "dòng 2: unit_confirmed cần mã xã/phường"),
], ids=["unknown-unit", "bad-confirmed", "confirmed-without-unit"])
def test_a_bad_unit_cell_is_a_line_error_and_nothing_is_written(cells, expected):
    AdminUnitFactory(code="00008")
    AdminUnitFactory(map=AdminUnit.Map.BEFORE_2025, code="99999")  # the old map's codes do not count
    with pytest.raises(services.RegistryError) as excinfo:
        services.import_rows(services.rows_from_csv(_csv(
            "A1,Đài A,commune,001,Quận Ba Đình,00001,,true" + cells, header=HEADER + ",unit_code,unit_confirmed")))
    assert any(expected in error for error in excinfo.value.errors), excinfo.value.errors
    assert not Station.objects.exists() and not District.objects.exists()


def test_api_patch_moves_confirms_and_refuses_in_vietnamese(client_for, supervisor):
    station, first, second = _split_station()
    client = client_for(supervisor)
    url = "/api/v1/stations/00016/"

    body = client.get(url).json()
    assert body["unit"] == {"code": "00008", "name": "Phường Ngọc Hà"}
    assert body["unit_choices"] == [{"code": "00008", "name": "Phường Ngọc Hà"},
                                    {"code": "00004", "name": "Phường Ba Đình"}]
    assert (body["unit_confirmed"], body["needs_unit_decision"]) == (False, True)

    response = client.patch(url, {"unit": "12345"}, format="json")
    assert response.status_code == 400 and "Không có xã/phường mã 12345" in response.json()["unit"][0]

    response = client.patch(url, {"unit_confirmed": True}, format="json")
    assert response.status_code == 200
    assert (response.json()["unit"]["code"], response.json()["unit_confirmed"]) == ("00008", True)
    station.refresh_from_db()
    assert station.edited_fields == ["unit"] and station.unit == first

    unlinked = StationFactory(code="A9")
    response = client.patch("/api/v1/stations/A9/", {"unit_confirmed": True}, format="json")
    assert response.status_code == 400 and "unit_confirmed" in response.json()
    unlinked.refresh_from_db()
    assert unlinked.edited_fields == []


def test_a_unit_moved_through_the_api_rebuilds_the_station(client_for, supervisor, django_capture_on_commit_callbacks):
    from stations.signals import stations_changed

    station, first, second = _split_station()
    seen = []

    def listener(sender, station_ids, **kwargs):
        seen.extend(station_ids)

    stations_changed.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = client_for(supervisor).patch("/api/v1/stations/00016/", {"unit": "00004"}, format="json")
    finally:
        stations_changed.disconnect(listener)
    assert response.status_code == 200
    assert seen == [station.pk]


def test_station_list_filters_by_unit_and_pending_decision(client_for, supervisor):
    station, first, second = _split_station()
    StationFactory(code="B1", unit=second, unit_choices=["00004"])
    StationFactory(code="B2", unit=first, unit_choices=["00008", "00004"], edited_fields=["unit"])
    client = client_for(supervisor)

    def codes(query: str) -> list[str]:
        response = client.get(f"/api/v1/stations/?{query}")
        assert response.status_code == 200, response.json()
        return sorted(row["code"] for row in response.json()["results"])

    assert codes("needs_unit_decision=true") == ["00016"]
    assert codes("needs_unit_decision=false") == ["B1", "B2"]
    assert codes("unit=00008") == ["00016", "B2"]


def test_unit_list_filters_searches_without_diacritics_and_counts_stations(client_for, supervisor, district_operator):
    _split_station()
    AdminUnitFactory(map=AdminUnit.Map.BEFORE_2025, code="00001", name="Phường Phúc Xá", valid_from=None)
    response = client_for(supervisor).get("/api/v1/units/?search=ngoc ha")
    assert response.status_code == 200
    (row,) = response.json()["results"]
    assert (row["code"], row["name"], row["station_count"], row["map"]) == ("00008", "Phường Ngọc Hà", 1, "since_2025")
    response = client_for(district_operator).get("/api/v1/units/?map=before_2025")
    assert [r["code"] for r in response.json()["results"]] == ["00001"]
    response = client_for(supervisor).get("/api/v1/units/?search=" + "+".join(["a"] * 21))
    assert response.status_code == 400 and "20 từ" in response.json()["search"][0]


def _admin_form(station: Station, **changes) -> dict:
    data = {
        "code": station.code, "name": station.name, "kind": station.kind, "district": station.district_id,
        "admin_code": station.admin_code, "slots": json.dumps(station.slots), "active": "on",
        "unit": station.unit_id or "",
        "credentials-TOTAL_FORMS": "0", "credentials-INITIAL_FORMS": "0",
        "status_changes-TOTAL_FORMS": "0", "status_changes-INITIAL_FORMS": "0",
    }
    data.update(changes)
    return data


def test_admin_unit_edit_is_remembered_and_the_action_confirms_the_current_unit(admin_client):
    station, first, second = _split_station()
    other = StationFactory(code="C1", unit=first, unit_choices=["00008", "00004"])

    response = admin_client.post(f"/admin/stations/station/{station.pk}/change/", _admin_form(station, unit=second.pk))
    assert response.status_code == 302
    station.refresh_from_db()
    assert station.unit == second and station.unit_confirmed

    response = admin_client.get("/admin/stations/station/?needs_unit_decision=yes")
    assert list(response.context["cl"].queryset) == [other]

    response = admin_client.post("/admin/stations/station/", {
        "action": "confirm_current_unit", "_selected_action": [other.pk]}, follow=True)
    assert "Đã xác nhận xã/phường của 1 đài." in response.content.decode()
    other.refresh_from_db()
    assert other.unit == first and other.edited_fields == ["unit"]


def test_admin_unit_autocomplete_offers_only_the_new_maps_communes_found_without_diacritics(admin_client):
    _split_station()
    AdminUnitFactory(map=AdminUnit.Map.BEFORE_2025, code="00016", name="Phường Ngọc Hà", valid_from=None)
    response = admin_client.get("/admin/autocomplete/", {
        "term": "ngoc ha", "app_label": "stations", "model_name": "station", "field_name": "unit"})
    assert response.status_code == 200
    assert [r["text"] for r in response.json()["results"]] == ["Phường Ngọc Hà"]
    assert admin_client.get("/admin/stations/adminunit/?q=ba+dinh").status_code == 200
    assert admin_client.get("/admin/stations/communeoperator/add/").status_code == 200


def test_naming_the_current_unit_through_the_api_confirms_it(client_for, supervisor):
    station, first, _ = _split_station()
    response = client_for(supervisor).patch("/api/v1/stations/00016/", {"unit": "00008"}, format="json")
    assert response.status_code == 200
    assert (response.json()["unit_confirmed"], response.json()["needs_unit_decision"]) == (True, False)
    station.refresh_from_db()
    assert station.unit == first and station.edited_fields == ["unit"]
