"""`?search=` takes a bounded number of words: each word adds conditions to the query, and past a few
hundred SQLite refuses the query ("Expression tree is too large"), which was a 500."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/api/v1/stations/", "/api/v1/districts/", "/api/v1/bulletins/"])
def test_a_search_of_thousands_of_words_is_a_vietnamese_400(client_for, supervisor, station, url):
    response = client_for(supervisor).get(url, {"search": " ".join(f"t{i}" for i in range(2000))})
    assert response.status_code == 400
    assert response.json()["search"] == ["Chỉ tìm được tối đa 20 từ mỗi lần."]


def test_a_search_of_a_few_words_still_finds(client_for, supervisor, station):
    words = " ".join([station.name.split()[0]] * 20)
    response = client_for(supervisor).get("/api/v1/stations/", {"search": words})
    assert response.status_code == 200 and response.json()["count"] >= 1
