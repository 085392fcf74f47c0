import json

from demo.feeds import synthetic_records, write_iso2709
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


def test_errors_are_one_line_and_exit_2(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NETZONE_LOCAL_STATE", str(tmp_path / "absent.json"))
    monkeypatch.delenv("NETZONE_STACK", raising=False)
    assert cli.main(["feed", "status", "x"]) == 2
    assert "make run" in capsys.readouterr().err
