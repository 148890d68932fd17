"""Starts the DSO sandboxes and the SMTP sink as real processes, and says how services reach them.

Each sandbox has a module ``devstack/sandbox_<name>.py`` with
``start(workdir: Path, ports: dict[str, int]) -> SandboxHandle``; a missing module is skipped.
"""
from __future__ import annotations

import importlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

TEST_PORTS = {"enedis": 19001, "grdf": 19002, "sge_control": 19003, "sge_sftp": 19222, "local_control": 19004,
              "local_sftp": 19223, "smtp": 19025, "smtp_web": 19026}
RUN_PORTS = {"enedis": 9001, "grdf": 9002, "sge_control": 9003, "sge_sftp": 2222, "local_control": 9004,
             "local_sftp": 2223, "smtp": 1025, "smtp_web": 1080}
NAMES = ("enedis", "grdf", "sge", "local", "smtp")


@dataclass
class SandboxHandle:
    name: str
    process: subprocess.Popen
    url: str | None = None
    # Environment for the services, with "{P}" standing for a service's env prefix, e.g.
    # {"METRO_INGEST_ENEDIS_DATACONNECT_URL": "..."}; applied to every service's environment.
    service_env: dict[str, str] = field(default_factory=dict)
    info: dict = field(default_factory=dict)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)


def known_hosts_line(port: int, key) -> bytes:
    return f"[127.0.0.1]:{port} ".encode() + key.export_public_key()


def sftp_keys(work: Path, port: int) -> tuple[Path, Path, Path]:
    """Fresh keys for an SFTP sandbox: the platform's client key (its public half in authorized_keys, for the
    drop), the drop's host key, and the known_hosts naming it (checked by the connector, as outside local mode).
    Returns (client key, host key, known_hosts)."""
    import asyncssh

    work.mkdir(parents=True, exist_ok=True)
    client_key = asyncssh.generate_private_key("ssh-ed25519")
    key_path = work / "client_key"
    client_key.write_private_key(str(key_path))
    os.chmod(key_path, 0o600)
    (work / "authorized_keys").write_bytes(client_key.export_public_key())
    host_key = asyncssh.generate_private_key("ssh-ed25519")
    host_key.write_private_key(str(work / "host_key"))
    os.chmod(work / "host_key", 0o600)
    (work / "known_hosts").write_bytes(known_hosts_line(port, host_key))
    return key_path, work / "host_key", work / "known_hosts"


def wait_http(url: str, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"sandbox exited with {process.returncode} before answering {url}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"sandbox at {url} did not answer within {timeout}s")


def spawn(args: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    import sys
    from devstack.stack import ROOT
    log.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen([sys.executable, *args], cwd=ROOT, env={**os.environ, **(env or {})},
                            stdout=open(log, "ab"), stderr=subprocess.STDOUT, start_new_session=True)


def start_all(workdir: Path, ports: dict[str, int]) -> dict[str, SandboxHandle]:
    handles: dict[str, SandboxHandle] = {}
    for name in NAMES:
        try:
            module = importlib.import_module(f"devstack.sandbox_{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"devstack.sandbox_{name}":
                continue
            raise
        handles[name] = module.start(workdir, ports)
    return handles
