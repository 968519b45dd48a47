"""Staff API for schedules and playlists: validation, conflicts, counts, cancellation, the staff view."""

from __future__ import annotations

import datetime as dt

import pytest

from broadcast.models import Bulletin, Playlist, PlaylistItem, Schedule
from broadcast.selectors.playlists import local_today
from stations.models import Station
from tests.factories import DistrictFactory, StationFactory, approved_bulletin

URL = "/api/v1/schedules/"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def body(bulletin: Bulletin, **kw) -> dict:
    today = local_today()
    data = {"bulletin": bulletin.pk, "start_date": today.isoformat(),
            "end_date": (today + dt.timedelta(days=3)).isoformat(), "slots": ["morning"],
            "targets": {"all": True}}
    data.update(kw)
    return data


def test_supervisor_schedules_an_approved_bulletin_and_gets_the_target_count(client_for, supervisor,
                                                                              django_capture_on_commit_callbacks):
    district = DistrictFactory()
    stations = [StationFactory(district=district) for _ in range(3)]
    StationFactory()  # another district
    bulletin = approved_bulletin()

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(supervisor).post(URL, body(bulletin, targets={"districts": [district.code]}),
                                               format="json")

    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["target_station_count"] == 3 and data["status"] == "active" and data["bulletin"] == bulletin.pk
    # The playlists of the targeted stations were built on commit.
    assert set(Playlist.objects.filter(date=local_today()).values_list("station_id", flat=True)) == {
        s.pk for s in stations}


@pytest.mark.parametrize("status", [Bulletin.Status.DRAFT, Bulletin.Status.ARCHIVED])
def test_only_an_approved_bulletin_can_be_scheduled(client_for, supervisor, status):
    StationFactory()
    bulletin = approved_bulletin()
    fields = {"status": status}
    if status == Bulletin.Status.DRAFT:
        fields["live_revision"] = None
    Bulletin.objects.filter(pk=bulletin.pk).update(**fields)

    response = client_for(supervisor).post(URL, body(bulletin), format="json")

    assert response.status_code == 409
    assert not Schedule.objects.exists()


@pytest.mark.parametrize(("change", "field"), [
    ({"end_date": "2020-01-01"}, "end_date"),
    ({"slots": ["midnight"]}, "slots"),
    ({"slots": []}, "slots"),
    ({"targets": {"districts": ["nope"]}}, "targets"),
    ({"targets": {"stations": ["X-404"]}}, "targets"),
    ({"targets": {}}, "targets"),
    ({"targets": {"kinds": ["village"]}}, "targets"),
    ({"days_of_week": [7]}, "days_of_week"),
    ({"plays_per_slot": 0}, "plays_per_slot"),
    ({"start_date": None}, "start_date"),
])
def test_bad_input_is_400_naming_the_field(client_for, supervisor, change, field):
    StationFactory()
    response = client_for(supervisor).post(URL, body(approved_bulletin(), **change), format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not Schedule.objects.exists()


def test_immediate_needs_an_emergency_bulletin(client_for, supervisor):
    StationFactory()
    response = client_for(supervisor).post(
        URL, body(approved_bulletin(priority="normal"), immediate=True, slots=[]), format="json")
    assert response.status_code == 400 and "immediate" in response.json()


def test_unknown_station_code_is_named_in_the_message(client_for, supervisor):
    StationFactory()
    response = client_for(supervisor).post(
        URL, body(approved_bulletin(), targets={"stations": ["KHONG-CO"]}), format="json")
    assert "KHONG-CO" in response.json()["targets"][0]


def test_approvers_and_district_operators_cannot_create_but_can_list(client_for, approver, district_operator):
    StationFactory()
    bulletin = approved_bulletin()
    assert client_for(approver).post(URL, body(bulletin), format="json").status_code == 403
    assert client_for(district_operator).post(URL, body(bulletin), format="json").status_code == 403
    assert client_for(district_operator).get(URL).status_code == 200


def test_district_operator_lists_only_schedules_reaching_their_district(client_for, supervisor, district_operator):
    own = district_operator.district_operator.district
    own_station = StationFactory(district=own)
    other_station = StationFactory()
    StationFactory(kind=Station.Kind.DISTRICT_CENTER)  # in another district
    made = {}
    for name, targets in {
        "all": {"all": True}, "district": {"districts": [own.code]}, "station": {"stations": [own_station.code]},
        "commune_kind": {"kinds": ["commune"]},
        "other_district": {"districts": [other_station.district.code]},
        "other_station": {"stations": [other_station.code]}, "center_kind": {"kinds": ["district_center"]},
    }.items():
        response = client_for(supervisor).post(URL, body(approved_bulletin(title=name), targets=targets),
                                               format="json")
        assert response.status_code == 201, response.json()
        made[name] = response.json()["id"]

    listed = client_for(district_operator).get(URL).json()

    assert sorted(r["bulletin_title"] for r in listed["results"]) == ["all", "commune_kind", "district", "station"]
    assert client_for(district_operator).get(f"{URL}{made['other_district']}/").status_code == 404
    assert client_for(district_operator).get(f"{URL}{made['district']}/").status_code == 200
    assert client_for(supervisor).get(URL).json()["count"] == 7


def test_list_filters_by_bulletin_and_date(client_for, supervisor):
    StationFactory()
    a, b = approved_bulletin(title="A"), approved_bulletin(title="B")
    client = client_for(supervisor)
    client.post(URL, body(a), format="json")
    later = local_today() + dt.timedelta(days=10)
    client.post(URL, body(b, start_date=later.isoformat(), end_date=later.isoformat()), format="json")

    by_bulletin = client.get(URL, {"bulletin": a.pk}).json()
    assert by_bulletin["count"] == 1 and by_bulletin["results"][0]["bulletin_title"] == "A"
    by_date = client.get(URL, {"date": later.isoformat()}).json()
    assert [r["bulletin_title"] for r in by_date["results"]] == ["B"]


def test_delete_cancels_future_plays_and_a_second_delete_conflicts(client_for, supervisor,
                                                                    django_capture_on_commit_callbacks):
    station = StationFactory()
    client = client_for(supervisor)
    tomorrow = local_today() + dt.timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post(URL, body(approved_bulletin(), start_date=tomorrow.isoformat()), format="json").json()
    assert PlaylistItem.objects.filter(schedule_id=created["id"], playlist__station=station).exists()

    with django_capture_on_commit_callbacks(execute=True):
        assert client.delete(f"{URL}{created['id']}/").status_code == 204

    assert not PlaylistItem.objects.filter(schedule_id=created["id"]).exists()
    assert client.get(f"{URL}{created['id']}/").json()["status"] == "cancelled"
    assert client.delete(f"{URL}{created['id']}/").status_code == 409


def test_staff_playlist_view_shows_unplaced_items_and_is_scoped_for_district_operators(
    client_for, supervisor, district_operator, django_capture_on_commit_callbacks,
):
    short = [{"name": "morning", "start": "06:00", "end": "06:00"}]  # zero length: nothing fits
    own = StationFactory(district=district_operator.district_operator.district, slots=short)
    Station.objects.filter(pk=own.pk).update(slots=[{"name": "morning", "start": "06:00", "end": "06:00"},
                                                    {"name": "evening", "start": "17:00", "end": "17:30"}])
    elsewhere = StationFactory()
    tomorrow = local_today() + dt.timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=True):
        client_for(supervisor).post(URL, body(approved_bulletin(), start_date=tomorrow.isoformat(),
                                              slots=["morning", "evening"]), format="json")

    data = client_for(supervisor).get("/api/v1/playlists/", {"date": tomorrow.isoformat(),
                                                             "station": own.code}).json()
    (playlist,) = data["results"]
    assert playlist["unplaced_count"] == 1
    unplaced = [i for i in playlist["items"] if not i["placed"]]
    assert unplaced[0]["requested_slot"] == "morning" and unplaced[0]["unplaced_reason"]

    scoped = client_for(district_operator).get("/api/v1/playlists/", {"date": tomorrow.isoformat()}).json()
    assert [p["station"] for p in scoped["results"]] == [own.code]
    assert elsewhere.code not in str(scoped)


def test_admin_cancels_schedules_through_the_service_and_cannot_add_or_edit_them(
        client_for, supervisor, django_capture_on_commit_callbacks):
    from django.test import Client

    from tests.factories import UserFactory

    station = StationFactory()
    with django_capture_on_commit_callbacks(execute=True):
        created = client_for(supervisor).post(URL, body(approved_bulletin(), targets={"stations": [station.code]}),
                                              format="json").json()
    assert PlaylistItem.objects.filter(playlist__station=station, schedule_id=created["id"]).exists()
    admin_user = UserFactory(username="quantri", is_staff=True, is_superuser=True)
    browser = Client()
    browser.force_login(admin_user)
    assert browser.get("/admin/broadcast/schedule/add/").status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post("/admin/broadcast/schedule/", {
            "action": "cancel_schedules", "_selected_action": [created["id"]]})
    assert response.status_code == 302
    schedule = Schedule.objects.get(pk=created["id"])
    assert schedule.cancelled_at is not None and schedule.cancelled_by == admin_user
    # The service's rebuild ran: the plays still to come are gone.
    future = PlaylistItem.objects.filter(playlist__station=station, schedule_id=schedule.pk,
                                         playlist__date__gt=local_today())
    assert not future.exists()


def test_the_201_answer_says_how_many_plays_were_placed_carried_and_unplaced_and_why(client_for, supervisor):
    tomorrow = local_today() + dt.timedelta(days=1)
    roomy = StationFactory(slots=[{"name": "morning", "start": "06:00", "end": "06:30"},
                                  {"name": "evening", "start": "17:00", "end": "17:30"}])
    tight = StationFactory(slots=[{"name": "morning", "start": "06:00", "end": "06:01"},
                                  {"name": "evening", "start": "17:00", "end": "17:01"}])
    day = {"start_date": tomorrow.isoformat(), "end_date": tomorrow.isoformat(),
           "targets": {"stations": [roomy.code, tight.code]}}
    first = client_for(supervisor).post(URL, body(approved_bulletin(seconds=50.0), **day), format="json")
    assert first.status_code == 201, first.json()
    assert first.json()["plan"]["placed"] == 2

    # 50 s fill the tight station's morning; 50 s more carry to its evening; 50 s more fit nowhere there.
    second = client_for(supervisor).post(URL, body(approved_bulletin(seconds=50.0), **day), format="json")
    third = client_for(supervisor).post(URL, body(approved_bulletin(seconds=50.0), **day), format="json")

    assert second.status_code == 201 and third.status_code == 201, third.json()
    assert {k: second.json()["plan"][k] for k in ("planned", "placed", "carried", "unplaced")} == {
        "planned": 2, "placed": 2, "carried": 1, "unplaced": 0}
    plan = third.json()["plan"]
    assert {k: plan[k] for k in ("planned", "placed", "carried", "unplaced")} == {
        "planned": 2, "placed": 1, "carried": 0, "unplaced": 1}
    assert plan["dates"] == [tomorrow.isoformat()]
    assert [(r["code"], r["count"]) for r in plan["reasons"]] == [("slot_full", 1)]
    assert "Không đủ thời lượng" in plan["reasons"][0]["message"]


def test_a_schedule_that_can_place_nothing_is_refused_with_the_reason(client_for, supervisor):
    # Today only, in a slot that began at midnight: nothing can air.
    StationFactory(slots=[{"name": "dawn", "start": "00:00", "end": "00:01"}])
    today = local_today().isoformat()
    response = client_for(supervisor).post(
        URL, body(approved_bulletin(), start_date=today, end_date=today, slots=["dawn"]), format="json")

    assert response.status_code == 400
    assert "đã bắt đầu" in " ".join(response.json()["slots"])
    assert not Schedule.objects.exists()


def test_a_range_without_any_of_the_chosen_weekdays_is_refused(client_for, supervisor):
    StationFactory()
    monday = local_today() + dt.timedelta(days=7 - local_today().weekday())
    response = client_for(supervisor).post(
        URL, body(approved_bulletin(), start_date=monday.isoformat(),
                  end_date=(monday + dt.timedelta(days=1)).isoformat(), days_of_week=[6]), format="json")

    assert response.status_code == 400
    assert "days_of_week" in response.json()
    assert not Schedule.objects.exists()
