"""A worker is a warm Lambda sandbox: imported once, errors reported, timeouts and crashes recovered."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import FIXTURES

from local.template import FunctionSpec
from local.worker import Worker, lambda_environment

pytestmark = pytest.mark.integration

CODE = FIXTURES / "functions"


def spec(handler: str = "worker_probe.app.handler", timeout: int = 5) -> FunctionSpec:
    return FunctionSpec(
        logical_id="ProbeFunction",
        name="fx-ProbeFunction",
        arn="arn:aws:lambda:us-east-1:123456789012:function:fx-ProbeFunction",
        handler=handler,
        runtime="python3.12",
        code_dir=CODE,
        layer_dirs=[],
        environment={"TABLE": "fx-Table"},
        timeout=timeout,
        memory=384,
        events={},
    )


@pytest.fixture
def worker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Worker]:
    monkeypatch.setenv("HOME_SECRET", "not for sandboxes")
    probe = spec()
    started = Worker(
        probe, lambda_environment(probe, region="us-east-1", endpoint_url=None), tmp_path / "probe.log"
    )
    started.start()
    assert started.wait_ready(timeout=30)
    yield started
    started.stop()


def test_the_handler_is_imported_once_and_sees_a_lambda_context(worker: Worker) -> None:
    first = worker.invoke({"n": 1})
    second = worker.invoke({"n": 2})

    assert first.ok and second.ok
    assert first.result["pid"] == second.result["pid"] == worker.pid
    assert first.result["imported_at"] == second.result["imported_at"]  # warm: no second import
    assert first.result["request_id"] != second.result["request_id"]
    assert first.result["function_name"] == "fx-ProbeFunction"
    assert first.result["arn"].endswith(":function:fx-ProbeFunction")
    assert first.result["memory"] == "384"
    assert first.result["log_group"] == "/aws/lambda/fx-ProbeFunction"
    assert 4000 < first.result["remaining_ms"] <= 5000
    assert first.result["env"] == {
        "TABLE": "fx-Table",
        "AWS_REGION": "us-east-1",
        "AWS_LAMBDA_FUNCTION_NAME": "fx-ProbeFunction",
        "HOME_SECRET": None,  # the host's environment does not leak in
    }
    assert first.result["path"][0] == str(CODE)
    log = worker.log_path.read_text()
    assert "cold start" in log and "invoked {'n': 1}" in log and "REPORT RequestId" in log


def test_an_exception_is_an_error_result_and_the_sandbox_lives_on(worker: Worker) -> None:
    pid = worker.pid
    failed = worker.invoke({"action": "raise"})

    assert not failed.ok
    assert failed.error["errorType"] == "KeyError"
    assert "missing thing" in failed.error["errorMessage"]
    assert failed.error["stackTrace"]
    assert worker.invoke({}).ok
    assert worker.pid == pid


def test_an_unserializable_result_is_a_marshal_error(worker: Worker) -> None:
    assert worker.invoke({"action": "unserializable"}).error["errorType"] == "Runtime.MarshalError"


def test_a_timeout_kills_the_sandbox_and_the_next_call_gets_a_fresh_one(worker: Worker) -> None:
    pid = worker.pid
    timed_out = worker.invoke({"action": "sleep", "seconds": 30}, timeout=1)

    assert timed_out.error["errorType"] == "Sandbox.Timedout"
    assert not _alive(pid)
    fresh = worker.invoke({})
    assert fresh.ok and fresh.result["pid"] != pid


def test_a_crash_is_reported_and_recovered(worker: Worker) -> None:
    crashed = worker.invoke({"action": "exit"})

    assert crashed.error["errorType"] == "Runtime.ExitError"
    assert "exit status 3" in crashed.error["errorMessage"]
    assert worker.invoke({}).ok


def test_an_import_error_is_reported_at_init_and_on_every_invocation(tmp_path: Path) -> None:
    broken = spec("worker_probe.broken.handler")
    worker = Worker(
        broken, lambda_environment(broken, region="us-east-1", endpoint_url=None), tmp_path / "b.log"
    )
    worker.start()
    try:
        assert worker.wait_ready(timeout=30) is False
        assert worker.init_error["errorType"] == "Runtime.ImportModuleError"
        failed = worker.invoke({})
        assert failed.error["errorType"] == "Runtime.ImportModuleError"
        assert "this handler's module is broken" in failed.error["errorMessage"]
    finally:
        worker.stop()


def _alive(pid: int | None) -> bool:
    try:
        os.kill(pid, 0)  # type: ignore[arg-type]
    except ProcessLookupError:
        return False
    return True
