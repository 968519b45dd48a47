"""Every report of a batch is judged alone: malformed values are per-item rejections, never a 500,
and nothing malformed reaches the database (where it would later break the play log or the dashboard)."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import importlib
import io
import json

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.test import Client

from broadcast.models import PlaybackReport
from broadcast.services.reports import REPORT_ID_MAX, ingest_reports
from tests.broadcast.factories_reports import local, report

URL = "/api/v1/station/reports/"
EXPORT = "/api/v1/reports/export.csv"
pytestmark = pytest.mark.django_db


def _post_raw(client, payload):
    # json.dumps escapes lone surrogates as \udXXX, exactly as a buggy device would send them.
    return client.post(URL, data=json.dumps(payload), content_type="application/json")


BAD_VALUES = {
    "item_over_64_bits": ("playlist_item", 2**63),
    "item_string_over_64_bits": ("playlist_item", "99999999999999999999999"),
    "report_id_with_lone_surrogate": ("report_id", "r\ud800x"),
    "error_with_lone_surrogate": ("error", "lỗi \udcff"),
    "error_too_long": ("error", "x" * 20_000),
    "started_year_one_with_offset": ("started_at", "0001-01-01T00:00:00+07:00"),
    "started_year_one_utc": ("started_at", "0001-01-01T00:00:00Z"),
    "started_year_9999_west": ("started_at", "9999-12-31T23:59:59-07:00"),
    "started_huge_string": ("started_at", "2025-01-01T06:00:00" + " " * 100_000),
    "started_not_a_string": ("started_at", 1_700_000_000),
    "ended_year_one": ("ended_at", "0001-01-01T00:00:00+07:00"),
    "status_huge": ("status", "p" * 100_000),
    "status_not_text": ("status", ["played"]),
    "report_id_with_nul": ("report_id", "r\x00x"),
    "error_with_nul": ("error", "lỗi\x00"),
}


@pytest.mark.parametrize("case", sorted(BAD_VALUES))
def test_one_malformed_report_is_rejected_alone_and_the_valid_ones_are_stored(
    case, station, station_client_for, items,
):
    field, value = BAD_VALUES[case]
    bad = {**report(items[1], "bad"), field: value}
    resp = _post_raw(station_client_for(station), {"reports": [report(items[0], "ok-1"), bad,
                                                               report(items[1], "ok-2")]})
    assert resp.status_code == 200, resp.content[:300]
    body = resp.json()
    assert body["accepted"] == 2, body
    (rejected,) = body["rejected"]
    assert rejected["index"] == 1
    assert field in rejected["errors"], rejected
    message = rejected["errors"][field][0]
    assert isinstance(message, str) and 0 < len(message) < 300
    assert set(PlaybackReport.objects.values_list("report_id", flat=True)) == {"ok-1", "ok-2"}


@pytest.mark.parametrize("field", ["report_id", "error"])
def test_a_nul_byte_in_one_report_is_rejected_alone_by_the_service(field, station, items):
    result = ingest_reports(station, [report(items[0], "ok-1"), {**report(items[1], "bad"), field: "x\x00y"},
                                      report(items[1], "ok-2")])
    assert result.accepted == 2
    (rejected,) = result.rejected
    assert rejected["index"] == 1 and "NUL" in rejected["errors"][field][0]


def test_a_gigantic_integer_report_id_is_rejected_alone(station, items):
    result = ingest_reports(station, [report(items[0], "ok"), {**report(items[1], "x"), "report_id": 10**5000}])
    assert result.accepted == 1
    assert result.rejected == [{"index": 1, "report_id": None, "errors": {"report_id": [
        "report_id phải là chuỗi từ 1 đến 64 ký tự."]}}]


def test_echoed_report_id_of_a_rejected_report_is_bounded(station, station_client_for, items):
    long_id = "x" * 100_000
    resp = _post_raw(station_client_for(station), {"reports": [
        {**report(items[0], long_id), "status": "exploded"},
        {**report(items[0], "y"), "report_id": {"nested": ["object"] * 1000}},
        {**report(items[0], "\ud800" * 10), "status": "exploded"},
    ]})
    assert resp.status_code == 200
    echoed = [r["report_id"] for r in resp.json()["rejected"]]
    assert echoed[0].startswith("xxxx") and len(echoed[0]) <= REPORT_ID_MAX + 1
    assert echoed[1] is None or len(echoed[1]) <= REPORT_ID_MAX + 1
    assert echoed[2] is None or len(echoed[2]) <= REPORT_ID_MAX + 1
    assert len(resp.content) < 5_000


def test_a_year_one_report_never_breaks_the_play_log_or_the_station_page(
    station, station_client_for, items, day, supervisor,
):
    resp = _post_raw(station_client_for(station), {"reports": [
        report(items[0], "good"), report(items[1], "year-one", started_at="0001-01-01T00:00:00Z", ended_at=None),
    ]})
    assert resp.status_code == 200 and resp.json()["accepted"] == 1
    browser = Client()
    browser.force_login(supervisor)
    assert browser.get(f"/operations/stations/{station.code}/", {"date": day.isoformat()}).status_code == 200
    staff = Client()
    staff.force_login(supervisor)
    raw = b"".join(staff.get(EXPORT, {"from": day.isoformat()}).streaming_content)
    rows = list(csv.reader(io.StringIO(raw[len(codecs.BOM_UTF8):].decode("utf-8"))))
    header = rows[0]
    report_ids = [r[header.index("Mã báo cáo")] for r in rows[1:] if len(r) == len(header)]
    assert "good" in report_ids


def test_an_export_that_fails_midway_says_so_in_its_last_line(monkeypatch, station, items, supervisor):
    from broadcast.selectors import play_log

    def broken_rows(*args, **kwargs):
        yield ["00001"] + [""] * (len(play_log.PLAY_LOG_COLUMNS) - 1)
        raise RuntimeError("database went away")

    monkeypatch.setattr(play_log, "play_log_rows", broken_rows)
    staff = Client()
    staff.force_login(supervisor)
    resp = staff.get(EXPORT, {"from": items[0].playlist.date.isoformat()})
    assert resp.status_code == 200
    text = b"".join(resp.streaming_content).decode("utf-8-sig")
    last = list(csv.reader(io.StringIO(text)))[-1]
    assert "LỖI" in last[0] and "không đầy đủ" in last[0].lower()


def test_report_times_far_outside_a_sane_range_are_refused_at_the_service(station, items):
    now = local(items[0].playlist.date, "23:00")
    result = ingest_reports(station, [
        report(items[0], "a", started_at="1899-12-31T23:00:00+07:00", ended_at=None),
        report(items[0], "b", ended_at="10000-01-01T00:00:00Z"),
        report(items[0], "ok"),
    ], now=now)
    assert result.accepted == 1
    assert [sorted(r["errors"]) for r in result.rejected] == [["started_at"], ["ended_at"]]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="only PostgreSQL stores a time before year 1")
def test_a_year_one_row_already_stored_is_reported_in_the_export_and_repaired_by_the_migration(
    station, items, day, supervisor,
):
    ingest_reports(station, [report(items[0], "good")])
    # A row stored before reports were validated: year 1 at +07:00 is 1 BC in UTC; PostgreSQL stores it,
    # but reading it back fails ("timestamp too small").
    year_one = dt.datetime(1, 1, 1, 5, tzinfo=dt.timezone(dt.timedelta(hours=7)))
    PlaybackReport.objects.create(
        station=station, report_id="legacy", playlist_item=items[1], status="played", started_at=year_one,
        playlist_date=day, bulletin_id_snapshot=items[1].bulletin_id, bulletin_title="Bản tin B",
        revision_number=1, sha256=items[1].sha256, slot=items[1].slot, planned_start=items[1].starts_at,
    )
    browser = Client()
    browser.force_login(supervisor)

    def exported():
        raw = b"".join(browser.get(EXPORT, {"from": day.isoformat()}).streaming_content)
        return list(csv.reader(io.StringIO(raw[len(codecs.BOM_UTF8):].decode("utf-8"))))

    assert exported()[-1][0].startswith("LỖI")  # never silently short
    migration = importlib.import_module("broadcast.migrations.0009_report_checks")
    migration.repair_unreadable_times(django_apps, None)
    assert browser.get(f"/operations/stations/{station.code}/", {"date": day.isoformat()}).status_code == 200
    rows = exported()
    header = rows[0]
    assert sorted(r[header.index("Mã báo cáo")] for r in rows[1:] if r[header.index("Mã báo cáo")]) == [
        "good", "legacy"]
    repaired = PlaybackReport.objects.get(report_id="legacy")
    assert repaired.started_at == items[1].starts_at and "BC" in repaired.error
