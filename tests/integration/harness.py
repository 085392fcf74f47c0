"""Start the whole local stack (`python -m local.run --no-demo`) in a subprocess, and drive it.

`running_stack` picks free ports, gives the stack its own state file, waits for the ready line,
and on exit stops it with SIGINT like Ctrl-C and checks that moto and the workers are gone and
the state file is removed.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from netzone.adapters.dynamodb import to_item

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
READY = "netzone local stack ready"
START_TIMEOUT = 60
PASSWORD = "Integration-test-2026"  # staff users the tests create and sign in


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(FileNotFoundError):  # a zombie is gone for our purposes
        if Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z":
            return False
    return True


@dataclass
class Stack:
    state: dict[str, Any]
    output: list[str]
    state_path: Path
    started_in: float
    _clients: dict[str, Any] = field(default_factory=dict)

    @property
    def api(self) -> str:
        return self.state["api_url"]

    @property
    def endpoint(self) -> str:
        return self.state["aws_endpoint"]

    @property
    def logs(self) -> Path:
        return Path(self.state["logs"])

    def name(self, logical_id: str) -> str:
        return self.state["resources"][logical_id]["name"]

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = boto3.client(
                service, endpoint_url=self.endpoint, region_name="us-east-1"
            )
        return self._clients[service]

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return requests.get(self.api + path, timeout=30, **kwargs)

    def register_provider(self, code: str, **fields: Any) -> dict:
        """Put a provider in the registry, as the central office would: feeds from providers
        the network does not know are rejected."""
        from netzone.adapters.network_store import object_key
        from netzone.network import Provider, Ref

        provider = Provider(
            code=code,
            name=fields.pop("name", code),
            formats=fields.pop("formats", ["marc21", "marcxml", "marc-json", "kbart"]),
            version=1,
            **fields,
        )
        item = {
            "pk": "NETWORK",
            "sk": object_key(Ref("provider", code)),
            **provider.model_dump(exclude_none=True),
        }
        self.client("dynamodb").put_item(TableName=self.name("NetworkTable"), Item=to_item(item))
        return item

    def drop_feed(self, path: Path, provider: str, *, register: bool = True) -> str:
        """Drop a feed file under feeds/<provider>/ (registering the provider first); its job id."""
        from netzone.jobs import job_id_for

        if register:
            self.register_provider(provider)
        bucket = self.state["outputs"]["FeedBucketName"]
        key = f"feeds/{provider}/{path.name}"
        etag = self.client("s3").put_object(Bucket=bucket, Key=key, Body=path.read_bytes())["ETag"]
        return job_id_for(bucket, key, etag)

    def log_tail(self, lines: int = 40) -> str:
        parts = []
        for path in sorted(self.logs.glob("*.log")):
            if path.name != "moto.log":
                parts.append(
                    f"--- {path.name}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
                )
        return "\n".join(parts)


def sign_in(stack: Stack, username: str, groups: list[str], member: str | None = None) -> dict:
    """A staff user in the stack's pool, signed in: the AuthenticationResult (IdToken, AccessToken)."""
    cognito = stack.client("cognito-idp")
    pool = stack.state["outputs"]["StaffUserPoolId"]
    attributes = [{"Name": "email", "Value": f"{username}@example.org"}]
    if member:
        attributes.append({"Name": "custom:member", "Value": member})
    cognito.admin_create_user(UserPoolId=pool, Username=username, UserAttributes=attributes)
    for group in groups:
        cognito.admin_add_user_to_group(UserPoolId=pool, Username=username, GroupName=group)
    cognito.admin_set_user_password(UserPoolId=pool, Username=username, Password=PASSWORD, Permanent=True)
    return cognito.initiate_auth(
        ClientId=stack.state["outputs"]["StaffUserPoolClientId"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": PASSWORD},
    )["AuthenticationResult"]


def wait_for(condition: Callable[[], Any], timeout: float, what: str, interval: float = 0.25) -> Any:
    """Poll until `condition()` is truthy; returns its value or fails the test with `what`."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


@contextlib.contextmanager
def running_stack(workdir: Path, *args: str) -> Iterator[Stack]:
    state_path = workdir / "local.json"
    env = {
        **os.environ,
        "NETZONE_LOCAL_STATE": str(state_path),
        "PYTHONPATH": os.pathsep.join(str(ROOT / part) for part in ("infra", "layers/core", "functions")),
    }
    command = [
        sys.executable,
        "-m",
        "local.run",
        "--no-demo",
        "--moto-port",
        str(free_port()),
        "--api-port",
        str(free_port()),
        *args,
    ]
    started = time.monotonic()
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    )
    output: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line.rstrip("\n"))
            if line.startswith(READY):
                ready.set()
        ready.set()

    threading.Thread(target=read, daemon=True).start()
    if not ready.wait(START_TIMEOUT) or process.poll() is not None:
        process.kill()
        process.wait()
        pytest.fail(f"the local stack did not start within {START_TIMEOUT} s:\n" + "\n".join(output))
    stack = Stack(json.loads(state_path.read_text()), output, state_path, time.monotonic() - started)
    try:
        yield stack
    finally:
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            pytest.fail("the local stack did not stop within 20 s of SIGINT")
        children = [stack.state["moto_pid"], *stack.state["workers"].values()]
        lingering = [pid for pid in children if pid and alive(pid)]
        assert not lingering, f"processes left behind after stopping: {lingering}"
        assert code == 0, "\n".join(output)
        assert not state_path.exists(), "the state file is removed on shutdown"
