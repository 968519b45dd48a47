"""The Celery application. Tasks live in each app's tasks.py and are found by autodiscovery."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "broadcast.settings")

app = Celery("loa")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="loa.ping")
def ping() -> str:
    """Round-trip check used by the integration tier and health checks."""
    return "pong"
