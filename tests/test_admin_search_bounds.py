"""The admin's search box takes a bounded number of words, like the API's `?search=`: each word adds
conditions over every search field, and past a few hundred SQLite refuses the query (a 500)."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from tests.factories import StationFactory, UserFactory

pytestmark = pytest.mark.django_db

MESSAGE = "Chỉ tìm được tối đa 20 từ mỗi lần; đã tìm theo 20 từ đầu."

SEARCHABLE = sorted(
    f"{model._meta.app_label}.{model._meta.model_name}"
    for model, model_admin in admin.site._registry.items()
    if model_admin.search_fields
)


@pytest.fixture
def browser(db) -> Client:
    browser = Client()
    browser.force_login(UserFactory(username="quantri", is_staff=True, is_superuser=True))
    return browser


def _changelist(label: str) -> str:
    return reverse("admin:{}_{}_changelist".format(*label.split(".")))


def test_every_searchable_admin_is_checked():
    assert {"stations.station", "stations.district", "broadcast.bulletin", "broadcast.playbackreport",
            "auth.user", "auth.group", "django_celery_beat.periodictask"} <= set(SEARCHABLE)


@pytest.mark.parametrize("label", SEARCHABLE)
def test_an_admin_search_of_thousands_of_words_searches_the_first_ones_with_a_vietnamese_notice(browser, label):
    response = browser.get(_changelist(label), {"q": " ".join(f"t{i}" for i in range(2000))})

    assert response.status_code == 200
    assert MESSAGE in [str(m) for m in response.context["messages"]]


def test_the_admin_search_keeps_the_first_words_and_still_finds(browser):
    wanted = StationFactory(name="Đài truyền thanh Phường Kim Mã")
    other = StationFactory(name="Đài truyền thanh Xã Đông Anh")

    response = browser.get(_changelist("stations.station"), {"q": " ".join(['"Kim Mã"'] * 20 + ["Đông"] * 2000)})

    assert response.status_code == 200
    shown = {station.pk for station in response.context["cl"].result_list}
    assert wanted.pk in shown and other.pk not in shown
    assert MESSAGE in [str(m) for m in response.context["messages"]]


def test_an_admin_search_within_the_bound_has_no_notice(browser):
    wanted = StationFactory(name="Đài truyền thanh Phường Kim Mã")

    response = browser.get(_changelist("stations.station"), {"q": " ".join(["Kim"] * 20)})

    assert [s.pk for s in response.context["cl"].result_list] == [wanted.pk]
    assert not list(response.context["messages"])
