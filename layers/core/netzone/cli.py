"""`netzone`: the command line for providers and staff.

    netzone feed push FILE --provider CODE [--wait]   drop a feed file into the feed bucket
    netzone feed status JOB [--json]                   a feed job's status and counts
    netzone feed check FILE [--json] [--max-rejects N] what ingest would accept and reject (offline)
    netzone login USERNAME [--password P] [--new-password N]
                                                       print a staff ID token for the network API

The same code talks to AWS and to the local stack: with `--stack NAME` (or NETZONE_STACK) it
reads the stack's outputs from CloudFormation with your AWS credentials; otherwise it uses the
running local stack (`make run` writes .netzone/local.json; NETZONE_LOCAL_STATE overrides).
`feed check` needs neither: it reads the file with the ingest's own reader and validation.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import boto3

from netzone.adapters.job_store import DynamoJobStore
from netzone.adapters.s3 import ReportObjects
from netzone.ingest import check
from netzone.jobs import FINISHED, FeedJob, job_id_for
from netzone.providers import PROVIDER_CODE, feed_key
from netzone.screening import CheckReport

LOCAL_STATE = Path(".netzone") / "local.json"


class CliError(Exception):
    pass


@dataclass
class Target:
    """Where the stack's resources are: names from stack outputs, and how to reach them."""

    description: str
    feed_bucket: str
    jobs_table: str
    api_url: str | None = None
    staff_client_id: str | None = None


def _local_state_path() -> Path | None:
    explicit = os.environ.get("NETZONE_LOCAL_STATE")
    if explicit:
        return Path(explicit)
    for folder in (Path.cwd(), *Path.cwd().parents, Path(__file__).resolve().parents[3]):
        if (folder / LOCAL_STATE).is_file():
            return folder / LOCAL_STATE
    return None


def resolve_target(stack: str | None) -> Target:
    stack = stack or os.environ.get("NETZONE_STACK")
    if stack:
        try:
            described = boto3.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
        except Exception as error:
            raise CliError(f"cannot read stack {stack!r}: {error}") from error
        outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
        return Target(
            f"stack {stack}", outputs["FeedBucketName"], outputs["JobsTableName"], outputs.get("ApiUrl")
        )
    path = _local_state_path()
    if path is None or not path.is_file():
        raise CliError(
            "no stack to talk to: pass --stack NAME (or set NETZONE_STACK) for AWS, "
            "or start the local stack with `make run`"
        )
    state = json.loads(path.read_text())
    # The local stack is moto on loopback: point boto3 at it, with the dummy credentials it takes.
    if state.get("aws_endpoint"):
        os.environ["AWS_ENDPOINT_URL"] = state["aws_endpoint"]
    os.environ.setdefault("AWS_DEFAULT_REGION", state.get("region", "us-east-1"))
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    outputs = state["outputs"]
    return Target(
        f"local stack at {state.get('aws_endpoint', 'in-process')}",
        outputs["FeedBucketName"],
        outputs["JobsTableName"],
        state.get("api_url"),
        outputs.get("StaffUserPoolClientId"),
    )


def push(target: Target, path: Path, provider: str, name: str | None = None) -> tuple[str, str]:
    """Upload a feed file (multipart for large files, streamed from disk); returns (key, job id)."""
    if not path.is_file():
        raise CliError(f"{path} is not a file")
    if not PROVIDER_CODE.match(provider):
        raise CliError(f"provider code {provider!r} must be lower-case letters, digits, '.', '_' or '-'")
    key = feed_key(provider, name or path.name)
    s3 = boto3.client("s3")
    s3.upload_file(str(path), target.feed_bucket, key)
    head = s3.head_object(Bucket=target.feed_bucket, Key=key)
    return key, job_id_for(target.feed_bucket, key, head["ETag"])


def login(target: Target, username: str, password: str, new_password: str | None = None) -> str:
    """A staff user's ID token (what API Gateway's Cognito authorizer checks), by USER_PASSWORD_AUTH.
    At the first sign-in (the temporary password Cognito sent), `new_password` becomes the user's own."""
    if not target.staff_client_id:
        raise CliError("the stack has no StaffUserPoolClientId output")
    cognito = boto3.client("cognito-idp")
    try:
        response = cognito.initiate_auth(
            ClientId=target.staff_client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password},
        )
    except cognito.exceptions.NotAuthorizedException as error:
        raise CliError("wrong username or password") from error
    except cognito.exceptions.UserNotFoundException as error:
        raise CliError("wrong username or password") from error
    if response.get("ChallengeName") == "NEW_PASSWORD_REQUIRED":
        if not new_password:
            raise CliError(
                "first sign-in with the temporary password: choose your own with --new-password "
                "(at least 12 characters with upper and lower case letters and a digit)"
            )
        try:
            response = cognito.respond_to_auth_challenge(
                ClientId=target.staff_client_id,
                ChallengeName="NEW_PASSWORD_REQUIRED",
                Session=response["Session"],
                ChallengeResponses={"USERNAME": username, "NEW_PASSWORD": new_password},
            )
        except cognito.exceptions.InvalidPasswordException as error:
            raise CliError(f"the new password is refused: {error.response['Error']['Message']}") from error
    if "AuthenticationResult" not in response:
        raise CliError(f"sign-in needs {response.get('ChallengeName')}, which this command does not handle")
    return response["AuthenticationResult"]["IdToken"]


def wait_for(jobs: DynamoJobStore, job_id: str, timeout: float, poll: float = 1.0) -> FeedJob | None:
    deadline = time.monotonic() + timeout
    job = None
    while time.monotonic() < deadline:
        job = jobs.get(job_id)
        if job is not None and job.status in FINISHED:
            return job
        time.sleep(poll)
    return job


def describe(job: FeedJob) -> str:
    counts = ", ".join(f"{name} {count}" for name, count in job.counts.items())
    lines = [
        f"job {job.job_id}  {job.status}  provider {job.provider}  s3://{job.feed.bucket}/{job.feed.key}",
        f"  format {job.format or '-'}  records read {job.records_read if job.records_read is not None else '(reading)'}",
        f"  {counts}",
    ]
    if job.error:
        lines.append(f"  error: {job.error}")
    for reject in job.rejects[:20]:
        lines.append(f"  reject #{reject.position} {reject.source_id or '-'}: {reject.reason}")
    if len(job.rejects) > 20 or job.rejects_truncated:
        lines.append("  (more rejects: use --json)")
    if job.report_key:
        lines.append(f"  report s3://{job.feed.bucket}/{job.report_key}: netzone feed report {job.job_id}")
    if job.rejects_key:
        lines.append(f"  rejected records, ready to fix and resend: s3://{job.feed.bucket}/{job.rejects_key}")
    return "\n".join(lines)


def fetch_report(target: Target, job: FeedJob) -> dict:
    if not job.report_key:
        raise CliError(
            f"job {job.job_id} is {job.status} and has no report yet; a report is written when the job "
            "completes or fails (netzone feed status shows its progress)"
        )
    body = ReportObjects(target.feed_bucket).get(job.report_key)
    if body is None:
        raise CliError(f"the report s3://{target.feed_bucket}/{job.report_key} is gone")
    return json.loads(body)


def describe_report(report: dict, max_rejects: int) -> str:
    counts = ", ".join(f"{name} {count}" for name, count in report["counts"].items())
    timings = report["timings"]
    lines = [
        f"job {report['job_id']}  {report['status']}  provider {report['provider']}  "
        f"s3://{report['feed']['bucket']}/{report['feed']['key']}",
        f"  format {report['format'] or '-'}  feed mode {report['feed_mode'] or '-'}  "
        + (
            "no record read"  # a job that failed before reading (unknown provider, unreadable file)
            if report["records_read"] is None
            else f"records read {report['records_read']}  accounted {'yes' if report['accounted'] else 'NO'}"
        ),
        f"  {counts}",
        f"  withdrawn because the full file no longer held them: {report['withdrawn_absent']}",
    ]
    if timings["reading_seconds"] is not None:  # a job that failed before the end was not read
        lines.append(f"  read in {timings['reading_seconds']} s, finished in {timings['total_seconds']} s")
    if report.get("error"):
        lines.append(f"  error: {report['error']}")
    if report.get("records_file"):
        lines.append(f"  each record's outcome and network record: {report['records_file']}")
    for reason, count in sorted(report["reject_reasons"].items(), key=lambda item: -item[1]):
        lines.append(f"  {count:>6} rejected: {reason}")
    for reject in report["rejects"][:max_rejects]:
        lines.append(f"  reject #{reject['position']} {reject.get('source_id') or '-'}: {reject['reason']}")
    if len(report["rejects"]) > max_rejects:
        lines.append(f"  ({len(report['rejects']) - max_rejects} more rejects: --max-rejects N or --json)")
    if report.get("rejects_left_out"):  # past the report's cap (jobs.MAX_REPORT_REJECTS)
        lines.append(f"  ({report['rejects_left_out']} more rejects counted, not listed in the report)")
    if report.get("rejects_file_left_out"):
        lines.append(f"  ({report['rejects_file_left_out']} rejected records are not in the rejects file)")
    return "\n".join(lines)


def check_file(path: Path, max_rejects: int) -> CheckReport:
    """`feed check`: offline, no AWS; a file that cannot be opened is a usage error."""
    if str(path) == "-":
        return check(sys.stdin.buffer, max_rejects=max_rejects)
    if not path.is_file():
        raise CliError(f"{path} is not a file")
    try:
        with open(path, "rb") as stream:
            return check(stream, max_rejects=max_rejects)
    except OSError as error:
        raise CliError(f"cannot read {path}: {error.strerror or error}") from error


def describe_check(path: Path, report: CheckReport) -> str:
    lines = [f"{path}: {report.format or 'not MARC'}"]
    if report.format or report.records_read:
        lines.append(
            f"  records read {report.records_read}  accepted {report.accepted}  "
            f"rejected {report.rejected}  with warnings {report.records_with_warnings}"
        )
    for reason, count in sorted(report.reasons.items(), key=lambda item: -item[1]):
        lines.append(f"  {count:>6} rejected: {reason}")
    for reject in report.rejects:
        where = f" at byte {reject.offset}" if reject.offset is not None else ""
        lines.append(f"  reject #{reject.position}{where} {reject.source_id or '-'}: {reject.reason}")
    if report.rejected > len(report.rejects):
        lines.append(f"  ({report.rejected - len(report.rejects)} more rejects: --max-rejects N or --json)")
    for note in report.warnings:
        for text in note.warnings:
            lines.append(f"  warning #{note.position} {note.source_id or '-'}: {text}")
    if report.records_with_warnings > len(report.warnings):
        lines.append(f"  ({report.records_with_warnings - len(report.warnings)} more records with warnings)")
    if report.error:
        lines.append(f"  error: {report.error}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="netzone", description="netzone: a Network Zone for library consortia"
    )
    parser.add_argument(
        "--stack", help="CloudFormation stack name on AWS (default: NETZONE_STACK, else the local stack)"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    feed = commands.add_parser("feed", help="provider feeds").add_subparsers(dest="action", required=True)

    push_cmd = feed.add_parser("push", help="drop a feed file into the feed bucket")
    push_cmd.add_argument("file", type=Path)
    push_cmd.add_argument("--provider", required=True, help="provider code, e.g. harbor")
    push_cmd.add_argument("--name", help="object name under feeds/<provider>/ (default: the file's name)")
    push_cmd.add_argument("--wait", action="store_true", help="wait until the job completes and print it")
    push_cmd.add_argument(
        "--timeout", type=float, default=600, help="seconds to wait with --wait (default 600)"
    )

    status_cmd = feed.add_parser("status", help="a feed job's status and counts")
    status_cmd.add_argument("job")
    status_cmd.add_argument("--json", action="store_true", help="print the job as JSON")

    report_cmd = feed.add_parser(
        "report", help="a finished job's report: counts, timings, every reject with its reason"
    )
    report_cmd.add_argument("job")
    report_cmd.add_argument(
        "--max-rejects", type=int, default=20, metavar="N", help="rejects to list (default 20)"
    )
    report_cmd.add_argument("--json", action="store_true", help="print the report object as stored")

    check_cmd = feed.add_parser(
        "check",
        help="read a feed file as ingest would, offline: counts and the first rejects",
        description="Exit status: 0 nothing would be rejected, 1 some records would be, "
        "2 the file cannot be read (not MARC, broken gzip) or a usage error.",
    )
    check_cmd.add_argument(
        "file", type=Path, help="MARC21, MARCXML or MARC-in-JSON, plain or gzip; - for stdin"
    )
    check_cmd.add_argument(
        "--max-rejects", type=int, default=20, metavar="N", help="rejects to list (default 20)"
    )
    check_cmd.add_argument("--json", action="store_true", help="print the report as JSON")

    login_cmd = commands.add_parser(
        "login", help='print a staff ID token: curl -H "Authorization: $TOKEN" ...'
    )
    login_cmd.add_argument("username")
    login_cmd.add_argument("--password", help="default: NETZONE_PASSWORD, else asked for")
    login_cmd.add_argument(
        "--new-password", help="at the first sign-in: your own password, replacing the temporary one"
    )

    args = parser.parse_args(argv)
    try:
        if args.command == "feed" and args.action == "check":
            # Offline: no stack, no credentials, no boto3 client.
            if args.max_rejects < 0:
                raise CliError("--max-rejects must be 0 or more")
            report = check_file(args.file, args.max_rejects)
            if args.json:
                print(
                    json.dumps(
                        {"file": str(args.file), **report.model_dump(), "exit_status": report.exit_status},
                        indent=2,
                        ensure_ascii=False,
                    )
                )
            else:
                print(describe_check(args.file, report))
            return report.exit_status
        target = resolve_target(args.stack)
        if args.command == "login":
            password = args.password or os.environ.get("NETZONE_PASSWORD") or getpass.getpass("password: ")
            print(login(target, args.username, password, args.new_password))
            return 0
        jobs = DynamoJobStore(target.jobs_table)
        if args.action == "push":
            key, job_id = push(target, args.file, args.provider, args.name)
            print(f"uploaded s3://{target.feed_bucket}/{key} ({target.description})")
            print(f"job {job_id}: netzone feed status {job_id}")
            if args.wait:
                job = wait_for(jobs, job_id, args.timeout)
                if job is None:
                    raise CliError(f"job {job_id} did not start within {args.timeout:.0f} s")
                print(describe(job))
                return 0 if job.status == "completed" else 1
            return 0
        job = jobs.get(args.job)
        if job is None:
            raise CliError(f"no feed job {args.job!r} (a job appears once its file starts being read)")
        if args.action == "report":
            report = fetch_report(target, job)
            print(
                json.dumps(report, indent=2, ensure_ascii=False)
                if args.json
                else describe_report(report, args.max_rejects)
            )
            return 0
        print(job.model_dump_json(indent=2) if args.json else describe(job))
        return 0
    except CliError as error:
        print(f"netzone: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
