"""Approval is bound to the audio heard: the approver says which sha256 they played; if the revision's
audio is no longer that file, the approval is refused (409, Vietnamese) and nothing changes."""

from __future__ import annotations

import pytest

from broadcast.models import Bulletin
from broadcast.services import bulletins as services
from tests.factories import ReadyRenditionFactory
from tests.newsroom.factories_review import in_review

pytestmark = pytest.mark.django_db

URL = "/api/v1/bulletins/"


def _replace_audio(bulletin: Bulletin) -> str:
    """The audio changes after the approver listened (e.g. rendered again): a new ready rendition."""
    revision = bulletin.current_revision
    revision.rendition = ReadyRenditionFactory(seconds=3.0)
    revision.save(update_fields=["rendition"])
    return revision.rendition.sha256


def test_service_approves_when_the_heard_sha256_is_the_current_audio(editor, approver):
    bulletin = in_review(author=editor)
    heard = bulletin.current_revision.rendition.sha256
    services.approve(bulletin, approver, heard_sha256=heard)
    bulletin.refresh_from_db()
    assert bulletin.status == "approved"
    assert bulletin.live_revision.approved_sha256 == heard


def test_service_refuses_when_the_audio_changed_since_it_was_heard(editor, approver):
    bulletin = in_review(author=editor)
    heard = bulletin.current_revision.rendition.sha256
    _replace_audio(bulletin)
    with pytest.raises(services.StateConflict) as excinfo:
        services.approve(bulletin, approver, heard_sha256=heard)
    assert excinfo.value.code == "audio_changed"
    assert "thay đổi" in excinfo.value.message and "nghe lại" in excinfo.value.message
    bulletin.refresh_from_db()
    assert bulletin.status == "in_review" and bulletin.live_revision is None
    assert bulletin.current_revision.approved_by is None


def test_service_without_heard_sha256_approves_the_ready_audio_as_before(editor, approver):
    bulletin = in_review(author=editor)
    services.approve(bulletin, approver)
    assert Bulletin.objects.get(pk=bulletin.pk).status == "approved"


def test_four_eyes_comes_before_the_audio_check(editor):
    bulletin = in_review(author=editor)
    with pytest.raises(services.Forbidden):
        services.approve(bulletin, editor, heard_sha256="0" * 64)


def test_api_approve_with_the_heard_sha256(editor, approver, client_for):
    bulletin = in_review(author=editor)
    heard = bulletin.current_revision.rendition.sha256
    response = client_for(approver).post(f"{URL}{bulletin.pk}/approve/", {"sha256": heard, "comment": "Đạt"},
                                         format="json")
    assert response.status_code == 200, response.data
    assert response.data["approved_sha256"] == heard


def test_api_refuses_an_approval_of_audio_that_changed(editor, approver, client_for):
    bulletin = in_review(author=editor)
    heard = bulletin.current_revision.rendition.sha256
    _replace_audio(bulletin)
    response = client_for(approver).post(f"{URL}{bulletin.pk}/approve/", {"sha256": heard}, format="json")
    assert response.status_code == 409
    assert response.data["code"] == "audio_changed"
    assert "nghe lại" in response.data["detail"]
    assert Bulletin.objects.get(pk=bulletin.pk).status == "in_review"


@pytest.mark.parametrize("value", ["", "abc", "z" * 64, "0" * 65])
def test_api_rejects_a_malformed_sha256_field_by_field(editor, approver, client_for, value):
    bulletin = in_review(author=editor)
    response = client_for(approver).post(f"{URL}{bulletin.pk}/approve/", {"sha256": value}, format="json")
    assert response.status_code == 400
    assert "sha256" in response.data
    assert Bulletin.objects.get(pk=bulletin.pk).status == "in_review"


def test_api_accepts_an_uppercase_sha256(editor, approver, client_for):
    bulletin = in_review(author=editor)
    heard = bulletin.current_revision.rendition.sha256.upper()
    response = client_for(approver).post(f"{URL}{bulletin.pk}/approve/", {"sha256": heard}, format="json")
    assert response.status_code == 200, response.data
