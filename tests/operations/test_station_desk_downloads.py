"""The station operator's downloads: the day's ZIP (signed in), the M3U8 and the audio by signed links that
a plain player opens without a session, for their own station's playlist only."""

from __future__ import annotations

import io
import re
import zipfile
from urllib.parse import urlsplit

import pytest
from django.test import Client

from broadcast.operations import station_desk_links as links
from stations.models import StationOperator
from tests.broadcast.factories_reports import freeze
from tests.factories import UserFactory
from tests.newsroom.pages import signed_in, visible_text
from tests.operations.factories_station_desk import desk_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return desk_world()


def _page(world) -> str:
    with freeze(world.noon):
        return signed_in(world.operator).get("/my-station/").content.decode()


def _m3u8_url(world) -> str:
    return re.search(r'href="(http[^"]+playlist\.m3u8\?[^"]+)"', _page(world)).group(1).replace("&amp;", "&")


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_the_days_zip_holds_the_own_stations_playlist_and_audio(world):
    client = signed_in(world.operator)
    response = client.get(f"/my-station/bundle/?date={world.today.isoformat()}")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(_body(response))).namelist()
    assert {"playlist.json", "playlist.m3u8"} <= set(names)
    assert {f"audio/{i.sha256}.mp3" for i in world.items} == {n for n in names if n.startswith("audio/")}
    assert client.get(f"/my-station/bundle/?date={world.today.isoformat()}",
                      HTTP_RANGE="bytes=0-9").status_code == 206  # resumable on a bad link


def test_the_zip_outside_the_published_days_or_for_others_is_refused(world):
    assert signed_in(world.operator).get("/my-station/bundle/?date=2001-01-01").status_code == 403
    assert signed_in(world.operator).get("/my-station/bundle/?date=hôm-nay").status_code == 403
    editor = signed_in(UserFactory(roles=["editor"]))
    assert editor.get(f"/my-station/bundle/?date={world.today.isoformat()}").status_code == 403
    assert Client().get(f"/my-station/bundle/?date={world.today.isoformat()}").status_code == 302


def test_the_m3u8_opens_without_a_session_with_absolute_signed_audio_urls(world):
    response = Client().get(_path(_m3u8_url(world)))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("audio/x-mpegurl")
    text = response.content.decode()
    assert text.startswith("#EXTM3U") and "#EXT-X-ENDLIST" in text
    urls = [line for line in text.splitlines() if line.startswith("http")]
    assert len(urls) == len(world.items)
    for url in urls:
        assert "/my-station/audio/" in url and "&s=" in url
    audio = Client().get(_path(urls[0]))
    assert audio.status_code == 200 and audio["Content-Type"] == "audio/mpeg"
    assert Client().get(_path(urls[0]), HTTP_RANGE="bytes=0-99").status_code == 206


def test_the_pages_players_use_signed_audio_of_the_own_station(world):
    html = _page(world)
    sources = [s.replace("&amp;", "&") for s in re.findall(r'<audio [^>]*src="([^"]+)"', html)]
    assert len(sources) == len(world.items) + len(world.tomorrow)
    assert all(Client().get(src).status_code == 200 for src in sources)


def test_a_tampered_or_unsigned_link_is_refused_in_vietnamese(world):
    url = _path(_m3u8_url(world))
    tampered = re.sub(r"s=[0-9a-f]", "s=0", url) if "s=0" not in url else url.replace("s=0", "s=1")
    response = Client().get(tampered)
    assert response.status_code == 403 and "Địa chỉ không hợp lệ" in response.content.decode()
    assert Client().get("/my-station/playlist.m3u8").status_code == 403
    sha = world.morning.sha256
    assert Client().get(f"/my-station/audio/{sha}.mp3").status_code == 403
    assert Client().get(f"/my-station/audio/{sha}.mp3?u=1&d=2026-13-45&e=9&s={'0' * 32}").status_code == 403


def test_a_link_of_another_day_or_file_does_not_open_this_one(world):
    sha = world.morning.sha256
    query = links.signed_query("audio", world.operator.pk, world.today, sha)
    other_sha = world.theirs[0].sha256
    assert Client().get(f"/my-station/audio/{other_sha}.mp3?{query}").status_code == 403  # signed for another file


def test_audio_of_another_station_is_404_even_when_signed(world):
    other_sha = world.theirs[0].sha256
    query = links.signed_query("audio", world.operator.pk, world.today, other_sha)
    response = Client().get(f"/my-station/audio/{other_sha}.mp3?{query}")
    assert response.status_code == 404


def test_links_die_when_the_person_no_longer_runs_the_station(world):
    url = _path(_m3u8_url(world))
    assert Client().get(url).status_code == 200
    StationOperator.objects.filter(user=world.operator).delete()
    response = Client().get(url)
    assert response.status_code == 403 and "không còn là nhân viên" in response.content.decode()


def test_links_die_with_a_deactivated_account_or_a_role_taken_away(world):
    url = _path(_m3u8_url(world))
    world.operator.is_active = False
    world.operator.save(update_fields=["is_active"])
    assert Client().get(url).status_code == 403
    world.operator.is_active = True
    world.operator.save(update_fields=["is_active"])
    assert Client().get(url).status_code == 200
    world.operator.groups.clear()
    assert Client().get(url).status_code == 403


def test_an_expired_link_is_refused(world):
    url = _path(_m3u8_url(world))
    import datetime as dt

    later = world.noon + dt.timedelta(days=30)
    with freeze(later):
        response = Client().get(url)
    assert response.status_code == 403 and "hết hạn" in response.content.decode()


def test_device_links_and_operator_links_do_not_open_each_other(world, station_client_for):
    from broadcast.api.signed_urls import signed_audio_query

    sha = world.morning.sha256
    device = signed_audio_query(1, world.today, sha)
    assert Client().get(f"/my-station/audio/{sha}.mp3?{device}").status_code == 403
    mine = links.signed_query("audio", world.operator.pk, world.today, sha)
    assert Client().get(f"/api/v1/station/audio/{sha}.mp3?{mine}").status_code == 401


def test_a_device_signature_for_the_same_number_does_not_open_an_operator_link(world):
    """The two schemes sign the same parts with the same helper; only their keys keep them apart."""
    from broadcast.api.signed_urls import signed_audio_query

    sha = world.morning.sha256
    mine = links.signed_query("audio", world.operator.pk, world.today, sha)
    device = signed_audio_query(world.operator.pk, world.today, sha, int(re.search(r"e=(\d+)", mine).group(1)))
    assert device.replace("c=", "u=", 1) != mine
    assert Client().get(f"/my-station/audio/{sha}.mp3?{device.replace('c=', 'u=', 1)}").status_code == 403
    assert Client().get(f"/my-station/audio/{sha}.mp3?{mine}").status_code == 200


def test_the_page_m3u8_link_is_text_a_person_can_copy(world):
    html = _page(world)
    assert 'type="url" readonly' in html
    assert "Sao chép địa chỉ này" in visible_text(html)
