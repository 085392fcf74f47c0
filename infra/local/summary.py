"""What `make run` prints: the stack, the demo's outcome, and commands to copy and paste."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from local.template import REPO_ROOT

if TYPE_CHECKING:
    from local.api import ApiServer
    from local.seed import DemoReport
    from local.template import Deployment
    from local.worker import Worker

OUTCOMES = ("created", "merged", "unchanged", "review", "withdrawn", "rejected", "failed")


class LocalStack(Protocol):
    """What the summary reads of a running stack (`local.run.LocalStack`)."""

    deployment: Deployment | None
    api: ApiServer | None
    endpoint_url: str
    moto: subprocess.Popen | None
    state_path: Path
    log_dir: Path
    workers: dict[str, Worker]


def relative(path: Path) -> str:
    """The path relative to the working directory when it is below it, else as it is."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _event_label(event_type: str, properties: dict) -> str:
    if event_type == "Api":
        return f"{properties['Method'].upper()} {properties['Path']}"
    if event_type == "S3":
        rules = ((properties.get("Filter") or {}).get("S3Key") or {}).get("Rules") or []
        suffix = "".join(f" {rule['Name']}={rule['Value']}" for rule in rules)
        return f"s3://{properties['Bucket']}{suffix}"
    if event_type == "SQS":
        return f"sqs {properties['Queue'].rsplit(':', 1)[-1]} (batch {properties.get('BatchSize', 10)})"
    if event_type == "DynamoDB":
        return f"stream of {properties['Stream'].split('/')[1]} (batch {properties.get('BatchSize', 100)})"
    return event_type


def print_stack(stack: LocalStack) -> None:
    deployment = stack.deployment
    assert deployment is not None and stack.api is not None
    print("netzone local stack")
    print(f"  REST API        {stack.api.url}   (GET / lists the routes)")
    print(
        f"  AWS endpoint    {stack.endpoint_url}   (moto server, pid {stack.moto.pid if stack.moto else '?'})"
    )
    print(f"  mailbox         {stack.api.url}/_local/mailbox   (what Cognito would email: passwords, codes)")
    print(f"  state file      {relative(stack.state_path)}")
    print(f"  logs            {relative(stack.log_dir)}/<Function>.log, moto.log, local.log")
    print("\nResources (logical id -> physical name)")
    width = max(len(logical_id) for logical_id in deployment.resources)
    for logical_id, resource in deployment.resources.items():
        if resource.type == "AWS::Serverless::Function":
            continue
        ref = (
            f" ({resource.ref})"
            if resource.type.startswith("AWS::Cognito::") and resource.ref != resource.name
            else ""
        )
        print(f"  {logical_id:<{width}}  {resource.name}{ref}   [{resource.type.split('::', 1)[1]}]")
    if deployment.skipped:
        print(f"  (condition false, not created: {', '.join(deployment.skipped)})")
    print("\nFunctions (one warm worker each)")
    for logical_id, spec in deployment.functions.items():
        worker = stack.workers[logical_id]
        state = f"pid {worker.pid}" if worker.init_error is None else "IMPORT FAILED"
        events = "; ".join(_event_label(event.type, event.properties) for event in spec.events.values())
        print(f"  {logical_id:<{width}}  {spec.handler}  {state}  <- {events or 'no events'}")
        if worker.init_error:
            print(f"    {worker.init_error.get('errorMessage')}  (see {relative(worker.log_path)})")


def _counts(job: dict) -> str:
    counts = job.get("counts") or {}
    return ", ".join(f"{name} {counts.get(name, 0)}" for name in OUTCOMES)


def _topology(libraries: list[dict]) -> str:
    """lku: campus lakeshore (main, law), campus riverside (med); wpl: central, community ..."""
    parents = [lib for lib in libraries if lib["kind"] in ("campus", "community")]
    children: dict[str, list[str]] = {}
    for lib in libraries:
        if lib.get("parent"):
            children.setdefault(lib["parent"], []).append(lib["code"])
    parts = [lib["code"] for lib in libraries if lib not in parents and not lib.get("parent")]
    parts += [f"{lib['kind']} {lib['code']} ({', '.join(children.get(lib['code'], []))})" for lib in parents]
    return "; ".join(parts)


def _scope(member: str | None) -> str:
    return "the network" if member is None else f"member {member}"


def print_demo(stack: LocalStack, report: DemoReport) -> None:
    seeded = report.seeded
    table = stack.deployment.name_of("NetworkTable") if stack.deployment else "?"
    again = (
        " (already there: " + ", ".join(f"{n} {k}" for k, n in seeded.existing.items()) + ")"
        if seeded.existing
        else ""
    )
    print(
        f"\nDemo consortium in {table}, created through the network domain as netzone-seed{again}: "
        f"{seeded.count('consortium')} consortium, {seeded.count('members')} members, "
        f"{seeded.count('libraries')} libraries/campuses/communities, {seeded.count('groups')} groups, "
        f"{seeded.count('providers')} providers, {seeded.count('staff')} staff users ({seeded.seconds:.1f} s)"
    )
    for member, libraries in seeded.libraries.items():
        print(f"  {member:<4} {_topology(libraries)}")
    print(
        f"\nStaff users (Cognito pool {stack.deployment.outputs.get('StaffUserPoolId', '?') if stack.deployment else '?'})"
    )
    width = max((len(user.username) for user in seeded.staff), default=8)
    for user in seeded.staff:
        print(f"  {user.username:<{width}}  {', '.join(user.roles):<14} for {_scope(user.member)}")
    if seeded.password:
        print(f"  password (every demo user, local only): {seeded.password}")
    if report.signed_in:
        print(
            "\nSigned in (USER_PASSWORD_AUTH) and called the network API through the local Cognito authorizer"
        )
        for call in report.signed_in:
            print(f"  {call.username:<{width}}  GET {call.path:<24} -> {call.status}  {call.summary}")
    print(f"\nSample feeds (files in {relative(report.samples)})")
    for feed in report.drops:
        job = feed.job
        print(f"  s3://{feed.bucket}/{feed.key}  ({feed.records} records in the file)")
        print(f"    job {feed.job_id}: {feed.status}, read {job.get('records_read', 0)}: {_counts(job)}")
        for reject in (job.get("rejects") or [])[:5]:
            print(
                f"      {reject.get('outcome') or 'rejected'} #{reject.get('position')} "
                f"{reject.get('source_id') or ''}: {reject.get('reason')}"
            )
    if not report.finished:
        unfinished = [f"{feed.key} ({feed.status})" for feed in report.drops if feed.status != "completed"]
        print(f"  NOT FINISHED within the demo timeout: {', '.join(unfinished)}; see the function logs")
    if report.record_ids:
        print("\nNetwork records (cluster ids)")
        for cluster_id in report.record_ids:
            print(f"  {cluster_id}  {report.titles.get(cluster_id, '')}")


def print_examples(stack: LocalStack, report: DemoReport | None) -> None:
    assert stack.deployment is not None and stack.api is not None
    api = stack.api.url
    bucket = stack.deployment.name_of("FeedBucket") if "FeedBucket" in stack.deployment.resources else None
    record = report.record_ids[0] if report and report.record_ids else "<cluster id>"
    job = report.drops[0].job_id if report and report.drops else "<job id>"
    sample = relative(report.drops[0].path) if report and report.drops else "FILE"
    name = sample.rsplit("/", 1)[-1]
    default_state = REPO_ROOT / ".netzone" / "local.json"  # the CLI finds another state file by this variable
    env = "" if stack.state_path == default_state else f"NETZONE_LOCAL_STATE={relative(stack.state_path)} "
    print("\nTry")
    if "StaffUserPoolClientId" in stack.deployment.outputs:
        password = report.seeded.password if report and report.seeded.password else "PASSWORD"
        print(
            f"  {env}.venv/bin/netzone login central      # prints a staff ID token (asks for the password)"
        )
        print(
            f"  TOKEN=$({env}.venv/bin/netzone login central --password {password}) && "
            f'curl -s -H "Authorization: $TOKEN" {api}/members'
        )
        print(f'  curl -s -H "Authorization: $TOKEN" {api}/members/lku/libraries')
        print(
            f'  curl -s -H "Authorization: $TOKEN" {api}/reviews      # uncertain matches, with the evidence'
        )
        print(f"  curl -s {api}/openapi.json          # public: the network API's OpenAPI document")
        print(
            f"  TOKEN=$({env}.venv/bin/netzone login lku-cat --password {password}) && curl -s -X POST "
            f"-H \"Authorization: $TOKEN\" -H 'Content-Type: application/json' {api}/contributions "
            """-d '{"records": [{"leader": "00000nam a2200000 i 4500", "fields": [{"001": "lku-local-1"}, """
            """{"245": {"ind1": "1", "ind2": "0", "subfields": [{"a": "A contributed title"}]}}]}]}'"""
        )
    print(f"  curl -s {api}/bibs/{record}")
    print(f"  curl -s -H 'Accept: application/json' {api}/bibs/{record}")
    print(f"  curl -s {api}/feeds/jobs/{job}")
    rejecting = (
        next((d.job_id for d in report.drops if d.job and d.job.get("counts", {}).get("rejected")), job)
        if report
        else job
    )
    print(
        f"  {env}.venv/bin/netzone feed report {rejecting}   # the job's report: counts, timings, every reject"
    )
    portfolio_record = report.portfolio_records[0] if report and report.portfolio_records else "<cluster id>"
    print(f"  curl -s {api}/bibs/{portfolio_record}/portfolios   # e-book/e-journal portfolios from KBART")
    if bucket:
        endpoint = stack.endpoint_url
        print(f"  {env}.venv/bin/netzone feed push {sample} --provider harbor --wait")
        print(
            "  AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1 "
            f"aws --endpoint-url {endpoint} s3 cp {sample} s3://{bucket}/feeds/harbor/{name}"
        )
        code = (
            f"import boto3; boto3.client('s3', endpoint_url='{endpoint}', region_name='us-east-1', "
            "aws_access_key_id='testing', aws_secret_access_key='testing')"
            f".upload_file('{sample}', '{bucket}', 'feeds/harbor/{name}')"
        )
        print(f'  python -c "{code}"')
