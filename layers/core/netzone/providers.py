"""Feed providers as ingest knows them: where their files go (`feeds/<provider>/<file>`), what
the network's registry says of each (`FeedProvider`), and the port ingest asks it through.

Only registered providers feed the network; the registry itself is the network table's
(`netzone.network`, `POST /providers`).
"""

from __future__ import annotations

import re
from typing import Literal, Protocol

from pydantic import BaseModel, Field

from netzone.jobs import FeedError, FeedMode

PROVIDER_CODE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
# The reader's format names (netzone.marc.open_feed) as the provider registry spells them.
PROVIDER_FORMATS = {"iso2709": "marc21", "marcxml": "marcxml", "marc-json": "marc-json", "kbart": "kbart"}


def feed_key(provider: str, filename: str) -> str:
    return f"feeds/{provider}/{filename}"


def provider_of(key: str) -> str:
    """The provider code of a feed key `feeds/<provider>/<file>`."""
    parts = key.split("/")
    if len(parts) < 3 or parts[0] != "feeds" or not parts[-1]:
        raise FeedError(f"feed files belong under feeds/<provider>/<file>, not {key!r}")
    if not PROVIDER_CODE.match(parts[1]):
        raise FeedError(
            f"provider code {parts[1]!r} in {key!r} must be lower-case letters, digits, '.', '_' or '-'"
        )
    return parts[1]


class FeedProvider(BaseModel):
    """What ingest needs to know of a registered provider (the registry is the network table's)."""

    code: str
    formats: list[str] = Field(default_factory=lambda: list(PROVIDER_FORMATS.values()))
    feed_mode: FeedMode = "incremental"
    management_level: Literal["provider", "community"] = "provider"
    source_priority: int = 50

    @property
    def merge_priority(self) -> int:
        """Rank when merging: a provider-managed record is the provider's to change, so it
        outranks every community-managed source and member contribution (those rank by their
        source priority, 1-100; contributions have the default, 50)."""
        return self.source_priority + (100 if self.management_level == "provider" else 0)


class ProviderDirectory(Protocol):
    def feed_provider(self, code: str) -> FeedProvider | None: ...
