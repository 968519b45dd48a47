"""Browser tier: the doorbell part of the live emergency page, with a real Mosquitto. A supervisor sends an
emergency; a station acknowledges it through the station API with its own token and the counts move
without a reload; the supervisor rings the silent stations again and sees how many were rung.
Screenshots under test-output/operations/emergency-push-*.png."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest
from django.utils import timezone

from tests.browser.chromium import launch, needs_chromium, sign_in_at

pytestmark = [needs_chromium, pytest.mark.django_db(transaction=True)]
SHOTS = Path(__file__).resolve().parents[2] / "test-output" / "operations"


def _post_acks(base: str, token: str, schedule_id: int, states: list[str]) -> dict:
    now = timezone.localtime()
    body = json.dumps({"acks": [{"command": f"em-{schedule_id}", "schedule": schedule_id, "state": state,
                                 "at": now.isoformat()} for state in states]}).encode()
    request = urllib.request.Request(f"{base}/api/v1/station/acks/", data=body, method="POST", headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def test_the_live_page_follows_acknowledgements_and_rings_the_silent_stations_again(
        live_server, monkeypatch, mqtt_broker, django_capture_on_commit_callbacks):
    from playwright.sync_api import expect, sync_playwright

    from broadcast.models import PushAttempt
    from broadcast.services.schedules import create_schedule
    from stations.services import issue_station_token
    from tests.broadcast.push_helpers import emergency_bulletin
    from tests.factories import StationFactory, UserFactory

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    supervisor = UserFactory(username="giamsat-chuong", roles=["supervisor"])
    answering = StationFactory(name="Đài Phường Ngọc Hà")
    StationFactory.create_batch(2)
    token = issue_station_token(answering)
    with django_capture_on_commit_callbacks(execute=True):
        schedule = create_schedule(emergency_bulletin(), by=supervisor, start_date=None, end_date=None,
                                   slots=[], targets={"all": True}, immediate=True)
    assert PushAttempt.objects.filter(kind="send", outcome="published").count() == 3
    base = live_server.url
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = launch(pw)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="vi-VN")
            sign_in_at(page, base, f"/operations/emergency/{schedule.pk}/", supervisor.username)
            expect(page.locator("[data-testid=push-rung]")).to_have_text("3")
            expect(page.locator("[data-testid=push-started]")).to_have_text("0")
            page.evaluate("window.notReloaded = true")

            assert _post_acks(base, token, schedule.pk, ["received", "downloaded", "started"])["accepted"] == 3

            expect(page.locator("[data-testid=push-received]")).to_have_text("1", timeout=10_000)
            expect(page.locator("[data-testid=push-started]")).to_have_text("1")
            assert page.evaluate("window.notReloaded") is True  # updated in place, no reload
            page.screenshot(path=str(SHOTS / "emergency-push-acknowledged.png"), full_page=True)

            page.click("[data-testid=resend]")
            expect(page.get_by_text("Đã gửi lại tới 2/2 đài chưa nhận.")).to_be_visible()
            page.screenshot(path=str(SHOTS / "emergency-push-resent.png"), full_page=True)
        finally:
            browser.close()
    resent = PushAttempt.objects.filter(kind="resend", outcome="published")
    assert resent.count() == 2 and not resent.filter(delivery__station=answering).exists()
