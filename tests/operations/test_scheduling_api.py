"""The schedule API's preview (POST /schedules/preview/, /schedules/<id>/preview/) and edit (PATCH):
create's validation with Vietnamese 400s, the same numbers as saving, supervisors only."""

from __future__ import annotations

import datetime as dt

import pytest

from broadcast.models import PlaylistItem, Schedule
from broadcast.selectors.playlists import local_today
from tests.factories import AdminUnitFactory, StationFactory, approved_bulletin

pytestmark = pytest.mark.django_db
URL = "/api/v1/schedules/"


def _body(bulletin, **kw) -> dict:
    day = (local_today() + dt.timedelta(days=1)).isoformat()
    return {"bulletin": bulletin.pk, "start_date": day, "end_date": day, "slots": ["morning"],
            "targets": {"units": ["00004"]}, **kw}


@pytest.fixture
def unit(db):
    unit = AdminUnitFactory(code="00004", name="Phường Ba Đình")
    StationFactory(code="BD0", unit=unit)
    StationFactory(code="BD1", unit=unit)
    return unit


def test_preview_answers_what_create_then_answers(client_for, supervisor, unit, django_capture_on_commit_callbacks):
    bulletin = approved_bulletin()
    client = client_for(supervisor)
    preview = client.post(f"{URL}preview/", _body(bulletin, plays_per_slot=2), format="json")
    assert preview.status_code == 200, preview.content
    data = preview.json()
    assert data["station_count"] == 2 and data["refused"] == "" and data["overfull_slots"] == 0
    assert not Schedule.objects.exists()
    fill = data["plan"]["fill"]
    assert {(f["slot"], f["schedule_plays"], f["station_slots"]) for f in fill} == {("morning", 4, 2), ("evening", 0, 2)}
    assert fill[0]["times"] == ["06:00–06:30"]
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post(URL, _body(bulletin, plays_per_slot=2), format="json")
    plan = created.json()["plan"]
    assert {k: plan[k] for k in ("planned", "placed", "carried", "unplaced")} == {
        k: data["plan"][k] for k in ("planned", "placed", "carried", "unplaced")}
    assert PlaylistItem.objects.filter(schedule_id=created.json()["id"]).count() == data["plan"]["placed"]


def test_preview_and_patch_refuse_bad_input_in_vietnamese(client_for, supervisor, unit,
                                                          django_capture_on_commit_callbacks):
    client = client_for(supervisor)
    bulletin = approved_bulletin()
    bad = client.post(f"{URL}preview/", _body(bulletin, targets={"units": ["99999"]}, slots=["bogus"]), format="json")
    assert bad.status_code == 400
    assert bad.json()["targets"] == ["Không tìm thấy xã/phường: 99999."]
    with django_capture_on_commit_callbacks(execute=True):
        schedule_id = client.post(URL, _body(bulletin), format="json").json()["id"]
    patched = client.patch(f"{URL}{schedule_id}/", _body(bulletin, end_date="2020-01-01"), format="json")
    assert patched.status_code == 400 and patched.json()["end_date"] == ["Ngày kết thúc phải sau hoặc bằng ngày bắt đầu."]
    nothing = client.patch(f"{URL}{schedule_id}/", {}, format="json")
    assert nothing.status_code == 400 and "targets" in nothing.json()


def test_patch_edits_and_rebuilds_old_and_new_stations(client_for, supervisor, unit, django_capture_on_commit_callbacks):
    StationFactory(code="XX1")
    client = client_for(supervisor)
    bulletin = approved_bulletin()
    with django_capture_on_commit_callbacks(execute=True):
        schedule_id = client.post(URL, _body(bulletin), format="json").json()["id"]
    edit = {k: v for k, v in _body(bulletin, targets={"stations": ["XX1"]}, slots=["evening"]).items()
            if k != "bulletin"}
    preview = client.post(f"{URL}{schedule_id}/preview/", edit, format="json")
    assert preview.status_code == 200 and preview.json()["station_count"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        patched = client.patch(f"{URL}{schedule_id}/", edit, format="json")
    assert patched.status_code == 200, patched.content
    assert patched.json()["slots"] == ["evening"] and patched.json()["plan"]["placed"] == 1
    assert set(PlaylistItem.objects.filter(schedule_id=schedule_id).values_list(
        "playlist__station__code", "slot")) == {("XX1", "evening")}


def test_only_supervisors_preview_or_edit(client_for, district_operator, editor, unit, supervisor):
    bulletin = approved_bulletin()
    schedule_id = client_for(supervisor).post(URL, _body(bulletin), format="json").json()["id"]
    for user in (district_operator, editor):
        assert client_for(user).post(f"{URL}preview/", _body(bulletin), format="json").status_code == 403
        assert client_for(user).patch(f"{URL}{schedule_id}/", _body(bulletin), format="json").status_code in (403, 404)


def test_a_cancelled_schedule_cannot_be_edited(client_for, supervisor, unit):
    client = client_for(supervisor)
    bulletin = approved_bulletin()
    schedule_id = client.post(URL, _body(bulletin), format="json").json()["id"]
    assert client.delete(f"{URL}{schedule_id}/").status_code == 204
    answer = client.patch(f"{URL}{schedule_id}/", _body(bulletin), format="json")
    assert answer.status_code == 409 and "hủy" in answer.json()["detail"]
