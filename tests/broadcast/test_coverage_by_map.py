"""Coverage, station coverage and the play log grouped by the map in force on the day: districts before
1 July 2025, commune-level units of the two-level map since, always by the units each record was made
under (history is never rewritten when a station is moved)."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io

import pytest
from django.utils import timezone

from broadcast.models import PlaybackReport, Playlist
from broadcast.selectors.coverage import UNASSIGNED_NAME, coverage_report
from broadcast.selectors.play_log import CODE_COLUMNS, PLAY_LOG_COLUMNS, play_log_rows
from broadcast.selectors.playlists import LOCAL_TZ
from broadcast.services.playlists import rebuild_playlists
from broadcast.services.reports import ingest_reports
from broadcast.services.schedules import create_schedule
from stations.models import Station
from stations.selectors import Scope
from tests.broadcast.factories_reports import local, make_playlist, plain_bulletin, report
from tests.factories import (
    AdminUnitFactory,
    CommuneOperatorFactory,
    DistrictFactory,
    DistrictOperatorFactory,
    StationFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
OLD_DAY = dt.date(2025, 6, 30)   # the last day with districts
NEW_DAY = dt.date(2025, 7, 1)    # the first day of the two-level map
LATER = dt.datetime(2025, 7, 10, 12, 0, tzinfo=LOCAL_TZ)  # both days long over


@pytest.fixture
def city():
    """Two districts of the old map, three units of the new one. A1, A2 stand in Ba Đình / unit 00004,
    B1 in Tây Hồ / 00091, C1 in Tây Hồ with no unit yet. Each has one bulletin in both slots (2 plays)
    on both days; A1 played everything, A2 one play, B1 and C1 nothing."""
    ba_dinh, tay_ho = DistrictFactory(code="001", name="Quận Ba Đình"), DistrictFactory(code="003", name="Quận Tây Hồ")
    u_ba_dinh = AdminUnitFactory(code="00004", name="Phường Ba Đình")
    u_tay_ho = AdminUnitFactory(code="00091", name="Phường Tây Hồ")
    u_ngoc_ha = AdminUnitFactory(code="00025", name="Phường Ngọc Hà")
    a1 = StationFactory(code="A1", district=ba_dinh, unit=u_ba_dinh)
    a2 = StationFactory(code="A2", district=ba_dinh, unit=u_ba_dinh)
    b1 = StationFactory(code="B1", district=tay_ho, unit=u_tay_ho)
    c1 = StationFactory(code="C1", district=tay_ho, unit=None)
    bulletin = plain_bulletin("Phòng chống sốt xuất huyết")
    for day in (OLD_DAY, NEW_DAY):
        items = {s.code: make_playlist(s, day, [bulletin]) for s in (a1, a2, b1, c1)}
        ingest_reports(a1, [report(it, f"a1-{day}-{n}") for n, it in enumerate(items["A1"])],
                       now=local(day, "20:00"))
        ingest_reports(a2, [report(items["A2"][0], f"a2-{day}")], now=local(day, "20:00"))
    return {"districts": (ba_dinh, tay_ho), "units": (u_ba_dinh, u_tay_ho, u_ngoc_ha),
            "stations": (a1, a2, b1, c1), "bulletin": bulletin}


def _rows(report_dict):
    key = "units" if report_dict["grouping"] == "unit" else "districts"
    return {row["code"]: row for row in report_dict[key]}


def _assert_totals_are_the_sum_of_rows(body):
    rows = body["units"] if body["grouping"] == "unit" else body["districts"]
    for key in ("expected", "played", "failed", "missed", "pending"):
        assert body["totals"][key] == sum(row[key] for row in rows), key


# ---------------------------------------------------------------- grouping by the map in force


def test_a_day_before_july_2025_is_grouped_by_district(city):
    body = coverage_report(OLD_DAY, now=LATER).as_dict()
    assert (body["map"], body["grouping"]) == ("before_2025", "district") and "units" not in body
    rows = _rows(body)
    assert list(rows) == ["001", "003"]
    assert (rows["001"]["expected"], rows["001"]["played"], rows["001"]["silent_stations"]) == (4, 3, 0)
    assert (rows["003"]["expected"], rows["003"]["played"], rows["003"]["silent_stations"]) == (4, 0, 2)
    _assert_totals_are_the_sum_of_rows(body)


def test_a_day_since_july_2025_is_grouped_by_commune_level_unit_with_unlinked_stations_in_one_row(city):
    body = coverage_report(NEW_DAY, now=LATER).as_dict()
    assert (body["map"], body["grouping"]) == ("since_2025", "unit") and "districts" not in body
    rows = _rows(body)
    # Every unit of the map in code order (Ngọc Hà has no station: a row of zeros); the plays of a
    # station not yet linked come last.
    assert list(rows) == ["00004", "00025", "00091", ""]
    assert rows["00004"]["name"] == "Phường Ba Đình" and rows[""]["name"] == UNASSIGNED_NAME
    assert (rows["00004"]["expected"], rows["00004"]["played"], rows["00004"]["silent_stations"]) == (4, 3, 0)
    assert (rows["00091"]["expected"], rows["00091"]["silent_stations"]) == (2, 1)
    assert (rows[""]["expected"], rows[""]["missed"], rows[""]["silent_stations"]) == (2, 2, 1)
    _assert_totals_are_the_sum_of_rows(body)
    assert body["totals"] == coverage_report(OLD_DAY, now=LATER).as_dict()["totals"]


def test_rows_carry_their_level_code_and_name(city):
    old_row = coverage_report(OLD_DAY, now=LATER).rows[0]
    new_row = coverage_report(NEW_DAY, now=LATER).rows[0]
    assert (old_row.level, old_row.code, old_row.name) == ("district", "001", "Quận Ba Đình")
    assert (new_row.level, new_row.code, new_row.name) == ("commune", "00004", "Phường Ba Đình")


def test_scope_by_district_or_unit_works_on_both_maps(city):
    u_ba_dinh, u_tay_ho, _ = city["units"]
    ba_dinh, tay_ho = city["districts"]
    by_unit = coverage_report(NEW_DAY, now=LATER, scope=Scope(unit_ids=frozenset({u_tay_ho.pk}))).as_dict()
    assert list(_rows(by_unit)) == ["00091"] and by_unit["totals"]["expected"] == 2
    # A district on a new-map day: its stations' plays, shown by their units (the unlinked one too).
    by_district = coverage_report(NEW_DAY, now=LATER, scope=Scope(district_ids=frozenset({tay_ho.pk}))).as_dict()
    assert list(_rows(by_district)) == ["00091", ""] and by_district["totals"]["expected"] == 4
    # A unit on an old-map day: the plays its stations made then, by district.
    old = coverage_report(OLD_DAY, now=LATER, scope=Scope(unit_ids=frozenset({u_ba_dinh.pk}))).as_dict()
    assert list(_rows(old)) == ["001"] and old["totals"]["expected"] == 4


def test_the_api_answers_both_shapes_and_filters_by_unit(city, supervisor, client_for):
    api = client_for(supervisor)
    old = api.get("/api/v1/coverage/", {"date": OLD_DAY.isoformat()}).json()
    assert set(old) == {"date", "map", "grouping", "totals", "districts"}
    assert set(old["districts"][0]) == {"code", "name", "expected", "played", "failed", "missed", "pending",
                                        "coverage_pct", "played_of_expected", "silent_stations"}
    new = api.get("/api/v1/coverage/", {"date": NEW_DAY.isoformat()}).json()
    assert set(new) == {"date", "map", "grouping", "totals", "units"}
    assert set(new["units"][0]) == set(old["districts"][0])
    only = api.get("/api/v1/coverage/", {"date": NEW_DAY.isoformat(), "unit": "00004"}).json()
    assert [u["code"] for u in only["units"]] == ["00004"] and only["totals"]["played"] == 3
    old_by_district = api.get("/api/v1/coverage/", {"date": OLD_DAY.isoformat(), "district": "003"}).json()
    assert [d["code"] for d in old_by_district["districts"]] == ["003"]
    assert api.get("/api/v1/coverage/", {"unit": "99999"}).status_code == 404
    assert api.get("/api/v1/coverage/", {"unit": "00004", "district": "001"}).status_code == 400


def test_operators_see_their_own_part_by_unit(city, client_for):
    u_ba_dinh, u_tay_ho, _ = city["units"]
    commune = CommuneOperatorFactory(units=[u_tay_ho]).user
    body = client_for(commune).get("/api/v1/coverage/", {"date": NEW_DAY.isoformat()}).json()
    assert list(_rows(body)) == ["00091"]
    assert client_for(commune).get("/api/v1/coverage/", {"unit": "00004"}).status_code == 404
    district = DistrictOperatorFactory(district=city["districts"][0]).user
    body = client_for(district).get("/api/v1/coverage/", {"date": NEW_DAY.isoformat()}).json()
    assert list(_rows(body)) == ["00004"]


def test_station_coverage_rows_name_the_unit_of_their_playlist_and_filter_by_unit(city, supervisor, client_for):
    a1 = city["stations"][0]
    _, _, u_ngoc_ha = city["units"]
    Station.objects.filter(pk=a1.pk).update(unit=u_ngoc_ha)  # moved after the day
    api = client_for(supervisor)
    rows = {r["code"]: r for r in api.get("/api/v1/coverage/stations/", {"date": NEW_DAY.isoformat()}).json()["results"]}
    assert (rows["A1"]["unit"], rows["A1"]["unit_name"], rows["A1"]["district"]) == ("00004", "Phường Ba Đình", "001")
    assert rows["C1"]["unit"] is None and rows["A1"]["played"] == 2
    in_unit = api.get("/api/v1/coverage/stations/", {"date": NEW_DAY.isoformat(), "unit": "00004"}).json()
    assert sorted(r["code"] for r in in_unit["results"]) == ["A1", "A2"]
    moved_to = api.get("/api/v1/coverage/stations/", {"date": NEW_DAY.isoformat(), "unit": "00025"}).json()
    assert moved_to["results"] == []


# ---------------------------------------------------------------- history is never rewritten


def test_moving_a_station_rewrites_no_past_coverage_report_or_play_log(city, django_capture_on_commit_callbacks):
    from stations.services import edit_station

    a1 = city["stations"][0]
    _, tay_ho = city["districts"]
    _, _, u_ngoc_ha = city["units"]
    before = {day: coverage_report(day, now=LATER).as_dict() for day in (OLD_DAY, NEW_DAY)}
    log_before = list(play_log_rows(OLD_DAY, NEW_DAY, now=LATER))
    with django_capture_on_commit_callbacks(execute=True):
        edit_station(Station.objects.get(pk=a1.pk), {"unit": u_ngoc_ha})
    Station.objects.filter(pk=a1.pk).update(district=tay_ho)  # and even its district
    assert Station.objects.get(pk=a1.pk).unit_id == u_ngoc_ha.pk

    after = {day: coverage_report(day, now=LATER).as_dict() for day in (OLD_DAY, NEW_DAY)}
    assert after[OLD_DAY] == before[OLD_DAY]
    # Ngọc Hà now has the station; none of the plays of that day move to it.
    assert _rows(after[NEW_DAY])["00025"]["expected"] == 0
    assert after[NEW_DAY] == before[NEW_DAY]
    assert list(play_log_rows(OLD_DAY, NEW_DAY, now=LATER)) == log_before
    reports = PlaybackReport.objects.filter(station=a1)
    assert {(r.district.code, r.unit.code) for r in reports} == {("001", "00004")}


def test_reports_take_the_playlists_units_not_the_stations_current_ones(city):
    a2 = city["stations"][1]
    _, tay_ho = city["districts"]
    _, _, u_ngoc_ha = city["units"]
    item = Playlist.objects.get(station=a2, date=NEW_DAY).items.order_by("position").last()
    Station.objects.filter(pk=a2.pk).update(unit=u_ngoc_ha, district=tay_ho)  # moved, playlist not rebuilt
    result = ingest_reports(Station.objects.get(pk=a2.pk), [report(item, "late-one")], now=LATER)
    assert result.accepted == 1
    stored = PlaybackReport.objects.get(report_id="late-one")
    assert (stored.district.code, stored.unit.code) == ("001", "00004")


def test_a_station_moved_today_has_todays_playlists_re_recorded_and_yesterdays_kept(django_capture_on_commit_callbacks):
    today = timezone.localdate()
    yesterday = today - dt.timedelta(days=1)
    district = DistrictFactory(code="005")
    old_unit, new_unit = AdminUnitFactory(code="00100"), AdminUnitFactory(code="00101")
    station = StationFactory(code="M1", district=district, unit=old_unit)
    bulletin = plain_bulletin("Lịch cắt điện")
    supervisor = UserFactory(username="lich-b", roles=["supervisor"])
    midnight = dt.datetime.combine(yesterday, dt.time.min, LOCAL_TZ)
    with django_capture_on_commit_callbacks(execute=True):
        create_schedule(bulletin, by=supervisor, start_date=yesterday, end_date=today + dt.timedelta(days=1),
                        slots=["evening"], targets={"stations": ["M1"]}, now=midnight)
        rebuild_playlists(dates=[yesterday], now=midnight)
        rebuild_playlists(now=dt.datetime.combine(today, dt.time.min, LOCAL_TZ))
    playlists = {p.date: p for p in Playlist.objects.filter(station=station)}
    assert {p.unit_id for p in playlists.values()} == {old_unit.pk} and len(playlists) >= 3
    versions = {d: (p.version, p.etag) for d, p in playlists.items()}

    from stations.services import edit_station

    with django_capture_on_commit_callbacks(execute=True):
        edit_station(Station.objects.get(pk=station.pk), {"unit": new_unit})
    rebuild_playlists(now=timezone.now())
    after = {p.date: p for p in Playlist.objects.filter(station=station)}
    assert after[yesterday].unit_id == old_unit.pk
    assert all(p.unit_id == new_unit.pk for d, p in after.items() if d >= today)
    # Same plays: the playlists are only recorded under the new unit (the moved path), not re-versioned.
    assert {d: (p.version, p.etag) for d, p in after.items()} == versions


# ---------------------------------------------------------------- play log


def _csv(resp):
    text = b"".join(resp.streaming_content).decode("utf-8")
    return list(csv.reader(io.StringIO(text.removeprefix(codecs.BOM_UTF8.decode()))))


def test_the_play_log_names_the_unit_and_district_each_record_was_made_under(city, supervisor, client_for):
    a1 = city["stations"][0]
    _, tay_ho = city["districts"]
    _, _, u_ngoc_ha = city["units"]
    Station.objects.filter(pk=a1.pk).update(unit=u_ngoc_ha, district=tay_ho)
    assert PLAY_LOG_COLUMNS[2:6] == ["Mã quận/huyện", "Quận/huyện", "Mã xã/phường", "Xã/phường"]
    assert "Mã xã/phường" in CODE_COLUMNS
    rows = _csv(client_for(supervisor).get("/api/v1/reports/export.csv",
                                           {"from": OLD_DAY.isoformat(), "to": NEW_DAY.isoformat()}))
    header, body = rows[0], rows[1:]
    col = {name: header.index(name) for name in header}
    a1_rows = [r for r in body if r[col["Mã đài"]] == "A1"]
    assert len(a1_rows) == 4 and {r[col["Kết quả lượt phát"]] for r in a1_rows} == {"Đã phát"}
    assert {(r[col["Mã quận/huyện"]], r[col["Mã xã/phường"]], r[col["Xã/phường"]]) for r in a1_rows} == {
        ('="001"', '="00004"', "Phường Ba Đình")}
    # An unreported play (B1's) also comes from its playlist; C1 has no unit.
    b1 = [r for r in body if r[col["Mã đài"]] == "B1"]
    assert {r[col["Mã xã/phường"]] for r in b1} == {'="00091"'} and {r[col["Kết quả lượt phát"]] for r in b1} == {"Bỏ lỡ"}
    assert {r[col["Mã xã/phường"]] for r in body if r[col["Mã đài"]] == "C1"} == {""}


def test_the_play_log_is_scoped_by_snapshot(city, supervisor, client_for):
    a1 = city["stations"][0]
    _, _, u_ngoc_ha = city["units"]
    Station.objects.filter(pk=a1.pk).update(unit=u_ngoc_ha)
    api = client_for(supervisor)
    day = {"from": NEW_DAY.isoformat()}
    in_ba_dinh = _csv(api.get("/api/v1/reports/export.csv", {**day, "unit": "00004"}))[1:]
    assert {r[0] for r in in_ba_dinh} == {"A1", "A2"}
    assert _csv(api.get("/api/v1/reports/export.csv", {**day, "unit": "00025"}))[1:] == []
    commune = CommuneOperatorFactory(units=[u_ngoc_ha]).user
    assert _csv(client_for(commune).get("/api/v1/reports/export.csv", day))[1:] == []
