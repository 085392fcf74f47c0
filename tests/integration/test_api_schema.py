"""schemathesis against the local stack's OpenAPI document: every operation, every check.

A bounded, repeatable run (a fixed seed, a few examples per operation, one worker) as a central-
office administrator, so every route is reachable. It must find no 5xx, no response that breaks
its documented status, content type or schema, and nothing else any check calls a failure: the
document tells the truth, so a schema-driven tester can find real defects (issue 11).
The figures (operations, requests, statuses) are printed; run with -s to see them.
"""

from __future__ import annotations

import collections
import json
import subprocess
import sys
from pathlib import Path

import pytest
from harness import Stack, sign_in

CONFIG = Path(__file__).resolve().parent / "schemathesis.toml"
SEED = 20261206
MAX_EXAMPLES = 25
SCHEMA_CHECKS = ("response_schema_conformance", "content_type_conformance", "status_code_conformance")


@pytest.fixture(scope="module")
def central_token(netzone_stack: Stack) -> str:
    return sign_in(netzone_stack, "schema-central", ["central_admin"])["IdToken"]


def _run(stack: Stack, token: str, report_dir: Path) -> tuple[subprocess.CompletedProcess, list[dict]]:
    st = Path(sys.executable).with_name("st")
    command = [
        str(st),
        "--config-file",
        str(CONFIG),
        "run",
        f"{stack.api}/openapi.json",
        "--url",
        stack.api,
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        "all",
        "--seed",
        str(SEED),
        "--max-examples",
        str(MAX_EXAMPLES),
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--report",
        "ndjson",
        "--report-dir",
        str(report_dir),
    ]
    # cwd: schemathesis keeps a cache folder (.schemathesis) where it runs.
    finished = subprocess.run(
        command, capture_output=True, text=True, timeout=900, check=False, cwd=report_dir
    )
    (report,) = report_dir.glob("*.ndjson")
    events = [json.loads(line) for line in report.read_text().splitlines() if line.strip()]
    return finished, events


def _figures(events: list[dict]) -> dict:
    statuses: collections.Counter[int] = collections.Counter()
    failed: collections.Counter[str] = collections.Counter()
    operations = set()
    for event in events:
        scenario = event.get("ScenarioFinished")
        if not scenario:
            continue
        recorder = scenario["recorder"]
        operations.add(recorder["label"])
        for interaction in (recorder.get("interactions") or {}).values():
            response = interaction.get("response") or {}
            if "status_code" in response:
                statuses[response["status_code"]] += 1
        for checks in (recorder.get("checks") or {}).values():
            for check in checks:
                if check["status"] != "success":
                    failed[check["name"]] += 1
    return {"operations": operations, "statuses": statuses, "failed": failed}


def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    netzone_stack: Stack, central_token: str, tmp_path: Path
) -> None:
    finished, events = _run(netzone_stack, central_token, tmp_path)
    figures = _figures(events)
    requests_sent = sum(figures["statuses"].values())
    server_errors = sum(n for status, n in figures["statuses"].items() if status >= 500)
    print(
        f"schemathesis {len(figures['operations'])} operations, {requests_sent} requests, "
        f"statuses {dict(sorted(figures['statuses'].items()))}, "
        f"5xx {server_errors}, failed checks {dict(figures['failed'])}"
    )
    assert len(figures["operations"]) >= 41 and requests_sent > 1000, finished.stdout[-3000:]
    assert server_errors == 0, finished.stdout[-5000:]
    assert not any(figures["failed"][name] for name in SCHEMA_CHECKS), finished.stdout[-5000:]
    assert finished.returncode == 0 and not figures["failed"], finished.stdout[-5000:]
