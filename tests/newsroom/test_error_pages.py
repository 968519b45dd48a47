"""Pages that go wrong answer in Vietnamese, in the newsroom's layout, with a way home."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_an_unknown_page_is_a_vietnamese_404_with_a_link_home(editor):
    browser = Client()
    browser.force_login(editor)
    page = browser.get("/newsroom/khong-co-trang-nay/")
    assert page.status_code == 404
    html = page.content.decode()
    assert 'lang="vi"' in html and "Không tìm thấy trang" in html
    assert 'data-testid="home-link"' in html and 'href="/"' in html
    assert "Not Found" not in html


def test_an_unknown_api_address_still_answers_json():
    answer = Client().get("/api/v1/khong-co/")
    assert answer.status_code == 404
    assert answer.json()["code"] == "not_found"
