import pytest

from netzone.completion import JobStep, rejects_key, report_key


@pytest.mark.parametrize(
    ("feed_key", "fmt", "report", "rejects"),
    [
        ("feeds/harbor/weekly.mrc", "iso2709", "reports/harbor/weekly.mrc.json", "rejects/harbor/weekly.mrc"),
        (
            "feeds/harbor/weekly.mrc.gz",
            "iso2709",
            "reports/harbor/weekly.mrc.gz.json",
            "rejects/harbor/weekly.mrc",
        ),
        (
            "feeds/meridian/batch one.xml",
            "marcxml",
            "reports/meridian/batch one.xml.json",
            "rejects/meridian/batch one.xml",
        ),
        (
            "feeds/natlib/2026/11.dat",
            "iso2709",
            "reports/natlib/2026/11.dat.json",
            "rejects/natlib/2026/11.dat.mrc",
        ),
        ("feeds/x/lines.json", "marc-json", "reports/x/lines.json.json", "rejects/x/lines.json.jsonl"),
    ],
)
def test_reports_and_rejects_sit_beside_the_feed_under_their_own_prefixes(feed_key, fmt, report, rejects):
    assert report_key(feed_key) == report
    assert rejects_key(feed_key, fmt) == rejects
    # Neither lands under feeds/, so writing them never starts another ingest.
    assert not report.startswith("feeds/") and not rejects.startswith("feeds/")


def test_job_steps_round_trip_as_queue_messages():
    step = JobStep(kind="withdraw_absent", job_id="j1", after='{"pk": "SRC#a#1"}', page=3)
    assert JobStep.model_validate_json(step.to_message()) == step
    assert JobStep(kind="finish", job_id="j1").to_message() == '{"kind":"finish","job_id":"j1","page":0}'
