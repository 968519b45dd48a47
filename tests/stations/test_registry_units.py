"""import_registry builds the units of both maps of a province of the two-level map and links every station
to its unit of the new map (the 2025 conversion table); split communes await a person's decision."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command
from vietnam_provinces._ward_conversion_2025 import OLD_TO_NEW

from stations import services
from stations.models import AdminUnit, District, Station
from stations.names import bare_name, carries, fold

NEW, OLD = AdminUnit.Map.SINCE_2025, AdminUnit.Map.BEFORE_2025


def _import(province: int = 1, **kwargs) -> services.ImportCounts:
    registry = services.registry_from_package(province)
    return services.import_rows(registry.rows, units=registry.units, **kwargs)


def _units(map_: str, level: str, **filters) -> int:
    return AdminUnit.objects.filter(map=map_, level=level, **filters).count()


def test_names_are_compared_without_type_diacritics_or_case():
    assert fold("Phường Đồng Xuân") == "phuong dong xuan"
    assert bare_name("Thị trấn Đông Anh") == bare_name("Xã Đông Anh") == "dong anh"
    assert carries("Phường Ba Đình", "Quận Ba Đình")
    assert carries("Phường Văn Miếu - Quốc Tử Giám", "Phường Văn Miếu")
    assert not carries("Phường 12", "Phường 1")


@pytest.mark.django_db
def test_hanoi_import_builds_both_maps_and_links_every_station():
    out = io.StringIO()
    call_command("import_registry", stdout=out, stderr=io.StringIO())

    assert _units(NEW, "province", code="01") == 1
    assert _units(NEW, "commune", province_code="01") == 126
    assert _units(OLD, "province", code="01") == 1
    assert _units(OLD, "commune", province_code="01") == 526
    assert District.objects.count() == 30
    assert Station.objects.count() == 556 and not Station.objects.filter(unit__isnull=True).exists()
    ba_dinh = AdminUnit.objects.get(map=NEW, level="commune", code="00004")
    assert (ba_dinh.name, ba_dinh.division_type, ba_dinh.parent.code, str(ba_dinh.valid_from)) == (
        "Phường Ba Đình", "phường", "01", "2025-07-01")
    phuc_xa = AdminUnit.objects.get(map=OLD, level="commune", code="00001")
    assert (phuc_xa.district.code, phuc_xa.parent.map, str(phuc_xa.valid_until)) == ("001", OLD, "2025-06-30")

    partly = sum(1 for e in OLD_TO_NEW.values() if e.old_ward.province_code == 1 and e.old_ward.is_partly_merged)
    split = sum(1 for e in OLD_TO_NEW.values() if e.old_ward.province_code == 1 and len(e.new_wards) > 1)
    assert (partly, split) == (199, 198)  # one partly merged commune has a single new unit in the table
    assert Station.objects.filter(kind="commune", admin_code__in=[
        f"{c:05d}" for c, e in OLD_TO_NEW.items() if e.old_ward.province_code == 1 and len(e.new_wards) > 1
    ]).count() == 198
    text = out.getvalue()
    assert "tạo mới 2 tỉnh/thành, 652 xã/phường" in text
    assert "Gắn xã/phường mới: 556 đài" in text
    assert "Cần người xác nhận xã/phường: 200 đài" in text  # 198 split communes, 2 district centres
    assert "remap_units --confirm" in text


@pytest.mark.django_db
def test_a_split_commune_gets_the_unit_named_like_it_and_awaits_a_decision():
    counts = _import()

    # Phường Ngọc Hà went to Ba Đình and Ngọc Hà (table order): the one carrying its name comes first.
    ngoc_ha = Station.objects.select_related("unit").get(kind="commune", admin_code="00016")
    assert ngoc_ha.unit.name == "Phường Ngọc Hà"
    assert ngoc_ha.unit_choices == ["00008", "00004"]
    assert ngoc_ha.needs_unit_decision() and "00016" in counts.needing_decision
    # No candidate carries "Cống Vị": the table's first.
    cong_vi = Station.objects.select_related("unit").get(kind="commune", admin_code="00007")
    assert cong_vi.unit.code == "00008" and cong_vi.unit_choices == ["00008", "00025"]
    # A commune merged whole (Phúc Xá, into Hồng Hà): one candidate, nothing to decide.
    phuc_xa = Station.objects.get(kind="commune", admin_code="00001")
    assert phuc_xa.unit_choices == ["00097"] and not phuc_xa.needs_unit_decision()
    # A district centre goes to the unit named like its district.
    centre = Station.objects.select_related("unit").get(code="TTVH-017")
    assert centre.unit.name == "Xã Đông Anh" and centre.unit_choices == [centre.unit.code]
    # None named like Nam Từ Liêm: the candidates, most-receiving first, await a decision.
    nam_tu_liem = Station.objects.get(code="TTVH-019")
    assert len(nam_tu_liem.unit_choices) > 1 and nam_tu_liem.needs_unit_decision()


@pytest.mark.django_db
def test_a_second_import_changes_nothing():
    _import()
    before = list(Station.objects.order_by("pk").values("pk", "unit_id", "unit_choices", "updated_at"))
    units_before = list(AdminUnit.objects.order_by("pk").values())

    counts = _import()

    assert (counts.stations_created, counts.stations_updated, counts.districts_created) == (0, 0, 0)
    assert (sum(counts.units.created.values()), sum(counts.units.updated.values()), counts.stations_linked) == (0, 0, 0)
    assert list(Station.objects.order_by("pk").values("pk", "unit_id", "unit_choices", "updated_at")) == before
    assert list(AdminUnit.objects.order_by("pk").values()) == units_before


@pytest.mark.django_db
def test_a_unit_a_person_chose_is_kept_by_a_reimport_and_overwritten_with_reset(client_for, supervisor, admin_client):
    _import()
    response = client_for(supervisor).patch("/api/v1/stations/00016/", {"unit": "00004"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["unit"] == {"code": "00004", "name": "Phường Ba Đình"}
    assert response.json()["unit_confirmed"] is True and response.json()["needs_unit_decision"] is False
    cong_vi = Station.objects.get(code="00007")  # Ngọc Hà by default; Giảng Võ chosen in the admin
    giang_vo = AdminUnit.objects.get(map=NEW, level="commune", code="00025")
    response = admin_client.post(f"/admin/stations/station/{cong_vi.pk}/change/", {
        "code": cong_vi.code, "name": cong_vi.name, "kind": cong_vi.kind, "district": cong_vi.district_id,
        "admin_code": cong_vi.admin_code, "slots": json.dumps(cong_vi.slots), "active": "on", "unit": giang_vo.pk,
        "credentials-TOTAL_FORMS": "0", "credentials-INITIAL_FORMS": "0",
        "status_changes-TOTAL_FORMS": "0", "status_changes-INITIAL_FORMS": "0"})
    assert response.status_code == 302

    counts = _import()
    assert dict(Station.objects.filter(code__in=["00016", "00007"]).values_list("code", "unit__code")) == {
        "00016": "00004", "00007": "00025"}
    assert counts.units_kept == 2 and counts.stations_updated == 0

    _import(reset=True)
    assert dict(Station.objects.filter(code__in=["00016", "00007"]).values_list("code", "unit__code")) == {
        "00016": "00008", "00007": "00008"}
    assert not Station.objects.filter(edited_fields__icontains="unit").exists()


@pytest.mark.django_db
def test_another_province_brings_the_old_provinces_merged_into_it():
    counts = _import(79)

    # Hồ Chí Minh since 2025: the old city, Bình Dương and Bà Rịa - Vũng Tàu.
    assert _units(NEW, "commune", province_code="79") == 168
    assert set(AdminUnit.objects.filter(map=OLD, level="province").values_list("code", flat=True)) == {
        "74", "77", "79"}
    old_communes = _units(OLD, "commune")
    assert old_communes == Station.objects.filter(kind="commune").count() == 441
    assert Station.objects.filter(kind="district_center").count() == District.objects.count() == 38
    # Seven old wards the conversion table does not know stay without a unit, said so.
    assert len(counts.without_unit) == 7 and Station.objects.filter(unit__isnull=True).count() == 7
    assert Station.objects.get(code="TTVH-755").unit.name == "Đặc khu Côn Đảo"  # a district without communes
    assert 40 < len(counts.needing_decision) < 80


def test_an_old_province_code_names_the_province_it_was_merged_into():
    with pytest.raises(services.RegistryError) as excinfo:
        services.registry_from_package(2)
    (message,) = excinfo.value.errors
    assert "Hà Giang" in message and "Tuyên Quang" in message and "--province 8" in message


@pytest.mark.django_db
def test_the_command_refuses_an_old_province_code_and_writes_nothing():
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 lỗi"):
        call_command("import_registry", province=2, stdout=io.StringIO(), stderr=err)
    assert "Tuyên Quang" in err.getvalue()
    assert not AdminUnit.objects.exists() and not Station.objects.exists()
