"""Demo content and demo accounts: shipped inside the repository, kept apart from what people write,
and never put into a database the user did not mean for a demo."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from broadcast.demo import history
from broadcast.models import Bulletin, BulletinTransition, Schedule
from broadcast.services import bulletins as workflow
from tests.factories import StationFactory, UserFactory

REPO = Path(__file__).resolve().parents[1]


# --- 1. everything the project reads is inside the repository -----------------------------------

OUTSIDE = re.compile(r"""\.\./shared|["']shared["']\s*/|/\s*["']shared["']|\]\(\.\./""")


def _project_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True)
    if listed.returncode == 0:
        return listed.stdout.split()
    skip = {".git", ".venv", "var", "media", "test-output", "__pycache__", "node_modules"}  # not a checkout
    return [str(p.relative_to(REPO)) for p in REPO.rglob("*")
            if p.is_file() and not skip & set(p.relative_to(REPO).parts)]


def test_nothing_in_the_repository_reads_or_links_outside_it() -> None:
    files = _project_files()
    offenders = []
    for name in files:
        path = REPO / name
        if path == Path(__file__).resolve() or not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        offenders += [f"{name}:{n}: {line.strip()}" for n, line in enumerate(text.splitlines(), 1)
                      if OUTSIDE.search(line)]
    assert offenders == []


def test_demo_content_ships_with_the_package() -> None:
    from broadcast import demo

    assert demo.BULLETINS.is_relative_to(REPO / "broadcast") and demo.ARTICLE.is_relative_to(REPO / "broadcast")
    samples = demo.load_bulletins()
    assert len(samples) >= 5
    for sample in samples:
        assert set(sample) >= {"title", "category", "priority", "body"}
        assert sample["category"] in Bulletin.Category.values
        assert sample["priority"] in Bulletin.Priority.values
        assert len(sample["body"]) > 400 and re.search(r"[ạảấầẩẫậắằẳẵặẹẻẽếềểễệịọỏốồổỗộớờởỡợụủứừửữựỳỷỹđ]", sample["body"])
    assert {"health", "emergency", "policy"} <= {s["category"] for s in samples}
    assert len({s["title"] for s in samples}) == len(samples)
    article = demo.ARTICLE.read_text(encoding="utf-8")
    title, _, body = article.partition("\n")
    assert title.strip() and 7000 <= len(article) <= 12000 and body.count("\n\n") >= 8


def _python_with_setuptools() -> str | None:
    import shutil
    import sys

    for python in (sys.executable, shutil.which("python3"), "/usr/bin/python3"):
        if python and subprocess.run([python, "-c", "import setuptools"], capture_output=True).returncode == 0:
            return python
    return None


def test_wheel_carries_the_demo_content(tmp_path: Path) -> None:
    """A non-editable install finds the demo files (package data, not files beside the checkout)."""
    import shutil
    import zipfile

    python = _python_with_setuptools()
    if python is None:
        pytest.skip("no Python with setuptools here to build a wheel")
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    for package in ("broadcast", "stations"):
        shutil.copytree(REPO / package, src / package, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(
        [python, "-c", "import sys; from setuptools import build_meta; build_meta.build_wheel(sys.argv[1])",
         str(tmp_path / "dist")], cwd=src, check=True, capture_output=True,
    )  # fmt: skip
    (wheel,) = (tmp_path / "dist").glob("loa-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"broadcast/demo/__init__.py", "broadcast/demo/bulletins.json", "broadcast/demo/article.txt"} <= names
    # The other non-Python files the project reads at run time travel with it too.
    assert {"broadcast/templates/operations/coverage/overview.html", "broadcast/static/operations/coverage.css"} <= names


# --- 4. seed_demo acts only on its own demo objects ---------------------------------------------




def _snapshot(bulletin: Bulletin) -> tuple:
    bulletin.refresh_from_db()
    return (bulletin.status, bulletin.title, bulletin.current_revision_id, bulletin.live_revision_id,
            bulletin.revisions.count(), BulletinTransition.objects.filter(bulletin=bulletin).count(),
            Schedule.objects.filter(bulletin=bulletin).count())


@pytest.mark.django_db(transaction=True)
def test_seed_demo_leaves_a_person_written_bulletin_with_the_same_title_alone(one_sample: Path, settings) -> None:
    settings.DEBUG = True
    StationFactory.create_batch(2)
    person = UserFactory(username="nguoi-that", roles=["editor"])
    draft = workflow.create_bulletin(person, "Lịch tiêm chủng tháng này", "Bản nháp của người thật.",
                                     category="health")
    in_review = workflow.create_bulletin(person, "Lịch tiêm chủng tháng này", "Bản gửi duyệt của người thật.")
    in_review = workflow.submit(in_review, person)
    before = {b.pk: _snapshot(b) for b in (draft, in_review)}

    call_command("seed_demo", samples=str(one_sample), force=True)
    call_command("seed_demo", samples=str(one_sample), force=True)  # a re-run reuses its own bulletin

    assert {b.pk: _snapshot(b) for b in (draft, in_review)} == before
    assert not Bulletin.objects.get(pk=draft.pk).is_demo
    (demo,) = Bulletin.objects.filter(is_demo=True)
    assert demo.title == "Lịch tiêm chủng tháng này" and demo.status == Bulletin.Status.APPROVED
    assert demo.author.username == "bientap"
    # Today's schedule, the one of the past demo day (seed_demo.HISTORY_DAY) and one a day of the recent
    # history (broadcast/demo/history.py).
    assert Schedule.objects.filter(bulletin=demo).count() == 2 + history.DAYS
    assert all(schedule.is_demo for schedule in Schedule.objects.filter(bulletin=demo))
    assert not Schedule.objects.filter(is_demo=True).exclude(bulletin=demo).exists()


@pytest.mark.django_db(transaction=True)
def test_seed_demo_with_a_slot_no_station_has_says_why_as_a_command_error(one_sample: Path, settings) -> None:
    settings.DEBUG = True
    StationFactory.create_batch(2)
    with pytest.raises(CommandError, match="khuya"):
        call_command("seed_demo", samples=str(one_sample), force=True, slots="khuya")
    assert not Schedule.objects.exists()


@pytest.mark.django_db
def test_seed_demo_refuses_a_database_named_by_database_url(one_sample: Path, settings) -> None:
    settings.DEBUG = True
    with override_settings(DATABASE_URL="postgres://loa@db.example.vn:5432/loa"), \
            pytest.raises(CommandError, match="LOA_DEMO=true"):
        call_command("seed_demo", samples=str(one_sample))
    assert not Bulletin.objects.exists()


# --- 6. demo accounts only on the embedded default or when asked ---------------------------------


@pytest.mark.django_db
def test_create_demo_users_refuses_a_database_named_by_database_url() -> None:
    from django.contrib.auth import get_user_model

    with override_settings(DEBUG=True, DATABASE_URL="postgres://loa@db.example.vn:5432/loa"), \
            pytest.raises(CommandError, match="DATABASE_URL"):
        call_command("create_demo_users")
    assert not get_user_model().objects.filter(username__in=["admin", "bientap", "giamsat"]).exists()


@pytest.mark.django_db
def test_create_demo_users_on_an_inherited_database_only_when_asked(settings) -> None:
    from django.contrib.auth import get_user_model

    settings.DEBUG = True
    settings.DATABASE_URL = "postgres://loa@db.example.vn:5432/loa"
    call_command("create_demo_users", force=True)
    assert get_user_model().objects.get(username="giamsat").check_password("loa-demo-2026")
    get_user_model().objects.all().delete()
    settings.LOA_DEMO = True
    call_command("create_demo_users")
    assert get_user_model().objects.filter(username="kiemduyet").exists()


@pytest.mark.django_db
def test_create_demo_users_on_the_embedded_default(settings) -> None:
    from django.contrib.auth import get_user_model

    settings.DEBUG = True
    settings.DATABASE_URL = f"sqlite:///{settings.VAR_DIR / 'loa.sqlite3'}"
    call_command("create_demo_users")
    assert get_user_model().objects.get(username="bientap").check_password("loa-demo-2026")


@pytest.mark.django_db
def test_create_demo_users_refused_in_production_even_when_forced(settings) -> None:
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("create_demo_users", force=True)
