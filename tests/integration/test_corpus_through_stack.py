"""Every file of ../shared/corpus that holds MARC (the deliberately broken pymarc, marc4j,
ruby-marc and Evergreen records included) goes through the local stack: no crash, every record
accounted for, each bad record reported with the reason `feed check` gives offline."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from harness import Stack, running_stack, wait_for

from netzone.ingest import check
from netzone.jobs import FINISHED, job_id_for
from netzone.screening import CheckReport

pytestmark = pytest.mark.integration

PROVIDER = "corpus"


def _marc_files(corpus: Path) -> dict[str, tuple[Path, CheckReport]]:
    """Feed key -> (file, what feed check makes of it), for every corpus file that holds MARC."""
    found = {}
    for path in sorted(p for p in corpus.rglob("*") if p.is_file()):
        with open(path, "rb") as stream:
            report = check(stream, max_rejects=10_000)
        if report.format in ("iso2709", "marcxml", "marc-json") and report.records_read:
            name = re.sub(r"[^A-Za-z0-9._-]", "_", str(path.relative_to(corpus)))
            found[f"feeds/{PROVIDER}/{name}"] = (path, report)
    return found


def test_every_marc_file_of_the_corpus_goes_through_the_stack_with_every_record_accounted_for(
    corpus: Path, tmp_path: Path
) -> None:
    files = _marc_files(corpus)
    assert len(files) > 100, "the corpus holds a few hundred MARC files"
    with running_stack(tmp_path) as stack:
        stack.register_provider(PROVIDER)
        bucket = stack.state["outputs"]["FeedBucketName"]
        s3 = stack.client("s3")
        jobs = {}
        for key, (path, _) in files.items():
            etag = s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())["ETag"]
            jobs[key] = job_id_for(bucket, key, etag)

        def finished() -> dict | None:
            states = {}
            for key, job_id in jobs.items():
                response = stack.get(f"/feeds/jobs/{job_id}")
                if response.status_code != 200:
                    return None
                body = response.json()
                if body["status"] not in FINISHED:
                    return None
                states[key] = body
            return states

        try:
            done = wait_for(finished, 600, f"{len(jobs)} corpus feed jobs", interval=2)
        except BaseException:
            print(stack.log_tail())
            raise
        _assert_nothing_crashed(stack)

    problems = [
        problem for key, (path, offline) in files.items() for problem in _problems(path, offline, done[key])
    ]
    assert not problems, "\n".join(problems[:30])


def _problems(path: Path, offline: CheckReport, job: dict) -> list[str]:
    """How the stack's job for a corpus file differs from what feed check said offline."""
    counted = sum(job["counts"].values())
    if job["status"] != "completed":
        return [f"{path.name}: {job['status']} ({job.get('error')})"]
    if job["records_read"] != offline.records_read or counted != job["records_read"]:
        return [f"{path.name}: read {job['records_read']} of {offline.records_read}, counted {counted}"]
    if job["counts"]["rejected"] < offline.rejected:
        return [f"{path.name}: {job['counts']['rejected']} rejected, feed check says {offline.rejected}"]
    listed = {r["position"]: r["reason"] for r in job["rejects"]}
    return [
        f"{path.name} #{reject.position}: {listed.get(reject.position)!r}"
        for reject in offline.rejects[: len(job["rejects"])]
        if listed.get(reject.position) != reject.reason
    ]


def _assert_nothing_crashed(stack: Stack) -> None:
    """No feed or batch ended in a dead-letter queue, and no handler raised."""
    sqs = stack.client("sqs")
    for logical_id in ("FeedIngestDeadLetterQueue", "MatchDeadLetterQueue"):
        url = stack.state["resources"][logical_id]["url"]
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
        assert attributes["Attributes"]["ApproximateNumberOfMessages"] == "0", logical_id
    for log in stack.logs.glob("*.log"):
        text = log.read_text(errors="replace")
        errors = [json.loads(line) for line in text.splitlines() if line.startswith('{"level":"ERROR"')]
        assert not errors, f"{log.name}: {errors[:2]}"
