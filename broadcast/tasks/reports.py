"""Celery tasks of this area (id in, service call)."""
