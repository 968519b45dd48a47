"""The legal play log (CSV): every planned play with its outcome, codes that keep their leading zeros in
Excel, and no cell Excel would run as a formula."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io

import pytest
from django.test import Client

from broadcast.services.reports import ingest_reports
from tests.broadcast.factories_reports import freeze, local, make_playlist, plain_bulletin, report
from tests.factories import DistrictFactory, StationFactory

pytestmark = pytest.mark.django_db
DAY = dt.date(2025, 3, 10)
EXPORT = "/api/v1/reports/export.csv"


@pytest.fixture
def day_log():
    district = DistrictFactory(code="001", name="Quận Ba Đình")
    station = StationFactory(district=district, code="00001", name="Đài Phường Phúc Xá")
    bulletins = [plain_bulletin("=HYPERLINK(\"http://x.invalid\",\"bấm\")"), plain_bulletin("Phòng cháy")]
    items = make_playlist(station, DAY, bulletins)  # 4 plays: morning and evening × 2
    ingest_reports(station, [
        report(items[0], "0042"),
        report(items[1], "r-failed", "failed", error="+cmd|' /C calc'!A0"),
        report(items[1], "r-late", "played"),
    ], now=local(DAY, "20:00"))
    return {"station": station, "items": items}


def _export(supervisor, **params):
    client = Client()
    client.force_login(supervisor)
    resp = client.get(EXPORT, {"from": DAY.isoformat(), **params})
    assert resp.status_code == 200
    raw = b"".join(resp.streaming_content)
    assert raw.startswith(codecs.BOM_UTF8)
    return raw[len(codecs.BOM_UTF8):].decode("utf-8")


def _rows(text, delimiter=","):
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    header = rows[0]
    return header, [dict(zip(header, r, strict=True)) for r in rows[1:]]


def test_every_planned_play_is_listed_with_its_outcome_missed_ones_included(day_log, supervisor):
    with freeze(local(DAY + dt.timedelta(days=1), "09:00")):
        _, rows = _rows(_export(supervisor))
    outcomes = [r["Kết quả lượt phát"] for r in rows]
    # Item 0 played (one report), item 1 played (a failed and a late played report), items 2 and 3 missed.
    assert len(rows) == 5
    assert sorted(outcomes) == ["Bỏ lỡ", "Bỏ lỡ", "Đã phát", "Đã phát", "Đã phát"]
    missed = [r for r in rows if r["Kết quả lượt phát"] == "Bỏ lỡ"]
    assert all(r["Mã báo cáo"] == "" and r["Bắt đầu phát"] == "" for r in missed)
    assert {r["Khung giờ"] for r in missed} == {"evening"}
    assert all(r["Giờ phát dự kiến"].endswith("+07:00") for r in rows)


def test_plays_not_yet_due_are_pending_not_missed(day_log, supervisor):
    with freeze(local(DAY, "12:00")):
        _, rows = _rows(_export(supervisor))
    assert sorted(r["Kết quả lượt phát"] for r in rows if not r["Mã báo cáo"]) == ["Chờ phát", "Chờ phát"]


def test_codes_keep_their_leading_zeros_in_excel(day_log, supervisor):
    _, rows = _rows(_export(supervisor))
    assert {r["Mã đài"] for r in rows} == {'="00001"'}
    assert {r["Mã quận/huyện"] for r in rows} == {'="001"'}
    assert '="0042"' in {r["Mã báo cáo"] for r in rows}
    assert "r-late" in {r["Mã báo cáo"] for r in rows}  # not digits: written as is


def test_no_cell_starts_a_formula(day_log, supervisor):
    text = _export(supervisor)
    _, rows = _rows(text)
    for row in rows:
        for column, value in row.items():
            if value.startswith('="') and value.endswith('"') and value[2:-1].isdigit():
                continue  # the text-forcing wrapper of a code
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), (column, value)
    titles = {r["Bản tin"] for r in rows}
    assert "'=HYPERLINK(\"http://x.invalid\",\"bấm\")" in titles
    assert "'+cmd|' /C calc'!A0" in {r["Lỗi"] for r in rows}


def test_semicolon_separator_for_vietnamese_regional_settings(day_log, supervisor):
    text = _export(supervisor, sep="semicolon")
    header, rows = _rows(text, delimiter=";")
    assert header[0] == "Mã đài" and len(rows) == 5
    client = Client()
    client.force_login(supervisor)
    bad = client.get(EXPORT, {"from": DAY.isoformat(), "sep": "pipe"})
    assert bad.status_code == 400 and "sep" in bad.json()
