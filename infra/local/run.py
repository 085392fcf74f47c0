"""`make run`: the whole of netzone on this machine, no Docker, no AWS account.

    PYTHONPATH=infra:layers/core:functions python -m local.run [--no-demo] [--moto-port N] [--api-port N]

Starts `moto_server` on 127.0.0.1 (its own process), creates every resource of template.yaml
(`local.template`), starts one warm worker per function (`local.worker`), the event-source
pollers (`local.pollers`) and the REST API (`local.api`); then seeds the demo consortium and
drops sample feeds (`local.seed`), prints what happened, writes the state file the CLI reads, and
prints a line starting with "netzone local stack ready". Ctrl-C or SIGTERM stops everything,
moto included, and removes the state file.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import ctypes
import io
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import boto3

from local import summary
from local.api import ApiServer, apis_of, routes_from
from local.authorizer import CognitoVerifier
from local.mailbox import Mailbox, MailboxWatcher
from local.pollers import POLLERS, Poller
from local.template import REPO_ROOT, Deployment, FunctionSpec, TemplateError, deploy, load_template
from local.worker import Worker, lambda_environment

READY = "netzone local stack ready"
HOST = "127.0.0.1"
EVENT_TYPES = ("Api", *POLLERS)  # function event types the local stack delivers

log = logging.getLogger("local")


class StartupError(Exception):
    """The stack cannot start; the message says why and what to do."""


def _parameter(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, not {text!r}")
    return key, value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m local.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--moto-port", type=int, default=int(os.environ.get("MOTO_PORT", 5000)))
    parser.add_argument("--api-port", type=int, default=int(os.environ.get("API_PORT", 3000)))
    parser.add_argument("--template", default=str(REPO_ROOT / "template.yaml"), help="SAM template to run")
    parser.add_argument("--stack-name", default="netzone")
    parser.add_argument(
        "--parameter",
        action="append",
        default=[],
        type=_parameter,
        metavar="KEY=VALUE",
        help="template parameter override",
    )
    parser.add_argument("--no-demo", action="store_true", help="skip the demo consortium and sample feeds")
    parser.add_argument(
        "--state",
        default=os.environ.get("NETZONE_LOCAL_STATE", str(REPO_ROOT / ".netzone" / "local.json")),
        help="state file for the CLI (default .netzone/local.json, or $NETZONE_LOCAL_STATE)",
    )
    parser.add_argument("--demo-timeout", type=float, default=60.0, help="seconds to wait for the demo feeds")
    return parser.parse_args(argv)


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return True
    return False


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: moto gets SIGTERM if the runner dies without cleaning up (kill -9)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class LocalStack:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.state_path = Path(args.state).resolve()
        self.log_dir = self.state_path.parent / "logs"
        self.mailbox = Mailbox(self.state_path.parent / "mailbox.jsonl")
        self.mail_watcher: MailboxWatcher | None = None
        self.endpoint_url = f"http://{HOST}:{args.moto_port}"
        self.region = "us-east-1"
        self.moto: subprocess.Popen | None = None
        self.deployment: Deployment | None = None
        self.workers: dict[str, Worker] = {}
        self.pollers: list[Poller] = []
        self.api: ApiServer | None = None
        self.stopping = threading.Event()
        self._stopped = False
        self._wrote_state = False

    # -- start

    def start(self) -> None:
        template = load_template(self.args.template)
        self._check_event_types(template)
        for name, port in (("MOTO_PORT", self.args.moto_port), ("API_PORT", self.args.api_port)):
            if port_in_use(port):
                raise StartupError(
                    f"port {port} on {HOST} is already in use ({name}); stop whatever listens there "
                    f"(another `make run`?) or choose another port: {name}=<port> make run"
                )
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for old_log in self.log_dir.glob("*.log"):  # each run starts with fresh logs
            old_log.write_bytes(b"")
        self._start_moto()
        self._use_moto()
        parameters = dict(self.args.parameter)
        self.deployment = deploy(
            template,
            stack_name=self.args.stack_name,
            region=self.region,
            session=boto3.Session(region_name=self.region),
            local_notifications=True,
            parameters=parameters,
        )
        routes = routes_from(self.deployment)  # before the workers: an unenforceable Auth stops here
        self._warn_unemulated()
        self._start_workers()
        self._start_pollers()
        self.api = ApiServer(
            routes,
            self.workers,
            host=HOST,
            port=self.args.api_port,
            region=self.region,
            account_id=self.deployment.account_id,
            api_properties={api_id: api.properties for api_id, api in apis_of(self.deployment).items()},
            verifier=CognitoVerifier(
                self.endpoint_url, boto3.Session(region_name=self.region).client("cognito-idp")
            ),
            mailbox=self.mailbox,
        )
        self.api.start()
        self.mail_watcher = MailboxWatcher(self.mailbox, _show_mail)
        self.mail_watcher.start()
        self._write_state()

    @staticmethod
    def _check_event_types(template: dict) -> None:
        for logical_id, body in template["Resources"].items():
            if body.get("Type") != "AWS::Serverless::Function":
                continue
            for name, event in ((body.get("Properties") or {}).get("Events") or {}).items():
                if event.get("Type") not in EVENT_TYPES:
                    raise TemplateError(
                        f"{logical_id}.Events.{name}: event type {event.get('Type')!r} is not delivered by the "
                        f"local stack (supported: {', '.join(EVENT_TYPES)}); add a poller in infra/local/pollers.py"
                    )

    def _warn_unemulated(self) -> None:
        """Settings that change behaviour on AWS but not here: say so rather than pretend."""
        assert self.deployment is not None
        for logical_id, paths in self.deployment.ignored.items():
            log.info("%s: not applied locally: %s", logical_id, ", ".join(paths))
        for resource in self.deployment.resources.values():
            if resource.type == "AWS::Serverless::Api":
                _warn_unemulated_api(resource.logical_id, resource.properties.get("Auth") or {})
        for logical_id, spec in self.deployment.functions.items():
            _warn_unemulated_function(logical_id, spec, self.deployment.resources[logical_id].properties)

    def _start_moto(self) -> None:
        # local.moto_server is moto_server plus the local stack's patches (see that module).
        infra = str(Path(__file__).resolve().parents[1])
        path = os.pathsep.join([infra, *filter(None, [os.environ.get("PYTHONPATH")])])
        self.mailbox.path.write_bytes(b"")  # each run starts with an empty mailbox
        env = {
            **os.environ,
            "MOTO_PORT": str(self.args.moto_port),
            "PYTHONPATH": path,
            "NETZONE_LOCAL_MAILBOX": str(self.mailbox.path),
        }
        with open(self.log_dir / "moto.log", "ab") as moto_log:
            self.moto = subprocess.Popen(
                [sys.executable, "-m", "local.moto_server", "-H", HOST, "-p", str(self.args.moto_port)],
                stdout=moto_log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,  # Ctrl-C reaches the runner only; the runner stops moto
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
            )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.moto.poll() is not None:
                raise StartupError(
                    f"moto_server exited with {self.moto.returncode}; see {self.log_dir / 'moto.log'}"
                )
            try:
                with urllib.request.urlopen(f"{self.endpoint_url}/", timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise StartupError(f"moto_server did not answer on {self.endpoint_url} within 20 s")

    def _use_moto(self) -> None:
        """This process and everything it starts talk to moto, never to AWS."""
        os.environ.pop("AWS_PROFILE", None)
        os.environ.update(
            {
                "AWS_ENDPOINT_URL": self.endpoint_url,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_SESSION_TOKEN": "testing",
                "AWS_DEFAULT_REGION": self.region,
                "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
                "AWS_EC2_METADATA_DISABLED": "true",
            }
        )

    def _start_workers(self) -> None:
        assert self.deployment is not None
        for logical_id, spec in self.deployment.functions.items():
            env = lambda_environment(spec, region=self.region, endpoint_url=self.endpoint_url)
            worker = Worker(spec, env, self.log_dir / f"{logical_id}.log")
            worker.start()  # the imports run in parallel
            self.workers[logical_id] = worker
        for logical_id, worker in self.workers.items():
            if not worker.wait_ready(timeout=60):
                error = worker.init_error or {}
                log.error(
                    "%s could not import %s: %s (it will retry on each invocation; log: %s)",
                    logical_id,
                    worker.spec.handler,
                    error.get("errorMessage"),
                    summary.relative(worker.log_path),
                )

    def _start_pollers(self) -> None:
        assert self.deployment is not None
        for logical_id, spec in self.deployment.functions.items():
            for event in spec.events.values():
                if event.type not in POLLERS or str(event.properties.get("Enabled", True)).lower() == "false":
                    continue
                poller = POLLERS[event.type](self.workers[logical_id], spec, event, self.deployment)
                poller.start()
                self.pollers.append(poller)

    def state(self) -> dict[str, Any]:
        assert self.deployment is not None and self.api is not None
        outputs = dict(self.deployment.outputs)
        if "ApiUrl" in outputs:
            outputs["ApiUrl"] = self.api.url
        return {
            "aws_endpoint": self.endpoint_url,
            "api_url": self.api.url,
            "region": self.region,
            "stack_name": self.deployment.stack_name,
            "outputs": outputs,
            "resources": {
                logical_id: {
                    key: value
                    for key, value in {
                        "type": resource.type,
                        "name": resource.name,
                        "arn": resource.arn,
                        "url": resource.url,
                        "stream_arn": resource.stream_arn,
                    }.items()
                    if value
                }
                for logical_id, resource in self.deployment.resources.items()
            },
            "workers": {logical_id: worker.pid for logical_id, worker in self.workers.items()},
            "moto_pid": self.moto.pid if self.moto else None,
            "runner_pid": os.getpid(),
            "logs": str(self.log_dir),
        }

    def _write_state(self) -> None:
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.state_path.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.state(), indent=2) + "\n")
        temporary.replace(self.state_path)
        self._wrote_state = True

    # -- stop

    def stop(self) -> None:
        """Stop the API, the pollers, the workers and moto; idempotent (also runs at exit)."""
        if self._stopped:
            return
        self._stopped = True
        self.stopping.set()
        if self.mail_watcher is not None:
            self.mail_watcher.stopping.set()
        for poller in self.pollers:
            poller.stop()
        if self.api is not None:
            self.api.stop()
        for worker in self.workers.values():
            worker.stop()
        for poller in self.pollers:
            poller.join(timeout=3)
        if self.moto is not None and self.moto.poll() is None:
            for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(self.moto.pid, sig)
                try:
                    self.moto.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        if self._wrote_state:  # never another stack's file (e.g. after "port in use")
            with contextlib.suppress(FileNotFoundError):
                self.state_path.unlink()


def _warn_unemulated_api(logical_id: str, auth: dict) -> None:
    for name, spec in (auth.get("Authorizers") or {}).items():
        identity = (spec or {}).get("Identity") or {}
        for key in ("ValidationExpression", "ReauthorizeEvery"):
            if key in identity:
                log.warning("%s: authorizer %s: Identity.%s is not emulated", logical_id, name, key)
    if auth.get("ResourcePolicy"):
        log.warning("%s: Auth.ResourcePolicy is not enforced by the local API", logical_id)


def _warn_unemulated_function(logical_id: str, spec: FunctionSpec, properties: dict) -> None:
    for event in spec.events.values():
        auth = (event.properties.get("Auth") or {}) if event.type == "Api" else {}
        for key in ("ApiKeyRequired", "ResourcePolicy", "InvokeRole"):
            if auth.get(key):
                log.warning("%s.%s: Auth.%s is not enforced by the local API", logical_id, event.name, key)
    if (properties.get("EventInvokeConfig") or {}).get("DestinationConfig"):
        log.warning("%s: EventInvokeConfig.DestinationConfig is not emulated", logical_id)


def configure_logging(log_dir: Path) -> None:
    log_dir.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger("local")
    root.setLevel(logging.INFO)
    root.propagate = False
    to_file = logging.FileHandler(log_dir / "local.log")
    to_file.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    to_terminal = logging.StreamHandler(sys.stderr)
    to_terminal.setLevel(logging.WARNING)
    to_terminal.setFormatter(logging.Formatter("[local] %(levelname)s %(message)s"))
    root.handlers[:] = [to_file, to_terminal]
    logging.getLogger("werkzeug").setLevel(logging.WARNING)


def _show_mail(line: str) -> None:
    """A message Cognito would have sent, on the terminal and in local.log."""
    print(line, flush=True)
    log.info("%s", line)


def _terminate(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)
    started = time.monotonic()
    stack = LocalStack(args)
    configure_logging(stack.log_dir)
    atexit.register(stack.stop)
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _terminate)
    try:
        try:
            stack.start()
        except (StartupError, TemplateError) as error:
            print(f"netzone local stack: cannot start: {error}", file=sys.stderr)
            return 1
        assert stack.deployment is not None and stack.api is not None
        summary.print_stack(stack)
        report = None
        if not args.no_demo:
            from local.seed import run_demo

            print("\nSeeding the demo consortium and dropping sample feeds ...")
            report = run_demo(
                stack.deployment,
                stack.api.url,
                stack.state_path.parent / "samples",
                boto3.Session(region_name=stack.region),
                timeout=args.demo_timeout,
                stop=stack.stopping.is_set,
            )
            summary.print_demo(stack, report)
        summary.print_examples(stack, report)
        print(
            f"{READY} in {time.monotonic() - started:.1f} s: API {stack.api.url}, "
            f"AWS endpoint {stack.endpoint_url} (Ctrl-C stops it)"
        )
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not orphan moto
        if stack.moto is not None:
            print("\nnetzone local stack: stopping ...", file=sys.stderr)
        stack.stop()
        if stack.moto is not None:
            print("netzone local stack: stopped", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
