"""What the normalizers read of a record: `MarcFields`."""

from __future__ import annotations

from typing import Protocol

from pymarc import Field


class MarcFields(Protocol):
    """What the normalizers read of a record: a pymarc `Record`, or matching's index of one."""

    @property
    def leader(self) -> object: ...

    def get(self, tag: str, default: Field | None = None) -> Field | None: ...

    def get_fields(self, *tags: str) -> list[Field]: ...
