"""The SMTP sink as a process: notify sends to it; tests read the .eml files it writes."""
from __future__ import annotations

import os
import smtplib
import socket
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from devstack.client import MAIL_SINK_URL_ENV
from devstack.sandboxes import SandboxHandle, spawn


def start(workdir: Path, ports: dict[str, int]) -> SandboxHandle:
    folder = workdir / "smtp" / "mail"
    # A session reads only its own e-mails: the folder of an earlier session would otherwise grow run after run.
    for old in folder.glob("*.eml"):
        old.unlink()
    args = ["-m", "tests.sandboxes.smtp", "--port", str(ports["smtp"]), "--web-port", str(ports["smtp_web"]),
            "--dir", str(folder)]
    log = workdir / "smtp.log"
    handle = SandboxHandle("smtp", spawn(args, log), f"http://127.0.0.1:{ports['smtp_web']}",
                           service_env={"METRO_NOTIFY_SMTP_HOST": "127.0.0.1",
                                        "METRO_NOTIFY_SMTP_PORT": str(ports["smtp"])},
                           info={"dir": folder, "args": args, "log": log, "ports": (ports["smtp"], ports["smtp_web"])})
    wait_ready(handle)
    # ApiUser follows the links of the e-mails this sink receives (address verification at sign-up).
    os.environ[MAIL_SINK_URL_ENV] = handle.url
    return handle


def restart(handle: SandboxHandle) -> None:
    """Starts the sink again on the same ports and folder after ``handle.stop()``."""
    handle.process = spawn(handle.info["args"], handle.info["log"])
    wait_ready(handle)


def wait_ready(handle: SandboxHandle, timeout: float = 120) -> None:
    """Ready when SMTP greets and the web page's port accepts. Not the /messages page: it parses every stored
    e-mail, so with a full folder on a loaded machine it outlasts any short request timeout."""
    smtp_port, web_port = handle.info["ports"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if handle.process.poll() is not None:
            raise RuntimeError(f"SMTP sink exited with {handle.process.returncode}; see {handle.info['log']}")
        try:
            with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as smtp:
                smtp.noop()
            socket.create_connection(("127.0.0.1", web_port), timeout=2).close()
            return
        except (OSError, smtplib.SMTPException):
            time.sleep(0.2)
    raise RuntimeError(f"SMTP sink did not answer within {timeout}s; see {handle.info['log']}")


def received(handle: SandboxHandle, to: str | None = None) -> list[EmailMessage]:
    out = []
    for path in sorted(Path(handle.info["dir"]).glob("*.eml")):
        data = path.read_bytes()
        if to is not None and to.encode() not in data:
            continue
        msg = message_from_bytes(data, policy=policy.default)
        if to is None or str(msg["To"]) == to:
            out.append(msg)
    return out
