"""Electronic portfolios in the catalog table.

    PORT#<provider>#<portfolio id> / PORT                            a provider's portfolio
    CLU#<cluster id>               / PORT#<provider>#<portfolio id>  its link under the cluster

The portfolio item carries `feed_provider` (the hash key of the sparse `ByFeedProvider` index),
`seen_job` (the seen mark of the newest file that held the row, `PortfolioItem.seen_mark`;
`dynamodb.SEEN_ATTRIBUTE`) and `withdrawn`, so a sweep
finds what a provider's latest file no longer holds. The link item repeats what discovery shows
(`view`), so a cluster's portfolios are one Query. Every save is one transaction: the
portfolio conditional on its version, the link put (or deleted when withdrawn), the link under
the previous cluster deleted when the portfolio moved.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from netzone.adapters.dynamodb import (
    SEEN_ATTRIBUTE,
    DynamoTable,
    batch_get,
    from_item,
    is_condition_failure,
    query_all,
    set_seen_mark,
    to_item,
    version_condition,
)
from netzone.errors import VersionConflict
from netzone.portfolio_filing import PortfolioItem

PREFIX = "PORT#"


def portfolio_pk(provider: str, source_id: str) -> str:
    return f"{PREFIX}{provider}#{source_id}"


def parse_pk(pk: str) -> tuple[str, str]:
    """(provider, portfolio id) of a `PORT#<provider>#<portfolio id>` key (as the index returns)."""
    _, provider, source_id = pk.split("#", 2)
    return provider, source_id


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


class DynamoPortfolioStore(DynamoTable):
    """Electronic portfolios and their links under clusters, in the catalog table."""

    def get_portfolios(self, keys: list[tuple[str, str]]) -> dict[str, PortfolioItem]:
        if not keys:
            return {}
        wanted = list(dict.fromkeys(keys))
        items = batch_get(
            self.client, self.table, [{"pk": portfolio_pk(p, s), "sk": "PORT"} for p, s in wanted]
        )
        found = [self._item(i) for i in items]
        return {p.key: p for p in found}

    def save(self, item: PortfolioItem, expected: int | None, previous_cluster: str | None) -> None:
        pk = portfolio_pk(item.provider, item.source_id)
        version = (expected or 0) + 1
        record = {
            "pk": pk,
            "sk": "PORT",
            "type": "portfolio",
            "feed_provider": item.provider,
            "provider": item.provider,
            "source_id": item.source_id,
            "cluster_id": item.cluster_id,
            "package": item.portfolio.get("package"),
            "portfolio": _json(item.portfolio),
            "content_hash": item.content_hash,
            "brief_source": item.brief_source,
            "withdrawn": item.withdrawn,
            SEEN_ATTRIBUTE: item.seen_mark,
            "version": version,
            "last_job": item.last_job,
            "last_position": item.last_position,
            "last_outcome": item.last_outcome,
            "updated_at": item.updated_at,
        }
        actions: list[dict[str, Any]] = [
            {"Put": {"TableName": self.table, "Item": to_item(record), **version_condition(expected)}}
        ]
        link_sk = pk
        if not item.withdrawn:
            link = {
                "pk": f"CLU#{item.cluster_id}",
                "sk": link_sk,
                "type": "portfolio-link",
                "view": _json(item.view()),
                "portfolio_version": version,
            }
            actions.append({"Put": {"TableName": self.table, "Item": to_item(link)}})
        stale = {previous_cluster} if previous_cluster else set()
        if item.withdrawn:
            stale.add(item.cluster_id)
        else:
            stale.discard(item.cluster_id)
        for cluster_id in sorted(stale):
            key = to_item({"pk": f"CLU#{cluster_id}", "sk": link_sk})
            actions.append({"Delete": {"TableName": self.table, "Key": key}})
        try:
            self.client.transact_write_items(TransactItems=actions)
        except ClientError as error:
            if is_condition_failure(error):
                raise VersionConflict(f"portfolio {item.key} changed since it was read") from error
            raise
        item.version = version

    def mark_seen(self, provider: str, source_id: str, mark: str) -> None:
        # Unless a newer file marked it meanwhile (portfolios are never deleted).
        set_seen_mark(self.client, self.table, {"pk": portfolio_pk(provider, source_id), "sk": "PORT"}, mark)

    def for_cluster(self, cluster_id: str) -> list[PortfolioItem]:
        """The portfolios linked under a cluster, read from the links alone (one paged Query)."""
        request: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :port)",
            "ExpressionAttributeValues": to_item({":pk": f"CLU#{cluster_id}", ":port": PREFIX}),
        }
        found: list[PortfolioItem] = []
        for raw in query_all(self.client, request):
            link = from_item(raw)
            provider, source_id = parse_pk(link["sk"])
            found.append(_from_view(provider, source_id, cluster_id, json.loads(link["view"])))
        return found

    @staticmethod
    def _item(item: dict[str, Any]) -> PortfolioItem:
        return PortfolioItem(
            provider=item["provider"],
            source_id=item["source_id"],
            cluster_id=item["cluster_id"],
            portfolio=json.loads(item["portfolio"]),
            content_hash=item["content_hash"],
            brief_source=item.get("brief_source"),
            withdrawn=bool(item.get("withdrawn", False)),
            seen_mark=item.get(SEEN_ATTRIBUTE),
            version=int(item["version"]),
            last_job=item.get("last_job"),
            last_position=int(item["last_position"]) if item.get("last_position") is not None else None,
            last_outcome=item.get("last_outcome"),
            updated_at=item.get("updated_at"),
        )


def _from_view(provider: str, source_id: str, cluster_id: str, view: dict) -> PortfolioItem:
    """A portfolio as its link shows it: enough for discovery and for counting a cluster's portfolios."""
    return PortfolioItem(provider, source_id, cluster_id, portfolio={}, content_hash="", linked_view=view)
