"""What `make run` prints: the stack, the demo's outcome, and commands to copy and paste."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from local.run import LocalStack
    from local.seed import DemoReport

OUTCOMES = ("created", "merged", "unchanged", "review", "withdrawn", "rejected")


def _rel(path: object) -> str:
    from local.run import _relative

    return _relative(path)  # type: ignore[arg-type]


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
    print(f"  state file      {_rel(stack.state_path)}")
    print(f"  logs            {_rel(stack.log_dir)}/<Function>.log, moto.log, local.log")
    print("\nResources (logical id -> physical name)")
    width = max(len(logical_id) for logical_id in deployment.resources)
    for logical_id, resource in deployment.resources.items():
        if resource.type == "AWS::Serverless::Function":
            continue
        print(f"  {logical_id:<{width}}  {resource.name}   [{resource.type.split('::', 1)[1]}]")
    if deployment.skipped:
        print(f"  (condition false, not created: {', '.join(deployment.skipped)})")
    print("\nFunctions (one warm worker each)")
    for logical_id, spec in deployment.functions.items():
        worker = stack.workers[logical_id]
        state = f"pid {worker.pid}" if worker.init_error is None else "IMPORT FAILED"
        events = "; ".join(_event_label(event.type, event.properties) for event in spec.events.values())
        print(f"  {logical_id:<{width}}  {spec.handler}  {state}  <- {events or 'no events'}")
        if worker.init_error:
            print(f"    {worker.init_error.get('errorMessage')}  (see {_rel(worker.log_path)})")


def _counts(job: dict) -> str:
    counts = job.get("counts") or {}
    return ", ".join(f"{name} {counts.get(name, 0)}" for name in OUTCOMES)


def print_demo(stack: LocalStack, report: DemoReport) -> None:
    seeded = report.seeded
    print(
        f"\nDemo consortium in {stack.deployment.name_of('NetworkTable') if stack.deployment else '?'}: "
        f"{seeded['consortium']} consortium, {seeded['members']} members, "
        f"{seeded['libraries']} libraries, {seeded['providers']} providers"
    )
    print(f"\nSample feeds (files in {_rel(report.samples)})")
    for feed in report.drops:
        job = feed.job
        print(f"  s3://{feed.bucket}/{feed.key}  ({feed.records} records in the file)")
        print(f"    job {feed.job_id}: {feed.status}, read {job.get('records_read', 0)}: {_counts(job)}")
        for reject in (job.get("rejects") or [])[:5]:
            print(
                f"      rejected #{reject.get('position')} {reject.get('source_id') or ''}: {reject.get('reason')}"
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
    sample = _rel(report.drops[0].path) if report and report.drops else "FILE"
    name = sample.rsplit("/", 1)[-1]
    print("\nTry")
    print(f"  curl -s {api}/bibs/{record}")
    print(f"  curl -s -H 'Accept: application/json' {api}/bibs/{record}")
    print(f"  curl -s {api}/feeds/jobs/{job}")
    if bucket:
        endpoint = stack.endpoint_url
        print(f"  netzone feed push {sample} --provider harbor")
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
