"""Issue 18 item 8: e-mail goes to the relay over STARTTLS with its certificate verified, and logs in with the
configured credentials; an untrusted certificate or refused credentials send nothing."""
from __future__ import annotations

import socket
import ssl
import subprocess
import uuid
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from notify.app import Settings
from notify.sender import deliver


class Inbox:
    def __init__(self):
        self.messages: list[bytes] = []
        self.logins: list[tuple[bytes, bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope.content)
        return "250 OK"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        assert isinstance(auth_data, LoginPassword)
        self.logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"relay-password", handled=False)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("smtp-tls")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem"), "-subj", "/CN=relay.test",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"], check=True, capture_output=True)
    return folder


@pytest.fixture
def relay(certificate):
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(certificate / "cert.pem", certificate / "key.pem")
    inbox = Inbox()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port, tls_context=tls, require_starttls=True,
                            authenticator=inbox.authenticate, auth_required=True)
    controller.start()
    yield inbox, port
    controller.stop()


def settings(port: int, **kw) -> Settings:
    return Settings(smtp_host="127.0.0.1", smtp_port=port, smtp_timeout=10, smtp_starttls=True,
                    smtp_username="metro", smtp_password="relay-password", **kw)


def message() -> tuple[uuid.UUID, EmailMessage]:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "no-reply@metro.test", "alice@metro.test", "Alerte"
    msg.set_content("Bonjour")
    return uuid.uuid4(), msg


def test_an_untrusted_relay_certificate_is_refused_and_nothing_is_sent(relay):
    inbox, port = relay
    i, msg = message()
    [(outcome, reason)] = deliver(settings(port), "no-reply@metro.test", [(i, msg)]).values()
    assert outcome == "unavailable" and "CERTIFICATE_VERIFY_FAILED" in reason
    assert inbox.messages == [] and inbox.logins == []


def test_a_trusted_relay_gets_the_message_after_starttls_and_login(relay, certificate):
    inbox, port = relay
    i, msg = message()
    results = deliver(settings(port, smtp_ca_file=str(certificate / "cert.pem")), "no-reply@metro.test", [(i, msg)])
    assert results == {i: ("sent", None)}
    assert inbox.logins == [(b"metro", b"relay-password")]
    assert len(inbox.messages) == 1 and b"Subject: Alerte" in inbox.messages[0]


def test_refused_credentials_send_nothing(relay, certificate):
    inbox, port = relay
    i, msg = message()
    wrong = settings(port, smtp_ca_file=str(certificate / "cert.pem")).model_copy(update={"smtp_password": "nope"})
    [(outcome, reason)] = deliver(wrong, "no-reply@metro.test", [(i, msg)]).values()
    assert outcome == "unavailable" and "535" in reason
    assert inbox.messages == []


def test_a_password_is_never_configured_without_starttls():
    with pytest.raises(ValueError, match="in clear"):
        Settings(smtp_username="metro", smtp_password="relay-password")
