"""Coverage arithmetic on a hand-built day, pending/missed around slot end + grace, scoping, CSV export."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io

import pytest

from broadcast.selectors.coverage import coverage_report
from broadcast.services.reports import ingest_reports
from stations.models import Station
from stations.selectors import Scope
from tests.broadcast.factories_reports import freeze, local, make_playlist, plain_bulletin, report
from tests.factories import DistrictFactory, DistrictOperatorFactory, StationFactory

pytestmark = pytest.mark.django_db
DAY = dt.date(2025, 3, 10)


@pytest.fixture(autouse=True)
def _grace(settings):
    settings.COVERAGE_GRACE_SECONDS = 3600


@pytest.fixture
def freezer_now():
    """freezer_now(t): django.utils.timezone.now returns t for the rest of the test."""
    patches = []

    def start(now: dt.datetime) -> None:
        patch = freeze(now)
        patch.start()
        patches.append(patch)

    yield start
    for patch in patches:
        patch.stop()


@pytest.fixture
def city():
    """Two districts. North: 2 stations × 2 slots × 2 bulletins = 8 items; South: 1 station × 4 items."""
    north, south = DistrictFactory(code="001", name="Ba Đình"), DistrictFactory(code="002", name="Hoàn Kiếm")
    a, b = StationFactory(district=north, code="N1"), StationFactory(district=north, code="N2")
    c = StationFactory(district=south, code="S1", status=Station.Status.SILENT)
    bulletins = [plain_bulletin("Tiêm chủng"), plain_bulletin("Phòng cháy")]
    items = {s.code: make_playlist(s, DAY, bulletins) for s in (a, b, c)}
    # N1: all four played. N2: morning 1 played, morning 2 failed, evening nothing.
    ingest_reports(a, [report(it, f"a{i}") for i, it in enumerate(items["N1"])])
    ingest_reports(b, [report(items["N2"][0], "b0"), report(items["N2"][1], "b1", "failed")])
    # S1: silent all day.
    return {"north": north, "south": south, "stations": (a, b, c), "items": items, "bulletins": bulletins}


def _d(report, code):
    return next(d for d in report.as_dict()["districts"] if d["code"] == code)


def test_coverage_arithmetic_after_the_day(city):
    now = local(DAY, "23:00")
    rep = coverage_report(DAY, now=now).as_dict()
    assert rep["totals"] == {"expected": 12, "played": 5, "failed": 1, "missed": 6, "pending": 0,
                             "coverage_pct": round(100 * 5 / 12, 1), "played_of_expected": "5 / 12"}
    north, south = rep["districts"]
    assert (north["code"], north["expected"], north["played"], north["failed"], north["missed"]) == ("001", 8, 5, 1, 2)
    assert north["coverage_pct"] == 62.5 and north["silent_stations"] == 0
    assert (south["expected"], south["played"], south["missed"], south["coverage_pct"]) == (4, 0, 4, 0.0)
    assert south["silent_stations"] == 1


def test_silent_stations_are_counted_for_the_day_not_from_todays_health(city):
    _, _, s1 = city["stations"]
    # Healthy now (heartbeats), yet it reported nothing that day: silent on that day.
    Station.objects.filter(pk=s1.pk).update(status=Station.Status.ONLINE)
    assert _d(coverage_report(DAY, now=local(DAY, "23:00")), "002")["silent_stations"] == 1
    # Before any of its slots ended nothing was due yet, so it was not silent.
    assert _d(coverage_report(DAY, now=local(DAY, "05:00")), "002")["silent_stations"] == 0
    # One report, even a late one, means the station was heard that day.
    ingest_reports(s1, [report(city["items"]["S1"][0], "late-one")], now=local(DAY + dt.timedelta(days=1), "08:00"))
    assert _d(coverage_report(DAY, now=local(DAY, "23:00")), "002")["silent_stations"] == 0


def test_evening_is_pending_until_slot_end_plus_grace(city):
    # Evening slot 17:00–17:30, grace 1 h: pending until 18:30, missed after.
    during = coverage_report(DAY, now=local(DAY, "18:29")).totals
    assert (during.pending, during.played, during.missed) == (4, 5, 2)  # pending: N2+S1 evening; missed: S1 morning
    assert during.coverage_pct == round(100 * 5 / (12 - 4), 1)
    after = coverage_report(DAY, now=local(DAY, "18:31")).totals
    assert after.pending == 0 and after.missed == 6
    before_day = coverage_report(DAY, now=local(DAY, "05:00")).totals
    assert before_day.pending == 12 - 5 - 1 and before_day.coverage_pct == round(100 * 5 / 6, 1)


def test_a_late_report_turns_missed_into_played(city):
    now = local(DAY + dt.timedelta(days=3), "09:00")
    assert _d(coverage_report(DAY, now=now), "002")["missed"] == 4
    _, _, silent = city["stations"]
    result = ingest_reports(silent, [report(it, f"late{i}") for i, it in enumerate(city["items"]["S1"][:3])], now=now)
    assert result.accepted == 3
    south = _d(coverage_report(DAY, now=now), "002")
    assert (south["played"], south["missed"], south["coverage_pct"]) == (3, 1, 75.0)


def test_coverage_by_bulletin_and_district(city):
    now = local(DAY, "23:00")
    first = city["bulletins"][0]
    rep = coverage_report(DAY, bulletin_id=first.pk, now=now).totals
    assert (rep.expected, rep.played) == (6, 3)  # N1 morning+evening, N2 morning
    only = coverage_report(DAY, scope=Scope(district_ids=frozenset({city["south"].pk})), now=now).as_dict()
    assert [d["code"] for d in only["districts"]] == ["002"] and only["totals"]["expected"] == 4


def test_coverage_api_matches_the_selector_and_scopes_operators(city, client_for, supervisor, freezer_now):
    freezer_now(local(DAY, "23:00"))
    body = client_for(supervisor).get("/api/v1/coverage/", {"date": DAY.isoformat()}).json()
    assert body["date"] == DAY.isoformat()
    assert [d["code"] for d in body["districts"]] == ["001", "002"]
    assert body["totals"]["played"] == 5
    operator = DistrictOperatorFactory(district=city["south"]).user
    op = client_for(operator)
    body = op.get("/api/v1/coverage/", {"date": DAY.isoformat()}).json()
    assert [d["code"] for d in body["districts"]] == ["002"] and body["totals"]["expected"] == 4
    assert op.get("/api/v1/coverage/", {"date": DAY.isoformat(), "district": "001"}).status_code == 404
    stations = op.get("/api/v1/coverage/stations/", {"date": DAY.isoformat()}).json()
    assert [r["code"] for r in stations["results"]] == ["S1"]


def test_coverage_api_rejects_bad_input_and_other_roles(client_for, supervisor, editor, api_client):
    sup = client_for(supervisor)
    resp = sup.get("/api/v1/coverage/", {"date": "10/03/2025"})
    assert resp.status_code == 400 and "date" in resp.json()
    assert sup.get("/api/v1/coverage/", {"district": "999"}).status_code == 404
    assert client_for(editor).get("/api/v1/coverage/").status_code == 403
    assert api_client.get("/api/v1/coverage/").status_code in (401, 403)


def test_station_coverage_rows_and_status_filter(city, client_for, supervisor, freezer_now):
    freezer_now(local(DAY, "23:00"))
    sup = client_for(supervisor)
    body = sup.get("/api/v1/coverage/stations/", {"date": DAY.isoformat()}).json()
    rows = {r["code"]: r for r in body["results"]}
    assert body["count"] == 3
    assert (rows["N1"]["played"], rows["N1"]["coverage_pct"]) == (4, 100.0)
    assert (rows["N2"]["played"], rows["N2"]["failed"], rows["N2"]["missed"]) == (1, 1, 2)
    assert rows["S1"]["missed"] == 4 and rows["S1"]["status"] == "silent"
    silent = sup.get("/api/v1/coverage/stations/", {"date": DAY.isoformat(), "status": "silent"}).json()
    assert [r["code"] for r in silent["results"]] == ["S1"]
    assert sup.get("/api/v1/coverage/stations/", {"status": "asleep"}).status_code == 400


def test_csv_export_is_a_bom_utf8_play_log(city, client_for, supervisor):
    resp = client_for(supervisor).get(
        "/api/v1/reports/export.csv", {"from": DAY.isoformat(), "to": DAY.isoformat()}, HTTP_ACCEPT="text/csv"
    )
    assert resp.status_code == 200
    assert resp.streaming
    raw = b"".join(resp.streaming_content)
    assert raw.startswith(codecs.BOM_UTF8)
    rows = list(csv.reader(io.StringIO(raw[len(codecs.BOM_UTF8):].decode("utf-8"))))
    header, data = rows[0], rows[1:]
    assert header[:3] == ["Mã đài", "Tên đài", "Mã quận/huyện"]
    assert len(data) == 12  # every planned play: N1's 4 reported, N2's 2 reported and 2 missed, S1's 4 missed
    outcomes = [r[header.index("Kết quả lượt phát")] for r in data]
    assert (outcomes.count("Đã phát"), outcomes.count("Lỗi"), outcomes.count("Bỏ lỡ")) == (5, 1, 6)
    n2_failed = next(r for r in data if r[header.index("Mã báo cáo")] == "b1")
    assert n2_failed[header.index("Kết quả")] == "Lỗi phát"
    assert n2_failed[header.index("Bản tin")] == "Phòng cháy"
    assert n2_failed[header.index("Giờ phát dự kiến")].endswith("+07:00")
    assert n2_failed[header.index("SHA-256")] == city["items"]["N2"][1].sha256


def test_csv_export_scopes_district_operators_and_validates_range(city, client_for):
    operator = DistrictOperatorFactory(district=city["north"]).user
    op = client_for(operator)
    resp = op.get("/api/v1/reports/export.csv", {"from": DAY.isoformat()})
    body = b"".join(resp.streaming_content).decode("utf-8-sig")
    assert "N1" in body and "S1" not in body
    assert op.get("/api/v1/reports/export.csv", {"from": DAY.isoformat(), "district": "002"}).status_code == 404
    bad = op.get("/api/v1/reports/export.csv", {"from": "2025-03-10", "to": "2025-03-01"})
    assert bad.status_code == 400 and "to" in bad.json()
