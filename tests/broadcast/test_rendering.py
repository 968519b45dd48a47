"""Rendering bookkeeping (claim, retry, failure, dedup race), the real espeak pipeline end to end,
staff audio serving with Range, and recordings."""

from __future__ import annotations

import hashlib
import io
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.db import IntegrityError

from broadcast.audio.errors import TemporaryEngineError
from broadcast.models import AudioRendition, Bulletin
from broadcast.services import bulletins as services
from broadcast.services import rendering
from tests.factories import ReadyRenditionFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/bulletins/"


def _pending(text: str = "Thông báo thử nghiệm.") -> AudioRendition:
    return AudioRendition.objects.create(
        text_hash=hashlib.sha256(text.encode()).hexdigest(), engine="espeak", voice="vi", settings_key="k",
        speakable_text=text,
    )


def test_render_is_idempotent_a_ready_rendition_is_never_rendered_again(fake_render):
    rendition = _pending()
    assert rendering.render_rendition(rendition.pk).status == "ready"
    again = rendering.render_rendition(rendition.pk)
    assert again.status == "ready" and len(fake_render.calls) == 1
    assert again.render_attempts == 1


def test_a_rendition_being_rendered_elsewhere_is_not_claimed_twice(fake_render):
    rendition = _pending()
    assert rendering.claim(rendition.pk) is not None
    assert rendering.render_rendition(rendition.pk).status == "rendering"
    assert fake_render.calls == []


def test_temporary_engine_error_goes_back_to_pending_then_fails_on_the_last_attempt(fake_render):
    rendition = _pending()
    fake_render.fail_with = TemporaryEngineError("Mạng chập chờn.")
    with pytest.raises(TemporaryEngineError):
        rendering.render_rendition(rendition.pk, final_attempt=False)
    rendition.refresh_from_db()
    assert rendition.status == "pending" and "Mạng" in rendition.error
    assert rendering.render_rendition(rendition.pk, final_attempt=True).status == "failed"


def test_task_retries_temporary_errors_until_it_succeeds(fake_render, settings, monkeypatch):
    from broadcast.tasks.rendering import render_rendition_task

    settings.BULLETIN_RENDER_MAX_RETRIES = 3
    rendition = _pending()
    outcomes = [TemporaryEngineError("tạm thời"), None]
    original = fake_render.__call__

    def flaky(r, out):  # noqa: ANN001
        error = outcomes.pop(0)
        if error:
            raise error
        return original(r, out)

    monkeypatch.setattr(rendering.run, "_render", flaky)
    render_rendition_task.apply(args=[rendition.pk], throw=False)
    rendition.refresh_from_db()
    assert rendition.status == "ready" and rendition.render_attempts == 2


def test_failed_audio_can_be_retried_by_the_editor(editor, client_for, fake_render,
                                                   django_capture_on_commit_callbacks):
    from broadcast.audio.errors import EngineError

    bulletin = services.create_bulletin(editor, "Tin", "Nội dung tin.")
    fake_render.fail_with = EngineError("Hỏng.")
    with django_capture_on_commit_callbacks(execute=True):
        services.submit(bulletin, editor)
    fake_render.fail_with = None
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(editor).post(f"{URL}{bulletin.pk}/audio/retry/")
    assert response.status_code == 200 and response.data["audio_status"] == "pending"
    assert client_for(editor).get(f"{URL}{bulletin.pk}/audio/").data["status"] == "ready"
    assert client_for(editor).post(f"{URL}{bulletin.pk}/audio/retry/").status_code == 409


def test_dedup_survives_the_insert_race(monkeypatch):
    """Two requests insert the same key at once: the loser reads the winner's row."""
    winner = _pending("Cùng một nội dung.")
    key = {f: getattr(winner, f) for f in ("source", "text_hash", "engine", "voice", "settings_key")}

    def racing_get_or_create(**kwargs):  # noqa: ANN003
        raise IntegrityError("duplicate key")

    monkeypatch.setattr(AudioRendition.objects, "get_or_create", racing_get_or_create)
    assert rendering._get_or_create(key, {}) == winner


def test_staff_audio_file_supports_range_and_etag(editor, client_for):
    rendition = ReadyRenditionFactory()
    client = client_for(editor)
    url = f"/api/v1/renditions/{rendition.pk}/file.mp3"
    full = client.get(url, HTTP_ACCEPT="audio/mpeg")
    assert full.status_code == 200 and full["Content-Type"] == "audio/mpeg"
    body = b"".join(full.streaming_content)
    assert hashlib.sha256(body).hexdigest() == rendition.sha256
    part = client.get(url, HTTP_RANGE="bytes=10-19")
    assert part.status_code == 206
    assert b"".join(part.streaming_content) == body[10:20]
    assert part["Content-Range"] == f"bytes 10-19/{len(body)}"
    assert client.get(url, HTTP_RANGE=f"bytes={len(body)}-").status_code == 416
    assert client.get(url, HTTP_IF_NONE_MATCH=f'"{rendition.sha256}"').status_code == 304


def test_audio_file_is_not_served_before_ready_or_to_district_operators(editor, district_operator, client_for):
    pending = _pending()
    assert client_for(editor).get(f"/api/v1/renditions/{pending.pk}/file.mp3").status_code == 404
    ready = ReadyRenditionFactory()
    assert client_for(district_operator).get(f"/api/v1/renditions/{ready.pk}/file.mp3").status_code == 403


def test_end_to_end_submit_renders_real_speech_with_espeak_and_approval_binds_it(
    editor, approver, client_for, django_capture_on_commit_callbacks, settings
):
    """No stand-in: the real normalizer, espeak-ng and the audio pipeline produce an MP3."""
    settings.LOA_AUDIO = {**settings.LOA_AUDIO, "ENGINE": "espeak", "DEFAULT_CHIME": False}
    created = client_for(editor).post(URL, {
        "title": "Thông báo", "body": "UBND phường thông báo lịch tiêm chủng ngày 15/4/2024.",
        "category": "health", "priority": "normal",
    }, format="json").data
    with django_capture_on_commit_callbacks(execute=True):
        client_for(editor).post(f"{URL}{created['id']}/submit/")
    audio = client_for(approver).get(f"{URL}{created['id']}/audio/").data
    assert audio["status"] == "ready", audio
    assert audio["engine"] == "espeak" and audio["duration_ms"] > 1000
    path = Path(settings.MEDIA_ROOT) / Bulletin.objects.get(pk=created["id"]).current_revision.rendition.file
    assert hashlib.sha256(path.read_bytes()).hexdigest() == audio["sha256"]
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0",
                            str(path)], capture_output=True, text=True, check=True)
    assert probe.stdout.strip() == "mp3"
    speakable = client_for(approver).get(f"{URL}{created['id']}/speakable/").data["text"]
    assert "Ủy ban nhân dân" in speakable and "UBND" not in speakable
    approved = client_for(approver).post(f"{URL}{created['id']}/approve/", {}, format="json")
    assert approved.status_code == 200 and approved.data["approved_sha256"] == audio["sha256"]


def _wav_bytes(seconds: float = 2.0) -> bytes:
    return subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", f"sine=frequency=330:duration={seconds}",
         "-ac", "1", "-ar", "16000", "-f", "wav", "pipe:1"], capture_output=True, check=True,
    ).stdout


def test_recording_replaces_speech_and_is_processed(editor, approver, client_for,
                                                    django_capture_on_commit_callbacks, settings):
    settings.LOA_AUDIO = {**settings.LOA_AUDIO, "DEFAULT_CHIME": False}
    bulletin = services.create_bulletin(editor, "Tin ghi âm", "Nội dung đọc bằng giọng thật.")
    upload = io.BytesIO(_wav_bytes())
    upload.name = "ghi-am.wav"
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(editor).post(f"{URL}{bulletin.pk}/recording/", {"file": upload}, format="multipart")
    assert response.status_code == 200, response.data
    with django_capture_on_commit_callbacks(execute=True):
        client_for(editor).post(f"{URL}{bulletin.pk}/submit/")
    rendition = Bulletin.objects.get(pk=bulletin.pk).current_revision.rendition
    assert rendition.source == "recording" and rendition.status == "ready", rendition.error
    assert client_for(approver).post(f"{URL}{bulletin.pk}/approve/", {}, format="json").status_code == 200


def test_oversized_recording_is_413_and_garbage_is_400(editor, client_for, settings):
    bulletin = services.create_bulletin(editor, "Tin", "Nội dung.")
    settings.LOA_AUDIO = {**settings.LOA_AUDIO, "MAX_UPLOAD_MB": 0.001}
    big = io.BytesIO(b"\0" * 5000)
    big.name = "lon.wav"
    assert client_for(editor).post(f"{URL}{bulletin.pk}/recording/", {"file": big},
                                   format="multipart").status_code == 413
    settings.LOA_AUDIO = {**settings.LOA_AUDIO, "MAX_UPLOAD_MB": 50}
    empty = io.BytesIO(b"")
    empty.name = "rong.wav"
    response = client_for(editor).post(f"{URL}{bulletin.pk}/recording/", {"file": empty}, format="multipart")
    assert response.status_code == 400 and "file" in response.data


def test_an_upload_that_is_not_audio_is_400_and_nothing_is_stored(editor, client_for):
    bulletin = services.create_bulletin(editor, "Tin", "Nội dung.")
    garbage = io.BytesIO("Đây là văn bản, không phải âm thanh.\n".encode() * 200)
    garbage.name = "ghi-am.mp3"
    response = client_for(editor).post(f"{URL}{bulletin.pk}/recording/", {"file": garbage}, format="multipart")
    assert response.status_code == 400 and "file" in response.data
    assert not AudioRendition.objects.filter(source=AudioRendition.Source.RECORDING).exists()
    uploads = Path(settings.MEDIA_ROOT) / "uploads"
    assert not uploads.exists() or not any(uploads.iterdir())
    bulletin.refresh_from_db()
    assert bulletin.current_revision.rendition is None


def test_files_are_written_under_media_audio(fake_render):
    rendition = rendering.render_rendition(_pending().pk)
    assert (Path(settings.MEDIA_ROOT) / rendition.file).is_file()
    assert rendition.file.startswith("audio/")


def test_submitting_text_whose_audio_failed_queues_its_render_once(editor, other_editor, fake_render,
                                                                     django_capture_on_commit_callbacks):
    from broadcast.audio.errors import EngineError

    first = services.create_bulletin(editor, "Tin", "Cùng một nội dung.")
    fake_render.fail_with = EngineError("Hỏng.")
    with django_capture_on_commit_callbacks(execute=True):
        services.submit(first, editor)
    assert Bulletin.objects.get(pk=first.pk).current_revision.rendition.status == "failed"
    fake_render.fail_with = None
    second = services.create_bulletin(other_editor, "Tin", "Cùng một nội dung.")
    with django_capture_on_commit_callbacks(execute=True) as queued:
        services.submit(second, other_editor)
    # One render queued (the other callback tells the approvers it waits).
    renders = [c for c in queued if c.__qualname__.startswith("enqueue_render.")]
    assert len(renders) == 1 and len(fake_render.calls) == 2
    assert Bulletin.objects.get(pk=second.pk).current_revision.rendition.status == "ready"


def test_a_recording_is_copied_and_probed_before_the_transaction(editor, monkeypatch):
    """On SQLite a transaction holds the database's write lock: file I/O and ffprobe must not run in it."""
    from django.db import connection

    from broadcast.audio import render as audio_render

    bulletin = services.create_bulletin(editor, "Tin ghi âm", "Nội dung.")
    outside = len(connection.atomic_blocks)  # the test's own transaction
    depths = []
    real_probe = audio_render.probe_audio

    def spy(*args):  # noqa: ANN002, ANN202
        depths.append(len(connection.atomic_blocks))
        return real_probe(*args)

    monkeypatch.setattr(audio_render, "probe_audio", spy)
    services.attach_recording(bulletin, editor, io.BytesIO(_wav_bytes()))
    assert depths == [outside]
    assert Bulletin.objects.get(pk=bulletin.pk).current_revision.rendition.source == "recording"
    assert not any(p.name.startswith(".upload-") for p in (Path(settings.MEDIA_ROOT) / "uploads").iterdir())


def test_a_recording_for_a_bulletin_in_review_is_refused_before_the_file_is_read(editor, fake_render,
                                                                                 django_capture_on_commit_callbacks):
    bulletin = services.create_bulletin(editor, "Tin", "Nội dung.")
    with django_capture_on_commit_callbacks(execute=True):
        services.submit(bulletin, editor)
    upload = io.BytesIO(_wav_bytes())
    with pytest.raises(services.StateConflict):
        services.attach_recording(Bulletin.objects.get(pk=bulletin.pk), editor, upload)
    assert upload.tell() == 0
    assert not AudioRendition.objects.filter(source=AudioRendition.Source.RECORDING).exists()


def _upload(seconds: float) -> io.BytesIO:
    upload = io.BytesIO(_wav_bytes(seconds))
    upload.name = "ghi-am.wav"
    return upload


def _media_files() -> set[str]:
    root = Path(settings.MEDIA_ROOT)
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def test_a_recording_replaced_by_a_newer_upload_is_removed(editor, django_capture_on_commit_callbacks, settings):
    settings.LOA_AUDIO = {**settings.LOA_AUDIO, "DEFAULT_CHIME": False}  # the real pipeline: it consumes uploads
    bulletin = services.create_bulletin(editor, "Tin ghi âm", "Nội dung.")
    services.attach_recording(bulletin, editor, _upload(2.0))  # not processed yet: the upload waits
    first = Bulletin.objects.get(pk=bulletin.pk).current_revision.rendition
    waiting = _media_files()
    assert any(name.startswith("uploads/") for name in waiting)
    with django_capture_on_commit_callbacks(execute=True):
        services.attach_recording(bulletin, editor, _upload(2.5))
    second = Bulletin.objects.get(pk=bulletin.pk).current_revision.rendition
    assert second.pk != first.pk and second.status == "ready"
    assert not AudioRendition.objects.filter(pk=first.pk).exists()
    assert _media_files() == {second.file}  # the first upload is gone, nothing else left behind
    with django_capture_on_commit_callbacks(execute=True):
        services.attach_recording(bulletin, editor, _upload(3.0))  # replaces a processed one: its MP3 goes
    third = Bulletin.objects.get(pk=bulletin.pk).current_revision.rendition
    assert _media_files() == {third.file} and not AudioRendition.objects.filter(pk=second.pk).exists()


def test_a_replaced_recording_still_used_elsewhere_is_kept(editor, other_editor, fake_render,
                                                           django_capture_on_commit_callbacks):
    same = _wav_bytes(2.0)
    mine = services.create_bulletin(editor, "Tin", "Nội dung.")
    theirs = services.create_bulletin(other_editor, "Tin khác", "Nội dung khác.")
    with django_capture_on_commit_callbacks(execute=True):
        services.attach_recording(mine, editor, io.BytesIO(same))
        services.attach_recording(theirs, other_editor, io.BytesIO(same))
    shared = Bulletin.objects.get(pk=theirs.pk).current_revision.rendition
    with django_capture_on_commit_callbacks(execute=True):
        services.attach_recording(mine, editor, _upload(2.5))
    assert AudioRendition.objects.filter(pk=shared.pk).exists()
    assert (Path(settings.MEDIA_ROOT) / shared.file).is_file()
