"""Feed ingest figures: throughput and peak memory by feed size, in-process and on the local stack.

Prints, for synthetic MARC21 feeds of growing size:
  - in-process `ingest.ingest` (read, validate, batch, serialize; the sink discards): records/s
    and the peak of Python allocations (tracemalloc) - flat when the feed is streamed;
  - the local stack (`python -m local.run --no-demo` on free ports, a fresh stack per size):
    a feed pushed through S3; feed_ingest's read rate (records_read over read_at - started_at)
    and the end-to-end rate to `completed`, the job's counts and whether every record read is
    accounted for (sum of the counts == records_read), the feed_ingest worker's peak RSS (VmHWM)
    and the moto server's RSS; with several sizes, the ratio of the largest to the smallest
    VmHWM (flat means the feed is streamed) - skipped with `--no-stack`.

Sizes: `--stack-sizes 10000` by default (about 2 minutes); `--large` adds a 200,000-record
feed, which takes about 75 minutes on 2 cores (the candidates per record grow with the synthetic
catalog, and moto holds everything in one process: 12 GB at the end):

    PYTHONPATH=infra:layers/core:functions:. nice -n 19 .venv/bin/python \
        tests/benchmarks/bench_feed_ingest.py --no-in-process --large --timeout 9000

Figures, not assertions: tests assert behaviour, this prints what it measured.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "layers/core"), str(ROOT / "infra"), str(ROOT / "functions")]

from demo.feeds import synthetic_records, write_iso2709  # noqa: E402
from netzone import ingest, jobs, providers  # noqa: E402


class DiscardSink:
    def __init__(self):
        self.records = 0

    def send(self, batch):
        batch.to_message()  # the serialization cost is part of ingest
        self.records += len(batch.records)


class NullLedger:
    def start(self, job): ...
    def add_rejects(self, job_id, rejects): ...
    def add_warnings(self, job_id, warnings): ...
    def finish_reading(self, job_id, read): ...
    def fail(self, job_id, reason): ...


class AnyProvider:
    def feed_provider(self, code):
        return providers.FeedProvider(code=code)


def ingest_file(path: Path) -> dict:
    """One ingest of one file in this process: elapsed seconds and this process's peak RSS."""
    import resource

    sink = DiscardSink()
    started = time.perf_counter()
    with open(path, "rb") as stream:
        ref = jobs.FeedRef(bucket="b", key=f"feeds/bench/{path.name}", etag="e")
        summary = ingest.ingest(stream, ref, sink=sink, ledger=NullLedger(), providers=AnyProvider())
    elapsed = time.perf_counter() - started
    return {
        "records": summary.records_read,
        "sent": sink.records,
        "seconds": elapsed,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def in_process(sizes: list[int], folder: Path) -> None:
    # Each size runs in a fresh interpreter, so its peak RSS is its own.
    print("in-process ingest.ingest (ISO 2709, UTF-8), one fresh process per size:")
    print(f"  {'records':>8} {'file MB':>8} {'seconds':>8} {'records/s':>10} {'peak RSS MB':>12}")
    for size in sizes:
        path = folder / f"feed-{size}.mrc"
        write_iso2709(path, synthetic_records(size, "bench"))
        child = subprocess.run(
            [sys.executable, __file__, "--child", str(path)], capture_output=True, text=True, check=True
        )
        result = json.loads(child.stdout.strip().splitlines()[-1])
        assert result["records"] == result["sent"] == size
        print(
            f"  {size:>8} {path.stat().st_size / 1e6:>8.1f} {result['seconds']:>8.2f} "
            f"{size / result['seconds']:>10,.0f} {result['peak_rss_mb']:>12.1f}"
        )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def register_provider(state: dict, code: str) -> None:
    """Put a provider in the stack's registry, as the central office would."""
    import boto3

    from netzone.adapters.dynamodb import to_item
    from netzone.adapters.network_store import object_key
    from netzone.network import Provider, Ref

    provider = Provider(code=code, name=code, formats=["marc21"], version=1)
    item = {
        "pk": "NETWORK",
        "sk": object_key(Ref("provider", code)),
        **provider.model_dump(exclude_none=True),
    }
    boto3.client(
        "dynamodb", endpoint_url=state["aws_endpoint"], region_name="us-east-1",
        aws_access_key_id="local", aws_secret_access_key="local",
    ).put_item(TableName=state["resources"]["NetworkTable"]["name"], Item=to_item(item))  # fmt: skip


def on_local_stack(size: int, folder: Path, timeout: float) -> dict:
    """One fresh local stack, one feed of `size` records; prints and returns the figures."""
    import boto3
    import requests

    moto_port, api_port = _free_port(), _free_port()
    state_file = folder / "local.json"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(str(ROOT / p) for p in ("infra", "layers/core", "functions")),
        "NETZONE_LOCAL_STATE": str(state_file),
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "local.run",
            "--no-demo",
            "--moto-port",
            str(moto_port),
            "--api-port",
            str(api_port),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        started = time.monotonic()
        for line in process.stdout:  # type: ignore[union-attr]
            if line.startswith("netzone local stack ready"):
                break
        else:
            raise SystemExit("the local stack exited before it was ready")
        print(f"local stack ready in {time.monotonic() - started:.1f} s")
        state = json.loads(state_file.read_text())
        path = folder / f"stack-{size}.mrc"
        write_iso2709(path, synthetic_records(size, "bench"))
        s3 = boto3.client(
            "s3", endpoint_url=state["aws_endpoint"], region_name="us-east-1",
            aws_access_key_id="local", aws_secret_access_key="local",
        )  # fmt: skip
        register_provider(state, "bench")  # import control: only registered providers feed
        bucket = state["outputs"]["FeedBucketName"]
        key = f"feeds/bench/{path.name}"
        started = time.monotonic()
        s3.upload_file(str(path), bucket, key)
        job_id = jobs.job_id_for(bucket, key, s3.head_object(Bucket=bucket, Key=key)["ETag"])
        job: dict = {}
        while time.monotonic() - started < timeout:
            try:
                response = requests.get(f"{state['api_url']}/feeds/jobs/{job_id}", timeout=30)
            except requests.Timeout:
                continue  # moto serves one busy stack; ask again
            if response.status_code == 200:
                job = response.json()
                if job["status"] in ("completed", "failed"):
                    break
            time.sleep(1)
        elapsed = time.monotonic() - started
        worker_pid = state.get("workers", {}).get("FeedIngestFunction")
        peak = _vm_hwm(worker_pid) if worker_pid else None
        moto_rss = _status_kb(state.get("moto_pid"), "VmRSS")
        moto_hwm = _status_kb(state.get("moto_pid"), "VmHWM")
        read = job.get("records_read") or 0
        counted = sum((job.get("counts") or {}).values())
        read_seconds = _seconds_between(job.get("started_at"), job.get("read_at"))
        print(f"local stack, {size:,} records pushed through S3:")
        print(f"  status {job.get('status')}  records_read {read}  counts {job.get('counts')}")
        print(
            f"  accounted for: {counted:,} of {read:,} read ({'all' if counted == read == size else 'NOT all'})"
        )
        if read_seconds:
            print(f"  feed_ingest read rate: {read / read_seconds:,.0f} records/s ({read_seconds:.1f} s)")
        print(
            f"  wall time to {job.get('status')}: {elapsed:.1f} s ({size / elapsed:,.0f} records/s end to end)"
        )
        print(f"  feed_ingest worker peak RSS (VmHWM): {peak if peak else 'unknown'}")
        print(f"  moto server RSS: {_mb(moto_rss)} (peak {_mb(moto_hwm)})")
        return {"size": size, "vm_hwm_kb": _status_kb(worker_pid, "VmHWM"), "seconds": elapsed}
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def _seconds_between(start: str | None, end: str | None) -> float | None:
    from datetime import datetime

    if not start or not end:
        return None
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds() or None


def _status_kb(pid: int | None, field: str) -> int | None:
    if not pid:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _mb(kb: int | None) -> str:
    return f"{kb / 1024:,.0f} MB" if kb else "unknown"


def _vm_hwm(pid: int) -> str | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return line.split(":", 1)[1].strip()
    except OSError:
        return None
    return None


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1000,10000,100000", help="in-process feed sizes")
    parser.add_argument(
        "--stack-sizes", default="10000", help="comma-separated feed sizes pushed to the local stack"
    )
    parser.add_argument(
        "--large", action="store_true", help="also push a 200,000-record feed (well over an hour)"
    )
    parser.add_argument("--no-stack", action="store_true", help="skip the local-stack runs")
    parser.add_argument("--no-in-process", action="store_true", help="skip the in-process runs")
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(ingest_file(args.child)))
        return
    with tempfile.TemporaryDirectory() as folder:
        if not args.no_in_process:
            in_process([int(s) for s in args.sizes.split(",")], Path(folder))
        if args.no_stack:
            return
        sizes = [int(s) for s in args.stack_sizes.split(",")] + ([200_000] if args.large else [])
        runs = []
        for size in sizes:
            run_folder = Path(folder) / f"stack-{size}"
            run_folder.mkdir()
            runs.append(on_local_stack(size, run_folder, args.timeout))
        runs = [run for run in runs if run["vm_hwm_kb"]]
        if len(runs) > 1:
            small, large = min(runs, key=lambda r: r["size"]), max(runs, key=lambda r: r["size"])
            print(
                f"feed_ingest VmHWM {large['size']:,} / {small['size']:,} records: "
                f"{large['vm_hwm_kb'] / small['vm_hwm_kb']:.2f} (the issue allows 1.20)"
            )


if __name__ == "__main__":
    main()
