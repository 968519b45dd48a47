"""The pronunciation lexicon API and its effect on what the engine reads."""

from __future__ import annotations

import pytest

from broadcast.services import bulletins as services

pytestmark = pytest.mark.django_db

URL = "/api/v1/pronunciations/"


def test_editor_adds_an_entry_and_the_speakable_text_uses_it(editor, client_for):
    bulletin = services.create_bulletin(editor, "Tin", "Đoàn TNCS phường ra quân.")
    before = client_for(editor).get(f"/api/v1/bulletins/{bulletin.pk}/speakable/").data["text"]
    assert "Đoàn Thanh niên Cộng sản" not in before
    response = client_for(editor).post(URL, {"term": "TNCS", "spoken": "Thanh niên Cộng sản"}, format="json")
    assert response.status_code == 201
    after = client_for(editor).get(f"/api/v1/bulletins/{bulletin.pk}/speakable/").data["text"]
    assert "Đoàn Thanh niên Cộng sản" in after


def test_only_editors_change_the_lexicon_but_readers_list_it(editor, approver, client_for):
    assert client_for(approver).post(URL, {"term": "X", "spoken": "ích"}, format="json").status_code == 403
    client_for(editor).post(URL, {"term": "KP", "spoken": "khu phố"}, format="json")
    listed = client_for(approver).get(URL).data
    assert listed["count"] == 1 and listed["results"][0]["spoken"] == "khu phố"


def test_duplicate_and_blank_entries_are_rejected_per_field(editor, client_for):
    client = client_for(editor)
    assert client.post(URL, {"term": "KP", "spoken": "khu phố"}, format="json").status_code == 201
    duplicate = client.post(URL, {"term": "KP", "spoken": "khác"}, format="json")
    assert duplicate.status_code == 400 and "term" in duplicate.data
    blank = client.post(URL, {"term": "AB", "spoken": "   "}, format="json")
    assert blank.status_code == 400 and "spoken" in blank.data
