import hashlib
from pathlib import Path

import pytest
from django.conf import settings

from tests.factories import approved_bulletin


@pytest.mark.django_db
def test_approved_bulletin_factory_binds_a_real_file():
    bulletin = approved_bulletin(seconds=1.0)
    rendition = bulletin.live_revision.rendition
    data = (Path(settings.MEDIA_ROOT) / rendition.file).read_bytes()
    assert hashlib.sha256(data).hexdigest() == bulletin.live_revision.approved_sha256
    assert data[:3] == b"ID3" or data[0] == 0xFF
