"""Settings for each function, validated from the environment the template sets.

Every resource name reaches code only through these models (never `os.environ` in the
domain), so a missing variable fails at cold start with the variable's name.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class _Base(BaseSettings):
    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore", frozen=True)


class FeedIngestSettings(_Base):
    jobs_table: str
    network_table: str  # the provider registry: import control, feed mode
    idempotency_table: str
    match_queue_url: str
    # A batch is one SQS message: bounded by record count and by serialized size, well
    # under SQS's 256 KiB message limit once compressed.
    batch_max_records: int = Field(default=50, ge=1, le=500)
    batch_max_bytes: int = Field(default=180_000, ge=10_000, le=240_000)
    # A run with less time than this left checkpoints and continues in a new invocation.
    feed_continue_queue_url: str
    pause_margin_seconds: float = Field(default=90, ge=0, le=800)


class RecordMatchSettings(_Base):
    catalog_table: str
    jobs_table: str
    network_table: str  # provider priorities for merging
    match_queue_url: str  # the steps that finish a feed job go back on the queue
    feed_bucket: str  # reports/ and rejects/ objects
    event_bus_name: str  # FeedCompleted


class MatchDeadLetterSettings(_Base):
    jobs_table: str  # dead-lettered batches and steps are accounted on their jobs
    match_queue_url: str  # a full-replacement job's withdrawals go back on the queue
    feed_bucket: str  # reports/ and rejects/ objects
    event_bus_name: str  # FeedCompleted


class DiscoverySettings(_Base):
    catalog_table: str
    jobs_table: str


class NetworkApiSettings(_Base):
    network_table: str
    catalog_table: str  # the review queue and clusters
    staff_user_pool_id: str
    page_token_secret_arn: str  # Secrets Manager: the key that signs paging tokens
