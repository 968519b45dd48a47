"""Upload validation: ffprobe's weak guesses are not audio; headerless MP3 still is."""

import subprocess
from pathlib import Path

import pytest

from broadcast.audio.errors import AudioValidationError
from broadcast.audio.render import RenderLimits, RenderSettings, probe_audio


def _encode(path: Path, *args: str) -> Path:
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=2",
                    "-ac", "1", *args, "-y", str(path)], check=True)
    return path


def test_vietnamese_text_that_ffprobe_guesses_as_amr_is_refused(tmp_path):
    text = tmp_path / "upload"
    text.write_text("Đây là văn bản, không phải âm thanh.\n" * 200, encoding="utf-8")
    with pytest.raises(AudioValidationError) as excinfo:
        probe_audio(text, RenderSettings(), RenderLimits())
    assert excinfo.value.code == "not_audio"


@pytest.mark.parametrize("args", [["-f", "mp3", "-id3v2_version", "0", "-write_xing", "0"], ["-f", "ogg"],
                                  ["-f", "wav"]], ids=["headerless-mp3", "ogg", "wav"])
def test_real_audio_without_a_file_extension_is_accepted(tmp_path, args):
    info = probe_audio(_encode(tmp_path / "upload", *args), RenderSettings(), RenderLimits())
    assert info["duration_s"] == pytest.approx(2.0, abs=0.1)


@pytest.mark.parametrize("playlist", ["ffconcat version 1.0\nfile other.wav\n",
                                      "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nother.wav\n#EXT-X-ENDLIST\n"],
                         ids=["ffconcat", "hls"])
def test_a_playlist_naming_another_file_is_refused(tmp_path, playlist):
    # The decoder would read the named file (another upload beside this one) as if it were this one.
    _encode(tmp_path / "other.wav", "-f", "wav")
    upload = tmp_path / "upload"
    upload.write_text(playlist, encoding="utf-8")
    with pytest.raises(AudioValidationError) as excinfo:
        probe_audio(upload, RenderSettings(), RenderLimits())
    assert excinfo.value.code == "not_audio"
