"""The clock: timestamps as the network stores them (UTC, ISO 8601, `Z`) and audit entry ids."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime


def now() -> str:
    """The time now, to the millisecond: `2026-01-15T09:30:00.123Z`."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def audit_id() -> str:
    """Sorts by time (microseconds, so entries one request writes in turn stay in order), unique."""
    stamp = datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
    return f"{stamp}#{uuid.uuid4().hex[:8]}"
