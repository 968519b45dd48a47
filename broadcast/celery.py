"""The Celery application. Tasks live in each app's tasks.py and are found by autodiscovery."""

import os

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "broadcast.settings")

app = Celery("loa")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="loa.ping")
def ping() -> str:
    """Round-trip check used by the integration tier and health checks."""
    return "pong"


@worker_ready.connect
def _take_back_renders_of_a_previous_life(sender=None, **kwargs) -> None:  # noqa: ANN001, ANN003
    """A worker restarted under the same node name (systemd, `scripts/run`) re-queues the renders its dead
    predecessor held, at once rather than after the claim timeout."""
    from broadcast.services.rendering import release_worker_claims

    release_worker_claims(getattr(sender, "hostname", "") or "")
