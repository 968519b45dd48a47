"""remap_units links a registry made before the units existed to the two-level map, as the import would,
without touching a person's decision, the stations' other fields or the records of past days."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from broadcast.models import PlaybackReport, Playlist
from stations import services
from stations.models import AdminUnit, Station
from stations.signals import stations_changed

pytestmark = pytest.mark.django_db


def _registry_without_units() -> None:
    services.import_rows(services.rows_from_package(1))  # the stations only, as before the two-level map
    assert not AdminUnit.objects.exists() and not Station.objects.filter(unit__isnull=False).exists()


def test_remap_links_an_existing_registry_once_and_keeps_a_persons_choice_and_past_records(
        django_capture_on_commit_callbacks):
    _registry_without_units()
    station = Station.objects.get(code="00016")
    Station.objects.filter(pk=station.pk).update(name="Đài Ngọc Hà (đổi tên)", active=False,
                                                 slots=[{"name": "noon", "start": "11:00", "end": "11:15"}])
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    playlist = Playlist.objects.create(station=station, date=yesterday, generated_at=timezone.now())
    report = PlaybackReport.objects.create(
        station=station, report_id="r1", status="played", started_at=timezone.now() - dt.timedelta(days=1),
        playlist_date=yesterday, bulletin_id_snapshot=1, bulletin_title="Tin", revision_number=1, sha256="0" * 64,
        slot="morning", district=station.district)
    seen: list[int] = []

    def listener(sender, station_ids, **kwargs):
        seen.extend(station_ids)

    stations_changed.connect(listener)
    out = io.StringIO()
    try:
        with django_capture_on_commit_callbacks(execute=True):
            call_command("remap_units", stdout=out)
    finally:
        stations_changed.disconnect(listener)

    assert AdminUnit.objects.filter(map="since_2025", level="commune").count() == 126
    assert AdminUnit.objects.filter(map="before_2025", level="commune").count() == 526
    assert not Station.objects.filter(unit__isnull=True).exists()
    station.refresh_from_db()
    assert (station.unit.code, station.unit_choices) == ("00008", ["00008", "00004"])
    assert (station.name, station.active, station.slots, station.edited_fields) == (
        "Đài Ngọc Hà (đổi tên)", False, [{"name": "noon", "start": "11:00", "end": "11:15"}], [])
    assert len(set(seen)) == 556  # every moved station's coming playlists are rebuilt
    text = out.getvalue()
    assert "Đài đổi xã/phường: 556" in text and "Cần người xác nhận xã/phường: 200 đài" in text
    # Past days keep the units they were made under.
    playlist.refresh_from_db()
    report.refresh_from_db()
    assert (playlist.district_id, playlist.unit_id) == (station.district_id, None)
    assert (report.district_id, report.unit_id) == (station.district_id, None)

    # A person's choice, then a second run: nothing changes.
    services.confirm_unit_choices([("00016", "4")])
    out = io.StringIO()
    call_command("remap_units", stdout=out)
    assert "tạo mới 0 tỉnh/thành, 0 xã/phường; cập nhật 0 tỉnh/thành, 0 xã/phường" in out.getvalue()
    assert "Đài đổi xã/phường: 0; đổi danh sách xã/phường có thể thuộc: 0; giữ xã/phường người đã chọn: 1" in out.getvalue()
    station.refresh_from_db()
    assert station.unit.code == "00004" and station.unit_confirmed


def test_remap_dry_run_writes_nothing_and_confirm_refuses_unknown_codes():
    _registry_without_units()
    out = io.StringIO()
    call_command("remap_units", dry_run=True, stdout=out)
    assert "(chạy thử, chưa ghi gì) Đài đổi xã/phường: 556" in out.getvalue()
    assert not AdminUnit.objects.exists() and not Station.objects.filter(unit__isnull=False).exists()

    err = io.StringIO()
    with pytest.raises(CommandError, match="2 lỗi"):
        call_command("remap_units", confirm=["00016=00004", "KHONG=00004", "00007=77777"], stdout=io.StringIO(),
                     stderr=err)
    assert "không có đài mã KHONG" in err.getvalue() and "không có xã/phường mã 77777" in err.getvalue()
    assert not AdminUnit.objects.exists()  # all or nothing


def test_check_registry_lists_pending_unit_decisions_and_exits_zero_unless_strict():
    registry = services.registry_from_package(1)
    services.import_rows(registry.rows, units=registry.units)
    out = io.StringIO()
    call_command("check_registry", stdout=out)
    assert "Cần người xác nhận xã/phường: 200 đài" in out.getvalue()
    with pytest.raises(CommandError, match="200 đài cần người xác nhận"):
        call_command("check_registry", strict_units=True, stdout=io.StringIO())
