"""Domain events inside the broadcast app, so areas react to each other without importing each other.

Senders call `.send(sender=..., ...)` after the change is committed (use transaction.on_commit).
"""

from django.dispatch import Signal

# A bulletin's live (airing) revision changed: approved anew, or archived. kwargs: bulletin_id.
live_revision_changed = Signal()
