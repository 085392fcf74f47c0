"""record_match cost: DynamoDB requests and capacity units per ingested record.

Runs what `record_match` does for each SQS message - `Filer.file_batch` then
`DynamoJobStore.record_outcomes` - against moto in-process (with the local stack's
transaction patch, `local.moto_server.apply()`), on two feeds of synthetic records:

  1. 600 new records into an empty catalog (no overlap);
  2. 600 records of which a third describe books already in the catalog (the same books from
     another provider) and two thirds are new.

Every DynamoDB call is counted by operation. Capacity units are computed from item sizes the
way DynamoDB bills on-demand (reads: 4 KB units, half for eventually consistent; writes: 1 KB
units; transactions: twice), so the cost per million records follows from list prices.
"""

from __future__ import annotations

import math
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from inprocess import ROOT  # paths, dummy credentials, quiet Powertools: before boto3 and moto

# isort: split
import boto3
import moto

from demo.feeds import synthetic_records
from local import moto_server
from local.template import deploy, load_template
from netzone import marc
from netzone.adapters.catalog_store import DynamoCatalogStore
from netzone.adapters.job_store import DynamoJobStore
from netzone.batches import RecordBatch
from netzone.record_filing import Filer

# us-east-1 on-demand list prices (USD per million request units), November 2024 onwards.
PRICE_WRITE, PRICE_READ = 0.625, 0.125
BATCH = 50


def _size(value) -> int:
    """Approximate DynamoDB size of an attribute value in its wire form."""
    if isinstance(value, dict):
        if len(value) == 1:
            ((kind, inner),) = value.items()
            if kind in ("S", "N"):
                return len(str(inner).encode())
            if kind == "B":
                return len(inner) if isinstance(inner, bytes | bytearray) else len(inner) * 3 // 4
            if kind in ("L", "M"):
                return 3 + _size(inner)
            if kind in ("SS", "NS"):
                return sum(len(str(v)) for v in inner)
            return 1
        return sum(len(k) + _size(v) for k, v in value.items())
    if isinstance(value, list):
        return sum(1 + _size(v) for v in value)
    return 1


class Meter:
    def __init__(self):
        self.calls = Counter()
        self.read_units = 0.0
        self.write_units = 0.0
        self._params = None

    def attach(self, client):
        client.meta.events.register("provide-client-params.dynamodb.*", self._before)
        client.meta.events.register("after-call.dynamodb.*", self._after)

    def _before(self, params, **_):
        self._params = dict(params)  # the API parameters as the caller gave them

    def _after(self, http_response, parsed, model, **_):
        name, params = model.name, self._params or {}
        self.calls[name] += 1
        if name == "TransactWriteItems":
            for action in params.get("TransactItems", []):
                ((_, body),) = action.items()
                item = body.get("Item") or body.get("Key") or {}
                self.write_units += 2 * max(1, math.ceil(_size(item) / 1024))
        elif name == "BatchGetItem":
            for items in parsed.get("Responses", {}).values():
                self.read_units += sum(0.5 * max(1, math.ceil(_size(i) / 4096)) for i in items)
        elif name == "GetItem":
            factor = 1.0 if params.get("ConsistentRead") else 0.5
            self.read_units += factor * max(1, math.ceil(_size(parsed.get("Item", {})) / 4096))
        elif name in ("UpdateItem", "PutItem"):
            self.write_units += max(1, math.ceil(_size(params.get("Item") or params.get("Key") or {}) / 1024))
        elif name == "Query":
            self.read_units += 0.5 * max(1, math.ceil(sum(_size(i) for i in parsed.get("Items", [])) / 4096))
        elif name == "BatchWriteItem":
            for requests in params.get("RequestItems", {}).values():
                self.write_units += sum(
                    max(1, math.ceil(_size(r["PutRequest"]["Item"]) / 1024)) for r in requests
                )

    def reset(self):
        self.__init__()


def _batches(records, provider, job):
    for seq in range(0, len(records), BATCH):
        chunk = records[seq : seq + BATCH]
        yield RecordBatch(
            job_id=job,
            provider=provider,
            seq=seq // BATCH,
            records=[
                {"position": seq + i + 1, "source_id": r["001"].data, "marc": marc.record_to_marc_json(r)}
                for i, r in enumerate(chunk)
            ],
        )


def run(label, batches, filer, jobs, meter, count):
    meter.reset()
    outcomes = Counter()
    for batch in batches:
        result = filer.file_batch(batch)
        jobs.record_outcomes(batch.job_id, batch.seq, dict(result.counts), result.rejects)
        outcomes.update(result.counts)
    requests = sum(meter.calls.values())
    cost = meter.read_units * PRICE_READ + meter.write_units * PRICE_WRITE  # USD per million records
    print(f"{label}: {count} records, outcomes {dict(outcomes)}")
    print(
        f"  DynamoDB requests per record: {requests / count:.2f}  ({', '.join(f'{k} {v}' for k, v in sorted(meter.calls.items()))})"
    )
    print(
        f"  capacity per record: {meter.read_units / count:.2f} RRU, {meter.write_units / count:.2f} WRU"
        f"  -> ${cost / count:,.2f} per million records at on-demand list prices"
    )


def main() -> None:
    moto_server.apply()
    with moto.mock_aws():
        deployment = deploy(load_template(ROOT / "template.yaml"))
        client = boto3.client("dynamodb")
        meter = Meter()
        meter.attach(client)
        filer = Filer(DynamoCatalogStore(deployment.name_of("CatalogTable"), client))
        jobs = DynamoJobStore(deployment.name_of("JobsTable"), client)

        first = list(synthetic_records(600, "harbor", seed=11))
        run("feed without overlap", _batches(first, "harbor", "job-a"), filer, jobs, meter, len(first))

        overlap = []
        for index, record in enumerate(first[:200]):  # a third: the same books from another provider
            copy = marc.unpack(marc.pack(record))
            copy["001"].data = f"meridian-{index:06d}"
            overlap.append(copy)
        fresh = list(synthetic_records(400, "meridian", seed=12))
        mixed = [r for pair in zip(overlap, fresh[:200], strict=True) for r in pair] + fresh[200:]
        run(
            "feed with a third overlapping",
            _batches(mixed, "meridian", "job-b"),
            filer,
            jobs,
            meter,
            len(mixed),
        )


if __name__ == "__main__":
    main()
