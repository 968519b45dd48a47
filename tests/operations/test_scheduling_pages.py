"""The supervisor's scheduling pages: list with filters, new with preview (htmx and without JS) and live
station count, save, edit and cancel with confirmation; bad input re-renders the form in Vietnamese;
operators get the 403 page."""

from __future__ import annotations

import datetime as dt

import pytest

from broadcast.models import PlaylistItem, Schedule
from broadcast.selectors.playlists import local_today
from broadcast.services.schedules import create_schedule
from tests.factories import AdminUnitFactory, StationFactory, UserFactory
from tests.newsroom.pages import signed_in, visible_text
from tests.operations.factories_scheduling import bulletin_of, tomorrow

pytestmark = pytest.mark.django_db
NEW = "/operations/schedules/new/"


@pytest.fixture
def city(db):
    unit = AdminUnitFactory(code="00004", name="Phường Ba Đình")
    for n in range(2):
        StationFactory(code=f"BD{n}", unit=unit)
    StationFactory(code="XX1")
    return bulletin_of(30_000, "Phòng chống bão")


def _post(bulletin, action, **kw):
    return {"bulletin": bulletin.pk, "units": ["00004"], "start_date": tomorrow().isoformat(),
            "end_date": tomorrow().isoformat(), "slots": ["morning", "evening"], "plays_per_slot": "1",
            "action": action, **kw}


def test_preview_without_javascript_shows_the_numbers_and_saves_nothing(supervisor, city):
    response = signed_in(supervisor).post(NEW, _post(city, "preview"))
    assert response.status_code == 200
    text = visible_text(response.content.decode())
    assert "Đài nhận 2" in text and "Xếp được 4" in text and "Chưa xếp được 0" in text
    assert "Thứ Hai" in text and "Sáng (morning) 06:00–06:30" in text
    assert not Schedule.objects.exists()


def test_preview_over_htmx_answers_the_partial(supervisor, city):
    response = signed_in(supervisor).post(NEW, _post(city, "preview"), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="preview"' in html and "<html" not in html
    assert 'data-testid="pv-placed">4<' in html


def test_the_live_count_follows_the_targets(supervisor, city):
    client = signed_in(supervisor)
    assert "<strong>2</strong> đài" in client.get("/operations/schedules/count/", {"units": ["00004"]}).content.decode()
    assert "<strong>3</strong> đài" in client.get("/operations/schedules/count/", {"all": "on"}).content.decode()
    assert client.get("/operations/schedules/count/", {"units": ["nope"]}).status_code == 400


def test_saving_creates_the_schedule_and_builds_the_playlists(supervisor, city, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in(supervisor).post(NEW, _post(city, "save"))
    schedule = Schedule.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/operations/schedules/{schedule.pk}/"
    assert PlaylistItem.objects.filter(schedule=schedule, position__isnull=False).count() == 4


def test_bad_input_rerenders_the_form_in_vietnamese(supervisor, city):
    client = signed_in(supervisor)
    past = (local_today() - dt.timedelta(days=5)).isoformat()
    response = client.post(NEW, _post(city, "save", end_date=past, start_date=past, stations="KHONGCO"))
    assert response.status_code == 400
    text = visible_text(response.content.decode())
    assert "Ngày kết thúc đã qua." in text and "Không tìm thấy đài: KHONGCO." in text
    empty = client.post(NEW, {"action": "save"})
    assert empty.status_code == 400 and "Trường này là bắt buộc." in visible_text(empty.content.decode())
    assert not Schedule.objects.exists()


def test_edit_with_preview_then_save_and_cancel_with_confirmation(supervisor, city, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        schedule = create_schedule(city, by=supervisor, start_date=tomorrow(), end_date=tomorrow(), slots=["morning"],
                                   targets={"units": ["00004"]})
    url = f"/operations/schedules/{schedule.pk}/"
    client = signed_in(supervisor)
    page = visible_text(client.get(url).content.decode())
    assert "Phòng chống bão" in page and "Sửa lịch phát" in page
    body = _post(city, "preview", units=[], stations="XX1")
    body.pop("bulletin")
    preview = client.post(url, body)
    assert "Đài nhận 1" in visible_text(preview.content.decode())
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, {**body, "action": "save"}).status_code == 302
    assert set(PlaylistItem.objects.filter(schedule=schedule).values_list("playlist__station__code", flat=True)) == {"XX1"}

    refused = client.post(url, {"action": "cancel"})
    assert refused.status_code == 400 and "xác nhận" in visible_text(refused.content.decode())
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, {"action": "cancel", "confirm": "1"}).status_code == 302
    schedule.refresh_from_db()
    assert schedule.cancelled_at is not None
    assert not PlaylistItem.objects.filter(schedule=schedule).exists()


def test_list_filters_by_state(supervisor, city):
    current = create_schedule(city, by=supervisor, start_date=local_today(), end_date=tomorrow(), slots=["evening"],
                              targets={"all": True})
    coming = create_schedule(city, by=supervisor, start_date=tomorrow() + dt.timedelta(days=5),
                             end_date=tomorrow() + dt.timedelta(days=6), slots=["morning"], targets={"all": True})
    client = signed_in(supervisor)
    default = client.get("/operations/schedules/").content.decode()
    assert f"#{current.pk}<" in default and f"#{coming.pk}<" in default
    now_page = client.get("/operations/schedules/", {"state": "current"}).content.decode()
    assert f"#{current.pk}<" in now_page and f"#{coming.pk}<" not in now_page
    later = client.get("/operations/schedules/", {"state": "coming"}).content.decode()
    assert f"#{coming.pk}<" in later and f"#{current.pk}<" not in later
    assert client.get("/operations/schedules/", {"state": "nonsense"}).status_code == 400


@pytest.mark.parametrize("role", ["district_operator", "commune_operator", "editor"])
def test_only_supervisors_may_schedule(role, city):
    client = signed_in(UserFactory(roles=[role]))
    for url in ("/operations/schedules/", NEW):
        response = client.get(url)
        assert response.status_code == 403
        assert "Giám sát" in visible_text(response.content.decode())
