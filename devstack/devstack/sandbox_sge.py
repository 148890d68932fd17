"""Starts the SGE sandbox (SFTP drop + control API) with fresh keys, and tells ingest-sge how to reach it.

In ``workdir/sge``: the platform's SSH client key (its public half authorised on the drop), the drop's host
key and the known_hosts naming it (ingest-sge checks it, as outside local mode), an AES key shared with the
sandbox, and an OpenPGP key pair (the sandbox encrypts "pgp" subscriptions to it).
"""
from __future__ import annotations

import os
import secrets
import subprocess
from pathlib import Path


from devstack.sandboxes import SandboxHandle, sftp_keys, spawn, wait_http

PGP_PASSPHRASE = "sge-test-passphrase"


def _pgp_pair(home: Path) -> tuple[str, str]:
    import gnupg

    home.mkdir(parents=True, exist_ok=True)
    os.chmod(home, 0o700)
    gpg = gnupg.GPG(gnupghome=str(home))
    key = gpg.gen_key(gpg.gen_key_input(key_type="EDDSA", key_curve="ed25519", subkey_type="ECDH",
                                        subkey_curve="cv25519", name_email="sge@metroenergies.test",
                                        passphrase=PGP_PASSPHRASE))
    public = gpg.export_keys(str(key))
    private = gpg.export_keys(str(key), secret=True, passphrase=PGP_PASSPHRASE)
    # gpg started an agent for this home; nothing needs it once the keys are exported.
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "gpg-agent"], capture_output=True, timeout=30)
    return public, private


def start(workdir: Path, ports: dict[str, int]) -> SandboxHandle:
    work = Path(workdir) / "sge"
    key_path, host_key_path, known_hosts = sftp_keys(work, ports["sge_sftp"])
    aes_key = secrets.token_bytes(32)
    (work / "aes_key.hex").write_text(aes_key.hex())
    public, private = _pgp_pair(work / f"gnupg-{secrets.token_hex(4)}")
    (work / "platform.pub.asc").write_text(public)
    private_path = work / "platform.sec.asc"
    private_path.write_text(private)
    os.chmod(private_path, 0o600)
    root = work / f"drop-{secrets.token_hex(4)}"
    process = spawn(["-m", "tests.sandboxes.sge", "--sftp-port", str(ports["sge_sftp"]),
                     "--control-port", str(ports["sge_control"]), "--root", str(root),
                     "--host-key", str(host_key_path), "--authorized-keys", str(work / "authorized_keys"),
                     "--aes-key", aes_key.hex(), "--pgp-public-key", str(work / "platform.pub.asc")],
                    work / "sandbox.log")
    url = f"http://127.0.0.1:{ports['sge_control']}"
    try:
        wait_http(url + "/_sandbox/health", process, timeout=120)
    except RuntimeError:
        SandboxHandle("sge", process).stop()
        raise
    env = {
        "METRO_INGEST_SGE_SFTP_HOST": "127.0.0.1",
        "METRO_INGEST_SGE_SFTP_PORT": str(ports["sge_sftp"]),
        "METRO_INGEST_SGE_SFTP_USERNAME": "metro",
        "METRO_INGEST_SGE_SFTP_KEY_PATH": str(key_path),
        "METRO_INGEST_SGE_SFTP_KNOWN_HOSTS": str(known_hosts),
        "METRO_INGEST_SGE_AES_KEYS": aes_key.hex(),
        "METRO_INGEST_SGE_PGP_PRIVATE_KEY_PATH": str(private_path),
        "METRO_INGEST_SGE_PGP_PASSPHRASE": PGP_PASSPHRASE,
        "METRO_INGEST_SGE_POLL_INTERVAL_S": "5",
    }
    return SandboxHandle("sge", process, url=url, service_env=env,
                         info={"root": root, "drop": root / "flux_enedis" / "C5", "aes_key": aes_key,
                               "client_key": key_path, "sftp_port": ports["sge_sftp"]})
