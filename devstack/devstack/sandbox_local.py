"""Starts the local operators' sandbox (one SFTP drop with a folder per operator, and its control API) with
fresh keys, and tells ingest-local how to reach it; operators that push get an upload token each."""
from __future__ import annotations

import json
import secrets
from pathlib import Path

from devstack.sandboxes import SandboxHandle, sftp_keys, spawn, wait_http


def start(workdir: Path, ports: dict[str, int]) -> SandboxHandle:
    work = Path(workdir) / "local"
    key_path, host_key_path, known_hosts = sftp_keys(work, ports["local_sftp"])
    root = work / f"drop-{secrets.token_hex(4)}"
    process = spawn(["-m", "tests.sandboxes.local", "--sftp-port", str(ports["local_sftp"]),
                     "--control-port", str(ports["local_control"]), "--root", str(root),
                     "--host-key", str(host_key_path), "--authorized-keys", str(work / "authorized_keys")],
                    work / "sandbox.log")
    url = f"http://127.0.0.1:{ports['local_control']}"
    try:
        wait_http(url + "/_sandbox/health", process, timeout=120)
    except RuntimeError:
        SandboxHandle("local", process).stop()
        raise
    tokens = {op: secrets.token_urlsafe(32) for op in ("greenalp", "cciag", "eau_de_grenoble")}
    env = {
        "METRO_INGEST_LOCAL_SFTP_HOST": "127.0.0.1",
        "METRO_INGEST_LOCAL_SFTP_PORT": str(ports["local_sftp"]),
        "METRO_INGEST_LOCAL_SFTP_USERNAME": "metro",
        "METRO_INGEST_LOCAL_SFTP_KEY_PATH": str(key_path),
        "METRO_INGEST_LOCAL_SFTP_KNOWN_HOSTS": str(known_hosts),
        "METRO_INGEST_LOCAL_UPLOAD_TOKENS": json.dumps(tokens),
        "METRO_INGEST_LOCAL_POLL_INTERVAL_S": "5",
    }
    return SandboxHandle("local", process, url=url, service_env=env,
                         info={"root": root, "upload_tokens": tokens, "client_key": key_path,
                               "sftp_port": ports["local_sftp"]})
