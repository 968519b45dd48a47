"""The word-level diff and the field/audio comparisons the review page shows (pure functions)."""

from __future__ import annotations

import datetime as dt

from broadcast.newsroom.diff import Segment, audio_change, field_change, word_diff
from broadcast.newsroom.review import age_label


def _ops(segments):
    return [(s.op, s.text) for s in segments]


def test_identical_texts_are_one_equal_segment():
    assert _ops(word_diff("Tiêm chủng ngày 15/3.", "Tiêm chủng ngày 15/3.")) == [("equal", "Tiêm chủng ngày 15/3.")]


def test_a_replaced_word_is_its_deletion_then_its_insertion():
    assert _ops(word_diff("Họp tổ dân phố lúc 8 giờ.", "Họp tổ dân phố lúc 9 giờ.")) == [
        ("equal", "Họp tổ dân phố lúc "), ("delete", "8"), ("insert", "9"), ("equal", " giờ."),
    ]


def test_only_the_changed_part_of_a_date_is_marked():
    assert _ops(word_diff("ngày 15/3/2025", "ngày 16/3/2025")) == [
        ("equal", "ngày "), ("delete", "15"), ("insert", "16"), ("equal", "/3/2025"),
    ]


def test_insertions_and_deletions_keep_spaces_and_line_breaks():
    segments = word_diff("Người dân\ncần diệt bọ gậy.", "Người dân\ncần khẩn trương diệt bọ gậy.")
    assert [(s.op, s.text.strip()) for s in segments if s.changed] == [("insert", "khẩn trương")]
    assert "".join(s.text for s in segments if s.op != "delete") == "Người dân\ncần khẩn trương diệt bọ gậy."
    removed = word_diff("Bão số 3 rất mạnh.", "Bão số 3.")
    assert "".join(s.text for s in removed if s.op != "insert") == "Bão số 3 rất mạnh."
    assert [s.op for s in removed if s.changed] == ["delete"]


def test_empty_sides():
    assert _ops(word_diff("", "Tin mới")) == [("insert", "Tin mới")]
    assert _ops(word_diff("Tin cũ", "")) == [("delete", "Tin cũ")]
    assert word_diff("", "") == []


def test_segments_of_the_same_kind_are_merged():
    segments = word_diff("a b c", "x y z")
    assert segments == [Segment("delete", "a b c"), Segment("insert", "x y z")]


def test_field_change():
    assert field_change("Thường", "Khẩn cấp").changed
    assert not field_change("Thường", "Thường").changed
    assert not field_change(None, "").changed


def test_audio_change_by_file_and_duration():
    same = audio_change("a" * 64, "a" * 64, 60_000, 60_000)
    assert not same.changed and not same.duration_changed
    other = audio_change("a" * 64, "b" * 64, 60_000, 72_400)
    assert other.changed and other.duration_changed and other.duration_delta_seconds == 12
    # no audio yet on the new side is never "the same audio"
    assert audio_change("a" * 64, None, 60_000, None).changed
    assert audio_change(None, "b" * 64, None, 1000).duration_delta_seconds is None


def test_age_label_in_vietnamese():
    now = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
    assert age_label(now - dt.timedelta(seconds=20), now) == "vừa xong"
    assert age_label(now - dt.timedelta(minutes=5), now) == "5 phút trước"
    assert age_label(now - dt.timedelta(hours=3, minutes=59), now) == "3 giờ trước"
    assert age_label(now - dt.timedelta(days=2, hours=1), now) == "2 ngày trước"
    assert age_label(now + dt.timedelta(minutes=1), now) == "vừa xong"  # a clock a little ahead
    assert age_label(None, now) == "—"
