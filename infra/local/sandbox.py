"""The process inside one worker: a warm Lambda sandbox for one function (stdlib only).

Started by `local.worker.Worker` as `python sandbox.py MODULE FUNCTION RESULT_FD` with the
function's environment. It imports the handler once, then reads one JSON request per line on
stdin and writes one JSON result per line to RESULT_FD (a private pipe). Its stdout (print,
Powertools' JSON logs) goes to stderr, which the parent sends to the function's log file, with
Lambda's START/END/REPORT lines around each invocation.

Nothing outside the standard library is imported before the handler, and this file's directory
is taken off sys.path, so the handler sees the import path Lambda gives it: the code directory,
then the layers (PYTHONPATH).
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any


class LambdaContext:
    """The context object of the Python Lambda runtime (awslambdaric's attributes)."""

    def __init__(self, request_id: str, function_arn: str, deadline_ms: int):
        self.aws_request_id = request_id
        self.invoked_function_arn = function_arn
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        # A string, as on Lambda: the runtime copies AWS_LAMBDA_FUNCTION_MEMORY_SIZE.
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.identity = None
        self.client_context = None
        self.tenant_id = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))

    def __repr__(self) -> str:
        return f"LambdaContext(function_name={self.function_name!r}, aws_request_id={self.aws_request_id!r})"


def error_of(exc: BaseException, error_type: str | None = None) -> dict:
    """Lambda's error shape for an exception."""
    return {
        "errorMessage": str(exc),
        "errorType": error_type or type(exc).__name__,
        "stackTrace": traceback.format_list(traceback.extract_tb(exc.__traceback__)),
    }


def _log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


class Sandbox:
    def __init__(self, module_name: str, function_name: str):
        self.module_name = module_name
        self.function_name = function_name
        self.handler: Callable[[Any, LambdaContext], Any] | None = None
        self.init_error: dict | None = None

    def load(self) -> None:
        """The init phase: import the handler's module (again after a failed attempt)."""
        try:
            module = importlib.import_module(self.module_name)
            self.handler = getattr(module, self.function_name)
            self.init_error = None
        except Exception as exc:
            kind = (
                "Runtime.HandlerNotFound" if isinstance(exc, AttributeError) else "Runtime.ImportModuleError"
            )
            self.init_error = error_of(exc, kind)
            self.init_error["errorMessage"] = f"Unable to import module '{self.module_name}': {exc}"
            traceback.print_exc()

    def invoke(self, request: dict) -> dict:
        if self.handler is None:
            self.load()  # Lambda repeats the init phase on the next invocation
        if self.handler is None:
            return {"ok": False, "error": self.init_error}
        context = LambdaContext(request["request_id"], request["function_arn"], request["deadline_ms"])
        try:
            result = self.handler(request["event"], context)
        except Exception as exc:
            return {"ok": False, "error": error_of(exc)}
        finally:
            sys.stdout.flush()
        try:
            return {"ok": True, "result": json.loads(json.dumps(result))}
        except (TypeError, ValueError) as exc:
            return {"ok": False, "error": error_of(exc, "Runtime.MarshalError")}


def main(module_name: str, function_name: str, result_fd: int) -> None:
    results = os.fdopen(result_fd, "w", encoding="utf-8")
    os.dup2(2, 1)  # handler output goes to stderr: the function's log file

    def send(message: dict) -> None:
        results.write(json.dumps(message, separators=(",", ":")) + "\n")
        results.flush()

    sandbox = Sandbox(module_name, function_name)
    started = time.perf_counter()
    sandbox.load()
    send(
        {
            "type": "ready",
            "ok": sandbox.init_error is None,
            "error": sandbox.init_error,
            "init_ms": _ms(started),
        }
    )

    for line in sys.stdin.buffer:  # EOF (the parent closed stdin or died) ends the sandbox
        if not line.strip():
            continue
        request = json.loads(line)
        request_id = request["request_id"]
        _log(f"START RequestId: {request_id} Version: $LATEST")
        started = time.perf_counter()
        response = sandbox.invoke(request)
        duration = _ms(started)
        if not response["ok"]:
            error = response["error"]
            _log(f"[ERROR] {error['errorType']}: {error['errorMessage']}\n{''.join(error['stackTrace'])}")
        _log(f"END RequestId: {request_id}")
        _log(
            f"REPORT RequestId: {request_id}\tDuration: {duration:.2f} ms\t"
            f"Memory Size: {os.environ.get('AWS_LAMBDA_FUNCTION_MEMORY_SIZE')} MB\tMax Memory Used: {_max_rss_mb()} MB"
        )
        send({"type": "result", "request_id": request_id, "duration_ms": duration, **response})


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def _max_rss_mb() -> int:
    try:
        import resource
    except ImportError:  # pragma: no cover - not a Unix
        return 0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [entry for entry in sys.path if os.path.abspath(entry or ".") != here]
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
