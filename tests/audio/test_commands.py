"""The editors' command-line tools: `speakable` and `render_text`."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command


def run(name: str, *args: str) -> str:
    out = io.StringIO()
    call_command(name, *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_speakable_prints_the_spoken_form(tmp_path: Path) -> None:
    src = tmp_path / "b.txt"
    src.write_text("UBND phường: ngày 21/3/2023.", encoding="utf-8")
    lexicon = tmp_path / "lex.txt"
    lexicon.write_text("# tên riêng\nphường = phường Hàng Bạc\n", encoding="utf-8")
    assert run("speakable", str(src)).strip() == (
        "Ủy ban nhân dân phường: ngày hai mươi mốt tháng ba năm hai nghìn không trăm hai mươi ba."
    )
    assert run("speakable", str(src), "--lexicon", str(lexicon)).startswith("Ủy ban nhân dân phường Hàng Bạc:")


def test_render_text_writes_an_mp3(tmp_path: Path) -> None:
    src = tmp_path / "b.txt"
    src.write_text("Thông báo của phường về lịch tiêm chủng.", encoding="utf-8")
    out = tmp_path / "o" / "b.mp3"
    line = run("render_text", str(src), "-o", str(out), "--engine", "espeak", "--voice", "vi-vn-x-central")
    assert out.is_file() and out.stat().st_size > 1000
    assert "engine=espeak" in line and "LUFS" in line


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--engine", "nope"], "nope"),
        (["--voice", "en"], "en"),
        (["--lexicon", "/nonexistent.json"], "từ điển"),
    ],
)
def test_render_text_bad_input_is_one_readable_error(tmp_path: Path, args: list[str], message: str) -> None:
    src = tmp_path / "b.txt"
    src.write_text("Xin chào.", encoding="utf-8")
    out = tmp_path / "b.mp3"
    with pytest.raises(CommandError) as err:
        run("render_text", str(src), "-o", str(out), *args)
    assert message in str(err.value)
    assert not out.exists()


def test_speakable_empty_and_missing_file(tmp_path: Path) -> None:
    empty = tmp_path / "e.txt"
    empty.write_text("   ", encoding="utf-8")
    with pytest.raises(CommandError, match="trống"):
        run("speakable", str(empty))
    with pytest.raises(CommandError, match="Không tìm thấy"):
        run("speakable", str(tmp_path / "missing.txt"))
