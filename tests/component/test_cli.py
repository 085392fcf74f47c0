import json

from demo.feeds import synthetic_records, write_iso2709, write_mixed_iso2709
from netzone import cli


def test_push_then_status_against_the_local_state(stack, tmp_path, monkeypatch, capsys):
    state = tmp_path / "local.json"
    state.write_text(
        json.dumps(
            {
                "region": "us-east-1",
                "outputs": {
                    "FeedBucketName": stack.bucket,
                    "JobsTableName": stack.deployment.name_of("JobsTable"),
                },
            }
        )
    )
    monkeypatch.setenv("NETZONE_LOCAL_STATE", str(state))
    monkeypatch.delenv("NETZONE_STACK", raising=False)
    write_iso2709(tmp_path / "weekly.mrc", synthetic_records(4, "harbor"))
    stack.register_provider("harbor")

    assert cli.main(["feed", "push", str(tmp_path / "weekly.mrc"), "--provider", "harbor"]) == 0
    out = capsys.readouterr().out
    job_id = out.split("job ")[1].split(":")[0]
    # The object landed where the template's notification listens; deliver its event.
    (job,) = stack.invoke("FeedIngestFunction", stack.s3_event("feeds/harbor/weekly.mrc"))["jobs"]
    assert job["job_id"] == job_id
    stack.drain()
    capsys.readouterr()  # the handlers' metric lines

    assert cli.main(["feed", "status", job_id, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["status"] == "completed" and shown["counts"]["created"] == 4


def test_report_prints_a_finished_jobs_report(stack, tmp_path, monkeypatch, capsys):
    state = tmp_path / "local.json"
    outputs = {"FeedBucketName": stack.bucket, "JobsTableName": stack.deployment.name_of("JobsTable")}
    state.write_text(json.dumps({"region": "us-east-1", "outputs": outputs}))
    monkeypatch.setenv("NETZONE_LOCAL_STATE", str(state))
    monkeypatch.delenv("NETZONE_STACK", raising=False)
    layout = write_mixed_iso2709(tmp_path / "mixed.mrc", valid=12, provider="harbor")
    assert len(layout["malformed"]) >= 2
    (job,) = stack.drop(tmp_path / "mixed.mrc", "harbor")["jobs"]
    capsys.readouterr()

    assert cli.main(["feed", "report", job["job_id"]]) == 2  # not finished yet: says so
    assert "no report yet" in capsys.readouterr().err

    stack.drain()
    capsys.readouterr()
    assert cli.main(["feed", "report", job["job_id"], "--max-rejects", "1"]) == 0
    out = capsys.readouterr().out
    assert f"job {job['job_id']}  completed  provider harbor" in out
    assert f"records read {12 + len(layout['malformed'])}  accounted yes" in out
    assert out.count("  reject #") == 1 and f"({len(layout['malformed']) - 1} more rejects" in out
    records_file = f"s3://{stack.bucket}/reports/harbor/mixed.mrc.records.jsonl"
    assert f"each record's outcome and network record: {records_file}" in out

    assert cli.main(["feed", "report", job["job_id"], "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [r["position"] for r in report["rejects"]] == [p for p, _ in layout["malformed"]]


def test_report_of_a_failed_job_prints_the_failure(stack, tmp_path, monkeypatch, capsys):
    state = tmp_path / "local.json"
    outputs = {"FeedBucketName": stack.bucket, "JobsTableName": stack.deployment.name_of("JobsTable")}
    state.write_text(json.dumps({"region": "us-east-1", "outputs": outputs}))
    monkeypatch.setenv("NETZONE_LOCAL_STATE", str(state))
    monkeypatch.delenv("NETZONE_STACK", raising=False)
    write_iso2709(tmp_path / "offer.mrc", synthetic_records(2, "stranger"))
    (job,) = stack.drop(tmp_path / "offer.mrc", "stranger", register=False)["jobs"]
    stack.drain()
    capsys.readouterr()

    assert cli.main(["feed", "report", job["job_id"]]) == 0
    out = capsys.readouterr().out
    assert f"job {job['job_id']}  failed  provider stranger" in out
    assert "  error: " in out and "not registered" in out.split("  error: ")[1]
    assert "None" not in out


def test_errors_are_one_line_and_exit_2(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NETZONE_LOCAL_STATE", str(tmp_path / "absent.json"))
    monkeypatch.delenv("NETZONE_STACK", raising=False)
    assert cli.main(["feed", "status", "x"]) == 2
    assert "make run" in capsys.readouterr().err


def test_feed_check_is_offline_and_its_exit_status_says_what_would_happen(tmp_path, monkeypatch, capsys):
    import boto3

    from demo.feeds import write_mixed_iso2709

    def no_aws(*args, **kwargs):
        raise AssertionError("feed check must not create AWS clients")

    monkeypatch.setattr(boto3, "client", no_aws)
    monkeypatch.setattr(boto3, "resource", no_aws)
    monkeypatch.setenv("NETZONE_LOCAL_STATE", str(tmp_path / "absent.json"))  # no stack either

    write_iso2709(tmp_path / "clean.mrc", synthetic_records(3, "harbor"))
    assert cli.main(["feed", "check", str(tmp_path / "clean.mrc")]) == 0
    assert "accepted 3  rejected 0" in capsys.readouterr().out

    info = write_mixed_iso2709(tmp_path / "mixed.mrc", 30)
    assert cli.main(["feed", "check", str(tmp_path / "mixed.mrc"), "--max-rejects", "1"]) == 1
    out = capsys.readouterr().out
    first_position = info["malformed"][0][0]
    assert f"reject #{first_position} " in out and out.count("reject #") == 1

    assert cli.main(["feed", "check", str(tmp_path / "mixed.mrc"), "--json"]) == 1
    shown = json.loads(capsys.readouterr().out)
    assert shown["records_read"] == shown["accepted"] + shown["rejected"] == 30 + len(info["malformed"])
    assert shown["exit_status"] == 1

    (tmp_path / "titles.csv").write_text("title,isbn\nfoo,123\n")
    assert cli.main(["feed", "check", str(tmp_path / "titles.csv")]) == 2
    assert "not MARC21" in capsys.readouterr().out

    assert cli.main(["feed", "check", str(tmp_path / "absent.mrc")]) == 2
    assert "is not a file" in capsys.readouterr().err
