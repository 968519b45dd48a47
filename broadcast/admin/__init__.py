"""Django admin of the broadcast app, one module per area."""

from . import access, bulletins, playlists, reports  # noqa: F401
