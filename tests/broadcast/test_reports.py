"""Playback report ingestion: idempotency, partial acceptance, snapshots, folding into items."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.utils import timezone

from broadcast.models import PlaybackReport, PlaylistItem
from broadcast.services.reports import ingest_reports
from tests.broadcast.factories_reports import make_playlist, report
from tests.factories import StationFactory

URL = "/api/v1/station/reports/"
pytestmark = pytest.mark.django_db


def _rows(station):
    return sorted(
        PlaybackReport.objects.filter(station=station).values_list(
            "report_id", "playlist_item_id", "status", "started_at", "ended_at", "error", "playlist_date",
            "bulletin_id_snapshot", "bulletin_title", "revision_number", "sha256", "slot", "planned_start",
        )
    )


def _item_outcomes(items):
    return sorted(PlaylistItem.objects.filter(pk__in=[i.pk for i in items]).values_list("pk", "report_status"))


def test_valid_batch_is_stored_with_a_snapshot_of_the_planned_item(station, station_client_for, items):
    client = station_client_for(station)
    resp = client.post(URL, {"reports": [report(items[0], "r1"), report(items[1], "r2", "failed", error="Mất điện")]},
                       format="json")
    assert resp.status_code == 200, resp.content
    assert resp.json() == {"accepted": 2, "duplicates": 0, "rejected": []}
    stored = PlaybackReport.objects.get(station=station, report_id="r1")
    assert stored.bulletin_title == "Bản tin A"
    assert stored.sha256 == items[0].sha256
    assert stored.slot == items[0].slot and stored.planned_start == items[0].starts_at
    assert stored.playlist_date == items[0].playlist.date
    items[0].refresh_from_db()
    items[1].refresh_from_db()
    assert (items[0].report_status, items[1].report_status) == ("played", "failed")


def test_replayed_batch_ten_times_changes_nothing(station, station_client_for, items):
    client = station_client_for(station)
    batch = {"reports": [report(item, f"r{i}") for i, item in enumerate(items)]}
    first = client.post(URL, batch, format="json").json()
    rows, outcomes = _rows(station), _item_outcomes(items)
    for _ in range(9):
        again = client.post(URL, batch, format="json").json()
        assert again == {"accepted": 0, "duplicates": len(items), "rejected": []}
    assert first["accepted"] == len(items)
    assert _rows(station) == rows
    assert _item_outcomes(items) == outcomes


def test_reordered_batches_give_identical_rows(items, station, day):
    other = StationFactory()
    other_items = make_playlist(other, day, [items[0].bulletin, items[1].bulletin])
    statuses = ["played", "failed", "skipped", "interrupted"]

    def batch(its):
        out = []
        for i, item in enumerate(its):
            for j, status in enumerate(statuses):
                out.append(report(item, f"r{i}-{j}", status))
        return out

    ingest_reports(station, batch(items))
    shuffled = batch(other_items)
    random.Random(7).shuffle(shuffled)
    # The shuffled batch in two halves, second half first, then the whole thing again.
    ingest_reports(other, shuffled[len(shuffled) // 2:])
    ingest_reports(other, shuffled)

    def normalized(st, its):
        pos = {it.pk: n for n, it in enumerate(its)}
        return sorted((r[0], pos[r[1]], *r[2:6], *r[7:]) for r in _rows(st))

    assert normalized(station, items) == normalized(other, other_items)
    assert [s for _, s in _item_outcomes(items)] == [s for _, s in _item_outcomes(other_items)] == ["played"] * len(items)


def test_bad_reports_are_rejected_per_item_and_the_rest_stored(station, items):
    now = timezone.now()
    batch = [
        report(items[0], "ok-1"),
        "not an object",
        report(items[1], "bad-status", "exploded"),
        report(items[1], "bad-order", started_at=items[1].starts_at.isoformat(),
               ended_at=(items[1].starts_at - dt.timedelta(minutes=1)).isoformat()),
        report(items[1], "future", started_at=(now + dt.timedelta(days=2)).isoformat()),
        report(items[1], "ok-1"),  # duplicate inside the batch
        {"report_id": "no-time", "playlist_item": items[1].pk, "status": "played"},
        report(items[1], "garbled-time", started_at="hôm qua"),
        report(items[1], "ok-2"),
    ]
    result = ingest_reports(station, batch, now=now)
    assert result.accepted == 2 and result.duplicates == 0
    rejected = {r["index"]: r for r in result.rejected}
    assert sorted(rejected) == [1, 2, 3, 4, 5, 6, 7]
    assert "non_field_errors" in rejected[1]["errors"]
    assert "status" in rejected[2]["errors"]
    assert "ended_at" in rejected[3]["errors"]
    assert "started_at" in rejected[4]["errors"]
    assert "report_id" in rejected[5]["errors"]
    assert "started_at" in rejected[6]["errors"]
    assert "started_at" in rejected[7]["errors"]
    assert rejected[2]["report_id"] == "bad-status"
    assert set(PlaybackReport.objects.values_list("report_id", flat=True)) == {"ok-1", "ok-2"}


def test_report_for_another_stations_item_is_rejected_without_leaking(station, station_client_for, items, day):
    other = StationFactory()
    foreign = make_playlist(other, day, [items[0].bulletin])[0]
    missing_id = PlaylistItem.objects.order_by("-pk").first().pk + 1000
    client = station_client_for(station)
    resp = client.post(URL, {"reports": [report(foreign, "x1"), {**report(items[0], "x2"), "playlist_item": missing_id},
                                         report(items[0], "x3")]}, format="json")
    body = resp.json()
    assert resp.status_code == 200
    assert body["accepted"] == 1
    errors = [r["errors"] for r in body["rejected"]]
    # The same message whether the item exists elsewhere or not at all: no leak.
    assert errors[0] == errors[1] == {"playlist_item": ["Không tìm thấy mục phát này trong danh sách phát của đài."]}
    assert other.code not in resp.content.decode()
    assert not PlaybackReport.objects.filter(playlist_item=foreign).exists()


def test_envelope_must_be_an_object_with_a_list(station, station_client_for):
    client = station_client_for(station)
    assert client.post(URL, [{"report_id": "a"}], format="json").status_code == 400
    resp = client.post(URL, {"reports": {"report_id": "a"}}, format="json")
    assert resp.status_code == 400 and "reports" in resp.json()


def test_more_than_the_batch_limit_is_413(station, station_client_for, settings):
    settings.REPORTS_MAX_BATCH = 5
    resp = station_client_for(station).post(URL, {"reports": [{}] * 6}, format="json")
    assert resp.status_code == 413
    assert PlaybackReport.objects.count() == 0


def test_staff_and_anonymous_cannot_post_reports(api_client, client_for, supervisor):
    assert api_client.post(URL, {"reports": []}, format="json").status_code == 401
    assert client_for(supervisor).post(URL, {"reports": []}, format="json").status_code == 403


def test_a_failed_then_late_played_report_turns_the_item_played_and_never_back(station, items):
    ingest_reports(station, [report(items[0], "a", "failed")])
    items[0].refresh_from_db()
    assert items[0].report_status == "failed"
    ingest_reports(station, [report(items[0], "b", "played")])
    ingest_reports(station, [report(items[0], "c", "skipped")])
    items[0].refresh_from_db()
    assert items[0].report_status == "played"


def test_reports_survive_deletion_of_the_planned_item(station, items):
    ingest_reports(station, [report(items[0], "keep")])
    items[0].playlist.delete()
    stored = PlaybackReport.objects.get(report_id="keep")
    assert stored.playlist_item_id is None
    assert stored.bulletin_title == "Bản tin A" and stored.sha256 == items[0].sha256
    # Replaying the same report after the item is gone still counts as a duplicate.
    assert ingest_reports(station, [report(items[0], "keep")]).duplicates == 1


def test_ingest_uses_a_constant_number_of_queries(station, items, django_assert_max_num_queries, day):
    more = make_playlist(station, day + dt.timedelta(days=1), [items[0].bulletin] * 1)
    batch = [report(it, f"q{i}-{n}") for n in range(50) for i, it in enumerate(items + more)]
    with django_assert_max_num_queries(12):
        result = ingest_reports(station, batch)
    assert result.accepted == len(batch)
