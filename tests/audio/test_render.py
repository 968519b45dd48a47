"""Rendering: broadcast-ready MP3s checked independently with ffprobe and ffmpeg's ebur128."""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest

from broadcast import demo
from broadcast.audio import render as render_module
from broadcast.audio import segments
from broadcast.audio.engines import ChainEngine, EspeakEngine, GTTSEngine
from broadcast.audio.errors import (
    AllEnginesFailedError,
    AudioValidationError,
    EmptyTextError,
    EngineError,
    EngineTimeoutError,
    NoSpeakableTextError,
    RenderError,
    TextTooLongError,
    ToolMissingError,
    UnknownVoiceError,
)
from broadcast.audio.loudness import measure
from broadcast.audio.normalize import speakable_text
from broadcast.audio.render import (
    RenderLimits,
    RenderSettings,
    encoding,
    render_recording,
    render_speech,
    speech,
    synthesis,
)
from broadcast.audio.wav import pcm16_to_wav

from .conftest import tone

SHORT = "Ủy ban nhân dân phường thông báo lịch tiêm chủng."


def ffprobe(path: Path) -> dict:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", str(path)],
        capture_output=True, check=True, text=True,
    ).stdout  # fmt: skip
    return json.loads(out)


def ebur128(path: Path) -> tuple[float, float]:
    """Integrated loudness and true peak measured by ffmpeg, independent of our meter."""
    err = subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostats", "-i", str(path), "-af", "ebur128=peak=true", "-f", "null", "-"],
        capture_output=True, check=True, text=True,
    ).stderr  # fmt: skip
    summary = err[err.rindex("Summary:") :]
    lufs = float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary).group(1))
    peak = float(re.search(r"Peak:\s+(-?[\d.]+) dBFS", summary).group(1))
    return lufs, peak


def leftovers(directory: Path) -> list[str]:
    # tests/conftest.py puts an isolated MEDIA_ROOT ("media") in every tmp_path; it is not ours.
    return sorted(p.name for p in directory.iterdir() if p.name != "media")


@pytest.fixture(scope="module")
def bulletins() -> list[dict]:
    return demo.load_bulletins()


# --- the real thing: sample bulletins ------------------------------------------------------------


@pytest.mark.parametrize("index", [0, 4])
def test_sample_bulletin_renders_to_broadcast_mp3(bulletins, tmp_path: Path, index: int) -> None:  # noqa: ANN001
    b = bulletins[index]
    spoken = speakable_text(f"{b['title']}.\n{b['body']}")
    settings = RenderSettings()
    out = tmp_path / "bulletin.mp3"
    result = render_speech(spoken, out, engine=EspeakEngine(), voice="vi", settings=settings)

    info = ffprobe(out)
    (stream,) = info["streams"]
    assert stream["codec_name"] == "mp3"
    assert stream["channels"] == 1
    assert int(stream["sample_rate"]) == 22050
    assert 60_000 <= int(info["format"]["bit_rate"]) <= 68_000
    assert abs(float(info["format"]["duration"]) * 1000 - result.duration_ms) < 120
    # ~13 characters of speakable text per second at espeak's default rate, plus chimes/silences
    assert 0.6 < result.duration_ms / 1000 / (len(spoken) / 13 + 4) < 1.6

    lufs, peak = ebur128(out)
    assert abs(lufs - settings.target_lufs) <= 1.0, lufs
    assert peak <= settings.true_peak_dbtp, peak
    assert abs(result.loudness_lufs - settings.target_lufs) <= 0.5
    assert result.true_peak_dbtp <= settings.true_peak_dbtp

    assert result.engine == "espeak" and result.voice == "vi"
    assert result.size_bytes == out.stat().st_size
    import hashlib

    assert result.sha256 == hashlib.sha256(out.read_bytes()).hexdigest()
    assert leftovers(tmp_path) == ["bulletin.mp3"]


def test_other_targets_and_jingle_files(tmp_path: Path) -> None:
    jingle = tmp_path / "intro.wav"
    jingle.write_bytes(pcm16_to_wav(tone(1.0, 44100, 660.0, 0.9), 44100))
    settings = RenderSettings(target_lufs=-20.0, true_peak_dbtp=-3.0, intro_jingle=jingle, use_default_chime=False)
    out = tmp_path / "out" / "x.mp3"
    result = render_speech(SHORT + " " + SHORT, out, engine=EspeakEngine(), voice="vi-vn-x-south", settings=settings)
    lufs, peak = ebur128(out)
    assert abs(lufs + 20.0) <= 1.0 and peak <= -3.0
    plain = render_speech(
        SHORT + " " + SHORT, tmp_path / "plain.mp3", engine=EspeakEngine(), voice="vi-vn-x-south",
        settings=replace(settings, intro_jingle=None),
    )  # fmt: skip
    assert result.duration_ms - plain.duration_ms > 1000  # the 1 s jingle and its gap are there


def test_long_text_is_synthesized_in_pieces_without_clicks(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    sentences = [f"Đây là câu số {i}, thông báo của phường về lịch thu gom rác." for i in range(1, 25)]
    calls: list[str] = []
    piece_frames: list[int] = []
    captured: dict = {}

    class Counting(EspeakEngine):
        batch_chars = 300

        def synthesize(self, text: str, voice: str) -> bytes:
            calls.append(text)
            return super().synthesize(text, voice)

    original_piece, original_produce = synthesis._prepare_piece, speech._produce

    def keep(wav: bytes, rate: int):  # noqa: ANN202
        piece = original_piece(wav, rate)
        piece_frames.append(segments.frames(piece))
        return piece

    def produce(program, spans, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        captured["program"], captured["spans"] = program.copy(), list(spans)
        return original_produce(program, spans, *args, **kwargs)

    monkeypatch.setattr(synthesis, "_prepare_piece", keep)
    monkeypatch.setattr(speech, "_produce", produce)
    out = tmp_path / "long.mp3"
    settings = RenderSettings(use_default_chime=False)
    result = render_speech(speakable_text(" ".join(sentences)), out, engine=Counting(), voice="vi", settings=settings)
    assert len(calls) > 3 and len(piece_frames) == len(calls)
    assert all(len(c) <= 300 for c in calls)
    program, spans = captured["program"].astype(int), captured["spans"]
    assert [k for _, _, k in spans] == ["speech"] * len(calls)
    # The joins: each piece fades in from the silence before it and out into the one after.
    for start, end, _ in spans:
        assert np.abs(program[start - 200 : start]).max() < 50  # silence before...
        assert abs(program[start]) < 50 and abs(program[end - 1]) < 50  # ...no step at either edge
        assert np.abs(program[start : start + 40]).max() < 2000  # faded in, not cut in
        assert np.abs(np.diff(program[start - 10 : end + 10])).max() < 20000
    speech_s = sum(piece_frames) / settings.sample_rate
    gaps_s = (len(piece_frames) - 1) * settings.sentence_gap_ms / 1000
    expected = speech_s + gaps_s + (settings.lead_silence_ms + settings.tail_silence_ms) / 1000
    assert abs(result.duration_ms / 1000 - expected) < 0.1


def test_abrupt_engine_output_is_faded_at_the_join() -> None:
    loud = np.full(22050, 20000, dtype=np.int16)  # a DC step: the worst possible click
    piece = synthesis._prepare_piece(pcm16_to_wav(loud, 22050), 22050)
    unit = segments.as_array(segments.join_with_silence(300, piece, 300, render_module.assembly._EDGE_FADE_MS)).astype(int)
    lead = segments.frames(segments.silence(300, 22050))
    assert unit.size == pytest.approx(lead * 2 + segments.frames(piece), abs=4)
    assert np.abs(unit[:lead]).max() == 0 and np.abs(unit[-lead:]).max() == 0
    on = unit[lead : lead + 176]
    # rises over ~8 ms (the band-limit filter's ripple on the step rides on the ramp)
    assert abs(on[0]) < 200 and np.all(np.diff(on) >= -20) and on[-1] > 15000
    off = unit[-lead - 176 : -lead]
    assert abs(off[-1]) < 200 and np.all(np.diff(off) <= 20) and off[0] > 15000  # and falls
    assert np.abs(np.diff(unit)).max() < 400  # no sample-to-sample jump anywhere


def test_crossfaded_join_of_a_tone_cut_mid_cycle_has_no_discontinuity() -> None:
    rate = 22050
    # A 1 kHz tone starting and ending at its peak, as a cut-off engine output would.
    t = np.arange(rate) / rate
    cut = np.round(25000 * np.cos(2 * np.pi * 1000 * t)).astype(np.int16)
    unit = segments.as_array(segments.join_with_silence(100, segments.from_array(cut, rate), 100, 8)).astype(int)
    steady = np.abs(np.diff(cut.astype(int))).max()  # the tone's own largest step
    assert np.abs(np.diff(unit)).max() <= steady + 2
    plain = np.concatenate([np.zeros(100), cut, np.zeros(100)])  # what a plain join would do
    assert np.abs(np.diff(plain)).max() > 20000


def test_cache_key_is_stable_and_tracks_processing_only(tmp_path: Path) -> None:
    a = RenderSettings()
    assert a.cache_key() == RenderSettings().cache_key()
    assert a.cache_key() != RenderSettings(target_lufs=-18.0).cache_key()
    assert a.cache_key() != RenderSettings(bitrate="96k").cache_key()
    assert a.cache_key() == RenderSettings(workers=1, tool_timeout_s=5).cache_key()
    jingle = tmp_path / "j.wav"
    jingle.write_bytes(pcm16_to_wav(tone(0.5), 22050))
    with_jingle = RenderSettings(intro_jingle=jingle).cache_key()
    jingle.write_bytes(pcm16_to_wav(tone(0.5, freq=500.0), 22050))
    assert RenderSettings(intro_jingle=jingle).cache_key() != with_jingle  # content, not just the name


# --- the chain during a render -------------------------------------------------------------------


def test_render_with_chain_records_the_fallback(fake_google, tmp_path: Path) -> None:  # noqa: ANN001
    fake_google.script = ["hang"]
    fake_google.hang_seconds = 2.0
    chain = ChainEngine([GTTSEngine(base_url=fake_google.url, timeout=0.3, retries=0), EspeakEngine()])
    result = render_speech(SHORT, tmp_path / "c.mp3", engine=chain, voice="vi", settings=RenderSettings())
    assert result.engine == "espeak"
    assert [(a.engine, a.ok, a.code) for a in result.attempts] == [
        ("gtts", False, "engine_timeout"),
        ("espeak", True, ""),
    ]


def test_render_with_gtts_from_local_server(fake_google, tmp_path: Path) -> None:  # noqa: ANN001
    engine = GTTSEngine(base_url=fake_google.url, timeout=2.0)
    result = render_speech(SHORT, tmp_path / "g.mp3", engine=engine, voice="vi", settings=RenderSettings())
    assert result.engine == "gtts"
    assert abs(ebur128(tmp_path / "g.mp3")[0] + 16.0) <= 1.0


# --- faults leave nothing behind -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "error"),
    [("", EmptyTextError), ("  ", EmptyTextError), ("... !!!", NoSpeakableTextError), ("a" * 50, TextTooLongError)],
)
def test_bad_text(tmp_path: Path, text: str, error: type) -> None:
    with pytest.raises(error):
        render_speech(text, tmp_path / "x.mp3", engine=EspeakEngine(), voice="vi", settings=RenderSettings(),
                      limits=RenderLimits(max_text_chars=40))  # fmt: skip
    assert leftovers(tmp_path) == []


def test_unknown_voice_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(UnknownVoiceError):
        render_speech(SHORT, tmp_path / "x.mp3", engine=EspeakEngine(), voice="xx", settings=RenderSettings())
    assert leftovers(tmp_path) == []


def test_hanging_engine_in_render(tmp_path: Path, fake_binary) -> None:  # noqa: ANN001
    engine = EspeakEngine(binary=fake_binary("espeak-ng", "exec sleep 30"), timeout=0.5)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    with pytest.raises(EngineTimeoutError):
        render_speech(SHORT, out_dir / "x.mp3", engine=engine, voice="vi", settings=RenderSettings())
    assert leftovers(out_dir) == []


def test_all_engines_failing_in_render(tmp_path: Path, fake_binary) -> None:  # noqa: ANN001
    crash = EspeakEngine(binary=fake_binary("espeak-ng", "kill -SEGV $$"))
    chain = ChainEngine([crash, EspeakEngine(binary="/nonexistent/espeak-ng")])
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    with pytest.raises(AllEnginesFailedError):
        render_speech(SHORT, out_dir / "x.mp3", engine=chain, voice="vi", settings=RenderSettings())
    assert leftovers(out_dir) == []


def test_missing_ffmpeg(tmp_path: Path) -> None:
    settings = RenderSettings(ffmpeg_binary="/nonexistent/ffmpeg")
    with pytest.raises(ToolMissingError) as err:
        render_speech(SHORT, tmp_path / "x.mp3", engine=EspeakEngine(), voice="vi", settings=settings)
    assert "ffmpeg" in str(err.value)
    assert leftovers(tmp_path) == []


def test_encoder_crash_midway_leaves_no_partial_file(tmp_path: Path, fake_binary) -> None:  # noqa: ANN001
    # A "ffmpeg" that writes half a file to its output path and dies.
    broken = fake_binary("ffmpeg", 'for last; do :; done; head -c 1000 /dev/urandom > "$last"; exit 1')
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    with pytest.raises(RenderError):
        render_speech(SHORT, out_dir / "x.mp3", engine=EspeakEngine(), voice="vi",
                      settings=RenderSettings(ffmpeg_binary=broken, use_default_chime=False))  # fmt: skip
    assert leftovers(out_dir) == []


def test_existing_file_is_replaced_atomically(tmp_path: Path) -> None:
    out = tmp_path / "x.mp3"
    out.write_bytes(b"old")
    result = render_speech(SHORT, out, engine=EspeakEngine(), voice="vi", settings=RenderSettings())
    assert out.read_bytes()[:3] != b"old" and result.size_bytes > 1000
    assert leftovers(tmp_path) == ["x.mp3"]


# --- recordings ----------------------------------------------------------------------------------


def write_recording(path: Path, seconds: float, rate: int = 44100, fmt: str | None = None) -> Path:
    wav = path.with_suffix(".wav")
    wav.write_bytes(pcm16_to_wav(tone(seconds, rate, amp=0.05), rate))
    if fmt is None:
        return wav
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(wav), str(path)], check=True)
    return path


def test_recording_is_normalized_like_speech(tmp_path: Path) -> None:
    src = write_recording(tmp_path / "rec.ogg", 4.0, fmt="ogg")
    out = tmp_path / "out" / "rec.mp3"
    result = render_recording(src, out, settings=RenderSettings(use_default_chime=False))
    (stream,) = ffprobe(out)["streams"]
    assert stream["channels"] == 1 and int(stream["sample_rate"]) == 22050
    lufs, peak = ebur128(out)
    assert abs(lufs + 16.0) <= 1.0 and peak <= -1.0
    assert result.engine == "recording"
    assert 4900 <= result.duration_ms <= 5200  # 4 s + 0.3 s lead + 0.7 s tail


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"this is not audio, just text\n" * 50, "not_audio"),
        (b"ID3\x03\x00\x00\x00\x00\x00\x00" + bytes(range(256)) * 20, "not_audio"),
        (b"", "empty_file"),
    ],
)
def test_recording_rejects_non_audio(tmp_path: Path, content: bytes, code: str) -> None:
    src = tmp_path / "upload.mp3"
    src.write_bytes(content)
    out_dir = tmp_path / "out"
    with pytest.raises(AudioValidationError) as err:
        render_recording(src, out_dir / "x.mp3", settings=RenderSettings())
    assert err.value.code == code and not err.value.too_large
    assert not out_dir.exists() or leftovers(out_dir) == []


def test_recording_too_large_is_flagged(tmp_path: Path) -> None:
    src = write_recording(tmp_path / "rec.wav", 3.0)
    with pytest.raises(AudioValidationError) as err:
        render_recording(src, tmp_path / "x.mp3", settings=RenderSettings(),
                         limits=RenderLimits(max_upload_bytes=10_000))  # fmt: skip
    assert err.value.too_large and err.value.code == "too_large"
    assert "MB" in str(err.value)


def test_recording_duration_limits(tmp_path: Path) -> None:
    short = write_recording(tmp_path / "short.wav", 0.4)
    with pytest.raises(AudioValidationError) as err:
        render_recording(short, tmp_path / "x.mp3", settings=RenderSettings())
    assert err.value.code == "too_short"
    longer = write_recording(tmp_path / "long.wav", 3.0)
    with pytest.raises(AudioValidationError) as err:
        render_recording(longer, tmp_path / "x.mp3", settings=RenderSettings(),
                         limits=RenderLimits(max_recording_s=2.0))  # fmt: skip
    assert err.value.code == "too_long"
    assert not (tmp_path / "x.mp3").exists()


def test_silent_recording_is_rejected(tmp_path: Path) -> None:
    src = tmp_path / "silence.wav"
    src.write_bytes(pcm16_to_wav(np.zeros(22050 * 3, dtype=np.int16), 22050))
    with pytest.raises(AudioValidationError) as err:
        render_recording(src, tmp_path / "x.mp3", settings=RenderSettings())
    assert err.value.code == "silent_audio"


def test_truncated_recording(tmp_path: Path) -> None:
    good = write_recording(tmp_path / "rec.mp3", 3.0, fmt="mp3")
    broken = tmp_path / "broken.mp3"
    broken.write_bytes(good.read_bytes()[:600])  # header and a few frames only
    with pytest.raises(AudioValidationError):
        render_recording(broken, tmp_path / "x.mp3", settings=RenderSettings())
    assert not (tmp_path / "x.mp3").exists()


# --- our meter agrees with pyloudnorm ------------------------------------------------------------


def test_streaming_meter_matches_pyloudnorm() -> None:
    rng = np.random.default_rng(7)
    x = (tone(6.0, 22050).astype(np.float64) / 32768) * np.repeat(rng.uniform(0.1, 1.0, 60), 2205)
    ours, _ = measure(x.astype(np.float32), 22050)
    reference = pyloudnorm.Meter(22050).integrated_loudness(x)
    assert abs(ours - reference) < 0.05


# --- pydub: jingles in any format, the generated chime, gTTS decoding ----------------------------


def dominant_hz(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64) * np.hanning(samples.size)))
    return float(np.fft.rfftfreq(samples.size, 1 / rate)[int(np.argmax(spectrum))])


@pytest.mark.parametrize("fmt", ["ogg", "mp3", "flac"])
def test_jingle_in_a_compressed_format_is_decoded_by_pydub(tmp_path: Path, fmt: str) -> None:
    wav = tmp_path / "j.wav"
    wav.write_bytes(pcm16_to_wav(tone(1.2, 44100, 880.0, 0.8), 44100))
    jingle = tmp_path / f"j.{fmt}"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(wav), "-ac", "2", str(jingle)], check=True)
    settings = RenderSettings(intro_jingle=jingle, use_default_chime=False)
    loaded = render_module.assembly._load_jingle(jingle, settings)
    assert loaded.frame_rate == 22050 and loaded.channels == 1 and loaded.sample_width == 2
    samples = segments.as_array(loaded)
    assert abs(samples.size / 22050 - 1.2) < 0.06  # codec padding at most
    assert abs(dominant_hz(samples, 22050) - 880.0) < 40  # the tone (with vibrato), resampled and mixed down
    out = tmp_path / "with-jingle.mp3"
    result = render_speech(SHORT, out, engine=EspeakEngine(), voice="vi", settings=settings)
    lufs, peak = ebur128(out)
    assert abs(lufs + 16.0) <= 1.0 and peak <= -1.0
    plain = render_speech(SHORT, tmp_path / "plain.mp3", engine=EspeakEngine(), voice="vi",
                          settings=replace(settings, intro_jingle=None))  # fmt: skip
    assert 1300 < result.duration_ms - plain.duration_ms < 1600  # jingle + 250 ms gap


def test_unusable_jingle_files_are_refused(tmp_path: Path) -> None:
    text = tmp_path / "j.ogg"
    text.write_text("không phải âm thanh\n" * 100, encoding="utf-8")
    with pytest.raises(RenderError) as err:
        render_speech(SHORT, tmp_path / "x.mp3", engine=EspeakEngine(), voice="vi",
                      settings=RenderSettings(intro_jingle=text))  # fmt: skip
    assert err.value.code == "jingle_invalid"
    playlist = tmp_path / "j.ffconcat"  # a demuxer that would read other files: never decoded
    playlist.write_text(f"ffconcat version 1.0\nfile '{text}'\n", encoding="utf-8")
    with pytest.raises(RenderError) as err:
        render_module.assembly._load_jingle(playlist, RenderSettings())
    assert err.value.code == "jingle_invalid"
    assert leftovers(tmp_path) == ["j.ffconcat", "j.ogg"]


def test_default_chime_is_generated_with_pydub() -> None:
    from broadcast.audio.chime import default_chime, default_chime_segment

    seg = default_chime_segment(22050, descending=True)
    assert seg.frame_rate == 22050 and seg.channels == 1 and abs(len(seg) - 1400) <= 1
    assert abs(seg.max_dBFS + 6.0) < 0.1
    x = default_chime(22050, descending=True).astype(int)
    assert abs(x[0]) < 50 and abs(x[-1]) < 50  # faded in and out
    assert np.abs(x[:40]).max() < np.abs(x[110:2000]).max() / 2  # a 5 ms attack, not a hard onset
    # G5 sounds first, then E5 joins at 0.4 s; the other chime is the reverse.
    assert abs(dominant_hz(x[:8000], 22050) - 784.0) < 8
    assert abs(dominant_hz(default_chime(22050, descending=False)[:8000], 22050) - 659.25) < 8
    late = x[int(0.6 * 22050) : int(1.0 * 22050)]
    assert abs(dominant_hz(late, 22050) - 659.25) < 8  # the second note dominates once the first decays


def test_gtts_mp3_is_decoded_through_pydub(fake_google, monkeypatch) -> None:  # noqa: ANN001
    from pydub import AudioSegment

    calls: list[tuple] = []
    original = AudioSegment.from_file.__func__

    def spy(cls, file, format=None, codec=None, **kwargs):  # noqa: A002, ANN001, ANN003, ANN202
        calls.append((format, codec))
        return original(cls, file, format=format, codec=codec, **kwargs)

    monkeypatch.setattr(AudioSegment, "from_file", classmethod(spy))
    wav = GTTSEngine(base_url=fake_google.url, timeout=2.0).synthesize(SHORT, "vi")
    assert calls == [("mp3", "mp3")]  # demuxer and decoder forced: pydub runs no ffprobe of its own
    seg = AudioSegment.from_wav(__import__("io").BytesIO(wav))
    assert seg.frame_rate == 24000 and seg.channels == 1
    samples = segments.as_array(seg)
    assert 1.3 < samples.size / 24000 < 1.7
    assert abs(dominant_hz(samples, 24000) - 440.0) < 25  # the served tone (with vibrato), decoded


def test_gtts_answer_that_is_not_mp3_is_an_engine_error(fake_google) -> None:  # noqa: ANN001
    fake_google.audio = b"<html>captcha</html>" * 50
    with pytest.raises(EngineError) as err:
        GTTSEngine(base_url=fake_google.url, timeout=2.0, retries=0).synthesize(SHORT, "vi")
    assert err.value.code == "bad_engine_output"


# --- verification while encoding -----------------------------------------------------------------


def test_streamed_verification_matches_a_decode_of_the_final_file(tmp_path: Path) -> None:
    out = tmp_path / "v.mp3"
    settings = RenderSettings()
    result = render_speech(SHORT + " " + SHORT, out, engine=EspeakEngine(), voice="vi", settings=settings)
    lufs, peak, samples = render_module.measure_file(out, settings)  # the whole file, after the fact
    assert abs(result.loudness_lufs - lufs) < 0.1
    assert abs(result.true_peak_dbtp - peak) < 0.1
    assert abs(samples - result.duration_ms * settings.sample_rate / 1000) < 30  # gapless: same length
    ref_lufs, ref_peak = ebur128(out)
    assert abs(ref_lufs - result.loudness_lufs) < 0.5 and ref_peak <= settings.true_peak_dbtp


def test_hanging_encoder_is_killed_by_the_timeout(tmp_path: Path, fake_binary) -> None:  # noqa: ANN001
    import time

    hang = fake_binary("ffmpeg", "exec sleep 30")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    settings = RenderSettings(ffmpeg_binary=hang, use_default_chime=False, tool_timeout_s=1.0)
    program = (tone(2.0) // 2).astype(np.int16)
    started = time.monotonic()
    with pytest.raises(RenderError) as err:
        encoding._encode_and_verify(program, np.ones(program.size // 64 + 1), settings, out_dir / "x.part")
    assert time.monotonic() - started < 10
    assert "thời gian" in str(err.value)


def test_the_encoder_is_not_left_running_when_the_verifier_cannot_start(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    real_popen = subprocess.Popen
    started: list[subprocess.Popen] = []

    def popen(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        if started:  # the second process (the verifying decoder) fails to start
            raise OSError("Resource temporarily unavailable")
        started.append(real_popen(*args, **kwargs))
        return started[-1]

    monkeypatch.setattr(encoding.subprocess, "Popen", popen)
    program = (tone(1.0) // 2).astype(np.int16)
    with pytest.raises(OSError):
        encoding._encode_and_verify(program, np.ones(program.size // 64 + 1), RenderSettings(),
                                         tmp_path / "x.part")  # fmt: skip
    assert started[0].poll() is not None  # the encoder was stopped, not left waiting on its stdin
