"""Who may do what to a bulletin, as a matrix over roles and actions (issue: editorial workflow)."""

from __future__ import annotations

import pytest

from stations.services import issue_station_token
from tests.factories import DistrictOperatorFactory, StationFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/bulletins/"
BODY = {"title": "Lịch tiêm chủng", "body": "Trạm y tế phường tiêm vắc xin vào thứ Bảy.", "category": "health"}

# action -> (method, path suffix, payload, state the bulletin must be in first)
ACTIONS = {
    "list": ("get", "", None, "draft"),
    "detail": ("get", "{id}/", None, "draft"),
    "history": ("get", "{id}/history/", None, "draft"),
    "audio": ("get", "{id}/audio/", None, "draft"),
    "create": ("post", "", BODY, None),
    "edit": ("patch", "{id}/", {"title": "Lịch tiêm chủng (sửa)"}, "draft"),
    "submit": ("post", "{id}/submit/", {}, "draft"),
    "approve": ("post", "{id}/approve/", {"comment": "Đạt"}, "in_review"),
    "reject": ("post", "{id}/reject/", {"comment": "Sai số liệu"}, "in_review"),
}
ALLOWED = {200, 201}
# Expected status per (role, action). "author" is the editor who wrote the bulletin.
MATRIX = {
    "author":            {"list": 200, "detail": 200, "history": 200, "audio": 200, "create": 201, "edit": 200,
                          "submit": 200, "approve": 403, "reject": 403},
    "other_editor":      {"list": 200, "detail": 200, "history": 200, "audio": 200, "create": 201, "edit": 403,
                          "submit": 403, "approve": 403, "reject": 403},
    "approver":          {"list": 200, "detail": 200, "history": 200, "audio": 200, "create": 403, "edit": 403,
                          "submit": 403, "approve": 200, "reject": 200},
    "supervisor":        {"list": 200, "detail": 200, "history": 200, "audio": 200, "create": 403, "edit": 403,
                          "submit": 403, "approve": 403, "reject": 403},
    "district_operator": {a: 403 for a in ACTIONS},
    "station":           {a: 403 for a in ACTIONS},
    "anonymous":         {a: 401 for a in ACTIONS},
}


def _client(role: str, author, client_for, api_client):  # noqa: ANN001
    if role == "author":
        return client_for(author)
    if role == "anonymous":
        return api_client
    if role == "station":
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_station_token(StationFactory())}")
        return api_client
    if role == "district_operator":
        return client_for(DistrictOperatorFactory().user)
    group = "editor" if role == "other_editor" else role
    return client_for(UserFactory(roles=[group]))


@pytest.mark.parametrize("role", list(MATRIX))
@pytest.mark.parametrize("action", list(ACTIONS))
def test_bulletin_permission_matrix(role, action, client_for, api_client, fake_render,
                                    django_capture_on_commit_callbacks):
    author = UserFactory(username="tacgia", roles=["editor"])
    method, suffix, payload, state = ACTIONS[action]
    bulletin_id = None
    if state is not None:
        created = client_for(author).post(URL, BODY, format="json")
        assert created.status_code == 201
        bulletin_id = created.data["id"]
        if state == "in_review":
            with django_capture_on_commit_callbacks(execute=True):
                assert client_for(author).post(f"{URL}{bulletin_id}/submit/").status_code == 200
    client = _client(role, author, client_for, api_client)
    response = getattr(client, method)(URL + suffix.format(id=bulletin_id), payload, format="json")
    expected = MATRIX[role][action]
    assert response.status_code == expected, (role, action, response.status_code, getattr(response, "data", None))
    if expected not in ALLOWED and bulletin_id is not None:
        # A refused action changes nothing stored.
        from broadcast.models import Bulletin

        assert Bulletin.objects.get(pk=bulletin_id).status == state
        assert Bulletin.objects.get(pk=bulletin_id).title == BODY["title"]
