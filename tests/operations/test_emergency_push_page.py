"""The live emergency page shows how far the doorbell got (rung, received, started, ended), lists the
stations that never acknowledged for a person to phone, and lets a supervisor ring them again."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from broadcast.models import EmergencyDelivery, PushAttempt
from tests.factories import DistrictOperatorFactory
from tests.newsroom.pages import signed_in, visible_text

from .test_emergency_pages import URL, emergency_bulletin, make_city, send


@pytest.fixture
def city(db):
    return make_city()


def _ack(row, state, seconds):
    row.apply_ack(state, timezone.now() + dt.timedelta(seconds=seconds))
    row.save()


def test_the_live_poll_counts_deliveries_by_acknowledged_state_and_lists_the_unreachable(
        supervisor, city, settings, django_capture_on_commit_callbacks):
    settings.MQTT_URL = ""
    schedule = send(supervisor, emergency_bulletin(), capture=django_capture_on_commit_callbacks)
    rows = list(EmergencyDelivery.objects.filter(schedule=schedule).order_by("station__code"))
    assert len(rows) == 5
    _ack(rows[0], "started", 2)
    _ack(rows[1], "completed", 30)
    EmergencyDelivery.objects.filter(pk=rows[2].pk).update(state="sent", unreachable_at=timezone.now(), attempts=4)
    page = signed_in(supervisor).get(f"{URL}{schedule.pk}/", HTTP_HX_REQUEST="true").content.decode()
    text = visible_text(page)
    assert "Chuông báo tới đài (MQTT)" in text
    # Each step counts the stations that got at least that far: the completed one has started too.
    assert 'data-testid="push-started">2</span>/5' in page and 'data-testid="push-completed">1</span>/5' in page
    assert 'data-testid="push-received">2</span>/5' in page
    assert 'data-testid="push-unreachable">1</span>/5' in page
    unreachable = page.split('data-testid="unreachable"')[1].split("</table>")[0]
    assert rows[2].station.code in unreachable and rows[0].station.code not in unreachable


def test_an_operator_counts_only_the_deliveries_of_their_stations(
        supervisor, city, settings, django_capture_on_commit_callbacks):
    settings.MQTT_URL = ""
    schedule = send(supervisor, emergency_bulletin(), capture=django_capture_on_commit_callbacks)
    operator = DistrictOperatorFactory(district=city["north"]).user
    page = signed_in(operator).get(f"{URL}{schedule.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert 'data-testid="push-rung">0</span>/3' in page  # push off here: nobody rung, three to hear from
    assert 'data-testid="resend"' not in page


def test_a_supervisor_rings_again_the_stations_not_yet_received_and_each_attempt_is_recorded(
        supervisor, city, mqtt_broker, django_capture_on_commit_callbacks):
    schedule = send(supervisor, emergency_bulletin(), capture=django_capture_on_commit_callbacks)
    first = EmergencyDelivery.objects.filter(schedule=schedule).order_by("station__code").first()
    _ack(first, "received", 1)
    client = signed_in(supervisor)
    page = client.get(f"{URL}{schedule.pk}/").content.decode()
    assert "Gửi lại ngay tới 4 đài chưa nhận" in visible_text(page)
    answer = client.post(f"{URL}{schedule.pk}/resend/", follow=True)
    assert "Đã gửi lại tới 4/4 đài chưa nhận." in visible_text(answer.content.decode())
    resends = PushAttempt.objects.filter(kind="resend")
    assert resends.count() == 4 and set(resends.values_list("by", flat=True)) == {supervisor.username}
    assert not resends.filter(delivery=first).exists()


def test_only_supervisors_ring_again(city, supervisor, django_capture_on_commit_callbacks):
    schedule = send(supervisor, emergency_bulletin(), capture=django_capture_on_commit_callbacks)
    operator = DistrictOperatorFactory(district=city["north"]).user
    assert signed_in(operator).post(f"{URL}{schedule.pk}/resend/").status_code == 403
    assert not PushAttempt.objects.filter(kind="resend").exists()


def test_the_call_list_says_how_far_a_station_without_a_report_got(
        supervisor, city, settings, django_capture_on_commit_callbacks, client_for):
    settings.MQTT_URL = ""
    schedule = send(supervisor, emergency_bulletin(), capture=django_capture_on_commit_callbacks)
    playing, silent = EmergencyDelivery.objects.filter(schedule=schedule).order_by("station__code")[:2]
    _ack(playing, "started", 1)
    EmergencyDelivery.objects.filter(pk=silent.pk).update(state="sent", unreachable_at=timezone.now())
    page = signed_in(supervisor).get(f"{URL}{schedule.pk}/", HTTP_HX_REQUEST="true").content.decode()
    row = page.split(f'data-testid="call-row" data-station="{playing.station.code}"')[1].split("</tr>")[0]
    assert "Chưa xác nhận · đang phát" in visible_text(row)
    row = page.split(f'data-testid="call-row" data-station="{silent.station.code}"')[1].split("</tr>")[0]
    assert "Chưa xác nhận · không liên lạc được" in visible_text(row)
    api = client_for(supervisor).get(f"/api/v1/emergencies/{schedule.pk}/?state=to_call").json()
    by_code = {r["code"]: r for r in api["results"]}
    assert by_code[playing.station.code]["push_state"] == "started"
    assert by_code[silent.station.code]["push_unreachable"] is True
