import io
import json

import pytest
from vietnam_provinces.legacy import District as VpDistrict
from vietnam_provinces.legacy import ProvinceCode, Ward

from stations import services
from stations.models import District, Station


def _package_counts(province: int) -> tuple[int, int]:
    districts = list(VpDistrict.iter_by_province(ProvinceCode(province)))
    wards = sum(len(list(Ward.iter_by_district(d.code))) for d in districts)
    return len(districts), wards


@pytest.mark.django_db
def test_hanoi_import_creates_one_station_per_commune_and_per_district_center():
    n_districts, n_wards = _package_counts(1)
    counts = services.import_rows(services.rows_from_package(1))
    assert (n_districts, n_wards) == (30, 526)
    assert counts.districts_created == District.objects.count() == n_districts
    assert Station.objects.filter(kind="commune").count() == n_wards
    assert Station.objects.filter(kind="district_center").count() == n_districts
    assert counts.stations_created == n_wards + n_districts == 556
    phuc_xa = Station.objects.get(admin_code="00001", kind="commune")
    assert phuc_xa.district.name == "Quận Ba Đình"
    assert phuc_xa.slots == [
        {"name": "morning", "start": "06:00", "end": "06:30"},
        {"name": "evening", "start": "17:00", "end": "17:30"},
    ]


@pytest.mark.django_db
def test_reimport_changes_nothing():
    services.import_rows(services.rows_from_package(1))
    before = list(Station.objects.order_by("pk").values("pk", "code", "name", "updated_at"))
    counts = services.import_rows(services.rows_from_package(1))
    assert (counts.stations_created, counts.stations_updated, counts.districts_created) == (0, 0, 0)
    assert counts.stations_unchanged == 556
    assert list(Station.objects.order_by("pk").values("pk", "code", "name", "updated_at")) == before


@pytest.mark.django_db
def test_reimport_updates_in_place_by_official_code():
    services.import_rows(services.rows_from_package(1))
    station = Station.objects.get(admin_code="00001", kind="commune")
    Station.objects.filter(pk=station.pk).update(name="Tên cũ", code="OLD-1")
    counts = services.import_rows(services.rows_from_package(1))
    assert counts.stations_updated == 1 and counts.stations_created == 0
    station.refresh_from_db()
    assert station.code == "00001" and station.name == "Đài truyền thanh Phường Phúc Xá"
    assert Station.objects.count() == 556


@pytest.mark.django_db
def test_active_option_chooses_which_stations_start_active():
    services.import_rows(services.rows_from_package(1, active="district_centers"))
    assert not Station.objects.filter(kind="commune", active=True).exists()
    assert Station.objects.filter(kind="district_center", active=True).count() == 30


def test_unknown_province_is_refused():
    with pytest.raises(services.RegistryError, match="999"):
        services.rows_from_package(999)


@pytest.mark.django_db
def test_csv_round_trip_reproduces_the_registry():
    services.import_rows(services.rows_from_package(1))
    Station.objects.filter(code="00001").update(
        slots=[{"name": "noon", "start": "11:00", "end": "11:15"}], active=False
    )
    exported = services.export_csv_text(Station.objects.select_related("district").order_by("code"))
    snapshot = sorted(Station.objects.values_list("code", "name", "kind", "district__code", "admin_code", "slots", "active"))
    Station.objects.all().delete()
    District.objects.all().delete()
    counts = services.import_rows(services.rows_from_csv(io.StringIO(exported)))
    assert counts.stations_created == 556
    assert sorted(Station.objects.values_list("code", "name", "kind", "district__code", "admin_code", "slots", "active")) == snapshot


GOOD_HEADER = "code,name,kind,district_code,district_name,admin_code,slots,active\n"
GOOD_ROW = "A1,Đài A,commune,001,Quận Ba Đình,00001,morning=06:00-06:30,true\n"


@pytest.mark.parametrize(
    ("csv_text", "expected"),
    [
        ("code,name,kind,district_code,admin_code,slots,active\n" + GOOD_ROW, "dòng 1: thiếu cột district_name"),
        (GOOD_HEADER + GOOD_ROW + "B1,Đài B,village,001,Quận Ba Đình,00002,,true\n", "dòng 3: loại đài không hợp lệ"),
        (GOOD_HEADER + GOOD_ROW + "A1,Đài C,commune,001,Quận Ba Đình,00003,,true\n", "dòng 3: mã đài A1 trùng với dòng 2"),
        (GOOD_HEADER + GOOD_ROW + "C1,Đài C,commune,001,Quận Ba Đình,00003,morning=25:00-26:00,true\n",
         "dòng 3: giờ không hợp lệ"),
        (GOOD_HEADER + "D1,Đài D,commune,001,Quận Ba Đình,00004,evening=17:30-17:00,true\n",
         "dòng 2: khung giờ evening: giờ kết thúc phải sau giờ bắt đầu"),
    ],
    ids=["missing-column", "unknown-kind", "duplicate-code", "bad-slot-time", "slot-end-before-start"],
)
@pytest.mark.django_db
def test_bad_csv_is_refused_with_line_numbers_and_imports_nothing(csv_text, expected):
    with pytest.raises(services.RegistryError) as excinfo:
        services.import_rows(services.rows_from_csv(io.StringIO(csv_text)))
    assert any(expected in error for error in excinfo.value.errors), excinfo.value.errors
    assert Station.objects.count() == 0 and District.objects.count() == 0


@pytest.mark.django_db
def test_import_command_exits_non_zero_with_one_readable_line_on_bad_csv(tmp_path):
    from django.core.management import CommandError, call_command

    bad = tmp_path / "bad.csv"
    bad.write_text(GOOD_HEADER + "X,Đài X,village,001,Quận,1,,true\n", encoding="utf-8")
    with pytest.raises(CommandError, match="1 lỗi"):
        call_command("import_registry", csv=bad, stderr=io.StringIO())
    assert Station.objects.count() == 0


@pytest.mark.django_db
def test_import_command_prints_counts():
    from django.core.management import call_command

    out = io.StringIO()
    call_command("import_registry", stdout=out, stderr=io.StringIO())
    assert "Quận/huyện: tạo mới 30" in out.getvalue()
    assert "Đài: tạo mới 556" in out.getvalue()


@pytest.mark.django_db
def test_verbose_import_progress_ends_its_line(tmp_path):
    from django.core.management import call_command

    good = tmp_path / "good.csv"
    good.write_text(GOOD_HEADER + "X1,Đài X1,commune,001,Quận,1,,true\n", encoding="utf-8")
    err = io.StringIO()
    call_command("import_registry", csv=good, verbosity=2, stdout=io.StringIO(), stderr=err)
    assert err.getvalue() == "\r  1/1 đài\n"  # not left open for the next output to run into


def _write_csv(path, *, name="Đài A", district="001", code="A1", slots="morning=06:00-06:30", active="true"):
    path.write_text(GOOD_HEADER + f"{code},{name},commune,{district},Quận {district},00001,{slots},{active}\n",
                    encoding="utf-8")
    return path


@pytest.mark.django_db
def test_reimport_updates_names_but_keeps_a_supervisors_slot_and_active_edits_unless_reset(tmp_path, admin_client):
    from django.core.management import call_command

    source = _write_csv(tmp_path / "r.csv")
    call_command("import_registry", csv=source, stdout=io.StringIO(), stderr=io.StringIO())
    station = Station.objects.get(code="A1")
    edited = [{"name": "noon", "start": "11:00", "end": "11:15"}]
    resp = admin_client.post(f"/admin/stations/station/{station.pk}/change/", {
        "code": "A1", "name": station.name, "kind": "commune", "district": station.district_id,
        "admin_code": "00001", "slots": json.dumps(edited),  # and "active" left unticked
        "credentials-TOTAL_FORMS": "0", "credentials-INITIAL_FORMS": "0",
        "status_changes-TOTAL_FORMS": "0", "status_changes-INITIAL_FORMS": "0",
    })
    assert resp.status_code == 302

    call_command("import_registry", csv=_write_csv(source, name="Đài A (mới)"), stdout=io.StringIO(),
                 stderr=io.StringIO())
    station.refresh_from_db()
    assert station.name == "Đài A (mới)"
    assert (station.slots, station.active) == (edited, False)  # the supervisor's edits survive

    call_command("import_registry", csv=source, reset=True, stdout=io.StringIO(), stderr=io.StringIO())
    station.refresh_from_db()
    assert station.slots == [{"name": "morning", "start": "06:00", "end": "06:30"}] and station.active is True


@pytest.mark.django_db
@pytest.mark.parametrize("change", [{"district": "002"}, {"code": "A2"}])
def test_an_import_that_moves_or_renames_a_station_rebuilds_its_playlists(
        tmp_path, django_capture_on_commit_callbacks, change):
    import datetime as dt

    from broadcast.models import PlaylistItem
    from broadcast.selectors.playlists import local_today
    from broadcast.services.playlists import rebuild_playlists
    from broadcast.services.schedules import create_schedule
    from tests.factories import UserFactory, approved_bulletin

    services.import_rows(services.rows_from_csv(_write_csv(tmp_path / "r.csv").open(encoding="utf-8")))
    station = Station.objects.get(code="A1")
    tomorrow = local_today() + dt.timedelta(days=1)
    create_schedule(approved_bulletin(), by=UserFactory(roles=["supervisor"]), start_date=tomorrow,
                    end_date=tomorrow, slots=["morning"], targets={"districts": ["001"]} if "district" in change else {"stations": ["A1"]})
    rebuild_playlists([station.pk], [tomorrow])
    assert PlaylistItem.objects.filter(playlist__station=station, position__isnull=False).count() == 1

    with django_capture_on_commit_callbacks(execute=True):
        services.import_rows(services.rows_from_csv(_write_csv(tmp_path / "r2.csv", **change).open(encoding="utf-8")))

    assert not PlaylistItem.objects.filter(playlist__station=station, position__isnull=False).exists()
