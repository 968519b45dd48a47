"""The editor's desk list: tabs, search without diacritics, filters, sorting, pages, permissions and a
query count that does not grow with the rows shown."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from broadcast.models import Bulletin
from broadcast.services import bulletins as services
from tests.factories import UserFactory, approved_bulletin

URL = "/newsroom/bulletins/"
pytestmark = pytest.mark.django_db


def _titles(response) -> list[str]:  # noqa: ANN001
    return [b.current_revision.title for b in response.context["page"].object_list]


@pytest.fixture
def desk(editor, other_editor, approver):
    """Bulletins of every state by two editors."""
    mine = services.create_bulletin(editor, "Cảnh báo bão số 3", "Bão đổ bộ vào đêm nay.", category="emergency",
                                    priority="emergency")
    services.create_bulletin(editor, "Lịch tiêm chủng", "Tiêm chủng mở rộng tại trạm y tế.", category="health")
    theirs = services.create_bulletin(other_editor, "Thông báo giao thông", "Cấm đường Lê Lợi.",
                                      category="traffic", priority="high")
    Bulletin.objects.filter(pk=theirs.pk).update(status=Bulletin.Status.IN_REVIEW)
    rejected = services.create_bulletin(editor, "Họp tổ dân phố", "Họp lúc 19 giờ.")
    Bulletin.objects.filter(pk=rejected.pk).update(status=Bulletin.Status.IN_REVIEW)
    services.reject(Bulletin.objects.get(pk=rejected.pk), approver, "Thiếu địa điểm họp.")
    approved_bulletin(title="Văn nghệ cuối tuần", author=editor, approver=approver, category="culture")
    archived = approved_bulletin(title="Tin cũ", author=other_editor, approver=approver)
    Bulletin.objects.filter(pk=archived.pk).update(status=Bulletin.Status.ARCHIVED)
    return mine


def test_signed_out_goes_to_login_and_an_operator_is_refused_in_vietnamese(client, district_operator):
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client.force_login(district_operator)
    response = client.get(URL)
    assert response.status_code == 403
    assert "Trang này chỉ dành cho" in response.content.decode()


@pytest.mark.parametrize("who", ["editor", "approver", "supervisor"])
def test_readers_of_the_api_read_the_list(client, desk, who, request):
    client.force_login(request.getfixturevalue(who))
    response = client.get(URL)
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 6
    html = response.content.decode()
    assert 'lang="vi"' in html and "Cảnh báo bão số 3" in html
    assert ("Viết bản tin mới" in html) == (who == "editor")


@pytest.mark.parametrize(("tab", "expected"), [
    ("mine", {"Cảnh báo bão số 3", "Lịch tiêm chủng"}),
    ("review", {"Thông báo giao thông"}),
    ("rejected", {"Họp tổ dân phố"}),
    ("approved", {"Văn nghệ cuối tuần"}),
    ("archived", {"Tin cũ"}),
])
def test_tabs(client, editor, desk, tab, expected):
    client.force_login(editor)
    assert set(_titles(client.get(URL, {"tab": tab}))) == expected


def test_rejected_shows_the_last_send_back_comment(client, editor, desk):
    client.force_login(editor)
    html = client.get(URL, {"tab": "rejected"}).content.decode()
    assert "Lý do trả lại: Thiếu địa điểm họp." in html


@pytest.mark.parametrize("query", ["bao so 3", "BÃO SỐ 3", "Bão số", "đổ bộ", "do bo", "DEM NAY"])
def test_search_ignores_case_and_diacritics_in_title_and_body(client, editor, desk, query):
    client.force_login(editor)
    assert _titles(client.get(URL, {"q": query})) == ["Cảnh báo bão số 3"]


def test_bao_finds_bao_and_bao_with_any_mark(client, editor, desk):
    client.force_login(editor)
    assert set(_titles(client.get(URL, {"q": "bao"}))) == {"Cảnh báo bão số 3", "Thông báo giao thông"}
    assert _titles(client.get(URL, {"q": "tiem chung mo rong"})) == ["Lịch tiêm chủng"]


def test_search_of_more_words_than_the_api_allows_is_a_vietnamese_400(client, editor, desk):
    client.force_login(editor)
    response = client.get(URL, {"q": " ".join(f"tu{i}" for i in range(30))})
    assert response.status_code == 400
    assert "Chỉ tìm được tối đa" in response.content.decode()


def test_filters_category_priority_status_author_and_date(client, editor, other_editor, desk):
    client.force_login(editor)
    assert _titles(client.get(URL, {"category": "health"})) == ["Lịch tiêm chủng"]
    assert _titles(client.get(URL, {"priority": "high"})) == ["Thông báo giao thông"]
    assert _titles(client.get(URL, {"status": "archived"})) == ["Tin cũ"]
    assert set(_titles(client.get(URL, {"author": other_editor.pk}))) == {"Thông báo giao thông", "Tin cũ"}
    Bulletin.objects.filter(pk=desk.pk).update(created_at=timezone.now() - dt.timedelta(days=10))
    day = (timezone.localdate() - dt.timedelta(days=10)).isoformat()
    assert _titles(client.get(URL, {"created_from": day, "created_to": day})) == ["Cảnh báo bão số 3"]
    assert "Cảnh báo bão số 3" not in _titles(client.get(URL, {"created_from": timezone.localdate().isoformat()}))


@pytest.mark.parametrize("params", [
    {"category": "không-có"}, {"created_from": "32/13/2025"}, {"author": "abc"},
    {"created_from": "2025-05-02", "created_to": "2025-05-01"}, {"page": "x' OR 1=1"}, {"sort": "<script>"},
])
def test_bad_filters_are_400_or_ignored_never_500(client, editor, desk, params):
    client.force_login(editor)
    response = client.get(URL, params)
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert "Bộ lọc chưa hợp lệ" in response.content.decode()


def test_sort_newest_by_default_and_priority_puts_emergency_first(client, editor, desk):
    client.force_login(editor)
    newest = _titles(client.get(URL))
    assert newest[0] == "Tin cũ" and newest[-1] == "Cảnh báo bão số 3"
    by_priority = _titles(client.get(URL, {"sort": "priority"}))
    assert by_priority[:2] == ["Cảnh báo bão số 3", "Thông báo giao thông"]
    assert _titles(client.get(URL, {"sort": "oldest"}))[0] == "Cảnh báo bão số 3"


def test_pages_of_25_keep_the_filters(client, editor):
    for i in range(30):
        services.create_bulletin(editor, f"Tin số {i}", "Nội dung.")
    client.force_login(editor)
    first = client.get(URL, {"q": "tin"})
    assert len(first.context["page"].object_list) == 25
    assert "q=tin&amp;page=2" in first.content.decode()
    second = client.get(URL, {"q": "tin", "page": 2})
    assert len(second.context["page"].object_list) == 5
    assert client.get(URL, {"page": 99}).status_code == 200  # the last page, not an error


def test_htmx_gets_the_list_alone_and_without_js_the_whole_page(client, editor, desk):
    client.force_login(editor)
    partial = client.get(URL, {"q": "bao so"}, headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in partial and "Cảnh báo bão số 3" in partial
    full = client.get(URL, {"q": "bao so"}).content.decode()
    assert "<html" in full and 'hx-get="/newsroom/bulletins/"' in full and 'hx-push-url="true"' in full


@pytest.mark.parametrize("rows", [5, 50])
def test_query_count_does_not_grow_with_the_rows(client, editor, approver, django_assert_max_num_queries, rows):
    authors = [editor, UserFactory(roles=["editor"])]
    for i in range(rows):
        bulletin = services.create_bulletin(authors[i % 2], f"Tin {i}", "Nội dung.")
        if i % 3 == 0:
            Bulletin.objects.filter(pk=bulletin.pk).update(status=Bulletin.Status.IN_REVIEW)
            services.reject(Bulletin.objects.get(pk=bulletin.pk), approver, "Sửa lại.")
    client.force_login(editor)
    with django_assert_max_num_queries(9):
        response = client.get(URL, {"q": "tin", "sort": "priority"})
    assert response.status_code == 200 and len(response.context["page"].object_list) == min(rows, 25)


@pytest.mark.parametrize("query", ["(", "[a-", "\\", ".*", "a|b", "$^", "\"bão", "ß", "100%", "_"])
def test_search_takes_any_characters_literally(client, editor, desk, query):
    client.force_login(editor)
    response = client.get(URL, {"q": query})
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 0 or query == "\"bão"


def test_a_literal_punctuation_search_finds_a_document_code(client, editor):
    services.create_bulletin(editor, "Nghị định", "Theo số 15/2025/NĐ-CP (sửa đổi).")
    services.create_bulletin(editor, "Khác", "Theo số 152025 ND CP.")
    client.force_login(editor)
    assert _titles(client.get(URL, {"q": "15/2025/nd-cp"})) == ["Nghị định"]
    assert _titles(client.get(URL, {"q": "(sua doi)"})) == ["Nghị định"]


def test_approved_tab_also_lists_an_approved_bulletin_being_edited(client, editor, approver):
    on_air = approved_bulletin(title="Văn nghệ", author=editor, approver=approver)
    services.edit_bulletin(on_air, editor, body="Nội dung mới.")
    assert Bulletin.objects.get(pk=on_air.pk).status == "draft"
    client.force_login(editor)
    response = client.get(URL, {"tab": "approved"})
    assert _titles(response) == ["Văn nghệ"]
    assert "đang phát bản cũ" in response.content.decode()


def test_rows_link_to_the_bulletin_page_and_the_authors_to_the_editor(client, editor, other_editor, desk):
    client.force_login(editor)
    html = client.get(URL).content.decode()
    assert f'href="/newsroom/bulletins/{desk.pk}/"' in html and f'href="/newsroom/bulletins/{desk.pk}/edit/"' in html
    theirs = Bulletin.objects.get(title="Thông báo giao thông")
    assert f'href="/newsroom/bulletins/{theirs.pk}/"' in html and f"/newsroom/bulletins/{theirs.pk}/edit/" not in html
