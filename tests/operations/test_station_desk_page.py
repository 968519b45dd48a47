"""The station operator's page: their station only, today and tomorrow by slot, small, refused to others."""

from __future__ import annotations

import pytest

from broadcast.selectors.playlists import local_today
from stations.models import StationOperator
from tests.broadcast.factories_reports import freeze
from tests.factories import UserFactory
from tests.newsroom.pages import signed_in, visible_text
from tests.operations.factories_station_desk import StationOperatorFactory, desk_world

pytestmark = pytest.mark.django_db
PAGE = "/my-station/"


@pytest.fixture
def world():
    return desk_world()


def test_the_page_lists_today_and_tomorrow_of_the_own_station_by_slot(world):
    with freeze(world.noon):
        response = signed_in(world.operator).get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    text = visible_text(html)
    assert world.station.name in text
    assert "Hôm nay" in text and "Ngày mai" in text
    assert "Khung Sáng 06:00–06:30" in text and "Khung Chiều tối 17:00–17:30" in text
    assert text.count("Lịch tiêm chủng tuần này") == 4  # morning and evening, today and tomorrow
    assert "Bản tin đài khác" not in text
    assert "Khẩn cấp" in text  # the priority badge of the urgent item
    for item in [*world.items, *world.tomorrow]:
        assert f'id="item-{item.pk}"' in html
        assert 'preload="none"' in html
    assert f'id="item-{world.theirs[0].pk}"' not in html
    assert 'lang="vi"' in html


def test_only_items_whose_slot_has_opened_get_report_buttons(world):
    with freeze(world.noon):
        html = signed_in(world.operator).get(PAGE).content.decode()
    assert f'data-testid="played-{world.morning.pk}"' in html
    assert f'data-testid="played-{world.evening.pk}"' not in html  # 17:00 has not come
    assert f'data-testid="played-{world.tomorrow[0].pk}"' not in html
    assert "Chưa đến giờ phát" in html


def test_each_form_carries_its_own_one_time_press_id(world):
    with freeze(world.noon):
        first = signed_in(world.operator).get(PAGE).content.decode()
        second = signed_in(world.operator).get(PAGE).content.decode()
    import re

    ids_first = re.findall(r'name="press_id" value="([0-9a-f]{32})"', first)
    ids_second = re.findall(r'name="press_id" value="([0-9a-f]{32})"', second)
    assert len(ids_first) == len(set(ids_first)) == 2  # the two morning items
    assert not set(ids_first) & set(ids_second)


def test_the_page_is_small_and_ships_no_script_of_its_own(world):
    with freeze(world.noon):
        response = signed_in(world.operator).get(PAGE)
    html = response.content.decode()
    assert len(response.content) < 30_000
    assert "operations/station_desk.css" in html
    assert html.count("<script") <= 2  # only the layout's htmx


def test_people_who_are_not_station_operators_are_refused(world):
    for role in ("editor", "supervisor", "commune_operator"):
        response = signed_in(UserFactory(roles=[role])).get(PAGE)
        assert response.status_code == 403, role
        assert "Nhân viên đài" in visible_text(response.content.decode())


def test_a_station_operator_tied_to_no_station_is_told_so(world):
    StationOperator.objects.filter(user=world.operator).delete()
    response = signed_in(world.operator).get(PAGE)
    assert response.status_code == 403
    assert "chưa được gắn với đài nào" in visible_text(response.content.decode())


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(PAGE)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_day_without_playlist_says_so(db):
    operator = StationOperatorFactory()
    text = visible_text(signed_in(operator.user).get(PAGE).content.decode())
    assert text.count("Chưa có danh sách phát cho ngày này.") == 2
    assert local_today().strftime("%d/%m/%Y") in text


def test_the_page_reads_a_bounded_number_of_queries(world, django_assert_max_num_queries):
    client = signed_in(world.operator)
    with freeze(world.noon), django_assert_max_num_queries(10):
        assert client.get(PAGE).status_code == 200
