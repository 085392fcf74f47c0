"""Component tier: each handler invoked in-process under moto, resources built from template.yaml
by the same reader the local stack uses, events taken from events/."""

from __future__ import annotations

import base64
import copy
import importlib
import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote_plus

import boto3
import moto
import pytest

from local.template import deploy, load_template
from netzone.adapters.dynamodb import to_item
from netzone.adapters.network_store import object_key
from netzone.network import Provider, Ref

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
FUNCTIONS = {
    "FeedIngestFunction": "feed_ingest.app",
    "FeedContinueFunction": "feed_ingest.app",  # the same module, its own entry point
    "RecordMatchFunction": "record_match.app",
    "MatchDeadLetterFunction": "match_dead_letter.app",
    "DiscoveryApiFunction": "discovery_api.app",
    "NetworkApiFunction": "network_api.app",
}


@dataclass
class LambdaContext:
    function_name: str = "test"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:test"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"
    remaining: list[int] | None = None  # successive answers, e.g. a run that nears its time limit

    def get_remaining_time_in_millis(self) -> int:
        if self.remaining:
            return self.remaining.pop(0) if len(self.remaining) > 1 else self.remaining[0]
        return 900_000


def event(name: str) -> dict:
    return json.loads((EVENTS / f"{name}.json").read_text())


class Stack:
    """The deployed template plus the three handlers, and helpers to drive them like AWS would."""

    def __init__(self, deployment, handlers):
        self.deployment = deployment
        self.handlers = handlers
        self.s3 = boto3.client("s3")
        self.sqs = boto3.client("sqs")
        self.bucket = deployment.name_of("FeedBucket")
        self._drop_times: dict[tuple[str, str], int] = {}
        self.queue_url = deployment.resources["MatchQueue"].url

    def invoke(self, function: str, payload: dict, remaining: list[int] | None = None) -> dict:
        context = LambdaContext(function_name=function, aws_request_id=str(uuid.uuid4()), remaining=remaining)
        entry = getattr(self.handlers[function], self.deployment.functions[function].function)
        return entry(payload, context)

    def s3_event(self, key: str) -> dict:
        head = self.s3.head_object(Bucket=self.bucket, Key=key)
        payload = event("feed_ingest_s3_put")
        obj = payload["Records"][0]["s3"]["object"]
        payload["Records"][0]["s3"]["bucket"].update(name=self.bucket, arn=f"arn:aws:s3:::{self.bucket}")
        obj.update(key=quote_plus(key), eTag=head["ETag"].strip('"'), size=head["ContentLength"])
        if head.get("VersionId"):
            obj["versionId"] = head["VersionId"]
        # Each put a second after the one before; a redelivered event keeps its time, as on S3.
        dropped = self._drop_times.setdefault((key, head["ETag"]), len(self._drop_times))
        payload["Records"][0]["eventTime"] = f"2026-11-22T10:{dropped // 60:02d}:{dropped % 60:02d}.000Z"
        return payload

    def register_provider(self, code: str, **fields) -> None:
        """Put a provider in the registry as the central office would (import control)."""
        provider = Provider(
            code=code, name=code, formats=["marc21", "marcxml", "marc-json", "kbart"], version=1
        ).model_copy(update=fields)
        item = {
            "pk": "NETWORK",
            "sk": object_key(Ref("provider", code)),
            **provider.model_dump(exclude_none=True),
        }
        boto3.client("dynamodb").put_item(
            TableName=self.deployment.name_of("NetworkTable"), Item=to_item(item)
        )

    def drop(self, path: Path, provider: str, name: str | None = None, register: bool = True) -> dict:
        if register:
            self.register_provider(provider)
        key = f"feeds/{provider}/{name or path.name}"
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=path.read_bytes())
        return self.invoke("FeedIngestFunction", self.s3_event(key))

    def catalog_items(self, prefix: str) -> list[dict]:
        """Catalog items whose key starts with `prefix` (a test may Scan; the code never does)."""
        table = self.deployment.name_of("CatalogTable")
        pages = boto3.client("dynamodb").get_paginator("scan").paginate(TableName=table)
        return [i for page in pages for i in page["Items"] if i["pk"]["S"].startswith(prefix)]

    def receive(self, max_messages: int = 10) -> list[dict]:
        return self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=max_messages,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])

    def sqs_event(self, messages: list[dict]) -> dict:
        template = event("record_match_sqs")["Records"][0]
        records = []
        for message in messages:
            record = copy.deepcopy(template)
            record.update(
                messageId=message["MessageId"], receiptHandle=message["ReceiptHandle"], body=message["Body"]
            )
            record["md5OfBody"] = message["MD5OfBody"]
            records.append(record)
        return {"Records": records}

    def drain(self) -> list[dict]:
        """Deliver MatchQueue to record_match until it is empty, deleting what succeeded."""
        responses = []
        while messages := self.receive():
            response = self.invoke("RecordMatchFunction", self.sqs_event(messages))
            failed = {f["itemIdentifier"] for f in response["batchItemFailures"]}
            for message in messages:
                if message["MessageId"] not in failed:
                    self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
            responses.append(response)
            if failed:
                break
        return responses

    def get(self, path: str, accept: str | None = None) -> tuple[int, dict, str]:
        name = "discovery_get_bib" if path.startswith("/bibs/") else "discovery_get_feed_job"
        if path.startswith("/bibs/") and path.endswith("/portfolios"):
            name = "discovery_get_bib_portfolios"
        payload = event(name)
        payload["path"] = path
        payload["requestContext"]["path"] = f"/v1{path}"
        payload["pathParameters"] = {
            "job_id" if name == "discovery_get_feed_job" else "id": path.split("/")[2]
        }
        payload["headers"] = {"Accept": accept} if accept else {}
        payload["multiValueHeaders"] = {"Accept": [accept]} if accept else {}
        response = self.invoke("DiscoveryApiFunction", payload)
        headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
        for key, values in (response.get("multiValueHeaders") or {}).items():
            headers.setdefault(key.lower(), values[0])
        return response["statusCode"], headers, response["body"]

    def staff_request(
        self, method: str, path: str, staff: dict | None, body: dict | None = None, query: dict | None = None
    ) -> tuple[int, dict]:
        """Call the network API as API Gateway does after its Cognito authorizer accepted `staff`'s token."""
        response = self.raw_request(
            method, path, staff, json.dumps(body) if body is not None else None, query=query
        )
        return response["statusCode"], json.loads(response["body"]) if response.get("body") else {}

    def raw_request(
        self,
        method: str,
        path: str,
        staff: dict | None,
        body: str | bytes | None,
        content_type: str | None = "application/json",
        query: dict | None = None,
    ) -> dict:
        """The network API's proxy response to a request whose body and Content-Type are sent as
        given: bytes that are not UTF-8 arrive base64-encoded, as API Gateway passes binary."""
        payload = event("network_api_post_member")
        encoded = isinstance(body, bytes)
        if encoded:
            try:
                body, encoded = body.decode("utf-8"), False
            except UnicodeDecodeError:
                body = base64.b64encode(body).decode()
        headers = {"Accept": "application/json", "Host": "api.example.org"}
        if content_type is not None:
            headers["Content-Type"] = content_type
        payload.update(
            httpMethod=method,
            path=path,
            resource=path,
            body=body,
            isBase64Encoded=encoded,
            headers=headers,
            multiValueHeaders={k: [v] for k, v in headers.items()},
            queryStringParameters=query,
            multiValueQueryStringParameters={k: [v] for k, v in query.items()} if query else None,
        )
        payload["requestContext"].update(httpMethod=method, path=f"/v1{path}", resourcePath=path)
        if staff is None:
            payload["requestContext"].pop("authorizer")
        else:
            payload["requestContext"]["authorizer"]["claims"] = staff
        return self.invoke("NetworkApiFunction", payload)


def staff(username: str, *roles: str, member: str | None = None) -> dict:
    """Claims as API Gateway passes them: groups as one string, custom attributes as strings."""
    claims = {"cognito:username": username, "cognito:groups": f"[{' '.join(roles)}]", "token_use": "id"}
    if member:
        claims["custom:member"] = member
    return claims


@pytest.fixture
def stack(monkeypatch) -> Stack:
    with moto.mock_aws():
        deployment = deploy(load_template(ROOT / "template.yaml"))
        for function in FUNCTIONS:
            for key, value in deployment.env_for(function).items():
                if not key.startswith("POWERTOOLS_"):
                    monkeypatch.setenv(key, value)
        # Module-level settings and clients must be rebuilt inside this mock and environment.
        handlers = {fn: importlib.reload(importlib.import_module(module)) for fn, module in FUNCTIONS.items()}
        yield Stack(deployment, handlers)


@pytest.fixture
def quick_transactions():
    """moto copies every table on each TransactWriteItems; filing 120 records would take minutes.
    The local stack's patch (equivalence-tested in tests/local_stack) keeps this test quick."""
    from local import moto_server

    moto_server.apply()
    yield
    moto_server.revert()


@pytest.fixture
def events(stack):
    """Every event on the stack's bus, delivered to a queue by a rule (as a member's system would)."""
    bus = stack.deployment.name_of("EventBus")
    sqs, eventbridge = boto3.client("sqs"), boto3.client("events")
    url = sqs.create_queue(QueueName="feed-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    eventbridge.put_rule(
        Name="all-feeds", EventBusName=bus, EventPattern=json.dumps({"source": ["netzone.feeds"]})
    )
    eventbridge.put_targets(Rule="all-feeds", EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])

    def received() -> list[dict]:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(m["Body"]) for m in messages]

    return received
