"""Who may do what: the whole permission matrix (role × action → HTTP status) in one table, and the
check that the API and the role grants of stations/roles.py (Django group permissions) agree."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from broadcast.models import Bulletin, Schedule
from broadcast.selectors.playlists import local_today
from broadcast.services import bulletins as bulletin_services
from broadcast.services.schedules import create_schedule
from stations.models import StationCredential
from stations.roles import ROLE_GRANTS, STAFF_API_ROLES
from stations.services import issue_station_token
from tests.factories import (
    AdminUnitFactory,
    CommuneOperatorFactory,
    DistrictOperatorFactory,
    StationFactory,
    UserFactory,
    approved_bulletin,
)
from tests.operations.factories_station_desk import StationOperatorFactory

pytestmark = pytest.mark.django_db

BODY = {"title": "Lịch tiêm chủng", "body": "Trạm y tế phường tiêm vắc xin vào thứ Bảy.", "category": "health"}
DENIED = 403


@dataclass
class World:
    """What every action works on: the acting user, a station of their district and unit and another
    elsewhere, an outside author."""

    actor: Any
    own_station: Any
    other_station: Any
    author: Any
    supervisor: Any


def _bulletin(world: World, *, own: bool, state: str) -> Bulletin:
    bulletin = bulletin_services.create_bulletin(world.actor if own else world.author, **BODY)
    if state == "in_review":
        bulletin = bulletin_services.submit(bulletin, bulletin.author)
    return bulletin


def _schedule(world: World, station) -> Schedule:
    today = local_today()
    return create_schedule(approved_bulletin(), by=world.supervisor, start_date=today,
                           end_date=today + dt.timedelta(days=1), slots=["morning"],
                           targets={"stations": [station.code]})


def _schedule_body(world: World) -> dict:
    today = local_today()
    return {"bulletin": approved_bulletin(author=world.author).pk, "start_date": today.isoformat(),
            "end_date": (today + dt.timedelta(days=2)).isoformat(), "slots": ["morning"], "targets": {"all": True}}


@dataclass
class Action:
    """A request; `perms` are the Django permissions it needs (None: any staff reader); `object_rule`: the
    permissions are necessary but a rule about the object (author, four eyes) may still refuse."""

    method: str
    url: Callable[[World], str]
    body: Callable[[World], dict | None] = lambda w: None
    perms: tuple[str, ...] | None = None
    object_rule: bool = False


B = "/api/v1/bulletins/"
ACTIONS: dict[str, Action] = {
    "bulletin.list": Action("get", lambda w: B, perms=("broadcast.view_bulletin",)),
    "bulletin.read": Action("get", lambda w: f"{B}{_bulletin(w, own=False, state='draft').pk}/",
                            perms=("broadcast.view_bulletin",)),
    "bulletin.read_airing_own_district": Action(
        "get", lambda w: f"{B}{_schedule(w, w.own_station).bulletin_id}/", perms=("broadcast.view_bulletin",)),
    "bulletin.read_airing_other_district": Action(
        "get", lambda w: f"{B}{_schedule(w, w.other_station).bulletin_id}/", perms=("broadcast.view_bulletin",)),
    "bulletin.create": Action("post", lambda w: B, lambda w: BODY, perms=("broadcast.add_bulletin",)),
    "bulletin.edit_own": Action("patch", lambda w: f"{B}{_bulletin(w, own=True, state='draft').pk}/",
                                lambda w: {"title": "Sửa"}, perms=("broadcast.change_bulletin",)),
    "bulletin.edit_other": Action("patch", lambda w: f"{B}{_bulletin(w, own=False, state='draft').pk}/",
                                  lambda w: {"title": "Sửa"}, perms=("broadcast.change_bulletin",), object_rule=True),
    "bulletin.submit_own": Action("post", lambda w: f"{B}{_bulletin(w, own=True, state='draft').pk}/submit/",
                                  perms=("broadcast.change_bulletin",)),
    "bulletin.approve_own": Action("post", lambda w: f"{B}{_bulletin(w, own=True, state='in_review').pk}/approve/",
                                   lambda w: {}, perms=("broadcast.approve_bulletin",), object_rule=True),
    "bulletin.approve_other": Action(
        "post", lambda w: f"{B}{_bulletin(w, own=False, state='in_review').pk}/approve/", lambda w: {},
        perms=("broadcast.approve_bulletin",)),
    "bulletin.reject": Action("post", lambda w: f"{B}{_bulletin(w, own=False, state='in_review').pk}/reject/",
                              lambda w: {"comment": "Sai số liệu"}, perms=("broadcast.approve_bulletin",)),
    "bulletin.archive": Action("post", lambda w: f"{B}{approved_bulletin(author=w.author).pk}/archive/",
                               lambda w: {}, perms=("broadcast.archive_bulletin",)),
    "schedule.create": Action("post", lambda w: "/api/v1/schedules/", _schedule_body,
                              perms=("broadcast.add_schedule",)),
    "schedule.cancel": Action("delete", lambda w: f"/api/v1/schedules/{_schedule(w, w.own_station).pk}/",
                              perms=("broadcast.change_schedule",)),
    "schedule.list": Action("get", lambda w: "/api/v1/schedules/", perms=("broadcast.view_schedule",)),
    "schedule.read_own_district": Action("get", lambda w: f"/api/v1/schedules/{_schedule(w, w.own_station).pk}/",
                                         perms=("broadcast.view_schedule",)),
    "schedule.read_other_district": Action(
        "get", lambda w: f"/api/v1/schedules/{_schedule(w, w.other_station).pk}/", perms=("broadcast.view_schedule",)),
    "schedule.list_other_unit": Action("get", lambda w: f"/api/v1/schedules/?unit={w.other_station.unit.code}",
                                       perms=("broadcast.view_schedule",)),
    "coverage": Action("get", lambda w: "/api/v1/coverage/", perms=("broadcast.view_playbackreport",)),
    "coverage.other_district": Action(
        "get", lambda w: f"/api/v1/coverage/?district={w.other_station.district.code}",
        perms=("broadcast.view_playbackreport",)),
    "coverage.other_unit": Action(
        "get", lambda w: f"/api/v1/coverage/?unit={w.other_station.unit.code}",
        perms=("broadcast.view_playbackreport",)),
    "playlists": Action("get", lambda w: "/api/v1/playlists/", perms=()),  # any staff reader
    "registry.stations": Action("get", lambda w: "/api/v1/stations/", perms=("stations.view_station",)),
    "registry.station_other": Action("get", lambda w: f"/api/v1/stations/{w.other_station.code}/",
                                     perms=("stations.view_station",)),
    "station_token.issue": Action("post", lambda w: f"/api/v1/stations/{w.own_station.code}/token/",
                                  perms=("stations.add_stationcredential",)),
    "station_token.revoke": Action("delete", lambda w: f"/api/v1/stations/{w.own_station.code}/token/",
                                   perms=("stations.change_stationcredential",)),
}

# The matrix. 404 = allowed to ask, but the object is outside the user's district (district operator)
# or commune-level units (commune operator).
# editor+approver: one person holding both roles (approves others' bulletins, never their own).
_ = None
COLUMNS = ["editor", "approver", "editor+approver", "supervisor", "district_operator", "commune_operator",
           "station_operator", "station", "anonymous"]
MATRIX: dict[str, list[int]] = {
    #                               editor approver ed+ap supervisor district commune station_op station anonymous
    "bulletin.list":                 [200, 200, 200, 200, 200, 200, 403, 403, 401],
    "bulletin.read":                 [200, 200, 200, 200, 404, 404, 403, 403, 401],
    "bulletin.read_airing_own_district":   [200, 200, 200, 200, 200, 200, 403, 403, 401],
    "bulletin.read_airing_other_district": [200, 200, 200, 200, 404, 404, 403, 403, 401],
    "bulletin.create":               [201, 403, 201, 403, 403, 403, 403, 403, 401],
    "bulletin.edit_own":             [200, 403, 200, 403, 403, 403, 403, 403, 401],
    "bulletin.edit_other":           [403, 403, 403, 403, 403, 403, 403, 403, 401],
    "bulletin.submit_own":           [200, 403, 200, 403, 403, 403, 403, 403, 401],
    "bulletin.approve_own":          [403, 403, 403, 403, 403, 403, 403, 403, 401],
    "bulletin.approve_other":        [403, 200, 200, 403, 403, 403, 403, 403, 401],
    "bulletin.reject":               [403, 200, 200, 403, 403, 403, 403, 403, 401],
    "bulletin.archive":              [403, 200, 200, 200, 403, 403, 403, 403, 401],
    "schedule.create":               [403, 403, 403, 201, 403, 403, 403, 403, 401],
    "schedule.cancel":               [403, 403, 403, 204, 403, 403, 403, 403, 401],
    "schedule.list":                 [200, 200, 200, 200, 200, 200, 403, 403, 401],
    "schedule.list_other_unit":      [200, 200, 200, 200, 404, 404, 403, 403, 401],
    "schedule.read_own_district":    [200, 200, 200, 200, 200, 200, 403, 403, 401],
    "schedule.read_other_district":  [200, 200, 200, 200, 404, 404, 403, 403, 401],
    "coverage":                      [403, 403, 403, 200, 200, 200, 403, 403, 401],
    "coverage.other_district":       [403, 403, 403, 200, 404, 404, 403, 403, 401],
    "coverage.other_unit":           [403, 403, 403, 200, 404, 404, 403, 403, 401],
    "playlists":                     [200, 200, 200, 200, 200, 200, 403, 403, 401],
    "registry.stations":             [200, 200, 200, 200, 200, 200, 403, 403, 401],
    "registry.station_other":        [200, 200, 200, 200, 404, 404, 403, 403, 401],
    "station_token.issue":           [403, 403, 403, 201, 403, 403, 403, 403, 401],
    "station_token.revoke":          [403, 403, 403, 204, 403, 403, 403, 403, 401],
}
GROUPS = {"editor": ["editor"], "approver": ["approver"], "editor+approver": ["editor", "approver"],
          "supervisor": ["supervisor"], "district_operator": ["district_operator"],
          "commune_operator": ["commune_operator"], "station_operator": ["station_operator"]}


def test_the_matrix_covers_every_action_and_role():
    assert set(MATRIX) == set(ACTIONS)
    assert all(len(row) == len(COLUMNS) for row in MATRIX.values())


def _world(role: str, fake_render) -> tuple[World, APIClient]:  # noqa: ANN001
    operator = DistrictOperatorFactory()
    unit = AdminUnitFactory()
    commune_operator = CommuneOperatorFactory(units=[unit])
    own_station = StationFactory(district=operator.district, unit=unit)
    other_station = StationFactory(unit=AdminUnitFactory())
    author = UserFactory(username="tacgia", roles=["editor"])
    supervisor = UserFactory(username="giamsat-matrix", roles=["supervisor"])
    client = APIClient()
    if role == "district_operator":
        actor = operator.user
    elif role == "commune_operator":
        actor = commune_operator.user
    elif role == "station_operator":
        actor = StationOperatorFactory(station=own_station).user
    elif role in GROUPS:
        actor = UserFactory(username=f"actor-{role}", roles=GROUPS[role])
    else:
        actor = UserFactory(username="khong-vai-tro")  # owns nothing that matters; acts as station/anonymous
    if role in GROUPS:
        client.force_authenticate(actor)
    elif role == "station":
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_station_token(StationFactory())}")
    return World(actor, own_station, other_station, author, supervisor), client


def _snapshot() -> tuple:
    return (
        sorted(Bulletin.objects.values_list("pk", "status", "title")),
        sorted(Schedule.objects.values_list("pk", "cancelled_at")),
        sorted(StationCredential.objects.values_list("pk", "revoked_at")),
    )


@pytest.mark.parametrize("role", COLUMNS)
@pytest.mark.parametrize("action", list(MATRIX))
def test_permission_matrix(role, action, fake_render, django_capture_on_commit_callbacks):
    spec = ACTIONS[action]
    world, client = _world(role, fake_render)
    issue_station_token(world.own_station)
    with django_capture_on_commit_callbacks(execute=True):  # submitted bulletins get their audio rendered
        url, body = spec.url(world), spec.body(world)
    expected = MATRIX[action][COLUMNS.index(role)]
    before = _snapshot()

    with django_capture_on_commit_callbacks(execute=True):
        response = getattr(client, spec.method)(url, body, format="json")

    assert response.status_code == expected, (role, action, response.status_code, getattr(response, "data", None))
    if expected >= 400:
        assert _snapshot() == before  # a refused action changes nothing stored


def _role_perms(role: str) -> set[str]:
    perms: set[str] = set()
    for app_label, grants in ROLE_GRANTS.items():
        for group in GROUPS[role]:
            perms |= {f"{app_label}.{codename}" for codename in grants.get(group, [])}
    return perms


@pytest.mark.parametrize("role", list(GROUPS))
def test_api_and_role_grants_agree(role):
    """Denied (403) exactly when the role lacks the action's permissions, except where a rule about the
    object refuses too; and the grants name only permissions that exist."""
    perms = _role_perms(role)
    for action, spec in ACTIONS.items():
        status = MATRIX[action][COLUMNS.index(role)]
        if not set(GROUPS[role]) & set(STAFF_API_ROLES):  # a station operator has their page, nothing in the staff API
            assert status == DENIED, (role, action, "a role outside the staff API allowed")
            continue
        holds = set(spec.perms) <= perms
        if not holds:
            assert status == DENIED, (role, action, "allowed without", set(spec.perms) - perms)
        elif not spec.object_rule:
            assert status != DENIED, (role, action, "denied although granted", spec.perms)
    known = {f"{p.content_type.app_label}.{p.codename}" for p in Permission.objects.select_related("content_type")}
    assert perms <= known


@pytest.mark.parametrize("role", list(GROUPS))
def test_users_of_a_role_hold_its_grants(role):
    user = UserFactory(username=f"grants-{role}", roles=GROUPS[role])
    assert {p for p in user.get_all_permissions() if p.split(".")[0] in ROLE_GRANTS} == _role_perms(role)


def test_schedule_list_scope_follows_the_district_helper(client_for, supervisor, district_operator):
    own = district_operator.district_operator.district
    own_station, other_station = StationFactory(district=own), StationFactory()
    world = World(district_operator, own_station, other_station, UserFactory(roles=["editor"]), supervisor)
    mine, theirs = _schedule(world, own_station), _schedule(world, other_station)

    def ids(user, **params) -> list[int]:
        response = client_for(user).get("/api/v1/schedules/", params)
        assert response.status_code == 200, response.content
        return sorted(r["id"] for r in response.json()["results"])

    assert ids(supervisor) == sorted([mine.pk, theirs.pk])
    assert ids(supervisor, district=other_station.district.code) == [theirs.pk]
    assert ids(district_operator) == [mine.pk]
    assert ids(district_operator, district=own.code) == [mine.pk]
    response = client_for(district_operator).get("/api/v1/schedules/", {"district": other_station.district.code})
    assert response.status_code == 404
    assert client_for(supervisor).get("/api/v1/schedules/", {"district": "KHONG-CO"}).status_code == 404


def test_a_district_operator_lists_only_bulletins_airing_in_their_district(client_for, supervisor, district_operator):
    own = StationFactory(district=district_operator.district_operator.district)
    world = World(district_operator, own, StationFactory(), UserFactory(roles=["editor"]), supervisor)
    mine, theirs = _schedule(world, own), _schedule(world, world.other_station)
    _bulletin(world, own=False, state="in_review")
    cancelled = _schedule(world, own)
    cancelled.cancelled_at = cancelled.created_at
    cancelled.save(update_fields=["cancelled_at"])

    listed = client_for(district_operator).get(B).json()["results"]

    assert [row["id"] for row in listed] == [mine.bulletin_id]
    assert theirs.bulletin_id not in [row["id"] for row in client_for(district_operator).get(B).json()["results"]]
