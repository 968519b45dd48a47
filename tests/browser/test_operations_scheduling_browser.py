"""Browser tier: a supervisor schedules a bulletin to one commune-level unit in Chromium — the live station
count follows the picker, the bulletin search narrows the list, the preview's numbers are what the built playlists then hold, and the week view
shows the plays. Screenshots under test-output/operations/ (scheduling-*.png, week-*.png)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.browser.chromium import launch, needs_chromium, sign_in_at

SHOTS = Path(__file__).resolve().parents[2] / "test-output" / "operations"
SHORT_SLOTS = [{"name": "morning", "start": "06:00", "end": "06:02"},
               {"name": "evening", "start": "17:00", "end": "17:02"}]

pytestmark = [needs_chromium, pytest.mark.django_db(transaction=True)]


def _city():
    from broadcast.models import AudioRendition, Bulletin
    from broadcast.selectors.playlists import local_today
    from broadcast.services.schedules import create_schedule
    from tests.factories import AdminUnitFactory, StationFactory, UserFactory, approved_bulletin

    boss = UserFactory(username="giamsat-lich", first_name="Hà", last_name="Lê", roles=["supervisor"])
    ba_dinh = AdminUnitFactory(code="00004", name="Phường Ba Đình")
    other = AdminUnitFactory(code="00070", name="Phường Hoàn Kiếm")
    for n in range(3):
        StationFactory(code=f"BD{n}", name=f"Đài truyền thanh Ba Đình {n + 1}", unit=ba_dinh, slots=SHORT_SLOTS)
    StationFactory(code="HK0", unit=other, slots=SHORT_SLOTS)

    def bulletin(title: str, ms: int) -> Bulletin:
        made = approved_bulletin(title=title, seconds=1.0)
        AudioRendition.objects.filter(pk=made.live_revision.rendition_id).update(duration_ms=ms)
        return Bulletin.objects.get(pk=made.pk)

    tomorrow = local_today() + dt.timedelta(days=1)
    # Already on BD0's morning: the new plays there have to move to the evening or stay unplaced.
    create_schedule(bulletin("Lịch cắt điện", 90_000), by=boss, start_date=tomorrow, end_date=tomorrow,
                    slots=["morning"], targets={"stations": ["BD0"]})
    return boss, bulletin("Phòng chống sốt xuất huyết", 50_000), tomorrow


def test_a_supervisor_schedules_to_one_unit_and_the_preview_matches_the_playlists(live_server, monkeypatch):
    from playwright.sync_api import expect, sync_playwright

    from broadcast.models import PlaylistItem, Schedule

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    boss, news, tomorrow = _city()
    base = live_server.url
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = launch(pw)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1100}, locale="vi-VN")
            sign_in_at(page, base, "/operations/schedules/new/", boss.username)
            assert page.get_attribute("html", "lang") == "vi"
            # The search ignores diacritics and narrows the bulletin list in place (htmx).
            page.fill("#id_bulletin_q", "sot xuat")
            expect(page.locator("#id_bulletin option[value]:not([value=''])")).to_have_count(1)
            expect(page.locator("#id_bulletin")).to_contain_text("Phòng chống sốt xuất huyết")
            page.select_option("#id_bulletin", str(news.pk))
            page.select_option("#id_units", "00004")
            expect(page.get_by_test_id("target-count")).to_contain_text("3 đài")  # htmx, live
            page.fill("#id_start_date", tomorrow.isoformat())
            page.fill("#id_end_date", tomorrow.isoformat())
            page.check("input[name=slots][value=morning]")
            page.fill("#id_plays_per_slot", "2")
            page.get_by_test_id("preview-button").click()
            expect(page.get_by_test_id("pv-stations")).to_have_text("3")
            numbers = {name: int(page.get_by_test_id(f"pv-{name}").inner_text())
                       for name in ("planned", "placed", "carried", "unplaced")}
            # BD1, BD2: both plays in the morning; BD0: 30 s left there, so both go to the evening.
            assert numbers == {"planned": 6, "placed": 6, "carried": 2, "unplaced": 0}
            expect(page.locator("#preview table.fill")).to_contain_text("morning")
            page.screenshot(path=str(SHOTS / "scheduling-preview.png"), full_page=True)
            assert not Schedule.objects.filter(bulletin=news).exists()

            page.get_by_test_id("save-button").click()
            page.wait_for_url(f"{base}/operations/schedules/*/")
            expect(page.locator(".message.success")).to_contain_text("3 đài")
            page.screenshot(path=str(SHOTS / "scheduling-detail.png"), full_page=True)
            schedule = Schedule.objects.get(bulletin=news)
            items = PlaylistItem.objects.filter(schedule=schedule)
            placed = items.filter(position__isnull=False)
            assert {"planned": items.count(), "placed": placed.count(),
                    "carried": placed.exclude(slot="morning").count(),
                    "unplaced": items.filter(position__isnull=True).count()} == numbers
            assert set(items.values_list("playlist__station__code", flat=True)) == {"BD0", "BD1", "BD2"}

            page.goto(f"{base}/operations/schedules/")
            expect(page.get_by_test_id("schedule-row").first).to_contain_text("Phòng chống sốt xuất huyết")
            page.screenshot(path=str(SHOTS / "scheduling-list.png"), full_page=True)

            page.goto(f"{base}/operations/week/?unit=00004&start={tomorrow.isoformat()}")
            cell = page.get_by_test_id(f"cell-morning-{tomorrow.isoformat()}")
            expect(cell).to_contain_text("5 lượt")  # BD0's earlier play + 2 + 2
            expect(page.get_by_test_id(f"cell-evening-{tomorrow.isoformat()}")).to_contain_text("2 lượt")
            page.screenshot(path=str(SHOTS / "week-unit.png"), full_page=True)

            page.goto(f"{base}/operations/week/?station=BD0&start={tomorrow.isoformat()}")
            expect(page.get_by_test_id(f"cell-evening-{tomorrow.isoformat()}")).to_contain_text(
                "Phòng chống sốt xuất huyết")
            page.screenshot(path=str(SHOTS / "week-station.png"), full_page=True)
        finally:
            browser.close()
