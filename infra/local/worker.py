"""One long-lived worker process per function: the local stand-in for a warm Lambda sandbox.

`Worker` starts `python infra/local/sandbox.py MODULE FUNCTION FD` with the function's
environment (`lambda_environment`: the template's variables plus what the Lambda runtime sets),
writes one JSON request per line to its stdin and reads one JSON result per line from a private
pipe. One invocation runs at a time per function. A handler exception is an error result (the
sandbox lives on); a timeout or a crash kills the sandbox, and the next invocation starts a fresh
one, as on Lambda. The sandbox's stdout and stderr go to the function's log file.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from local.template import FunctionSpec

SANDBOX = Path(__file__).resolve().with_name("sandbox.py")

# Host variables a sandbox may see; everything else comes from the template and from what the
# Lambda runtime itself sets.
_HOST_VARIABLES = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "SYSTEMROOT", "VIRTUAL_ENV")


def lambda_environment(
    spec: FunctionSpec,
    *,
    region: str,
    endpoint_url: str | None,
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    """The environment a function sees: host basics, Lambda's runtime variables, the template's."""
    env = {key: os.environ[key] for key in _HOST_VARIABLES if key in os.environ}
    env.update(
        {
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
            "AWS_EC2_METADATA_DISABLED": "true",
            "POWERTOOLS_TRACE_DISABLED": "1",
            "PYTHONUNBUFFERED": "1",
            # Lambda's import path: the code first (/var/task), then the layers (/opt/python).
            "PYTHONPATH": os.pathsep.join(str(path) for path in [spec.code_dir, *spec.layer_dirs]),
        }
    )
    if endpoint_url:
        env["AWS_ENDPOINT_URL"] = endpoint_url
    env.update(spec.environment)
    env.update(extra or {})
    return env


@dataclass
class Invocation:
    """What one call gave: `result` when ok, else Lambda's error shape in `error`."""

    request_id: str
    ok: bool
    result: Any = None
    error: dict | None = None
    duration_ms: float = 0.0

    @property
    def error_message(self) -> str:
        return f"{self.error['errorType']}: {self.error['errorMessage']}" if self.error else ""


class Worker:
    """The warm sandbox of one function."""

    def __init__(self, spec: FunctionSpec, env: dict[str, str], log_path: str | Path):
        self.spec = spec
        self.env = env
        self.log_path = Path(log_path)
        self.init_error: dict | None = None
        self.init_ms: float | None = None
        self.invocations = 0
        self.errors = 0
        self._lock = threading.Lock()  # one invocation at a time
        self._spawn_lock = threading.Lock()  # guards _process and _stopped: no start after stop
        self._process: subprocess.Popen | None = None
        self._results: queue.Queue = queue.Queue()
        self._ready = threading.Event()
        self._stopped = False

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self) -> None:
        """Start the sandbox; it imports the handler in the background (see `wait_ready`)."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        read_fd, write_fd = os.pipe()
        try:
            with self._spawn_lock, open(self.log_path, "ab") as log:
                if self._stopped:
                    raise RuntimeError(f"{self.spec.logical_id}: worker is stopped")
                self._process = subprocess.Popen(
                    [sys.executable, str(SANDBOX), self.spec.module, self.spec.function, str(write_fd)],
                    stdin=subprocess.PIPE,
                    stdout=log,
                    stderr=log,
                    env=self.env,
                    cwd=str(self.spec.code_dir),
                    pass_fds=(write_fd,),
                    start_new_session=True,  # its own process group, stopped as one
                )
        except BaseException:
            os.close(read_fd)
            raise
        finally:
            os.close(write_fd)
        self._results = queue.Queue()
        self._ready = threading.Event()
        threading.Thread(
            target=self._read_results,
            args=(os.fdopen(read_fd, "r", encoding="utf-8"), self._results, self._ready),
            name=f"{self.spec.logical_id}-results",
            daemon=True,
        ).start()

    def _read_results(self, pipe: Any, results: queue.Queue, ready: threading.Event) -> None:
        with pipe:
            for line in pipe:
                message = json.loads(line)
                if message.get("type") == "ready":
                    self.init_error = message.get("error")
                    self.init_ms = message.get("init_ms")
                    ready.set()
                else:
                    results.put(message)
        results.put(None)  # the sandbox ended
        ready.set()

    def wait_ready(self, timeout: float = 60.0) -> bool:
        """Wait for the init phase; False when the handler could not be imported (`init_error`)."""
        if not self._ready.wait(timeout):
            raise TimeoutError(f"{self.spec.logical_id}: sandbox not ready after {timeout:.0f} s")
        return self.init_error is None

    def invoke(self, event: Any, *, timeout: float | None = None) -> Invocation:
        """Run the handler once, serially per function; never raises for handler failures."""
        with self._lock:
            if self._stopped:
                raise RuntimeError(f"{self.spec.logical_id}: worker is stopped")
            if self._process is None or self._process.poll() is not None:
                self._kill()
                self.start()
            limit = float(self.spec.timeout if timeout is None else timeout)
            request_id = str(uuid.uuid4())
            request = {
                "request_id": request_id,
                "function_arn": self.spec.arn,
                "deadline_ms": int(time.time() * 1000 + limit * 1000),
                "event": event,
            }
            invocation = self._call(request, limit)
            self.invocations += 1
            self.errors += 0 if invocation.ok else 1
            return invocation

    def _call(self, request: dict, limit: float) -> Invocation:
        request_id = request["request_id"]
        process = self._process
        assert process is not None and process.stdin is not None
        try:
            process.stdin.write(json.dumps(request, separators=(",", ":")).encode() + b"\n")
            process.stdin.flush()
            # A cold start (import) counts against the timeout, as on Lambda; plus a little slack.
            message = self._results.get(timeout=limit + 1.0)
        except queue.Empty:
            self._kill()
            with open(self.log_path, "a", encoding="utf-8") as log:
                log.write(
                    f"{datetime.now(UTC).isoformat()} {request_id} Task timed out after {limit:.2f} seconds\n"
                )
            return Invocation(
                request_id,
                ok=False,
                error={
                    "errorType": "Sandbox.Timedout",
                    "errorMessage": f"{request_id} Task timed out after {limit:.2f} seconds",
                },
            )
        except (OSError, ValueError):  # the sandbox is gone (broken pipe, closed by stop())
            message = None
        if message is None:
            code = process.wait()
            self._kill()
            return Invocation(
                request_id,
                ok=False,
                error={
                    "errorType": "Runtime.ExitError",
                    "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: exit status {code}",
                },
            )
        return Invocation(
            request_id,
            ok=message["ok"],
            result=message.get("result"),
            error=message.get("error"),
            duration_ms=message.get("duration_ms", 0.0),
        )

    def _kill(self) -> None:
        with self._spawn_lock:
            process, self._process = self._process, None
        if process is None:
            return
        if process.stdin:
            with contextlib.suppress(OSError):
                process.stdin.close()
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def stop(self, grace: float = 2.0) -> None:
        """Close stdin (the sandbox exits on EOF); terminate its process group if it lingers.

        Does not wait for a running invocation: a sandbox is killed the way Lambda kills one.
        """
        with self._spawn_lock:
            self._stopped = True
            process = self._process
        if process is None:
            return
        if process.stdin:
            with contextlib.suppress(OSError):
                process.stdin.close()
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            for sig in (signal.SIGTERM, signal.SIGKILL):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(process.pid, sig)
                try:
                    process.wait(timeout=grace)
                    break
                except subprocess.TimeoutExpired:
                    continue
