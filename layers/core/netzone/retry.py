"""Retrying a write that lost an optimistic-locking race (`netzone.errors.VersionConflict`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from netzone.errors import VersionConflict

T = TypeVar("T")

BASE_DELAY = 0.01  # seconds before the first retry; doubled before each one after it


def retry_on_conflict(
    attempt: Callable[[], T],
    attempts: int,
    before_retry: Callable[[], object] | None = None,
    sleep: Callable[[float], object] | None = None,
) -> T:
    """What `attempt()` returns, trying it up to `attempts` times while it raises VersionConflict.

    Between tries it waits 10 ms, 20 ms, 40 ms, ... and then calls `before_retry` (re-read
    what moved). The conflict of the last try propagates.
    """
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    for tried in range(attempts):
        try:
            return attempt()
        except VersionConflict:
            if tried == attempts - 1:
                raise
            (sleep or time.sleep)(BASE_DELAY * 2**tried)
            if before_retry is not None:
                before_retry()
    raise AssertionError("unreachable: the last try returns or raises")  # pragma: no cover
