"""The editorial workflow: draft → in_review → approved → archived, and in_review → rejected → draft.

Rules (ARCHITECTURE.md): a submitted revision is frozen; editing an approved bulletin opens a new
draft revision while the approved one keeps airing; the approver is never the author; approval
binds the exact audio (the rendition's sha256); every transition is recorded.

Errors are WorkflowError subclasses carrying an HTTP-like status and Vietnamese messages, so the
API maps them 1:1 and other callers (demo data, simulator) get plain exceptions.

By concern: `common` (errors, checks, lock, audit trail), `drafting` (the author's steps), `review` (the
approver's), `audio` (recordings, retries).
"""

from __future__ import annotations

from .audio import attach_recording, retry_audio
from .common import Forbidden, InvalidInput, StateConflict, TooLarge, WorkflowError
from .drafting import create_bulletin, delete_draft, edit_bulletin, submit, withdraw
from .review import approve, archive, reject

__all__ = [
    "Forbidden",
    "InvalidInput",
    "StateConflict",
    "TooLarge",
    "WorkflowError",
    "approve",
    "archive",
    "attach_recording",
    "create_bulletin",
    "delete_draft",
    "edit_bulletin",
    "reject",
    "retry_audio",
    "submit",
    "withdraw",
]
