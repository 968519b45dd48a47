"""The site root and start pages by role, sign-in, the shared layout (navigation by role, counts, sign-out,
lang="vi") and the Vietnamese 403 page with a link home."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from broadcast.models import BulletinTransition, Notification
from broadcast.services import bulletins as services
from broadcast.services.notifications import notify_transition
from tests.factories import CommuneOperatorFactory, UserFactory
from tests.newsroom.pages import signed_in as _signed_in
from tests.newsroom.pages import visible_text
from tests.newsroom.test_notifications import _draft
from tests.test_vietnamese_errors import ENGLISH

pytestmark = pytest.mark.django_db
PASSWORD = "mat-khau-thu-nghiem"


def test_a_signed_out_person_at_the_root_is_sent_to_the_login_page_and_back():
    response = Client().get("/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/?next=/"
    page = Client().get(response["Location"]).content.decode()
    assert 'name="next" value="/"' in page and '<html lang="vi">' in page


@pytest.mark.parametrize(("roles", "start"), [
    (["editor"], "/newsroom/bulletins/"),
    (["approver"], "/newsroom/review/"),
    (["supervisor"], "/dashboard/"),
    (["district_operator"], "/dashboard/"),
    (["editor", "approver"], "/newsroom/bulletins/"),
    (["approver", "supervisor"], "/newsroom/review/"),
    (["supervisor", "editor"], "/newsroom/bulletins/"),
])
@pytest.mark.parametrize("address", ["/", "/newsroom/"])
def test_the_root_and_the_newsroom_lead_to_the_start_page_of_the_first_role(roles, start, address):
    user = UserFactory(roles=roles)
    response = _signed_in(user).get(address)
    assert response.status_code == 302 and response["Location"] == start


def test_a_commune_operator_starts_on_the_dashboard():
    operator = CommuneOperatorFactory().user
    assert _signed_in(operator).get("/")["Location"] == "/dashboard/"


def test_newsroom_requires_sign_in():
    response = Client().get("/newsroom/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/?next=/newsroom/"


def test_staff_without_a_role_are_told_in_vietnamese_whom_to_ask():
    UserFactory(username="quantri", first_name="Hùng", last_name="Trần", is_superuser=True, is_staff=True)
    nobody = UserFactory(username="moi-vao")
    response = _signed_in(nobody).get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="vi">' in html
    text = visible_text(html)
    assert "chưa được giao vai trò" in text and "moi-vao" in text
    assert "Hùng Trần" in text and "quantri@loa.test" in text
    assert not ENGLISH.search(text), ENGLISH.search(text)


def test_a_superuser_without_a_role_starts_in_the_admin():
    admin = UserFactory(username="quantri", is_superuser=True, is_staff=True)
    assert _signed_in(admin).get("/")["Location"] == "/admin/"


@pytest.mark.parametrize(("username", "roles", "start"), [
    ("bientap-dn", ["editor"], "/newsroom/bulletins/"),
    ("kiemduyet-dn", ["approver"], "/newsroom/review/"),
    ("giamsat-dn", ["supervisor"], "/dashboard/"),
])
def test_signing_in_from_the_root_lands_on_the_start_page_of_the_role(username, roles, start):
    UserFactory(username=username, roles=roles)
    client = Client()
    login_url = client.get("/")["Location"]
    form = client.get(login_url).content.decode()
    next_value = re.search(r'name="next" value="([^"]*)"', form).group(1)

    response = client.post(login_url, {"username": username, "password": PASSWORD, "next": next_value})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/")["Location"] == start


def test_signing_in_without_next_goes_to_the_root():
    UserFactory(username="kiemduyet-dn2", roles=["approver"])
    client = Client()
    response = client.post("/accounts/login/", {"username": "kiemduyet-dn2", "password": PASSWORD})
    assert response["Location"] == "/"


def test_the_login_page_is_part_of_the_newsroom_and_keeps_the_name_typed():
    UserFactory(username="bientap-sai")
    html = Client().post("/accounts/login/", {"username": "bientap-sai", "password": "sai"}).content.decode()
    assert "newsroom/newsroom.css" in html and '<html lang="vi">' in html
    assert "không đúng" in html and 'value="bientap-sai"' in html
    assert 'for="id_username"' in html and 'for="id_password"' in html
    assert not ENGLISH.search(visible_text(html))


# ---------------------------------------------------------------- the layout


def _nav(html: str) -> str:
    return html.split('<nav class="nav"')[1].split("</nav>")[0]


def test_the_navigation_of_an_editor(editor):
    html = _signed_in(editor).get("/newsroom/notifications/").content.decode()
    nav = _nav(html)
    assert 'href="/newsroom/bulletins/"' in nav and ">Bản tin" in nav and 'href="/newsroom/bulletins/new/"' in nav
    assert "Hàng chờ duyệt" not in nav and "Giám sát" not in nav
    assert 'data-testid="user-name">bientap<' in html and "Biên tập viên" in html
    # Sign-out is a POST with its CSRF token.
    logout = html.split('class="logout"')[1].split("</form>")[0]
    assert 'action="/accounts/logout/"' in html and "csrfmiddlewaretoken" in logout


def test_the_navigation_of_an_approver_counts_what_waits_for_them(approver, editor):
    services.submit(_draft(editor, "Tin A"), editor)
    services.submit(_draft(editor, "Tin B"), editor)
    both = UserFactory(username="bientap-duyet", roles=["editor", "approver"])
    services.submit(_draft(both, "Tin của chính mình"), both)

    nav = _nav(_signed_in(approver).get("/newsroom/notifications/").content.decode())
    assert 'href="/newsroom/review/"' in nav
    assert re.search(r'Hàng chờ duyệt <span class="count" data-testid="nav-review-count">3</span>', nav)
    nav_both = _nav(_signed_in(both).get("/newsroom/notifications/").content.decode())
    assert 'data-testid="nav-review-count">2<' in nav_both and ">Bản tin" in nav_both


def test_the_navigation_of_a_supervisor_leads_to_the_dashboard(supervisor):
    nav = _nav(_signed_in(supervisor).get("/newsroom/notifications/").content.decode())
    assert 'href="/dashboard/"' in nav and "Giám sát" in nav and "Bản tin" not in nav


def test_the_notification_count_is_in_the_navigation_and_the_page_marks_them_read(editor, approver):
    bulletin = _draft(editor)
    services.submit(bulletin, editor)
    services.reject(bulletin, approver, "Thiếu nguồn tin, bổ sung giúp.")
    notify_transition(BulletinTransition.objects.get(to_status="rejected").pk)
    client = _signed_in(editor)

    queue = client.get("/newsroom/notifications/")
    html = queue.content.decode()
    assert 'data-testid="nav-notifications-count">0<' in html  # read by showing them
    assert '<html lang="vi">' in html and not ENGLISH.search(visible_text(html))
    item = html.split('data-testid="notifications"')[1]
    assert "đã trả lại" in item and "Lý do: Thiếu nguồn tin, bổ sung giúp." in item and "Mới" in item
    assert f'href="/newsroom/bulletins/{bulletin.pk}/"' in item
    assert Notification.objects.get(recipient=editor).read_at is not None
    assert "Mới" not in client.get("/newsroom/notifications/").content.decode().split('data-testid="notifications"')[1]


def test_the_notifications_page_costs_the_same_queries_whatever_it_shows(editor, approver,
                                                                        django_assert_max_num_queries):
    client = _signed_in(editor)
    client.get("/newsroom/notifications/")  # the session and the user warmed
    for i in range(25):
        bulletin = _draft(editor, f"Tin {i}")
        services.submit(bulletin, editor)
        services.reject(bulletin, approver, f"Lý do {i}")
    for transition in BulletinTransition.objects.filter(to_status="rejected"):
        notify_transition(transition.pk)

    with django_assert_max_num_queries(7):
        html = client.get("/newsroom/notifications/").content.decode()
    assert html.count('data-kind="rejected"') == 25
    assert client.get("/newsroom/notifications/", {"page": "khong-phai-so"}).status_code == 200


# ---------------------------------------------------------------- 403


@pytest.mark.urls("tests.newsroom.urls_access")
@pytest.mark.parametrize("address", ["/newsroom/test-approvers/", "/newsroom/test-editors/"])
def test_a_person_without_the_role_gets_a_vietnamese_explanation_and_a_link_home(supervisor, address):
    response = _signed_in(supervisor).get(address)
    assert response.status_code == 403
    html = response.content.decode()
    assert '<html lang="vi">' in html and 'href="/"' in html and "Về trang chủ" in html
    text = visible_text(html)
    assert "Bạn không có quyền xem trang này" in text and "Trang này chỉ dành cho" in text
    assert not ENGLISH.search(text), ENGLISH.search(text)


@pytest.mark.urls("tests.newsroom.urls_access")
def test_the_role_guard_lets_the_role_in_and_sends_a_signed_out_person_to_sign_in(approver, editor):
    assert _signed_in(approver).get("/newsroom/test-approvers/").content == b"ok"
    assert _signed_in(editor).get("/newsroom/test-editors/").content == b"ok"
    for address in ("/newsroom/test-approvers/", "/newsroom/test-editors/"):
        response = Client().get(address)
        assert response.status_code == 302 and response["Location"] == f"/accounts/login/?next={address}"


def test_the_dashboard_refusing_an_editor_says_why_in_vietnamese_with_a_link_home(editor):
    response = _signed_in(editor).get("/dashboard/")
    assert response.status_code == 403
    text = visible_text(response.content.decode())
    assert "Chỉ giám sát viên" in text and "Về trang chủ" in text
    assert not ENGLISH.search(text)


def test_the_api_keeps_answering_json_on_403(editor, client_for):
    response = client_for(editor).get("/api/v1/coverage/")
    assert response.status_code == 403 and response["Content-Type"].startswith("application/json")


def test_a_form_posted_without_its_csrf_token_is_explained_in_vietnamese_with_a_link_home(editor):
    client = Client(enforce_csrf_checks=True)
    client.force_login(editor)
    response = client.post("/accounts/logout/")
    assert response.status_code == 403
    html = response.content.decode()
    assert '<html lang="vi">' in html and "Về trang chủ" in html and "Không gửi được biểu mẫu" in html
    assert "hãy tải lại trang" in html and not ENGLISH.search(visible_text(html))
