"""Speech engines: espeak-ng for real, gTTS against a local HTTP server, the fallback chain."""

from __future__ import annotations

import time

import pytest

from broadcast.audio.engines import (
    ChainEngine,
    EspeakEngine,
    GTTSEngine,
    available_engines,
    get_engine,
)
from broadcast.audio.errors import (
    AllEnginesFailedError,
    EngineError,
    EngineTimeoutError,
    EngineUnavailableError,
    TemporaryEngineError,
    UnknownEngineError,
    UnknownVoiceError,
)
from broadcast.audio.wav import read_wav


def test_registry() -> None:
    assert {"espeak", "gtts", "chain"} <= set(available_engines())
    assert isinstance(get_engine("espeak", rate=150), EspeakEngine)
    with pytest.raises(UnknownEngineError) as err:
        get_engine("piper")
    assert "piper" in str(err.value)
    with pytest.raises(UnknownEngineError):
        get_engine("espeak", colour="blue")


# --- espeak --------------------------------------------------------------------------------------


@pytest.mark.parametrize("voice", ["vi", "vi-vn-x-central", "vi-vn-x-south"])
def test_espeak_voices_produce_speech(voice: str) -> None:
    wav = EspeakEngine().synthesize("Xin chào bà con.", voice)
    samples, rate = read_wav(wav)
    assert rate == 22050
    assert samples.size > rate * 0.5
    assert abs(samples).max() > 3000


def test_espeak_rate_changes_duration() -> None:
    text = "Ủy ban nhân dân phường thông báo lịch tiêm chủng."
    slow, _ = read_wav(EspeakEngine(rate=110).synthesize(text, "vi"))
    fast, _ = read_wav(EspeakEngine(rate=260).synthesize(text, "vi"))
    assert slow.size > fast.size * 1.6


def test_espeak_unknown_voice() -> None:
    with pytest.raises(UnknownVoiceError) as err:
        EspeakEngine().synthesize("xin chào", "en-us")
    assert "en-us" in str(err.value)
    assert not err.value.temporary


def test_espeak_missing_binary() -> None:
    with pytest.raises(EngineUnavailableError) as err:
        EspeakEngine(binary="/nonexistent/espeak-ng").synthesize("xin chào", "vi")
    assert "espeak-ng" in str(err.value)


def test_espeak_hang_is_killed_by_timeout(fake_binary) -> None:  # noqa: ANN001
    engine = EspeakEngine(binary=fake_binary("espeak-ng", "exec sleep 30"), timeout=0.5)
    started = time.monotonic()
    with pytest.raises(EngineTimeoutError) as err:
        engine.synthesize("xin chào", "vi")
    assert time.monotonic() - started < 5
    assert err.value.temporary


def test_espeak_crash_is_reported(fake_binary) -> None:  # noqa: ANN001
    engine = EspeakEngine(binary=fake_binary("espeak-ng", "echo boom >&2; kill -SEGV $$"))
    with pytest.raises(EngineError) as err:
        engine.synthesize("xin chào", "vi")
    assert err.value.code == "engine_crashed"
    assert "espeak-ng" in str(err.value)


def test_espeak_garbage_output_is_rejected(fake_binary) -> None:  # noqa: ANN001
    engine = EspeakEngine(binary=fake_binary("espeak-ng", "cat >/dev/null; echo not a wav file at all"))
    with pytest.raises(EngineError) as err:
        engine.synthesize("xin chào", "vi")
    assert err.value.code == "bad_engine_output"


# --- gTTS against a local server -----------------------------------------------------------------


def gtts(fake, **kw) -> GTTSEngine:  # noqa: ANN001
    sleeps: list[float] = []
    engine = GTTSEngine(base_url=fake.url, timeout=kw.pop("timeout", 2.0), sleep=sleeps.append, **kw)
    engine.sleeps = sleeps  # type: ignore[attr-defined]
    return engine


def test_gtts_returns_wav_from_server(fake_google) -> None:  # noqa: ANN001
    wav = gtts(fake_google).synthesize("Xin chào bà con.", "vi")
    samples, rate = read_wav(wav)
    assert rate == 24000
    assert 1.3 < samples.size / rate < 1.7  # the served 1.5 s tone
    assert fake_google.requests == 1


def test_gtts_retries_429_and_5xx_with_backoff(fake_google) -> None:  # noqa: ANN001
    fake_google.script = ["429", "500", "ok"]
    engine = gtts(fake_google, retries=2, backoff=0.5)
    read_wav(engine.synthesize("Xin chào.", "vi"))
    assert fake_google.requests == 3
    assert engine.sleeps == [0.5, 1.0]


def test_gtts_gives_up_after_bounded_retries(fake_google) -> None:  # noqa: ANN001
    fake_google.script = ["500"]
    engine = gtts(fake_google, retries=2)
    with pytest.raises(TemporaryEngineError) as err:
        engine.synthesize("Xin chào.", "vi")
    assert fake_google.requests == 3
    assert "500" in str(err.value)


def test_gtts_permanent_http_error_is_not_retried(fake_google) -> None:  # noqa: ANN001
    fake_google.script = ["403"]
    with pytest.raises(EngineError) as err:
        gtts(fake_google, retries=3).synthesize("Xin chào.", "vi")
    assert not err.value.temporary
    assert fake_google.requests == 1


def test_gtts_answer_without_audio(fake_google) -> None:  # noqa: ANN001
    fake_google.script = ["empty"]
    with pytest.raises(EngineError) as err:
        gtts(fake_google).synthesize("Xin chào.", "vi")
    assert err.value.code == "bad_engine_output"


def test_gtts_hanging_server_hits_the_timeout(fake_google) -> None:  # noqa: ANN001
    fake_google.script = ["hang"]
    fake_google.hang_seconds = 3.0
    started = time.monotonic()
    with pytest.raises(EngineTimeoutError):
        gtts(fake_google, timeout=0.4, retries=1).synthesize("Xin chào.", "vi")
    assert time.monotonic() - started < 2.5
    assert fake_google.requests == 2


def test_gtts_unreachable_server_is_temporary() -> None:
    engine = GTTSEngine(base_url="http://127.0.0.1:9", timeout=1.0, retries=1, sleep=lambda s: None)
    with pytest.raises(TemporaryEngineError):
        engine.synthesize("Xin chào.", "vi")


# --- the chain -----------------------------------------------------------------------------------


def test_chain_falls_back_when_gtts_fails_fast(fake_google) -> None:  # noqa: ANN001
    fake_google.script = ["500"]
    chain = ChainEngine([gtts(fake_google, retries=0), EspeakEngine()])
    audio, used, attempts = chain.synthesize_with_report("Xin chào bà con.", "vi")
    assert used == "espeak"
    assert [(a.engine, a.ok) for a in attempts] == [("gtts", False), ("espeak", True)]
    assert "500" in attempts[0].error and attempts[0].temporary
    assert read_wav(audio)[1] == 22050


def test_chain_falls_back_when_gtts_hangs(fake_google) -> None:  # noqa: ANN001
    fake_google.script = ["hang"]
    fake_google.hang_seconds = 3.0
    chain = ChainEngine([gtts(fake_google, timeout=0.4, retries=0), EspeakEngine()])
    started = time.monotonic()
    _, used, attempts = chain.synthesize_with_report("Xin chào.", "vi")
    assert time.monotonic() - started < 2.5
    assert used == "espeak"
    assert attempts[0].code == "engine_timeout"


def test_chain_uses_gtts_when_it_answers(fake_google) -> None:  # noqa: ANN001
    chain = ChainEngine([gtts(fake_google), EspeakEngine()])
    audio, used, attempts = chain.synthesize_with_report("Xin chào.", "vi")
    assert used == "gtts" and len(attempts) == 1
    assert read_wav(audio)[1] == 24000


def test_chain_skips_engines_without_the_voice(fake_google) -> None:  # noqa: ANN001
    chain = ChainEngine([gtts(fake_google), EspeakEngine()])
    _, used, attempts = chain.synthesize_with_report("Xin chào.", "vi-vn-x-south")
    assert used == "espeak" and attempts[0].code == "unknown_voice"
    assert fake_google.requests == 0
    with pytest.raises(UnknownVoiceError):
        chain.synthesize("Xin chào.", "fr")


def test_chain_all_failed_lists_every_attempt(fake_google) -> None:  # noqa: ANN001
    fake_google.script = ["500"]
    chain = ChainEngine([gtts(fake_google, retries=0), EspeakEngine(binary="/nonexistent/espeak-ng")])
    with pytest.raises(AllEnginesFailedError) as err:
        chain.synthesize("Xin chào.", "vi")
    assert [a.engine for a in err.value.attempts] == ["gtts", "espeak"]
    assert "gtts" in str(err.value) and "espeak" in str(err.value)


def test_chain_from_registry_with_options(fake_google) -> None:  # noqa: ANN001
    chain = get_engine(
        "chain",
        engines=["gtts", "espeak"],
        engine_options={"gtts": {"base_url": fake_google.url, "timeout": 1.0}, "espeak": {"rate": 140}},
    )
    assert [e.name for e in chain.engines] == ["gtts", "espeak"]
    assert chain.engines[1].rate == 140
