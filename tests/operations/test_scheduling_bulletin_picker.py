"""The new-schedule page offers the newest airable bulletins and a search that ignores diacritics (htmx
partial, or the page itself without JavaScript); any airable bulletin may be scheduled by id, shown or not;
the page writes its options itself, not one widget template per option."""

from __future__ import annotations

import datetime as dt

import pytest

from broadcast.models import Bulletin, Schedule
from broadcast.operations.scheduling import forms as scheduling_forms
from broadcast.selectors.playlists import local_today
from tests.factories import AdminUnitFactory, StationFactory, UserFactory, approved_bulletin
from tests.newsroom.pages import signed_in, visible_text

pytestmark = pytest.mark.django_db
NEW = "/operations/schedules/new/"
SEARCH = "/operations/schedules/bulletins/"


@pytest.fixture
def news(db):
    unit = AdminUnitFactory(code="00004", name="Phường Ba Đình")
    StationFactory(code="BD0", unit=unit)
    storm = approved_bulletin(title="Phòng chống bão số 3")
    water = approved_bulletin(title="Lịch cắt nước")
    power = approved_bulletin(title="Lịch cắt điện")
    draft = Bulletin.objects.create(title="Bão: bản nháp", author=UserFactory(roles=["editor"]))
    return {"storm": storm, "water": water, "power": power, "draft": draft}


def _option_ids(html: str, bulletins: dict) -> set[str]:
    return {name for name, b in bulletins.items() if f'<option value="{b.pk}"' in html}


def test_the_search_finds_a_bulletin_whatever_its_diacritics_over_htmx(supervisor, news):
    response = signed_in(supervisor).get(SEARCH, {"q": "bao"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert _option_ids(html, news) == {"storm"}  # the draft is not airable


def test_the_search_works_without_javascript_as_a_get_of_the_page(supervisor, news):
    response = signed_in(supervisor).get(NEW, {"q": "cat dien"})
    assert response.status_code == 200
    html = response.content.decode()
    assert _option_ids(html, news) == {"power"}
    assert 'value="cat dien"' in html  # the search box keeps what was typed


def test_the_page_offers_only_the_newest_airable_bulletins(supervisor, news, monkeypatch):
    monkeypatch.setattr(scheduling_forms, "SHOWN_BULLETINS", 2)
    html = signed_in(supervisor).get(NEW).content.decode()
    assert _option_ids(html, news) == {"water", "power"}
    assert "gõ để tìm" in visible_text(html)


def test_a_bulletin_not_shown_is_preselected_by_id_and_can_be_scheduled(supervisor, news, monkeypatch):
    monkeypatch.setattr(scheduling_forms, "SHOWN_BULLETINS", 1)
    client = signed_in(supervisor)
    storm = news["storm"]
    page = client.get(NEW, {"bulletin": storm.pk}).content.decode()
    assert f'<option value="{storm.pk}" selected>' in page
    tomorrow = (local_today() + dt.timedelta(days=1)).isoformat()
    body = {"bulletin": storm.pk, "units": ["00004"], "start_date": tomorrow, "end_date": tomorrow,
            "slots": ["morning"], "plays_per_slot": "1", "action": "save"}
    assert client.post(NEW, body).status_code == 302
    assert Schedule.objects.get().bulletin_id == storm.pk


def test_a_bulletin_that_cannot_air_is_refused_on_the_server(supervisor, news):
    tomorrow = (local_today() + dt.timedelta(days=1)).isoformat()
    body = {"bulletin": news["draft"].pk, "units": ["00004"], "start_date": tomorrow, "end_date": tomorrow,
            "slots": ["morning"], "plays_per_slot": "1", "action": "save"}
    response = signed_in(supervisor).post(NEW, body)
    assert response.status_code == 400
    assert "Bản tin này chưa lên lịch được" in visible_text(response.content.decode())
    assert not Schedule.objects.exists()


def test_the_form_pages_render_no_widget_template_per_option(supervisor, news):
    from broadcast.services.schedules import create_schedule

    tomorrow = local_today() + dt.timedelta(days=1)
    schedule = create_schedule(news["storm"], by=supervisor, start_date=tomorrow, end_date=tomorrow, slots=["morning"],
                               targets={"units": ["00004"]})
    client = signed_in(supervisor)
    for url in (NEW, f"/operations/schedules/{schedule.pk}/"):
        response = client.get(url)
        names = [t.name for t in response.templates]
        assert "django/forms/widgets/select_option.html" not in names, url


def test_a_supervisor_goes_from_an_approved_bulletins_page_to_scheduling_it(supervisor, news):
    storm = news["storm"]
    link = f'href="{NEW}?bulletin={storm.pk}"'
    assert link in signed_in(supervisor).get(f"/newsroom/bulletins/{storm.pk}/").content.decode()
    draft_page = signed_in(supervisor).get(f"/newsroom/bulletins/{news['draft'].pk}/").content.decode()
    assert f"?bulletin={news['draft'].pk}" not in draft_page
    editor_page = signed_in(UserFactory(roles=["editor"])).get(f"/newsroom/bulletins/{storm.pk}/").content.decode()
    assert link not in editor_page
