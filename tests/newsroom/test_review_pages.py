"""The approval queue and the review page: order and marks, the diff against what airs, the decisions
through the services (approve, approve with a note, send back with a required comment), approval bound to
the audio heard, the four-eyes rule, permissions and constant query counts."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client

from broadcast.models import Bulletin, BulletinRevision, BulletinTransition
from broadcast.newsroom import review as review_views
from tests.factories import ReadyRenditionFactory, UserFactory
from tests.newsroom.factories_review import in_review
from tests.newsroom.pages import signed_in
from tests.newsroom.pages import visible_text as text

pytestmark = pytest.mark.django_db

QUEUE = "/newsroom/review/"


def section(html: str, testid: str) -> str:
    """The element carrying data-testid=`testid` (up to the next one of the same kind, good enough here)."""
    start = html.index(f'data-testid="{testid}"')
    return html[start:start + 4000]


def queue_row(html: str, bulletin: Bulletin) -> str:
    return html[html.index(f'data-bulletin="{bulletin.pk}"'):].split("</tr>")[0]


def queue_ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-testid="queue-row" data-bulletin="(\d+)"', html)]


# ---------------------------------------------------------------- the queue


def test_queue_lists_emergency_first_then_the_longest_waiting(approver, editor):
    newer = in_review(author=editor, title="Tin mới gửi", submitted_ago=dt.timedelta(minutes=5))
    oldest = in_review(author=editor, title="Tin chờ lâu", submitted_ago=dt.timedelta(hours=3, minutes=10))
    urgent = in_review(author=editor, title="Bão số 3", priority="emergency", submitted_ago=dt.timedelta(minutes=1))
    Bulletin.objects.create(title="Bản nháp", author=editor)  # not in review: not listed
    response = signed_in(approver).get(QUEUE)
    assert response.status_code == 200
    html = response.content.decode()
    assert queue_ids(html) == [urgent.pk, oldest.pk, newer.pk]
    row = text(queue_row(html, oldest))
    assert "Tin chờ lâu" in row and "3 giờ trước" in row and "00:02" in row and "Sẵn sàng" in row
    assert editor.username in row
    assert "Khẩn cấp" in text(queue_row(html, urgent))
    assert "Khẩn cấp" not in text(queue_row(html, newer))
    assert 'lang="vi"' in html


def test_the_approvers_own_bulletins_are_shown_marked_without_the_approve_action(approver, editor):
    both = UserFactory(username="kiemnhiem", roles=["editor", "approver"])
    own = in_review(author=both, title="Bài tự viết")
    other = in_review(author=editor, title="Bài người khác")
    html = signed_in(both).get(QUEUE).content.decode()
    assert set(queue_ids(html)) == {own.pk, other.pk}
    own_row, other_row = queue_row(html, own), queue_row(html, other)
    assert "bài của bạn — người khác phải duyệt" in text(own_row).lower()
    assert 'data-testid="open-review"' not in own_row
    assert 'data-testid="open-review"' in other_row and "own-mark" not in other_row


def test_queue_is_paginated(approver, editor, monkeypatch):
    monkeypatch.setattr(review_views, "PAGE_SIZE", 2)
    made = [in_review(author=editor, title=f"Tin {n}", submitted_ago=dt.timedelta(hours=10 - n)) for n in range(5)]
    client = signed_in(approver)
    first = client.get(QUEUE).content.decode()
    third = client.get(QUEUE, {"page": 3}).content.decode()
    assert queue_ids(first) == [made[0].pk, made[1].pk]
    assert queue_ids(third) == [made[4].pk]
    assert "Trang 1 / 3" in text(first)
    assert client.get(QUEUE, {"page": "abc"}).status_code == 200  # a bad page number is the first page


def test_empty_queue_says_so(approver):
    assert "Không có bản tin nào chờ duyệt" in text(signed_in(approver).get(QUEUE).content.decode())


@pytest.mark.parametrize("rows", [5, 50])
def test_queue_query_count_does_not_grow_with_rows(approver, monkeypatch, django_assert_max_num_queries, rows):
    monkeypatch.setattr(review_views, "PAGE_SIZE", 50)
    authors = [UserFactory(roles=["editor"]) for _ in range(3)]
    for n in range(rows):
        in_review(author=authors[n % 3], title=f"Tin {n}", live={"title": f"Tin {n} cũ"} if n % 2 else None)
    client = signed_in(approver)
    with django_assert_max_num_queries(10):
        response = client.get(QUEUE)
    assert len(queue_ids(response.content.decode())) == rows


def test_editors_are_refused_in_vietnamese_and_signed_out_people_sent_to_sign_in(editor):
    bulletin = in_review(author=UserFactory(roles=["editor"]))
    for url in (QUEUE, f"{QUEUE}{bulletin.pk}/"):
        response = signed_in(editor).get(url)
        assert response.status_code == 403
        assert "Người duyệt" in text(response.content.decode()) or "quyền" in text(response.content.decode())
        assert 'href="/"' in response.content.decode()
        assert Client().get(url).status_code == 302
    refused = signed_in(editor).post(f"{QUEUE}{bulletin.pk}/approve/",
                                     {"sha256": bulletin.current_revision.rendition.sha256})
    assert refused.status_code == 403
    assert Bulletin.objects.get(pk=bulletin.pk).status == "in_review"


# ---------------------------------------------------------------- the review page: what it shows


def test_review_page_plays_the_audio_and_shows_the_spoken_text(approver, editor):
    rendition = ReadyRenditionFactory(speakable_text="Tiêm chủng lúc tám giờ ngày mười lăm tháng tư.")
    bulletin = in_review(author=editor, body="Tiêm chủng lúc 8 giờ ngày 15/4.", rendition=rendition)
    html = signed_in(approver).get(f"{QUEUE}{bulletin.pk}/").content.decode()
    assert f'src="/api/v1/renditions/{rendition.pk}/file.mp3"' in html
    assert f'data-sha256="{rendition.sha256}"' in html
    assert f'name="sha256" value="{rendition.sha256}"' in html
    assert "tám giờ ngày mười lăm tháng tư" in text(section(html, "spoken-text"))
    assert "Bản tin mới" in text(section(html, "diff-none"))
    assert 'data-testid="approve"' in html and 'data-testid="send-back"' in html


def test_diff_against_the_version_on_air(approver, editor):
    bulletin = in_review(
        author=editor, title="Lịch tiêm chủng đợt 2", priority="emergency", seconds=3.0,
        body="Tiêm chủng lúc 9 giờ ngày 16/4 tại trạm y tế.",
        live={"title": "Lịch tiêm chủng", "priority": "normal", "seconds": 2.0},
    )
    live = bulletin.live_revision
    live.body = "Tiêm chủng lúc 8 giờ ngày 15/4."
    live.save(update_fields=["body"])
    html = signed_in(approver).get(f"{QUEUE}{bulletin.pk}/").content.decode()
    diff = section(html, "review-diff")
    assert "so với bản đang phát (phiên bản 1)" in text(diff)
    title = section(html, "diff-title").split("</div>")[0]
    assert "<ins><span class=\"sr-only\">[thêm: </span> đợt 2<span class=\"sr-only\">]</span></ins>" in title
    priority = text(section(html, "diff-priority").split("</div>")[0])
    assert "[bỏ: Thường ]" in priority and "[thêm: Khẩn cấp ]" in priority
    body = section(html, "diff-body").split("</div>")[0]
    assert "<del><span class=\"sr-only\">[bỏ: </span>8<span" in body
    assert "<ins><span class=\"sr-only\">[thêm: </span>9<span" in body
    assert "<ins><span class=\"sr-only\">[thêm: </span> tại trạm y tế<span" in body
    audio = text(section(html, "diff-audio").split("</div>")[0])
    assert "Âm thanh đã thay đổi" in audio and "00:02 → 00:03" in audio


def test_same_audio_as_on_air_and_unchanged_fields_say_so(approver, editor):
    bulletin = in_review(author=editor, title="Lịch tiêm chủng", body="Nội dung mới.", priority="normal",
                         live={"title": "Lịch tiêm chủng"})
    revision = bulletin.current_revision
    revision.rendition = bulletin.live_revision.rendition  # the same file (e.g. only a typo outside speech)
    revision.save(update_fields=["rendition"])
    html = signed_in(approver).get(f"{QUEUE}{bulletin.pk}/").content.decode()
    assert "Không đổi" in text(section(html, "diff-title").split("</div>")[0])
    assert "Không đổi (Thường)" in text(section(html, "diff-priority").split("</div>")[0])
    audio = text(section(html, "diff-audio").split("</div>")[0])
    assert "Âm thanh như bản đang phát" in audio and "không đổi (00:02)" in audio


def test_without_a_version_on_air_the_diff_is_against_the_previous_revision(approver, editor):
    bulletin = in_review(author=editor, title="Tin sửa", body="Họp lúc 9 giờ.")
    current = bulletin.current_revision
    # revision 1 was sent back; the one in review is revision 2
    BulletinRevision.objects.filter(pk=current.pk).update(number=2)
    BulletinRevision.objects.create(bulletin=bulletin, number=1, title="Tin sửa", body="Họp lúc 8 giờ.",
                                    created_by=editor, rendition=ReadyRenditionFactory())
    html = signed_in(approver).get(f"{QUEUE}{bulletin.pk}/").content.decode()
    assert "so với phiên bản trước (phiên bản 1)" in text(section(html, "review-diff"))
    assert "Âm thanh đã thay đổi" in text(section(html, "diff-audio").split("</div>")[0])


def test_review_page_query_count_is_bounded(approver, editor, django_assert_max_num_queries):
    bulletin = in_review(author=editor, live={"title": "Bản cũ"})
    client = signed_in(approver)
    with django_assert_max_num_queries(12):
        assert client.get(f"{QUEUE}{bulletin.pk}/").status_code == 200


def test_unknown_bulletin_is_a_404(approver):
    assert signed_in(approver).get(f"{QUEUE}999999/").status_code == 404
    assert signed_in(approver).post(f"{QUEUE}999999/approve/", {"sha256": "a" * 64}).status_code == 404


# ---------------------------------------------------------------- the review page: decisions


def _approve(client, bulletin, **data):
    return client.post(f"{QUEUE}{bulletin.pk}/approve/", data)


def test_approve_binds_the_audio_heard_and_returns_to_the_queue_with_a_message(approver, editor):
    bulletin = in_review(author=editor, title="Lịch cắt điện")
    heard = bulletin.current_revision.rendition.sha256
    client = signed_in(approver)
    response = _approve(client, bulletin, sha256=heard, comment="")
    assert response.status_code == 302 and response.url == QUEUE
    bulletin.refresh_from_db()
    assert bulletin.status == "approved" and bulletin.live_revision.approved_sha256 == heard
    assert bulletin.live_revision.approved_by == approver
    assert "Đã duyệt “Lịch cắt điện”" in text(client.get(QUEUE).content.decode())


def test_approve_with_a_note_records_the_note(approver, editor):
    bulletin = in_review(author=editor)
    response = _approve(signed_in(approver), bulletin, sha256=bulletin.current_revision.rendition.sha256,
                        comment="  Đạt, phát trong tuần.  ")
    assert response.status_code == 302
    transition = BulletinTransition.objects.filter(bulletin=bulletin).latest("id")
    assert (transition.to_status, transition.comment, transition.by) == ("approved", "Đạt, phát trong tuần.", approver)


def test_approval_of_audio_that_changed_is_refused_and_the_page_offers_the_new_audio(approver, editor):
    bulletin = in_review(author=editor)
    heard = bulletin.current_revision.rendition.sha256
    new = ReadyRenditionFactory(seconds=3.0)
    BulletinRevision.objects.filter(pk=bulletin.current_revision_id).update(rendition=new)
    response = _approve(signed_in(approver), bulletin, sha256=heard, comment="Đạt")
    assert response.status_code == 409
    html = response.content.decode()
    error = text(section(html, "review-error"))
    assert "đã thay đổi" in error and "nghe lại" in error
    assert f'src="/api/v1/renditions/{new.pk}/file.mp3"' in html
    assert f'name="sha256" value="{new.sha256}"' in html and heard not in html
    assert "Đạt</textarea>" in html  # the note typed is kept
    bulletin.refresh_from_db()
    assert bulletin.status == "in_review" and bulletin.live_revision_id is None


@pytest.mark.parametrize("data", [{}, {"sha256": ""}, {"sha256": "not-a-hash"}])
def test_approval_without_a_valid_heard_sha256_is_a_vietnamese_400(approver, editor, data):
    bulletin = in_review(author=editor)
    response = _approve(signed_in(approver), bulletin, **data)
    assert response.status_code == 400
    assert "bản âm thanh đã nghe" in text(response.content.decode())
    assert Bulletin.objects.get(pk=bulletin.pk).status == "in_review"


def test_send_back_needs_a_comment_and_changes_nothing_without_one(approver, editor):
    bulletin = in_review(author=editor)
    before = BulletinTransition.objects.filter(bulletin=bulletin).count()
    client = signed_in(approver)
    for comment in ("", "   "):
        response = client.post(f"{QUEUE}{bulletin.pk}/send-back/", {"comment": comment})
        assert response.status_code == 400
        errors = text(section(response.content.decode(), "send-back-errors"))
        assert "Cần ghi lý do trả lại" in errors
    assert Bulletin.objects.get(pk=bulletin.pk).status == "in_review"
    assert BulletinTransition.objects.filter(bulletin=bulletin).count() == before


def test_send_back_with_a_comment_returns_it_to_the_author(approver, editor):
    bulletin = in_review(author=editor, title="Tin giao thông")
    client = signed_in(approver)
    response = client.post(f"{QUEUE}{bulletin.pk}/send-back/", {"comment": "Sai giờ cấm đường."})
    assert response.status_code == 302 and response.url == QUEUE
    assert Bulletin.objects.get(pk=bulletin.pk).status == "rejected"
    transition = BulletinTransition.objects.filter(bulletin=bulletin).latest("id")
    assert (transition.to_status, transition.comment) == ("rejected", "Sai giờ cấm đường.")
    assert "Đã trả lại “Tin giao thông”" in text(client.get(QUEUE).content.decode())


def test_own_bulletin_has_no_actions_and_a_post_is_refused_by_the_service(editor):
    both = UserFactory(username="kiemnhiem", roles=["editor", "approver"])
    bulletin = in_review(author=both)
    client = signed_in(both)
    html = client.get(f"{QUEUE}{bulletin.pk}/").content.decode()
    assert 'data-testid="approve-form"' not in html and 'data-testid="send-back-form"' not in html
    assert "người khác phải duyệt" in text(section(html, "own-mark"))
    response = _approve(client, bulletin, sha256=bulletin.current_revision.rendition.sha256)
    assert response.status_code == 403
    assert "không được tự duyệt" in text(section(response.content.decode(), "review-error"))
    sent_back = client.post(f"{QUEUE}{bulletin.pk}/send-back/", {"comment": "Tự trả lại"})
    assert sent_back.status_code == 403
    assert Bulletin.objects.get(pk=bulletin.pk).status == "in_review"


def test_a_decision_on_a_bulletin_no_longer_in_review_is_a_vietnamese_conflict(approver, editor):
    bulletin = in_review(author=editor)
    sha = bulletin.current_revision.rendition.sha256
    other = UserFactory(roles=["approver"])
    assert _approve(signed_in(other), bulletin, sha256=sha).status_code == 302
    response = _approve(signed_in(approver), bulletin, sha256=sha)
    assert response.status_code == 409
    assert "Không thể duyệt bản tin đang ở trạng thái “Đã duyệt”" in text(response.content.decode())
    html = signed_in(approver).get(f"{QUEUE}{bulletin.pk}/").content.decode()
    assert "không còn chờ duyệt" in text(section(html, "not-in-review"))
    assert 'data-testid="approve-form"' not in html


def test_approve_is_not_offered_before_the_audio_is_ready(approver, editor):
    bulletin = in_review(author=editor)
    rendition = bulletin.current_revision.rendition
    type(rendition).objects.filter(pk=rendition.pk).update(status="rendering", sha256="", file="")
    html = signed_in(approver).get(f"{QUEUE}{bulletin.pk}/").content.decode()
    assert 'data-testid="approve"' not in html and "âm thanh chưa sẵn sàng" in text(html)
    response = _approve(signed_in(approver), bulletin, sha256="a" * 64)
    assert response.status_code == 409 and "Âm thanh chưa sẵn sàng" in text(response.content.decode())


def test_get_on_the_decision_routes_is_not_allowed(approver, editor):
    bulletin = in_review(author=editor)
    assert signed_in(approver).get(f"{QUEUE}{bulletin.pk}/approve/").status_code == 405
