"""factory_boy factories shared by every test tier."""

from __future__ import annotations

import datetime as dt

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from stations.models import AdminUnit, CommuneOperator, District, DistrictOperator, Station, default_slots


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@loa.test")
    password = factory.django.Password("mat-khau-thu-nghiem")

    @factory.post_generation
    def roles(self, create: bool, extracted: list[str] | None, **kwargs: object) -> None:
        """UserFactory(roles=["editor"]) puts the user in those groups (created by migrations)."""
        if create and extracted:
            self.groups.add(*[Group.objects.get(name=name) for name in extracted])


class DistrictFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = District
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"{900 + n:03d}")
    name = factory.Sequence(lambda n: f"Quận Thử Nghiệm {n}")
    kind = "Quận"
    province_code = "01"
    province_name = "Thành phố Hà Nội"


class StationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Station
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"T{n:05d}")
    name = factory.Sequence(lambda n: f"Đài truyền thanh Phường Thử {n}")
    kind = Station.Kind.COMMUNE
    district = factory.SubFactory(DistrictFactory)
    admin_code = factory.LazyAttribute(lambda s: s.code)
    slots = factory.LazyFunction(default_slots)
    active = True


class DistrictOperatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DistrictOperator

    user = factory.SubFactory(UserFactory, roles=["district_operator"])
    district = factory.SubFactory(DistrictFactory)


class AdminUnitFactory(factory.django.DjangoModelFactory):
    """A commune-level unit of the two-level map (since 1 July 2025) unless told otherwise."""

    class Meta:
        model = AdminUnit
        django_get_or_create = ("map", "level", "code")

    map = AdminUnit.Map.SINCE_2025
    level = AdminUnit.Level.COMMUNE
    code = factory.Sequence(lambda n: f"9{n:04d}")
    name = factory.Sequence(lambda n: f"Phường Thử Nghiệm Mới {n}")
    division_type = "phường"
    province_code = "01"
    valid_from = factory.LazyAttribute(
        lambda u: dt.date(2025, 7, 1) if u.map == AdminUnit.Map.SINCE_2025 else None)


class CommuneOperatorFactory(factory.django.DjangoModelFactory):
    """CommuneOperatorFactory(units=[unit, …]) ties a new commune operator to those units."""

    class Meta:
        model = CommuneOperator
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory, roles=["commune_operator"])

    @factory.post_generation
    def units(self, create: bool, extracted: list[AdminUnit] | None, **kwargs: object) -> None:
        if create and extracted:
            self.units.add(*extracted)


# ---------------------------------------------------------------- content (bypasses the workflow services)

import hashlib  # noqa: E402
import subprocess  # noqa: E402
from pathlib import Path  # noqa: E402

from django.conf import settings as dj_settings  # noqa: E402
from django.utils import timezone  # noqa: E402

from broadcast.models import AudioRendition, Bulletin, BulletinRevision  # noqa: E402


def make_tone_mp3(seconds: float = 2.0, frequency: int = 440) -> Path:
    """A real, small MP3 (a sine tone made by ffmpeg) under MEDIA_ROOT, for tests of distribution."""
    out_dir = Path(dj_settings.MEDIA_ROOT) / "audio" / "test"
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"tone-{frequency}-{seconds}.mp3"
    if not path.exists():
        subprocess.run(
            ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi",
             "-i", f"sine=frequency={frequency}:duration={seconds}", "-ac", "1", "-ar", "22050",
             "-b:a", "64k", str(path)],
            check=True,
        )
    return path


class ReadyRenditionFactory(factory.django.DjangoModelFactory):
    """A `ready` rendition backed by a real tone MP3 of `seconds` length."""

    class Meta:
        model = AudioRendition

    class Params:
        seconds = 2.0

    source = AudioRendition.Source.TTS
    text_hash = factory.Sequence(lambda n: hashlib.sha256(f"text-{n}".encode()).hexdigest())
    engine = "espeak"
    voice = "vi"
    settings_key = "test"
    status = AudioRendition.Status.READY

    @factory.lazy_attribute
    def file(self) -> str:
        # A distinct frequency per rendition gives distinct bytes, so distinct sha256s.
        freq = 200 + int(self.text_hash[:4], 16) % 2000
        path = make_tone_mp3(self.seconds, freq)
        return str(path.relative_to(dj_settings.MEDIA_ROOT))

    @factory.lazy_attribute
    def sha256(self) -> str:
        return hashlib.sha256((Path(dj_settings.MEDIA_ROOT) / self.file).read_bytes()).hexdigest()

    @factory.lazy_attribute
    def size_bytes(self) -> int:
        return (Path(dj_settings.MEDIA_ROOT) / self.file).stat().st_size

    duration_ms = factory.LazyAttribute(lambda o: int(o.seconds * 1000))
    loudness_lufs = -16.0
    engine_used = "espeak"


def approved_bulletin(
    *, title: str = "Thông báo thử nghiệm", priority: str = "normal", seconds: float = 2.0,
    author=None, approver=None, category: str = "other",
) -> Bulletin:
    """An approved bulletin with a ready rendition, made directly (not through the workflow services)."""
    author = author or UserFactory(roles=["editor"])
    approver = approver or UserFactory(roles=["approver"])
    rendition = ReadyRenditionFactory(seconds=seconds)
    bulletin = Bulletin.objects.create(
        title=title, category=category, priority=priority, author=author, status=Bulletin.Status.APPROVED
    )
    now = timezone.now()
    revision = BulletinRevision.objects.create(
        bulletin=bulletin, number=1, title=title, body=f"Nội dung {title}.", created_by=author,
        submitted_at=now, rendition=rendition, approved_by=approver, approved_at=now,
        approved_sha256=rendition.sha256,
    )
    bulletin.current_revision = revision
    bulletin.live_revision = revision
    bulletin.save(update_fields=["current_revision", "live_revision"])
    return bulletin
