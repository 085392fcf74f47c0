"""The local stack's mailbox: the messages Cognito would send, where a person can read them.

On AWS, Cognito emails a new staff user their temporary password and a patron asking for a new
password their code. moto sends nothing (and gives a user created without a temporary password
none at all), so nobody could sign in as a user made through the API. `install()` runs in the
moto server process: `AdminCreateUser` makes a temporary password as Cognito does and, like
`ForgotPassword`, posts the message the pool's template gives to the mailbox file (JSON lines).
The local stack prints each new message (`MailboxWatcher`) and serves them at `/_local/mailbox`.
The mailbox is the local stack's own: it holds passwords by design and never runs on AWS.
"""

from __future__ import annotations

import html
import json
import logging
import secrets
import string
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger("local.mailbox")

KEEP = 200  # messages shown: the newest ones
# Cognito's own defaults, used where the pool sets no template.
INVITE_SUBJECT = "Your temporary password"
INVITE_MESSAGE = "Your username is {username} and temporary password is {####}."
CODE_SUBJECT = "Your verification code"
CODE_MESSAGE = "Your verification code is {####}."


class Mailbox:
    """Messages as JSON lines in one file: appended by the moto server, read by the local stack."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()

    def post(self, to: str, subject: str, body: str) -> None:
        message = {"at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "to": to, "subject": subject}
        line = json.dumps({**message, "body": body}, ensure_ascii=False) + "\n"
        with self._lock, self.path.open("a", encoding="utf-8") as mailbox:
            mailbox.write(line)

    def messages(self, after: int = 0) -> tuple[list[dict[str, str]], int]:
        """The messages from byte `after` on (the newest `KEEP`), and where the file ends now."""
        if not self.path.exists():
            return [], 0
        with self.path.open("rb") as mailbox:
            mailbox.seek(after)
            data = mailbox.read()
        whole = data.rfind(b"\n") + 1  # a line still being written waits for the next look
        return [json.loads(line) for line in data[:whole].splitlines()[-KEEP:]], after + whole

    def page(self) -> str:
        """The mailbox as a page: newest first."""
        messages, _ = self.messages()
        rows = "".join(
            f"<article><h2>{html.escape(m['subject'])}</h2><p class=meta>to {html.escape(m['to'])} "
            f"at {html.escape(m['at'])}</p><pre>{html.escape(m['body'])}</pre></article>"
            for m in reversed(messages)
        )
        return (
            "<!doctype html><html lang=en><meta charset=utf-8><title>netzone local mailbox</title>"
            "<style>body{font:15px system-ui;margin:2rem;max-width:50rem}"
            "article{border-bottom:1px solid #ccc}.meta{color:#555}</style>"
            "<h1>Local mailbox</h1><p>What Cognito would have sent: temporary passwords and codes.</p>"
            + (rows or "<p>No messages yet.</p>")
            + "</html>"
        )


class MailboxWatcher(threading.Thread):
    """Shows each message posted to the mailbox while the local stack runs."""

    def __init__(self, mailbox: Mailbox, show: Callable[[str], None], interval: float = 1.0):
        super().__init__(name="mailbox", daemon=True)
        self.mailbox, self.show, self.interval = mailbox, show, interval
        self.stopping = threading.Event()
        _, self.seen = mailbox.messages()  # what was there before: not new

    def run(self) -> None:
        while not self.stopping.wait(self.interval):
            messages, self.seen = self.mailbox.messages(self.seen)
            for m in messages:
                self.show(f"[mailbox] to {m['to']}: {m['subject']}: {m['body']}")


def temporary_password(length: int = 14) -> str:
    """A password Cognito's default policy accepts: upper and lower case, a digit, a symbol."""
    alphabet = string.ascii_letters + string.digits
    body = "".join(secrets.choice(alphabet) for _ in range(length - 4))
    return body + secrets.choice(string.ascii_uppercase) + secrets.choice(string.ascii_lowercase) + "7!"


def _template(pool: Any, subject: str, message: str, config: str, *keys: str) -> tuple[str, str]:
    """The pool's message template (e.g. AdminCreateUserConfig.InviteMessageTemplate), else Cognito's."""
    template: Any = pool.extended_config
    for key in (config, *keys):
        template = (template or {}).get(key)
    template = template or {}
    return template.get("EmailSubject") or subject, template.get("EmailMessage") or message


def _address(user: Any) -> str:
    return next((a["Value"] for a in user.attributes if a["Name"] == "email"), user.username)


_originals: dict[str, Any] = {}


def install(path: Path) -> Mailbox:
    """Patch moto's Cognito backend (in this process) to post its messages to `path`."""
    from moto.cognitoidp.models import CognitoIdpBackend

    mailbox = Mailbox(path)
    _originals.setdefault("admin_create_user", CognitoIdpBackend.admin_create_user)
    _originals.setdefault("forgot_password", CognitoIdpBackend.forgot_password)
    _originals.setdefault("confirm_forgot_password", CognitoIdpBackend.confirm_forgot_password)

    def admin_create_user(
        self: Any, user_pool_id: str, username: str, message_action: str, password: str, attributes: Any
    ) -> Any:
        sends = message_action != "SUPPRESS"
        password = password or (temporary_password() if sends else password)
        user = _originals["admin_create_user"](
            self, user_pool_id, username, message_action, password, attributes
        )
        if sends:
            pool = self.describe_user_pool(user_pool_id)
            subject, body = _template(
                pool, INVITE_SUBJECT, INVITE_MESSAGE, "AdminCreateUserConfig", "InviteMessageTemplate"
            )
            mailbox.post(
                _address(user), subject, body.replace("{username}", user.username).replace("{####}", password)
            )
        return user

    def forgot_password(self: Any, client_id: str, username: str) -> Any:
        code, delivery = _originals["forgot_password"](self, client_id, username)
        if code:  # only for a user that exists, as Cognito sends it
            pool = next(p for p in self.user_pools.values() if client_id in p.clients)
            user = pool._get_user(username)
            # A six-digit code, as Cognito's, that confirm_forgot_password checks below (moto
            # checks only codes of its own form and takes any other).
            code = user.confirmation_code = f"{secrets.randbelow(10**6):06d}"
            subject, body = _template(pool, CODE_SUBJECT, CODE_MESSAGE, "VerificationMessageTemplate")
            mailbox.post(_address(user), subject, body.replace("{####}", code))
        return code, delivery

    def confirm_forgot_password(self: Any, client_id: str, username: str, password: str, code: str) -> Any:
        from moto.cognitoidp.exceptions import CodeMismatchException

        pool = next((p for p in self.user_pools.values() if client_id in p.clients), None)
        user = pool._get_user(username) if pool else None
        if user is not None and (
            not user.confirmation_code or not secrets.compare_digest(code, user.confirmation_code)
        ):
            raise CodeMismatchException("Invalid verification code provided, please try again.")
        return _originals["confirm_forgot_password"](self, client_id, username, password, code)

    CognitoIdpBackend.admin_create_user = admin_create_user  # type: ignore[method-assign]
    CognitoIdpBackend.forgot_password = forgot_password  # type: ignore[method-assign]
    CognitoIdpBackend.confirm_forgot_password = confirm_forgot_password  # type: ignore[method-assign]
    return mailbox


def uninstall() -> None:
    """Undo `install` (for tests that patch in-process)."""
    from moto.cognitoidp.models import CognitoIdpBackend

    for name, original in _originals.items():
        setattr(CognitoIdpBackend, name, original)
    _originals.clear()
