"""The wiring every function shares: its settings, logger and metrics, the adapters over the
tables and queues its settings name, and the Lambda entry point of an API.

A function's `app.py` builds one `Wiring` from its settings model (`netzone.settings`) and takes
what it uses: each adapter is built on first use and kept for the life of the sandbox (a test
that reloads `app.py` gets fresh ones). Adapters are built here and nowhere else, so how a store
is made is said once, whichever function uses it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import Any, Generic, TypeVar

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic_settings import BaseSettings

from netzone.adapters.catalog_store import DynamoCatalogStore
from netzone.adapters.events import EventBridgeBus
from netzone.adapters.job_store import DynamoJobStore
from netzone.adapters.network_store import DynamoNetworkStore, ProviderRegistry
from netzone.adapters.portfolio_store import DynamoPortfolioStore
from netzone.adapters.s3 import FeedObjects, ReportObjects
from netzone.adapters.sqs import SqsBatchSink
from netzone.completion import AbsentWithdrawer, FeedFinisher, ProviderHoldings

S = TypeVar("S", bound=BaseSettings)


class Wiring(Generic[S]):
    """One function's settings, logger and metrics, and the adapters its settings name."""

    def __init__(self, settings: S, provider_ttl: float = 300.0) -> None:
        self.settings = settings
        self.logger = Logger()
        self.metrics = Metrics()
        self.provider_ttl = provider_ttl  # how long a warm function keeps a provider's registration

    def _setting(self, name: str) -> str:
        # Each settings model holds only what its function uses: asking for another is a bug.
        value: str = getattr(self.settings, name)
        return value

    # ------------------------------------------------------------ stores

    @cached_property
    def catalog(self) -> DynamoCatalogStore:
        return DynamoCatalogStore(self._setting("catalog_table"))

    @cached_property
    def portfolios(self) -> DynamoPortfolioStore:
        return DynamoPortfolioStore(self._setting("catalog_table"))

    @cached_property
    def jobs(self) -> DynamoJobStore:
        return DynamoJobStore(self._setting("jobs_table"))

    @cached_property
    def network(self) -> DynamoNetworkStore:
        return DynamoNetworkStore(self._setting("network_table"))

    @cached_property
    def providers(self) -> ProviderRegistry:
        """Registered providers (import control, feed mode, merging's priorities), cached briefly."""
        return ProviderRegistry(self.network, ttl=self.provider_ttl)

    # ------------------------------------------------------------ feed files, queues, reports, events

    @cached_property
    def feed_objects(self) -> FeedObjects:
        return FeedObjects()

    @cached_property
    def match_queue(self) -> SqsBatchSink:
        return SqsBatchSink(self._setting("match_queue_url"))

    @cached_property
    def continue_queue(self) -> SqsBatchSink:
        """FeedContinueQueue: where a feed read near the time limit leaves its checkpoint."""
        return SqsBatchSink(self._setting("feed_continue_queue_url"))

    def feed_finisher(self, holdings: ProviderHoldings, withdrawer: AbsentWithdrawer) -> FeedFinisher:
        """What finishes feed jobs: reports and rejects files, FeedCompleted, steps on MatchQueue."""
        return FeedFinisher(
            ledger=self.jobs,
            holdings=holdings,
            withdrawer=withdrawer,
            reports=ReportObjects(self._setting("feed_bucket")),
            events=EventBridgeBus(self._setting("event_bus_name")),
            steps=self.match_queue,
        )

    # ------------------------------------------------------------ entry points

    def api_handler(
        self, app: APIGatewayRestResolver, **context: Any
    ) -> Callable[[dict, LambdaContext], dict]:
        """The Lambda handler of an API: correlation ids from API Gateway, metrics flushed, and
        `context` (the domain objects the routes call) shared with every router for the request."""

        @self.logger.inject_lambda_context(
            correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True
        )
        @self.metrics.log_metrics
        def handler(event: dict, lambda_context: LambdaContext) -> dict:
            app.append_context(**context)  # Powertools clears the context after each request
            return app.resolve(event, lambda_context)

        return handler
