"""The local mailbox (infra/local/mailbox.py) against in-process moto and the project's user pool:
a staff user made as the network API makes them receives a temporary password, signs in with it
and chooses their own; a password reset code arrives; the local API serves the mailbox."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from werkzeug.test import Client

from local import mailbox
from local.api import ApiServer
from local.template import deploy, load_template
from netzone import cli
from netzone.adapters.cognito import CognitoStaffDirectory
from netzone.network import StaffUser


@pytest.fixture
def pool(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """The project's staff user pool with the mailbox installed: (pool id, client id, mailbox)."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        box = mailbox.install(tmp_path / "mailbox.jsonl")
        try:
            deployment = deploy(
                load_template("template.yaml"), session=boto3.Session(region_name="us-east-1")
            )
            yield deployment.outputs["StaffUserPoolId"], deployment.outputs["StaffUserPoolClientId"], box
        finally:
            mailbox.uninstall()


def _target(client_id: str) -> cli.Target:
    return cli.Target(description="test", feed_bucket="-", jobs_table="-", staff_client_id=client_id)


def test_a_new_staff_user_gets_a_temporary_password_and_chooses_their_own(pool) -> None:
    pool_id, client_id, box = pool
    user = StaffUser(username="lku-cat2", email="cat2@lku.example.edu", member="lku", roles=["cataloger"])
    CognitoStaffDirectory(pool_id).create(user)

    (message,), _ = box.messages()
    assert message["to"] == "cat2@lku.example.edu"
    assert message["subject"] == "Your netzone staff account"  # the template's invitation
    body = message["body"]
    assert "username is lku-cat2 " in body and "{####}" not in body
    temporary = body.split("temporary password is ")[1].split(" ")[0]
    assert len(temporary) >= 12

    with pytest.raises(cli.CliError, match="--new-password"):
        cli.login(_target(client_id), "lku-cat2", temporary)
    with pytest.raises(cli.CliError, match="wrong username or password"):
        cli.login(_target(client_id), "lku-cat2", "Not-the-one-2026")
    token = cli.login(_target(client_id), "lku-cat2", temporary, new_password="Lakeshore-cat-2026")
    assert token.count(".") == 2
    # From now on the user's own password signs in, with no challenge.
    assert cli.login(_target(client_id), "lku-cat2", "Lakeshore-cat-2026").count(".") == 2


def test_a_user_made_without_messages_gets_none(pool) -> None:
    pool_id, _, box = pool
    boto3.client("cognito-idp", region_name="us-east-1").admin_create_user(
        UserPoolId=pool_id, Username="quiet", MessageAction="SUPPRESS", TemporaryPassword="Quiet-user-2026"
    )
    assert box.messages() == ([], 0)


def test_a_password_reset_code_arrives_and_is_accepted(pool) -> None:
    pool_id, client_id, box = pool
    CognitoStaffDirectory(pool_id).create(
        StaffUser(username="net-cat2", email="net-cat2@consortium.example.org", roles=["cataloger"])
    )
    (invitation,), seen = box.messages()
    temporary = invitation["body"].split("temporary password is ")[1].split(" ")[0]
    cli.login(_target(client_id), "net-cat2", temporary, new_password="Forgotten-soon-2026")
    cognito = boto3.client("cognito-idp", region_name="us-east-1")
    cognito.forgot_password(ClientId=client_id, Username="net-cat2")

    (message,), _ = box.messages(seen)
    assert (
        message["to"] == "net-cat2@consortium.example.org" and message["subject"] == "Your verification code"
    )
    code = message["body"].removeprefix("Your verification code is ").strip().removesuffix(".")
    assert len(code) == 6 and code.isdigit()
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    with pytest.raises(cognito.exceptions.CodeMismatchException):  # a guessed code is refused
        cognito.confirm_forgot_password(
            ClientId=client_id, Username="net-cat2", ConfirmationCode=wrong, Password="Consortium-cat-2026"
        )
    cognito.confirm_forgot_password(
        ClientId=client_id, Username="net-cat2", ConfirmationCode=code, Password="Consortium-cat-2026"
    )
    assert cli.login(_target(client_id), "net-cat2", "Consortium-cat-2026").count(".") == 2


def test_the_local_api_serves_the_mailbox_newest_first(tmp_path: Path) -> None:
    box = mailbox.Mailbox(tmp_path / "mailbox.jsonl")
    box.post("a@example.org", "first", "one <b>")
    box.post("b@example.org", "second", "two")
    client = Client(ApiServer([], {}, mailbox=box).wsgi)

    page = client.get("/_local/mailbox")
    assert page.status_code == 200 and page.content_type.startswith("text/html")
    text = page.get_data(as_text=True)
    assert text.index("second") < text.index("first") and "one &lt;b&gt;" in text
    listed = json.loads(client.get("/_local/mailbox.json").get_data())
    assert [m["subject"] for m in listed["messages"]] == ["first", "second"]
    assert "/_local/mailbox" in json.loads(client.get("/").get_data())["mailbox"]


def test_the_watcher_shows_only_new_whole_messages(tmp_path: Path) -> None:
    box = mailbox.Mailbox(tmp_path / "mailbox.jsonl")
    box.post("a@example.org", "before", "x")
    shown: list[str] = []
    watcher = mailbox.MailboxWatcher(box, shown.append, interval=0.05)
    watcher.start()
    try:
        box.post("b@example.org", "after", "y")
        for _ in range(40):
            if shown:
                break
            watcher.stopping.wait(0.05)
    finally:
        watcher.stopping.set()
        watcher.join(2)
    assert shown == ["[mailbox] to b@example.org: after: y"]

    # A line still being written is not a message yet: it is read once it is whole.
    _, end = box.messages()
    with box.path.open("a") as mail:
        mail.write('{"at": "t", "to": "c@example.org", "subject": "s",')
    assert box.messages(end) == ([], end)
    with box.path.open("a") as mail:
        mail.write(' "body": "z"}\n')
    (message,), _ = box.messages(end)
    assert message["body"] == "z"
