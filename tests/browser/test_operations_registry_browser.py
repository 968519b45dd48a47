"""Browser tier: a supervisor lists the stations (a search without diacritics narrows the list in place),
opens one, edits its slots (a refused edit explained, nothing lost), issues a token shown once; a district
and a commune operator cannot open a station of another area. Screenshots under
test-output/operations/registry-*.png."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.chromium import launch, needs_chromium, sign_in_at

SHOTS = Path(__file__).resolve().parents[2] / "test-output" / "operations"

pytestmark = [
    needs_chromium,
    pytest.mark.django_db(transaction=True),
]


def _city():
    from django.utils import timezone

    from broadcast.services.reports import ingest_reports
    from stations import health
    from stations.models import Station
    from tests.broadcast.factories_reports import make_playlist, plain_bulletin, report
    from tests.factories import (
        AdminUnitFactory,
        CommuneOperatorFactory,
        DistrictFactory,
        DistrictOperatorFactory,
        StationFactory,
        UserFactory,
    )

    ba_dinh = DistrictFactory(code="001", name="Quận Ba Đình")
    hoan_kiem = DistrictFactory(code="002", name="Quận Hoàn Kiếm")
    u_bd = AdminUnitFactory(code="00004", name="Phường Ba Đình")
    u_hk = AdminUnitFactory(code="00070", name="Phường Hoàn Kiếm")
    bulletins = [plain_bulletin("Thông báo lịch tiêm chủng"), plain_bulletin("Phòng chống sốt xuất huyết")]
    today = timezone.localdate()
    stations = {}
    for code, name, district, unit, status in [
        ("BD-01", "Đài phường Điện Biên", ba_dinh, u_bd, "online"),
        ("BD-02", "Đài phường Kim Mã", ba_dinh, u_bd, "silent"),
        ("BD-03", "Đài phường Quán Thánh", ba_dinh, u_bd, "late"),
        ("HK/01", "Đài phường Hàng Bạc", hoan_kiem, u_hk, "online"),
        ("HK/02", "Đài phường Tràng Tiền", hoan_kiem, u_hk, "never"),
    ]:
        station = StationFactory(code=code, name=name, district=district, unit=unit,
                                 contact_name="Chị Lan", contact_phone="0912 345 678")
        items = make_playlist(station, today, bulletins)
        if status != "never":
            health.record_heartbeat(station, agent_version="loa-agent 1.4.2", state={"disk_free_mb": 1830})
            ingest_reports(station, [report(items[0], f"{code}-r1")])
        if status in ("silent", "late"):
            Station.objects.filter(pk=station.pk).update(status=status)
        stations[code] = station
    UserFactory(username="giamsat", first_name="Hà", last_name="Phạm", roles=["supervisor"])
    DistrictOperatorFactory(user=UserFactory(username="canbo-badinh", roles=["district_operator"]), district=ba_dinh)
    CommuneOperatorFactory(user=UserFactory(username="canbo-hoankiem", roles=["commune_operator"]), units=[u_hk])
    return stations


def test_supervisor_lists_opens_edits_slots_and_issues_a_token_shown_once(live_server, monkeypatch):
    from playwright.sync_api import sync_playwright

    _city()
    base = live_server.url
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop runs in this thread
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = launch(pw, "--lang=vi-VN")
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="vi-VN")
            sign_in_at(page, base, "/operations/stations/", "giamsat")
            assert page.get_attribute("html", "lang") == "vi"
            rows = page.locator("#stations tbody tr")
            assert rows.count() == 5
            assert page.inner_text("[data-testid=count-silent]").split()[-1] == "1"
            assert "1 / 4" in page.inner_text("tr[data-code='BD-01'] [data-testid=plays]")
            page.screenshot(path=str(SHOTS / "registry-list.png"), full_page=True)

            # Typing without diacritics narrows the list in place (htmx), the address follows.
            page.fill("#id_q", "trang tien")
            page.wait_for_function("document.querySelectorAll('#stations tbody tr').length === 1")
            assert page.get_attribute("#stations tbody tr", "data-code") == "HK/02"
            assert "q=trang" in page.url
            page.fill("#id_q", "")
            page.select_option("#id_status", "silent")
            page.wait_for_function("document.querySelector('#stations tbody tr').dataset.code === 'BD-02'")
            page.screenshot(path=str(SHOTS / "registry-list-silent.png"), full_page=True)

            # A code holding '/' opens its page.
            page.goto(f"{base}/operations/stations/?q=hang+bac")
            page.click("tr[data-code='HK/01'] th a")
            page.wait_for_url(f"{base}/operations/stations/HK/01/")
            assert page.inner_text("[data-testid=health]") == "Đang hoạt động"
            assert "Chị Lan" in page.inner_text("[data-testid=contact]")
            assert page.inner_text("[data-testid=day-headline]") == "1 / 4"

            # Overlapping slots: refused in Vietnamese, what was typed still there.
            page.fill("input[name=slot_name] >> nth=2", "noon")
            page.fill("input[name=slot_start] >> nth=2", "06:15")
            page.fill("input[name=slot_end] >> nth=2", "06:45")
            page.click("#slots-form button[type=submit]")
            page.wait_for_selector("[data-testid=slot-error]")
            assert "chồng nhau" in page.inner_text("[data-testid=slot-error]")
            assert page.input_value("input[name=slot_name] >> nth=2") == "noon"
            page.screenshot(path=str(SHOTS / "registry-slots-refused.png"), full_page=True)
            page.fill("input[name=slot_start] >> nth=2", "11:00")
            page.fill("input[name=slot_end] >> nth=2", "11:30")
            page.click("#slots-form button[type=submit]")
            page.wait_for_selector(".message.success")
            assert page.input_value("input[name=slot_name] >> nth=1") == "noon"  # kept in time order

            # A token: shown once, with the warning; a reload no longer shows it.
            page.click("[data-testid=issue-token]")
            page.wait_for_selector("[data-testid=new-token-value]")
            token = page.input_value("[data-testid=new-token-value]")
            assert len(token) >= 40
            page.screenshot(path=str(SHOTS / "registry-station-token.png"), full_page=True)
            page.reload()
            assert page.locator("[data-testid=new-token]").count() == 0
            assert token not in page.content()
            assert token[:6] in page.inner_text("[data-testid=credential]")

            # Revoking asks first.
            page.click("[data-testid=revoke-token]")
            page.wait_for_selector("[data-testid=confirm-revoke]")
            page.click("[data-testid=confirm-revoke] button")
            page.wait_for_selector("[data-testid=no-credential]")
        finally:
            browser.close()

    from stations.models import Station
    from stations.selectors import credential_for_token

    assert credential_for_token(token) is None
    assert Station.objects.get(code="HK/01").slot_names == ["morning", "noon", "evening"]


@pytest.mark.parametrize(("username", "own", "foreign"), [
    ("canbo-badinh", "BD-02", "HK/01"),
    ("canbo-hoankiem", "HK/02", "BD-01"),
])
def test_operator_cannot_open_a_station_of_another_area(live_server, monkeypatch, username, own, foreign):
    from playwright.sync_api import sync_playwright

    _city()
    base = live_server.url
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = launch(pw, "--lang=vi-VN")
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="vi-VN")
            sign_in_at(page, base, "/operations/stations/", username)
            codes = [row.get_attribute("data-code") for row in page.query_selector_all("#stations tbody tr")]
            assert own in codes and foreign not in codes
            page.click(f"tr[data-code='{own}'] th a")
            page.wait_for_selector("#slots")  # read-only: the slots as a table, no form
            assert page.locator("#slots-form").count() == 0 and page.locator("[data-testid=issue-token]").count() == 0
            page.screenshot(path=str(SHOTS / f"registry-operator-{username}.png"), full_page=True)
            response = page.goto(f"{base}/operations/stations/{foreign}/")
            assert response.status == 404
            assert "Đài phường" not in page.inner_text("main")
            page.screenshot(path=str(SHOTS / f"registry-operator-{username}-404.png"), full_page=True)
        finally:
            browser.close()
