"""The domain's errors: a few kinds, each with a stable code and a detail that says what to fix.

Every refusal the domain makes is one of the kinds below. `code` never changes (callers match
on it, not on the text), `detail` says what went wrong and what to do about it, and `errors`,
when a request has several faults, holds one entry per field or record. The domain knows no
HTTP: the API edge (`functions/api_edge.py`) answers each kind as an RFC 9457 problem with the
status that kind has there.

`VersionConflict` is different: it is how every store says that an item changed after it was
read (optimistic locking). It is not an answer to a caller: the domain retries it
(`netzone.retry`) or turns it into a `Conflict` whose code says what the caller should do.
"""

from __future__ import annotations

from typing import Any


class NetzoneError(Exception):
    """A refusal the domain explains: a stable `code`, a `detail` to act on, per-item `errors`."""

    def __init__(self, code: str, detail: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.errors = errors

    def __str__(self) -> str:
        return self.detail

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.detail!r})"


class NotFound(NetzoneError):
    """Nothing has that id: check it, or create the thing first."""


class Conflict(NetzoneError):
    """The request contradicts what is stored now (it exists, it moved on, it was decided)."""


class Invalid(NetzoneError):
    """The request cannot be carried out as sent: fix what `detail` (or `errors`) names."""


class Unauthenticated(NetzoneError):
    """No identity came with the request."""


class Denied(NetzoneError):
    """The caller is known but may not do this: its role or scope does not cover it."""


class Gone(NetzoneError):
    """It existed and no longer does, for good."""


KINDS: tuple[type[NetzoneError], ...] = (NotFound, Conflict, Invalid, Unauthenticated, Denied, Gone)


class VersionConflict(Exception):
    """Another writer changed an item after it was read: read it again and retry.

    `current` is the version the store holds now, for stores that read it back after the
    refusal (the network store does); None there means the item is not stored at all.
    """

    def __init__(self, detail: str = "an item changed since it was read", current: int | None = None) -> None:
        super().__init__(detail)
        self.current = current
