"""Bulletins, their immutable revisions and the audit trail of transitions."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from .audio import AudioRendition


class Bulletin(models.Model):
    class Category(models.TextChoices):
        POLITICAL = "political", "Chính trị"
        POLICY = "policy", "Chính sách"
        HEALTH = "health", "Y tế"
        EMERGENCY = "emergency", "Khẩn cấp"
        TRAFFIC = "traffic", "Giao thông"
        CULTURE = "culture", "Văn hóa"
        OTHER = "other", "Khác"

    class Priority(models.TextChoices):
        NORMAL = "normal", "Thường"
        HIGH = "high", "Ưu tiên"
        EMERGENCY = "emergency", "Khẩn cấp"

    class Status(models.TextChoices):
        DRAFT = "draft", "Bản nháp"
        IN_REVIEW = "in_review", "Chờ duyệt"
        APPROVED = "approved", "Đã duyệt"
        REJECTED = "rejected", "Bị từ chối"
        ARCHIVED = "archived", "Lưu trữ"

    title = models.CharField("tiêu đề", max_length=300)
    category = models.CharField("chuyên mục", max_length=20, choices=Category.choices, default=Category.OTHER)
    priority = models.CharField("mức ưu tiên", max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    voice = models.CharField("giọng đọc", max_length=64, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bulletins", verbose_name="tác giả"
    )
    # Status of the newest revision; the revision that airs is `live_revision`, which may be older
    # (an approved bulletin being edited keeps airing its approved text).
    status = models.CharField(
        "trạng thái", max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    current_revision = models.ForeignKey(
        "BulletinRevision", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name="bản hiện tại",
    )
    live_revision = models.ForeignKey(
        "BulletinRevision", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name="bản đang phát",
    )
    # Created by `seed_demo`, which acts only on these, never on what a person wrote.
    is_demo = models.BooleanField("dữ liệu mẫu", default=False, editable=False)
    created_at = models.DateTimeField("tạo lúc", auto_now_add=True)
    updated_at = models.DateTimeField("cập nhật lúc", auto_now=True)

    class Meta:
        verbose_name = "bản tin"
        verbose_name_plural = "bản tin"
        ordering = ["-created_at", "-id"]
        # Workflow actions beyond add/change (granted to roles in stations/roles.py).
        permissions = [
            ("approve_bulletin", "Can approve or reject bulletin"),
            ("archive_bulletin", "Can archive bulletin"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["draft", "in_review", "approved", "rejected", "archived"]),
                name="bulletin_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(category__in=["political", "policy", "health", "emergency", "traffic", "culture", "other"]),
                name="bulletin_category_valid",
            ),
            models.CheckConstraint(
                condition=Q(priority__in=["normal", "high", "emergency"]), name="bulletin_priority_valid"
            ),
            models.CheckConstraint(condition=~Q(title=""), name="bulletin_title_not_empty"),
        ]

    def __str__(self) -> str:
        return self.title

    # --- workflow rules about one bulletin (services check them under the row lock) ---

    def is_author(self, user: object) -> bool:
        return self.author_id is not None and self.author_id == getattr(user, "pk", None)

    def is_own_work(self, user: object) -> bool:
        """Its author or the writer of its current revision: never the one who approves or rejects it."""
        uid = getattr(user, "pk", None)
        return uid is not None and uid in (self.author_id, self.current_revision.created_by_id)

    def is_editable(self) -> bool:
        """A state the author may change it in (a submitted or approved text opens a new revision)."""
        return self.status in (self.Status.DRAFT, self.Status.REJECTED, self.Status.APPROVED)

    def can_withdraw(self, user: object) -> bool:
        """The author takes a bulletin out of review, back to draft, before an approver decides."""
        return self.is_author(user) and self.status == self.Status.IN_REVIEW

    def was_ever_submitted(self) -> bool:
        return self.live_revision_id is not None or self.revisions.filter(submitted_at__isnull=False).exists()

    def can_delete(self, user: object) -> bool:
        """Only the author, only a draft never submitted: nobody reviewed, scheduled or aired any of it."""
        return self.is_author(user) and self.status == self.Status.DRAFT and not self.was_ever_submitted()


class BulletinRevision(models.Model):
    """A numbered version of a bulletin's text. Frozen once submitted; approval binds its exact audio."""

    bulletin = models.ForeignKey(Bulletin, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField("số phiên bản")
    title = models.CharField("tiêu đề", max_length=300)
    body = models.TextField("nội dung")
    # What this revision asks for; copied onto the bulletin when it is approved, so a pending edit
    # (e.g. raising the priority) never changes what airs before an approver signs it off.
    category = models.CharField("chuyên mục", max_length=20, blank=True, default="")
    priority = models.CharField("mức ưu tiên", max_length=10, blank=True, default="")
    voice = models.CharField("giọng đọc", max_length=64, blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField("gửi duyệt lúc", null=True, blank=True)
    rendition = models.ForeignKey(
        AudioRendition, null=True, blank=True, on_delete=models.PROTECT, related_name="revisions"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField("duyệt lúc", null=True, blank=True)
    approved_sha256 = models.CharField("sha256 đã duyệt", max_length=64, blank=True)

    class Meta:
        verbose_name = "phiên bản bản tin"
        verbose_name_plural = "phiên bản bản tin"
        ordering = ["bulletin", "number"]
        constraints = [
            models.UniqueConstraint(fields=["bulletin", "number"], name="revision_unique_number"),
            models.CheckConstraint(condition=~Q(body=""), name="revision_body_not_empty"),
            # Four eyes, enforced by the database too.
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True) | ~Q(approved_by=models.F("created_by")),
                name="revision_approver_not_author",
            ),
            models.CheckConstraint(
                condition=Q(approved_at__isnull=True) | (Q(rendition__isnull=False) & ~Q(approved_sha256="")),
                name="revision_approval_binds_audio",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.bulletin_id} v{self.number}"


class BulletinTransition(models.Model):
    """The audit trail: every status change, who made it, when and why. Append-only."""

    bulletin = models.ForeignKey(Bulletin, on_delete=models.PROTECT, related_name="transitions")
    revision = models.ForeignKey(BulletinRevision, on_delete=models.PROTECT, related_name="transitions")
    from_status = models.CharField(max_length=10, choices=Bulletin.Status.choices, blank=True)
    to_status = models.CharField(max_length=10, choices=Bulletin.Status.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(db_index=True)
    comment = models.TextField(blank=True)

    class Meta:
        verbose_name = "lịch sử chuyển trạng thái"
        verbose_name_plural = "lịch sử chuyển trạng thái"
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.bulletin_id}: {self.from_status or '∅'} → {self.to_status}"
