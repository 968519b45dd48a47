"""Celery tasks of the broadcast app: each loads ids and calls a service. Modules per area."""

from .notifications import *  # noqa: F403
from .playlists import *  # noqa: F403
from .push import *  # noqa: F403
from .rendering import *  # noqa: F403
from .retention import *  # noqa: F403
