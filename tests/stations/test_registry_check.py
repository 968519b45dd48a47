"""Stations whose stored slots break the slot rule (saved before the rule existed, or by raw SQL) do not
break the registry's readers, and `check_registry` finds them and can put the default slots back."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from stations.models import Station, default_slots
from stations.signals import stations_changed
from tests.factories import StationFactory

pytestmark = pytest.mark.django_db

MALFORMED = [{"bad": 1}]


def _store_malformed(station: Station, value=MALFORMED) -> None:
    Station.objects.filter(pk=station.pk).update(slots=value)


def test_the_station_list_shows_a_stored_malformed_slots_value_as_empty_and_flags_it(client_for, supervisor):
    StationFactory(code="00101")
    _store_malformed(StationFactory(code="00102"))

    response = client_for(supervisor).get("/api/v1/stations/")

    assert response.status_code == 200
    rows = {row["code"]: row for row in response.json()["results"]}
    assert rows["00102"]["slots"] == [] and rows["00102"]["slots_valid"] is False
    assert rows["00101"]["slots"] == default_slots() and rows["00101"]["slots_valid"] is True


@pytest.mark.parametrize("value", [MALFORMED, "sáng", [], [{"name": "now", "start": "06:00", "end": "06:30"}]])
def test_a_station_detail_with_stored_malformed_slots_is_answered(client_for, supervisor, value):
    station = StationFactory(code="00103")
    _store_malformed(station, value)

    response = client_for(supervisor).get("/api/v1/stations/00103/")

    assert response.status_code == 200
    assert response.json()["slots"] == [] and response.json()["slots_valid"] is False


def test_export_registry_writes_a_stored_malformed_value_as_is_and_warns(tmp_path):
    StationFactory(code="00104")
    _store_malformed(StationFactory(code="00105"))
    target, err = tmp_path / "registry.csv", io.StringIO()

    call_command("export_registry", "-o", str(target), stderr=err)

    lines = target.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3
    assert any(line.startswith("00104,") and "morning=06:00-06:30" in line for line in lines)
    bad_line = next(line for line in lines if line.startswith("00105,"))
    assert '""bad"": 1' in bad_line  # the stored JSON, so a re-import refuses that line instead of guessing
    assert "00105" in err.getvalue() and "check_registry" in err.getvalue()


def test_check_registry_lists_stations_whose_stored_slots_break_the_rule_and_fails():
    StationFactory(code="00106")
    _store_malformed(StationFactory(code="00107", name="Đài Phường Lỗi"))
    out = io.StringIO()

    with pytest.raises(CommandError) as failure:
        call_command("check_registry", stdout=out)

    assert "00107" in out.getvalue() and "Đài Phường Lỗi" in out.getvalue()
    assert "mỗi khung giờ cần đúng các trường name, start, end" in out.getvalue()
    assert "00106" not in out.getvalue()
    assert failure.value.returncode == 1
    assert "1 đài" in str(failure.value) and "--reset-slots" in str(failure.value)
    assert Station.objects.get(code="00107").slots == MALFORMED  # listing changes nothing


def test_check_registry_passes_on_a_clean_registry():
    StationFactory(code="00108")
    out = io.StringIO()

    call_command("check_registry", stdout=out)

    assert "Mọi đài đều có khung giờ hợp lệ" in out.getvalue()


def test_check_registry_reset_slots_puts_the_defaults_back_as_a_recorded_edit_that_rebuilds(
        django_capture_on_commit_callbacks):
    good = StationFactory(code="00109", slots=[{"name": "noon", "start": "11:00", "end": "11:30"}])
    bad = StationFactory(code="00110")
    _store_malformed(bad)
    changed: list[list[int]] = []

    def listener(sender, station_ids, **kwargs):
        changed.append(list(station_ids))

    stations_changed.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            call_command("check_registry", "--reset-slots", stdout=io.StringIO())
    finally:
        stations_changed.disconnect(listener)

    bad.refresh_from_db()
    good.refresh_from_db()
    assert bad.slots == default_slots() and "slots" in bad.edited_fields
    assert good.slots == [{"name": "noon", "start": "11:00", "end": "11:30"}]
    assert changed == [[bad.pk]]
    call_command("check_registry", stdout=io.StringIO())  # clean now
