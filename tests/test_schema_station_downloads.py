"""The OpenAPI schema lists every answer the station downloads really give: 304 for a matching
If-None-Match, 206/416 for Range, 503 while the bundle's audio is not ready."""

from __future__ import annotations

import pytest
from drf_spectacular.generators import SchemaGenerator

EXPECTED = {
    "/api/v1/station/audio/{sha256}.mp3": {"200", "206", "304", "404", "416"},
    "/api/v1/station/bundle/": {"200", "206", "304", "416", "503"},
    "/api/v1/station/playlist/": {"200", "304"},
    "/api/v1/station/playlist.m3u8": {"200", "304"},
}


@pytest.mark.parametrize("path", sorted(EXPECTED))
def test_station_downloads_document_their_conditional_and_range_answers(path):
    spec = SchemaGenerator().get_schema(request=None, public=True)
    documented = set(spec["paths"][path]["get"]["responses"])
    assert EXPECTED[path] <= documented, sorted(EXPECTED[path] - documented)
