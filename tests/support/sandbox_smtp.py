"""The SMTP sink as a process: notify sends to it; tests read the .eml files it writes."""
from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from tests.support.sandboxes import SandboxHandle, spawn, wait_http


def start(workdir: Path, ports: dict[str, int]) -> SandboxHandle:
    folder = workdir / "smtp" / "mail"
    args = ["-m", "tests.sandboxes.smtp", "--port", str(ports["smtp"]), "--web-port", str(ports["smtp_web"]),
            "--dir", str(folder)]
    log = workdir / "smtp.log"
    process = spawn(args, log)
    url = f"http://127.0.0.1:{ports['smtp_web']}"
    wait_http(url + "/messages", process, timeout=120)
    return SandboxHandle("smtp", process, url,
                         service_env={"METRO_NOTIFY_SMTP_HOST": "127.0.0.1",
                                      "METRO_NOTIFY_SMTP_PORT": str(ports["smtp"])},
                         info={"dir": folder, "args": args, "log": log})


def restart(handle: SandboxHandle) -> None:
    """Starts the sink again on the same ports and folder after ``handle.stop()``."""
    handle.process = spawn(handle.info["args"], handle.info["log"])
    wait_http(handle.url + "/messages", handle.process, timeout=120)


def received(handle: SandboxHandle, to: str | None = None) -> list[EmailMessage]:
    out = []
    for path in sorted(Path(handle.info["dir"]).glob("*.eml")):
        msg = message_from_bytes(path.read_bytes(), policy=policy.default)
        if to is None or str(msg["To"]) == to:
            out.append(msg)
    return out
