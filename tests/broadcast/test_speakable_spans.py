"""The speakable endpoint shows the editor every rewritten token and every guess."""

from __future__ import annotations

import pytest

from broadcast.models import PronunciationEntry
from broadcast.services import bulletins as services

pytestmark = pytest.mark.django_db


def url(bulletin) -> str:
    return f"/api/v1/bulletins/{bulletin.pk}/speakable/"


def test_speakable_lists_spans_with_offsets_and_rules(editor, client_for):
    bulletin = services.create_bulletin(editor, "Thu phí", "Mức thu 50.000đ/người, gọi SĐT 0912345678.")
    data = client_for(editor).get(url(bulletin)).data
    assert data["text"] == (
        "Thu phí.\n"
        "Mức thu năm mươi nghìn đồng một người, gọi số điện thoại không chín một hai, ba bốn năm, sáu bảy tám."
    )
    source = data["source"]
    assert source.startswith("Thu phí.") and source.endswith(bulletin.current_revision.body)
    spans = {span["source"]: span for span in data["spans"]}
    amount = spans["50.000đ/người"]
    assert amount["rule"] == "amount" and amount["spoken"] == "năm mươi nghìn đồng một người"
    assert source[amount["start"] : amount["end"]] == "50.000đ/người" and amount["entry"] is None
    assert spans["0912345678"]["rule"] == "phone" and spans["SĐT"]["rule"] == "abbreviation"
    assert data["warnings"] == []


def test_a_lexicon_span_names_the_entry_and_guesses_are_warned(editor, client_for):
    entry = PronunciationEntry.objects.create(term="Loa", spoken="Lo a", created_by=editor)
    bulletin = services.create_bulletin(editor, "Tin", "Loa phường: 1/2 đã xong, HQX báo.")
    data = client_for(editor).get(url(bulletin)).data
    lexicon = [span for span in data["spans"] if span["rule"] == "lexicon"]
    assert lexicon == [{"start": 6, "end": 9, "source": "Loa", "spoken": "Lo a", "rule": "lexicon",
                        "entry": entry.pk}]
    assert [(w["code"], w["source"]) for w in data["warnings"]] == [
        ("ambiguous_fraction", "1/2"), ("unknown_abbreviation", "HQX")
    ]
    assert "phân số" in data["warnings"][0]["message"]


def test_speakable_schema_documents_spans_warnings_and_the_lexicon_order(client_for, editor):
    schema = client_for(editor).get("/api/schema/?format=json").json()
    component = schema["components"]["schemas"]["Speakable"]
    assert {"text", "source", "spans", "warnings"} <= set(component["properties"])
    operation = schema["paths"]["/api/v1/bulletins/{id}/speakable/"]["get"]
    assert "whole word" in operation["description"]
    pronunciations = schema["paths"]["/api/v1/pronunciations/"]["post"]
    assert "whole word" in pronunciations["description"]


def test_speakable_command_prints_spans_and_warnings(tmp_path):
    import io

    from django.core.management import call_command

    source = tmp_path / "b.txt"
    source.write_text("Thu 50.000đ/người; HQX báo.", encoding="utf-8")
    out = io.StringIO()
    call_command("speakable", str(source), "--spans", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "Thu năm mươi nghìn đồng một người; hát quy ích báo."
    assert "4-17\tamount\t50.000đ/người -> năm mươi nghìn đồng một người" in lines
    assert any(line.startswith("19-22\tcảnh báo\tChữ viết tắt “HQX”") for line in lines)


def test_audio_made_from_an_older_reading_keeps_its_text_and_is_warned(editor, client_for):
    from tests.factories import approved_bulletin

    bulletin = approved_bulletin(title="Họp", author=editor)
    rendition = bulletin.current_revision.rendition
    rendition.speakable_text = "Họp.\nNội dung Họp."
    rendition.save(update_fields=["speakable_text"])
    unchanged = client_for(editor).get(url(bulletin)).data
    assert unchanged["text"] == "Họp.\nNội dung Họp." and unchanged["warnings"] == []

    PronunciationEntry.objects.create(term="Họp", spoken="Hội họp", created_by=editor)
    data = client_for(editor).get(url(bulletin)).data
    assert data["text"] == "Họp.\nNội dung Họp."  # what the audio says
    assert data["warnings"][0]["code"] == "stale_audio"
    assert [span["spoken"] for span in data["spans"]] == ["Hội họp", "Hội họp"]
