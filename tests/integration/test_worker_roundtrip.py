import pytest
from django.conf import settings

from broadcast.celery import app, ping


@pytest.mark.django_db(transaction=True)
def test_a_task_round_trips_through_a_real_worker(celery_worker):
    if not settings.CELERY_RESULT_BACKEND:
        pytest.skip("round trip needs CELERY_RESULT_BACKEND (.ci/run sets it to Redis)")
    assert not app.conf.task_always_eager
    result = ping.apply_async()
    assert result.get(timeout=30) == "pong"
    assert result.successful()
